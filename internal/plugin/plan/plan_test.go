package plan_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/spf13/cobra"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/yaml"

	drv1alpha1 "github.com/sdrs-operator/sdrs-operator/api/v1alpha1"
	"github.com/sdrs-operator/sdrs-operator/internal/plugin/cli"
	"github.com/sdrs-operator/sdrs-operator/internal/plugin/clitest"
	"github.com/sdrs-operator/sdrs-operator/internal/plugin/plan"
)

// newCmd is the plan verb with a fixed kubeconfig user, for clitest.Run.
func newCmd(newEnv func() (*cli.Env, error)) *cobra.Command {
	return plan.NewCmd(newEnv, func() string { return "alice" })
}

// newPlan returns plan "erp" in namespace "apps" at generation 1, desired
// at source, with two waves: db (pre-step approval "confirm") and apps
// (post-step job "smoke"), changed by mods.
func newPlan(mods ...func(*drv1alpha1.DRPlan)) *drv1alpha1.DRPlan {
	p := &drv1alpha1.DRPlan{
		ObjectMeta: metav1.ObjectMeta{Name: "erp", Namespace: "apps", Generation: 1},
		Spec: drv1alpha1.DRPlanSpec{
			Selector:          metav1.LabelSelector{MatchLabels: map[string]string{"app": "erp"}},
			DesiredActiveSite: drv1alpha1.SiteSource,
			FailoverMode:      drv1alpha1.FailoverPlanned,
			Waves: []drv1alpha1.PlanWave{
				{Name: "db", Selector: metav1.LabelSelector{MatchLabels: map[string]string{"tier": "db"}},
					PreSteps: []drv1alpha1.PlanStep{{Name: "confirm", Approval: &drv1alpha1.ApprovalStep{Message: "Confirm the DB replicas are in sync"}}}},
				{Name: "apps", Selector: metav1.LabelSelector{MatchLabels: map[string]string{"tier": "app"}},
					PostSteps: []drv1alpha1.PlanStep{{Name: "smoke", Wait: &drv1alpha1.WaitStep{Duration: metav1.Duration{Duration: time.Minute}}}}},
			},
		},
		Status: drv1alpha1.DRPlanStatus{ObservedGeneration: 1},
	}
	for _, m := range mods {
		m(p)
	}
	return p
}

// newRun is a run to site in phase, in its first wave, nothing moved yet.
func newRun(id string, to drv1alpha1.Site, phase drv1alpha1.PlanPhase) *drv1alpha1.PlanRun {
	return &drv1alpha1.PlanRun{ID: id, Mode: drv1alpha1.PlanModeFailover, ToSite: to, Phase: phase,
		StartedAt: metav1.NewTime(clitest.Now.Add(-10 * time.Minute)), CurrentWave: "db",
		Waves: []drv1alpha1.PlanWaveStatus{
			{Name: "db", Phase: drv1alpha1.PlanRunning, Counts: drv1alpha1.PlanCounts{Total: 2, Pending: 2},
				Steps: []drv1alpha1.PlanStepStatus{{Name: "confirm", Stage: "Pre", Type: "approval", Phase: drv1alpha1.StepPending}}},
			{Name: "apps", Phase: drv1alpha1.PlanPending, Counts: drv1alpha1.PlanCounts{Total: 3, Pending: 3},
				Steps: []drv1alpha1.PlanStepStatus{{Name: "smoke", Stage: "Post", Type: "wait", Phase: drv1alpha1.StepPending}}},
		}}
}

// withRun sets status.run, changed by mods.
func withRun(r *drv1alpha1.PlanRun, mods ...func(*drv1alpha1.PlanRun)) func(*drv1alpha1.DRPlan) {
	return func(p *drv1alpha1.DRPlan) {
		r := r.DeepCopy()
		for _, m := range mods {
			m(r)
		}
		p.Status.Run = r
	}
}

// waiting puts the run at the approval db/confirm.
func waiting(r *drv1alpha1.PlanRun) {
	r.Phase, r.Reason, r.Message = drv1alpha1.PlanWaitingForApproval, drv1alpha1.ApprovalRequiredReason, "step db/confirm waits for an approval"
	r.Waves[0].Phase = drv1alpha1.PlanWaitingForApproval
	r.Waves[0].Steps[0].Phase, r.Waves[0].Steps[0].Message = drv1alpha1.StepWaitingForApproval, "Confirm the DB replicas are in sync"
}

// blocked puts the run in wave apps, blocked by a failed member.
func blocked(r *drv1alpha1.PlanRun) {
	r.Phase, r.Reason, r.Message = drv1alpha1.PlanBlocked, drv1alpha1.RunBlockedReason, "member erp-web failed in wave apps"
	r.CurrentWave = "apps"
	r.Waves[0].Phase, r.Waves[0].Counts = drv1alpha1.PlanSucceeded, drv1alpha1.PlanCounts{Total: 2, Succeeded: 2}
	r.Waves[0].Steps[0].Phase, r.Waves[0].Steps[0].Message = drv1alpha1.StepSucceeded, "approved by alice"
	r.Waves[1].Phase, r.Waves[1].Counts = drv1alpha1.PlanBlocked, drv1alpha1.PlanCounts{Total: 3, Succeeded: 2, Failed: 1}
	r.Waves[1].Failures = []drv1alpha1.MemberFailure{{Member: "erp-web", Reason: drv1alpha1.MemberTimeoutReason, Message: "not done within 1h"}}
}

// done ends the run Succeeded.
func done(r *drv1alpha1.PlanRun) {
	r.Phase, r.Reason = drv1alpha1.PlanSucceeded, drv1alpha1.RunSucceededReason
	r.CurrentWave = "apps"
	for i := range r.Waves {
		r.Waves[i].Phase = drv1alpha1.PlanSucceeded
		r.Waves[i].Counts = drv1alpha1.PlanCounts{Total: r.Waves[i].Counts.Total, Succeeded: r.Waves[i].Counts.Total}
		r.Waves[i].Failures = nil
		for j := range r.Waves[i].Steps {
			r.Waves[i].Steps[j].Phase = drv1alpha1.StepSucceeded
		}
	}
	r.Duration = &metav1.Duration{Duration: 12 * time.Minute}
	met := true
	r.RTOMet = &met
}

func applied(action drv1alpha1.DecisionAction, step, member string) func(*drv1alpha1.PlanRun) {
	return func(r *drv1alpha1.PlanRun) {
		r.Decisions = append(r.Decisions, drv1alpha1.AppliedDecision{Action: action, Step: step, Member: member, At: metav1.NewTime(clitest.Now)})
	}
}

func desired(s drv1alpha1.Site) func(*drv1alpha1.DRPlan) {
	return func(p *drv1alpha1.DRPlan) { p.Spec.DesiredActiveSite = s }
}

func decisions(ds ...drv1alpha1.PlanDecision) func(*drv1alpha1.DRPlan) {
	return func(p *drv1alpha1.DRPlan) { p.Spec.Decisions = append(p.Spec.Decisions, ds...) }
}

func getPlan(t *testing.T, e *clitest.Env) *drv1alpha1.DRPlan {
	t.Helper()
	var p drv1alpha1.DRPlan
	if err := e.Client.Get(context.Background(), client.ObjectKey{Namespace: "apps", Name: "erp"}, &p); err != nil {
		t.Fatal(err)
	}
	return &p
}

// script makes the n-th Get of the plan (from 0) return the stored object
// changed by steps[n], or by the last step once they run out: the plan
// controller, played without timing. Spec changes by the verb are kept,
// status comes from the step.
func script(steps ...func(*drv1alpha1.DRPlan)) clitest.Option {
	var (
		mu sync.Mutex
		n  int
	)
	return clitest.WithGet(func(ctx context.Context, c client.WithWatch, key client.ObjectKey, obj client.Object, opts ...client.GetOption) error {
		if err := c.Get(ctx, key, obj, opts...); err != nil {
			return err
		}
		p, ok := obj.(*drv1alpha1.DRPlan)
		if !ok {
			return nil
		}
		mu.Lock()
		i := min(n, len(steps)-1)
		n++
		mu.Unlock()
		steps[i](p)
		return nil
	})
}

func TestStatusRendersThePlan(t *testing.T) {
	e := clitest.NewEnv([]client.Object{newPlan(desired(drv1alpha1.SiteTarget), withRun(newRun("r-0002", drv1alpha1.SiteTarget, ""), waiting),
		func(p *drv1alpha1.DRPlan) {
			p.Spec.RTO = &metav1.Duration{Duration: 30 * time.Minute}
			p.Status.Members = &drv1alpha1.PlanMembers{Total: 5, AtSource: 5}
			p.Status.Conditions = []metav1.Condition{
				clitest.Cond(drv1alpha1.WaitingForApprovalCondition, metav1.ConditionTrue, drv1alpha1.ApprovalRequiredReason, "db/confirm: Confirm the DB replicas are in sync", 1),
				clitest.Cond(drv1alpha1.StalledCondition, metav1.ConditionFalse, "NotStalled", "fine", 1),
			}
			p.Status.Run.Waves[1].Failures = []drv1alpha1.MemberFailure{{Member: "erp-old", Reason: "JobFailed", Message: "SDRS job failed"}}
			p.Status.History = []drv1alpha1.PlanRunRecord{{ID: "r-0001", Mode: drv1alpha1.PlanModeFailover, ToSite: drv1alpha1.SiteSource,
				Phase: drv1alpha1.PlanSucceeded, StartedAt: metav1.NewTime(clitest.Now.Add(-48 * time.Hour)),
				Duration: &metav1.Duration{Duration: 20 * time.Minute}, Counts: drv1alpha1.PlanCounts{Total: 5, Succeeded: 5}}}
		},
		decisions(drv1alpha1.PlanDecision{Run: "r-0002", Step: "apps/smoke", Action: drv1alpha1.DecisionSkip, Note: "no smoke today"}))})
	if err := e.Run(newCmd, "status", "erp"); err != nil {
		t.Fatal(err)
	}
	want := "" +
		"Plan:       drplan.dr.sdrs.io/erp -n apps\n" +
		"Desired:    target (failoverMode Planned)\n" +
		"Members:    5: 5 at source, 0 at target; 0 unassigned, 0 claimed elsewhere, 0 diverged\n" +
		"Waiting:    ApprovalRequired: db/confirm: Confirm the DB replicas are in sync\n" +
		"Run:        r-0002, Failover to target: WaitingForApproval (ApprovalRequired: step db/confirm waits for an approval)\n" +
		"Started:    2026-03-01T11:50:00Z\n" +
		"Duration:   10m0s of RTO 30m0s\n" +
		"Wave:       db\n" +
		"\n" +
		"WAVE   PHASE                TOTAL   PENDING   INPROGRESS   SUCCEEDED   FAILED   SKIPPED\n" +
		"db     WaitingForApproval   2       2         0            0           0        0\n" +
		"apps   Pending              3       3         0            0           0        0\n" +
		"\n" +
		"Steps:\n" +
		"STEP         STAGE   TYPE       PHASE                ATTEMPT   JOB   MESSAGE\n" +
		"db/confirm   Pre     approval   WaitingForApproval   0         -     Confirm the DB replicas are in sync\n" +
		"apps/smoke   Post    wait       Pending              0         -     -\n" +
		"\n" +
		"Failures:\n" +
		"WAVE   MEMBER    REASON      MESSAGE\n" +
		"apps   erp-old   JobFailed   SDRS job failed\n" +
		"\n" +
		"Step db/confirm waits for approval: Confirm the DB replicas are in sync\n" +
		"  approve it: kubectl sdrs plan approve erp --step db/confirm -n apps\n" +
		"\n" +
		"Decisions for r-0002 not used yet:\n" +
		"  Skip step apps/smoke for run r-0002 (note \"no smoke today\")\n" +
		"\n" +
		"History:\n" +
		"RUN      MODE       TO       PHASE       STARTED                FINISHED   DURATION   RTO MET   TOTAL   SUCCEEDED   FAILED   SKIPPED\n" +
		"r-0001   Failover   source   Succeeded   2026-02-27T12:00:00Z   -          20m0s      -         5       5           0        0\n"
	if got := e.Out.String(); got != want {
		t.Errorf("stdout:\n%s\nwant:\n%s", got, want)
	}
}

func TestStatusBlockedNoRunListAndYAML(t *testing.T) {
	e := clitest.NewEnv([]client.Object{newPlan(withRun(newRun("r-0003", drv1alpha1.SiteTarget, ""), blocked)),
		newPlan(func(p *drv1alpha1.DRPlan) { p.Name = "crm" })})
	if err := e.Run(newCmd, "status", "erp"); err != nil {
		t.Fatal(err)
	}
	for _, w := range []string{
		"Run:        r-0003, Failover to target: Blocked (RunBlocked: member erp-web failed in wave apps)\n",
		"apps   erp-web   MemberTimeout   not done within 1h\n",
		"Blocked: decide: kubectl sdrs plan retry erp --member erp-web -n apps, kubectl sdrs plan skip erp --member erp-web -n apps, or kubectl sdrs plan abort erp -n apps\n",
	} {
		if !strings.Contains(e.Out.String(), w) {
			t.Errorf("stdout lacks %q:\n%s", w, e.Out)
		}
	}
	e.Out.Reset()
	if err := e.Run(newCmd, "status", "crm"); err != nil || !strings.Contains(e.Out.String(), "Run:        none yet\n") {
		t.Errorf("err %v, stdout:\n%s", err, e.Out)
	}
	e.Out.Reset()
	if err := e.Run(newCmd, "status"); err != nil {
		t.Fatal(err)
	}
	wantList := "" +
		"NAME   DESIRED   RUN      TO       PHASE     WAVE   READY\n" +
		"crm    source    -        -        -         -      -\n" +
		"erp    source    r-0003   target   Blocked   apps   -\n"
	if e.Out.String() != wantList {
		t.Errorf("stdout:\n%s\nwant:\n%s", e.Out, wantList)
	}
	e.Out.Reset()
	if err := e.Run(newCmd, "status", "erp", "-o", "yaml"); err != nil {
		t.Fatal(err)
	}
	var p drv1alpha1.DRPlan
	if err := yaml.Unmarshal(e.Out.Bytes(), &p); err != nil || p.Kind != "DRPlan" || p.Status.Run == nil || p.Status.Run.ID != "r-0003" {
		t.Errorf("err %v, plan %+v", err, p)
	}
	e.Out.Reset()
	if err := e.Run(newCmd, "status", "erp", "-o", "json"); err != nil || !json.Valid(e.Out.Bytes()) {
		t.Errorf("err %v, stdout %s", err, e.Out)
	}
	if err := e.Run(newCmd, "status", "erp", "-o", "wide"); cli.Code(err) != cli.ExitUsage {
		t.Errorf("-o wide: %v", err)
	}
	if err := e.Run(newCmd, "status", "nope"); cli.Code(err) != cli.ExitError {
		t.Errorf("missing plan: %v", err)
	}
	if len(e.Patches()) != 0 {
		t.Errorf("status patched: %+v", e.Patches())
	}
}

func TestMove(t *testing.T) {
	forced := func(p *drv1alpha1.DRPlan) {
		p.Spec.FailoverMode, p.Spec.AllowDataLoss = drv1alpha1.FailoverForced, true
	}
	cases := []struct {
		name       string
		plan       *drv1alpha1.DRPlan
		args       []string
		wantCode   int
		wantData   string // the one real patch, "" for none
		wantDryRun int
		wantOut    string
		wantErr    string
		wantStderr string
	}{
		{name: "failover patches desiredActiveSite only",
			plan: newPlan(), args: []string{"failover", "erp"},
			wantData: `{"spec":{"desiredActiveSite":"target"}}`,
			wantOut:  "drplan.dr.sdrs.io/erp patched\n  spec.desiredActiveSite: source -> target\n  follow the run: kubectl sdrs plan status erp -n apps\n"},
		{name: "failback patches source",
			plan: newPlan(desired(drv1alpha1.SiteTarget)), args: []string{"failback", "erp"},
			wantData: `{"spec":{"desiredActiveSite":"source"}}`,
			wantOut:  "  spec.desiredActiveSite: target -> source\n"},
		{name: "--mode Forced with --allow-data-loss sets both",
			plan: newPlan(), args: []string{"failover", "erp", "--mode", "Forced", "--allow-data-loss"},
			wantData: `{"spec":{"allowDataLoss":true,"desiredActiveSite":"target","failoverMode":"Forced"}}`,
			wantOut:  "  spec.failoverMode: Planned -> Forced\n  spec.allowDataLoss: false -> true\n"},
		{name: "--mode Planned puts a Forced plan back",
			plan: newPlan(forced, desired(drv1alpha1.SiteTarget)), args: []string{"failback", "erp", "--mode", "Planned"},
			wantData: `{"spec":{"desiredActiveSite":"source","failoverMode":"Planned"}}`},
		{name: "--mode Forced without --allow-data-loss is refused",
			plan: newPlan(), args: []string{"failover", "erp", "--mode", "Forced"},
			wantCode: cli.ExitUsage, wantErr: "pass --allow-data-loss"},
		{name: "--mode Auto without --allow-data-loss is refused",
			plan: newPlan(), args: []string{"failover", "erp", "--mode", "Auto"},
			wantCode: cli.ExitUsage, wantErr: "failoverMode Auto may fail members over forced"},
		{name: "a plan left Forced needs --allow-data-loss too",
			plan: newPlan(forced), args: []string{"failover", "erp"},
			wantCode: cli.ExitUsage, wantErr: "spec.failoverMode is Forced"},
		{name: "an unknown mode is refused",
			plan: newPlan(), args: []string{"failover", "erp", "--mode", "Fast"}, wantCode: cli.ExitUsage, wantErr: "--mode must be"},
		{name: "already there: unchanged, nothing sent",
			plan: newPlan(desired(drv1alpha1.SiteTarget)), args: []string{"failover", "erp", "--mode", "Forced", "--allow-data-loss"},
			wantOut: "drplan.dr.sdrs.io/erp unchanged: spec.desiredActiveSite is already target\n  --mode and --allow-data-loss are not applied: the plan is not moving\n"},
		{name: "server dry run",
			plan: newPlan(), args: []string{"failover", "erp", "--dry-run"}, wantDryRun: 1,
			wantOut: "drplan.dr.sdrs.io/erp would be patched (dry run: server)\n  spec.desiredActiveSite: source -> target\n  patch: {\"spec\":{\"desiredActiveSite\":\"target\"}}\n"},
		{name: "client dry run sends nothing",
			plan: newPlan(), args: []string{"failover", "erp", "--dry-run=client"}, wantOut: "(dry run: client)"},
		{name: "--wait with --dry-run is refused",
			plan: newPlan(), args: []string{"failover", "erp", "--wait", "--dry-run"}, wantCode: cli.ExitUsage},
		{name: "a plan name is required",
			plan: newPlan(), args: []string{"failover"}, wantCode: cli.ExitUsage, wantErr: "exactly one DRPlan name"},
		{name: "a missing plan exits 1",
			plan: newPlan(), args: []string{"failover", "nope"}, wantCode: cli.ExitError, wantErr: "not found"},
		{name: "a run in flight and Argo CD are warned about",
			plan: newPlan(withRun(newRun("r-0001", drv1alpha1.SiteSource, drv1alpha1.PlanRunning)), func(p *drv1alpha1.DRPlan) {
				p.Labels = map[string]string{"argocd.argoproj.io/instance": "dr"}
			}),
			args: []string{"failover", "erp"}, wantData: `{"spec":{"desiredActiveSite":"target"}}`,
			wantStderr: "Warning: drplan.dr.sdrs.io/erp: managed by Argo CD: change desiredActiveSite in Git too, or Argo CD will revert it\n" +
				"Warning: drplan.dr.sdrs.io/erp: r-0001 (to source) is Running: this change supersedes it; its wave in flight finishes, then a run to target starts (members already moved stay moved until then)\n"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e := clitest.NewEnv([]client.Object{tc.plan})
			err := e.Run(newCmd, tc.args...)
			if got := cli.Code(err); got != tc.wantCode {
				t.Fatalf("exit %d, want %d (err %v)", got, tc.wantCode, err)
			}
			if tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)) {
				t.Errorf("error %v, want %q", err, tc.wantErr)
			}
			var real []string
			dry := 0
			for _, p := range e.Patches() {
				if p.Status || p.Type != "application/merge-patch+json" {
					t.Errorf("patch %+v", p)
				}
				if p.DryRun {
					dry++
				} else {
					real = append(real, p.Data)
				}
			}
			if want := []string{tc.wantData}; tc.wantData == "" && len(real) > 0 || tc.wantData != "" && (len(real) != 1 || real[0] != want[0]) {
				t.Errorf("patches %q, want %q", real, tc.wantData)
			}
			if dry != tc.wantDryRun {
				t.Errorf("%d dry-run patches, want %d", dry, tc.wantDryRun)
			}
			if !strings.Contains(e.Out.String(), tc.wantOut) {
				t.Errorf("stdout lacks %q:\n%s", tc.wantOut, e.Out)
			}
			if e.ErrOut.String() != tc.wantStderr {
				t.Errorf("stderr %q, want %q", e.ErrOut, tc.wantStderr)
			}
		})
	}
}

func TestDecide(t *testing.T) {
	const note = "kubectl sdrs by alice at 2026-03-01T12:00:00Z"
	running := withRun(newRun("r-0003", drv1alpha1.SiteTarget, drv1alpha1.PlanRunning))
	atApproval := withRun(newRun("r-0003", drv1alpha1.SiteTarget, ""), waiting)
	isBlocked := withRun(newRun("r-0003", drv1alpha1.SiteTarget, ""), blocked)
	old := drv1alpha1.PlanDecision{Run: "r-0002", Action: drv1alpha1.DecisionAbort, Note: "old"}
	dec := func(step, member string, a drv1alpha1.DecisionAction) string {
		d := drv1alpha1.PlanDecision{Run: "r-0003", Step: step, Member: member, Action: a, Note: note}
		b, _ := json.Marshal(d)
		return string(b)
	}
	cases := []struct {
		name       string
		objs       []client.Object
		args       []string
		wantCode   int
		wantList   string // the decisions the patch sends, "" for no patch
		wantOut    []string
		wantErr    string
		wantStderr string
	}{
		{name: "approve picks the one step waiting",
			objs: []client.Object{newPlan(atApproval, decisions(old))}, args: []string{"approve", "erp"},
			wantList: `[{"run":"r-0002","action":"Abort","note":"old"},` + dec("db/confirm", "", drv1alpha1.DecisionApprove) + `]`,
			wantOut: []string{"drplan.dr.sdrs.io/erp patched\n  spec.decisions: + Approve step db/confirm for run r-0003 (note \"" + note + "\")\n" +
				"  step db/confirm: the one step waiting for approval (Confirm the DB replicas are in sync)\n"}},
		{name: "approve with --step ahead of time and a note",
			objs: []client.Object{newPlan(running)}, args: []string{"approve", "erp", "--step", "db/confirm", "--note", "go, INC-42"},
			wantList: `[{"run":"r-0003","step":"db/confirm","action":"Approve","note":"go, INC-42"}]`},
		{name: "approve with no step waiting is refused",
			objs: []client.Object{newPlan(running)}, args: []string{"approve", "erp"},
			wantCode: cli.ExitUsage, wantErr: "no step of run r-0003 waits for approval (the run is Running)"},
		{name: "approve with two steps waiting names them",
			objs: []client.Object{newPlan(atApproval, func(p *drv1alpha1.DRPlan) {
				p.Status.Run.Waves[1].Steps[0].Phase = drv1alpha1.StepWaitingForApproval
			})}, args: []string{"approve", "erp"},
			wantCode: cli.ExitUsage, wantErr: "2 steps of run r-0003 wait for approval: db/confirm, apps/smoke"},
		{name: "approve of a non-approval step is refused",
			objs: []client.Object{newPlan(atApproval)}, args: []string{"approve", "erp", "--step", "apps/smoke"},
			wantCode: cli.ExitUsage, wantErr: "is a wait step, not an approval"},
		{name: "approve of a passed step is refused",
			objs: []client.Object{newPlan(isBlocked)}, args: []string{"approve", "erp", "--step", "db/confirm"},
			wantCode: cli.ExitUsage, wantErr: "already Succeeded"},
		{name: "approve of a step the run already approved: unchanged, so a runbook pasted twice passes",
			objs: []client.Object{newPlan(isBlocked, func(p *drv1alpha1.DRPlan) {
				p.Status.Run.Decisions = append(p.Status.Run.Decisions, drv1alpha1.AppliedDecision{Step: "db/confirm", Action: drv1alpha1.DecisionApprove, Note: "INC-42"})
			})}, args: []string{"approve", "erp", "--step", "db/confirm"},
			wantOut: []string{"drplan.dr.sdrs.io/erp unchanged: step db/confirm of run r-0003 is already approved (INC-42)\n"}},
		{name: "no run: refused",
			objs: []client.Object{newPlan()}, args: []string{"abort", "erp"},
			wantCode: cli.ExitUsage, wantErr: "has no run yet"},
		{name: "retry a member the run shows failed",
			objs: []client.Object{newPlan(isBlocked)}, args: []string{"retry", "erp", "--member", "erp-web"},
			wantList: `[` + dec("", "erp-web", drv1alpha1.DecisionRetry) + `]`},
		{name: "skip a member that is no group: taken with a warning",
			objs: []client.Object{newPlan(isBlocked)}, args: []string{"skip", "erp", "--member", "erp-wbe"},
			wantList:   `[` + dec("", "erp-wbe", drv1alpha1.DecisionSkip) + `]`,
			wantStderr: "Warning: drplan.dr.sdrs.io/erp: there is no ProtectionGroup erp-wbe in namespace apps: check the name (a decision naming an unknown member makes the plan not Valid)\n"},
		{name: "skip a group the plan does not select: warned",
			objs: []client.Object{newPlan(isBlocked), clitest.PG("other")}, args: []string{"skip", "erp", "--member", "other"},
			wantList:   `[` + dec("", "other", drv1alpha1.DecisionSkip) + `]`,
			wantStderr: "Warning: drplan.dr.sdrs.io/erp: ProtectionGroup other is not selected by the plan (spec.selector): it is not a member (a decision naming it makes the plan not Valid)\n"},
		{name: "--run names the next run: taken with a warning",
			objs: []client.Object{newPlan(isBlocked)}, args: []string{"approve", "erp", "--run", "r-0004", "--step", "db/confirm", "--note", "pre"},
			wantList:   `[{"run":"r-0004","step":"db/confirm","action":"Approve","note":"pre"}]`,
			wantStderr: "Warning: drplan.dr.sdrs.io/erp: run r-0004 has not started yet: the decision waits for it\n"},
		{name: "--run names an earlier run: taken with a warning",
			objs: []client.Object{newPlan(isBlocked)}, args: []string{"retry", "erp", "--run", "r-0002", "--note", "x"},
			wantList:   `[{"run":"r-0002","action":"Retry","note":"x"}]`,
			wantStderr: "Warning: drplan.dr.sdrs.io/erp: run r-0002 is over: this decision does not answer the current run\n"},
		{name: "retry an unknown step is refused",
			objs: []client.Object{newPlan(isBlocked)}, args: []string{"retry", "erp", "--step", "apps/smok"},
			wantCode: cli.ExitUsage, wantErr: `wave apps of run r-0003 has no step "smok" (its steps: smoke)`},
		{name: "skip an unknown wave is refused",
			objs: []client.Object{newPlan(isBlocked)}, args: []string{"skip", "erp", "--step", "web/smoke"},
			wantCode: cli.ExitUsage, wantErr: `run r-0003 has no wave "web" (its waves: db, apps)`},
		{name: "skip needs a step or a member",
			objs: []client.Object{newPlan(isBlocked)}, args: []string{"skip", "erp"}, wantCode: cli.ExitUsage, wantErr: "needs --step"},
		{name: "a step and a member together are refused",
			objs: []client.Object{newPlan(isBlocked)}, args: []string{"retry", "erp", "--step", "apps/smoke", "--member", "erp-web"}, wantCode: cli.ExitUsage},
		{name: "a malformed step is refused",
			objs: []client.Object{newPlan(isBlocked)}, args: []string{"retry", "erp", "--step", "smoke"}, wantCode: cli.ExitUsage, wantErr: "<wave>/<step>"},
		{name: "abort takes no --step",
			objs: []client.Object{newPlan(isBlocked)}, args: []string{"abort", "erp", "--step", "apps/smoke"}, wantCode: cli.ExitUsage, wantErr: "unknown flag"},
		{name: "abort appends a run-level decision",
			objs: []client.Object{newPlan(isBlocked)}, args: []string{"abort", "erp"},
			wantList: `[` + dec("", "", drv1alpha1.DecisionAbort) + `]`},
		{name: "run-level retry",
			objs: []client.Object{newPlan(withRun(newRun("r-0003", drv1alpha1.SiteTarget, ""), blocked, func(r *drv1alpha1.PlanRun) { r.Phase = drv1alpha1.PlanFailed }))},
			args: []string{"retry", "erp"}, wantList: `[` + dec("", "", drv1alpha1.DecisionRetry) + `]`},
		{name: "--run names a run the plan does not show: refused",
			objs: []client.Object{newPlan(isBlocked)}, args: []string{"abort", "erp", "--run", "r-0009"},
			wantCode: cli.ExitUsage, wantErr: "shows no run r-0009"},
		{name: "--run malformed",
			objs: []client.Object{newPlan(isBlocked)}, args: []string{"abort", "erp", "--run", "3"}, wantCode: cli.ExitUsage, wantErr: "--run must name a run"},
		{name: "the same decision not used yet: unchanged",
			objs:    []client.Object{newPlan(atApproval, decisions(drv1alpha1.PlanDecision{Run: "r-0003", Step: "db/confirm", Action: drv1alpha1.DecisionApprove, Note: "bob"}))},
			args:    []string{"approve", "erp"},
			wantOut: []string{"drplan.dr.sdrs.io/erp unchanged: spec.decisions already holds Approve step db/confirm for run r-0003, not used yet\n"}},
		{name: "the same retry already used: appended again",
			objs: []client.Object{newPlan(withRun(newRun("r-0003", drv1alpha1.SiteTarget, ""), blocked, applied(drv1alpha1.DecisionRetry, "", "erp-web")),
				decisions(drv1alpha1.PlanDecision{Run: "r-0003", Member: "erp-web", Action: drv1alpha1.DecisionRetry, Note: "first"}))},
			args:     []string{"retry", "erp", "--member", "erp-web"},
			wantList: `[{"run":"r-0003","member":"erp-web","action":"Retry","note":"first"},` + dec("", "erp-web", drv1alpha1.DecisionRetry) + `]`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e := clitest.NewEnv(tc.objs)
			before := getPlan(t, e)
			err := e.Run(newCmd, tc.args...)
			if got := cli.Code(err); got != tc.wantCode {
				t.Fatalf("exit %d, want %d (err %v)", got, tc.wantCode, err)
			}
			if tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)) {
				t.Errorf("error %v, want %q", err, tc.wantErr)
			}
			ps := e.Patches()
			if tc.wantList == "" {
				if len(ps) != 0 {
					t.Errorf("patches sent: %+v", ps)
				}
			} else {
				want := fmt.Sprintf(`{"metadata":{"resourceVersion":%q},"spec":{"decisions":%s}}`, before.ResourceVersion, tc.wantList)
				if len(ps) != 1 || ps[0].Data != want || ps[0].Status || ps[0].DryRun {
					t.Errorf("patches %+v\nwant one with %s", ps, want)
				}
			}
			for _, w := range tc.wantOut {
				if !strings.Contains(e.Out.String(), w) {
					t.Errorf("stdout lacks %q:\n%s", w, e.Out)
				}
			}
			if e.ErrOut.String() != tc.wantStderr {
				t.Errorf("stderr %q, want %q", e.ErrOut, tc.wantStderr)
			}
			after := getPlan(t, e)
			if after.Status.Run != nil && before.Status.Run != nil && after.Status.Run.Phase != before.Status.Run.Phase {
				t.Errorf("status changed")
			}
		})
	}
}

// A decision appended by someone else between this command's read and
// its write is kept: the write carries the resourceVersion it read, the
// API server refuses it, and the command reads and appends again.
func TestDecideKeepsAConcurrentAppend(t *testing.T) {
	theirs := drv1alpha1.PlanDecision{Run: "r-0003", Member: "erp-db", Action: drv1alpha1.DecisionSkip, Note: "bob"}
	var once sync.Once
	e := clitest.NewEnv([]client.Object{newPlan(withRun(newRun("r-0003", drv1alpha1.SiteTarget, ""), waiting))},
		clitest.WithGet(func(ctx context.Context, c client.WithWatch, key client.ObjectKey, obj client.Object, opts ...client.GetOption) error {
			if err := c.Get(ctx, key, obj, opts...); err != nil {
				return err
			}
			// Bob appends right after our first read.
			once.Do(func() {
				p := obj.(*drv1alpha1.DRPlan).DeepCopy()
				p.Spec.Decisions = append(p.Spec.Decisions, theirs)
				if err := c.Update(ctx, p); err != nil {
					t.Error(err)
				}
			})
			return nil
		}))
	if err := e.Run(newCmd, "approve", "erp"); err != nil {
		t.Fatal(err)
	}
	got := getPlan(t, e).Spec.Decisions
	if len(got) != 2 || got[0] != theirs || got[1].Action != drv1alpha1.DecisionApprove || got[1].Step != "db/confirm" {
		t.Fatalf("decisions %+v", got)
	}
	if ps := e.Patches(); len(ps) != 2 {
		t.Errorf("%d patches, want the refused one and the one that landed", len(ps))
	}
	if !strings.Contains(e.Out.String(), "the plan changed while appending (1 conflicting writes): read again and appended to the newer list") {
		t.Errorf("stdout:\n%s", e.Out)
	}
}

func TestDecideWhenTheListIsFull(t *testing.T) {
	full := func(oldRuns int) func(*drv1alpha1.DRPlan) {
		return func(p *drv1alpha1.DRPlan) {
			for i := range plan.MaxDecisions {
				run := "r-0003"
				if i < oldRuns {
					run = fmt.Sprintf("r-%04d", 1+i%2)
				}
				p.Spec.Decisions = append(p.Spec.Decisions, drv1alpha1.PlanDecision{Run: run, Member: fmt.Sprintf("m%d", i), Action: drv1alpha1.DecisionSkip})
			}
		}
	}
	isBlocked := withRun(newRun("r-0003", drv1alpha1.SiteTarget, ""), blocked)
	e := clitest.NewEnv([]client.Object{newPlan(isBlocked, full(3))})
	if err := e.Run(newCmd, "abort", "erp"); err != nil {
		t.Fatal(err)
	}
	got := getPlan(t, e).Spec.Decisions
	if len(got) != plan.MaxDecisions || got[0].Member != "m1" || got[len(got)-1].Action != drv1alpha1.DecisionAbort {
		t.Errorf("%d decisions, first %+v, last %+v", len(got), got[0], got[len(got)-1])
	}
	if w := "  spec.decisions was full (200): dropped the 1 oldest decisions of other runs (r-0001)\n"; !strings.Contains(e.Out.String(), w) {
		t.Errorf("stdout lacks %q:\n%s", w, e.Out)
	}

	e = clitest.NewEnv([]client.Object{newPlan(isBlocked, full(0))})
	err := e.Run(newCmd, "abort", "erp")
	if cli.Code(err) != cli.ExitUsage || !strings.Contains(err.Error(), "spec.decisions is full (200 decisions, all for run r-0003)") {
		t.Errorf("err %v", err)
	}
	if len(e.Patches()) != 0 {
		t.Errorf("patched: %d", len(e.Patches()))
	}
}

func TestDefaultNote(t *testing.T) {
	if got := plan.DefaultNote("", clitest.Now); got != "kubectl sdrs at 2026-03-01T12:00:00Z" {
		t.Errorf("%q", got)
	}
	if got := plan.DefaultNote("alice", clitest.Now); got != "kubectl sdrs by alice at 2026-03-01T12:00:00Z" {
		t.Errorf("%q", got)
	}
}
