package controllers

import (
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/types"

	drv1alpha1 "github.com/sdrs-operator/sdrs-operator/api/v1alpha1"
)

func TestWriteExpectations(t *testing.T) {
	key := types.NamespacedName{Namespace: "ns", Name: "web"}
	cases := map[string]struct {
		reason string
		wrote  string // our last write's resourceVersion; "" for none
		cached string
		at     time.Duration
		want   bool
	}{
		"NothingWritten": {reason: "Without a write of ours any copy is fine.", cached: "7", want: false},
		"CacheBehind":    {reason: "Our write at 8 has not reached the cache, which still holds 7.", wrote: "8", cached: "7", want: true},
		"CacheBehindLonger": {reason: "Resource versions compare as integers, not as strings.",
			wrote: "10", cached: "9", want: true},
		"CacheHasIt": {reason: "The cache holds exactly our write.", wrote: "8", cached: "8", want: false},
		"CacheNewer": {reason: "Someone wrote after us and the cache has that: act on it.", wrote: "8", cached: "9", want: false},
		"NotNumeric": {reason: "A resource version that does not compare is never held back.", wrote: "8", cached: "abc", want: false},
		"GivenUpOn":  {reason: "After the TTL the copy is used (the patch's resourceVersion still guards it).", wrote: "8", cached: "7", at: expectationTTL + time.Second, want: false},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			e := newWriteExpectations()
			e.wrote(key, tc.wrote, now)
			if got := e.behind(key, tc.cached, now.Add(tc.at)); got != tc.want {
				t.Errorf("\nReason: %s\nbehind = %v, want %v", tc.reason, got, tc.want)
			}
		})
	}
	e := newWriteExpectations()
	e.wrote(key, "8", now)
	if e.behind(key, "8", now); e.behind(key, "7", now) {
		t.Error("a met expectation is dropped: an older copy later (a relist) is not held back for ever")
	}
	e.wrote(key, "8", now)
	e.forget(key)
	if e.behind(key, "7", now) {
		t.Error("a forgotten (deleted) object expects nothing")
	}
	var none *writeExpectations
	none.wrote(key, "8", now)
	if none.behind(key, "7", now) {
		t.Error("a reconciler without expectations holds nothing back")
	}
}

// A reconcile that found the cache behind is woken by the update that
// shows the write, and only then: the operator's own status writes do not
// wake it otherwise.
func TestWriteExpectationsWakeOnCaughtUp(t *testing.T) {
	key := types.NamespacedName{Namespace: "ns", Name: "web"}
	e := newWriteExpectations()
	e.wrote(key, "8", now)
	if e.caughtUp(key, "8") {
		t.Error("no reconcile waits yet: our own write's update must not wake the group")
	}
	if !e.behind(key, "7", now) {
		t.Fatal("the cache at 7 is behind our write at 8")
	}
	if e.caughtUp(key, "7") {
		t.Error("an update still older than our write does not end the wait")
	}
	if !e.caughtUp(key, "8") || !e.caughtUp(key, "9") {
		t.Error("the update that shows our write (or a newer one) wakes the waiting reconcile")
	}
	if !e.caughtUp(key, "abc") {
		t.Error("an update whose resourceVersion does not compare wakes it: never wait on what cannot be judged")
	}
	if e.behind(key, "8", now); e.caughtUp(key, "9") {
		t.Error("a met expectation wakes nothing more")
	}
	var none *writeExpectations
	if none.caughtUp(key, "8") {
		t.Error("a reconciler without expectations is never woken by its status writes")
	}
}

// An operation in flight goes ahead in the queue; once it finished the
// group falls back, since the queue keeps the last priority it was given.
func TestQueuePriority(t *testing.T) {
	pg := &drv1alpha1.ProtectionGroup{}
	if got := queuePriority(pg); got != 0 {
		t.Errorf("an idle group's priority = %d, want 0", got)
	}
	pg.Status.CurrentOperation = &drv1alpha1.Operation{Type: drv1alpha1.OperationPlannedFailover}
	if got := queuePriority(pg); got <= 0 {
		t.Errorf("a group with an operation in flight must go ahead of idle ones, priority = %d", got)
	}
}
