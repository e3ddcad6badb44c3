package plan_test

import (
	"context"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	drv1alpha1 "github.com/sdrs-operator/sdrs-operator/api/v1alpha1"
	"github.com/sdrs-operator/sdrs-operator/internal/plugin/cli"
	"github.com/sdrs-operator/sdrs-operator/internal/plugin/clitest"
	"github.com/sdrs-operator/sdrs-operator/internal/plugin/plan"
)

// status returns a script step that sets the plan's run (nil: none).
func status(r *drv1alpha1.PlanRun, mods ...func(*drv1alpha1.PlanRun)) func(*drv1alpha1.DRPlan) {
	if r == nil {
		return func(p *drv1alpha1.DRPlan) { p.Status.Run = nil }
	}
	return withRun(r, mods...)
}

func common(timeout time.Duration) plan.Common {
	return plan.Common{Name: "erp", Wait: true, Timeout: timeout, PollInterval: time.Millisecond}
}

func TestMoveWait(t *testing.T) {
	last := newRun("r-0001", drv1alpha1.SiteSource, "")
	next := newRun("r-0002", drv1alpha1.SiteTarget, drv1alpha1.PlanRunning)
	lastDone := status(last, done)
	cases := []struct {
		name     string
		plan     *drv1alpha1.DRPlan
		steps    []func(*drv1alpha1.DRPlan)
		timeout  time.Duration
		wantCode int
		wantOut  []string
		wantErr  string
	}{
		{name: "the new run succeeds: exit 0",
			plan:  newPlan(withRun(last, done)),
			steps: []func(*drv1alpha1.DRPlan){lastDone, lastDone, status(next), status(next, func(r *drv1alpha1.PlanRun) { r.Waves[0].Counts.InProgress, r.Waves[0].Counts.Pending = 2, 0 }), status(next, done)},
			wantOut: []string{
				"] drplan.dr.sdrs.io/erp: waiting for the controller to start a run to target; the last run is r-0001 (to source), Succeeded\n",
				"] drplan.dr.sdrs.io/erp: run r-0002 to target Running; wave db Running: 2 total, 2 pending, 0 in progress, 0 succeeded, 0 failed, 0 skipped\n",
				"] drplan.dr.sdrs.io/erp: run r-0002 to target Running; wave db Running: 2 total, 0 pending, 2 in progress, 0 succeeded, 0 failed, 0 skipped\n",
				"] drplan.dr.sdrs.io/erp: run r-0002 to target Succeeded in 12m0s; wave apps Succeeded: 3 total, 0 pending, 0 in progress, 3 succeeded, 0 failed, 0 skipped\n"}},
		{name: "blocked: exit 4 with the failures and the commands that decide",
			plan: newPlan(), steps: []func(*drv1alpha1.DRPlan){status(nil), status(nil), status(next, blocked)}, wantCode: cli.ExitStalled,
			wantOut: []string{"run r-0002 to target Blocked (RunBlocked: member erp-web failed in wave apps); wave apps Blocked: 3 total, 0 pending, 0 in progress, 2 succeeded, 1 failed, 0 skipped\n" +
				"  wave apps: member erp-web failed: MemberTimeout: not done within 1h\n" +
				"  decide: kubectl sdrs plan retry erp --member erp-web -n apps, kubectl sdrs plan skip erp --member erp-web -n apps, or kubectl sdrs plan abort erp -n apps\n"},
			wantErr: "drplan.dr.sdrs.io/erp: run r-0002 to target Blocked (RunBlocked"},
		{name: "failed: exit 4",
			plan: newPlan(), steps: []func(*drv1alpha1.DRPlan){status(nil), status(next, blocked, func(r *drv1alpha1.PlanRun) { r.Phase = drv1alpha1.PlanFailed })},
			wantCode: cli.ExitStalled},
		{name: "aborted: exit 4",
			plan: newPlan(), steps: []func(*drv1alpha1.DRPlan){status(nil), status(next, func(r *drv1alpha1.PlanRun) { r.Phase = drv1alpha1.PlanAborted })},
			wantCode: cli.ExitStalled},
		{name: "waiting for an approval: exit 10 with the approve command",
			plan: newPlan(), steps: []func(*drv1alpha1.DRPlan){status(nil), status(next, waiting)}, wantCode: plan.ExitWaitingForApproval,
			wantOut: []string{"  step db/confirm waits for approval: Confirm the DB replicas are in sync\n  approve it: kubectl sdrs plan approve erp --step db/confirm -n apps\n"},
			wantErr: "the plan waits for an approval of step db/confirm: kubectl sdrs plan approve erp --step db/confirm -n apps"},
		{name: "someone sets another site: exit 5",
			plan: newPlan(), steps: []func(*drv1alpha1.DRPlan){status(nil), status(nil), desired(drv1alpha1.SiteSource)}, wantCode: cli.ExitSuperseded,
			wantErr: "spec.desiredActiveSite changed to source while waiting"},
		{name: "no run starts: exit 3",
			plan: newPlan(withRun(last, done)), steps: []func(*drv1alpha1.DRPlan){lastDone}, timeout: 30 * time.Millisecond, wantCode: cli.ExitTimeout,
			wantErr: "timed out after 30ms waiting for drplan.dr.sdrs.io/erp (waiting for the controller to start a run to target"},
		{name: "the prior run to the same site does not count",
			plan:  newPlan(withRun(newRun("r-0001", drv1alpha1.SiteTarget, ""), done)),
			steps: []func(*drv1alpha1.DRPlan){status(newRun("r-0001", drv1alpha1.SiteTarget, ""), done)}, timeout: 30 * time.Millisecond, wantCode: cli.ExitTimeout},
		{name: "an invalid plan starts no run: exit 4",
			plan: newPlan(), steps: []func(*drv1alpha1.DRPlan){status(nil), func(p *drv1alpha1.DRPlan) {
				p.Status.Conditions = []metav1.Condition{clitest.Cond(drv1alpha1.ValidCondition, metav1.ConditionFalse, drv1alpha1.PlanInvalidReason, "erp-x is in no wave", p.Generation)}
			}}, wantCode: cli.ExitStalled, wantErr: "the plan is not valid, no run starts: InvalidPlan: erp-x is in no wave"},
		{name: "already at the site: the current run answers",
			plan:    newPlan(desired(drv1alpha1.SiteTarget), withRun(newRun("r-0002", drv1alpha1.SiteTarget, ""), done)),
			steps:   []func(*drv1alpha1.DRPlan){status(newRun("r-0002", drv1alpha1.SiteTarget, ""), done)},
			wantOut: []string{"drplan.dr.sdrs.io/erp unchanged: spec.desiredActiveSite is already target\n", "run r-0002 to target Succeeded"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e := clitest.NewEnv([]client.Object{tc.plan}, script(tc.steps...))
			timeout := tc.timeout
			if timeout == 0 {
				timeout = time.Minute
			}
			err := plan.Move(context.Background(), e.Env, plan.MoveOptions{Common: common(timeout), To: drv1alpha1.SiteTarget})
			if got := cli.Code(err); got != tc.wantCode {
				t.Fatalf("exit %d, want %d (err %v)\nstdout:\n%s", got, tc.wantCode, err, e.Out)
			}
			if tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)) {
				t.Errorf("error %v, want %q", err, tc.wantErr)
			}
			for _, w := range tc.wantOut {
				if !strings.Contains(e.Out.String(), w) {
					t.Errorf("stdout lacks %q:\n%s", w, e.Out)
				}
			}
		})
	}
}

func TestDecideWait(t *testing.T) {
	r3 := newRun("r-0003", drv1alpha1.SiteTarget, "")
	atApproval := status(r3, waiting)
	approvedRunning := status(r3, applied(drv1alpha1.DecisionApprove, "db/confirm", ""), func(r *drv1alpha1.PlanRun) {
		r.Phase = drv1alpha1.PlanRunning
		r.Waves[0].Steps[0].Phase = drv1alpha1.StepSucceeded
	})
	cases := []struct {
		name     string
		plan     *drv1alpha1.DRPlan
		steps    []func(*drv1alpha1.DRPlan)
		o        plan.DecideOptions
		wantCode int
		wantOut  []string
		wantErr  string
	}{
		{name: "approve: used, then the run succeeds",
			plan: newPlan(desired(drv1alpha1.SiteTarget), atApproval), o: plan.DecideOptions{Action: drv1alpha1.DecisionApprove},
			steps: []func(*drv1alpha1.DRPlan){atApproval, atApproval, approvedRunning, status(r3, done, applied(drv1alpha1.DecisionApprove, "db/confirm", ""))},
			wantOut: []string{"waiting for the controller to use Approve step db/confirm for run r-0003; run r-0003 to target WaitingForApproval",
				"run r-0003 to target Running", "run r-0003 to target Succeeded"}},
		{name: "approve: the step passing is witness enough",
			plan: newPlan(desired(drv1alpha1.SiteTarget), atApproval), o: plan.DecideOptions{Action: drv1alpha1.DecisionApprove},
			steps: []func(*drv1alpha1.DRPlan){atApproval, status(r3, done)}},
		{name: "approve: then blocked, exit 4",
			plan: newPlan(desired(drv1alpha1.SiteTarget), atApproval), o: plan.DecideOptions{Action: drv1alpha1.DecisionApprove},
			steps:    []func(*drv1alpha1.DRPlan){atApproval, approvedRunning, status(r3, blocked, applied(drv1alpha1.DecisionApprove, "db/confirm", ""))},
			wantCode: cli.ExitStalled, wantOut: []string{"  wave apps: member erp-web failed: MemberTimeout: not done within 1h\n"}},
		{name: "approve: then another approval, exit 10",
			plan: newPlan(desired(drv1alpha1.SiteTarget), atApproval), o: plan.DecideOptions{Action: drv1alpha1.DecisionApprove},
			steps: []func(*drv1alpha1.DRPlan){atApproval, status(r3, applied(drv1alpha1.DecisionApprove, "db/confirm", ""), func(r *drv1alpha1.PlanRun) {
				r.Phase, r.CurrentWave = drv1alpha1.PlanWaitingForApproval, "apps"
				r.Waves[0].Steps[0].Phase = drv1alpha1.StepSucceeded
				r.Waves[1].Steps[0].Type, r.Waves[1].Steps[0].Phase, r.Waves[1].Steps[0].Message = "approval", drv1alpha1.StepWaitingForApproval, "Check the shop"
			})},
			wantCode: plan.ExitWaitingForApproval, wantOut: []string{"approve it: kubectl sdrs plan approve erp --step apps/smoke -n apps\n"}},
		{name: "approve: never used, exit 3",
			plan: newPlan(desired(drv1alpha1.SiteTarget), atApproval), o: plan.DecideOptions{Action: drv1alpha1.DecisionApprove, Common: plan.Common{Timeout: 30 * time.Millisecond}},
			steps: []func(*drv1alpha1.DRPlan){atApproval}, wantCode: cli.ExitTimeout},
		{name: "approve: the site changes, exit 5",
			plan: newPlan(desired(drv1alpha1.SiteTarget), atApproval), o: plan.DecideOptions{Action: drv1alpha1.DecisionApprove},
			steps: []func(*drv1alpha1.DRPlan){atApproval, desired(drv1alpha1.SiteSource)}, wantCode: cli.ExitSuperseded},
		{name: "abort: Aborted is done",
			plan: newPlan(desired(drv1alpha1.SiteTarget), status(r3, blocked)), o: plan.DecideOptions{Action: drv1alpha1.DecisionAbort},
			steps: []func(*drv1alpha1.DRPlan){status(r3, blocked), status(r3, blocked), status(r3, blocked, applied(drv1alpha1.DecisionAbort, "", ""), func(r *drv1alpha1.PlanRun) {
				r.Phase, r.Reason = drv1alpha1.PlanAborted, drv1alpha1.RunAbortedReason
			})},
			wantOut: []string{"run r-0003 to target Aborted"}},
		{name: "run-level retry: the next run succeeds",
			plan: newPlan(desired(drv1alpha1.SiteTarget), status(r3, blocked, func(r *drv1alpha1.PlanRun) { r.Phase = drv1alpha1.PlanFailed })),
			o:    plan.DecideOptions{Action: drv1alpha1.DecisionRetry},
			steps: []func(*drv1alpha1.DRPlan){status(r3, blocked, func(r *drv1alpha1.PlanRun) { r.Phase = drv1alpha1.PlanFailed }),
				status(newRun("r-0004", drv1alpha1.SiteTarget, ""), done)},
			wantOut: []string{"run r-0004 to target Succeeded"}},
		{name: "member retry: used, then succeeds",
			plan: newPlan(desired(drv1alpha1.SiteTarget), status(r3, blocked)), o: plan.DecideOptions{Action: drv1alpha1.DecisionRetry, Member: "erp-web"},
			steps: []func(*drv1alpha1.DRPlan){status(r3, blocked), status(r3, blocked), status(r3, done, applied(drv1alpha1.DecisionRetry, "", "erp-web"))}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e := clitest.NewEnv([]client.Object{tc.plan}, script(tc.steps...))
			o := tc.o
			timeout := o.Timeout
			if timeout == 0 {
				timeout = time.Minute
			}
			o.Common = common(timeout)
			err := plan.Decide(context.Background(), e.Env, o)
			if got := cli.Code(err); got != tc.wantCode {
				t.Fatalf("exit %d, want %d (err %v)\nstdout:\n%s", got, tc.wantCode, err, e.Out)
			}
			if tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)) {
				t.Errorf("error %v, want %q", err, tc.wantErr)
			}
			for _, w := range tc.wantOut {
				if !strings.Contains(e.Out.String(), w) {
					t.Errorf("stdout lacks %q:\n%s", w, e.Out)
				}
			}
		})
	}
}
