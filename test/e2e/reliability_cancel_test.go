//go:build e2e

package e2e

import (
	"context"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"

	drv1alpha1 "github.com/sdrs-operator/sdrs-operator/api/v1alpha1"
	"github.com/sdrs-operator/sdrs-operator/internal/emutest"
	"github.com/sdrs-operator/sdrs-operator/test/e2e/harness"
)

// countCalls counts every call of an operation on a group, whatever SDRS
// answered (refused ones too).
func (s *scenario) countCalls(groupID, operation string) int {
	s.t.Helper()
	c, err := s.emu.Admin.Calls(s.ctx, operation, groupID)
	if err != nil {
		s.t.Fatal(err)
	}
	return len(c)
}

// conflictFlipDuringStop: serverPower Managed; the desired site flips back
// while the production servers are being stopped for a planned failover.
func conflictFlipDuringStop(t *testing.T) {
	s := newScenario(t, harness.Row{Order: 64, Area: "Conflicting change",
		Fault:  "serverPower Managed: desiredActiveSite flipped back to source while the 4s ECS job stopping the production servers for the switchover to target runs (step StopServers)",
		Assert: "the operation is cancelled before SDRS is asked: no StartReverseProtectionGroup call at all (any answer); the servers it stopped (status.currentOperation.stoppedServers) are started again (step RestoreServers); lastOperation Cancelled, Event OperationCancelled; one stop and one start carried out, 0 duplicate, 0 lost (the group protected at source, its servers ACTIVE)"},
		scenarioOptions{emulator: harness.EmulatorOptions{JobDuration: 4 * time.Second}})
	g := s.seed(emutest.Group{Name: "web", Instances: []emutest.Instance{{}}})[0]
	s.manager("m")
	pg := s.adopt("web", g.ID, nil)
	s.waitFor(pg, relOpTimeout, harness.ReadyAt(drv1alpha1.SiteSource))
	s.update(pg, func(p *drv1alpha1.ProtectionGroup) { p.Spec.DesiredActiveSite = drv1alpha1.SiteTarget })
	s.waitAccepted(g.ID, "BatchStopServers")
	s.waitFor(pg, 10*time.Second, harness.OperationAt(drv1alpha1.OperationPlannedFailover, drv1alpha1.StepStopServers))
	stopped := append([]string(nil), pg.Status.CurrentOperation.StoppedServers...)
	flipped := time.Now()
	s.update(pg, func(p *drv1alpha1.ProtectionGroup) { p.Spec.DesiredActiveSite = drv1alpha1.SiteSource })
	restoring := false
	err := wait.PollUntilContextTimeout(s.ctx, 100*time.Millisecond, relOpTimeout, true, func(ctx context.Context) (bool, error) {
		cur := s.get(pg)
		if op := cur.Status.CurrentOperation; op != nil && op.Step == drv1alpha1.StepRestoreServers {
			restoring = true
		}
		ok, _ := harness.ReadyAt(drv1alpha1.SiteSource)(cur)
		return ok && cur.Status.LastOperation != nil && cur.Status.LastOperation.Result != "", nil
	})
	if err != nil {
		t.Fatalf("not Ready at source after the flip back: %s", harness.Describe(s.get(pg)))
	}
	took := time.Since(flipped)
	cur := s.get(pg)
	last := cur.Status.LastOperation
	if last == nil || last.Type != drv1alpha1.OperationPlannedFailover || last.Result != drv1alpha1.OperationCancelled {
		t.Errorf("lastOperation %+v, want the planned failover Cancelled", last)
	}
	if len(stopped) == 0 {
		t.Errorf("status.currentOperation.stoppedServers was empty while the servers were being stopped")
	}
	ev, err := s.cp.WaitEvent(s.ctx, s.ns, pg.Name, drv1alpha1.OperationCancelledReason, "", 10*time.Second)
	if err != nil {
		t.Error(err)
	}
	if n := s.countCalls(g.ID, "StartReverseProtectionGroup"); n != 0 {
		t.Errorf("%d StartReverseProtectionGroup calls reached SDRS, want none", n)
	}
	got := s.exactlyOnce(g.ID, harness.Expect{Actions: map[string]int{"BatchStopServers": 1, "BatchStartServers": 1}, Site: "source", ServersOn: true})
	evMsg := ""
	if ev != nil {
		evMsg = ev.Message
	}
	s.result("stoppedServers %v while stopping; step RestoreServers seen: %v; lastOperation %s %q; Event OperationCancelled %q; 0 reverse calls; %s; Ready at source %s after the flip back",
		stopped, restoring, last.Result, last.Message, evMsg, got, ms(took))
}

// conflictManualServersRunning: serverPower Manual, and the production
// servers still run when the switchover is asked for.
func conflictManualServersRunning(t *testing.T) {
	s := newScenario(t, harness.Row{Order: 65, Area: "Conflicting change",
		Fault:  "serverPower Manual: a switchover to target asked for while the production server still runs; a person stops it later (the emulator's console)",
		Assert: "no SDRS action at all while it runs (every StartReverseProtectionGroup call counted, refused ones too) across forced reconciles; Ready=False/WaitingForServersStopped naming the server; once it reads stopped, exactly one reverse carried out, 0 duplicate, 0 lost"},
		scenarioOptions{emulator: harness.EmulatorOptions{JobDuration: 2 * time.Second}})
	g := s.seed(emutest.Group{Name: "web", Instances: []emutest.Instance{{}}})[0]
	server := g.Instances[0].ProductionServer
	s.manager("m")
	pg := s.adopt("web", g.ID, manual)
	s.waitFor(pg, relOpTimeout, harness.ReadyAt(drv1alpha1.SiteSource))
	s.update(pg, func(p *drv1alpha1.ProtectionGroup) { p.Spec.DesiredActiveSite = drv1alpha1.SiteTarget })
	s.waitFor(pg, relOpTimeout, harness.HasCondition(drv1alpha1.ReadyCondition, metav1.ConditionFalse, drv1alpha1.WaitingForServersStoppedReason))
	msg := findCondition(pg, drv1alpha1.ReadyCondition).Message
	if !strings.Contains(msg, server) {
		t.Errorf("Ready message %q should name the running server %s", msg, server)
	}
	poked := s.poke(pg)
	s.waitReads(g.ID, poked, 1)
	s.poke(pg)
	reads := s.waitReads(g.ID, poked, 2)
	before := s.countCalls(g.ID, "StartReverseProtectionGroup")
	if before != 0 {
		t.Errorf("%d StartReverseProtectionGroup calls while the production server runs, want none", before)
	}
	if err := s.emu.Admin.SetServerPower(s.ctx, server, "SHUTOFF"); err != nil {
		t.Fatal(err)
	}
	off := time.Now()
	s.waitFor(pg, relOpTimeout, harness.ReadyAt(drv1alpha1.SiteTarget))
	calls, err := s.emu.Admin.Calls(s.ctx, "StartReverseProtectionGroup", g.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(calls) != 1 {
		t.Errorf("%d StartReverseProtectionGroup calls in all, want exactly 1", len(calls))
	}
	sentAfter := time.Duration(0)
	if len(calls) > 0 {
		sentAfter = calls[0].Time.Sub(off)
		if calls[0].Time.Before(off) {
			t.Errorf("the reverse was sent at %s, before the server was stopped at %s", calls[0].Time, off)
		}
	}
	got := s.exactlyOnce(g.ID, harness.Expect{Actions: reverseOnce, Site: "target"})
	s.result("Ready=False/WaitingForServersStopped %q; %d group reads across two forced reconciles, 0 reverse calls while the server ran; the reverse was sent %s after the server was stopped (the Manual wait re-checks every 10s); %d reverse call in all; %s",
		msg, reads, ms(sentAfter), len(calls), got)
}
