package controllers_test

import (
	"context"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/watch"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"sigs.k8s.io/controller-runtime/pkg/client"

	drv1alpha1 "github.com/sdrs-operator/sdrs-operator/api/v1alpha1"
	"github.com/sdrs-operator/sdrs-operator/internal/emutest"
)

// What one planned failover costs, as docs/performance.md measures it for
// a fleet: with serverPower Manual and the production servers stopped, three
// status writes (the attempt before the SDRS call, the job ID right after
// it, the result) and two Events (the start, naming the job; the end), the
// servers read once to check they are off, one reverse, and
// the group read once to decide and once when the job ended.
func TestPlannedFailoverCost(t *testing.T) {
	needEnv(t)
	ns := newNamespace(t)
	g := seedGroup(t, emutest.Group{Instances: []emutest.Instance{{Name: "db", ProductionPower: "SHUTOFF"}}})
	// Its own ProviderConfig with an hour's sync, so that no scheduled
	// sync falls inside the failover and adds a read the failover did not
	// cause.
	pc := &drv1alpha1.ProviderConfig{}
	if err := k8s.Get(context.Background(), client.ObjectKey{Name: "default"}, pc); err != nil {
		t.Fatal(err)
	}
	hourly := &drv1alpha1.ProviderConfig{ObjectMeta: metav1.ObjectMeta{Name: "cost-hourly"}, Spec: pc.Spec}
	hourly.Spec.SyncInterval = metav1.Duration{Duration: time.Hour}
	if err := k8s.Create(context.Background(), hourly); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = k8s.Delete(context.Background(), hourly) })
	pg := newPG(t, ns, "cost", g.ID, func(p *drv1alpha1.ProtectionGroup) {
		p.Spec.ServerPower = drv1alpha1.ServerPowerManual
		p.Spec.ProviderConfigRef.Name = hourly.Name
	})
	// Settled: the readiness facts (read project-wide after the group)
	// are written, so no write from before the flip lands inside it.
	waitFor(t, pg, "Ready at source and failover-ready", func(p *drv1alpha1.ProtectionGroup) bool {
		return readyAt(drv1alpha1.SiteSource)(p) && condition(p, drv1alpha1.FailoverReadyCondition).Status == metav1.ConditionTrue
	})

	wc, err := client.NewWithWatch(restCfg, client.Options{Scheme: clientgoscheme.Scheme})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), converge)
	defer cancel()
	before := get(t, pg)
	w, err := wc.Watch(ctx, &drv1alpha1.ProtectionGroupList{}, client.InNamespace(ns),
		&client.ListOptions{Raw: &metav1.ListOptions{ResourceVersion: before.ResourceVersion}})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Stop()
	flipped := time.Now()
	update(t, pg, func(p *drv1alpha1.ProtectionGroup) { p.Spec.DesiredActiveSite = drv1alpha1.SiteTarget })

	// Count the writes the watch shows until Ready at target: the first is
	// the flip itself.
	writes := 0
	var last *drv1alpha1.ProtectionGroup
	for last == nil || !readyAt(drv1alpha1.SiteTarget)(last) {
		select {
		case ev, ok := <-w.ResultChan():
			if !ok {
				t.Fatalf("watch ended before Ready at target after %d writes; last:\n%s", writes, describeStatus(last))
			}
			if ev.Type != watch.Modified {
				continue
			}
			last = ev.Object.(*drv1alpha1.ProtectionGroup)
			writes++
		case <-ctx.Done():
			t.Fatalf("not Ready at target within %s after %d writes; last:\n%s", converge, writes, describeStatus(last))
		}
	}
	if writes-1 != 3 {
		t.Errorf("status writes for one planned failover: %d, want 3 (the attempt before the call, the job ID right after it, the result)", writes-1)
	}
	if op := last.Status.LastOperation; op == nil || op.JobID == "" || op.Result != drv1alpha1.OperationSucceeded {
		t.Errorf("the result must carry the job ID: %+v", op)
	}
	if n := calls(t, "StartReverseProtectionGroup", g.ID); n != 1 {
		t.Errorf("reverse calls: %d, want 1", n)
	}
	// Calls that arrived after the flip: a look that began before it
	// (the one that wrote Ready) is not the failover's. Two reads: decide,
	// job ended; under CPU load a look whose write conflicted with the
	// flip (and so sent nothing) reads once more, which docs/performance.md
	// counts at fleet scale.
	if n := callsSince(t, "ShowProtectionGroup", g.ID, flipped); n < 2 || n > 3 {
		t.Errorf("group reads for one failover: %d, want 2 (decide, job ended), 3 at most", n)
		all, _ := admin.Calls(context.Background(), "", g.ID)
		for _, c := range all {
			if !c.Time.Before(flipped.Add(-time.Second)) {
				t.Logf("call %s %s %s %d", c.Time.Format("15:04:05.000"), c.Operation, c.Path, c.StatusCode)
			}
		}
		t.Logf("flipped at %s", flipped.Format("15:04:05.000"))
	}
	if n := callsSince(t, "ListProtectedInstances", g.ID, flipped); n != 1 {
		t.Errorf("instance reads for one failover: %d, want 1 (the servers are checked off before the action; the failover proves what changed after)", n)
	}
	if c := condition(last, drv1alpha1.ServersRunningCondition); c.Status != metav1.ConditionFalse || c.Reason != drv1alpha1.ServersStoppedReason ||
		!strings.Contains(c.Message, "serverPower is Manual") {
		t.Errorf("after a Manual switchover the new production servers are off and status must say so: %+v", c)
	}

	// Events are written asynchronously; wait for both.
	var got []corev1.Event
	deadline := time.Now().Add(converge)
	for len(got) < 2 && time.Now().Before(deadline) {
		var list corev1.EventList
		if err := k8s.List(context.Background(), &list, client.InNamespace(ns)); err != nil {
			t.Fatal(err)
		}
		got = got[:0]
		for _, e := range list.Items {
			// events.k8s.io Events carry a microsecond eventTime.
			if e.InvolvedObject.Name == pg.Name && e.EventTime.Time.After(flipped) {
				got = append(got, e)
			}
		}
		<-time.After(poll)
	}
	var reasons []string
	started := ""
	for _, e := range got {
		reasons = append(reasons, e.Reason)
		if e.Reason == drv1alpha1.PlannedFailoverInProgressReason {
			started = e.Message
		}
	}
	if len(got) != 2 {
		t.Errorf("Events for one failover: %v, want 2 (started, succeeded)", reasons)
	}
	if job := last.Status.LastOperation.JobID; job == "" || !strings.Contains(started, "SDRS job "+job+" started") {
		t.Errorf("the started Event must name the job %q: %q", job, started)
	}
}
