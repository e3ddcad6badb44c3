package controllers_test

import (
	"context"
	"testing"
	"time"

	drv1alpha1 "github.com/sdrs-operator/sdrs-operator/api/v1alpha1"
	"github.com/sdrs-operator/sdrs-operator/internal/emutest"
)

// An operator restarted mid-job resumes the same job: the emulator sees
// exactly one action, and the operation ends with the recorded job ID.
func TestRestartMidJob(t *testing.T) {
	needEnv(t)
	ns := newNamespace(t)
	g := seedGroup(t, emutest.Group{})
	pg := newPG(t, ns, "restart", g.ID, func(p *drv1alpha1.ProtectionGroup) {
		p.Spec.FailoverMode, p.Spec.AllowDataLoss = drv1alpha1.FailoverForced, true
		p.Spec.Protection = drv1alpha1.ProtectionDisabled
	})
	waitFor(t, pg, "Ready at source", readyAt(drv1alpha1.SiteSource))
	// Protection Disabled first stops protection; failover needs it, so
	// re-enable it and let that settle before the real test.
	update(t, pg, func(p *drv1alpha1.ProtectionGroup) { p.Spec.Protection = drv1alpha1.ProtectionEnabled })
	waitFor(t, pg, "protected again", func(p *drv1alpha1.ProtectionGroup) bool {
		return readyAt(drv1alpha1.SiteSource)(p) && p.Status.Group.Status == "protected"
	})

	// Long jobs, so the restart lands while the failover job runs.
	if err := admin.SetDurations(context.Background(), 6*time.Second, jobDuration); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = admin.SetDurations(context.Background(), jobDuration, jobDuration) })
	update(t, pg, func(p *drv1alpha1.ProtectionGroup) { p.Spec.DesiredActiveSite = drv1alpha1.SiteTarget })
	cur := waitFor(t, pg, "failover job recorded", func(p *drv1alpha1.ProtectionGroup) bool {
		op := p.Status.CurrentOperation
		return op != nil && op.Type == drv1alpha1.OperationFailover && op.JobID != ""
	})
	jobID := cur.Status.CurrentOperation.JobID

	stopManager()
	startManager()

	cur = waitFor(t, pg, "Ready at target after the restart", readyAt(drv1alpha1.SiteTarget))
	if n := calls(t, "StartFailoverProtectionGroup", g.ID); n != 1 {
		t.Errorf("failover calls across a restart: %d, want exactly 1", n)
	}
	var failover *drv1alpha1.Operation
	for i := range cur.Status.History {
		if cur.Status.History[i].Type == drv1alpha1.OperationFailover {
			failover = &cur.Status.History[i]
		}
	}
	if failover == nil || failover.JobID != jobID || failover.Result != drv1alpha1.OperationSucceeded {
		t.Errorf("the resumed operation should finish job %s: %+v", jobID, failover)
	}
}
