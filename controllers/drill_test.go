package controllers_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	drv1alpha1 "github.com/sdrs-operator/sdrs-operator/api/v1alpha1"
	"github.com/sdrs-operator/sdrs-operator/internal/emutest"
)

func newDrill(t *testing.T, ns, name, group string, mutate ...func(*drv1alpha1.ProtectionGroupDrill)) *drv1alpha1.ProtectionGroupDrill {
	t.Helper()
	d := &drv1alpha1.ProtectionGroupDrill{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
		Spec:       drv1alpha1.ProtectionGroupDrillSpec{ProtectionGroupRef: drv1alpha1.LocalObjectReference{Name: group}},
	}
	for _, m := range mutate {
		m(d)
	}
	if err := k8s.Create(context.Background(), d); err != nil {
		t.Fatalf("cannot create drill: %v", err)
	}
	return d
}

func waitDrill(t *testing.T, d *drv1alpha1.ProtectionGroupDrill, what string, cond func(*drv1alpha1.ProtectionGroupDrill) bool) *drv1alpha1.ProtectionGroupDrill {
	t.Helper()
	var cur *drv1alpha1.ProtectionGroupDrill
	NewWithT(t).Eventually(func() bool {
		cur = &drv1alpha1.ProtectionGroupDrill{}
		if err := k8s.Get(context.Background(), client.ObjectKeyFromObject(d), cur); err != nil {
			return false
		}
		return cond(cur)
	}, converge, poll).Should(BeTrue(), func() string {
		if cur == nil {
			return fmt.Sprintf("drill %s: %s; never read", d.Name, what)
		}
		return fmt.Sprintf("drill %s: %s; last status: %+v", d.Name, what, cur.Status)
	})
	return cur
}

func drillPhase(p drv1alpha1.DrillPhase) func(*drv1alpha1.ProtectionGroupDrill) bool {
	return func(d *drv1alpha1.ProtectionGroupDrill) bool { return d.Status.Phase == p }
}

func drillReady(d *drv1alpha1.ProtectionGroupDrill) bool {
	c := meta.FindStatusCondition(d.Status.Conditions, drv1alpha1.ReadyCondition)
	return c != nil && c.Status == metav1.ConditionTrue && c.ObservedGeneration == d.Generation
}

// A drill end to end: created once, available with its servers (ECS
// addresses in the drill VPC, DR-site login rules), verified by a Job,
// judged, and deleted in SDRS at its TTL; the auto-created VPC is said.
func TestDrillLifecycle(t *testing.T) {
	needEnv(t)
	ns := newNamespace(t)
	g := seedGroup(t, emutest.Group{Instances: []emutest.Instance{{Name: "db", OSType: "Windows"}, {Name: "web", OSType: "Linux"}}})
	pg := newPG(t, ns, "erp", g.ID)
	waitFor(t, pg, "Ready", readyAt(drv1alpha1.SiteSource))

	d := newDrill(t, ns, "q4", pg.Name, func(d *drv1alpha1.ProtectionGroupDrill) {
		d.Spec.TTL = &metav1.Duration{Duration: time.Hour}
		d.Spec.Verify = &drv1alpha1.DrillVerifySpec{Template: batchv1.JobTemplateSpec{Spec: batchv1.JobSpec{
			Template: corev1.PodTemplateSpec{Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "check", Image: "busybox", Command: []string{"true"}}}}}}}}
	})
	cur := waitDrill(t, d, "verifying", drillPhase(drv1alpha1.DrillVerifying))
	if !drillReady(cur) {
		t.Errorf("Ready must be True while the drill servers are available: %+v", cur.Status.Conditions)
	}
	if o := cur.Status.Drill; o == nil || o.ID == "" || !o.VpcAutoCreated || o.VpcID == "" || len(o.Name) > 64 {
		t.Fatalf("drill observation: %+v", o)
	}
	if len(cur.Status.Servers) != 2 {
		t.Fatalf("drill servers: %+v", cur.Status.Servers)
	}
	for _, s := range cur.Status.Servers {
		if s.ServerID == "" || len(s.Addresses) == 0 || s.Login == nil || s.Login.Role != "Drill" {
			t.Errorf("drill server %+v", s)
		}
	}
	if exp := cur.Status.ExpiresAt; exp == nil || !exp.Time.Equal(cur.Status.AvailableAt.Add(time.Hour)) {
		t.Errorf("expiresAt = availableAt + ttl: %v / %v", cur.Status.ExpiresAt, cur.Status.AvailableAt)
	}
	if n := calls(t, "CreateDisasterRecoveryDrill", g.ID); n != 1 {
		t.Errorf("create calls: %d, want 1", n)
	}

	// No kubelet runs here: the test completes the Job.
	job := &batchv1.Job{}
	if err := k8s.Get(context.Background(), client.ObjectKey{Namespace: ns, Name: cur.Status.Verification.JobName}, job); err != nil {
		t.Fatalf("verification Job: %v", err)
	}
	env := map[string]string{}
	for _, e := range job.Spec.Template.Spec.Containers[0].Env {
		env[e.Name] = e.Value
	}
	if env["SDRS_DRILL_ID"] != cur.Status.Drill.ID || env["SDRS_DRILL_SERVERS"] == "" {
		t.Errorf("the Job must get the drill: %v", env)
	}
	completeJob(t, job)
	cur = waitDrill(t, d, "judged by the Job", func(d *drv1alpha1.ProtectionGroupDrill) bool {
		return d.Status.Outcome != nil && d.Status.Outcome.Result == drv1alpha1.DrillPassed && d.Status.Outcome.Source == "Job"
	})
	if cur.Status.Phase != drv1alpha1.DrillAvailable {
		t.Errorf("after the verification: phase %s", cur.Status.Phase)
	}

	// A person's verdict overrides the Job's.
	updateDrill(t, d, func(d *drv1alpha1.ProtectionGroupDrill) {
		d.Spec.Outcome = &drv1alpha1.DrillOutcomeSpec{Result: drv1alpha1.DrillResultFailed, Notes: "db did not answer", By: "sre"}
	})
	waitDrill(t, d, "judged by a person", func(d *drv1alpha1.ProtectionGroupDrill) bool {
		return d.Status.Outcome != nil && d.Status.Outcome.Source == "Person" && d.Status.Outcome.Result == drv1alpha1.DrillResultFailed
	})

	// Shortening the TTL ends it: SDRS deletes the drill and its servers.
	updateDrill(t, d, func(d *drv1alpha1.ProtectionGroupDrill) { d.Spec.TTL = &metav1.Duration{Duration: time.Second} })
	cur = waitDrill(t, d, "released", drillPhase(drv1alpha1.DrillReleased))
	if cur.Status.ReleasedAt == nil || drillReady(cur) {
		t.Errorf("released drill: %+v", cur.Status)
	}
	if c := meta.FindStatusCondition(cur.Status.Conditions, drv1alpha1.ReadyCondition); c != nil {
		t.Errorf("a released drill has no Ready condition (kstatus would read a False one as in progress forever): %+v", c)
	}
	if c := meta.FindStatusCondition(cur.Status.Conditions, drv1alpha1.ReconcilingCondition); c == nil || !containsAll(c.Message, "keeps it", cur.Status.Drill.VpcID) {
		t.Errorf("the auto-created VPC left behind must be said: %+v", c)
	}
	if n := calls(t, "DeleteDisasterRecoveryDrill", g.ID); n != 1 {
		t.Errorf("delete calls: %d, want 1", n)
	}
	if n := len(listSDRSDrills(t, g.ID)); n != 0 {
		t.Errorf("drills left in SDRS: %d", n)
	}
}

// The answer to the create is lost after SDRS took it: the operator finds
// its drill by name and never creates a second one.
func TestDrillCreateAnswerLost(t *testing.T) {
	needEnv(t)
	ns := newNamespace(t)
	g := seedGroup(t, emutest.Group{})
	pg := newPG(t, ns, "lost", g.ID)
	waitFor(t, pg, "Ready", readyAt(drv1alpha1.SiteSource))
	if err := admin.AcceptThenError(context.Background(), "CreateDisasterRecoveryDrill", g.ID, 1, 500); err != nil {
		t.Fatal(err)
	}
	d := newDrill(t, ns, "lost", pg.Name)
	waitDrill(t, d, "available", drillPhase(drv1alpha1.DrillAvailable))
	if n := sent(t, "CreateDisasterRecoveryDrill", g.ID); n != 1 {
		t.Errorf("create calls: %d, want 1 (the lost answer is resolved by name)", n)
	}
	if n := len(listSDRSDrills(t, g.ID)); n != 1 {
		t.Errorf("drills in SDRS: %d, want exactly 1", n)
	}
}

// Released early, and deleted while creating: the drill is deleted in SDRS
// once SDRS allows it, then the object goes.
func TestDrillReleaseAndDelete(t *testing.T) {
	needEnv(t)
	ns := newNamespace(t)
	g := seedGroup(t, emutest.Group{})
	pg := newPG(t, ns, "rel", g.ID)
	waitFor(t, pg, "Ready", readyAt(drv1alpha1.SiteSource))

	early := newDrill(t, ns, "early", pg.Name)
	waitDrill(t, early, "available", drillPhase(drv1alpha1.DrillAvailable))
	updateDrill(t, early, func(d *drv1alpha1.ProtectionGroupDrill) { d.Spec.Release = true })
	waitDrill(t, early, "released", drillPhase(drv1alpha1.DrillReleased))

	gone := newDrill(t, ns, "gone", pg.Name)
	waitDrill(t, gone, "creating", func(d *drv1alpha1.ProtectionGroupDrill) bool {
		return d.Status.Phase == drv1alpha1.DrillCreating || d.Status.Phase == drv1alpha1.DrillAvailable
	})
	if err := k8s.Delete(context.Background(), gone); err != nil {
		t.Fatal(err)
	}
	NewWithT(t).Eventually(func() bool {
		err := k8s.Get(context.Background(), client.ObjectKeyFromObject(gone), &drv1alpha1.ProtectionGroupDrill{})
		return apierrors.IsNotFound(err)
	}, converge, poll).Should(BeTrue(), "the deleted drill object must go once SDRS deleted the drill")
	if n := len(listSDRSDrills(t, g.ID)); n != 0 {
		t.Errorf("drills left in SDRS: %d", n)
	}
	if n := calls(t, "CreateDisasterRecoveryDrill", g.ID); n != 2 {
		t.Errorf("create calls: %d, want 2 (one per drill)", n)
	}
}

func updateDrill(t *testing.T, d *drv1alpha1.ProtectionGroupDrill, change func(*drv1alpha1.ProtectionGroupDrill)) {
	t.Helper()
	NewWithT(t).Eventually(func() error {
		cur := &drv1alpha1.ProtectionGroupDrill{}
		if err := k8s.Get(context.Background(), client.ObjectKeyFromObject(d), cur); err != nil {
			return err
		}
		change(cur)
		return k8s.Update(context.Background(), cur)
	}, 10*time.Second, poll).Should(Succeed())
}

// completeJob marks a Job succeeded, as the Job controller would.
func completeJob(t *testing.T, job *batchv1.Job) {
	t.Helper()
	now := metav1.Now()
	job.Status.StartTime, job.Status.CompletionTime, job.Status.Succeeded = &now, &now, 1
	job.Status.Conditions = []batchv1.JobCondition{
		{Type: batchv1.JobSuccessCriteriaMet, Status: corev1.ConditionTrue, LastTransitionTime: now},
		{Type: batchv1.JobComplete, Status: corev1.ConditionTrue, LastTransitionTime: now},
	}
	if err := k8s.Status().Update(context.Background(), job); err != nil {
		t.Fatalf("cannot complete the Job: %v", err)
	}
}

func containsAll(s string, subs ...string) bool {
	for _, sub := range subs {
		if sub == "" || !strings.Contains(s, sub) {
			return false
		}
	}
	return true
}

// The group records its drills: the last one, the last passed one, and
// whether it is up to date; a drill counts as the first swap; a planned
// failover waits while a drill runs, and runs once it is released.
func TestDrillMarksTheGroup(t *testing.T) {
	needEnv(t)
	ns := newNamespace(t)
	g := seedGroup(t, emutest.Group{})
	pg := newPG(t, ns, "audited", g.ID)
	cur := waitFor(t, pg, "no drill passed yet", func(p *drv1alpha1.ProtectionGroup) bool {
		c := condition(p, drv1alpha1.DrillUpToDateCondition)
		return readyAt(drv1alpha1.SiteSource)(p) && c.Status == metav1.ConditionFalse && c.Reason == drv1alpha1.NoDrillPassedReason
	})
	if cur.Status.FirstSwap.State != drv1alpha1.FirstSwapUnknown {
		t.Fatalf("adopted at source: %+v", cur.Status.FirstSwap)
	}

	d := newDrill(t, ns, "audit", pg.Name, func(d *drv1alpha1.ProtectionGroupDrill) {
		d.Spec.Outcome = &drv1alpha1.DrillOutcomeSpec{Result: drv1alpha1.DrillPassed, By: "auditor"}
	})
	waitDrill(t, d, "available", drillPhase(drv1alpha1.DrillAvailable))
	cur = waitFor(t, pg, "drill recorded", func(p *drv1alpha1.ProtectionGroup) bool {
		return condition(p, drv1alpha1.DrillUpToDateCondition).Status == metav1.ConditionTrue
	})
	if l, p := cur.Status.LastDrill, cur.Status.LastPassedDrill; l == nil || l.Name != "audit" || p == nil || p.Result != drv1alpha1.DrillPassed {
		t.Errorf("lastDrill %+v, lastPassedDrill %+v", l, p)
	}
	if cur.Status.FirstSwap.State != drv1alpha1.FirstSwapDone {
		t.Errorf("a drill is a first swap for the login rules: %+v", cur.Status.FirstSwap)
	}

	update(t, pg, func(p *drv1alpha1.ProtectionGroup) { p.Spec.DesiredActiveSite = drv1alpha1.SiteTarget })
	waitFor(t, pg, "planned failover held by the drill", readyReason("DrillInProgress"))
	if n := sent(t, "StartReverseProtectionGroup", g.ID); n != 0 {
		t.Fatalf("planned failover sent during a drill: %d", n)
	}
	updateDrill(t, d, func(d *drv1alpha1.ProtectionGroupDrill) { d.Spec.Release = true })
	waitFor(t, pg, "failed over after the drill", readyAt(drv1alpha1.SiteTarget))
	if n := sent(t, "StartReverseProtectionGroup", g.ID); n != 1 {
		t.Errorf("reverse calls: %d, want 1", n)
	}
}

// SDRS's preconditions are checked before the call, each with a condition
// that says what to do: a drill waits for the first full synchronisation
// and for a group with no members, and sends nothing meanwhile.
func TestDrillRefusalsBeforeTheCall(t *testing.T) {
	needEnv(t)
	ns := newNamespace(t)
	// A first sync that takes long enough to be seen.
	if err := admin.SetDurations(context.Background(), jobDuration, time.Minute); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = admin.SetDurations(context.Background(), jobDuration, jobDuration) })
	g := seedGroup(t, emutest.Group{ReplicationStatus: "copying"})
	pg := newPG(t, ns, "syncing", g.ID)
	waitFor(t, pg, "read", func(p *drv1alpha1.ProtectionGroup) bool { return p.Status.Group != nil })
	d := newDrill(t, ns, "early", pg.Name)
	cur := waitDrill(t, d, "waiting for the first full sync", func(d *drv1alpha1.ProtectionGroupDrill) bool {
		c := meta.FindStatusCondition(d.Status.Conditions, drv1alpha1.ReconcilingCondition)
		return c != nil && c.Reason == drv1alpha1.ReplicationNotSynchronizedReason
	})
	if cur.Status.Phase != drv1alpha1.DrillPending {
		t.Errorf("phase before the call: %s, want Pending", cur.Status.Phase)
	}
	if n := sent(t, "CreateDisasterRecoveryDrill", g.ID); n != 0 {
		t.Fatalf("create sent before the first full sync: %d", n)
	}
	if err := admin.SetReplication(context.Background(), g.ID, "active", 100); err != nil {
		t.Fatal(err)
	}
	waitDrill(t, d, "available once synchronised", drillPhase(drv1alpha1.DrillAvailable))

	missing := newDrill(t, ns, "orphan", "no-such-group")
	cur = waitDrill(t, missing, "stalled on the missing group", func(d *drv1alpha1.ProtectionGroupDrill) bool {
		c := meta.FindStatusCondition(d.Status.Conditions, drv1alpha1.StalledCondition)
		return c != nil && c.Status == metav1.ConditionTrue && strings.Contains(c.Message, "no-such-group")
	})
	if cur.Status.Phase != drv1alpha1.DrillPending {
		t.Errorf("phase: %s", cur.Status.Phase)
	}
}
