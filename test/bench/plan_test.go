package main

import (
	"context"
	"strings"
	"testing"
	"time"
)

// TestPlanSmoke runs one DRPlan over six groups in two waves of
// maxConcurrent 2, and guards what docs/performance.md reports for a plan:
// one apply per member, no LIST of ProtectionGroups during the run, one
// reverse per group, maxConcurrent held. About 30 seconds.
func TestPlanSmoke(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a control plane, the emulator and the manager")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	o := fleetOptions{n: 6, jobDuration: time.Second, callsPerSecond: 1000, burst: 1000, seedBatch: 500, workers: 8,
		readyTimeout: time.Minute}
	r, err := runPlan(ctx, o, 2, 2)
	if err != nil {
		t.Fatal(err)
	}
	if r.Phase != "Succeeded" || r.RunTook <= 0 {
		t.Errorf("run %s after %s: %s", r.Phase, r.RunTook, r.Message)
	}
	if r.Patched != r.N || r.PatchesTotal != r.N || r.PatchesMax != 1 {
		t.Errorf("plan applies: %d members applied, %d applies, at most %d per member; want each of %d once", r.Patched, r.PatchesTotal, r.PatchesMax, r.N)
	}
	if a := r.API["protectiongroups APPLY"]; int(a) != r.N {
		t.Errorf("kube-apiserver counted %.0f APPLY requests on protectiongroups, want %d: %v", a, r.N, r.API)
	}
	if l := r.API["protectiongroups LIST"]; l != 0 {
		t.Errorf("%.0f LISTs of protectiongroups during the run, want none (the plan reads its informer): %v", l, r.API)
	}
	if r.ReversesMin != 1 || r.ReversesMax != 1 {
		t.Errorf("reverses per group %d..%d, want exactly 1", r.ReversesMin, r.ReversesMax)
	}
	if r.OpOverlap > 2 || r.JobOverlap > 2 || r.InFlight > 2 {
		t.Errorf("overlap operations %d, jobs %d, in flight %d: want at most maxConcurrent 2", r.OpOverlap, r.JobOverlap, r.InFlight)
	}
	if r.PlanBytesMax < r.PlanBytesEnd || r.PlanBytesEnd == 0 || r.MaxDone == 0 {
		t.Errorf("plan size max %d, end %d, longest done list %d", r.PlanBytesMax, r.PlanBytesEnd, r.MaxDone)
	}
}

// TestPlanSectionMerge: a -plan-only run rewrites only the DRPlan section
// (appending it when the report has none), and a full run without the plan
// part keeps the section it replaces.
func TestPlanSectionMerge(t *testing.T) {
	plan := &planResult{N: 10, Waves: 1, MaxConcurrent: 5, JobDuration: time.Second, Phase: "Succeeded",
		RunTook: 3 * time.Second, PatchesTotal: 10, PatchesMax: 1, ReversesMin: 1, ReversesMax: 1}
	only := &benchRun{Command: "make bench BENCH_ARGS='-plan-only'", Commit: "abc1234", Started: time.Now(),
		Opts: runOptions{PlanOnly: true, PlanMaxConcurrent: 5, JobDuration: time.Second}, Plans: []*planResult{plan}}
	existing := "# Performance at fleet scale\n\nbody\n\n## Notes\n\n- a note\n"
	first := only.document(existing)
	if !strings.HasPrefix(first, existing) || !strings.Contains(first, planSectionBegin) || !strings.HasSuffix(first, planSectionEnd+"\n") {
		t.Fatalf("appended section:\n%s", first)
	}
	plan.RunTook = 4 * time.Second
	second := only.document(first + "\n## Hand-written tail\n")
	if strings.Count(second, planSectionBegin) != 1 || !strings.Contains(second, "**4.00 s**") || strings.Contains(second, "**3.00 s**") ||
		!strings.HasPrefix(second, existing) || !strings.HasSuffix(second, "## Hand-written tail\n") {
		t.Fatalf("replaced section:\n%s", second)
	}
	if got := only.document(existing); got == existing {
		t.Fatal("a plan-only run with results left the report unchanged")
	}
	if got := (&benchRun{Opts: runOptions{PlanOnly: true}}).document(existing); got != existing {
		t.Fatalf("a plan-only run without results changed the report:\n%s", got)
	}
	full := &benchRun{Command: "make bench", Started: time.Now(), Opts: runOptions{JobDuration: time.Second}}
	md := full.document(second)
	if sec := extractPlanSection(second); sec == "" || !strings.Contains(md, sec) || !strings.Contains(md, "# Performance at fleet scale") {
		t.Fatalf("a full run without the plan part dropped the kept section:\n%s", md)
	}
}
