package plugin_test

import (
	"bytes"
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/util/retry"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/interceptor"

	drv1alpha1 "github.com/sdrs-operator/sdrs-operator/api/v1alpha1"
	"github.com/sdrs-operator/sdrs-operator/internal/plugin/cli"
	"github.com/sdrs-operator/sdrs-operator/internal/plugin/plan"
)

// TestPlanAgainstAPIServer runs the plan verbs through the root command
// against a real API server: the DRPlan CRD's validation (CEL on
// decisions included), generations, resourceVersion preconditions and
// status subresource are the real ones. No plan controller runs; the test
// plays it by writing status.run through the status subresource once the
// plugin's patch has landed (a watch says when).
func TestPlanAgainstAPIServer(t *testing.T) {
	if testing.Short() {
		t.Skip("needs the pinned control plane (make control-plane); -short runs the unit tests only")
	}
	ctx := t.Context()
	c, kubeconfig := startAPIServer(t)
	w := kubeconfigClient(t, kubeconfig)
	run := func(args ...string) result {
		code, out, stderr := execute(append([]string{"--kubeconfig", kubeconfig, "-n", "dr"}, args...)...)
		return result{code, out, stderr}
	}
	start := func(args ...string) <-chan result {
		done := make(chan result, 1)
		go func() { done <- run(args...) }()
		return done
	}
	get := func(t *testing.T) *drv1alpha1.DRPlan {
		t.Helper()
		var p drv1alpha1.DRPlan
		if err := c.Get(ctx, client.ObjectKey{Namespace: "dr", Name: "erp"}, &p); err != nil {
			t.Fatal(err)
		}
		return &p
	}
	// setRun plays the plan controller: it writes status.run (and the
	// observed generation) through the status subresource.
	setRun := func(t *testing.T, r *drv1alpha1.PlanRun) {
		t.Helper()
		err := retry.RetryOnConflict(retry.DefaultRetry, func() error {
			p := get(t)
			p.Status.ObservedGeneration, p.Status.Run = p.Generation, r.DeepCopy()
			return c.Status().Update(ctx, p)
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	createGroup(t, c, "erp-db", map[string]string{"app": "erp", "tier": "db"})
	createGroup(t, c, "erp-web", map[string]string{"app": "erp", "tier": "web"})
	erp := &drv1alpha1.DRPlan{
		ObjectMeta: metav1.ObjectMeta{Name: "erp", Namespace: "dr"},
		Spec: drv1alpha1.DRPlanSpec{
			Selector:          metav1.LabelSelector{MatchLabels: map[string]string{"app": "erp"}},
			DesiredActiveSite: drv1alpha1.SiteSource,
			RTO:               &metav1.Duration{Duration: 30 * time.Minute},
			Waves: []drv1alpha1.PlanWave{
				{Name: "db", Selector: metav1.LabelSelector{MatchLabels: map[string]string{"tier": "db"}},
					PreSteps: []drv1alpha1.PlanStep{{Name: "confirm", Approval: &drv1alpha1.ApprovalStep{Message: "Confirm the DB replicas are in sync"}}}},
				{Name: "web", Selector: metav1.LabelSelector{MatchLabels: map[string]string{"tier": "web"}},
					PostSteps: []drv1alpha1.PlanStep{{Name: "smoke", Wait: &drv1alpha1.WaitStep{Duration: metav1.Duration{Duration: time.Minute}}}}},
			},
		},
	}
	if err := c.Create(ctx, erp); err != nil {
		t.Fatal(err)
	}
	if err := c.Create(ctx, &drv1alpha1.DRPlan{ObjectMeta: metav1.ObjectMeta{Name: "idle", Namespace: "dr"}, Spec: *erp.Spec.DeepCopy()}); err != nil {
		t.Fatal(err)
	}
	// runTo is a run of erp to site in phase, with the approval db/confirm
	// in the given phase.
	runTo := func(id string, site drv1alpha1.Site, phase drv1alpha1.PlanPhase, confirm drv1alpha1.StepPhase) *drv1alpha1.PlanRun {
		r := &drv1alpha1.PlanRun{ID: id, Mode: drv1alpha1.PlanModeFailover, ToSite: site, Phase: phase,
			StartedAt: metav1.NewTime(time.Now().Add(-5 * time.Minute).Truncate(time.Second)), CurrentWave: "db",
			Waves: []drv1alpha1.PlanWaveStatus{
				{Name: "db", Phase: phase, Counts: drv1alpha1.PlanCounts{Total: 1, Pending: 1},
					Steps: []drv1alpha1.PlanStepStatus{{Name: "confirm", Stage: "Pre", Type: "approval", Phase: confirm}}},
				{Name: "web", Phase: drv1alpha1.PlanPending, Counts: drv1alpha1.PlanCounts{Total: 1, Pending: 1},
					Steps: []drv1alpha1.PlanStepStatus{{Name: "smoke", Stage: "Post", Type: "wait", Phase: drv1alpha1.StepPending}}},
			}}
		if confirm == drv1alpha1.StepWaitingForApproval {
			r.Reason, r.Message = drv1alpha1.ApprovalRequiredReason, "step db/confirm waits for an approval"
			r.Waves[0].Steps[0].Message = "Confirm the DB replicas are in sync"
		}
		return r
	}
	// awaitPlan watches erp until ok says so.
	awaitPlan := func(t *testing.T, what string, ok func(*drv1alpha1.DRPlan) bool) *drv1alpha1.DRPlan {
		t.Helper()
		wctx, cancel := context.WithTimeout(ctx, time.Minute)
		defer cancel()
		watch, err := w.Watch(wctx, &drv1alpha1.DRPlanList{}, client.InNamespace("dr"), client.MatchingFields{"metadata.name": "erp"})
		if err != nil {
			t.Fatal(err)
		}
		defer watch.Stop()
		for ev := range watch.ResultChan() {
			if p, isPlan := ev.Object.(*drv1alpha1.DRPlan); isPlan && ok(p) {
				return p
			}
		}
		t.Fatalf("erp never showed %s", what)
		return nil
	}
	decisionsAtLeast := func(n int) func(*drv1alpha1.DRPlan) bool {
		return func(p *drv1alpha1.DRPlan) bool { return len(p.Spec.Decisions) >= n }
	}

	t.Run("failover patches spec.desiredActiveSite only", func(t *testing.T) {
		before := get(t)
		r := run("plan", "failover", "erp")
		if r.code != 0 || r.out != "drplan.dr.sdrs.io/erp patched\n  spec.desiredActiveSite: source -> target\n  follow the run: kubectl sdrs plan status erp -n dr\n" {
			t.Fatalf("exit %d, stdout %q, stderr %q", r.code, r.out, r.err)
		}
		after := get(t)
		if after.Spec.DesiredActiveSite != drv1alpha1.SiteTarget || after.Generation != before.Generation+1 ||
			after.Spec.FailoverMode != before.Spec.FailoverMode || len(after.Spec.Decisions) != 0 {
			t.Errorf("spec %+v, generation %d", after.Spec, after.Generation)
		}
		if r := run("plan", "failover", "erp"); r.code != 0 || !strings.Contains(r.out, "unchanged: spec.desiredActiveSite is already target") {
			t.Errorf("again: exit %d, stdout %q", r.code, r.out)
		}
		if get(t).ResourceVersion != after.ResourceVersion {
			t.Errorf("the second failover changed the plan")
		}
	})

	t.Run("refusals exit 2 and change nothing", func(t *testing.T) {
		setRun(t, runTo("r-0001", drv1alpha1.SiteTarget, drv1alpha1.PlanWaitingForApproval, drv1alpha1.StepWaitingForApproval))
		rv := get(t).ResourceVersion
		for _, tc := range []struct {
			args []string
			want string
		}{
			{[]string{"plan", "failback", "erp", "--mode", "Forced"}, "pass --allow-data-loss"},
			{[]string{"plan", "skip", "erp"}, "needs --step"},
			{[]string{"plan", "retry", "erp", "--step", "db/nope"}, `wave db of run r-0001 has no step "nope"`},
			{[]string{"plan", "skip", "erp", "--step", "apps/smoke"}, `run r-0001 has no wave "apps"`},
			{[]string{"plan", "approve", "erp", "--step", "web/smoke"}, "is a wait step, not an approval"},
			{[]string{"plan", "abort", "erp", "--run", "r-0009"}, "shows no run r-0009"},
			{[]string{"plan", "abort", "idle"}, "has no run yet"},
		} {
			if r := run(tc.args...); r.code != cli.ExitUsage || !strings.Contains(r.err, tc.want) {
				t.Errorf("%v: exit %d, stderr %q, want 2 and %q", tc.args, r.code, r.err, tc.want)
			}
		}
		if get(t).ResourceVersion != rv {
			t.Errorf("a refusal changed the plan")
		}
	})

	t.Run("status shows the run waiting for approval", func(t *testing.T) {
		r := run("plan", "status", "erp")
		for _, want := range []string{
			"Desired:    target (failoverMode not set: each member keeps its own)\n",
			"Run:        r-0001, Failover to target: WaitingForApproval (ApprovalRequired: step db/confirm waits for an approval)\n",
			"db     WaitingForApproval   1       1         0            0           0        0\n",
			"db/confirm   Pre     approval   WaitingForApproval   0         -     Confirm the DB replicas are in sync\n",
			"  approve it: kubectl sdrs plan approve erp --step db/confirm -n dr\n",
		} {
			if r.code != 0 || !strings.Contains(r.out, want) {
				t.Errorf("exit %d, stdout lacks %q:\n%s", r.code, want, r.out)
			}
		}
	})

	t.Run("approve without --step picks the waiting step; --wait exits 4 when the run then blocks", func(t *testing.T) {
		done := start("plan", "approve", "erp", "--wait", "--timeout", "1m")
		p := awaitPlan(t, "the approval", decisionsAtLeast(1))
		d := p.Spec.Decisions[0]
		if d.Run != "r-0001" || d.Step != "db/confirm" || d.Action != drv1alpha1.DecisionApprove || d.Member != "" ||
			!strings.HasPrefix(d.Note, "kubectl sdrs by envtest at ") {
			t.Errorf("decision %+v", d)
		}
		r1 := runTo("r-0001", drv1alpha1.SiteTarget, drv1alpha1.PlanBlocked, drv1alpha1.StepSucceeded)
		r1.Reason, r1.Message, r1.CurrentWave = drv1alpha1.RunBlockedReason, "member erp-web failed in wave web", "web"
		r1.Decisions = []drv1alpha1.AppliedDecision{{Step: "db/confirm", Action: drv1alpha1.DecisionApprove, Note: d.Note, At: metav1.Now()}}
		r1.Waves[0].Phase, r1.Waves[0].Counts = drv1alpha1.PlanSucceeded, drv1alpha1.PlanCounts{Total: 1, Succeeded: 1}
		r1.Waves[1].Phase, r1.Waves[1].Counts = drv1alpha1.PlanBlocked, drv1alpha1.PlanCounts{Total: 1, Failed: 1}
		r1.Waves[1].Failures = []drv1alpha1.MemberFailure{{Member: "erp-web", Reason: "JobFailed", Message: "SDRS job failed"}}
		setRun(t, r1)
		r := <-done
		if r.code != cli.ExitStalled || !strings.Contains(r.out, "  step db/confirm: the one step waiting for approval (Confirm the DB replicas are in sync)\n") ||
			!strings.Contains(r.out, "  wave web: member erp-web failed: JobFailed: SDRS job failed\n") ||
			!strings.Contains(r.out, "  decide: kubectl sdrs plan retry erp --member erp-web -n dr, kubectl sdrs plan skip erp --member erp-web -n dr, or kubectl sdrs plan abort erp -n dr\n") ||
			!strings.Contains(r.err, "run r-0001 to target Blocked (RunBlocked: member erp-web failed in wave web)") {
			t.Errorf("exit %d, stdout:\n%s\nstderr %q", r.code, r.out, r.err)
		}
	})

	t.Run("a concurrent append is not lost", func(t *testing.T) {
		// Bob appends between this command's read and its write: the
		// write carries the resourceVersion read, the API server refuses
		// it (409), and the command reads and appends again.
		var once sync.Once
		theirs := drv1alpha1.PlanDecision{Run: "r-0001", Member: "erp-db", Action: drv1alpha1.DecisionSkip, Note: "bob"}
		racing := interceptor.NewClient(w, interceptor.Funcs{
			Patch: func(ctx context.Context, cl client.WithWatch, obj client.Object, patch client.Patch, opts ...client.PatchOption) error {
				once.Do(func() {
					p := get(t)
					p.Spec.Decisions = append(p.Spec.Decisions, theirs)
					if err := c.Update(ctx, p); err != nil {
						t.Error(err)
					}
				})
				return cl.Patch(ctx, obj, patch, opts...)
			},
		})
		var out, errOut bytes.Buffer
		env := &cli.Env{Client: racing, Namespace: "dr", Out: &out, ErrOut: &errOut, Now: time.Now}
		err := plan.Decide(ctx, env, plan.DecideOptions{Common: plan.Common{Name: "erp", Timeout: time.Minute},
			Action: drv1alpha1.DecisionRetry, Member: "erp-web", Note: "alice"})
		if err != nil || !strings.Contains(out.String(), "(1 conflicting writes): read again") {
			t.Fatalf("err %v, stdout %q, stderr %q", err, out.String(), errOut.String())
		}
		ds := get(t).Spec.Decisions
		if len(ds) != 3 || ds[1] != theirs || ds[2].Member != "erp-web" || ds[2].Action != drv1alpha1.DecisionRetry || ds[2].Note != "alice" {
			t.Errorf("decisions %+v", ds)
		}
		// Two runbooks at once, through the root command: both land.
		a, b := start("plan", "skip", "erp", "--step", "web/smoke", "--note", "a"), start("plan", "retry", "erp", "--step", "web/smoke", "--note", "b")
		for _, r := range []result{<-a, <-b} {
			if r.code != 0 {
				t.Errorf("exit %d, stdout %q, stderr %q", r.code, r.out, r.err)
			}
		}
		ds = get(t).Spec.Decisions
		notes := map[string]bool{}
		for _, d := range ds {
			notes[d.Note] = true
		}
		if len(ds) != 5 || !notes["a"] || !notes["b"] || !notes["bob"] || !notes["alice"] {
			t.Errorf("decisions %+v", ds)
		}
	})

	t.Run("the same decision again while it is not used yet changes nothing", func(t *testing.T) {
		rv := get(t).ResourceVersion
		r := run("plan", "retry", "erp", "--member", "erp-web")
		if r.code != 0 || r.out != "drplan.dr.sdrs.io/erp unchanged: spec.decisions already holds Retry member erp-web for run r-0001, not used yet\n" {
			t.Errorf("exit %d, stdout %q, stderr %q", r.code, r.out, r.err)
		}
		if get(t).ResourceVersion != rv {
			t.Errorf("the plan changed")
		}
	})

	t.Run("skip --wait exits 0 when the run succeeds", func(t *testing.T) {
		n := len(get(t).Spec.Decisions)
		done := start("plan", "skip", "erp", "--member", "erp-web", "--note", "again", "--wait", "--timeout", "1m")
		awaitPlan(t, "the skip", decisionsAtLeast(n+1))
		r1 := runTo("r-0001", drv1alpha1.SiteTarget, drv1alpha1.PlanSucceeded, drv1alpha1.StepSucceeded)
		r1.Decisions = []drv1alpha1.AppliedDecision{{Member: "erp-web", Action: drv1alpha1.DecisionSkip, Note: "again", At: metav1.Now()}}
		r1.CurrentWave, r1.FinishedAt, r1.Duration = "web", &metav1.Time{Time: time.Now()}, &metav1.Duration{Duration: 7 * time.Minute}
		for i := range r1.Waves {
			r1.Waves[i].Phase, r1.Waves[i].Counts = drv1alpha1.PlanSucceeded, drv1alpha1.PlanCounts{Total: 1, Succeeded: 1}
		}
		setRun(t, r1)
		r := <-done
		if r.code != 0 || !strings.Contains(r.out, "drplan.dr.sdrs.io/erp: run r-0001 to target Succeeded in 7m0s (RTO 30m0s); wave web Succeeded") {
			t.Errorf("exit %d, stdout:\n%s\nstderr %q", r.code, r.out, r.err)
		}
	})

	t.Run("failback --wait exits 10 when the new run waits for an approval", func(t *testing.T) {
		done := start("plan", "failback", "erp", "--wait", "--timeout", "1m")
		awaitPlan(t, "desiredActiveSite source", func(p *drv1alpha1.DRPlan) bool { return p.Spec.DesiredActiveSite == drv1alpha1.SiteSource })
		setRun(t, runTo("r-0002", drv1alpha1.SiteSource, drv1alpha1.PlanWaitingForApproval, drv1alpha1.StepWaitingForApproval))
		r := <-done
		if r.code != plan.ExitWaitingForApproval ||
			!strings.Contains(r.out, "  step db/confirm waits for approval: Confirm the DB replicas are in sync\n  approve it: kubectl sdrs plan approve erp --step db/confirm -n dr\n") ||
			!strings.Contains(r.err, "the plan waits for an approval of step db/confirm: kubectl sdrs plan approve erp --step db/confirm -n dr") {
			t.Errorf("exit %d, stdout:\n%s\nstderr %q", r.code, r.out, r.err)
		}
	})

	t.Run("failover --wait exits 3 when no run starts", func(t *testing.T) {
		r := run("plan", "failover", "erp", "--wait", "--timeout", "3s")
		if r.code != cli.ExitTimeout || !strings.Contains(r.err, "timed out after 3s") ||
			!strings.Contains(r.out, "waiting for the controller to start a run to target") {
			t.Errorf("exit %d, stdout:\n%s\nstderr %q", r.code, r.out, r.err)
		}
	})

	t.Run("failback --wait exits 5 when someone sets another site", func(t *testing.T) {
		done := start("plan", "failback", "erp", "--wait", "--timeout", "1m")
		p := awaitPlan(t, "desiredActiveSite source", func(p *drv1alpha1.DRPlan) bool { return p.Spec.DesiredActiveSite == drv1alpha1.SiteSource })
		p.Spec.DesiredActiveSite = drv1alpha1.SiteTarget
		if err := c.Update(ctx, p); err != nil {
			t.Fatal(err)
		}
		r := <-done
		if r.code != cli.ExitSuperseded || !strings.Contains(r.err, "spec.desiredActiveSite changed to target while waiting") {
			t.Errorf("exit %d, stdout:\n%s\nstderr %q", r.code, r.out, r.err)
		}
	})
}

// Usage errors of the plan verbs exit 2 before any kubeconfig is read,
// and the root help lists the verb and exit code 10.
func TestPlanWithoutACluster(t *testing.T) {
	cases := []struct {
		args       []string
		wantStderr string
	}{
		{[]string{"plan", "bogus"}, `unknown plan command "bogus"`},
		{[]string{"plan", "failover"}, "exactly one DRPlan name"},
		{[]string{"plan", "failover", "erp", "--mode", "Forced"}, "pass --allow-data-loss"},
		{[]string{"plan", "failback", "erp", "--mode", "Sideways", "--allow-data-loss"}, "--mode must be Planned, Forced or Auto"},
		{[]string{"plan", "approve", "erp", "--step", "confirm"}, "<wave>/<step>"},
		{[]string{"plan", "skip", "erp"}, "needs --step"},
		{[]string{"plan", "retry", "erp", "--step", "db/x", "--member", "m"}, "not both"},
		{[]string{"plan", "abort", "erp", "--member", "m"}, "unknown flag: --member"},
		{[]string{"plan", "abort", "erp", "--run", "7"}, "--run must name a run"},
		{[]string{"plan", "approve", "erp", "--wait", "--dry-run"}, "do not go together"},
		{[]string{"plan", "status", "a", "b"}, "at most one DRPlan name"},
		{[]string{"plan", "status", "-o", "wide"}, "-o/--output must be json or yaml"},
	}
	for _, tc := range cases {
		code, _, stderr := execute(tc.args...)
		if code != cli.ExitUsage || !strings.Contains(stderr, tc.wantStderr) {
			t.Errorf("%v: exit %d, stderr %q; want 2, %q", tc.args, code, stderr, tc.wantStderr)
		}
	}
	code, out, _ := execute("--help")
	for _, w := range []string{"plan ", "10 plan\n--wait: the plan waits for an approval"} {
		if code != 0 || !strings.Contains(out, w) {
			t.Errorf("root --help lacks %q:\n%s", w, out)
		}
	}
}
