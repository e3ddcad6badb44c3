//go:build e2e

package e2e

import (
	"context"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/util/wait"

	drv1alpha1 "github.com/sdrs-operator/sdrs-operator/api/v1alpha1"
	"github.com/sdrs-operator/sdrs-operator/internal/emutest"
	"github.com/sdrs-operator/sdrs-operator/test/e2e/harness"
)

var (
	standbyLine = regexp.MustCompile(`(?i)attempting to acquire leader lease`)
	actingLine  = regexp.MustCompile(`"msg":"(operation started|SDRS action accepted|ECS job started)"`)
)

// leaderPair starts two replicas with leader election in the scenario's
// namespace and returns the leader first.
func (s *scenario) leaderPair(extraArgs ...string) (leader, standby *harness.Manager, opts harness.ManagerOptions) {
	s.t.Helper()
	opts = s.managerOptions("a", true)
	opts.ExtraArgs = extraArgs
	m1 := s.managerWith(opts)
	ctx, cancel := context.WithTimeout(s.ctx, time.Minute)
	defer cancel()
	if _, err := m1.WaitLog(ctx, harness.LeaderLine); err != nil {
		s.t.Fatal(err)
	}
	o2 := opts
	o2.Name = strings.Replace(opts.Name, "a-", "b-", 1)
	m2 := s.managerWith(o2)
	if _, err := m2.WaitLog(ctx, standbyLine); err != nil {
		s.t.Fatal(err)
	}
	return m1, m2, opts
}

// actedBeforeLeading returns the acting log lines a manager wrote before
// it became the leader (there must be none).
func actedBeforeLeading(m *harness.Manager) []string {
	var out []string
	for _, l := range m.Lines() {
		if harness.LeaderLine.MatchString(l) {
			return out
		}
		if actingLine.MatchString(l) {
			out = append(out, l)
		}
	}
	return out
}

// relLeaderKilled: two replicas; the leader is SIGKILLed while
// its job runs; the standby takes over within the lease time and resumes.
func relLeaderKilled(t *testing.T, profile string) {
	s := newScenario(t, harness.Row{Order: 20, Area: "Handover",
		Fault:  "two replicas with leader election (lease 4s, renew 3s, retry 0.5s); the leader is SIGKILLed while its 6s job runs, its job ID recorded (right after the call, the default)",
		Assert: "the standby acquires the lease within lease duration + retry period, resumes the recorded job, acts on nothing before leading; exactly one reverse carried out, 0 duplicate, 0 lost"},
		scenarioOptions{profile: profile, emulator: harness.EmulatorOptions{JobDuration: 6 * time.Second}})
	g := s.seed(emutest.Group{Name: "web", Instances: []emutest.Instance{off}})[0]
	leader, standby, _ := s.leaderPair()
	opts := leader.Options()
	pg := s.adopt("web", g.ID, manual)
	s.waitFor(pg, relOpTimeout, harness.ReadyAt(drv1alpha1.SiteSource))
	s.update(pg, func(p *drv1alpha1.ProtectionGroup) { p.Spec.DesiredActiveSite = drv1alpha1.SiteTarget })
	s.waitFor(pg, relOpTimeout, harness.OperationRunning(drv1alpha1.OperationPlannedFailover, drv1alpha1.StepSDRSAction, true))
	requestID, jobID := pg.Status.CurrentOperation.RequestID, pg.Status.CurrentOperation.JobID
	if err := leader.Kill(); err != nil {
		t.Fatal(err)
	}
	killed := time.Now()
	if _, err := standby.WaitLog(s.ctx, harness.LeaderLine); err != nil {
		t.Fatal(err)
	}
	takeover := time.Since(killed)
	if limit := opts.LeaseDuration + opts.RetryPeriod + 3*time.Second; takeover > limit {
		t.Errorf("the standby took over after %s, more than lease duration + retry period + 3s = %s", takeover, limit)
	}
	s.waitFor(pg, relOpTimeout, harness.ReadyAt(drv1alpha1.SiteTarget))
	took := time.Since(killed)
	if acted := actedBeforeLeading(standby); len(acted) > 0 {
		t.Errorf("the standby acted before it led: %v", acted)
	}
	got := s.exactlyOnce(g.ID, harness.Expect{Actions: reverseOnce, Site: "target"})
	s.switchedOver(pg, g.ID, requestID)
	if last := s.get(pg).Status.LastOperation; last == nil || last.JobID != jobID {
		t.Errorf("lastOperation %+v, want the leader's job %s", last, jobID)
	}
	s.result("takeover %s after the kill (lease 4s); %s; converged %s after the kill", ms(takeover), got, ms(took))
}

// relStaleLeader: the leader freezes (SIGSTOP, like a long GC
// pause or a paused VM) with its reverse request delayed on the network;
// the standby takes over and completes the switchover; then the old
// leader's request arrives and the old leader wakes up.
func relStaleLeader(t *testing.T, profile string) {
	s := newScenario(t, harness.Row{Order: 21, Area: "Handover",
		Fault:  "the leader freezes (SIGSTOP) with its reverse request held in the network; the standby takes over and finishes; then the delayed request reaches SDRS and the old leader resumes (SIGCONT)",
		Assert: "never two leaders acting: exactly one reverse carried out (the stale one is refused by SDRS), 0 duplicate, 0 lost; status not overwritten by the old leader, the old leader gives up and exits"},
		scenarioOptions{proxy: true, profile: profile, emulator: harness.EmulatorOptions{JobDuration: 2 * time.Second}})
	g := s.seed(emutest.Group{Name: "web", Instances: []emutest.Instance{off}})[0]
	leader, standby, _ := s.leaderPair()
	pg := s.adopt("web", g.ID, manual)
	s.waitFor(pg, relOpTimeout, harness.ReadyAt(drv1alpha1.SiteSource))

	hold := s.proxy.Add(&harness.Rule{Match: harness.MatchAction("reverse-server-group"), HoldBefore: true, Times: 1})
	s.update(pg, func(p *drv1alpha1.ProtectionGroup) { p.Spec.DesiredActiveSite = drv1alpha1.SiteTarget })
	s.waitHit(hold, "the leader's reverse call")
	if err := leader.Signal(syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	frozen := time.Now()
	t.Cleanup(func() { _ = leader.Signal(syscall.SIGCONT) })
	if _, err := standby.WaitLog(s.ctx, harness.LeaderLine); err != nil {
		t.Fatal(err)
	}
	takeover := time.Since(frozen)
	s.waitFor(pg, relOpTimeout, harness.ReadyAt(drv1alpha1.SiteTarget))
	before := s.get(pg)

	// The delayed request arrives now; then the old leader wakes up.
	hold.Release()
	err := wait.PollUntilContextTimeout(s.ctx, 100*time.Millisecond, 30*time.Second, true, func(ctx context.Context) (bool, error) {
		c, err := s.emu.Admin.Calls(ctx, "StartReverseProtectionGroup", g.ID)
		return err == nil && len(c) == 2, nil
	})
	if err != nil {
		t.Fatal("the old leader's delayed reverse never reached the emulator")
	}
	if err := leader.Signal(syscall.SIGCONT); err != nil {
		t.Fatal(err)
	}
	select {
	case <-leader.Done():
	case <-time.After(60 * time.Second):
		t.Error("the old leader still runs 60s after it woke up without its lease")
	}
	calls, _ := s.emu.Admin.Calls(s.ctx, "StartReverseProtectionGroup", g.ID)
	refused := ""
	for _, c := range calls {
		if c.StatusCode >= 300 {
			refused = c.ErrorCode
		}
	}
	got := s.exactlyOnce(g.ID, harness.Expect{Actions: reverseOnce, Site: "target"})
	after := s.get(pg)
	if ok, why := harness.ReadyAt(drv1alpha1.SiteTarget)(after); !ok {
		t.Errorf("status after the old leader woke up: %s", why)
	}
	if after.Status.LastOperation == nil || before.Status.LastOperation == nil ||
		after.Status.LastOperation.RequestID != before.Status.LastOperation.RequestID || len(after.Status.History) != len(before.Status.History) {
		t.Errorf("the old leader rewrote the operation record: before %+v, after %+v", before.Status.LastOperation, after.Status.LastOperation)
	}
	s.result("takeover %s after the freeze; %s; the stale reverse was refused with %s; the old leader exited after waking", ms(takeover), got, refused)
}

// relEmulatorRestart: SDRS itself goes away mid-job (SIGKILL)
// and comes back on the same address with its state file.
func relEmulatorRestart(t *testing.T) {
	s := newScenario(t, harness.Row{Order: 30, Area: "Outage",
		Fault:  "the SDRS endpoint is SIGKILLed mid-job (5s job) and restarted on the same ports from its state file",
		Assert: "the manager reports SDRSUnavailable (Reconciling, not Stalled) meanwhile, keeps the operation, and converges after SDRS returns; exactly one reverse carried out, 0 duplicate, 0 lost"},
		scenarioOptions{emulator: harness.EmulatorOptions{JobDuration: 5 * time.Second, Persist: true}})
	g := s.seed(emutest.Group{Name: "web", Instances: []emutest.Instance{off}})[0]
	s.manager("m")
	pg := s.adopt("web", g.ID, manual)
	s.waitFor(pg, relOpTimeout, harness.ReadyAt(drv1alpha1.SiteSource))
	s.update(pg, func(p *drv1alpha1.ProtectionGroup) { p.Spec.DesiredActiveSite = drv1alpha1.SiteTarget })
	requestID, _ := s.reverseStarted(pg, g.ID)
	if err := s.emu.Kill(); err != nil {
		t.Fatal(err)
	}
	down := time.Now()
	s.waitFor(pg, relOpTimeout, harness.All(
		harness.HasCondition(drv1alpha1.ReadyCondition, "False", drv1alpha1.SDRSUnavailableReason),
		harness.HasCondition(drv1alpha1.StalledCondition, "False", ""),
		harness.OperationRunning(drv1alpha1.OperationPlannedFailover, drv1alpha1.StepSDRSAction, true)))
	if err := s.emu.Restart("", ""); err != nil {
		t.Fatal(err)
	}
	outage := time.Since(down)
	s.waitFor(pg, relOpTimeout, harness.ReadyAt(drv1alpha1.SiteTarget))
	took := time.Since(down)
	got := s.exactlyOnce(g.ID, harness.Expect{Actions: reverseOnce, Site: "target"})
	s.switchedOver(pg, g.ID, requestID)
	s.result("outage %s, seen as Ready=False/SDRSUnavailable; %s; converged %s after the kill", ms(outage), got, ms(took))
}

// relAPIServerRestart: kube-apiserver stops while a job runs,
// the job ends during the outage, and the API server comes back. Not
// parallel: every manager shares the API server.
func relAPIServerRestart(t *testing.T) {
	s := newScenario(t, harness.Row{Order: 31, Area: "Outage",
		Fault:  "kube-apiserver stopped while a 4s job runs (its ID recorded right after the call); the job ends during the outage; the API server restarts (etcd keeps the data)",
		Assert: "the same manager process (leader-elected, renew deadline longer than the outage) records the job's end once the API is back; exactly one reverse carried out, 0 duplicate, 0 lost"},
		scenarioOptions{emulator: harness.EmulatorOptions{JobDuration: 4 * time.Second}})
	g := s.seed(emutest.Group{Name: "web", Instances: []emutest.Instance{off}})[0]
	opts := s.managerOptions("m", true)
	opts.LeaseDuration, opts.RenewDeadline, opts.RetryPeriod = 90*time.Second, 75*time.Second, 2*time.Second
	m := s.managerWith(opts)
	if _, err := m.WaitLog(s.ctx, harness.LeaderLine); err != nil {
		t.Fatal(err)
	}
	pg := s.adopt("web", g.ID, manual)
	s.waitFor(pg, relOpTimeout, harness.ReadyAt(drv1alpha1.SiteSource))
	s.update(pg, func(p *drv1alpha1.ProtectionGroup) { p.Spec.DesiredActiveSite = drv1alpha1.SiteTarget })
	requestID, jobID := s.reverseStarted(pg, g.ID)
	stopped := time.Now()
	if err := s.cp.StopAPIServer(); err != nil {
		t.Fatal(err)
	}
	s.waitJob(jobID, "SUCCESS", relOpTimeout)
	if err := s.cp.StartAPIServer(); err != nil {
		t.Fatal(err)
	}
	outage := time.Since(stopped)
	s.waitFor(pg, 2*relOpTimeout, harness.ReadyAt(drv1alpha1.SiteTarget))
	took := time.Since(stopped)
	if !m.Alive() {
		t.Error("the manager exited during the API server outage")
	}
	got := s.exactlyOnce(g.ID, harness.Expect{Actions: reverseOnce, Site: "target"})
	s.switchedOver(pg, g.ID, requestID)
	if last := s.get(pg).Status.LastOperation; last == nil || last.JobID != jobID {
		t.Errorf("lastOperation %+v, want job %s", last, jobID)
	}
	s.result("API server down %s; %s; same manager process; converged %s after the stop", ms(outage), got, ms(took))
}

// relAPIServerDownAtJobID: SDRS accepted the action, and the API server is
// gone when the manager wants to record the job ID. Not parallel. The
// manager runs with --sdrs-timeout=30s: stopping kube-apiserver takes a
// few seconds, and with the harness's 3s the held call would be abandoned
// before its answer is released (the attempt is then judged by the group,
// which KillAnswerLost covers), so the job ID would never arrive.
func relAPIServerDownAtJobID(t *testing.T) {
	s := newScenario(t, harness.Row{Order: 32, Area: "Outage",
		Fault:  "kube-apiserver stopped after SDRS accepted the reverse but before its answer (the job ID) reached the manager (proxy holds it; --sdrs-timeout=30s so that the answer outlasts the API server's stop), so neither the job ID nor the started Event can be written; the API server comes back",
		Assert: "the manager does not re-issue: it follows the job it kept in memory and finishes once the API returns; exactly one reverse carried out, 0 duplicate, 0 lost; the intent's requestID is the one recorded as succeeded, with the job's ID"},
		scenarioOptions{proxy: true, emulator: harness.EmulatorOptions{JobDuration: 2 * time.Second}})
	g := s.seed(emutest.Group{Name: "web", Instances: []emutest.Instance{off}})[0]
	opts := s.managerOptions("m", true)
	opts.LeaseDuration, opts.RenewDeadline, opts.RetryPeriod = 90*time.Second, 75*time.Second, 2*time.Second
	opts.SDRSTimeout, opts.NotStartedGrace = 30*time.Second, 40*time.Second
	m := s.managerWith(opts)
	if _, err := m.WaitLog(s.ctx, harness.LeaderLine); err != nil {
		t.Fatal(err)
	}
	pg := s.adopt("web", g.ID, manual)
	s.waitFor(pg, relOpTimeout, harness.ReadyAt(drv1alpha1.SiteSource))
	hold := s.proxy.Add(&harness.Rule{Match: harness.MatchAction("reverse-server-group"), HoldAfter: true, Times: 1})
	s.update(pg, func(p *drv1alpha1.ProtectionGroup) { p.Spec.DesiredActiveSite = drv1alpha1.SiteTarget })
	s.waitHit(hold, "the reverse call to reach SDRS")
	s.waitFor(pg, 10*time.Second, harness.OperationRunning(drv1alpha1.OperationPlannedFailover, drv1alpha1.StepSDRSAction, false))
	requestID := pg.Status.CurrentOperation.RequestID
	stopped := time.Now()
	if err := s.cp.StopAPIServer(); err != nil {
		t.Fatal(err)
	}
	hold.Release()
	// The manager got its job ID and fails to write it; wait for the job
	// to end in SDRS meanwhile.
	st := s.groupJobs(g.ID, "reverseProtectionGroupNoCG")
	if len(st) != 1 {
		t.Fatalf("%d reverse jobs in SDRS, want 1", len(st))
	}
	s.waitJob(st[0].ID, "SUCCESS", relOpTimeout)
	if err := s.cp.StartAPIServer(); err != nil {
		t.Fatal(err)
	}
	outage := time.Since(stopped)
	s.waitFor(pg, 2*relOpTimeout, harness.ReadyAt(drv1alpha1.SiteTarget))
	took := time.Since(stopped)
	if !m.Alive() {
		t.Error("the manager exited during the API server outage")
	}
	got := s.exactlyOnce(g.ID, harness.Expect{Actions: reverseOnce, Site: "target"})
	s.switchedOver(pg, g.ID, requestID)
	if last := s.get(pg).Status.LastOperation; last == nil || last.JobID != st[0].ID {
		t.Errorf("lastOperation %+v, want job %s", last, st[0].ID)
	}
	s.result("API server down %s while the job ID was to be recorded; %s; converged %s after the stop", ms(outage), got, ms(took))
}

// lostLeaseLine is logged by a manager whose leader election was lost.
var lostLeaseLine = regexp.MustCompile(`(?i)leader election lost|failed to renew lease|stopped leading`)

// relAPIServerLeaderLost: kube-apiserver is gone for longer than the
// lease's renew deadline while a job runs: the leader loses its lease and
// exits (as its pod would, to be restarted), and the standby takes over
// when the API server is back. Not parallel: every manager shares the API
// server.
func relAPIServerLeaderLost(t *testing.T, profile string) {
	s := newScenario(t, harness.Row{Order: 33, Area: "Handover",
		Fault:  "two replicas with leader election (lease 4s, renew deadline 3s); kube-apiserver stopped while the leader's 6s job runs and kept down longer than the renew deadline; then restarted (etcd keeps the data)",
		Assert: "the leader cannot renew, loses leadership and exits; the standby takes the lease once the API server is back, resumes the recorded job and finishes it; exactly one reverse carried out, 0 duplicate, 0 lost; the intent's requestID recorded as succeeded"},
		scenarioOptions{profile: profile, emulator: harness.EmulatorOptions{JobDuration: 6 * time.Second}})
	g := s.seed(emutest.Group{Name: "web", Instances: []emutest.Instance{off}})[0]
	leader, standby, opts := s.leaderPair()
	pg := s.adopt("web", g.ID, manual)
	s.waitFor(pg, relOpTimeout, harness.ReadyAt(drv1alpha1.SiteSource))
	s.update(pg, func(p *drv1alpha1.ProtectionGroup) { p.Spec.DesiredActiveSite = drv1alpha1.SiteTarget })
	requestID, jobID := s.reverseStarted(pg, g.ID)
	stopped := time.Now()
	if err := s.cp.StopAPIServer(); err != nil {
		t.Fatal(err)
	}
	exited := false
	select {
	case <-leader.Done():
		exited = true
	case <-time.After(opts.RenewDeadline + 30*time.Second):
	}
	leaderGone := time.Since(stopped)
	if err := s.cp.StartAPIServer(); err != nil {
		t.Fatal(err)
	}
	outage := time.Since(stopped)
	if !exited {
		t.Errorf("the leader still runs %s after the API server stopped, with a renew deadline of %s", ms(leaderGone), opts.RenewDeadline)
	}
	if _, err := standby.WaitLog(s.ctx, harness.LeaderLine); err != nil {
		t.Fatal(err)
	}
	takeover := time.Since(stopped)
	s.waitFor(pg, 2*relOpTimeout, harness.ReadyAt(drv1alpha1.SiteTarget))
	took := time.Since(stopped)
	if acted := actedBeforeLeading(standby); len(acted) > 0 {
		t.Errorf("the standby acted before it led: %v", acted)
	}
	got := s.exactlyOnce(g.ID, harness.Expect{Actions: reverseOnce, Site: "target"})
	s.switchedOver(pg, g.ID, requestID)
	if last := s.get(pg).Status.LastOperation; last == nil || last.JobID != jobID {
		t.Errorf("lastOperation %+v, want the leader's job %s", last, jobID)
	}
	lost := "no"
	if leader.HasLogged(lostLeaseLine) {
		lost = "yes"
	}
	s.result("API server down %s; the leader exited %s after the stop (logged the lost lease: %s); the standby led %s after the stop; %s; converged %s after the stop",
		ms(outage), ms(leaderGone), lost, ms(takeover), got, ms(took))
}
