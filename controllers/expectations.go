package controllers

import (
	"sync"
	"time"

	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/resourceversion"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/predicate"
)

const (
	// cacheLagPoll is how soon a DRPlan reconcile that found the cache
	// behind this process's own last write looks again (plans are few).
	cacheLagPoll = 100 * time.Millisecond
	// expectationTTL bounds how long a DRPlan waits for the cache, should
	// it never show the write (it always should).
	expectationTTL = 30 * time.Second
	// cacheWaitLimit bounds how long a ProtectionGroup's reconcile waits
	// for the cache to show this process's own write. Such a reconcile is
	// woken by the update that shows it (cacheCaughtUp), within
	// milliseconds unless the API server is saturated; past the limit it
	// reads the object from the API server instead: one GET, where
	// deciding on the stale copy cost SDRS reads and a status write the
	// API server refused (docs/performance.md, N = 5000).
	cacheWaitLimit = 5 * time.Second
)

// expectation is what a cached copy is, measured against this process's
// last write of the object.
type expectation int

const (
	// expectMet: no write of ours is newer than the copy (or it does not
	// compare); decide on it.
	expectMet expectation = iota
	// expectWaiting: the copy predates our write; wait for the cache.
	expectWaiting
	// expectOverdue: the copy predates our write and the cache has not
	// shown it within the limit; read the object around the cache.
	expectOverdue
)

// writeExpectations remembers, per ProtectionGroup, the resourceVersion of
// this process's last write until the informer cache holds that version or
// a newer one (the expectations of Kubernetes' own ReplicaSet controller).
// A reconcile that reads an older copy from the cache would decide again on
// a state the operator has already moved past: during a fleet-wide failover
// the cache can lag seconds behind the API server, and each such reconcile
// cost an SDRS read and a status patch the API server then refused with a
// conflict. It now waits for the cache, without calls: a ProtectionGroup
// whose reconcile found the cache behind is woken by the update that
// brings the cache up to date (caughtUp), not by polling, which cost up to
// thirty reconciles per failover while the watch lagged. Resource versions
// are compared as the API defines them for one resource
// (k8s.io/apimachinery/pkg/util/resourceversion); one that is not
// comparable is never held back. The resourceVersion on every status patch
// still refuses a stale copy whatever happens here.
type writeExpectations struct {
	mu sync.Mutex
	m  map[types.NamespacedName]expectedWrite
}

type expectedWrite struct {
	rv string
	at time.Time
	// waiting says a reconcile found the cache behind this write and
	// waits for the update that shows it.
	waiting bool
}

func newWriteExpectations() *writeExpectations {
	return &writeExpectations{m: map[types.NamespacedName]expectedWrite{}}
}

// wrote records that this process wrote key at resourceVersion rv. A nil
// *writeExpectations expects nothing.
func (e *writeExpectations) wrote(key types.NamespacedName, rv string, now time.Time) {
	if e == nil || rv == "" {
		return
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	e.m[key] = expectedWrite{rv: rv, at: now}
}

// forget drops key (the object is gone).
func (e *writeExpectations) forget(key types.NamespacedName) {
	if e == nil {
		return
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	delete(e.m, key)
}

// behind reports whether a copy at resourceVersion rv, read from the
// cache, predates this process's last write of key, written at most
// expectationTTL ago.
func (e *writeExpectations) behind(key types.NamespacedName, rv string, now time.Time) bool {
	return e.check(key, rv, now, expectationTTL) == expectWaiting
}

// check measures a copy at resourceVersion rv, read from the cache,
// against this process's last write of key; a wait longer than limit is
// overdue. A copy that shows the write (or cannot be compared) ends the
// expectation.
func (e *writeExpectations) check(key types.NamespacedName, rv string, now time.Time, limit time.Duration) expectation {
	if e == nil {
		return expectMet
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	w, ok := e.m[key]
	if !ok {
		return expectMet
	}
	c, err := resourceversion.CompareResourceVersion(rv, w.rv)
	switch {
	case err != nil || c >= 0:
		delete(e.m, key)
		return expectMet
	case now.Sub(w.at) > limit:
		// Kept: every look until the cache shows the write reads around
		// it, and none decides on the stale copy.
		return expectOverdue
	}
	w.waiting = true
	e.m[key] = w
	return expectWaiting
}

// caughtUp reports whether a reconcile of key waits for the cache and a
// copy at resourceVersion rv, just put in the cache, ends that wait.
func (e *writeExpectations) caughtUp(key types.NamespacedName, rv string) bool {
	if e == nil {
		return false
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	w, ok := e.m[key]
	if !ok || !w.waiting {
		return false
	}
	c, err := resourceversion.CompareResourceVersion(rv, w.rv)
	return err != nil || c >= 0
}

// cacheCaughtUp passes the update that shows a write a reconcile waits
// for; the predicates drop the operator's own status writes otherwise.
func cacheCaughtUp(e *writeExpectations) predicate.Predicate {
	return predicate.Funcs{UpdateFunc: func(ev event.UpdateEvent) bool {
		if ev.ObjectNew == nil {
			return false
		}
		return e.caughtUp(client.ObjectKeyFromObject(ev.ObjectNew), ev.ObjectNew.GetResourceVersion())
	}}
}
