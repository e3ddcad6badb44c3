package wait_test

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
	"github.com/sdrs-operator/sdrs-operator/internal/plugin/wait"
)

// state is what the operator would have written by one read: generation 2
// (the user's new spec), observedGeneration, the operation in flight and
// the Ready and Stalled conditions.
func state(observed int64, op *drv1alpha1.Operation, conds ...metav1.Condition) func(*drv1alpha1.ProtectionGroup) {
	return func(pg *drv1alpha1.ProtectionGroup) {
		pg.Generation, pg.Status.ObservedGeneration = 2, observed
		pg.Status.CurrentOperation, pg.Status.Conditions = op, conds
	}
}

func op(step drv1alpha1.OperationStep) *drv1alpha1.Operation {
	return &drv1alpha1.Operation{Type: drv1alpha1.OperationPlannedFailover, From: "source", To: "target", Step: step}
}

func unchanged(*drv1alpha1.ProtectionGroup) {}

func TestRun(t *testing.T) {
	const ref = "protectiongroup.dr.sdrs.io/app"
	stopping := ready(F, drv1alpha1.StoppingServersReason, 2)
	cases := []struct {
		name     string
		steps    []func(*drv1alpha1.ProtectionGroup)
		timeout  time.Duration
		wantCode int
		wantOut  string
		wantErr  string
	}{
		{name: "prints a line only when the Ready reason or the step changes, then done",
			steps: []func(*drv1alpha1.ProtectionGroup){
				unchanged, // the selection read
				state(1, nil, ready(T, "Reconciled", 1)),
				state(2, op(drv1alpha1.StepStopServers), stopping),
				state(2, op(drv1alpha1.StepStopServers), stopping), // no news: no line
				state(2, op(drv1alpha1.StepSDRSAction), ready(F, drv1alpha1.PlannedFailoverInProgressReason, 2)),
				state(2, nil, ready(T, "Reconciled", 2)),
			},
			wantOut: "[0s] " + ref + ": waiting for the operator to observe generation 2 (observed 1)\n" +
				"[0s] " + ref + ": PlannedFailover source->target step StopServers; Ready=False StoppingServers: msg StoppingServers\n" +
				"[0s] " + ref + ": PlannedFailover source->target step SDRSAction; Ready=False PlannedFailoverInProgress: msg PlannedFailoverInProgress\n" +
				"[0s] " + ref + ": Ready Reconciled: msg Reconciled\n"},
		{name: "Stalled for the current generation ends the wait with exit 4 and the message",
			steps: []func(*drv1alpha1.ProtectionGroup){
				unchanged,
				state(2, op(drv1alpha1.StepSDRSAction), ready(F, drv1alpha1.PlannedFailoverInProgressReason, 2)),
				state(2, nil, ready(F, drv1alpha1.JobFailedReason, 2), stalledC(drv1alpha1.JobFailedReason, 2)),
			},
			wantCode: cli.ExitStalled, wantErr: ref + ": Stalled JobFailed: needs a person"},
		{name: "a group that never gets Ready times out with exit 3 and its last state",
			steps:    []func(*drv1alpha1.ProtectionGroup){unchanged, state(1, nil, ready(T, "Reconciled", 1))},
			timeout:  20 * time.Millisecond,
			wantCode: cli.ExitTimeout, wantErr: "waiting for " + ref + " (waiting for the operator to observe generation 2 (observed 1))"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			env := clitest.NewEnv([]client.Object{clitest.PG("app")}, clitest.Script(tc.steps...))
			timeout := tc.timeout
			if timeout == 0 {
				timeout = time.Minute
			}
			err := wait.Select(context.Background(), env.Env, cli.Selection{Names: []string{"app"}},
				wait.Options{Timeout: timeout, Interval: time.Millisecond})
			if got := cli.Code(err); got != tc.wantCode {
				t.Fatalf("exit code %d, want %d (err %v)", got, tc.wantCode, err)
			}
			if tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)) {
				t.Errorf("error %v, want it to contain %q", err, tc.wantErr)
			}
			if tc.wantOut != "" && env.Out.String() != tc.wantOut {
				t.Errorf("stdout:\n%s\nwant:\n%s", env.Out, tc.wantOut)
			}
		})
	}
}

// A fleet wait goes on for the other groups when one stalls (b here, at
// once), then exits 4 for the stall.
func TestRunFleetReportsStallAfterOthersFinish(t *testing.T) {
	objs := []client.Object{clitest.PG("a", clitest.Labels("tier", "db")), clitest.PG("b", clitest.Labels("tier", "db"))}
	stall := state(2, nil, ready(F, drv1alpha1.JobFailedReason, 2), stalledC(drv1alpha1.JobFailedReason, 2))
	perGroup := func(forA func(*drv1alpha1.ProtectionGroup)) func(*drv1alpha1.ProtectionGroup) {
		return func(pg *drv1alpha1.ProtectionGroup) {
			if pg.Name == "b" {
				stall(pg)
				return
			}
			forA(pg)
		}
	}
	env := clitest.NewEnv(objs, clitest.Script( // a fleet is selected by List, so every Get is a wait read
		perGroup(state(2, op(drv1alpha1.StepSDRSAction), ready(F, drv1alpha1.PlannedFailoverInProgressReason, 2))),
		perGroup(state(2, nil, ready(T, "Reconciled", 2))),
	))
	err := wait.Select(context.Background(), env.Env, cli.Selection{Selector: "tier=db"},
		wait.Options{Timeout: time.Minute, Interval: time.Millisecond})
	if cli.Code(err) != cli.ExitStalled || !strings.Contains(err.Error(), "protectiongroup.dr.sdrs.io/b: Stalled JobFailed") {
		t.Fatalf("err %v (code %d), want exit 4 naming b", err, cli.Code(err))
	}
	if !strings.Contains(env.Out.String(), "protectiongroup.dr.sdrs.io/a: Ready Reconciled") {
		t.Errorf("a was not waited for to the end:\n%s", env.Out)
	}
	if !strings.Contains(env.Out.String(), "protectiongroup.dr.sdrs.io/b: Stalled JobFailed: needs a person") {
		t.Errorf("the stall is not in the timeline: %q", env.Out)
	}
}

// The group was deleted while waiting: exit 1, not a timeout.
func TestRunDeleted(t *testing.T) {
	env := clitest.NewEnv([]client.Object{clitest.PG("app")})
	err := wait.Run(context.Background(), env.Env, []cli.Target{{Key: client.ObjectKey{Namespace: "apps", Name: "gone"}}},
		wait.Options{Timeout: time.Minute, Interval: time.Millisecond})
	if cli.Code(err) != cli.ExitError || !strings.Contains(err.Error(), "apps/gone was deleted") {
		t.Fatalf("err %v (code %d), want exit 1 for a deleted group", err, cli.Code(err))
	}
}
