package controllers

import (
	"context"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"

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
		"GivenUpOn":  {reason: "A DRPlan uses the copy after the TTL (its writes' resourceVersion still guards it).", wrote: "8", cached: "7", at: expectationTTL + time.Second, want: false},
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

// A ProtectionGroup's reconcile waits for the cache up to cacheWaitLimit,
// then reads around it: never decides on a copy older than its own write.
func TestWriteExpectationsCheck(t *testing.T) {
	key := types.NamespacedName{Namespace: "ns", Name: "web"}
	cases := map[string]struct {
		reason string
		wrote  string
		cached string
		at     time.Duration
		want   expectation
	}{
		"NothingWritten": {reason: "Without a write of ours any copy is fine.", cached: "7", want: expectMet},
		"CacheHasIt":     {reason: "The cache holds our write.", wrote: "8", cached: "8", want: expectMet},
		"NotNumeric":     {reason: "A resource version that does not compare is never held back.", wrote: "8", cached: "abc", want: expectMet},
		"Waiting":        {reason: "Within the limit the reconcile waits for the cache's update.", wrote: "8", cached: "7", at: cacheWaitLimit, want: expectWaiting},
		"Overdue": {reason: "Past the limit the stale copy is not used: the object is read from the API server.",
			wrote: "8", cached: "7", at: cacheWaitLimit + time.Millisecond, want: expectOverdue},
		"CaughtUpLate": {reason: "A cache that shows the write, however late, is used.", wrote: "8", cached: "9", at: time.Hour, want: expectMet},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			e := newWriteExpectations()
			e.wrote(key, tc.wrote, now)
			if got := e.check(key, tc.cached, now.Add(tc.at), cacheWaitLimit); got != tc.want {
				t.Errorf("\nReason: %s\ncheck = %v, want %v", tc.reason, got, tc.want)
			}
		})
	}
	e := newWriteExpectations()
	e.wrote(key, "8", now)
	if e.check(key, "7", now.Add(time.Minute), cacheWaitLimit); e.check(key, "7", now.Add(time.Minute), cacheWaitLimit) != expectOverdue {
		t.Error("an overdue expectation stays: every look reads around the cache until it shows the write")
	}
	if e.check(key, "8", now.Add(time.Minute), cacheWaitLimit); e.check(key, "7", now.Add(time.Minute), cacheWaitLimit) != expectMet {
		t.Error("a cache that showed the write ends the expectation")
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

// An operation in flight goes ahead in the queue, a converged group's
// periodic look behind new work; the queue keeps the last priority it was
// given, so each state says its own.
func TestQueuePriority(t *testing.T) {
	pg := &drv1alpha1.ProtectionGroup{}
	pg.Generation = 2
	if got := queuePriority(pg); got != 0 {
		t.Errorf("a group not converged yet: priority = %d, want 0", got)
	}
	pg.Status.ObservedGeneration = 2
	pg.Status.Conditions = []metav1.Condition{{Type: drv1alpha1.ReadyCondition, Status: metav1.ConditionTrue}}
	converged := queuePriority(pg)
	if converged >= 0 {
		t.Errorf("a converged group's periodic look must wait behind new flips, priority = %d", converged)
	}
	pg.Generation = 3
	if got := queuePriority(pg); got != 0 {
		t.Errorf("a new generation (Ready left from the old one) has the default priority, got %d", got)
	}
	pg.Status.CurrentOperation = &drv1alpha1.Operation{Type: drv1alpha1.OperationPlannedFailover}
	if got := queuePriority(pg); got <= 0 {
		t.Errorf("a group with an operation in flight must go ahead of idle ones, priority = %d", got)
	}
}

// gettingReader counts the reads around the cache and answers them with
// the API server's copy.
type gettingReader struct {
	client.Reader
	gets int
}

func (g *gettingReader) Get(ctx context.Context, key client.ObjectKey, obj client.Object, opts ...client.GetOption) error {
	g.gets++
	return g.Reader.Get(ctx, key, obj, opts...)
}

// A reconcile whose cache lags behind its own write waits (no read) within
// cacheWaitLimit and afterwards decides on the API server's copy, never on
// the stale one.
func TestCacheBehindReadsAroundAnOverdueCache(t *testing.T) {
	scheme := runtime.NewScheme()
	if err := drv1alpha1.AddToScheme(scheme); err != nil {
		t.Fatal(err)
	}
	stale := &drv1alpha1.ProtectionGroup{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "web"}}
	cache := fake.NewClientBuilder().WithScheme(scheme).WithObjects(stale).Build()
	api := fake.NewClientBuilder().WithScheme(scheme).WithObjects(stale.DeepCopy()).WithStatusSubresource(stale).Build()
	key := client.ObjectKeyFromObject(stale)
	ctx := context.Background()
	// Our write: the API server has it, the cache does not.
	fresh := &drv1alpha1.ProtectionGroup{}
	if err := api.Get(ctx, key, fresh); err != nil {
		t.Fatal(err)
	}
	fresh.Status.ObservedGeneration = 7
	if err := api.Status().Update(ctx, fresh); err != nil {
		t.Fatal(err)
	}
	reader := &gettingReader{Reader: api}
	clock := now
	r := &ProtectionGroupReconciler{Client: cache, APIReader: reader, Clock: func() time.Time { return clock }}
	r.setDefaults()
	r.expect.wrote(key, fresh.ResourceVersion, now)

	pg := &drv1alpha1.ProtectionGroup{}
	if err := cache.Get(ctx, key, pg); err != nil {
		t.Fatal(err)
	}
	behind, err := r.cacheBehind(ctx, pg)
	if err != nil || !behind || reader.gets != 0 {
		t.Fatalf("within the limit: behind = %v, err = %v, reads around the cache = %d; want a wait without reads", behind, err, reader.gets)
	}
	clock = now.Add(cacheWaitLimit + time.Second)
	if err := cache.Get(ctx, key, pg); err != nil {
		t.Fatal(err)
	}
	behind, err = r.cacheBehind(ctx, pg)
	if err != nil || behind {
		t.Fatalf("past the limit: behind = %v, err = %v; want the API server's copy", behind, err)
	}
	if reader.gets != 1 || pg.ResourceVersion != fresh.ResourceVersion || pg.Status.ObservedGeneration != 7 {
		t.Errorf("decided on resourceVersion %s after %d reads, want the API server's %s after 1", pg.ResourceVersion, reader.gets, fresh.ResourceVersion)
	}
}
