package controllers

import (
	"fmt"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	drv1alpha1 "github.com/sdrs-operator/sdrs-operator/api/v1alpha1"
	"github.com/sdrs-operator/sdrs-operator/internal/sdrs"
)

var (
	verdictT0    = time.Date(2026, 12, 1, 3, 0, 0, 0, time.UTC)
	verdictGrace = 2 * time.Minute
	young        = verdictT0.Add(10 * time.Second)
	old          = verdictT0.Add(verdictGrace + time.Second)
)

// attempt is an operation of typ from source to target (or at source for
// the types that do not move), attempted at verdictT0 on a group in before.
func attempt(typ drv1alpha1.OperationType, before string) *drv1alpha1.Operation {
	at := metav1.NewTime(verdictT0)
	op := &drv1alpha1.Operation{Type: typ, RequestID: "r", Step: drv1alpha1.StepSDRSAction,
		From: drv1alpha1.SiteSource, To: drv1alpha1.SiteSource, Attempt: 1, AttemptedAt: &at,
		StartedAt: metav1.NewTime(verdictT0.Add(-time.Minute)), GroupStatusBefore: before}
	if specOf(op).movesSite {
		op.To = drv1alpha1.SiteTarget
	}
	return op
}

func groupAt(status string, site sdrs.Site) *sdrs.ProtectionGroup {
	return &sdrs.ProtectionGroup{ID: "g", Status: status, PriorityStation: site}
}

func failedJob(id, typ string, begin time.Time) sdrs.Job {
	return sdrs.Job{ID: id, Type: typ, Status: sdrs.JobFail, BeginTime: begin, ErrorCode: "SDRS.1029", FailReason: "disk busy"}
}

// TestJudgeAttemptHoles: the rows that used to go wrong, each named after
// what SDRS shows.
func TestJudgeAttemptHoles(t *testing.T) {
	reverse := "reverseProtectionGroupNoCG"
	cases := []struct {
		name   string
		facts  attemptFacts
		want   outcomeKind
		failed string // the task-center job the failure names
	}{
		{name: "retry from error-reversing never sent, within the grace: pending, not failed",
			facts: attemptFacts{op: attempt(drv1alpha1.OperationPlannedFailover, sdrs.StatusErrorReversing),
				group: groupAt(sdrs.StatusErrorReversing, sdrs.SiteSource), now: young},
			want: outcomePending},
		{name: "retry from error-reversing never sent, after the grace: not started, so sent again",
			facts: attemptFacts{op: attempt(drv1alpha1.OperationPlannedFailover, sdrs.StatusErrorReversing),
				group: groupAt(sdrs.StatusErrorReversing, sdrs.SiteSource), now: old},
			want: outcomeNotStarted},
		{name: "retry from error-reversing that failed again: the task center says so",
			facts: attemptFacts{op: attempt(drv1alpha1.OperationPlannedFailover, sdrs.StatusErrorReversing),
				group:    groupAt(sdrs.StatusErrorReversing, sdrs.SiteSource),
				failures: []sdrs.Job{failedJob("j2", reverse, verdictT0.Add(time.Second))}, now: young},
			want: outcomeFailed, failed: "j2"},
		{name: "accepted action SDRS does not show yet (status lags): pending",
			facts: attemptFacts{op: attempt(drv1alpha1.OperationPlannedFailover, sdrs.StatusProtected),
				group: groupAt(sdrs.StatusProtected, sdrs.SiteSource), now: young},
			want: outcomePending},
		{name: "failed job that restored the old status: failed with SDRS's code, not retried",
			facts: attemptFacts{op: attempt(drv1alpha1.OperationPlannedFailover, sdrs.StatusProtected),
				group:    groupAt(sdrs.StatusProtected, sdrs.SiteSource),
				failures: []sdrs.Job{failedJob("j1", reverse, verdictT0.Add(3*time.Second))}, now: old},
			want: outcomeFailed, failed: "j1"},
		{name: "a failure older than the attempt is not ours",
			facts: attemptFacts{op: attempt(drv1alpha1.OperationPlannedFailover, sdrs.StatusProtected),
				group:    groupAt(sdrs.StatusProtected, sdrs.SiteSource),
				failures: []sdrs.Job{failedJob("j0", reverse, verdictT0.Add(-time.Hour))}, now: old},
			want: outcomeNotStarted},
		{name: "a failure already recorded in history is not ours",
			facts: attemptFacts{op: attempt(drv1alpha1.OperationPlannedFailover, sdrs.StatusErrorReversing),
				group:    groupAt(sdrs.StatusErrorReversing, sdrs.SiteSource),
				failures: []sdrs.Job{failedJob("j0", reverse, verdictT0.Add(time.Second))}, recorded: []string{"j0"}, now: old},
			want: outcomeNotStarted},
		{name: "a failure of another job type is not ours",
			facts: attemptFacts{op: attempt(drv1alpha1.OperationPlannedFailover, sdrs.StatusProtected),
				group:    groupAt(sdrs.StatusProtected, sdrs.SiteSource),
				failures: []sdrs.Job{failedJob("j9", "failoverProtectionGroupNoCG", verdictT0.Add(time.Second))}, now: old},
			want: outcomeNotStarted},
		{name: "a failure without a begin time counts as ours: a wrong guess only stalls",
			facts: attemptFacts{op: attempt(drv1alpha1.OperationPlannedFailover, sdrs.StatusProtected),
				group:    groupAt(sdrs.StatusProtected, sdrs.SiteSource),
				failures: []sdrs.Job{failedJob("j3", reverse, time.Time{})}, now: young},
			want: outcomeFailed, failed: "j3"},
		{name: "the job SDRS named failed, whatever its time",
			facts: func() attemptFacts {
				op := attempt(drv1alpha1.OperationPlannedFailover, sdrs.StatusProtected)
				op.JobID = "j4"
				return attemptFacts{op: op, accepted: true, group: groupAt(sdrs.StatusProtected, sdrs.SiteSource),
					failures: []sdrs.Job{failedJob("j4", reverse, verdictT0.Add(-time.Hour))}, recorded: []string{"j4"}, now: old}
			}(),
			want: outcomeFailed, failed: "j4"},
		{name: "an accepted job that vanished with no trace: unknown, never sent again",
			facts: func() attemptFacts {
				op := attempt(drv1alpha1.OperationPlannedFailover, sdrs.StatusProtected)
				op.JobID = "j5"
				return attemptFacts{op: op, accepted: true, group: groupAt(sdrs.StatusProtected, sdrs.SiteSource), now: old}
			}(),
			want: outcomeUnknown},
		{name: "a status this operator does not know: unknown, never not started",
			facts: attemptFacts{op: attempt(drv1alpha1.OperationPlannedFailover, sdrs.StatusProtected),
				group: groupAt("migrating", sdrs.SiteSource), now: old},
			want: outcomeUnknown},
		{name: "error-reversing after an attempt from protected: the job failed, code unknown",
			facts: attemptFacts{op: attempt(drv1alpha1.OperationPlannedFailover, sdrs.StatusProtected),
				group: groupAt(sdrs.StatusErrorReversing, sdrs.SiteSource), now: young},
			want: outcomeFailed},
		{name: "someone else's action running: unknown (the caller waits while it is transitional)",
			facts: attemptFacts{op: attempt(drv1alpha1.OperationPlannedFailover, sdrs.StatusProtected),
				group: groupAt(sdrs.StatusFailingOver, sdrs.SiteSource), now: young},
			want: outcomeUnknown},
		{name: "delete of a group SDRS no longer knows: done",
			facts: attemptFacts{op: attempt(drv1alpha1.OperationDelete, sdrs.StatusAvailable), now: young},
			want:  outcomeSucceeded},
		{name: "a failover whose group vanished: unknown",
			facts: attemptFacts{op: attempt(drv1alpha1.OperationFailover, sdrs.StatusProtected), now: old},
			want:  outcomeUnknown},
		{name: "an attempt recorded before groupStatusBefore existed: judged by the action's start states",
			facts: func() attemptFacts {
				op := attempt(drv1alpha1.OperationFailover, "")
				op.AttemptedAt = nil
				return attemptFacts{op: op, group: groupAt(sdrs.StatusProtected, sdrs.SiteSource), now: old}
			}(),
			want: outcomeNotStarted},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			tc.facts.grace = verdictGrace
			got := judgeAttempt(tc.facts)
			if got.kind != tc.want {
				t.Fatalf("verdict %s (%s), want %s", got.kind, got.why, tc.want)
			}
			if tc.failed != "" && (got.failure == nil || got.failure.ID != tc.failed) {
				t.Errorf("failure %+v, want task-center job %s", got.failure, tc.failed)
			}
		})
	}
}

// allStatuses is every documented SDRS group status and one it does not
// document.
var allStatuses = []string{
	sdrs.StatusCreating, sdrs.StatusAvailable, sdrs.StatusProtected, sdrs.StatusDeleting, sdrs.StatusErrorDeleting,
	sdrs.StatusError, sdrs.StatusStarting, sdrs.StatusErrorStarting, sdrs.StatusReprotecting, sdrs.StatusErrorReprotecting,
	sdrs.StatusStopping, sdrs.StatusErrorStopping, sdrs.StatusReversing, sdrs.StatusErrorReversing,
	sdrs.StatusFailingOver, sdrs.StatusFailedOver, sdrs.StatusErrorFailingOver, "something-new",
}

// TestJudgeAttemptGrid runs every operation × every group status it may
// start from × every status SDRS may show × both sites × timing × whether
// the attempt was answered × a task-center failure, and checks the rules
// that make it safe on each.
func TestJudgeAttemptGrid(t *testing.T) {
	rows := 0
	for typ, spec := range operations {
		if typ == drv1alpha1.OperationCreate {
			continue // judged by name: TestJudgeCreate
		}
		befores := spec.from
		if len(befores) == 0 {
			befores = []string{sdrs.StatusAvailable}
		}
		for _, before := range befores {
			for _, status := range append(allStatuses, "") {
				for _, site := range []sdrs.Site{sdrs.SiteSource, sdrs.SiteTarget} {
					for _, now := range []time.Time{young, old} {
						for _, accepted := range []bool{false, true} {
							for _, withFailure := range []bool{false, true} {
								rows++
								op := attempt(typ, before)
								f := attemptFacts{op: op, accepted: accepted, now: now, grace: verdictGrace}
								if accepted {
									op.JobID = "job-1"
								}
								if status != "" {
									f.group = groupAt(status, site)
								}
								if withFailure {
									f.failures = []sdrs.Job{failedJob("job-x", spec.jobType, verdictT0.Add(time.Second))}
								}
								name := fmt.Sprintf("%s from %s: group %q at %s, %s, accepted=%v, failure=%v",
									typ, before, status, site, map[bool]string{true: "young", false: "old"}[now.Equal(young)], accepted, withFailure)
								checkVerdictRules(t, name, f, judgeAttempt(f))
							}
						}
					}
				}
			}
		}
	}
	t.Logf("%d rows", rows)
}

func checkVerdictRules(t *testing.T, name string, f attemptFacts, got attemptOutcome) {
	t.Helper()
	spec := specOf(f.op)
	fail := func(rule string) { t.Errorf("%s: verdict %s (%s): %s", name, got.kind, got.why, rule) }
	if len(f.failures) > 0 {
		if got.kind != outcomeFailed || got.failure == nil {
			fail("a failure of this attempt in the task center must decide it")
		}
		return
	}
	switch got.kind {
	case outcomeNotStarted:
		if f.accepted {
			fail("an action SDRS accepted is never judged not started")
		}
		if f.now.Sub(verdictT0) < verdictGrace {
			fail("not started only after the grace")
		}
		if f.group == nil || f.group.Status != f.op.GroupStatusBefore {
			fail("not started only when the group is as the attempt found it")
		}
		if spec.movesSite && drv1alpha1.Site(f.group.PriorityStation) != f.op.From {
			fail("not started only when the active site did not move")
		}
	case outcomePending:
		if f.now.Sub(verdictT0) >= verdictGrace {
			fail("pending only within the grace")
		}
	case outcomeRunning:
		if f.group == nil || f.group.Status != spec.running {
			fail("running only when the group shows this action's own running status")
		}
	case outcomeSucceeded:
		if !spec.succeeded(f.group, f.op) {
			fail("succeeded only when the group shows the action done")
		}
	case outcomeFailed:
		if f.group == nil || f.group.Status != spec.failedStatus || unchanged(f.group, f.op, spec) {
			fail("failed without the task center only when the group moved into the action's error status")
		}
	}
	if f.group != nil && !knownStatus(f.group.Status) && got.kind != outcomeUnknown {
		fail("a status not in the SDRS documentation is unknown")
	}
}

func knownStatus(s string) bool {
	for _, k := range allStatuses[:len(allStatuses)-1] {
		if s == k {
			return true
		}
	}
	return false
}
