//go:build e2e

package e2e

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"

	"github.com/sdrs-operator/sdrs-operator/internal/emutest"
	"github.com/sdrs-operator/sdrs-operator/test/e2e/harness"

	drv1alpha1 "github.com/sdrs-operator/sdrs-operator/api/v1alpha1"
)

// waitHit waits for a proxy rule to apply.
func (s *scenario) waitHit(r *harness.Rule, what string) {
	s.t.Helper()
	select {
	case <-r.Hits():
	case <-time.After(relOpTimeout):
		s.t.Fatalf("timed out waiting for %s", what)
	case <-s.ctx.Done():
		s.t.Fatal(s.ctx.Err())
	}
}

// switchedOver asserts the end state of a planned failover to target that
// started as requestID: Ready at target, the operation recorded once as
// succeeded, SDRS's group at target.
func (s *scenario) switchedOver(pg *drv1alpha1.ProtectionGroup, groupID, requestID string) {
	s.t.Helper()
	cur := s.get(pg)
	last := cur.Status.LastOperation
	if last == nil || last.Type != drv1alpha1.OperationPlannedFailover || last.Result != drv1alpha1.OperationSucceeded {
		s.t.Errorf("lastOperation: %+v, want a succeeded PlannedFailover", last)
	} else if requestID != "" && last.RequestID != requestID {
		s.t.Errorf("lastOperation.requestID %s, want the intent recorded before the crash %s", last.RequestID, requestID)
	}
	n := 0
	for _, h := range cur.Status.History {
		if h.Type == drv1alpha1.OperationPlannedFailover {
			n++
		}
	}
	if n != 1 {
		s.t.Errorf("history holds %d PlannedFailover entries, want 1: %+v", n, cur.Status.History)
	}
	st, err := s.emu.State(s.ctx)
	if err != nil {
		s.t.Fatal(err)
	}
	if g := st.Group(groupID); g == nil || g.PriorityStation != "target" || g.Status != "protected" {
		s.t.Errorf("SDRS group: %+v, want protected at target", g)
	}
}

// relKillAnswerLost: SDRS accepted the planned failover but the
// manager was SIGKILLed before the answer (and so the job ID) reached it.
func relKillAnswerLost(t *testing.T, profile string) {
	s := newScenario(t, harness.Row{Order: 10, Area: "Crash",
		Fault:  "SIGKILL after the attempt is persisted, while the SDRS call is in flight: SDRS accepted it, the answer (job ID) never arrived (proxy holds the answer)",
		Assert: "a new manager judges the attempt by the group (its transitional status, or, while it still shows nothing, waits out the grace) instead of re-issuing; exactly one reverse carried out, 0 duplicate, 0 lost; the intent's requestID is the one recorded as succeeded"},
		scenarioOptions{proxy: true, profile: profile, emulator: harness.EmulatorOptions{JobDuration: 2 * time.Second}})
	g := s.seed(emutest.Group{Name: "web", Instances: []emutest.Instance{off}})[0]
	m1 := s.manager("m1")
	pg := s.adopt("web", g.ID, manual)
	s.waitFor(pg, relOpTimeout, harness.ReadyAt(drv1alpha1.SiteSource))

	hold := s.proxy.Add(&harness.Rule{Match: harness.MatchAction("reverse-server-group"), HoldAfter: true, Times: 1})
	s.update(pg, func(p *drv1alpha1.ProtectionGroup) { p.Spec.DesiredActiveSite = drv1alpha1.SiteTarget })
	s.waitHit(hold, "the reverse call to reach SDRS")
	s.waitFor(pg, 10*time.Second, harness.OperationRunning(drv1alpha1.OperationPlannedFailover, drv1alpha1.StepSDRSAction, false))
	requestID := pg.Status.CurrentOperation.RequestID
	got, took := s.takeOver(m1, pg, g.ID, requestID, harness.Expect{Actions: reverseOnce, Site: "target"}, nil)
	s.result("%s; status recorded no job ID at the kill; converged %s after the kill", got, ms(took))
}

// takeOver SIGKILLs m, runs between (if not nil), starts a new manager and
// waits until pg is Ready at target; it counts duplicate and lost actions
// (exactlyOnce) against want, checks that the intent's requestID is the one
// recorded as succeeded, and returns the row text of the count and the
// time from the kill.
func (s *scenario) takeOver(m *harness.Manager, pg *drv1alpha1.ProtectionGroup, groupID, requestID string,
	want harness.Expect, between func()) (string, time.Duration) {
	s.t.Helper()
	if err := m.Kill(); err != nil {
		s.t.Fatal(err)
	}
	killed := time.Now()
	if between != nil {
		between()
	}
	s.manager("m2")
	s.waitFor(pg, relOpTimeout, harness.ReadyAt(drv1alpha1.SiteTarget))
	took := time.Since(killed)
	got := s.exactlyOnce(groupID, want)
	s.switchedOver(pg, groupID, requestID)
	return got, took
}

// relKillBeforeCall: the manager persisted the intent and sent
// the call, which never reached SDRS (proxy holds it, the kill drops it).
func relKillBeforeCall(t *testing.T, profile string) {
	s := newScenario(t, harness.Row{Order: 11, Area: "Crash",
		Fault:  "SIGKILL after the attempt is persisted, before the SDRS call arrived (proxy holds the request; the kill drops it)",
		Assert: "a new manager sees the group untouched, waits out the not-started grace (8s), sends the action once more, finishes it; exactly one reverse carried out, 0 duplicate, 0 lost"},
		scenarioOptions{proxy: true, profile: profile, emulator: harness.EmulatorOptions{JobDuration: 2 * time.Second}})
	g := s.seed(emutest.Group{Name: "web", Instances: []emutest.Instance{off}})[0]
	m1 := s.manager("m1")
	pg := s.adopt("web", g.ID, manual)
	s.waitFor(pg, relOpTimeout, harness.ReadyAt(drv1alpha1.SiteSource))

	hold := s.proxy.Add(&harness.Rule{Match: harness.MatchAction("reverse-server-group"), HoldBefore: true, Times: 1})
	s.update(pg, func(p *drv1alpha1.ProtectionGroup) { p.Spec.DesiredActiveSite = drv1alpha1.SiteTarget })
	s.waitHit(hold, "the reverse call to reach the proxy")
	s.waitFor(pg, 10*time.Second, harness.OperationRunning(drv1alpha1.OperationPlannedFailover, drv1alpha1.StepSDRSAction, false))
	requestID := pg.Status.CurrentOperation.RequestID
	got, took := s.takeOver(m1, pg, g.ID, requestID, harness.Expect{Actions: reverseOnce, Site: "target"}, func() {
		if n := harness.Accepted(s.calls(g.ID), "StartReverseProtectionGroup"); n != 0 {
			t.Fatalf("the held call reached SDRS (%d accepted) before the kill", n)
		}
	})
	s.result("%s; converged %s after the kill", got, ms(took))
}

// relKillWhilePolling: the job ID is recorded and the job runs.
func relKillWhilePolling(t *testing.T, profile string) {
	s := newScenario(t, harness.Row{Order: 12, Area: "Crash",
		Fault:  "SIGKILL while polling (6s job running, its ID recorded right after the call, the default --record-job-id-after=0)",
		Assert: "a new manager resumes polling the recorded job; exactly one reverse carried out, 0 duplicate, 0 lost; the recorded job ID is the one that finished"},
		scenarioOptions{profile: profile, emulator: harness.EmulatorOptions{JobDuration: 6 * time.Second}})
	g := s.seed(emutest.Group{Name: "web", Instances: []emutest.Instance{off}})[0]
	m1 := s.manager("m1")
	pg := s.adopt("web", g.ID, manual)
	s.waitFor(pg, relOpTimeout, harness.ReadyAt(drv1alpha1.SiteSource))

	s.update(pg, func(p *drv1alpha1.ProtectionGroup) { p.Spec.DesiredActiveSite = drv1alpha1.SiteTarget })
	s.waitFor(pg, relOpTimeout, harness.OperationRunning(drv1alpha1.OperationPlannedFailover, drv1alpha1.StepSDRSAction, true))
	requestID, jobID := pg.Status.CurrentOperation.RequestID, pg.Status.CurrentOperation.JobID
	got, took := s.takeOver(m1, pg, g.ID, requestID, harness.Expect{Actions: reverseOnce, Site: "target"}, nil)
	if last := s.get(pg).Status.LastOperation; last == nil || last.JobID != jobID {
		t.Errorf("lastOperation %+v, want job %s", last, jobID)
	}
	s.result("%s; job %s… followed to the end; converged %s after the kill (job 6s)", got, jobID[:8], ms(took))
}

// relKillBeforeJobIDRecorded: the job runs, its ID only in the memory of
// the manager that issued it. Since the job ID is written right after the
// call by default, this needs --record-job-id-after=10s: the trade of one
// status write fewer per job shorter than that, which leaves a crash
// inside the window to the verdict.
func relKillBeforeJobIDRecorded(t *testing.T, profile string) {
	s := newScenario(t, harness.Row{Order: 14, Area: "Crash",
		Fault:  "SIGKILL while a 6s job runs whose ID is not in status yet (--record-job-id-after=10s passed explicitly: one status write fewer per job shorter than that; the default 0 writes it right after the call)",
		Assert: "a new manager judges by the group's status (reversing, then protected at target; under the pessimistic profile nothing shows for the accept lag, which the grace covers) and finishes the operation; exactly one reverse carried out, 0 duplicate, 0 lost; the intent's requestID is recorded as succeeded"},
		scenarioOptions{profile: profile, emulator: harness.EmulatorOptions{JobDuration: 6 * time.Second}})
	g := s.seed(emutest.Group{Name: "web", Instances: []emutest.Instance{off}})[0]
	opts := s.managerOptions("m1", false)
	opts.ExtraArgs = []string{"--record-job-id-after=10s"}
	m1 := s.managerWith(opts)
	pg := s.adopt("web", g.ID, manual)
	s.waitFor(pg, relOpTimeout, harness.ReadyAt(drv1alpha1.SiteSource))

	s.update(pg, func(p *drv1alpha1.ProtectionGroup) { p.Spec.DesiredActiveSite = drv1alpha1.SiteTarget })
	requestID, jobID := s.reverseStarted(pg, g.ID)
	if op := s.get(pg).Status.CurrentOperation; op == nil || op.JobID != "" {
		t.Fatalf("the job ID is in status before 10s: %+v", op)
	}
	got, took := s.takeOver(m1, pg, g.ID, requestID, harness.Expect{Actions: reverseOnce, Site: "target"}, nil)
	s.result("%s; job %s… never in status, followed by the group's status; converged %s after the kill (job 6s)", got, jobID[:8], ms(took))
}

// relKillAfterJobEnded: the SDRS job ended but the manager had
// not seen it yet (proxy holds its job polls); serverPower Managed, so the
// new manager must still start the servers at the new production site.
func relKillAfterJobEnded(t *testing.T, profile string) {
	s := newScenario(t, harness.Row{Order: 13, Area: "Crash",
		Fault:  "SIGKILL just after the SDRS job ended, before the manager saw it (proxy holds job polls); serverPower Managed",
		Assert: "a new manager records the job's success and goes on to start the servers; exactly one stop, one reverse, one start, 0 duplicate, 0 lost (servers at the new production site ACTIVE)"},
		scenarioOptions{proxy: true, profile: profile, emulator: harness.EmulatorOptions{JobDuration: 2 * time.Second}})
	g := s.seed(emutest.Group{Name: "web", Instances: []emutest.Instance{{}}})[0]
	m1 := s.manager("m1")
	pg := s.adopt("web", g.ID, nil)
	s.waitFor(pg, relOpTimeout, harness.ReadyAt(drv1alpha1.SiteSource))

	s.update(pg, func(p *drv1alpha1.ProtectionGroup) { p.Spec.DesiredActiveSite = drv1alpha1.SiteTarget })
	requestID, jobID := s.reverseStarted(pg, g.ID)
	hold := s.proxy.Add(&harness.Rule{Match: harness.MatchPath("GET", harness.PathJob), HoldBefore: true})
	s.waitJob(jobID, "SUCCESS", relOpTimeout)
	if cur := s.get(pg); cur.Status.CurrentOperation == nil || cur.Status.CurrentOperation.Step != drv1alpha1.StepSDRSAction {
		t.Fatalf("the manager moved on although its job polls were held: %s", harness.Describe(cur))
	}
	got, took := s.takeOver(m1, pg, g.ID, requestID, harness.Expect{Actions: switchManaged, Site: "target", ServersOn: true}, func() {
		s.proxy.Remove(hold)
	})
	cur := s.get(pg)
	for _, in := range cur.Status.Instances {
		if in.TargetServer.Power != "ACTIVE" {
			t.Errorf("instance %s: server at the new production site is %s, want ACTIVE", in.ID, in.TargetServer.Power)
		}
	}
	s.result("%s; converged %s after the kill", got, ms(took))
}

// killAtAction is a SIGKILL while one kind of SDRS action is in flight:
// SDRS carried it out, its answer (the job ID) never reached the manager.
type killAtAction struct {
	name, what string
	order      int
	// key is the action's body key the proxy holds the answer of.
	key    string
	opType drv1alpha1.OperationType
	group  emutest.Group
	mutate func(*drv1alpha1.ProtectionGroup)
	// flip: the operation needs desiredActiveSite target; without it the
	// operation starts when the object is created.
	flip bool
	want harness.Expect
}

var managedForced = func(p *drv1alpha1.ProtectionGroup) {
	p.Spec.FailoverMode, p.Spec.AllowDataLoss = drv1alpha1.FailoverForced, true
}

// afterFailover: a forced failover, the servers at the new production
// site started (Managed), and re-protection from there.
var afterFailover = harness.Expect{Site: "target", ServersOn: true,
	Actions: map[string]int{"StartFailoverProtectionGroup": 1, "BatchStartServers": 1, "StartProtectionGroup": 1}}

var killAtActions = []killAtAction{
	{name: "KillForcedFailover", order: 15, what: "a forced failover (failoverMode Forced, allowDataLoss true; serverPower Managed)",
		key: "failover-server-group", opType: drv1alpha1.OperationFailover,
		group: emutest.Group{Name: "forced", Instances: []emutest.Instance{off}}, mutate: managedForced, flip: true, want: afterFailover},
	{name: "KillReprotect", order: 16, what: "the re-protect that follows a forced failover (serverPower Managed)",
		key: "start-server-group", opType: drv1alpha1.OperationReprotect,
		group: emutest.Group{Name: "reprotect", Instances: []emutest.Instance{off}}, mutate: managedForced, flip: true, want: afterFailover},
	{name: "KillEnable", order: 17, what: "an enable-protection (a group adopted with protection off)",
		key: "start-server-group", opType: drv1alpha1.OperationEnableProtection,
		group: emutest.Group{Name: "enable", Protected: new(bool), Instances: []emutest.Instance{off}}, mutate: manual,
		want: harness.Expect{Site: "source", Actions: map[string]int{"StartProtectionGroup": 1}}},
}

// relKillAtActions: each SDRS action other than the planned failover,
// killed with its answer lost.
func relKillAtActions(t *testing.T) {
	for _, c := range killAtActions {
		t.Run(c.name, underBothProfiles(func(t *testing.T, profile string) { killAtActionCase(t, profile, c) }))
	}
}

func killAtActionCase(t *testing.T, profile string, c killAtAction) {
	s := newScenario(t, harness.Row{Order: c.order, Area: "Crash",
		Fault: fmt.Sprintf("SIGKILL during %s: the attempt persisted, SDRS carried the action out, its answer (the job ID) never arrived (proxy holds it)", c.what),
		Assert: fmt.Sprintf("a new manager judges the attempt by the group and the task center, never sends it again, and finishes the operation (%s, Protected=True); %s; 0 duplicate, 0 lost; the intent's requestID is the one recorded as succeeded",
			strings.ToLower(string(c.opType)), fmtCounts(c.want.Actions))},
		scenarioOptions{proxy: true, profile: profile, emulator: harness.EmulatorOptions{JobDuration: 2 * time.Second}})
	g := s.seed(c.group)[0]
	m1 := s.manager("m1")
	name := strings.ToLower(c.name)
	var hold *harness.Rule
	var pg *drv1alpha1.ProtectionGroup
	if c.flip {
		pg = s.adopt(name, g.ID, c.mutate)
		s.waitFor(pg, relOpTimeout, harness.ReadyAt(drv1alpha1.SiteSource))
		hold = s.proxy.Add(&harness.Rule{Match: harness.MatchAction(c.key), HoldAfter: true, Times: 1})
		s.update(pg, func(p *drv1alpha1.ProtectionGroup) { p.Spec.DesiredActiveSite = drv1alpha1.SiteTarget })
	} else {
		// The operation starts as soon as the object exists.
		hold = s.proxy.Add(&harness.Rule{Match: harness.MatchAction(c.key), HoldAfter: true, Times: 1})
		pg = s.adopt(name, g.ID, c.mutate)
	}
	s.waitHit(hold, "the "+c.key+" call to reach SDRS")
	s.waitFor(pg, 10*time.Second, harness.OperationRunning(c.opType, drv1alpha1.StepSDRSAction, false))
	requestID := pg.Status.CurrentOperation.RequestID
	if err := m1.Kill(); err != nil {
		t.Fatal(err)
	}
	killed := time.Now()
	s.manager("m2")
	site := drv1alpha1.Site(c.want.Site)
	s.waitFor(pg, relOpTimeout, harness.All(harness.ReadyAt(site), harness.HasCondition(drv1alpha1.ProtectedCondition, metav1.ConditionTrue, "")))
	took := time.Since(killed)
	got := s.exactlyOnce(g.ID, c.want)
	n := 0
	for _, h := range s.get(pg).Status.History {
		if h.Type != c.opType {
			continue
		}
		n++
		if h.RequestID != requestID || h.Result != drv1alpha1.OperationSucceeded {
			t.Errorf("history: %s %s %s, want the intent %s recorded as succeeded", h.Type, h.RequestID, h.Result, requestID)
		}
	}
	if n != 1 {
		t.Errorf("history holds %d %s entries, want 1", n, c.opType)
	}
	s.result("%s; converged (Ready, Protected) %s after the kill", got, ms(took))
}

// relKillManagedEarly: serverPower Managed; the manager is SIGKILLed in
// the first second of the SDRS reverse job, and its successor in the
// first second of the ECS job that starts the servers.
func relKillManagedEarly(t *testing.T, profile string) {
	s := newScenario(t, harness.Row{Order: 18, Area: "Crash",
		Fault:  "serverPower Managed, 4s jobs: SIGKILL in the first second of the SDRS reverse job, then SIGKILL of the next manager in the first second of the ECS job that starts the servers at the new production site",
		Assert: "each new manager resumes the recorded job; exactly one BatchStopServers, one StartReverseProtectionGroup and one BatchStartServers carried out, 0 duplicate, 0 lost (the servers at the new production site ACTIVE)"},
		scenarioOptions{profile: profile, emulator: harness.EmulatorOptions{JobDuration: 4 * time.Second}})
	g := s.seed(emutest.Group{Name: "web", Instances: []emutest.Instance{{}}})[0]
	m1 := s.manager("m1")
	pg := s.adopt("web", g.ID, nil)
	s.waitFor(pg, relOpTimeout, harness.ReadyAt(drv1alpha1.SiteSource))
	s.update(pg, func(p *drv1alpha1.ProtectionGroup) { p.Spec.DesiredActiveSite = drv1alpha1.SiteTarget })
	requestID := ""
	reverseAt := s.waitAccepted(g.ID, "StartReverseProtectionGroup")
	if err := m1.Kill(); err != nil {
		t.Fatal(err)
	}
	kill1 := time.Since(reverseAt)
	if cur := s.get(pg); cur.Status.CurrentOperation != nil {
		requestID = cur.Status.CurrentOperation.RequestID
	}
	m2 := s.manager("m2")
	startAt := s.waitAccepted(g.ID, "BatchStartServers")
	if err := m2.Kill(); err != nil {
		t.Fatal(err)
	}
	kill2 := time.Since(startAt)
	killed := time.Now()
	s.manager("m3")
	s.waitFor(pg, relOpTimeout, harness.ReadyAt(drv1alpha1.SiteTarget))
	took := time.Since(killed)
	got := s.exactlyOnce(g.ID, harness.Expect{Actions: switchManaged, Site: "target", ServersOn: true})
	s.switchedOver(pg, g.ID, requestID)
	s.result("killed %s after SDRS accepted the reverse and %s after ECS accepted the start; %s; converged %s after the second kill",
		kill1.Round(10*time.Millisecond), kill2.Round(10*time.Millisecond), got, ms(took))
}

// waitAccepted waits until SDRS or ECS carried out a call of operation on
// the group, and returns when that call arrived.
func (s *scenario) waitAccepted(groupID, operation string) time.Time {
	s.t.Helper()
	var at time.Time
	err := wait.PollUntilContextTimeout(s.ctx, 50*time.Millisecond, relOpTimeout, true, func(ctx context.Context) (bool, error) {
		c, err := s.emu.Admin.Calls(ctx, operation, groupID)
		if err != nil {
			return false, nil
		}
		for _, x := range c {
			if x.CarriedOut() {
				at = x.Time
				return true, nil
			}
		}
		return false, nil
	})
	if err != nil {
		s.t.Fatalf("no %s on group %s was carried out within %s", operation, groupID, relOpTimeout)
	}
	return at
}
