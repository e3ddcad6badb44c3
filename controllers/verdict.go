package controllers

import (
	"fmt"
	"slices"
	"time"

	drv1alpha1 "github.com/sdrs-operator/sdrs-operator/api/v1alpha1"
	"github.com/sdrs-operator/sdrs-operator/internal/sdrs"
)

// The verdict answers one question after a crash, a lost answer or a job
// SDRS forgot: did the SDRS action of this attempt happen? It uses only what
// the SDRS documentation promises (sdrs-api.md §4, §6, §13): a job goes
// INIT → RUNNING → SUCCESS | FAIL; a failed job is listed in the task
// center; the group's status may not show an accepted action at once, and
// a failed job may leave the group as it was. So the group's error status
// is a failure only when the attempt did not start from it, and an
// unchanged group means "not started" only after a grace longer than any
// call could still be on its way.

// outcomeKind is what SDRS shows of an attempt.
type outcomeKind int

const (
	// outcomeNotStarted: SDRS did not take the action; it may be sent again.
	outcomeNotStarted outcomeKind = iota
	// outcomePending: nothing shows yet, but the action may still appear.
	outcomePending
	// outcomeRunning: the group shows the action running.
	outcomeRunning
	// outcomeSucceeded: the group shows the action done.
	outcomeSucceeded
	// outcomeFailed: the task center or the group shows the job failed.
	outcomeFailed
	// outcomeUnknown: SDRS shows something that does not say; never act.
	outcomeUnknown
)

func (k outcomeKind) String() string {
	return [...]string{"not started", "pending", "running", "succeeded", "failed", "unknown"}[k]
}

// attemptFacts is what the verdict may look at.
type attemptFacts struct {
	op *drv1alpha1.Operation
	// accepted: SDRS answered this attempt with a job ID (op.JobID), which
	// SDRS no longer shows.
	accepted bool
	// group as read now; nil when SDRS does not know it.
	group *sdrs.ProtectionGroup
	// failures are the task center's failed jobs of the group.
	failures []sdrs.Job
	// recorded are job IDs whose outcome status already holds (history).
	recorded []string
	now      time.Time
	// grace bounds how long an accepted action may stay invisible, plus
	// the longest a call may still be on its way (the client timeout).
	grace time.Duration
}

// outcome is the verdict.
type attemptOutcome struct {
	kind outcomeKind
	// failure is the task-center entry that shows the failure, if any.
	failure *sdrs.Job
	// wait is how long until a pending attempt may be judged again.
	wait time.Duration
	// why says what was seen, for messages.
	why string
}

// clockSkew is how much earlier than our attemptedAt SDRS may stamp the
// begin time of the job our attempt created, to allow for clocks that
// disagree.
const clockSkew = time.Minute

// judgeAttempt is the verdict on an attempt whose answer is not known. It is
// pure: every case is a row of its table test.
func judgeAttempt(f attemptFacts) attemptOutcome {
	op, spec := f.op, specOf(f.op)
	if j := taskCenterFailure(f); j != nil {
		return attemptOutcome{kind: outcomeFailed, failure: j,
			why: fmt.Sprintf("the SDRS task center lists job %s (%s) as failed", j.ID, j.Type)}
	}
	g := f.group
	if g == nil {
		if spec.succeeded(nil, op) {
			return attemptOutcome{kind: outcomeSucceeded, why: "SDRS no longer knows the group"}
		}
		return attemptOutcome{kind: outcomeUnknown, why: "SDRS does not know the group"}
	}
	status := g.Status
	switch {
	case status == spec.running:
		return attemptOutcome{kind: outcomeRunning, why: "the group is " + status}
	case isTransitional(status):
		return attemptOutcome{kind: outcomeUnknown, why: fmt.Sprintf("the group is %s, which %s does not start", status, describe(op))}
	case spec.succeeded(g, op):
		return attemptOutcome{kind: outcomeSucceeded, why: fmt.Sprintf("the group is %s at %s", status, g.PriorityStation)}
	case unchanged(g, op, spec):
		age := f.now.Sub(attemptedAt(op))
		if age < f.grace {
			return attemptOutcome{kind: outcomePending, wait: f.grace - age,
				why: fmt.Sprintf("the group is still %s at %s, and SDRS may not show an accepted action yet", status, g.PriorityStation)}
		}
		if f.accepted {
			return attemptOutcome{kind: outcomeUnknown,
				why: fmt.Sprintf("SDRS accepted job %s, no longer shows it, and the group is still %s with no failure in the task center", op.JobID, status)}
		}
		return attemptOutcome{kind: outcomeNotStarted,
			why: fmt.Sprintf("the group is still %s at %s after %s and the task center lists no failure", status, g.PriorityStation, age.Round(time.Second))}
	case status == spec.failedStatus:
		return attemptOutcome{kind: outcomeFailed, why: "the group ended in status " + status}
	}
	return attemptOutcome{kind: outcomeUnknown,
		why: fmt.Sprintf("the group is %s at %s, which does not tell whether %s happened", status, g.PriorityStation, describe(op))}
}

// unchanged says the group is as the attempt found it.
func unchanged(g *sdrs.ProtectionGroup, op *drv1alpha1.Operation, spec opSpec) bool {
	if spec.movesSite && drv1alpha1.Site(g.PriorityStation) != op.From {
		return false
	}
	if op.GroupStatusBefore != "" {
		return g.Status == op.GroupStatusBefore
	}
	return slices.Contains(spec.from, g.Status)
}

// taskCenterFailure finds the failed job of this attempt: the job SDRS
// named, or a job of the action's type that began after the attempt and
// whose outcome is not recorded already. An entry without a begin time is
// taken as ours: wrongly so only stalls, while the other way round could
// repeat a failed action.
func taskCenterFailure(f attemptFacts) *sdrs.Job {
	spec := specOf(f.op)
	since := attemptedAt(f.op).Add(-clockSkew)
	for i := range f.failures {
		j := &f.failures[i]
		if f.op.JobID != "" && j.ID == f.op.JobID {
			return j
		}
		if j.Type != spec.jobType || slices.Contains(f.recorded, j.ID) {
			continue
		}
		if j.BeginTime.IsZero() || !j.BeginTime.Before(since) {
			return j
		}
	}
	return nil
}

// attemptedAt is when the attempt was made; an operation recorded before
// attempts were counted was attempted when it started.
func attemptedAt(op *drv1alpha1.Operation) time.Time {
	if op.AttemptedAt != nil {
		return op.AttemptedAt.Time
	}
	return op.StartedAt.Time
}

// recordedJobs lists the job IDs status already holds an outcome for.
func recordedJobs(pg *drv1alpha1.ProtectionGroup) []string {
	var ids []string
	for _, h := range pg.Status.History {
		if h.JobID != "" {
			ids = append(ids, h.JobID)
		}
	}
	return ids
}
