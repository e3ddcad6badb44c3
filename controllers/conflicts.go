package controllers

import (
	"strings"
	"sync"
	"time"

	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/predicate"

	drv1alpha1 "github.com/sdrs-operator/sdrs-operator/api/v1alpha1"
)

const (
	// conflictFirstWait is the wait after a first write conflict, usually
	// our own earlier write not yet in the cache.
	conflictFirstWait = 50 * time.Millisecond
	// conflictMaxWait caps the wait while conflicts go on (a foreign
	// writer): each look reads SDRS, whose budget is shared.
	conflictMaxWait = 10 * time.Second
)

// conflictBackoff doubles, per object, the wait after each status write
// that conflicts, until a write succeeds. Returning the conflict as an
// error would do the same through the workqueue, but log it as a failure.
type conflictBackoff struct {
	mu sync.Mutex
	n  map[types.NamespacedName]int
}

func newConflictBackoff() *conflictBackoff {
	return &conflictBackoff{n: map[types.NamespacedName]int{}}
}

// next counts a conflict on key and returns how long to wait.
func (b *conflictBackoff) next(key types.NamespacedName) time.Duration {
	b.mu.Lock()
	defer b.mu.Unlock()
	n := b.n[key]
	if n < 16 {
		b.n[key] = n + 1
	}
	return min(conflictFirstWait<<n, conflictMaxWait)
}

// reset forgets key's conflicts after a write went through.
func (b *conflictBackoff) reset(key types.NamespacedName) {
	b.mu.Lock()
	defer b.mu.Unlock()
	delete(b.n, key)
}

// ownAnnotationsChanged passes updates that change an annotation under
// dr.sdrs.io/ (pause, retry, refresh).
func ownAnnotationsChanged() predicate.Predicate {
	return predicate.Funcs{UpdateFunc: func(e event.UpdateEvent) bool {
		if e.ObjectOld == nil || e.ObjectNew == nil {
			return false
		}
		return !equalOwn(e.ObjectOld.GetAnnotations(), e.ObjectNew.GetAnnotations())
	}}
}

func equalOwn(a, b map[string]string) bool {
	own := func(m map[string]string) int {
		n := 0
		for k := range m {
			if strings.HasPrefix(k, drv1alpha1.AnnotationPrefix) {
				n++
			}
		}
		return n
	}
	if own(a) != own(b) {
		return false
	}
	for k, v := range a {
		if strings.HasPrefix(k, drv1alpha1.AnnotationPrefix) {
			if w, ok := b[k]; !ok || w != v {
				return false
			}
		}
	}
	return true
}
