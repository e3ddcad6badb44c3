package wait_test

import (
	"strings"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	drv1alpha1 "github.com/sdrs-operator/sdrs-operator/api/v1alpha1"
	"github.com/sdrs-operator/sdrs-operator/internal/plugin/clitest"
	"github.com/sdrs-operator/sdrs-operator/internal/plugin/wait"
)

const (
	T = metav1.ConditionTrue
	F = metav1.ConditionFalse
)

// at builds a group at generation gen, observed at observed, with conds.
func at(gen, observed int64, conds ...metav1.Condition) *drv1alpha1.ProtectionGroup {
	return clitest.PG("app", func(pg *drv1alpha1.ProtectionGroup) {
		pg.Generation, pg.Status.ObservedGeneration, pg.Status.Conditions = gen, observed, conds
	})
}

func ready(s metav1.ConditionStatus, reason string, gen int64) metav1.Condition {
	return clitest.Cond(drv1alpha1.ReadyCondition, s, reason, "msg "+reason, gen)
}

func stalledC(reason string, gen int64) metav1.Condition {
	return clitest.Cond(drv1alpha1.StalledCondition, T, reason, "needs a person", gen)
}

func pausedC(s metav1.ConditionStatus) metav1.Condition {
	return clitest.Cond(drv1alpha1.PausedCondition, s, "r", "paused msg", 2)
}

func withRetry(pg *drv1alpha1.ProtectionGroup, annotation, handled string) *drv1alpha1.ProtectionGroup {
	pg.Annotations = map[string]string{drv1alpha1.RetryAnnotation: annotation}
	pg.Status.LastHandledRetry = handled
	return pg
}

func site(pg *drv1alpha1.ProtectionGroup, s drv1alpha1.Site) *drv1alpha1.ProtectionGroup {
	pg.Status.ActiveSite = s
	return pg
}

func withOp(pg *drv1alpha1.ProtectionGroup) *drv1alpha1.ProtectionGroup {
	pg.Status.CurrentOperation = &drv1alpha1.Operation{Type: drv1alpha1.OperationFailover, Step: drv1alpha1.StepSDRSAction}
	return pg
}

func TestDecide(t *testing.T) {
	cases := []struct {
		name string
		pg   *drv1alpha1.ProtectionGroup
		exp  wait.Expect
		want wait.State
		msg  string // substring of the message
	}{
		{name: "stale observedGeneration: keep waiting even though Ready is True",
			pg: at(2, 1, ready(T, "Reconciled", 1)), want: wait.Waiting, msg: "observe generation 2 (observed 1)"},
		{name: "Ready True stamped for an older generation is stale",
			pg: at(2, 2, ready(T, "Reconciled", 1)), want: wait.Waiting, msg: "Ready is for generation 1"},
		{name: "Ready True for the current generation: done",
			pg: at(2, 2, ready(T, "Reconciled", 2)), want: wait.Done, msg: "Ready Reconciled"},
		{name: "Ready True for this generation but observedGeneration behind: keep waiting",
			pg: at(2, 1, ready(T, "Reconciled", 2)), want: wait.Waiting},
		{name: "generation not observed after a transient error: show the operator's reason",
			pg: at(2, 1, ready(F, "SDRSUnavailable", 2)), want: wait.Waiting, msg: "Ready=False SDRSUnavailable"},
		{name: "Ready False while an operation runs: keep waiting, show why",
			pg: at(2, 2, ready(F, "PlannedFailoverInProgress", 2)), want: wait.Waiting, msg: "Ready=False PlannedFailoverInProgress: msg"},
		{name: "no Ready condition yet: keep waiting",
			pg: at(1, 1), want: wait.Waiting, msg: "waiting for a Ready condition"},
		{name: "Stalled for the current generation: fail at once",
			pg: at(2, 2, ready(F, "JobFailed", 2), stalledC("JobFailed", 2)), want: wait.Failed, msg: "Stalled JobFailed: needs a person"},
		{name: "Stalled for an older generation is stale: the new spec may fix it",
			pg: at(3, 2, ready(F, "JobFailed", 2), stalledC("JobFailed", 2)), want: wait.Waiting},
		{name: "Stalled but observedGeneration already current and Stalled stale: not a failure",
			pg: at(3, 3, ready(F, "Progressing", 3), stalledC("JobFailed", 2)), want: wait.Waiting},
		{name: "retry not yet handled: the JobFailed stall is the old failure",
			pg: withRetry(at(2, 2, stalledC("JobFailed", 2)), "tok", "older"), exp: wait.Expect{RetryToken: "tok"},
			want: wait.Waiting, msg: `act on retry "tok"`},
		{name: "retry handled and stalled again: fail",
			pg: withRetry(at(2, 2, stalledC("JobFailed", 2)), "tok", "tok"), exp: wait.Expect{RetryToken: "tok"}, want: wait.Failed},
		{name: "retry pending does not hide a stall the retry cannot fix",
			pg: withRetry(at(2, 2, stalledC("CredentialsInvalid", 2)), "tok", ""), exp: wait.Expect{RetryToken: "tok"}, want: wait.Failed},
		{name: "retry token overwritten by someone else: the stall counts",
			pg: withRetry(at(2, 2, stalledC("JobFailed", 2)), "newer", ""), exp: wait.Expect{RetryToken: "tok"}, want: wait.Failed},
		{name: "the spec changed after this verb's write: superseded, whatever Ready says",
			pg: site(at(3, 3, ready(T, "Reconciled", 3)), drv1alpha1.SiteTarget), exp: wait.Expect{Generation: 2, Site: drv1alpha1.SiteSource},
			want: wait.Superseded, msg: "generation 3, desiredActiveSite source, replaced generation 2 that this command wrote (active site source)"},
		{name: "the generation this verb wrote is Ready at the site it asked for: done",
			pg: site(at(2, 2, ready(T, "Reconciled", 2)), drv1alpha1.SiteTarget), exp: wait.Expect{Generation: 2, Site: drv1alpha1.SiteTarget}, want: wait.Done},
		{name: "Ready but at another site than asked for: not done",
			pg: at(2, 2, ready(T, "Reconciled", 2)), exp: wait.Expect{Generation: 2, Site: drv1alpha1.SiteTarget},
			want: wait.Waiting, msg: "the active site is source, not target"},
		{name: "paused with nothing in flight: stop, with the resume command",
			pg:   at(2, 2, ready(F, drv1alpha1.ReconciliationPausedReason, 2), pausedC(T)),
			want: wait.Paused, msg: "kubectl sdrs resume app -n apps --wait"},
		{name: "paused with a job in flight: the operator still follows it",
			pg: withOp(at(2, 2, ready(F, drv1alpha1.ReconciliationPausedReason, 2), pausedC(T))), want: wait.Waiting},
		{name: "paused, but Ready for an older generation: the operator has not read the change yet",
			pg: at(2, 1, ready(F, drv1alpha1.ReconciliationPausedReason, 1), pausedC(T)), want: wait.Waiting},
		{name: "pause: a newer generation does not matter",
			pg: at(3, 3, pausedC(T)), exp: wait.Expect{Pause: wait.PauseOn, Generation: 2}, want: wait.Done},
		{name: "pause: done once Paused is True, whatever Ready says",
			pg: at(2, 2, ready(F, "ReconciliationPaused", 2), pausedC(T)), exp: wait.Expect{Pause: wait.PauseOn}, want: wait.Done, msg: "paused"},
		{name: "pause: waiting while Paused is False",
			pg: at(2, 2, ready(T, "Reconciled", 2), pausedC(F)), exp: wait.Expect{Pause: wait.PauseOn}, want: wait.Waiting},
		{name: "resume: a Ready True from while paused is not enough",
			pg: at(2, 2, ready(T, "Reconciled", 2), pausedC(T)), exp: wait.Expect{Pause: wait.PauseOff}, want: wait.Waiting, msg: "Paused=False"},
		{name: "resume: done when Paused is False and Ready",
			pg: at(2, 2, ready(T, "Reconciled", 2), pausedC(F)), exp: wait.Expect{Pause: wait.PauseOff}, want: wait.Done},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			d := wait.Decide(tc.pg, tc.exp)
			if d.State != tc.want {
				t.Errorf("state %s (%s), want %s", d.State, d.Message, tc.want)
			}
			if !strings.Contains(d.Message, tc.msg) {
				t.Errorf("message %q lacks %q", d.Message, tc.msg)
			}
		})
	}
}
