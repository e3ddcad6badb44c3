//go:build e2e

package e2e

import (
	"fmt"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	drv1alpha1 "github.com/sdrs-operator/sdrs-operator/api/v1alpha1"
	"github.com/sdrs-operator/sdrs-operator/internal/emutest"
	"github.com/sdrs-operator/sdrs-operator/test/e2e/harness"
)

// DR plans: a DRPlan moves its members (ProtectionGroups) wave by wave by
// a server-side apply of their desiredActiveSite with a run stamp; the
// ProtectionGroup controller does the SDRS work. These rows run the plan
// with the real manager: waves in order with their gates, a SIGKILL
// between member patches, a failed member that stops the run until a
// Retry decision. Every row counts, from the emulator's call log and state
// (harness.Count), the actions carried out on each member's group and
// asserts 0 duplicate and 0 lost.

func init() {
	relParallelScenarios = append(relParallelScenarios,
		relScenario{"PlanWavesInOrder", relPlanWavesInOrder},
		relScenario{"PlanKillBetweenMemberPatches", underBothProfiles(relPlanKillBetweenMemberPatches)},
		relScenario{"PlanFailedMemberStopRetry", underBothProfiles(relPlanFailedMemberStopRetry)},
	)
}

const (
	planArea = "Plans"
	// planRunTimeout bounds a whole run of a few waves.
	planRunTimeout = 3 * relOpTimeout
)

// planMember is a ProtectionGroup of a plan row and its SDRS group.
type planMember struct {
	name, tier, groupID string
	pg                  *drv1alpha1.ProtectionGroup
}

// planMembers seeds one SDRS group per member (one protected instance, its
// servers off), adopts each with serverPower Manual and the labels
// app=<app> and tier=<tier>, and waits until all are Ready at source.
// members are name/tier pairs.
func (s *scenario) planMembers(app string, members ...[2]string) []*planMember {
	s.t.Helper()
	groups := make([]emutest.Group, len(members))
	for i, m := range members {
		groups[i] = emutest.Group{Name: m[0], Instances: []emutest.Instance{off}}
	}
	seeded := s.seed(groups...)
	out := make([]*planMember, len(members))
	for i, m := range members {
		pm := &planMember{name: m[0], tier: m[1], groupID: seeded[i].ID}
		pm.pg = s.adopt(m[0], seeded[i].ID, func(p *drv1alpha1.ProtectionGroup) {
			manual(p)
			p.Labels = map[string]string{"app": app, "tier": m[1]}
		})
		out[i] = pm
	}
	for _, m := range out {
		s.waitFor(m.pg, relOpTimeout, harness.ReadyAt(drv1alpha1.SiteSource))
	}
	return out
}

func groupIDs(ms []*planMember) []string {
	out := make([]string, len(ms))
	for i, m := range ms {
		out[i] = m.groupID
	}
	return out
}

func ofTier(ms []*planMember, tier string) []*planMember {
	var out []*planMember
	for _, m := range ms {
		if m.tier == tier {
			out = append(out, m)
		}
	}
	return out
}

// newPlan creates a DRPlan selecting app=<app>.
func (s *scenario) newPlan(name, app string, waves []drv1alpha1.PlanWave, mutate func(*drv1alpha1.DRPlan)) *drv1alpha1.DRPlan {
	s.t.Helper()
	p := &drv1alpha1.DRPlan{
		ObjectMeta: metav1.ObjectMeta{Namespace: s.ns, Name: name},
		Spec: drv1alpha1.DRPlanSpec{
			Selector: metav1.LabelSelector{MatchLabels: map[string]string{"app": app}},
			Waves:    waves,
		},
	}
	if mutate != nil {
		mutate(p)
	}
	if err := s.cp.Client.Create(s.ctx, p); err != nil {
		s.t.Fatalf("cannot create DRPlan: %v", err)
	}
	return p
}

func (s *scenario) waitPlan(p *drv1alpha1.DRPlan, timeout time.Duration, cond harness.PlanCondition) {
	s.t.Helper()
	if err := s.cp.WaitPlan(s.ctx, p, timeout, cond); err != nil {
		s.t.Fatal(err)
	}
}

func (s *scenario) updatePlan(p *drv1alpha1.DRPlan, mutate func(*drv1alpha1.DRPlan)) {
	s.t.Helper()
	if err := s.cp.UpdatePlan(s.ctx, p, mutate); err != nil {
		s.t.Fatal(err)
	}
}

func (s *scenario) decide(p *drv1alpha1.DRPlan, d drv1alpha1.PlanDecision) {
	s.t.Helper()
	if err := s.cp.Decide(s.ctx, p, d); err != nil {
		s.t.Fatal(err)
	}
}

// watchMembers starts a watch of the scenario's ProtectionGroups, stopped
// when the test ends.
func (s *scenario) watchMembers() *harness.MemberWatch {
	s.t.Helper()
	w, err := s.cp.WatchMembers(s.ctx, s.ns)
	if err != nil {
		s.t.Fatal(err)
	}
	s.t.Cleanup(w.Stop)
	return w
}

// await waits for the first member event match accepts.
func (s *scenario) await(w *harness.MemberWatch, what string, match func(harness.MemberEvent) bool) harness.MemberEvent {
	s.t.Helper()
	select {
	case ev := <-w.Await(match):
		return ev
	case <-time.After(planRunTimeout):
		s.t.Fatalf("timed out waiting for %s (watch error: %v)", what, w.Err())
	case <-s.ctx.Done():
		s.t.Fatal(s.ctx.Err())
	}
	return harness.MemberEvent{}
}

// stampOf returns a matcher for members stamped by plan's run in wave.
func stampOf(plan, run, wave string) func(harness.MemberEvent) bool {
	want := plan + "/" + run + "/" + wave
	return func(ev harness.MemberEvent) bool { return ev.Stamp == want }
}

// untouched fails unless none of ms was moved: desiredActiveSite source,
// no run stamp, no reverse sent to its group.
func (s *scenario) untouched(ms []*planMember, when string) {
	s.t.Helper()
	for _, m := range ms {
		cur := s.get(m.pg)
		if cur.Spec.DesiredActiveSite != drv1alpha1.SiteSource || cur.Annotations[drv1alpha1.PlanRunAnnotation] != "" {
			s.t.Errorf("%s: %s moved: desiredActiveSite %s, run stamp %q", when, m.name, cur.Spec.DesiredActiveSite, cur.Annotations[drv1alpha1.PlanRunAnnotation])
		}
		if n := len(s.callsOf(m.groupID, "StartReverseProtectionGroup")); n != 0 {
			s.t.Errorf("%s: %d reverse calls on %s's group", when, n, m.name)
		}
	}
}

// reverseJobs returns each member's reverse job spans as SDRS ran them
// (nanosecond times from the emulator, unlike status times).
func (s *scenario) reverseJobs(ms []*planMember) []harness.Span {
	s.t.Helper()
	var out []harness.Span
	for _, m := range ms {
		for _, j := range s.groupJobs(m.groupID, "reverseProtectionGroupNoCG") {
			out = append(out, harness.Span{Member: m.name, Start: j.Begin, End: j.End})
		}
	}
	return out
}

// spansOf reads each member's last operation span from its status.
func (s *scenario) spansOf(ms []*planMember) []harness.Span {
	s.t.Helper()
	out := make([]harness.Span, 0, len(ms))
	for _, m := range ms {
		sp, ok := harness.LastSpan(s.get(m.pg))
		if !ok {
			s.t.Fatalf("%s has no finished operation", m.name)
		}
		out = append(out, sp)
	}
	return out
}

func latestEnd(spans []harness.Span) time.Time {
	var l time.Time
	for _, sp := range spans {
		if sp.End.After(l) {
			l = sp.End
		}
	}
	return l
}

func earliestStart(spans []harness.Span) time.Time {
	var e time.Time
	for _, sp := range spans {
		if e.IsZero() || sp.Start.Before(e) {
			e = sp.Start
		}
	}
	return e
}

// inOrder fails unless every span of later starts at or after the latest
// end of earlier plus gap, and returns the slack.
func (s *scenario) inOrder(what string, earlier, later []harness.Span, gap time.Duration) time.Duration {
	s.t.Helper()
	end := latestEnd(earlier).Add(gap)
	for _, sp := range later {
		if sp.Start.Before(end) {
			s.t.Errorf("%s: %s started at %s, before %s (the previous wave's last end plus %s)", what, sp.Member, sp.Start.Format(time.RFC3339Nano), end.Format(time.RFC3339Nano), gap)
		}
	}
	return earliestStart(later).Sub(end)
}

// movedOnce checks, from the watch, that each member carries exactly one
// moved-at value and one run stamp (want), and that its generation rose by
// exactly one (its site); it returns how many members were checked.
func (s *scenario) movedOnce(w *harness.MemberWatch, ms []*planMember, stamps map[string]string, movedAt map[string]int) int {
	s.t.Helper()
	vals := w.Distinct(func(e harness.MemberEvent) string { return e.MovedAt })
	stampVals := w.Distinct(func(e harness.MemberEvent) string { return e.Stamp })
	gens := w.Distinct(func(e harness.MemberEvent) string { return fmt.Sprint(e.Generation) })
	for _, m := range ms {
		want := movedAt[m.name]
		if want == 0 {
			want = 1
		}
		if got := vals[m.name]; len(got) != want {
			s.t.Errorf("%s: the watch saw %d moved-at values %v, want %d", m.name, len(got), got, want)
		}
		if got := stampVals[m.name]; len(got) != 1 || got[0] != stamps[m.name] {
			s.t.Errorf("%s: the watch saw run stamps %v, want exactly [%s]", m.name, got, stamps[m.name])
		}
		if got := gens[m.name]; len(got) != 2 {
			s.t.Errorf("%s: the watch saw generations %v, want two (one spec change: the site)", m.name, got)
		}
	}
	return len(ms)
}

// movedLines counts, per member, the "member moved" lines every manager of
// the scenario logged.
func (s *scenario) movedLines() map[string]int {
	out := map[string]int{}
	for _, m := range s.managers {
		for _, l := range m.Lines() {
			if !strings.Contains(l, `"msg":"member moved"`) {
				continue
			}
			if i := strings.Index(l, `"group":"`); i >= 0 {
				rest := l[i+len(`"group":"`):]
				if j := strings.IndexByte(rest, '"'); j >= 0 {
					out[rest[:j]]++
				}
			}
		}
	}
	return out
}

// planTally counts every member's actions: want gives the expected ones by
// member (default one reverse), all members end protected at target.
func (s *scenario) planTally(ms []*planMember, want map[string]map[string]int) harness.Tally {
	s.t.Helper()
	byGroup := map[string]map[string]int{}
	for _, m := range ms {
		byGroup[m.groupID] = reverseOnce
		if w, ok := want[m.name]; ok {
			byGroup[m.groupID] = w
		}
	}
	return s.tally(groupIDs(ms), func(id string) harness.Expect {
		return harness.Expect{Actions: byGroup[id], Site: "target"}
	})
}

// settled waits until every member's replication is active again after
// its reverse (the group controller writes that at its next sync) and the
// watch saw no member change for 3s, so that what changes afterwards is
// the test's doing; it gives up quietly after 45s.
func (s *scenario) settled(w *harness.MemberWatch, mem []*planMember) {
	s.t.Helper()
	deadline := time.Now().Add(45 * time.Second)
	for time.Now().Before(deadline) {
		active := true
		for _, m := range mem {
			if r := s.get(m.pg).Status.Replication; r == nil || r.Status != "active" {
				active = false
			}
		}
		evs := w.Events()
		if active && (len(evs) == 0 || time.Since(evs[len(evs)-1].At) > 3*time.Second) {
			return
		}
		time.Sleep(200 * time.Millisecond)
	}
	s.t.Logf("members not settled after 45s; comparing anyway")
}

// relPlanWavesInOrder: three waves with a wait, maxConcurrent 1 and an
// approval, then the same spec applied again.
func relPlanWavesInOrder(t *testing.T) {
	s := newScenario(t, harness.Row{Order: 41, Area: planArea,
		Fault: "a DRPlan of 7 groups in 3 waves (databases: 2 groups and a 2s wait post-step; apps: 3 groups, maxConcurrent 1; web: 2 groups behind an approval pre-step) set to desiredActiveSite target (2s jobs); then the same plan applied again (an unrelated annotation, then an unrelated spec change: rto)",
		Assert: "each wave's operations (status.lastOperation, and SDRS's reverse jobs) start only after every operation of the wave before ended (apps also after the 2s wait, counted from the step's startedAt, which status stores to the second); apps never more than 1 at once; web untouched (no stamp, no reverse) until an Approve decision; run Succeeded, plan Ready=True; exactly one reverse per group, 0 duplicate, 0 lost; " +
			"the second apply starts no run and patches no member (generations, resourceVersions and annotations unchanged after the plan observed the new generation)"},
		scenarioOptions{emulator: harness.EmulatorOptions{JobDuration: 2 * time.Second}})
	s.manager("m")
	mem := s.planMembers("erp", [2]string{"db-1", "db"}, [2]string{"db-2", "db"},
		[2]string{"app-1", "app"}, [2]string{"app-2", "app"}, [2]string{"app-3", "app"},
		[2]string{"web-1", "web"}, [2]string{"web-2", "web"})
	w := s.watchMembers()
	one := intstr.FromInt32(1)
	dbWave := harness.TierWave("databases", "db")
	dbWave.PostSteps = []drv1alpha1.PlanStep{{Name: "settle", Wait: &drv1alpha1.WaitStep{Duration: metav1.Duration{Duration: 2 * time.Second}}}}
	appWave := harness.TierWave("apps", "app")
	appWave.MaxConcurrent = &one
	webWave := harness.TierWave("web", "web")
	webWave.PreSteps = []drv1alpha1.PlanStep{{Name: "go", Approval: &drv1alpha1.ApprovalStep{Message: "apps are up: move the web tier?"}}}
	plan := s.newPlan("erp", "erp", []drv1alpha1.PlanWave{dbWave, appWave, webWave},
		func(p *drv1alpha1.DRPlan) { p.Spec.RTO = &metav1.Duration{Duration: time.Hour} })
	s.waitPlan(plan, relOpTimeout, func(p *drv1alpha1.DRPlan) (bool, string) {
		c := harness.PlanCond(p, drv1alpha1.ReadyCondition)
		return c.Status == metav1.ConditionTrue && c.Reason == drv1alpha1.PlanArmedReason && c.ObservedGeneration == p.Generation, harness.DescribePlan(p)
	})

	s.updatePlan(plan, func(p *drv1alpha1.DRPlan) { p.Spec.DesiredActiveSite = drv1alpha1.SiteTarget })
	started := time.Now()
	s.waitPlan(plan, planRunTimeout, harness.RunPhaseIs(drv1alpha1.PlanWaitingForApproval))
	waitingAt := time.Now()
	if c := harness.PlanCond(plan, drv1alpha1.WaitingForApprovalCondition); c.Status != metav1.ConditionTrue || !strings.Contains(c.Message, "web/go") {
		t.Errorf("WaitingForApproval: %+v", c)
	}
	web := ofTier(mem, "web")
	s.untouched(web, "waiting for approval")
	// Held across a few plan reconciles (member events, re-checks).
	time.Sleep(4 * time.Second)
	s.untouched(web, "4s into the approval wait")
	s.waitPlan(plan, 5*time.Second, harness.RunPhaseIs(drv1alpha1.PlanWaitingForApproval))
	held := time.Since(waitingAt)
	// Taken before the write: no stamp may be seen before the decision
	// was even sent.
	approved := time.Now()
	s.decide(plan, drv1alpha1.PlanDecision{Step: "web/go", Action: drv1alpha1.DecisionApprove, Note: "reliability suite"})

	s.waitPlan(plan, planRunTimeout, harness.RunPhaseIs(drv1alpha1.PlanSucceeded))
	took := time.Since(started)
	s.waitPlan(plan, relOpTimeout, func(p *drv1alpha1.DRPlan) (bool, string) {
		c := harness.PlanCond(p, drv1alpha1.ReadyCondition)
		return c.Status == metav1.ConditionTrue && c.Reason == drv1alpha1.PlanAtDesiredSiteReason, harness.DescribePlan(p)
	})
	for _, m := range mem {
		s.waitFor(m.pg, relOpTimeout, harness.ReadyAt(drv1alpha1.SiteTarget))
	}
	for _, m := range web {
		if at := w.FirstSeen(m.name, stampOf("erp", "r-0001", "web")); at.Before(approved) {
			t.Errorf("%s was stamped at %s, before the approval at %s", m.name, at.Format(time.RFC3339Nano), approved.Format(time.RFC3339Nano))
		}
	}

	// Order and concurrency, from the members' status (to the second) and
	// from SDRS's jobs (to the nanosecond).
	db, app := ofTier(mem, "db"), ofTier(mem, "app")
	st := map[string][]harness.Span{"db": s.spansOf(db), "app": s.spansOf(app), "web": s.spansOf(web)}
	jobs := map[string][]harness.Span{"db": s.reverseJobs(db), "app": s.reverseJobs(app), "web": s.reverseJobs(web)}
	s.inOrder("apps after databases (status)", st["db"], st["app"], 2*time.Second)
	s.inOrder("web after apps (status)", st["app"], st["web"], 0)
	// The wait step counts from its startedAt, which status stores to the
	// second: it may pass up to 1s early.
	appGap := s.inOrder("apps after databases (SDRS jobs)", jobs["db"], jobs["app"], time.Second) + time.Second
	webGap := s.inOrder("web after apps (SDRS jobs)", jobs["app"], jobs["web"], 0)
	if n := harness.MaxOverlap(st["app"]); n > 1 {
		t.Errorf("apps: %d operations at once (status), maxConcurrent is 1: %+v", n, st["app"])
	}
	appOverlap := harness.MaxOverlap(jobs["app"])
	if appOverlap > 1 {
		t.Errorf("apps: %d reverse jobs at once in SDRS, maxConcurrent is 1: %+v", appOverlap, jobs["app"])
	}
	stamps := map[string]string{}
	for _, m := range mem {
		stamps[m.name] = "erp/r-0001/" + map[string]string{"db": "databases", "app": "apps", "web": "web"}[m.tier]
	}
	s.movedOnce(w, mem, stamps, nil)
	tally := s.planTally(mem, nil)

	// The same plan again: an unrelated annotation, then an unrelated spec
	// change that the plan must observe without touching a member.
	// A member's own status writes (the group controller's syncs) go on;
	// what the plan writes is the generation, the stamp, moved-at and its
	// field manager's entry, whose time changes with every apply that
	// changes something.
	type version struct {
		gen                       int64
		stamp, movedAt, planApply string
	}
	snap := func() map[string]version {
		out := map[string]version{}
		for _, m := range mem {
			cur := s.get(m.pg)
			v := version{gen: cur.Generation, stamp: cur.Annotations[drv1alpha1.PlanRunAnnotation], movedAt: cur.Annotations[drv1alpha1.PlanMovedAtAnnotation]}
			for _, mf := range cur.ManagedFields {
				if mf.Manager == drv1alpha1.PlanFieldManager && mf.Time != nil {
					v.planApply = string(mf.Operation) + "@" + mf.Time.UTC().Format(time.RFC3339)
				}
			}
			out[m.name] = v
		}
		return out
	}
	s.settled(w, mem)
	before := snap()
	s.updatePlan(plan, func(p *drv1alpha1.DRPlan) {
		if p.Annotations == nil {
			p.Annotations = map[string]string{}
		}
		p.Annotations["reliability.sdrs.io/applied"] = "again"
	})
	s.updatePlan(plan, func(p *drv1alpha1.DRPlan) { p.Spec.RTO = &metav1.Duration{Duration: 2 * time.Hour} })
	// The reconcile that observes the new generation applies members, if
	// it does, before it writes status: once status shows the generation,
	// any apply has happened.
	s.waitPlan(plan, relOpTimeout, func(p *drv1alpha1.DRPlan) (bool, string) {
		ok, why := harness.PlanObserved(p)
		return ok && harness.PlanCond(p, drv1alpha1.ReadyCondition).Status == metav1.ConditionTrue, why
	})
	after := snap()
	changed := 0
	for _, m := range mem {
		if before[m.name] != after[m.name] {
			changed++
			t.Errorf("%s changed by the plan after the second apply: %+v -> %+v", m.name, before[m.name], after[m.name])
		}
	}
	if r := plan.Status.Run; r == nil || r.ID != "r-0001" || len(plan.Status.History) != 1 {
		t.Errorf("the second apply started a run: %s", harness.DescribePlan(plan))
	}
	s.result("apps' first reverse job began %s after the databases' last ended (the 2s wait between), web's %s after the apps' last ended; apps at most %d at once (maxConcurrent 1); web untouched for %s waiting for approval and stamped only after it; run Succeeded %s after desiredActiveSite target; "+
		"%d groups: %s; %s; second apply: %d of %d members changed, no run started",
		ms(appGap), ms(webGap), appOverlap, ms(held), ms(took), tally.Groups, fmtCounts(tally.Actions), tally, changed, len(mem))
}

// relPlanKillBetweenMemberPatches: the manager is SIGKILLed right after
// the plan stamped the first member of a wave, twice.
func relPlanKillBetweenMemberPatches(t *testing.T, profile string) {
	s := newScenario(t, harness.Row{Order: 42, Area: planArea,
		Fault: "SIGKILL of the manager right after the first member's run stamp appeared (a watch of the ProtectionGroups): in wave 1 (4 groups, maxConcurrent 2, whose two patches come from one reconcile) and again in wave 2 (3 groups, maxConcurrent 1) with the next manager; 2s jobs",
		Assert: "each new manager rebuilds the run from the stamps and neither re-patches a stamped member nor exceeds maxConcurrent; the run (still r-0001) Succeeds; the watch saw exactly one moved-at value and one run stamp per member (its generation rose once); " +
			"exactly one reverse per group, 0 duplicate, 0 lost"},
		scenarioOptions{profile: profile, emulator: harness.EmulatorOptions{JobDuration: 2 * time.Second}})
	m1 := s.manager("m1")
	mem := s.planMembers("crm", [2]string{"a-1", "a"}, [2]string{"a-2", "a"}, [2]string{"a-3", "a"}, [2]string{"a-4", "a"},
		[2]string{"b-1", "b"}, [2]string{"b-2", "b"}, [2]string{"b-3", "b"})
	w := s.watchMembers()
	two, one := intstr.FromInt32(2), intstr.FromInt32(1)
	first, second := harness.TierWave("first", "a"), harness.TierWave("second", "b")
	first.MaxConcurrent, second.MaxConcurrent = &two, &one
	plan := s.newPlan("crm", "crm", []drv1alpha1.PlanWave{first, second},
		func(p *drv1alpha1.DRPlan) { p.Spec.DesiredActiveSite = drv1alpha1.SiteTarget })
	started := time.Now()

	// kill SIGKILLs m as soon as the watch shows the first member of wave
	// stamped, and says how many of that wave's members were stamped then.
	kill := func(m *harness.Manager, wave string) (time.Duration, int) {
		ev := s.await(w, "the first stamp of wave "+wave, stampOf("crm", "r-0001", wave))
		if err := m.Kill(); err != nil {
			t.Fatal(err)
		}
		after := time.Since(ev.At)
		var list drv1alpha1.ProtectionGroupList
		if err := s.cp.Client.List(s.ctx, &list, client.InNamespace(s.ns)); err != nil {
			t.Fatal(err)
		}
		n := 0
		for i := range list.Items {
			if stampOf("crm", "r-0001", wave)(harness.MemberEvent{Stamp: list.Items[i].Annotations[drv1alpha1.PlanRunAnnotation]}) {
				n++
			}
		}
		return after, n
	}
	kill1, stamped1 := kill(m1, "first")
	m2 := s.manager("m2")
	kill2, stamped2 := kill(m2, "second")
	killed := time.Now()
	s.manager("m3")
	s.waitPlan(plan, planRunTimeout, harness.RunPhaseIs(drv1alpha1.PlanSucceeded))
	took, since := time.Since(started), time.Since(killed)
	s.waitPlan(plan, relOpTimeout, func(p *drv1alpha1.DRPlan) (bool, string) {
		return harness.PlanCond(p, drv1alpha1.ReadyCondition).Status == metav1.ConditionTrue, harness.DescribePlan(p)
	})
	if r := plan.Status.Run; r.ID != "r-0001" || len(plan.Status.History) != 1 {
		t.Errorf("the restarts started another run: %s", harness.DescribePlan(plan))
	}
	for _, m := range mem {
		s.waitFor(m.pg, relOpTimeout, harness.ReadyAt(drv1alpha1.SiteTarget))
	}
	stamps := map[string]string{}
	for _, m := range mem {
		stamps[m.name] = "crm/r-0001/" + map[string]string{"a": "first", "b": "second"}[m.tier]
	}
	checked := s.movedOnce(w, mem, stamps, nil)
	lines := s.movedLines()
	logged := 0
	for _, m := range mem {
		logged += lines[m.name]
		if lines[m.name] > 1 {
			t.Errorf("%s: %d \"member moved\" log lines over the three managers, want at most 1", m.name, lines[m.name])
		}
	}
	a, b := ofTier(mem, "a"), ofTier(mem, "b")
	ja, jb := s.reverseJobs(a), s.reverseJobs(b)
	s.inOrder("wave second after wave first (SDRS jobs)", ja, jb, 0)
	if n := harness.MaxOverlap(ja); n > 2 {
		t.Errorf("wave first: %d reverse jobs at once, maxConcurrent is 2", n)
	}
	if n := harness.MaxOverlap(jb); n > 1 {
		t.Errorf("wave second: %d reverse jobs at once, maxConcurrent is 1", n)
	}
	tally := s.planTally(mem, nil)
	s.result("killed %s after the first stamp of wave 1 (%d of its members stamped then) and %s after the first of wave 2 (%d stamped); run r-0001 Succeeded %s after the second kill (%s in all); "+
		"one moved-at value and one stamp per member for all %d members (%d \"member moved\" lines logged); at most %d and %d reverse jobs at once; %d groups: %s; %s",
		kill1.Round(time.Millisecond), stamped1, kill2.Round(time.Millisecond), stamped2, ms(since), ms(took),
		checked, logged, harness.MaxOverlap(ja), harness.MaxOverlap(jb), tally.Groups, fmtCounts(tally.Actions), tally)
}

// relPlanFailedMemberStopRetry: a database member's reverse job fails;
// onMemberFailure Stop blocks the run until a Retry decision.
func relPlanFailedMemberStopRetry(t *testing.T, profile string) {
	s := newScenario(t, harness.Row{Order: 43, Area: planArea,
		Fault: "the reverse job of one of two database members ends FAIL with SDRS.1029 (onMemberFailure Stop; the next wave holds one app member); 1s jobs",
		Assert: "the run is Blocked and the plan Stalled=True naming the member, the failure recorded as JobFailed, the app wave untouched (no stamp, no reverse) across 4s of re-checks and no retry sent on its own; a Retry decision for the member re-applies it (a second moved-at, the retry annotation) and the run Succeeds, plan Ready=True; " +
			"the failed member's group carried out exactly two reverses (the failed one and the retry), the others one: 0 duplicate, 0 lost"},
		scenarioOptions{profile: profile, emulator: harness.EmulatorOptions{JobDuration: time.Second}})
	s.manager("m")
	mem := s.planMembers("hr", [2]string{"db-1", "db"}, [2]string{"db-2", "db"}, [2]string{"app-1", "app"})
	w := s.watchMembers()
	if err := s.emu.Admin.FailJobs(s.ctx, "reverseProtectionGroupNoCG", 1, "SDRS.1029", "injected by the reliability suite"); err != nil {
		t.Fatal(err)
	}
	plan := s.newPlan("hr", "hr", []drv1alpha1.PlanWave{harness.TierWave("databases", "db"), harness.TierWave("apps", "app")},
		func(p *drv1alpha1.DRPlan) { p.Spec.DesiredActiveSite = drv1alpha1.SiteTarget })
	started := time.Now()
	s.waitPlan(plan, planRunTimeout, harness.RunPhaseIs(drv1alpha1.PlanBlocked))
	blockedAfter := time.Since(started)
	if c := harness.PlanCond(plan, drv1alpha1.StalledCondition); c.Status != metav1.ConditionTrue || c.Reason != drv1alpha1.MemberFailedReason {
		t.Errorf("Stalled: %+v", c)
	}
	f := plan.Status.Run.Waves[0].Failures
	if len(f) != 1 || f[0].Reason != drv1alpha1.JobFailedReason {
		t.Fatalf("failures of the databases wave: %+v, want one JobFailed", f)
	}
	var failed, other *planMember
	for _, m := range ofTier(mem, "db") {
		if m.name == f[0].Member {
			failed = m
		} else {
			other = m
		}
	}
	if failed == nil {
		t.Fatalf("the failure names %s, not a database member", f[0].Member)
	}
	if c := harness.PlanCond(plan, drv1alpha1.StalledCondition); !strings.Contains(c.Message, failed.name) {
		t.Errorf("Stalled does not name %s: %s", failed.name, c.Message)
	}
	s.waitFor(other.pg, relOpTimeout, harness.ReadyAt(drv1alpha1.SiteTarget))
	app := ofTier(mem, "app")
	s.untouched(app, "blocked")
	time.Sleep(4 * time.Second)
	s.untouched(app, "4s into the block")
	s.waitPlan(plan, 5*time.Second, harness.RunPhaseIs(drv1alpha1.PlanBlocked))
	if n := harness.Accepted(s.calls(failed.groupID), "StartReverseProtectionGroup"); n != 1 {
		t.Errorf("%s: %d reverses carried out before the Retry decision, want the failed one", failed.name, n)
	}

	s.decide(plan, drv1alpha1.PlanDecision{Member: failed.name, Action: drv1alpha1.DecisionRetry, Note: "reliability suite"})
	decided := time.Now()
	s.waitPlan(plan, planRunTimeout, harness.RunPhaseIs(drv1alpha1.PlanSucceeded))
	recovered := time.Since(decided)
	s.waitPlan(plan, relOpTimeout, func(p *drv1alpha1.DRPlan) (bool, string) {
		c := harness.PlanCond(p, drv1alpha1.ReadyCondition)
		return c.Status == metav1.ConditionTrue && c.Reason == drv1alpha1.PlanAtDesiredSiteReason, harness.DescribePlan(p)
	})
	for _, m := range mem {
		s.waitFor(m.pg, relOpTimeout, harness.ReadyAt(drv1alpha1.SiteTarget))
	}
	if cur := s.get(failed.pg); cur.Annotations[drv1alpha1.RetryAnnotation] == "" {
		t.Errorf("%s: the retry was not asked of the group (no %s)", failed.name, drv1alpha1.RetryAnnotation)
	}
	stamps := map[string]string{}
	for _, m := range mem {
		stamps[m.name] = "hr/r-0001/" + map[string]string{"db": "databases", "app": "apps"}[m.tier]
	}
	s.movedOnce(w, mem, stamps, map[string]int{failed.name: 2})
	jobResult := "unknown"
	for _, j := range s.groupJobs(failed.groupID, "reverseProtectionGroupNoCG") {
		if j.Status == "FAIL" {
			jobResult = "FAIL " + j.ErrorCode
		}
	}
	tally := s.planTally(mem, map[string]map[string]int{failed.name: {"StartReverseProtectionGroup": 2}})
	s.result("Blocked (Stalled=True/MemberFailed naming %s, job %s) %s after desiredActiveSite target; apps untouched while blocked; Succeeded %s after the Retry decision; %d groups: %s; %s",
		failed.name, jobResult, ms(blockedAfter), ms(recovered), tally.Groups, fmtCounts(tally.Actions), tally)
}
