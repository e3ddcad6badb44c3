package main

import (
	"context"
	"strings"
	"testing"
	"time"
)

// TestUnboundedPeerSmoke runs the SDK script with unbounded parallelism
// over six groups, without the operator: every action sent at once, each
// group reversed exactly once and at target, every job polled to its end.
// A second run over four groups with a limit of 2 calls/s, burst 2, shows
// the client-side limiter holding the actions back. About 20 seconds.
func TestUnboundedPeerSmoke(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a control plane and the emulator")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	d := 2 * time.Second
	o := fleetOptions{n: 6, jobDuration: d, callsPerSecond: 1000, burst: 1000, seedBatch: 500,
		unbounded: true, runbookPoll: time.Second}
	s, err := startStack(ctx, stackOptions{n: o.n, jobDuration: d, callsPerSecond: o.callsPerSecond, burst: o.burst,
		syncInterval: 5 * time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	defer s.stop()
	res := &scenarioResult{Fleet: fleetResult{N: o.n, JobDuration: d}}
	if err := s.runPeers(ctx, o, res); err != nil {
		t.Fatal(err)
	}
	if res.Serial != nil || res.Parallel != nil {
		t.Errorf("serial %+v, parallel %+v: neither was asked for", res.Serial, res.Parallel)
	}
	m := res.Unbounded
	if m == nil {
		t.Fatal("no unbounded run")
	}
	if m.Parallel != unbounded || m.Groups != o.n || m.Failed != 0 {
		t.Errorf("parallel %d, %d groups, %d failed; want unbounded over %d, none failed", m.Parallel, m.Groups, m.Failed, o.n)
	}
	if m.ReversesMin != 1 || m.ReversesMax != 1 || m.Calls.ByOp["StartReverseProtectionGroup"] != o.n {
		t.Errorf("reverses per group %d..%d (%d in all), want each of %d exactly once", m.ReversesMin, m.ReversesMax,
			m.Calls.ByOp["StartReverseProtectionGroup"], o.n)
	}
	if m.AtTarget != o.n {
		t.Errorf("%d of %d groups at target afterwards", m.AtTarget, o.n)
	}
	if m.LastAction <= 0 || m.LastAction >= d/2 {
		t.Errorf("last action %s after the start: want every action sent at once, well within D = %s", m.LastAction, d)
	}
	if m.LastJobEnd < d || m.Took < m.LastJobEnd {
		t.Errorf("last job ended %s after the start, script done after %s: want D = %s <= job end <= done", m.LastJobEnd, m.Took, d)
	}
	if p := m.Calls.ByClass[classJobPoll]; p < o.n {
		t.Errorf("%d job polls for %d groups, want each job polled", p, o.n)
	}
	if r := m.Calls.ByClass[classGroupRead]; r != o.n {
		t.Errorf("%d group reads, want one per group after its job", r)
	}

	// The limiter: 4 actions at 2 calls/s with burst 2 cannot all be sent
	// in less than a second.
	tight := o
	tight.callsPerSecond, tight.burst = 2, 2
	lm, err := s.measureRunbook(ctx, tight, "limited", 4, unbounded)
	if err != nil {
		t.Fatal(err)
	}
	if lm.LastAction < 900*time.Millisecond {
		t.Errorf("4 actions at 2 calls/s, burst 2: the last one %s after the start, want at least 1 s", lm.LastAction)
	}
}

// TestPeersSection: a full run writes the peers section between markers;
// a -peers-only run replaces only it, comparing with the flip times of the
// main table it finds (an earlier run), also in a report written before
// the markers; a full run without peers keeps it.
func TestPeersSection(t *testing.T) {
	started := time.Date(2026, 12, 6, 9, 42, 0, 0, time.UTC)
	opts := runOptions{JobDuration: 5 * time.Second, CallsPerSecond: 1000, Burst: 1000, Parallel: 20,
		RunbookPoll: 5 * time.Second, Unbounded: true}
	rb := func(par, groups int, took time.Duration) *runbookMeasure {
		return &runbookMeasure{runbookResult: runbookResult{Parallel: par, Groups: groups, Took: took},
			Calls: countCalls(nil), ReversesMin: 1, ReversesMax: 1, AtTarget: groups,
			LastAction: 100 * time.Millisecond, LastJobEnd: 5200 * time.Millisecond}
	}
	full := &benchRun{Command: "make bench", Commit: "abc1234", Started: started, Opts: opts,
		Scenarios: []*scenarioResult{
			{Fleet: fleetResult{N: 100, JobDuration: 5 * time.Second, LastReady: 7900 * time.Millisecond, Calls: callCounts{Total: 514}},
				Serial: rb(1, 30, 3*time.Minute), Parallel: rb(20, 100, 30*time.Second), Unbounded: rb(unbounded, 100, 10*time.Second)},
			{Fleet: fleetResult{N: 1000, JobDuration: 5 * time.Second, LastReady: 29660 * time.Millisecond}},
		}}
	md := full.document("")
	if sec, legacy := extractPeersSection(md); sec == "" || legacy || !strings.Contains(sec, "**0.79×** (7.90 s / 10.00 s)") {
		t.Fatalf("full run's peers section (legacy %v):\n%s", legacy, sec)
	}
	e := parseEarlierFlip(md)
	if e == nil || e.Run != "2026-12-06 09:42 UTC" || e.JobDuration != 5*time.Second || !e.comparable(opts) ||
		e.LastReady[100] != 7900*time.Millisecond || e.LastReady[1000] != 29660*time.Millisecond || e.SDRSPerFailover[100] != 5.14 {
		t.Fatalf("parsed %+v", e)
	}

	only := &benchRun{Command: "make bench BENCH_ARGS='-peers-only -sizes 1000'", Commit: "def5678", Started: started.Add(6 * time.Hour),
		Opts: opts, EarlierFlip: e}
	only.Opts.PeersOnly = true
	res := &scenarioResult{Fleet: fleetResult{N: 1000, JobDuration: 5 * time.Second}, Unbounded: rb(unbounded, 1000, 6*time.Second)}
	only.earlierFlipInto(res)
	only.Scenarios = []*scenarioResult{res}
	if res.Fleet.LastReady != 29660*time.Millisecond || res.FlipFrom == "" {
		t.Fatalf("earlier flip: %s from %q", res.Fleet.LastReady, res.FlipFrom)
	}
	check := func(before, after string) {
		t.Helper()
		old, _ := extractPeersSection(before)
		sec, legacy := extractPeersSection(after)
		if legacy || !strings.Contains(sec, "**4.94×** (29.66 s / 6.00 s)") || !strings.Contains(sec, "not from this run") ||
			!strings.Contains(sec, "2026-12-06 09:42 UTC") {
			t.Fatalf("peers-only section (legacy %v):\n%s", legacy, sec)
		}
		i := strings.Index(before, old)
		if !strings.HasPrefix(after, before[:i]) || !strings.HasSuffix(after, before[i+len(old):]) {
			t.Fatalf("a -peers-only run changed more than its section:\n%s", after)
		}
	}
	second := only.document(md)
	check(md, second)

	legacyDoc := "# Performance at fleet scale\n\nbody\n\n" + peersHeading + "\n\nold table\n\n## Idle: nothing changes\n\nidle\n"
	got := only.document(legacyDoc)
	check(legacyDoc, got)
	if strings.Contains(got, "old table") || !strings.Contains(got, peersSectionEnd+"\n\n## Idle: nothing changes\n") {
		t.Fatalf("legacy section not replaced cleanly:\n%s", got)
	}

	only.EarlierFlip = &earlierFlip{Run: "then", JobDuration: 30 * time.Second, CallsPerSecond: 1000, Burst: 1000,
		LastReady: map[int]time.Duration{1000: time.Minute}}
	res2 := &scenarioResult{Fleet: fleetResult{N: 1000, JobDuration: 5 * time.Second}, Unbounded: rb(unbounded, 1000, 6*time.Second)}
	only.earlierFlipInto(res2)
	if res2.Fleet.LastReady != 0 {
		t.Errorf("a flip with another D was taken: %s", res2.Fleet.LastReady)
	}

	bare := &benchRun{Command: "make bench", Started: time.Now(), Opts: runOptions{JobDuration: time.Second}}
	kept, _ := extractPeersSection(second)
	if out := bare.document(second); !strings.Contains(out, kept) {
		t.Fatalf("a full run without peers dropped the kept section:\n%s", out)
	}
}
