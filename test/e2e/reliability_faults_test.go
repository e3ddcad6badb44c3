//go:build e2e

package e2e

import (
	"context"
	"fmt"
	"net/http"
	"sort"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	"sigs.k8s.io/controller-runtime/pkg/client"

	drv1alpha1 "github.com/sdrs-operator/sdrs-operator/api/v1alpha1"
	"github.com/sdrs-operator/sdrs-operator/internal/emutest"
	"github.com/sdrs-operator/sdrs-operator/test/e2e/harness"
)

// waitReads waits until the manager read the group at least n times after
// since: proof that it reconciled (each reconcile reads the group first),
// so that "no new action" is measured over real reconciles, not over time.
func (s *scenario) waitReads(groupID string, since time.Time, n int) int {
	s.t.Helper()
	got := 0
	err := wait.PollUntilContextTimeout(s.ctx, 100*time.Millisecond, relOpTimeout, true, func(ctx context.Context) (bool, error) {
		c, err := s.emu.Admin.Calls(ctx, "ShowProtectionGroup", groupID)
		if err != nil {
			return false, nil
		}
		got = len(harness.Since(c, since))
		return got >= n, nil
	})
	if err != nil {
		s.t.Fatalf("the manager read group %s only %d times since %s, want %d", groupID, got, since.Format(time.StampMilli), n)
	}
	return got
}

// poke sets the annotation dr.sdrs.io/refresh to a new value, which wakes
// the controller at once (a forced reconcile; labels and other annotations
// do not), and returns when it was written.
func (s *scenario) poke(pg *drv1alpha1.ProtectionGroup) time.Time {
	s.t.Helper()
	at := time.Now()
	s.annotate(pg, drv1alpha1.RefreshAnnotation, fmt.Sprint(at.UnixNano()))
	return at
}

// relThrottling: 429 with Retry-After on a third of all calls, 5xx on a
// tenth, 100ms latency on every call, while two groups switch over.
func relThrottling(t *testing.T) {
	const (
		rate, burst = 5, 5
		retryAfter  = time.Second
	)
	s := newScenario(t, harness.Row{Order: 40, Area: "Throttling",
		Fault: fmt.Sprintf("HTTP faults on every SDRS and ECS call: 25%% answered 429 with Retry-After %s, 5%% answered 503, 50ms latency on all; "+
			"two groups (serverPower Managed and Manual) switch over; ProviderConfig rateLimit %d/s burst %d", retryAfter, rate, burst),
		Assert: "both converge; every window of the emulator's call log stays within the token bucket (n <= burst + rate*t); after a 429 the same group is not called again before Retry-After; the throttled state is Reconciling/Throttled, never Stalled; exactly one action of each kind per group"},
		scenarioOptions{
			emulator: harness.EmulatorOptions{JobDuration: time.Second},
			mutatePC: func(pc *drv1alpha1.ProviderConfig) {
				pc.Spec.RateLimit = drv1alpha1.RateLimit{CallsPerSecond: rate, Burst: burst}
			},
		})
	gs := s.seed(emutest.Group{Name: "managed", Instances: []emutest.Instance{{}}}, emutest.Group{Name: "manual", Instances: []emutest.Instance{off}})
	s.manager("m")
	pgA := s.adopt("managed", gs[0].ID, nil)
	pgB := s.adopt("manual", gs[1].ID, manual)
	s.waitFor(pgA, relOpTimeout, harness.ReadyAt(drv1alpha1.SiteSource))
	s.waitFor(pgB, relOpTimeout, harness.ReadyAt(drv1alpha1.SiteSource))

	if err := s.emu.Admin.SetHTTPFaults(s.ctx, emutest.HTTPFaults{ThrottleFraction: 0.25, RetryAfterSeconds: int(retryAfter / time.Second),
		ErrorFraction: 0.05, ErrorStatus: 503, Latency: "50ms", Seed: 7}); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	for _, pg := range []*drv1alpha1.ProtectionGroup{pgA, pgB} {
		s.update(pg, func(p *drv1alpha1.ProtectionGroup) { p.Spec.DesiredActiveSite = drv1alpha1.SiteTarget })
	}
	// While faults last, a throttled group says so and is never Stalled.
	sawThrottled := false
	err := wait.PollUntilContextTimeout(s.ctx, 100*time.Millisecond, 3*relOpTimeout, true, func(ctx context.Context) (bool, error) {
		done := true
		for _, pg := range []*drv1alpha1.ProtectionGroup{pgA, pgB} {
			cur := &drv1alpha1.ProtectionGroup{}
			if err := s.cp.Client.Get(ctx, client.ObjectKeyFromObject(pg), cur); err != nil {
				return false, nil
			}
			if ok, _ := harness.HasCondition(drv1alpha1.StalledCondition, metav1.ConditionTrue, "")(cur); ok {
				return false, fmt.Errorf("%s went Stalled under throttling: %s", cur.Name, harness.Describe(cur))
			}
			if ok, _ := harness.HasCondition(drv1alpha1.ReadyCondition, metav1.ConditionFalse, drv1alpha1.ThrottledReason)(cur); ok {
				sawThrottled = true
			}
			if ok, _ := harness.ReadyAt(drv1alpha1.SiteTarget)(cur); !ok {
				done = false
			}
		}
		return done, nil
	})
	if err != nil {
		t.Fatalf("not converged under throttling: %v", err)
	}
	took := time.Since(start)
	if err := s.emu.Admin.ClearFaults(s.ctx); err != nil {
		t.Fatal(err)
	}
	all := harness.Since(s.calls(""), start)
	all = callsBefore(all, start.Add(took))
	rep := harness.CheckRate(all, rate, burst)
	// One call of slack: the limiter takes a token before the request
	// leaves, the emulator stamps it on arrival.
	if rep.WorstExcess > 1 {
		t.Errorf("call rate above the ProviderConfig's limit: %s", rep)
	}
	throttled, errors5xx := 0, 0
	for _, c := range all {
		switch {
		case c.StatusCode == http.StatusTooManyRequests:
			throttled++
		case c.StatusCode >= 500:
			errors5xx++
		}
	}
	early, minGap := retryAfterViolations(all, retryAfter)
	if len(early) > 0 {
		t.Errorf("%d calls came before the Retry-After of the 429 before them (shortest gap %s): %v", len(early), minGap, early)
	}
	gotA := s.expectActions(gs[0].ID, map[string]int{"BatchStopServers": 1, "StartReverseProtectionGroup": 1, "BatchStartServers": 1})
	gotB := s.expectActions(gs[1].ID, map[string]int{"StartReverseProtectionGroup": 1})
	s.result("converged in %s; %s; %d answered 429 and %d answered 5xx; shortest wait after a 429 on the same group %s; Throttled reason seen: %v; actions managed: %s, manual: %s",
		ms(took), rep, throttled, errors5xx, ms(minGap), sawThrottled, fmtCounts(gotA), fmtCounts(gotB))
}

func callsBefore(calls []emutest.Call, t time.Time) []emutest.Call {
	var out []emutest.Call
	for _, c := range calls {
		if c.Time.Before(t) {
			out = append(out, c)
		}
	}
	return out
}

// retryAfterViolations finds calls on a group that came sooner than
// retryAfter (less 100ms of clock slack) after a 429 on that group.
func retryAfterViolations(calls []emutest.Call, retryAfter time.Duration) ([]string, time.Duration) {
	byGroup := map[string][]emutest.Call{}
	for _, c := range calls {
		if c.GroupID != "" {
			byGroup[c.GroupID] = append(byGroup[c.GroupID], c)
		}
	}
	var out []string
	minGap := time.Duration(1 << 62)
	for _, cs := range byGroup {
		sort.Slice(cs, func(i, j int) bool { return cs[i].Time.Before(cs[j].Time) })
		for i := 0; i+1 < len(cs); i++ {
			if cs[i].StatusCode != http.StatusTooManyRequests {
				continue
			}
			gap := cs[i+1].Time.Sub(cs[i].Time)
			minGap = min(minGap, gap)
			if gap < retryAfter-100*time.Millisecond {
				out = append(out, fmt.Sprintf("%s %s after 429 on %s: %s", cs[i+1].Operation, gap.Round(time.Millisecond), cs[i].Operation, cs[i+1].Time.Format("15:04:05.000")))
			}
		}
	}
	if minGap == 1<<62 {
		minGap = 0
	}
	return out, minGap
}

// jobFailureCase is one SDRS failure code and how to provoke it.
type jobFailureCase struct {
	name, jobType, code string
	group               emutest.Group
	mutate              func(*drv1alpha1.ProtectionGroup)
	// flip: the failing operation needs desiredActiveSite target.
	flip bool
	// before/after are the actions expected after the failure and after
	// the retry.
	before, after map[string]int
	final         drv1alpha1.Site
}

var forced = func(p *drv1alpha1.ProtectionGroup) {
	manual(p)
	p.Spec.FailoverMode, p.Spec.AllowDataLoss = drv1alpha1.FailoverForced, true
}

var jobFailureCases = []jobFailureCase{
	{name: "Reverse1029", jobType: "reverseProtectionGroupNoCG", code: "SDRS.1029",
		group: emutest.Group{Name: "rev", Instances: []emutest.Instance{off}}, mutate: manual, flip: true,
		before: map[string]int{"StartReverseProtectionGroup": 1}, after: map[string]int{"StartReverseProtectionGroup": 2}, final: drv1alpha1.SiteTarget},
	{name: "Failover1030", jobType: "failoverProtectionGroupNoCG", code: "SDRS.1030",
		group: emutest.Group{Name: "fo", Instances: []emutest.Instance{off}}, mutate: forced, flip: true,
		before: map[string]int{"StartFailoverProtectionGroup": 1},
		after:  map[string]int{"StartFailoverProtectionGroup": 2, "StartProtectionGroup": 1}, final: drv1alpha1.SiteTarget},
	{name: "Enable1027", jobType: "startProtectionGroupNoCG", code: "SDRS.1027",
		group:  emutest.Group{Name: "enable", Protected: new(bool), Instances: []emutest.Instance{off}},
		mutate: manual,
		before: map[string]int{"StartProtectionGroup": 1}, after: map[string]int{"StartProtectionGroup": 2}, final: drv1alpha1.SiteSource},
	{name: "Reprotect1032", jobType: "reprotectProtectionGroupNoCG", code: "SDRS.1032",
		group: emutest.Group{Name: "reprotect", Instances: []emutest.Instance{off}}, mutate: forced, flip: true,
		before: map[string]int{"StartFailoverProtectionGroup": 1, "StartProtectionGroup": 1},
		after:  map[string]int{"StartFailoverProtectionGroup": 1, "StartProtectionGroup": 2}, final: drv1alpha1.SiteTarget},
}

// relJobFailures: each SDRS job failure code, each in its own world.
func relJobFailures(t *testing.T) {
	for i, c := range jobFailureCases {
		t.Run(c.name, underBothProfiles(func(t *testing.T, profile string) { jobFailure(t, 50+i, c, profile) }))
	}
}

func jobFailure(t *testing.T, order int, c jobFailureCase, profile string) {
	s := newScenario(t, harness.Row{Order: order, Area: "Failed job",
		Fault:  fmt.Sprintf("the %s job ends FAIL with %s", c.jobType, c.code),
		Assert: "Stalled=True/JobFailed naming the code, a Warning Event naming it, no new action across a forced reconcile and two stalled re-checks (3s), recovery after the dr.sdrs.io/retry annotation with exactly one more action; 0 duplicate, 0 lost"},
		scenarioOptions{profile: profile, emulator: harness.EmulatorOptions{JobDuration: time.Second}})
	g := s.seed(c.group)[0]
	s.manager("m")
	if err := s.emu.Admin.FailJobs(s.ctx, c.jobType, 1, c.code, "injected by the reliability suite"); err != nil {
		t.Fatal(err)
	}
	pg := s.adopt(strings.ToLower(c.name), g.ID, c.mutate)
	// Enabling protection starts at creation; the others need a switch.
	if c.flip {
		s.waitFor(pg, relOpTimeout, harness.All(harness.HasCondition(drv1alpha1.ReadyCondition, metav1.ConditionTrue, ""),
			func(p *drv1alpha1.ProtectionGroup) (bool, string) {
				return p.Status.ActiveSite == drv1alpha1.SiteSource, ""
			}))
		s.update(pg, func(p *drv1alpha1.ProtectionGroup) { p.Spec.DesiredActiveSite = drv1alpha1.SiteTarget })
	}
	start := time.Now()
	s.waitFor(pg, relOpTimeout, harness.HasCondition(drv1alpha1.StalledCondition, metav1.ConditionTrue, drv1alpha1.JobFailedReason))
	stalledAfter := time.Since(start)
	cond := findCondition(pg, drv1alpha1.StalledCondition)
	if !strings.Contains(cond.Message, c.code) || !strings.Contains(cond.Message, drv1alpha1.RetryAnnotation) {
		t.Errorf("Stalled message %q should name %s and how to retry (%s)", cond.Message, c.code, drv1alpha1.RetryAnnotation)
	}
	if last := pg.Status.LastOperation; last == nil || last.ErrorCode != c.code || last.Result != drv1alpha1.OperationFailed {
		t.Errorf("lastOperation %+v, want Failed with %s", last, c.code)
	}
	ev, err := s.cp.WaitEvent(s.ctx, s.ns, pg.Name, drv1alpha1.JobFailedReason, c.code, 30*time.Second)
	if err != nil {
		t.Error(err)
	} else if ev.Type != "Warning" {
		t.Errorf("the JobFailed Event is %s, want Warning", ev.Type)
	}
	// No retry storm: a forced reconcile and two re-checks later, still
	// only the failed action.
	failedStatus := "unknown"
	if st, err := s.emu.State(s.ctx); err == nil && st.Group(g.ID) != nil {
		failedStatus = st.Group(g.ID).Status
	}
	poked := s.poke(pg)
	reads := s.waitReads(g.ID, poked, 3)
	s.expectActions(g.ID, c.before)
	window := time.Since(poked)

	s.annotate(pg, drv1alpha1.RetryAnnotation, "1")
	retried := time.Now()
	s.waitFor(pg, relOpTimeout, harness.All(harness.ReadyAt(c.final), harness.HasCondition(drv1alpha1.ProtectedCondition, metav1.ConditionTrue, "")))
	recovered := time.Since(retried)
	got := s.exactlyOnce(g.ID, harness.Expect{Actions: c.after, Site: string(c.final)})
	if h := s.get(pg).Status.LastHandledRetry; h != "1" {
		t.Errorf("status.lastHandledRetry %q, want 1", h)
	}
	s.result("Stalled/JobFailed %s after the action, message names %s, Warning Event; the group was %s after the failure; %d group reads over %s after a forced reconcile with no new action; recovered %s after the retry annotation; actions in total: %s",
		ms(stalledAfter), c.code, failedStatus, reads, ms(window), ms(recovered), got)
}

func findCondition(pg *drv1alpha1.ProtectionGroup, typ string) metav1.Condition {
	for _, c := range pg.Status.Conditions {
		if c.Type == typ {
			return c
		}
	}
	return metav1.Condition{}
}

// relConflicts: a person changes their mind while a job runs.
func relConflicts(t *testing.T) {
	t.Run("FlipBack", func(t *testing.T) { t.Parallel(); conflictFlipBack(t) })
	t.Run("Pause", func(t *testing.T) { t.Parallel(); conflictPause(t) })
	t.Run("Delete", func(t *testing.T) { t.Parallel(); conflictDelete(t) })
	t.Run("FlipDuringStop", func(t *testing.T) { t.Parallel(); conflictFlipDuringStop(t) })
	t.Run("ManualServersRunning", func(t *testing.T) { t.Parallel(); conflictManualServersRunning(t) })
}

func conflictFlipBack(t *testing.T) {
	s := newScenario(t, harness.Row{Order: 60, Area: "Conflicting change",
		Fault:  "desiredActiveSite flipped back to source while the 4s switchover to target runs",
		Assert: "the running job is finished and recorded, then one switchover back; exactly two reverses; history shows both in order"},
		scenarioOptions{emulator: harness.EmulatorOptions{JobDuration: 4 * time.Second}})
	g := s.seed(emutest.Group{Name: "web", Instances: []emutest.Instance{off}})[0]
	s.manager("m")
	pg := s.adopt("web", g.ID, manual)
	s.waitFor(pg, relOpTimeout, harness.ReadyAt(drv1alpha1.SiteSource))
	s.update(pg, func(p *drv1alpha1.ProtectionGroup) { p.Spec.DesiredActiveSite = drv1alpha1.SiteTarget })
	_, first := s.reverseStarted(pg, g.ID)
	flipped := time.Now()
	s.update(pg, func(p *drv1alpha1.ProtectionGroup) { p.Spec.DesiredActiveSite = drv1alpha1.SiteSource })
	s.waitFor(pg, relOpTimeout, func(p *drv1alpha1.ProtectionGroup) (bool, string) {
		ok, why := harness.ReadyAt(drv1alpha1.SiteSource)(p)
		return ok && len(p.Status.History) >= 2, why
	})
	took := time.Since(flipped)
	got := s.expectActions(g.ID, map[string]int{"StartReverseProtectionGroup": 2})
	h := s.get(pg).Status.History
	if len(h) != 2 || h[1].JobID != first || h[1].To != drv1alpha1.SiteTarget || h[0].To != drv1alpha1.SiteSource ||
		h[0].Result != drv1alpha1.OperationSucceeded || h[1].Result != drv1alpha1.OperationSucceeded {
		t.Errorf("history %+v, want the switchover to target (job %s) then back to source, both succeeded", h, first)
	}
	s.result("%s; history: to target (the running job) then back to source; back at source %s after the flip", fmtCounts(got), ms(took))
}

func conflictPause(t *testing.T) {
	s := newScenario(t, harness.Row{Order: 61, Area: "Conflicting change",
		Fault:  "paused (dr.sdrs.io/paused) and flipped back while the 4s switchover runs; unpaused later",
		Assert: "the running job is still followed and recorded; while paused no new action (across forced reconciles) and Paused=True says what it would do; after unpausing, one switchover back"},
		scenarioOptions{emulator: harness.EmulatorOptions{JobDuration: 4 * time.Second}})
	g := s.seed(emutest.Group{Name: "web", Instances: []emutest.Instance{off}})[0]
	s.manager("m")
	pg := s.adopt("web", g.ID, manual)
	s.waitFor(pg, relOpTimeout, harness.ReadyAt(drv1alpha1.SiteSource))
	s.update(pg, func(p *drv1alpha1.ProtectionGroup) { p.Spec.DesiredActiveSite = drv1alpha1.SiteTarget })
	s.reverseStarted(pg, g.ID)
	s.update(pg, func(p *drv1alpha1.ProtectionGroup) {
		p.Annotations = map[string]string{drv1alpha1.PausedAnnotation: "true"}
		p.Spec.DesiredActiveSite = drv1alpha1.SiteSource
	})
	s.waitFor(pg, relOpTimeout, func(p *drv1alpha1.ProtectionGroup) (bool, string) {
		last := p.Status.LastOperation
		ok := p.Status.CurrentOperation == nil && last != nil && last.To == drv1alpha1.SiteTarget && last.Result == drv1alpha1.OperationSucceeded
		return ok, harness.Describe(p)
	})
	s.waitFor(pg, relOpTimeout, harness.HasCondition(drv1alpha1.PausedCondition, metav1.ConditionTrue, ""))
	ready := findCondition(pg, drv1alpha1.ReadyCondition)
	poked := s.poke(pg)
	s.waitReads(g.ID, poked, 1)
	s.poke(pg)
	reads := s.waitReads(g.ID, poked, 2)
	s.expectActions(g.ID, map[string]int{"StartReverseProtectionGroup": 1})
	if cur := s.get(pg); cur.Status.ActiveSite != drv1alpha1.SiteTarget {
		t.Errorf("paused group moved: %s", harness.Describe(cur))
	}
	unpaused := time.Now()
	s.annotate(pg, drv1alpha1.PausedAnnotation, "")
	s.waitFor(pg, relOpTimeout, harness.ReadyAt(drv1alpha1.SiteSource))
	took := time.Since(unpaused)
	got := s.expectActions(g.ID, map[string]int{"StartReverseProtectionGroup": 2})
	s.result("running job recorded while paused; Ready=%s/%s %q; %d group reads while paused, no action; after unpausing one switchover back in %s; %s",
		ready.Status, ready.Reason, ready.Message, reads, ms(took), fmtCounts(got))
}

func conflictDelete(t *testing.T) {
	s := newScenario(t, harness.Row{Order: 62, Area: "Conflicting change",
		Fault:  "ProtectionGroup (deletionPolicy Orphan) deleted while its 4s switchover runs",
		Assert: "the finalizer holds until the running job is finished and recorded (OperationSucceeded Event), then lets go; the SDRS group stays, at target; exactly one reverse, no other action"},
		scenarioOptions{emulator: harness.EmulatorOptions{JobDuration: 4 * time.Second}})
	g := s.seed(emutest.Group{Name: "web", Instances: []emutest.Instance{off}})[0]
	s.manager("m")
	pg := s.adopt("web", g.ID, manual)
	s.waitFor(pg, relOpTimeout, harness.ReadyAt(drv1alpha1.SiteSource))
	s.update(pg, func(p *drv1alpha1.ProtectionGroup) { p.Spec.DesiredActiveSite = drv1alpha1.SiteTarget })
	_, jobID := s.reverseStarted(pg, g.ID)
	deleted := time.Now()
	if err := s.cp.Client.Delete(s.ctx, pg); err != nil {
		t.Fatal(err)
	}
	if err := s.cp.WaitGone(s.ctx, pg, relOpTimeout); err != nil {
		t.Fatal(err)
	}
	gone := time.Now()
	if _, err := s.cp.WaitEvent(s.ctx, s.ns, "web", drv1alpha1.OperationSucceededReason, "planned failover", 10*time.Second); err != nil {
		t.Error(err)
	}
	got := s.expectActions(g.ID, map[string]int{"StartReverseProtectionGroup": 1})
	st, err := s.emu.State(s.ctx)
	if err != nil {
		t.Fatal(err)
	}
	if job := st.Job(jobID); job == nil || job.Status != "SUCCESS" {
		t.Errorf("the switchover job %s did not succeed: %+v", jobID, job)
	} else if gone.Before(job.End) {
		t.Errorf("the object was gone (%s) before the running job ended (%s)", gone, job.End)
	}
	if grp := st.Group(g.ID); grp == nil || grp.PriorityStation != "target" {
		t.Errorf("SDRS group after an Orphan delete: %+v, want it kept at target", grp)
	}
	s.result("switchover finished and recorded (Event OperationSucceeded) before the finalizer let go; object gone %s after the delete; group kept at target; %s", ms(gone.Sub(deleted)), fmtCounts(got))
}

// relSiteDown: the production availability zone goes down.
func relSiteDown(t *testing.T) {
	s := newScenario(t, harness.Row{Order: 70, Area: "Site down",
		Fault:  "the production availability zone is marked down; the group asks for a Planned switchover, then is switched to Auto with allowDataLoss; the zone comes back later",
		Assert: "Planned: Stalled/ProductionSiteUnhealthy naming the zone, no action across forced reconciles; Auto: one failover; Protected=True again once the zone is up"},
		scenarioOptions{emulator: harness.EmulatorOptions{JobDuration: time.Second}})
	const downAZ = "cn-north-4a"
	g := s.seed(emutest.Group{Name: "web", SourceAvailabilityZone: downAZ, TargetAvailabilityZone: "cn-north-4b", Instances: []emutest.Instance{{}}})[0]
	s.manager("m")
	pg := s.adopt("web", g.ID, nil)
	s.waitFor(pg, relOpTimeout, harness.ReadyAt(drv1alpha1.SiteSource))
	if err := s.emu.Admin.SetZoneDown(s.ctx, downAZ, true); err != nil {
		t.Fatal(err)
	}
	down := time.Now()
	s.update(pg, func(p *drv1alpha1.ProtectionGroup) { p.Spec.DesiredActiveSite = drv1alpha1.SiteTarget })
	s.waitFor(pg, relOpTimeout, harness.HasCondition(drv1alpha1.StalledCondition, metav1.ConditionTrue, drv1alpha1.ProductionSiteUnhealthyReason))
	msg := findCondition(pg, drv1alpha1.StalledCondition).Message
	if !strings.Contains(msg, downAZ) || !strings.Contains(msg, "allowDataLoss") {
		t.Errorf("Stalled message %q should name the zone and the way out", msg)
	}
	poked := s.poke(pg)
	reads := s.waitReads(g.ID, poked, 2)
	s.expectActions(g.ID, map[string]int{})

	s.update(pg, func(p *drv1alpha1.ProtectionGroup) {
		p.Spec.FailoverMode, p.Spec.AllowDataLoss = drv1alpha1.FailoverAuto, true
	})
	auto := time.Now()
	s.waitFor(pg, relOpTimeout, func(p *drv1alpha1.ProtectionGroup) (bool, string) {
		for _, h := range p.Status.History {
			if h.Type == drv1alpha1.OperationFailover && h.Result == drv1alpha1.OperationSucceeded {
				return p.Status.ActiveSite == drv1alpha1.SiteTarget, harness.Describe(p)
			}
		}
		return false, harness.Describe(p)
	})
	failedOver := time.Since(auto)
	var reprotectAt time.Time
	if err := s.emu.Admin.SetZoneDown(s.ctx, downAZ, false); err != nil {
		t.Fatal(err)
	}
	up := time.Now()
	s.waitFor(pg, relOpTimeout, harness.All(harness.ReadyAt(drv1alpha1.SiteTarget), harness.HasCondition(drv1alpha1.ProtectedCondition, metav1.ConditionTrue, "")))
	protected := time.Since(up)
	if c, _ := s.emu.Admin.Calls(s.ctx, "StartProtectionGroup", g.ID); len(c) > 0 {
		reprotectAt = c[0].Time
	}
	got := s.expectActions(g.ID, map[string]int{"StartFailoverProtectionGroup": 1, "BatchStartServers": 1, "StartProtectionGroup": 1})
	when := "after the zone came back"
	if !reprotectAt.IsZero() && reprotectAt.Before(up) {
		when = fmt.Sprintf("%s after the failover, while the old production zone was still down (the emulator accepts re-protection then; real SDRS may fail it, see the SDRS.1032 row)", ms(reprotectAt.Sub(auto)))
	}
	s.result("Planned Stalled %q, %d reads with no action; Auto failed over %s after the switch; re-protect issued %s; Ready+Protected %s after the zone came up (zone down for %s); %s",
		msg, reads, ms(failedOver), when, ms(protected), ms(up.Sub(down)), fmtCounts(got))
}
