//go:build e2e

package e2e

import (
	"testing"
	"time"

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
