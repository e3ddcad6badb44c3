package controllers

import (
	"fmt"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/types"
)

// Tests of the poll schedule, which keeps a fleet-wide failover cheap.

func TestPollScheduleScoutsLearnForTheFleet(t *testing.T) {
	const typ = "reverseProtectionGroupNoCG"
	p := NewPollSchedule()
	var woken []ParkedJob
	p.OnLearned(func(parked []ParkedJob) { woken = append(woken, parked...) })
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
	for _, age := range []time.Duration{500 * time.Millisecond, time.Second, 2 * time.Second, 4 * time.Second, 8 * time.Second} {
		at := t0.Add(age)
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
	// Each is due when such a job ends, counted from its own start: it is
	// enqueued for then, not looked at in between.
	for _, w := range woken {
		if want := t0.Add(5*time.Second + margin(5*time.Second)); !w.Due.Equal(want) {
			t.Errorf("%s woken for %s, want %s (its start plus the learned duration and margin)", w.Key, w.Due, want)
		}
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
	p.OnLearned(func(parked []ParkedJob) { woken += len(parked) })
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
