package controllers_test

import (
	"context"
	"testing"
	"time"

	drv1alpha1 "github.com/sdrs-operator/sdrs-operator/api/v1alpha1"
	"github.com/sdrs-operator/sdrs-operator/internal/emutest"
)

// restartGroup is a group with protection on, adopted with Forced failover,
// and SDRS jobs that run long enough (6s) for a restart to land mid-job.
func restartGroup(t *testing.T, name string) (*drv1alpha1.ProtectionGroup, emutest.SeededGroup) {
	t.Helper()
	ns := newNamespace(t)
	g := seedGroup(t, emutest.Group{})
	pg := newPG(t, ns, name, g.ID, func(p *drv1alpha1.ProtectionGroup) {
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
	if err := admin.SetDurations(context.Background(), 6*time.Second, jobDuration); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = admin.SetDurations(context.Background(), jobDuration, jobDuration) })
	return pg, g
}

func failoverOf(pg *drv1alpha1.ProtectionGroup) *drv1alpha1.Operation {
	for i := range pg.Status.History {
		if pg.Status.History[i].Type == drv1alpha1.OperationFailover {
			return &pg.Status.History[i]
		}
	}
	return nil
}

// An operator restarted mid-job resumes the job whose ID it recorded: the
// emulator sees exactly one action, and the operation ends with that job.
func TestRestartMidJob(t *testing.T) {
	needEnv(t)
	// This process records job IDs right after the call.
	stopManager()
	startManager(recordJobIDAt(0))
	t.Cleanup(func() { stopManager(); startManager() })
	pg, g := restartGroup(t, "restart")

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
	if f := failoverOf(cur); f == nil || f.JobID != jobID || f.Result != drv1alpha1.OperationSucceeded {
		t.Errorf("the resumed operation should finish job %s: %+v", jobID, f)
	}
}

// With RecordJobIDAfter above 0, a job ID lives only in the process that
// issued the action until the job has run that long. An operator restarted
// before then judges the attempt by the group's status and the task center:
// still exactly one action, and the operation ends well.
func TestRestartBeforeJobIDRecorded(t *testing.T) {
	needEnv(t)
	// The trade --record-job-id-after offers: the job ID waits in memory.
	stopManager()
	startManager(recordJobIDAt(10 * time.Second))
	pg, g := restartGroup(t, "restart-unrecorded")

	update(t, pg, func(p *drv1alpha1.ProtectionGroup) { p.Spec.DesiredActiveSite = drv1alpha1.SiteTarget })
	waitFor(t, pg, "failover intent written", func(p *drv1alpha1.ProtectionGroup) bool {
		op := p.Status.CurrentOperation
		return op != nil && op.Type == drv1alpha1.OperationFailover
	})
	deadline := time.Now().Add(converge)
	for calls(t, "StartFailoverProtectionGroup", g.ID) == 0 {
		if time.Now().After(deadline) {
			t.Fatal("SDRS never received the failover")
		}
		<-time.After(poll)
	}
	if op := get(t, pg).Status.CurrentOperation; op == nil || op.JobID != "" {
		t.Fatalf("a 6s job's ID should not be in status yet (RecordJobIDAfter %s): %+v", 10*time.Second, op)
	}

	stopManager()
	startManager()

	cur := waitFor(t, pg, "Ready at target after the restart", readyAt(drv1alpha1.SiteTarget))
	if n := calls(t, "StartFailoverProtectionGroup", g.ID); n != 1 {
		t.Errorf("failover calls across a restart: %d, want exactly 1", n)
	}
	if f := failoverOf(cur); f == nil || f.Result != drv1alpha1.OperationSucceeded {
		t.Errorf("the operation should have succeeded: %+v", f)
	}
}
