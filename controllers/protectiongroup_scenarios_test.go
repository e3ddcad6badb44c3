package controllers_test

import (
	"context"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	drv1alpha1 "github.com/sdrs-operator/sdrs-operator/api/v1alpha1"
	"github.com/sdrs-operator/sdrs-operator/internal/emutest"
)

// serverPower Manual: the operator never touches servers. It waits, naming
// the production servers to stop, and proceeds once a person stopped them.
func TestPlannedSwitchoverManual(t *testing.T) {
	needEnv(t)
	ns := newNamespace(t)
	g := seedGroup(t, emutest.Group{Instances: []emutest.Instance{{Name: "a"}, {Name: "b", OSType: "CoreOS"}}})
	pg := newPG(t, ns, "manual", g.ID, func(p *drv1alpha1.ProtectionGroup) { p.Spec.ServerPower = drv1alpha1.ServerPowerManual })
	waitFor(t, pg, "Ready at source", readyAt(drv1alpha1.SiteSource))

	start := time.Now()
	update(t, pg, func(p *drv1alpha1.ProtectionGroup) { p.Spec.DesiredActiveSite = drv1alpha1.SiteTarget })
	cur := waitFor(t, pg, "waiting for servers", readyReason(drv1alpha1.WaitingForServersStoppedReason))
	msg := condition(cur, drv1alpha1.ReadyCondition).Message
	for _, in := range g.Instances {
		if !strings.Contains(msg, in.SourceServer) {
			t.Errorf("wait message does not name production server %s: %q", in.SourceServer, msg)
		}
	}
	if c := condition(cur, drv1alpha1.ReconcilingCondition); c.Status != metav1.ConditionTrue {
		t.Errorf("Reconciling while waiting for a person: %+v", c)
	}
	if op := cur.Status.CurrentOperation; op == nil || op.Step != drv1alpha1.StepWaitServersStopped || len(op.Servers) != 2 {
		t.Errorf("currentOperation while waiting: %+v", op)
	}
	// The servers were read first: no action went to SDRS, not even one
	// it refused (a refused action is a failed DR operation in the
	// cloud's audit trail).
	if n := sent(t, "StartReverseProtectionGroup", g.ID); n != 0 {
		t.Errorf("reverse calls sent while production servers run: %d, want 0", n)
	}

	// A person stops the servers at the console.
	for _, in := range g.Instances {
		if err := admin.SetServerPower(context.Background(), in.SourceServer, "SHUTOFF"); err != nil {
			t.Fatal(err)
		}
	}
	cur = waitFor(t, pg, "Ready at target", readyAt(drv1alpha1.SiteTarget))
	if got := callOrder(t, start, "BatchStopServers", "BatchStartServers"); len(got) != 0 {
		t.Errorf("Manual must never call ECS power actions; got %v", got)
	}
	for _, in := range cur.Status.Instances {
		if in.TargetServer.Power != "SHUTOFF" {
			t.Errorf("Manual left the new production server %s %s; the operator must not start it", in.TargetServer.ID, in.TargetServer.Power)
		}
	}
	if n := sent(t, "StartReverseProtectionGroup", g.ID); n != 1 {
		t.Errorf("reverse calls sent: got %d, want 1", n)
	}
}

// The desired site flips back while the operator stops the production
// servers for a switchover: SDRS was not asked yet, so the switchover is
// cancelled and the servers it stopped are started again. No reverse, so
// no second outage.
func TestFlipBackWhileStoppingServers(t *testing.T) {
	needEnv(t)
	ns := newNamespace(t)
	g := seedGroup(t, emutest.Group{Instances: []emutest.Instance{{Name: "a"}}})
	pg := newPG(t, ns, "flip", g.ID)
	waitFor(t, pg, "Ready at source", readyAt(drv1alpha1.SiteSource))

	update(t, pg, func(p *drv1alpha1.ProtectionGroup) { p.Spec.DesiredActiveSite = drv1alpha1.SiteTarget })
	waitFor(t, pg, "stopping servers", readyReason(drv1alpha1.StoppingServersReason))
	update(t, pg, func(p *drv1alpha1.ProtectionGroup) { p.Spec.DesiredActiveSite = drv1alpha1.SiteSource })
	cur := waitFor(t, pg, "Ready back at source", func(p *drv1alpha1.ProtectionGroup) bool {
		return readyAt(drv1alpha1.SiteSource)(p) && p.Status.LastOperation != nil
	})
	if last := cur.Status.LastOperation; last.Result != drv1alpha1.OperationCancelled || last.Type != drv1alpha1.OperationPlannedFailover {
		t.Errorf("lastOperation %+v, want a cancelled PlannedFailover", last)
	}
	if n := sent(t, "StartReverseProtectionGroup", g.ID); n != 0 {
		t.Errorf("reverse calls: %d, want 0", n)
	}
	if last := cur.Status.LastOperation; len(last.StoppedServers) == 0 {
		t.Errorf("the operation stopped no server before the flip, so nothing was tested: %+v", last)
	}
	for _, in := range cur.Status.Instances {
		if in.SourceServer.Power != "ACTIVE" {
			t.Errorf("production server %s is %s after the cancelled switchover, want ACTIVE", in.SourceServer.ID, in.SourceServer.Power)
		}
	}
	if !strings.Contains(strings.Join(events(t, pg), ","), drv1alpha1.OperationCancelledReason) {
		t.Errorf("no %s Event: %v", drv1alpha1.OperationCancelledReason, events(t, pg))
	}
}

// Forced failover, then automatic re-protect: the group ends protected at
// the target, with the failover and re-protect in history.
func TestForcedFailoverThenReprotect(t *testing.T) {
	needEnv(t)
	ns := newNamespace(t)
	g := seedGroup(t, emutest.Group{})
	pg := newPG(t, ns, "forced", g.ID, func(p *drv1alpha1.ProtectionGroup) {
		p.Spec.FailoverMode, p.Spec.AllowDataLoss = drv1alpha1.FailoverForced, true
	})
	waitFor(t, pg, "Ready at source", readyAt(drv1alpha1.SiteSource))

	update(t, pg, func(p *drv1alpha1.ProtectionGroup) { p.Spec.DesiredActiveSite = drv1alpha1.SiteTarget })
	cur := waitFor(t, pg, "Ready at target and protected again", func(p *drv1alpha1.ProtectionGroup) bool {
		return readyAt(drv1alpha1.SiteTarget)(p) && condition(p, drv1alpha1.ProtectedCondition).Status == metav1.ConditionTrue
	})
	if n := calls(t, "StartFailoverProtectionGroup", g.ID); n != 1 {
		t.Errorf("failover calls: got %d, want 1", n)
	}
	if n := calls(t, "StartProtectionGroup", g.ID); n != 1 {
		t.Errorf("re-protect calls: got %d, want 1", n)
	}
	var types []string
	for _, h := range cur.Status.History {
		types = append(types, string(h.Type)+"/"+string(h.Result))
	}
	if strings.Join(types, ",") != "Reprotect/Succeeded,Failover/Succeeded" {
		t.Errorf("history (newest first): %v", types)
	}
	if cur.Status.Group.Status != "protected" || cur.Status.Replication == nil {
		t.Errorf("group after re-protect: %+v", cur.Status.Group)
	}
	if in := cur.Status.Instances[0]; in.TargetServer.Power != "ACTIVE" {
		t.Errorf("Managed must start the new production server after a failover: %+v", in.TargetServer)
	}
	// Every step and every operation's end is its own Event: the
	// re-protect's end is not folded into the failover's, and its start
	// is not lost because the failover ended in the same reconcile.
	want := map[string]int{drv1alpha1.FailoverInProgressReason: 1, drv1alpha1.ReprotectingReason: 1, drv1alpha1.OperationSucceededReason: 2}
	waitUntil(t, "an Event per step and per end", func() bool {
		got := map[string]int{}
		for _, r := range events(t, pg) {
			got[r]++
		}
		for r, n := range want {
			if got[r] < n {
				return false
			}
		}
		return true
	})
}

// Auto with the production site down fails over; Planned with the site down
// stalls with the reason and acts once the site is back.
func TestSiteDown(t *testing.T) {
	needEnv(t)
	ns := newNamespace(t)
	const downAZ = "az-down-1"
	gAuto := seedGroup(t, emutest.Group{Name: "auto", SourceAvailabilityZone: downAZ, TargetAvailabilityZone: "az-up-1"})
	gPlanned := seedGroup(t, emutest.Group{Name: "planned", SourceAvailabilityZone: downAZ, TargetAvailabilityZone: "az-up-1"})
	auto := newPG(t, ns, "auto", gAuto.ID, func(p *drv1alpha1.ProtectionGroup) {
		p.Spec.FailoverMode, p.Spec.AllowDataLoss = drv1alpha1.FailoverAuto, true
	})
	planned := newPG(t, ns, "planned", gPlanned.ID)
	waitFor(t, auto, "auto Ready", readyAt(drv1alpha1.SiteSource))
	waitFor(t, planned, "planned Ready", readyAt(drv1alpha1.SiteSource))

	if err := admin.SetZoneDown(context.Background(), downAZ, true); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = admin.SetZoneDown(context.Background(), downAZ, false) })
	update(t, auto, func(p *drv1alpha1.ProtectionGroup) { p.Spec.DesiredActiveSite = drv1alpha1.SiteTarget })
	update(t, planned, func(p *drv1alpha1.ProtectionGroup) { p.Spec.DesiredActiveSite = drv1alpha1.SiteTarget })

	cur := waitFor(t, auto, "auto failed over to target", func(p *drv1alpha1.ProtectionGroup) bool {
		return p.Status.ActiveSite == drv1alpha1.SiteTarget && p.Status.LastOperation != nil &&
			p.Status.History[len(p.Status.History)-1].Type == drv1alpha1.OperationFailover
	})
	if n := calls(t, "StartReverseProtectionGroup", gAuto.ID); n != 0 {
		t.Errorf("Auto with the site down must not try a planned failover; reverse calls %d", n)
	}
	_ = cur
	// The old production zone, now the DR site, is down: re-protecting
	// into it cannot work, so the operator waits and says why.
	waitFor(t, auto, "auto waits for the replication link", readyReason(drv1alpha1.ReplicationLinkBrokenReason))
	if n := sent(t, "StartProtectionGroup", gAuto.ID); n != 0 {
		t.Errorf("re-protect sent into a zone that is down: %d calls", n)
	}
	pl := waitFor(t, planned, "planned stalled", readyReason(drv1alpha1.ProductionSiteUnhealthyReason))
	if c := condition(pl, drv1alpha1.StalledCondition); c.Status != metav1.ConditionTrue || !strings.Contains(c.Message, downAZ) {
		t.Errorf("Stalled for a down site: %+v", c)
	}
	if n := calls(t, "StartReverseProtectionGroup", gPlanned.ID) + calls(t, "StartFailoverProtectionGroup", gPlanned.ID); n != 0 {
		t.Errorf("Planned must not act while the site is down; actions %d", n)
	}

	// The site comes back: the planned switchover runs, and the
	// auto group is re-protected.
	if err := admin.SetZoneDown(context.Background(), downAZ, false); err != nil {
		t.Fatal(err)
	}
	waitFor(t, planned, "planned Ready at target", readyAt(drv1alpha1.SiteTarget))
	waitFor(t, auto, "auto protected at target", func(p *drv1alpha1.ProtectionGroup) bool {
		return readyAt(drv1alpha1.SiteTarget)(p) && condition(p, drv1alpha1.ProtectedCondition).Status == metav1.ConditionTrue
	})
}

// Planned waits while replication is not synchronised (Reconciling, not
// Stalled) and switches over once it is.
func TestPlannedWaitsForSync(t *testing.T) {
	needEnv(t)
	ns := newNamespace(t)
	g := seedGroup(t, emutest.Group{})
	pg := newPG(t, ns, "sync", g.ID)
	waitFor(t, pg, "Ready at source", readyAt(drv1alpha1.SiteSource))

	// Replication falls behind, and takes a while to catch up.
	if err := admin.SetDurations(context.Background(), jobDuration, 4*time.Second); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = admin.SetDurations(context.Background(), jobDuration, jobDuration) })
	if err := admin.SetReplication(context.Background(), g.ID, "copying", 10); err != nil {
		t.Fatal(err)
	}
	update(t, pg, func(p *drv1alpha1.ProtectionGroup) { p.Spec.DesiredActiveSite = drv1alpha1.SiteTarget })
	cur := waitFor(t, pg, "waiting for sync", readyReason(drv1alpha1.ReplicationNotSynchronizedReason))
	if c := condition(cur, drv1alpha1.StalledCondition); c.Status == metav1.ConditionTrue {
		t.Errorf("waiting for sync must not be Stalled: %+v", c)
	}
	if n := calls(t, "StartReverseProtectionGroup", g.ID); n != 0 {
		t.Errorf("reverse issued while copying: %d calls", n)
	}
	waitFor(t, pg, "Ready at target after sync", readyAt(drv1alpha1.SiteTarget))
	if n := calls(t, "StartReverseProtectionGroup", g.ID); n != 1 {
		t.Errorf("reverse calls: got %d, want 1", n)
	}
}

// A failed SDRS job stalls with the SDRS code, is not retried by itself,
// and is retried once a person sets the retry annotation.
func TestJobFailureThenRetry(t *testing.T) {
	needEnv(t)
	ns := newNamespace(t)
	g := seedGroup(t, emutest.Group{})
	pg := newPG(t, ns, "fail", g.ID, func(p *drv1alpha1.ProtectionGroup) { p.Spec.ServerPower = drv1alpha1.ServerPowerManual })
	for _, in := range g.Instances {
		if err := admin.SetServerPower(context.Background(), in.SourceServer, "SHUTOFF"); err != nil {
			t.Fatal(err)
		}
	}
	waitFor(t, pg, "Ready at source", readyAt(drv1alpha1.SiteSource))
	if err := admin.FailJobs(context.Background(), "reverseProtectionGroupNoCG", 1, "SDRS.1029", "planned failover failed (injected)"); err != nil {
		t.Fatal(err)
	}
	update(t, pg, func(p *drv1alpha1.ProtectionGroup) { p.Spec.DesiredActiveSite = drv1alpha1.SiteTarget })
	cur := waitFor(t, pg, "stalled on the failed job", readyReason(drv1alpha1.JobFailedReason))
	stalledCond := condition(cur, drv1alpha1.StalledCondition)
	if stalledCond.Status != metav1.ConditionTrue || !strings.Contains(stalledCond.Message, "SDRS.1029") {
		t.Errorf("Stalled must carry the SDRS code: %+v", stalledCond)
	}
	if last := cur.Status.LastOperation; last == nil || last.Result != drv1alpha1.OperationFailed || last.ErrorCode != "SDRS.1029" {
		t.Errorf("lastOperation: %+v", last)
	}
	if !strings.Contains(strings.Join(events(t, pg), ","), drv1alpha1.JobFailedReason) {
		t.Errorf("no JobFailed Event")
	}
	// No retry storm: wake the controller (dr.sdrs.io/refresh) and wait
	// until it has looked at the group again; the action count does not
	// move.
	before := calls(t, "ShowProtectionGroup", g.ID)
	update(t, pg, func(p *drv1alpha1.ProtectionGroup) {
		p.Annotations = map[string]string{drv1alpha1.RefreshAnnotation: "1"}
	})
	waitForCalls(t, "ShowProtectionGroup", g.ID, before+1)
	if n := calls(t, "StartReverseProtectionGroup", g.ID); n != 1 {
		t.Fatalf("a failed job was retried without a person: %d reverse calls", n)
	}

	update(t, pg, func(p *drv1alpha1.ProtectionGroup) {
		if p.Annotations == nil {
			p.Annotations = map[string]string{}
		}
		p.Annotations[drv1alpha1.RetryAnnotation] = "1"
	})
	cur = waitFor(t, pg, "Ready at target after retry", readyAt(drv1alpha1.SiteTarget))
	if n := calls(t, "StartReverseProtectionGroup", g.ID); n != 2 {
		t.Errorf("reverse calls after one retry: got %d, want 2", n)
	}
	if cur.Status.LastHandledRetry != "1" {
		t.Errorf("lastHandledRetry: %q", cur.Status.LastHandledRetry)
	}
}

// waitForCalls waits until the emulator saw at least n calls of op.
func waitForCalls(t *testing.T, op, groupID string, n int) {
	t.Helper()
	deadline := time.Now().Add(converge)
	for time.Now().Before(deadline) {
		if calls(t, op, groupID) >= n {
			return
		}
		<-time.After(poll)
	}
	t.Fatalf("timed out waiting for %d %s calls", n, op)
}

// A planned failover whose SDRS job fails after the operator stopped the
// production servers does not leave the application down: the servers it
// stopped are started again where they were, and status, the Event and
// the message say so and name them.
func TestFailedSwitchoverStartsServersAgain(t *testing.T) {
	needEnv(t)
	ns := newNamespace(t)
	g := seedGroup(t, emutest.Group{Instances: []emutest.Instance{{Name: "a"}}})
	pg := newPG(t, ns, "restore", g.ID)
	waitFor(t, pg, "Ready at source", readyAt(drv1alpha1.SiteSource))
	if err := admin.FailJobs(context.Background(), "reverseProtectionGroupNoCG", 1, "SDRS.1029", "planned failover failed (injected)"); err != nil {
		t.Fatal(err)
	}
	update(t, pg, func(p *drv1alpha1.ProtectionGroup) { p.Spec.DesiredActiveSite = drv1alpha1.SiteTarget })
	cur := waitFor(t, pg, "stalled on the failed job", readyReason(drv1alpha1.JobFailedReason))
	server := g.Instances[0].SourceServer
	last := cur.Status.LastOperation
	if last == nil || last.Result != drv1alpha1.OperationFailed || last.ErrorCode != "SDRS.1029" ||
		!strings.Contains(last.Message, "started again") || !strings.Contains(last.Message, server) {
		t.Errorf("lastOperation must record the failure and name the servers started again: %+v", last)
	}
	if in := cur.Status.Instances[0]; in.SourceServer.Power != "ACTIVE" {
		t.Errorf("production server after the failed switchover: %+v, want ACTIVE", in.SourceServer)
	}
	if n := calls(t, "StartReverseProtectionGroup", g.ID); n != 1 {
		t.Errorf("reverse calls: %d, want 1 (a failed job is not retried without a person)", n)
	}
	if c := condition(cur, drv1alpha1.StalledCondition); !strings.Contains(c.Message, server) || !strings.Contains(c.Message, drv1alpha1.RetryAnnotation) {
		t.Errorf("Stalled must name the servers and the way to retry: %+v", c)
	}
}

// The SDRS failover worked but ECS could not start the servers at the new
// production site: the group is where it should be and the application is
// not running. It stays Stalled, saying so, until a person asks for a
// retry, which starts the servers once.
func TestServerStartFailureThenRetry(t *testing.T) {
	needEnv(t)
	ns := newNamespace(t)
	g := seedGroup(t, emutest.Group{Instances: []emutest.Instance{{Name: "a"}}})
	pg := newPG(t, ns, "start", g.ID)
	waitFor(t, pg, "Ready at source", readyAt(drv1alpha1.SiteSource))
	if err := admin.FailJobs(context.Background(), "batchStartServers", 1, "Ecs.0000", "start failed (injected)"); err != nil {
		t.Fatal(err)
	}
	update(t, pg, func(p *drv1alpha1.ProtectionGroup) { p.Spec.DesiredActiveSite = drv1alpha1.SiteTarget })
	cur := waitFor(t, pg, "stalled on the failed start", readyReason(drv1alpha1.JobFailedReason))
	if last := cur.Status.LastOperation; last == nil || last.Result != drv1alpha1.OperationFailed || last.Step != drv1alpha1.StepStartServers {
		t.Fatalf("lastOperation: %+v", last)
	}
	// A look later it still says so: a group at its desired site whose
	// servers were never started is not Ready.
	update(t, pg, func(p *drv1alpha1.ProtectionGroup) {
		p.Annotations = map[string]string{drv1alpha1.RefreshAnnotation: "1"}
	})
	before := calls(t, "ShowProtectionGroup", g.ID)
	waitForCalls(t, "ShowProtectionGroup", g.ID, before+1)
	// The look's status write follows its read.
	waitFor(t, pg, "still Stalled after a later look", func(p *drv1alpha1.ProtectionGroup) bool {
		c := condition(p, drv1alpha1.StalledCondition)
		return p.Annotations[drv1alpha1.RefreshAnnotation] == "1" && c.Status == metav1.ConditionTrue && strings.Contains(c.Message, "were not started") &&
			condition(p, drv1alpha1.ReadyCondition).Status == metav1.ConditionFalse
	})
	update(t, pg, func(p *drv1alpha1.ProtectionGroup) { p.Annotations[drv1alpha1.RetryAnnotation] = "1" })
	cur = waitFor(t, pg, "Ready at target with servers running", func(p *drv1alpha1.ProtectionGroup) bool {
		return readyAt(drv1alpha1.SiteTarget)(p) && condition(p, drv1alpha1.ServersRunningCondition).Status == metav1.ConditionTrue
	})
	if n := calls(t, "StartReverseProtectionGroup", g.ID); n != 1 {
		t.Errorf("reverse calls: %d, want 1 (the retry resumes the start, not the failover)", n)
	}
	if last := cur.Status.LastOperation; last == nil || last.Result != drv1alpha1.OperationSucceeded || last.Type != drv1alpha1.OperationPlannedFailover {
		t.Errorf("lastOperation after the retry: %+v", last)
	}
}
