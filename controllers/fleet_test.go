package controllers

import (
	"fmt"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"k8s.io/apimachinery/pkg/types"

	drv1alpha1 "github.com/sdrs-operator/sdrs-operator/api/v1alpha1"
	"github.com/sdrs-operator/sdrs-operator/internal/sdrs"
)

// Tests of what keeps a fleet-wide failover cheap; see docs/performance.md.

func TestSwapServingSiteAfterPlannedFailover(t *testing.T) {
	before := func() *drv1alpha1.ProtectionGroup {
		return &drv1alpha1.ProtectionGroup{Status: drv1alpha1.ProtectionGroupStatus{Instances: []drv1alpha1.InstanceObservation{{
			ID: "i-1", OSType: "Linux",
			SourceServer: drv1alpha1.ServerObservation{ID: "s-src", AvailabilityZone: "az-a", Power: "ACTIVE"},
			TargetServer: drv1alpha1.ServerObservation{ID: "s-dst", AvailabilityZone: "az-b", Power: "SHUTOFF"},
			ServingSite:  drv1alpha1.SiteSource, ServingServerID: "s-src", Login: "linux",
		}}}}
	}
	planned := &drv1alpha1.Operation{Type: drv1alpha1.OperationPlannedFailover, Result: drv1alpha1.OperationSucceeded,
		From: drv1alpha1.SiteSource, To: drv1alpha1.SiteTarget}
	atTarget := &sdrs.ProtectionGroup{PriorityStation: sdrs.SiteTarget, ProtectedInstanceCount: 1}

	pg := before()
	if !swapServingSite(pg, atTarget, planned) {
		t.Fatal("a planned failover with unchanged instances must not need reads")
	}
	want := before().Status.Instances
	want[0].SourceServer.Power = "SHUTOFF" // SDRS reversed it, so it was off
	want[0].ServingSite, want[0].ServingServerID = drv1alpha1.SiteTarget, "s-dst"
	if d := cmp.Diff(want, pg.Status.Instances); d != "" {
		t.Errorf("instances after the swap (-want +got):\n%s", d)
	}

	back := &drv1alpha1.Operation{Type: drv1alpha1.OperationPlannedFailover, Result: drv1alpha1.OperationSucceeded,
		From: drv1alpha1.SiteTarget, To: drv1alpha1.SiteSource}
	if !swapServingSite(pg, &sdrs.ProtectionGroup{PriorityStation: sdrs.SiteSource, ProtectedInstanceCount: 1}, back) {
		t.Fatal("switching back must not need reads either")
	}
	if in := pg.Status.Instances[0]; in.ServingSite != drv1alpha1.SiteSource || in.ServingServerID != "s-src" || in.TargetServer.Power != "SHUTOFF" {
		t.Errorf("after switching back: %+v", in)
	}

	for name, c := range map[string]struct {
		g  *sdrs.ProtectionGroup
		op *drv1alpha1.Operation
	}{
		"group not read":        {nil, planned},
		"no operation ended":    {atTarget, nil},
		"an instance added":     {&sdrs.ProtectionGroup{PriorityStation: sdrs.SiteTarget, ProtectedInstanceCount: 2}, planned},
		"group elsewhere":       {&sdrs.ProtectionGroup{PriorityStation: sdrs.SiteSource, ProtectedInstanceCount: 1}, planned},
		"forced failover":       {atTarget, &drv1alpha1.Operation{Type: drv1alpha1.OperationFailover, Result: drv1alpha1.OperationSucceeded, To: drv1alpha1.SiteTarget}},
		"failed planned":        {atTarget, &drv1alpha1.Operation{Type: drv1alpha1.OperationPlannedFailover, Result: drv1alpha1.OperationFailed, To: drv1alpha1.SiteTarget}},
		"re-protect, same site": {atTarget, &drv1alpha1.Operation{Type: drv1alpha1.OperationReprotect, Result: drv1alpha1.OperationSucceeded, To: drv1alpha1.SiteTarget}},
	} {
		pg := before()
		if swapServingSite(pg, c.g, c.op) {
			t.Errorf("%s: must read the instances instead", name)
		}
		if d := cmp.Diff(before().Status.Instances, pg.Status.Instances); d != "" {
			t.Errorf("%s: changed the instances without reading them:\n%s", name, d)
		}
	}
}

func TestPollScheduleScoutsLearnForTheFleet(t *testing.T) {
	const typ = "reverseProtectionGroupNoCG"
	p := NewPollSchedule()
	var woken []types.NamespacedName
	p.OnLearned(func(keys []types.NamespacedName) { woken = append(woken, keys...) })
	t0 := time.Date(2026, 11, 25, 3, 0, 0, 0, time.UTC)
	key := func(i int) types.NamespacedName {
		return types.NamespacedName{Namespace: "ns", Name: fmt.Sprint("pg-", i)}
	}
	id := func(i int) string { return fmt.Sprint("job-", i) }

	// Ten groups fail over at once; nobody knows how long a reverse takes.
	for i := range 10 {
		wait := p.Issued(key(i), id(i), typ, t0)
		if i < scoutsPerType && wait != minPoll {
			t.Errorf("scout %d: first look after %s, want %s", i, wait, minPoll)
		}
		if i >= scoutsPerType && wait != parkedWait {
			t.Errorf("job %d: not a scout, want it parked (%s), got %s", i, parkedWait, wait)
		}
	}
	if poll, wait := p.PollNow(key(5), id(5), typ, t0.Add(time.Second)); poll || wait != parkedWait {
		t.Errorf("a parked job looked (poll=%v, wait=%s)", poll, wait)
	}
	// The scouts poll with a fine backoff while their jobs run.
	at := t0
	for _, age := range []time.Duration{500 * time.Millisecond, time.Second, 2 * time.Second, 4 * time.Second, 8 * time.Second} {
		at = t0.Add(age)
		if poll, _ := p.PollNow(key(0), id(0), typ, at); !poll {
			t.Fatalf("a scout must poll at age %s", age)
		}
		if d := p.Running(key(0), id(0), typ, t0, at); d != clamp(age/scoutStep, minPoll, maxPoll) {
			t.Errorf("scout at age %s: next look after %s", age, d)
		}
	}
	// A scout sees its job end after 5s: the parked jobs are woken.
	p.Finished(id(0), typ, 5*time.Second)
	if len(woken) != 10-scoutsPerType {
		t.Fatalf("woken %d jobs, want %d: %v", len(woken), 10-scoutsPerType, woken)
	}
	// A woken job started at the same time is overdue: it polls at once.
	if poll, _ := p.PollNow(key(5), id(5), typ, t0.Add(8*time.Second)); !poll {
		t.Error("an overdue job must poll")
	}
	// A job started later waits, without a call, until its due time.
	later := t0.Add(6 * time.Second)
	p.Issued(key(20), id(20), typ, later)
	poll, wait := p.PollNow(key(20), id(20), typ, later.Add(2*time.Second))
	due := 5*time.Second + margin(5*time.Second) - 2*time.Second
	if poll || wait < due || wait > due*11/10+time.Millisecond {
		t.Errorf("early look at a job of a known type: poll=%v wait=%s, want no poll and %s..+10%%", poll, wait, due)
	}
	if poll, _ := p.PollNow(key(20), id(20), typ, later.Add(5300*time.Millisecond)); !poll {
		t.Error("a job past its due time must poll")
	}
	// Overdue and still running: back off from the expected end.
	if d := p.Running(key(20), id(20), typ, later, later.Add(9*time.Second)); d < time.Second || d > 1100*time.Millisecond {
		t.Errorf("overdue by 4s: next look after %s, want about 1s", d)
	}
	// A job this process never saw (it restarted) is looked at once.
	if poll, _ := p.PollNow(key(30), "job-unknown", typ, later); !poll {
		t.Error("an unknown job must be looked at")
	}
}

// When a zone is down every job of the wave fails after about the same
// time: a scout's failure wakes the parked jobs too, they must not wait for
// the parked fallback to learn theirs failed.
func TestPollScheduleLearnsFromAFailedScout(t *testing.T) {
	const typ = "reverseProtectionGroupNoCG"
	p := NewPollSchedule()
	var woken int
	p.OnLearned(func(keys []types.NamespacedName) { woken += len(keys) })
	t0 := time.Date(2026, 11, 25, 3, 0, 0, 0, time.UTC)
	for i := range 5 {
		p.Issued(types.NamespacedName{Name: fmt.Sprint(i)}, fmt.Sprint("j", i), typ, t0)
	}
	p.Finished("j0", typ, 2*time.Second) // FAIL after 2s
	if woken != 5-scoutsPerType {
		t.Errorf("woken %d parked jobs after a scout's job failed, want %d", woken, 5-scoutsPerType)
	}
	if poll, _ := p.PollNow(types.NamespacedName{Name: "4"}, "j4", typ, t0.Add(2200*time.Millisecond)); !poll {
		t.Error("a parked job past the learned end must look at once")
	}
	// A job SDRS no longer knows teaches nothing.
	q := NewPollSchedule()
	q.Issued(types.NamespacedName{Name: "a"}, "ja", typ, t0)
	q.Finished("ja", typ, 0)
	if _, known := q.typical[typ]; known {
		t.Error("learned a duration from a job that was not found")
	}
}

func TestPollScheduleScoutThatVanishesIsReplaced(t *testing.T) {
	const typ = "failoverProtectionGroupNoCG"
	p := NewPollSchedule()
	t0 := time.Date(2026, 11, 25, 3, 0, 0, 0, time.UTC)
	for i := range scoutsPerType + 1 {
		p.Issued(types.NamespacedName{Name: fmt.Sprint(i)}, fmt.Sprint("j", i), typ, t0)
	}
	last := types.NamespacedName{Name: fmt.Sprint(scoutsPerType)}
	lastID := fmt.Sprint("j", scoutsPerType)
	if poll, _ := p.PollNow(last, lastID, typ, t0.Add(time.Second)); poll {
		t.Fatal("a third job must not poll while two scouts look")
	}
	// The scouts' objects were deleted: they never look again. Once their
	// grace passed, the parked job takes over.
	if poll, _ := p.PollNow(last, lastID, typ, t0.Add(minPoll+scoutGrace+time.Second)); !poll {
		t.Error("with the scouts gone, a parked job must become a scout")
	}
}
