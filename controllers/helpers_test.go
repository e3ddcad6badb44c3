package controllers_test

import (
	"context"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
	crmetrics "sigs.k8s.io/controller-runtime/pkg/metrics"

	drv1alpha1 "github.com/sdrs-operator/sdrs-operator/api/v1alpha1"
	"github.com/sdrs-operator/sdrs-operator/internal/emutest"
)

const (
	// converge bounds one operation: a few jobs of jobDuration each, plus
	// polling and the manager's start-up.
	converge = 60 * time.Second
	poll     = 100 * time.Millisecond
)

var nsCounter atomic.Int64

// newNamespace gives each test its own namespace.
func newNamespace(t *testing.T) string {
	t.Helper()
	name := fmt.Sprintf("t%d-%s", nsCounter.Add(1), strings.ToLower(strings.ReplaceAll(t.Name(), "/", "-")))
	if len(name) > 60 {
		name = name[:60]
	}
	name = strings.TrimRight(name, "-")
	if err := k8s.Create(context.Background(), &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name}}); err != nil {
		t.Fatalf("cannot create namespace: %v", err)
	}
	return name
}

// seedGroup creates one SDRS group in the emulator: protected, replicating,
// with one Linux instance whose production server runs (reality).
func seedGroup(t *testing.T, g emutest.Group) emutest.SeededGroup {
	t.Helper()
	if g.Name == "" {
		g.Name = "grp-" + strings.ToLower(strings.ReplaceAll(t.Name(), "/", "-"))
	}
	if len(g.Instances) == 0 {
		g.Instances = []emutest.Instance{{Name: "app", OSType: "Linux"}}
	}
	out, err := admin.Seed(context.Background(), g)
	if err != nil || len(out) != 1 {
		t.Fatalf("cannot seed group: %v", err)
	}
	return out[0]
}

// newPG creates a ProtectionGroup adopting groupID, desired at source.
func newPG(t *testing.T, ns, name, groupID string, mutate ...func(*drv1alpha1.ProtectionGroup)) *drv1alpha1.ProtectionGroup {
	t.Helper()
	pg := &drv1alpha1.ProtectionGroup{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
		Spec: drv1alpha1.ProtectionGroupSpec{
			ProtectionGroupID: groupID,
			DesiredActiveSite: drv1alpha1.SiteSource,
		},
	}
	for _, m := range mutate {
		m(pg)
	}
	if err := k8s.Create(context.Background(), pg); err != nil {
		t.Fatalf("cannot create ProtectionGroup: %v", err)
	}
	return pg
}

// update applies a change to the newest copy, retrying on conflicts.
func update(t *testing.T, pg *drv1alpha1.ProtectionGroup, change func(*drv1alpha1.ProtectionGroup)) {
	t.Helper()
	g := NewWithT(t)
	g.Eventually(func() error {
		cur := &drv1alpha1.ProtectionGroup{}
		if err := k8s.Get(context.Background(), client.ObjectKeyFromObject(pg), cur); err != nil {
			return err
		}
		change(cur)
		return k8s.Update(context.Background(), cur)
	}, 10*time.Second, poll).Should(Succeed())
}

func get(t *testing.T, pg *drv1alpha1.ProtectionGroup) *drv1alpha1.ProtectionGroup {
	t.Helper()
	cur := &drv1alpha1.ProtectionGroup{}
	if err := k8s.Get(context.Background(), client.ObjectKeyFromObject(pg), cur); err != nil {
		t.Fatalf("cannot get ProtectionGroup: %v", err)
	}
	return cur
}

// waitFor polls the object until cond holds, and returns it.
func waitFor(t *testing.T, pg *drv1alpha1.ProtectionGroup, what string, cond func(*drv1alpha1.ProtectionGroup) bool) *drv1alpha1.ProtectionGroup {
	t.Helper()
	var last *drv1alpha1.ProtectionGroup
	deadline := time.Now().Add(converge)
	for time.Now().Before(deadline) {
		cur := &drv1alpha1.ProtectionGroup{}
		if err := k8s.Get(context.Background(), client.ObjectKeyFromObject(pg), cur); err == nil {
			last = cur
			if cond(cur) {
				return cur
			}
		}
		<-time.After(poll)
	}
	t.Fatalf("timed out after %s waiting for %s; last status:\n%s", converge, what, describeStatus(last))
	return nil
}

// readyAt reports Ready=True for the current generation at site.
func readyAt(site drv1alpha1.Site) func(*drv1alpha1.ProtectionGroup) bool {
	return func(pg *drv1alpha1.ProtectionGroup) bool {
		c := meta.FindStatusCondition(pg.Status.Conditions, drv1alpha1.ReadyCondition)
		return c != nil && c.Status == metav1.ConditionTrue && c.ObservedGeneration == pg.Generation &&
			pg.Status.ObservedGeneration == pg.Generation && pg.Status.ActiveSite == site
	}
}

// readyReason reports Ready with the given reason for the current generation.
func readyReason(reason string) func(*drv1alpha1.ProtectionGroup) bool {
	return func(pg *drv1alpha1.ProtectionGroup) bool {
		c := meta.FindStatusCondition(pg.Status.Conditions, drv1alpha1.ReadyCondition)
		return c != nil && c.Reason == reason && c.ObservedGeneration == pg.Generation
	}
}

func condition(pg *drv1alpha1.ProtectionGroup, typ string) metav1.Condition {
	if c := meta.FindStatusCondition(pg.Status.Conditions, typ); c != nil {
		return *c
	}
	return metav1.Condition{}
}

func describeStatus(pg *drv1alpha1.ProtectionGroup) string {
	if pg == nil {
		return "<never read>"
	}
	var b strings.Builder
	fmt.Fprintf(&b, "generation=%d observed=%d active=%s\n", pg.Generation, pg.Status.ObservedGeneration, pg.Status.ActiveSite)
	if pg.Status.Group != nil {
		fmt.Fprintf(&b, "group: %+v\n", *pg.Status.Group)
	}
	if op := pg.Status.CurrentOperation; op != nil {
		fmt.Fprintf(&b, "current: %s step=%s job=%s serverJob=%s\n", op.Type, op.Step, op.JobID, op.ServerJobID)
	}
	for _, c := range pg.Status.Conditions {
		fmt.Fprintf(&b, "  %s=%s %s: %s (gen %d)\n", c.Type, c.Status, c.Reason, c.Message, c.ObservedGeneration)
	}
	return b.String()
}

// calls counts successful calls of an operation, on one group if given.
func calls(t *testing.T, op, groupID string) int {
	t.Helper()
	n, err := admin.CountCalls(context.Background(), op, groupID)
	if err != nil {
		t.Fatalf("cannot read emulator calls: %v", err)
	}
	return n
}

// callsSince counts the calls of an operation on a group that arrived at
// or after a time, whatever SDRS answered.
func callsSince(t *testing.T, op, groupID string, since time.Time) int {
	t.Helper()
	all, err := admin.Calls(context.Background(), op, groupID)
	if err != nil {
		t.Fatalf("cannot read emulator calls: %v", err)
	}
	n := 0
	for _, c := range all {
		if !c.Time.Before(since) {
			n++
		}
	}
	return n
}

// sent counts the calls of an operation on a group that reached SDRS,
// whatever SDRS answered (a refusal too).
func sent(t *testing.T, op, groupID string) int {
	t.Helper()
	all, err := admin.Calls(context.Background(), op, groupID)
	if err != nil {
		t.Fatalf("cannot read emulator calls: %v", err)
	}
	return len(all)
}

// callOrder returns the operations among ops that succeeded since a time,
// in order.
func callOrder(t *testing.T, since time.Time, ops ...string) []string {
	t.Helper()
	all, err := admin.Calls(context.Background(), "", "")
	if err != nil {
		t.Fatalf("cannot read emulator calls: %v", err)
	}
	want := map[string]bool{}
	for _, o := range ops {
		want[o] = true
	}
	var out []string
	for _, c := range all {
		if want[c.Operation] && c.StatusCode < 300 && !c.Time.Before(since) {
			out = append(out, c.Operation)
		}
	}
	return out
}

// events lists the reasons of Events recorded for an object.
func events(t *testing.T, pg *drv1alpha1.ProtectionGroup) []string {
	t.Helper()
	var list corev1.EventList
	if err := k8s.List(context.Background(), &list, client.InNamespace(pg.Namespace)); err != nil {
		t.Fatalf("cannot list events: %v", err)
	}
	var reasons []string
	for _, e := range list.Items {
		if e.InvolvedObject.Name == pg.Name {
			reasons = append(reasons, e.Reason)
		}
	}
	return reasons
}

// metricValue reads a counter or gauge from controller-runtime's registry,
// where the operator's metrics are served.
func metricValue(t *testing.T, name string, labels map[string]string) float64 {
	t.Helper()
	families, err := crmetrics.Registry.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range families {
		if f.GetName() != name {
			continue
		}
	metric:
		for _, m := range f.GetMetric() {
			got := map[string]string{}
			for _, l := range m.GetLabel() {
				got[l.GetName()] = l.GetValue()
			}
			for k, v := range labels {
				if got[k] != v {
					continue metric
				}
			}
			if m.GetCounter() != nil {
				return m.GetCounter().GetValue()
			}
			return m.GetGauge().GetValue()
		}
	}
	return 0
}
