package main

import (
	"context"
	"strings"
	"testing"
	"time"
)

// TestSmoke runs the whole benchmark on five groups with one-second jobs,
// so that `make test` notices when it breaks, and guards the per-failover
// costs the operator reached (docs/performance.md). About 30 seconds.
func TestSmoke(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a control plane, the emulator and the manager")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	o := fleetOptions{
		n: 5, jobDuration: time.Second, callsPerSecond: 1000, burst: 1000, seedBatch: 500, workers: 8,
		readyTimeout: time.Minute, idleSync: time.Second, idleWindow: 2 * time.Second,
		serialGroups: 1, parallelGroups: 2, parallel: 2, runbookPoll: time.Second,
	}
	res, err := runScenario(ctx, o)
	if err != nil {
		t.Fatal(err)
	}
	f := &res.Fleet
	perFailover := func(v float64) float64 { return v / float64(f.N) }
	if c := perFailover(float64(f.Calls.SDRS())); c > 8 {
		t.Errorf("SDRS calls per failover %.2f, want at most 8 (5 plus the scouts' polls): %v", c, f.Calls.ByOp)
	}
	if c := perFailover(float64(f.Calls.ByOp["BatchStopServers"] + f.Calls.ByOp["BatchStartServers"])); c != 0 {
		t.Errorf("%.2f ECS power actions per failover for groups with serverPower Manual, want none", c)
	}
	if c := perFailover(float64(f.Calls.ByClass[classECS])); c > 3 {
		t.Errorf("ECS calls per failover %.2f, want at most 3 (the group's two servers read once before the action; the new production server, which Manual leaves off, read once after): %v", c, f.Calls.ByOp)
	}
	if w := perFailover(f.Kube.writes() - f.Kube.EventWrites); w > 3 {
		t.Errorf("status writes per failover %.2f, want at most 3 (the attempt, the job ID right after the call, the result): %v", w, f.Kube.ByMethod)
	}
	if w := perFailover(f.Kube.writes()); w > 5 {
		t.Errorf("Kubernetes writes per failover %.2f, want at most 5 (three status patches, two Events): %v", w, f.Kube.ByMethod)
	}
	if r := perFailover(f.Kube.ByMethod["GET"]); r > 0.5 {
		t.Errorf("Kubernetes reads per failover %.2f, want none (the attempt patch's resourceVersion is the fresh check): %v", r, f.Kube.ByMethod)
	}
	if f.Idle.SDRSPerGroupPerSync > 1.5 {
		t.Errorf("idle SDRS calls per group per syncInterval %.2f, want about 1 (the group read)", f.Idle.SDRSPerGroupPerSync)
	}
	if p := f.Idle.ProjectPerSync; p > 4 || p < 1 {
		t.Errorf("project-wide readiness reads per syncInterval %.2f, want about 3 (pairs, instances, RPO statistics, each one page, shared by all groups): %v", p, f.Idle.Calls.ByOp)
	}
	if e := f.Idle.PerGroupPerSync - f.Idle.SDRSPerGroupPerSync; e > 1.5 {
		t.Errorf("idle ECS calls per group per syncInterval %.2f, want about 1 (the stopped production server read again on each look)", e)
	}
	if f.Idle.KubeWrites > 0.1 {
		t.Errorf("idle Kubernetes writes per group per syncInterval %.2f, want none: nothing changed", f.Idle.KubeWrites)
	}
	if res.Serial == nil || res.Parallel == nil || res.Serial.Calls.ByClass[classAction] != 1 {
		t.Errorf("runbooks: serial %+v parallel %+v", res.Serial, res.Parallel)
	}
	run := &benchRun{Command: "make bench", Started: time.Now(), Machine: machineDescription(), Scenarios: []*scenarioResult{res},
		Opts:  runOptions{JobDuration: time.Second, Parallel: 2, RunbookPoll: time.Second},
		Extra: []*extraRun{{Label: "N = 5, D = 2s", Result: &scenarioResult{Fleet: fleetResult{N: 5, JobDuration: 2 * time.Second}}}}}
	md := run.markdown()
	for _, want := range []string{"## Failover of the whole fleet", "## Against a runbook without the operator", "## Idle: nothing changes", "## Longer jobs"} {
		if !strings.Contains(md, want) {
			t.Errorf("report lacks %q:\n%s", want, md)
		}
	}
}
