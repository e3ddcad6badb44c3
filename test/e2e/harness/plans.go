package harness

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"sync"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/dynamic"
	"sigs.k8s.io/controller-runtime/pkg/client"

	drv1alpha1 "github.com/sdrs-operator/sdrs-operator/api/v1alpha1"
)

// DR plans, seen from the outside: a waiter for DRPlan objects, the spans
// of the members' operations, and a watch of the members that records every
// run stamp and moved-at annotation the plan controller wrote, so a test
// can tell a member moved once from one moved twice.

// PlanCondition is a predicate on a DRPlan; like Condition it says what it
// saw when it does not hold.
type PlanCondition func(p *drv1alpha1.DRPlan) (bool, string)

// DescribePlan summarises a plan's status in one line.
func DescribePlan(p *drv1alpha1.DRPlan) string {
	var b strings.Builder
	fmt.Fprintf(&b, "gen=%d observed=%d", p.Generation, p.Status.ObservedGeneration)
	for _, c := range p.Status.Conditions {
		fmt.Fprintf(&b, " %s=%s/%s", c.Type, c.Status, c.Reason)
	}
	if r := p.Status.Run; r != nil {
		fmt.Fprintf(&b, " run=%s/%s/%s msg=%q", r.ID, r.Phase, r.Reason, r.Message)
		for _, w := range r.Waves {
			c := w.Counts
			fmt.Fprintf(&b, " [%s %s total=%d pending=%d inProgress=%d ok=%d failed=%d skipped=%d]",
				w.Name, w.Phase, c.Total, c.Pending, c.InProgress, c.Succeeded, c.Failed, c.Skipped)
		}
	}
	return b.String()
}

// PlanCond returns the plan's condition of type typ (the zero value when
// absent).
func PlanCond(p *drv1alpha1.DRPlan, typ string) metav1.Condition {
	if c := meta.FindStatusCondition(p.Status.Conditions, typ); c != nil {
		return *c
	}
	return metav1.Condition{}
}

// RunPhaseIs holds when the plan's run is in phase.
func RunPhaseIs(phase drv1alpha1.PlanPhase) PlanCondition {
	return func(p *drv1alpha1.DRPlan) (bool, string) {
		return p.Status.Run != nil && p.Status.Run.Phase == phase, DescribePlan(p)
	}
}

// PlanObserved holds when the plan's status describes its current
// generation.
func PlanObserved(p *drv1alpha1.DRPlan) (bool, string) {
	return p.Status.ObservedGeneration == p.Generation, DescribePlan(p)
}

// WaitPlan polls a DRPlan until cond holds, copying the last one read into
// p.
func (cp *ControlPlane) WaitPlan(ctx context.Context, p *drv1alpha1.DRPlan, timeout time.Duration, cond PlanCondition) error {
	var last string
	key := client.ObjectKeyFromObject(p)
	err := wait.PollUntilContextTimeout(ctx, PollInterval, timeout, true, func(ctx context.Context) (bool, error) {
		cur := &drv1alpha1.DRPlan{}
		if err := cp.Client.Get(ctx, key, cur); err != nil {
			last = err.Error()
			if apierrors.IsNotFound(err) {
				last = "gone"
			}
			return false, nil
		}
		cur.DeepCopyInto(p)
		ok, why := cond(cur)
		last = why
		return ok, nil
	})
	if err != nil {
		return fmt.Errorf("DRPlan %s: condition not met within %s; last seen: %s", key, timeout, last)
	}
	return nil
}

// UpdatePlan reads the plan fresh, applies mutate and writes it, retrying
// on conflicts; p holds the written object afterwards.
func (cp *ControlPlane) UpdatePlan(ctx context.Context, p *drv1alpha1.DRPlan, mutate func(*drv1alpha1.DRPlan)) error {
	key := client.ObjectKeyFromObject(p)
	return wait.PollUntilContextTimeout(ctx, 50*time.Millisecond, 30*time.Second, true, func(ctx context.Context) (bool, error) {
		cur := &drv1alpha1.DRPlan{}
		if err := cp.Client.Get(ctx, key, cur); err != nil {
			return false, err
		}
		mutate(cur)
		if err := cp.Client.Update(ctx, cur); err != nil {
			if apierrors.IsConflict(err) {
				return false, nil
			}
			return false, err
		}
		cur.DeepCopyInto(p)
		return true, nil
	})
}

// Decide appends a decision to the plan's spec.decisions, for its current
// run when d.Run is empty.
func (cp *ControlPlane) Decide(ctx context.Context, p *drv1alpha1.DRPlan, d drv1alpha1.PlanDecision) error {
	var missing bool
	err := cp.UpdatePlan(ctx, p, func(cur *drv1alpha1.DRPlan) {
		x := d
		if x.Run == "" {
			if cur.Status.Run == nil {
				missing = true
				return
			}
			x.Run = cur.Status.Run.ID
		}
		cur.Spec.Decisions = append(cur.Spec.Decisions, x)
	})
	if missing {
		return fmt.Errorf("DRPlan %s has no run to decide on", p.Name)
	}
	return err
}

// TierWave is a wave whose members carry the label tier=<tier>.
func TierWave(name, tier string) drv1alpha1.PlanWave {
	return drv1alpha1.PlanWave{Name: name, Selector: metav1.LabelSelector{MatchLabels: map[string]string{"tier": tier}}}
}

// Span is when one member's operation ran, from its status.lastOperation.
type Span struct {
	Member     string
	Start, End time.Time
}

// LastSpan is the span of pg's last operation; ok is false while it has
// none that finished.
func LastSpan(pg *drv1alpha1.ProtectionGroup) (Span, bool) {
	op := pg.Status.LastOperation
	if op == nil || op.FinishedAt == nil {
		return Span{}, false
	}
	return Span{Member: pg.Name, Start: op.StartedAt.Time, End: op.FinishedAt.Time}, true
}

// MaxOverlap is the largest number of spans running at one instant; a span
// that ends when another starts does not overlap it (status times are
// stored to the second).
func MaxOverlap(spans []Span) int {
	type edge struct {
		at    time.Time
		delta int
	}
	edges := make([]edge, 0, 2*len(spans))
	for _, s := range spans {
		edges = append(edges, edge{s.Start, 1}, edge{s.End, -1})
	}
	sort.Slice(edges, func(i, j int) bool {
		if edges[i].at.Equal(edges[j].at) {
			return edges[i].delta < edges[j].delta
		}
		return edges[i].at.Before(edges[j].at)
	})
	cur, best := 0, 0
	for _, e := range edges {
		cur += e.delta
		best = max(best, cur)
	}
	return best
}

// MemberEvent is one version of a member as the watch saw it.
type MemberEvent struct {
	// At is when the watch received it.
	At              time.Time
	Name            string
	ResourceVersion string
	Generation      int64
	Site            drv1alpha1.Site
	// Stamp and MovedAt are the dr.sdrs.io/run and dr.sdrs.io/moved-at
	// annotations; Retry is dr.sdrs.io/retry.
	Stamp, MovedAt, Retry string
}

// MemberWatch watches the ProtectionGroups of a namespace and records
// every version it sees: a member patched twice by a plan shows two
// moved-at values (or two run stamps), even if the second patch came
// seconds later. A dropped watch is resumed from a fresh list.
type MemberWatch struct {
	mu      sync.Mutex
	events  []MemberEvent
	waiters []memberWaiter
	cancel  context.CancelFunc
	done    chan struct{}
	err     error
}

type memberWaiter struct {
	match func(MemberEvent) bool
	ch    chan MemberEvent
}

// WatchMembers starts a MemberWatch of namespace; Stop ends it. It uses
// the dynamic client (a controller-runtime client would want a logger).
func (cp *ControlPlane) WatchMembers(ctx context.Context, namespace string) (*MemberWatch, error) {
	dc, err := dynamic.NewForConfig(cp.Config)
	if err != nil {
		return nil, err
	}
	ri := dc.Resource(drv1alpha1.GroupVersion.WithResource("protectiongroups")).Namespace(namespace)
	ctx, cancel := context.WithCancel(ctx)
	w := &MemberWatch{cancel: cancel, done: make(chan struct{})}
	rv, err := w.list(ctx, ri)
	if err != nil {
		cancel()
		return nil, err
	}
	go w.run(ctx, ri, rv)
	return w, nil
}

// list records every member as it is now and returns the list's
// resourceVersion.
func (w *MemberWatch) list(ctx context.Context, ri dynamic.ResourceInterface) (string, error) {
	list, err := ri.List(ctx, metav1.ListOptions{})
	if err != nil {
		return "", err
	}
	for i := range list.Items {
		w.recordObject(&list.Items[i])
	}
	return list.GetResourceVersion(), nil
}

func (w *MemberWatch) run(ctx context.Context, ri dynamic.ResourceInterface, rv string) {
	defer close(w.done)
	for ctx.Err() == nil {
		if rv == "" {
			var err error
			if rv, err = w.list(ctx, ri); err != nil {
				w.setErr(err)
				time.Sleep(100 * time.Millisecond)
				continue
			}
		}
		wi, err := ri.Watch(ctx, metav1.ListOptions{ResourceVersion: rv, AllowWatchBookmarks: true})
		if err != nil {
			w.setErr(err)
			rv = ""
			time.Sleep(100 * time.Millisecond)
			continue
		}
		rv = w.drain(wi)
		wi.Stop()
	}
}

// drain records the watch's events until it closes; it returns the
// resourceVersion to resume from ("" to list again).
func (w *MemberWatch) drain(wi watch.Interface) string {
	rv := ""
	for ev := range wi.ResultChan() {
		u, ok := ev.Object.(*unstructured.Unstructured)
		switch {
		case ev.Type == watch.Error || !ok:
			return ""
		case ev.Type == watch.Bookmark:
			rv = u.GetResourceVersion()
		default:
			w.recordObject(u)
			rv = u.GetResourceVersion()
		}
	}
	return rv
}

func (w *MemberWatch) recordObject(u *unstructured.Unstructured) {
	pg := &drv1alpha1.ProtectionGroup{}
	if err := runtime.DefaultUnstructuredConverter.FromUnstructured(u.Object, pg); err != nil {
		w.setErr(err)
		return
	}
	w.record(pg)
}

func (w *MemberWatch) setErr(err error) {
	w.mu.Lock()
	w.err = err
	w.mu.Unlock()
}

func (w *MemberWatch) record(pg *drv1alpha1.ProtectionGroup) {
	a := pg.GetAnnotations()
	ev := MemberEvent{At: time.Now(), Name: pg.Name, ResourceVersion: pg.ResourceVersion, Generation: pg.Generation,
		Site: pg.Spec.DesiredActiveSite, Stamp: a[drv1alpha1.PlanRunAnnotation], MovedAt: a[drv1alpha1.PlanMovedAtAnnotation],
		Retry: a[drv1alpha1.RetryAnnotation]}
	w.mu.Lock()
	defer w.mu.Unlock()
	w.events = append(w.events, ev)
	kept := w.waiters[:0]
	for _, x := range w.waiters {
		if x.match(ev) {
			x.ch <- ev
			continue
		}
		kept = append(kept, x)
	}
	w.waiters = kept
}

// Await returns a channel that receives the first event (from now on, or
// already recorded) that match accepts.
func (w *MemberWatch) Await(match func(MemberEvent) bool) <-chan MemberEvent {
	ch := make(chan MemberEvent, 1)
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, ev := range w.events {
		if match(ev) {
			ch <- ev
			return ch
		}
	}
	w.waiters = append(w.waiters, memberWaiter{match: match, ch: ch})
	return ch
}

// Events returns every event recorded so far, oldest first.
func (w *MemberWatch) Events() []MemberEvent {
	w.mu.Lock()
	defer w.mu.Unlock()
	return append([]MemberEvent(nil), w.events...)
}

// Distinct returns, per member, the distinct non-empty values of one field
// of its events in the order they first appeared (e.g. the moved-at
// values: func(e MemberEvent) string { return e.MovedAt }).
func (w *MemberWatch) Distinct(field func(MemberEvent) string) map[string][]string {
	out := map[string][]string{}
	seen := map[string]bool{}
	for _, ev := range w.Events() {
		v := field(ev)
		if v == "" || seen[ev.Name+"\x00"+v] {
			continue
		}
		seen[ev.Name+"\x00"+v] = true
		out[ev.Name] = append(out[ev.Name], v)
	}
	return out
}

// FirstSeen returns when the watch first saw an event of member that match
// accepts (zero if never).
func (w *MemberWatch) FirstSeen(member string, match func(MemberEvent) bool) time.Time {
	for _, ev := range w.Events() {
		if ev.Name == member && match(ev) {
			return ev.At
		}
	}
	return time.Time{}
}

// Err is the last error the watch met (it keeps trying).
func (w *MemberWatch) Err() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.err
}

// Stop ends the watch and waits for it.
func (w *MemberWatch) Stop() {
	w.cancel()
	<-w.done
}
