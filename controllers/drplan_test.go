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
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/util/intstr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	drv1alpha1 "github.com/sdrs-operator/sdrs-operator/api/v1alpha1"
	"github.com/sdrs-operator/sdrs-operator/internal/emutest"
	"github.com/sdrs-operator/sdrs-operator/test/e2e/harness"
)

// planMember is a ProtectionGroup of a plan test and its SDRS group.
type planMember struct {
	pg      *drv1alpha1.ProtectionGroup
	groupID string
}

// planMembers seeds one SDRS group per name and adopts it with the labels
// app=<app> and tier=<tier>, Ready at source.
func planMembers(t *testing.T, ns, app string, tiers map[string][]string) map[string]planMember {
	t.Helper()
	out := map[string]planMember{}
	for tier, names := range tiers {
		for _, name := range names {
			g := seedGroup(t, emutest.Group{Name: ns + "-" + name})
			pg := newPG(t, ns, name, g.ID, func(p *drv1alpha1.ProtectionGroup) {
				p.Labels = map[string]string{"app": app, "tier": tier}
			})
			out[name] = planMember{pg: pg, groupID: g.ID}
		}
	}
	for _, m := range out {
		waitFor(t, m.pg, "Ready at source", readyAt(drv1alpha1.SiteSource))
	}
	return out
}

func tierWave(name, tier string, mutate ...func(*drv1alpha1.PlanWave)) drv1alpha1.PlanWave {
	w := drv1alpha1.PlanWave{Name: name, Selector: metav1.LabelSelector{MatchLabels: map[string]string{"tier": tier}}}
	for _, m := range mutate {
		m(&w)
	}
	return w
}

func newPlan(t *testing.T, ns, name, app string, waves []drv1alpha1.PlanWave, mutate ...func(*drv1alpha1.DRPlan)) *drv1alpha1.DRPlan {
	t.Helper()
	p := &drv1alpha1.DRPlan{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
		Spec: drv1alpha1.DRPlanSpec{
			Selector: metav1.LabelSelector{MatchLabels: map[string]string{"app": app}},
			Waves:    waves,
		},
	}
	for _, m := range mutate {
		m(p)
	}
	if err := k8s.Create(context.Background(), p); err != nil {
		t.Fatalf("cannot create DRPlan: %v", err)
	}
	return p
}

func updatePlan(t *testing.T, p *drv1alpha1.DRPlan, change func(*drv1alpha1.DRPlan)) {
	t.Helper()
	NewWithT(t).Eventually(func() error {
		cur := &drv1alpha1.DRPlan{}
		if err := k8s.Get(context.Background(), client.ObjectKeyFromObject(p), cur); err != nil {
			return err
		}
		change(cur)
		return k8s.Update(context.Background(), cur)
	}, 10*time.Second, poll).Should(Succeed())
}

func decide(t *testing.T, p *drv1alpha1.DRPlan, d drv1alpha1.PlanDecision) {
	t.Helper()
	updatePlan(t, p, func(cur *drv1alpha1.DRPlan) {
		if d.Run == "" {
			d.Run = cur.Status.Run.ID
		}
		cur.Spec.Decisions = append(cur.Spec.Decisions, d)
	})
}

func waitForPlan(t *testing.T, p *drv1alpha1.DRPlan, what string, cond func(*drv1alpha1.DRPlan) bool) *drv1alpha1.DRPlan {
	t.Helper()
	var last *drv1alpha1.DRPlan
	deadline := time.Now().Add(2 * converge)
	for time.Now().Before(deadline) {
		cur := &drv1alpha1.DRPlan{}
		if err := k8s.Get(context.Background(), client.ObjectKeyFromObject(p), cur); err == nil {
			last = cur
			if cond(cur) {
				return cur
			}
		}
		<-time.After(poll)
	}
	t.Fatalf("timed out waiting for %s; last status:\n%s", what, describePlan(last))
	return nil
}

func describePlan(p *drv1alpha1.DRPlan) string {
	if p == nil {
		return "<none>"
	}
	var b strings.Builder
	for _, c := range p.Status.Conditions {
		fmt.Fprintf(&b, "  %s=%s %s: %s\n", c.Type, c.Status, c.Reason, c.Message)
	}
	if r := p.Status.Run; r != nil {
		fmt.Fprintf(&b, "  run %s %s %s: %s\n", r.ID, r.Phase, r.Reason, r.Message)
		for _, w := range r.Waves {
			fmt.Fprintf(&b, "    wave %s %s %+v failures=%+v steps=%+v\n", w.Name, w.Phase, w.Counts, w.Failures, w.Steps)
		}
	}
	return b.String()
}

func runPhase(phase drv1alpha1.PlanPhase) func(*drv1alpha1.DRPlan) bool {
	return func(p *drv1alpha1.DRPlan) bool { return p.Status.Run != nil && p.Status.Run.Phase == phase }
}

func planCondition(p *drv1alpha1.DRPlan, typ string) metav1.Condition {
	if c := meta.FindStatusCondition(p.Status.Conditions, typ); c != nil {
		return *c
	}
	return metav1.Condition{}
}

// lastSpan is when a member's last operation ran, from its own status.
func lastSpan(t *testing.T, m planMember) harness.Span {
	t.Helper()
	sp, ok := harness.LastSpan(get(t, m.pg))
	if !ok {
		t.Fatalf("%s has no finished operation", m.pg.Name)
	}
	return sp
}

// Three waves move in order: wave k+1 starts only after wave k's members
// are Ready at the site and its post-steps passed; maxConcurrent holds;
// an approval holds the last wave until a decision; each group is reversed
// exactly once; a second apply changes nothing.
func TestPlanMovesWavesInOrder(t *testing.T) {
	needEnv(t)
	ns := newNamespace(t)
	ms := planMembers(t, ns, "erp", map[string][]string{"db": {"db-1", "db-2"}, "app": {"app-1", "app-2", "app-3"}, "web": {"web-1", "web-2"}})
	one := intstr.FromInt32(1)
	plan := newPlan(t, ns, "erp", "erp", []drv1alpha1.PlanWave{
		tierWave("databases", "db", func(w *drv1alpha1.PlanWave) {
			w.PostSteps = []drv1alpha1.PlanStep{{Name: "settle", Wait: &drv1alpha1.WaitStep{Duration: metav1.Duration{Duration: time.Second}}}}
		}),
		tierWave("apps", "app", func(w *drv1alpha1.PlanWave) { w.MaxConcurrent = &one }),
		tierWave("web", "web", func(w *drv1alpha1.PlanWave) {
			w.PreSteps = []drv1alpha1.PlanStep{{Name: "go", Approval: &drv1alpha1.ApprovalStep{Message: "apps are up: move the web tier?"}}}
		}),
	}, func(p *drv1alpha1.DRPlan) { p.Spec.RTO = &metav1.Duration{Duration: time.Hour} })

	armed := waitForPlan(t, plan, "armed and Ready", func(p *drv1alpha1.DRPlan) bool {
		c := planCondition(p, drv1alpha1.ReadyCondition)
		return c.Status == metav1.ConditionTrue && c.Reason == drv1alpha1.PlanArmedReason && c.ObservedGeneration == p.Generation
	})
	if armed.Status.Run != nil {
		t.Fatalf("an armed plan started a run: %+v", armed.Status.Run)
	}

	updatePlan(t, plan, func(p *drv1alpha1.DRPlan) { p.Spec.DesiredActiveSite = drv1alpha1.SiteTarget })
	waiting := waitForPlan(t, plan, "waiting for approval of web/go", runPhase(drv1alpha1.PlanWaitingForApproval))
	if c := planCondition(waiting, drv1alpha1.WaitingForApprovalCondition); c.Status != metav1.ConditionTrue || !strings.Contains(c.Message, "web/go") {
		t.Errorf("WaitingForApproval: %+v", c)
	}
	for _, name := range []string{"web-1", "web-2"} {
		if pg := get(t, ms[name].pg); pg.Spec.DesiredActiveSite != drv1alpha1.SiteSource || pg.Annotations[drv1alpha1.PlanRunAnnotation] != "" {
			t.Errorf("%s moved before its approval: %s %v", name, pg.Spec.DesiredActiveSite, pg.Annotations)
		}
	}
	decide(t, plan, drv1alpha1.PlanDecision{Step: "web/go", Action: drv1alpha1.DecisionApprove, Note: "ops ticket 1"})
	done := waitForPlan(t, plan, "run succeeded", runPhase(drv1alpha1.PlanSucceeded))
	if c := planCondition(done, drv1alpha1.ReadyCondition); c.Status != metav1.ConditionTrue || c.Reason != drv1alpha1.PlanAtDesiredSiteReason {
		t.Errorf("Ready after the run: %+v", c)
	}
	if r := done.Status.Run; r.RTOMet == nil || !*r.RTOMet || r.Duration == nil || len(done.Status.History) != 1 {
		t.Errorf("RTO and history: %+v %+v", r, done.Status.History)
	}

	spans := map[string][]harness.Span{}
	for name, m := range ms {
		pg := waitFor(t, m.pg, "Ready at target", readyAt(drv1alpha1.SiteTarget))
		if n := calls(t, "StartReverseProtectionGroup", m.groupID); n != 1 {
			t.Errorf("%s: %d planned failovers, want exactly 1", name, n)
		}
		if !strings.HasPrefix(pg.Annotations[drv1alpha1.PlanRunAnnotation], "erp/r-0001/") {
			t.Errorf("%s: run stamp %q", name, pg.Annotations[drv1alpha1.PlanRunAnnotation])
		}
		tier := pg.Labels["tier"]
		spans[tier] = append(spans[tier], lastSpan(t, m))
	}
	latest := func(ss []harness.Span) time.Time {
		var l time.Time
		for _, s := range ss {
			if s.End.After(l) {
				l = s.End
			}
		}
		return l
	}
	for _, pair := range [][2]string{{"db", "app"}, {"app", "web"}} {
		for _, s := range spans[pair[1]] {
			if s.Start.Before(latest(spans[pair[0]])) {
				t.Errorf("%s started at %s, before wave %s ended at %s", s.Member, s.Start, pair[0], latest(spans[pair[0]]))
			}
		}
	}
	if n := harness.MaxOverlap(spans["app"]); n > 1 {
		t.Errorf("apps: %d members moved at once, maxConcurrent is 1", n)
	}
	t.Logf("apps overlap %d, db %d, web %d", harness.MaxOverlap(spans["app"]), harness.MaxOverlap(spans["db"]), harness.MaxOverlap(spans["web"]))

	// A second apply of the same plan moves nothing.
	gens := map[string]int64{}
	for name, m := range ms {
		gens[name] = get(t, m.pg).Generation
	}
	updatePlan(t, plan, func(p *drv1alpha1.DRPlan) {
		p.Annotations = map[string]string{"touched": "again"}
		p.Spec.RTO = &metav1.Duration{Duration: 2 * time.Hour}
	})
	again := waitForPlan(t, plan, "the new generation observed", func(p *drv1alpha1.DRPlan) bool {
		return p.Status.ObservedGeneration == p.Generation && planCondition(p, drv1alpha1.ReadyCondition).Status == metav1.ConditionTrue
	})
	if again.Status.Run.ID != "r-0001" || len(again.Status.History) != 1 {
		t.Errorf("a second apply started a run: %s, history %d", again.Status.Run.ID, len(again.Status.History))
	}
	for name, m := range ms {
		if g := get(t, m.pg).Generation; g != gens[name] {
			t.Errorf("%s was patched again: generation %d -> %d", name, gens[name], g)
		}
	}
}

// A failed member with onMemberFailure Stop blocks the run (Stalled) and
// holds the next wave; Retry resumes it; in the run back, Skip moves on.
func TestPlanFailedMemberRetryAndSkip(t *testing.T) {
	needEnv(t)
	ns := newNamespace(t)
	ms := planMembers(t, ns, "crm", map[string][]string{"db": {"crm-db"}, "app": {"crm-app"}})
	plan := newPlan(t, ns, "crm", "crm", []drv1alpha1.PlanWave{tierWave("databases", "db"), tierWave("apps", "app")})

	if err := admin.FailJobs(context.Background(), "reverseProtectionGroupNoCG", 1, "SDRS.1029", "planned failover failed (injected)"); err != nil {
		t.Fatal(err)
	}
	updatePlan(t, plan, func(p *drv1alpha1.DRPlan) { p.Spec.DesiredActiveSite = drv1alpha1.SiteTarget })
	blocked := waitForPlan(t, plan, "blocked on the failed member", runPhase(drv1alpha1.PlanBlocked))
	if c := planCondition(blocked, drv1alpha1.StalledCondition); c.Status != metav1.ConditionTrue || !strings.Contains(c.Message, "crm-db") {
		t.Errorf("Stalled: %+v", c)
	}
	if f := blocked.Status.Run.Waves[0].Failures; len(f) != 1 || f[0].Member != "crm-db" || f[0].Reason != drv1alpha1.JobFailedReason {
		t.Errorf("failures: %+v", f)
	}
	if pg := get(t, ms["crm-app"].pg); pg.Spec.DesiredActiveSite != drv1alpha1.SiteSource {
		t.Fatalf("the next wave moved while the run was blocked")
	}
	decide(t, plan, drv1alpha1.PlanDecision{Member: "crm-db", Action: drv1alpha1.DecisionRetry})
	waitForPlan(t, plan, "run succeeded after the retry", runPhase(drv1alpha1.PlanSucceeded))
	if n := calls(t, "StartReverseProtectionGroup", ms["crm-db"].groupID); n != 2 {
		t.Errorf("crm-db: %d accepted planned failovers, want 2 (the failed one and the retry)", n)
	}
	if n := calls(t, "StartReverseProtectionGroup", ms["crm-app"].groupID); n != 1 {
		t.Errorf("crm-app: %d planned failovers, want 1", n)
	}

	// Back to source: the database fails again, Skip moves on.
	if err := admin.FailJobs(context.Background(), "reverseProtectionGroupNoCG", 1, "SDRS.1029", "planned failover failed (injected)"); err != nil {
		t.Fatal(err)
	}
	updatePlan(t, plan, func(p *drv1alpha1.DRPlan) { p.Spec.DesiredActiveSite = drv1alpha1.SiteSource })
	waitForPlan(t, plan, "run 2 blocked", func(p *drv1alpha1.DRPlan) bool {
		return p.Status.Run.ID == "r-0002" && p.Status.Run.Phase == drv1alpha1.PlanBlocked
	})
	decide(t, plan, drv1alpha1.PlanDecision{Member: "crm-db", Action: drv1alpha1.DecisionSkip, Note: "fix later"})
	end := waitForPlan(t, plan, "run 2 succeeded with a skip", runPhase(drv1alpha1.PlanSucceeded))
	if c := end.Status.Run.Waves[0].Counts; c.Skipped != 1 || c.Failed != 0 {
		t.Errorf("databases counts after Skip: %+v", c)
	}
	waitFor(t, ms["crm-app"].pg, "app back at source", readyAt(drv1alpha1.SiteSource))
	if c := planCondition(end, drv1alpha1.ReadyCondition); c.Status == metav1.ConditionTrue {
		t.Errorf("Ready with a skipped member not at source: %+v", c)
	}
}

// A member held by another plan's live run waits; a member in two waves
// makes the plan invalid and no run starts.
func TestPlanClaimsAndInvalidPlacement(t *testing.T) {
	needEnv(t)
	ns := newNamespace(t)
	ms := planMembers(t, ns, "hr", map[string][]string{"db": {"hr-db"}, "web": {"hr-web"}})
	first := newPlan(t, ns, "first", "hr", []drv1alpha1.PlanWave{
		tierWave("databases", "db"),
		tierWave("web", "web", func(w *drv1alpha1.PlanWave) {
			w.PreSteps = []drv1alpha1.PlanStep{{Name: "hold", Approval: &drv1alpha1.ApprovalStep{Message: "hold"}}}
		}),
	}, func(p *drv1alpha1.DRPlan) { p.Spec.DesiredActiveSite = drv1alpha1.SiteTarget })
	waitForPlan(t, first, "first waits for approval", runPhase(drv1alpha1.PlanWaitingForApproval))

	second := newPlan(t, ns, "second", "hr", []drv1alpha1.PlanWave{tierWave("all", "db")},
		func(p *drv1alpha1.DRPlan) {
			p.Spec.Selector = metav1.LabelSelector{MatchLabels: map[string]string{"tier": "db"}}
			p.Spec.DesiredActiveSite = drv1alpha1.SiteTarget
		})
	held := waitForPlan(t, second, "second waits for the claimed member", func(p *drv1alpha1.DRPlan) bool {
		return p.Status.Run != nil && strings.Contains(p.Status.Run.Message, "claimed by another run")
	})
	if held.Status.Members == nil || held.Status.Members.ClaimedElsewhere != 1 {
		t.Errorf("members: %+v", held.Status.Members)
	}
	decide(t, first, drv1alpha1.PlanDecision{Step: "web/hold", Action: drv1alpha1.DecisionApprove})
	waitForPlan(t, first, "first succeeded", runPhase(drv1alpha1.PlanSucceeded))
	waitForPlan(t, second, "second succeeded", runPhase(drv1alpha1.PlanSucceeded))
	if n := calls(t, "StartReverseProtectionGroup", ms["hr-db"].groupID); n != 1 {
		t.Errorf("hr-db: %d planned failovers, want 1", n)
	}

	bad := newPlan(t, ns, "overlap", "hr", []drv1alpha1.PlanWave{
		tierWave("a", "db"),
		{Name: "b", Selector: metav1.LabelSelector{MatchLabels: map[string]string{"app": "hr"}}},
	}, func(p *drv1alpha1.DRPlan) { p.Spec.DesiredActiveSite = drv1alpha1.SiteSource })
	invalid := waitForPlan(t, bad, "invalid", func(p *drv1alpha1.DRPlan) bool {
		return planCondition(p, drv1alpha1.ValidCondition).Status == metav1.ConditionFalse
	})
	if c := planCondition(invalid, drv1alpha1.ValidCondition); !strings.Contains(c.Message, "hr-db (a, b)") {
		t.Errorf("Valid must name the member and its waves: %s", c.Message)
	}
	if invalid.Status.Run != nil || planCondition(invalid, drv1alpha1.StalledCondition).Status != metav1.ConditionTrue {
		t.Errorf("an invalid plan started a run or is not Stalled: %s", describePlan(invalid))
	}
}

// Argo CD applying the member without desiredActiveSite (what
// ignoreDifferences with managedFieldsManagers and
// RespectIgnoreDifferences send) leaves the plan's site in place; someone
// setting the site back is reported as MemberDiverged, not fought.
func TestPlanFieldOwnershipWithAnotherApplier(t *testing.T) {
	needEnv(t)
	ns := newNamespace(t)
	ms := planMembers(t, ns, "fin", map[string][]string{"db": {"fin-db"}})
	pg := ms["fin-db"].pg
	argo := func(spec map[string]any, force bool) error {
		u := &unstructured.Unstructured{Object: map[string]any{
			"apiVersion": drv1alpha1.GroupVersion.String(), "kind": "ProtectionGroup",
			"metadata": map[string]any{"name": pg.Name, "namespace": ns, "labels": map[string]any{"app": "fin", "tier": "db"}},
			"spec":     spec,
		}}
		opts := []client.ApplyOption{client.FieldOwner("argocd-controller")}
		if force {
			opts = append(opts, client.ForceOwnership)
		}
		return k8s.Apply(context.Background(), client.ApplyConfigurationFromUnstructured(u), opts...)
	}
	// Argo CD first owns the whole spec, site included.
	if err := argo(map[string]any{"protectionGroupID": ms["fin-db"].groupID, "desiredActiveSite": "source"}, true); err != nil {
		t.Fatal(err)
	}
	plan := newPlan(t, ns, "fin", "fin", []drv1alpha1.PlanWave{tierWave("databases", "db")},
		func(p *drv1alpha1.DRPlan) { p.Spec.DesiredActiveSite = drv1alpha1.SiteTarget })
	waitForPlan(t, plan, "run succeeded", runPhase(drv1alpha1.PlanSucceeded))
	waitFor(t, pg, "Ready at target", readyAt(drv1alpha1.SiteTarget))

	// A sync that leaves the site out does not undo the wave.
	if err := argo(map[string]any{"protectionGroupID": ms["fin-db"].groupID}, false); err != nil {
		t.Fatalf("an apply without desiredActiveSite was refused: %v", err)
	}
	if cur := get(t, pg); cur.Spec.DesiredActiveSite != drv1alpha1.SiteTarget {
		t.Fatalf("another manager's apply undid the wave: %s", cur.Spec.DesiredActiveSite)
	}
	// A sync that forces the old site back is reported, not fought.
	if err := argo(map[string]any{"protectionGroupID": ms["fin-db"].groupID, "desiredActiveSite": "source"}, true); err != nil {
		t.Fatal(err)
	}
	diverged := waitForPlan(t, plan, "MemberDiverged reported", func(p *drv1alpha1.DRPlan) bool {
		return p.Status.Members != nil && p.Status.Members.Diverged == 1
	})
	if c := planCondition(diverged, drv1alpha1.ReadyCondition); c.Status == metav1.ConditionTrue {
		t.Errorf("Ready with a diverged member: %+v", c)
	}
	waitFor(t, pg, "back at source by the other applier", readyAt(drv1alpha1.SiteSource))
	if cur := get(t, pg); cur.Spec.DesiredActiveSite != drv1alpha1.SiteSource {
		t.Errorf("the plan fought the other applier: %s", cur.Spec.DesiredActiveSite)
	}
	if n := calls(t, "StartReverseProtectionGroup", ms["fin-db"].groupID); n != 2 {
		t.Errorf("%d planned failovers, want 2 (the plan's and the other applier's)", n)
	}
}

// A drill run creates one ProtectionGroupDrill per member, wave by wave,
// and succeeds when they are available; nothing moves.
func TestPlanDrillRun(t *testing.T) {
	needEnv(t)
	ns := newNamespace(t)
	ms := planMembers(t, ns, "ops", map[string][]string{"db": {"ops-db"}, "app": {"ops-app"}})
	plan := newPlan(t, ns, "ops", "ops", []drv1alpha1.PlanWave{tierWave("databases", "db"), tierWave("apps", "app")},
		func(p *drv1alpha1.DRPlan) { p.Spec.Drill = &drv1alpha1.PlanDrill{Request: "2026-q4"} })
	done := waitForPlan(t, plan, "drill run succeeded", runPhase(drv1alpha1.PlanSucceeded))
	if done.Status.Run.Mode != drv1alpha1.PlanModeDrill || done.Status.Run.DrillRequest != "2026-q4" {
		t.Errorf("run: %+v", done.Status.Run)
	}
	var drills drv1alpha1.ProtectionGroupDrillList
	if err := k8s.List(context.Background(), &drills, client.InNamespace(ns)); err != nil {
		t.Fatal(err)
	}
	if len(drills.Items) != 2 {
		t.Fatalf("%d drills, want one per member", len(drills.Items))
	}
	for name, m := range ms {
		if n := calls(t, "CreateDisasterRecoveryDrill", m.groupID); n != 1 {
			t.Errorf("%s: %d drills created in SDRS, want 1", name, n)
		}
		if pg := get(t, m.pg); pg.Spec.DesiredActiveSite != drv1alpha1.SiteSource {
			t.Errorf("%s moved in a drill run", name)
		}
	}
	// The same request token again is a no-op.
	updatePlan(t, plan, func(p *drv1alpha1.DRPlan) { p.Spec.Drill.TTL = &metav1.Duration{Duration: time.Hour} })
	again := waitForPlan(t, plan, "observed", func(p *drv1alpha1.DRPlan) bool { return p.Status.ObservedGeneration == p.Generation })
	if again.Status.Run.ID != "r-0001" {
		t.Errorf("the same drill request started run %s", again.Status.Run.ID)
	}
}

// A job step runs one Job (named from the plan, run, wave and step) and
// its success lets the next wave start; a change of desiredActiveSite
// while the next wave waits in its pre-steps ends the run as superseded
// and starts a new run to the new site; suspend holds a new run.
func TestPlanJobStepSupersedeAndSuspend(t *testing.T) {
	needEnv(t)
	ns := newNamespace(t)
	ms := planMembers(t, ns, "pay", map[string][]string{"db": {"pay-db"}, "app": {"pay-app"}})
	job := &drv1alpha1.JobStep{Template: batchv1.JobTemplateSpec{Spec: batchv1.JobSpec{Template: corev1.PodTemplateSpec{
		Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "check", Image: "example/check:1"}}}}}}}
	plan := newPlan(t, ns, "pay", "pay", []drv1alpha1.PlanWave{
		tierWave("databases", "db", func(w *drv1alpha1.PlanWave) {
			w.PostSteps = []drv1alpha1.PlanStep{{Name: "check", Job: job}}
		}),
		tierWave("apps", "app", func(w *drv1alpha1.PlanWave) {
			w.PreSteps = []drv1alpha1.PlanStep{{Name: "go", Approval: &drv1alpha1.ApprovalStep{Message: "go?"}}}
		}),
	}, func(p *drv1alpha1.DRPlan) { p.Spec.DesiredActiveSite = drv1alpha1.SiteTarget })

	running := waitForPlan(t, plan, "the check Job started", func(p *drv1alpha1.DRPlan) bool {
		r := p.Status.Run
		return r != nil && len(r.Waves[0].Steps) == 1 && r.Waves[0].Steps[0].JobName != ""
	})
	name := running.Status.Run.Waves[0].Steps[0].JobName
	if name != "pay-r-0001-databases-check" {
		t.Errorf("Job name %q", name)
	}
	var jobs batchv1.JobList
	if err := k8s.List(context.Background(), &jobs, client.InNamespace(ns)); err != nil {
		t.Fatal(err)
	}
	if len(jobs.Items) != 1 {
		t.Fatalf("%d Jobs, want 1", len(jobs.Items))
	}
	env := map[string]string{}
	for _, e := range jobs.Items[0].Spec.Template.Spec.Containers[0].Env {
		env[e.Name] = e.Value
	}
	if env["SDRS_RUN_ID"] != "r-0001" || env["SDRS_TO_SITE"] != "target" || env["SDRS_WAVE"] != "databases" {
		t.Errorf("Job environment: %v", env)
	}
	if pg := get(t, ms["pay-app"].pg); pg.Spec.DesiredActiveSite != drv1alpha1.SiteSource {
		t.Fatalf("apps moved before the databases' Job passed")
	}
	completeNamedJob(t, ns, name)
	waitForPlan(t, plan, "waiting for approval of apps/go", runPhase(drv1alpha1.PlanWaitingForApproval))

	// Superseded while apps waits in its pre-steps: nothing of apps moved.
	updatePlan(t, plan, func(p *drv1alpha1.DRPlan) { p.Spec.DesiredActiveSite = drv1alpha1.SiteSource })
	waitForPlan(t, plan, "run 2's check Job started", func(p *drv1alpha1.DRPlan) bool {
		r := p.Status.Run
		return r.ID == "r-0002" && len(r.Waves[0].Steps) == 1 && r.Waves[0].Steps[0].JobName == "pay-r-0002-databases-check"
	})
	completeNamedJob(t, ns, "pay-r-0002-databases-check")
	second := waitForPlan(t, plan, "run 2 waits for approval", func(p *drv1alpha1.DRPlan) bool {
		return p.Status.Run.ID == "r-0002" && p.Status.Run.Phase == drv1alpha1.PlanWaitingForApproval
	})
	if h := second.Status.History; len(h) != 1 || h[0].ID != "r-0001" || h[0].Phase != drv1alpha1.PlanAborted {
		t.Errorf("history: %+v", h)
	}
	if second.Status.Run.ToSite != drv1alpha1.SiteSource {
		t.Errorf("run 2 goes to %s", second.Status.Run.ToSite)
	}
	waitFor(t, ms["pay-db"].pg, "db back at source", readyAt(drv1alpha1.SiteSource))
	if pg := get(t, ms["pay-app"].pg); pg.Annotations[drv1alpha1.PlanRunAnnotation] != "" {
		t.Errorf("apps was moved by a superseded run: %v", pg.Annotations)
	}

	// Suspended: the approval does not let apps start (nothing new starts).
	updatePlan(t, plan, func(p *drv1alpha1.DRPlan) { p.Spec.Suspend = true })
	waitForPlan(t, plan, "Ready False Suspended", func(p *drv1alpha1.DRPlan) bool {
		return planCondition(p, drv1alpha1.ReadyCondition).Reason == drv1alpha1.PlanSuspendedReason && p.Status.ObservedGeneration == p.Generation
	})
	decide(t, plan, drv1alpha1.PlanDecision{Step: "apps/go", Action: drv1alpha1.DecisionApprove})
	updatePlan(t, plan, func(p *drv1alpha1.DRPlan) { p.Spec.Suspend = false })
	end := waitForPlan(t, plan, "run 2 succeeded", runPhase(drv1alpha1.PlanSucceeded))
	if end.Status.Run.ID != "r-0002" {
		t.Errorf("run %s", end.Status.Run.ID)
	}
	for name, m := range ms {
		if n := calls(t, "StartReverseProtectionGroup", m.groupID); n != map[string]int{"pay-db": 2, "pay-app": 0}[name] {
			t.Errorf("%s: %d planned failovers", name, n)
		}
	}
}

// completeNamedJob completes the Job of that name (envtest runs no pods).
func completeNamedJob(t *testing.T, ns, name string) {
	t.Helper()
	j := &batchv1.Job{}
	if err := k8s.Get(context.Background(), client.ObjectKey{Namespace: ns, Name: name}, j); err != nil {
		t.Fatal(err)
	}
	completeJob(t, j)
}
