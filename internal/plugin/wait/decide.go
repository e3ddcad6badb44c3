// Package wait implements `kubectl sdrs wait` and the --wait of every verb
// that changes a group: it waits, as kubectl wait does, for the operator to
// observe the current generation and report Ready for it.
package wait

import (
	"fmt"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	drv1alpha1 "github.com/sdrs-operator/sdrs-operator/api/v1alpha1"
)

// State is where a group stands for a waiter.
type State int

const (
	Waiting State = iota
	Done
	Failed
)

func (s State) String() string {
	return [...]string{"Waiting", "Done", "Failed"}[s]
}

// Pause goals: pause and resume change only an annotation (no new
// generation), so their waits look at the Paused condition too.
const (
	PauseAny = ""
	PauseOn  = "on"
	PauseOff = "off"
)

// Expect tunes Decide for the verb that patched the group.
type Expect struct {
	// RetryToken is the dr.sdrs.io/retry value the verb set. Until the
	// operator records it in status.lastHandledRetry, a JobFailed Stalled
	// condition is the old failure, not the retry's outcome.
	RetryToken string
	// Pause is PauseOn (done once Paused=True), PauseOff (never done while
	// Paused=True) or PauseAny.
	Pause string
}

// Decision is Decide's answer with a line for people.
type Decision struct {
	State   State
	Message string
}

// Decide reads a group the way kubectl wait --for=condition=Ready does,
// plus what kubectl wait cannot know: a condition stamped for an older
// generation is stale, and Stalled for this generation will not resolve by
// itself, so waiting longer is pointless.
func Decide(pg *drv1alpha1.ProtectionGroup, exp Expect) Decision {
	gen := pg.Generation
	conds := pg.Status.Conditions
	if exp.Pause == PauseOn {
		if c := meta.FindStatusCondition(conds, drv1alpha1.PausedCondition); c != nil && c.Status == metav1.ConditionTrue {
			return Decision{Done, "paused: " + c.Message}
		}
		return Decision{Waiting, "waiting for the operator to report Paused=True"}
	}
	if c := current(conds, drv1alpha1.StalledCondition, gen); c != nil && c.Status == metav1.ConditionTrue {
		if retryPending(pg, exp, c) {
			return Decision{Waiting, fmt.Sprintf("waiting for the operator to act on retry %q (still Stalled: %s)", exp.RetryToken, c.Message)}
		}
		return Decision{Failed, fmt.Sprintf("Stalled %s: %s", c.Reason, c.Message)}
	}
	if exp.Pause == PauseOff {
		if c := meta.FindStatusCondition(conds, drv1alpha1.PausedCondition); c != nil && c.Status == metav1.ConditionTrue {
			return Decision{Waiting, "waiting for the operator to report Paused=False"}
		}
	}
	ready := current(conds, drv1alpha1.ReadyCondition, gen)
	switch {
	case ready != nil && ready.Status == metav1.ConditionTrue && pg.Status.ObservedGeneration >= gen:
		return Decision{Done, fmt.Sprintf("Ready %s: %s", ready.Reason, ready.Message)}
	case ready != nil:
		// The most useful line while an operation runs: the operator's own
		// reason and message for this generation.
		return Decision{Waiting, fmt.Sprintf("Ready=%s %s: %s", ready.Status, ready.Reason, ready.Message)}
	case pg.Status.ObservedGeneration < gen:
		return Decision{Waiting, fmt.Sprintf("waiting for the operator to observe generation %d (observed %d)", gen, pg.Status.ObservedGeneration)}
	}
	if old := meta.FindStatusCondition(conds, drv1alpha1.ReadyCondition); old != nil {
		return Decision{Waiting, fmt.Sprintf("waiting for Ready for generation %d (Ready is for generation %d)", gen, old.ObservedGeneration)}
	}
	return Decision{Waiting, "waiting for a Ready condition"}
}

// current returns the condition of type t if it was set for generation gen.
func current(conds []metav1.Condition, t string, gen int64) *metav1.Condition {
	c := meta.FindStatusCondition(conds, t)
	if c == nil || c.ObservedGeneration != gen {
		return nil
	}
	return c
}

// retryPending: the operator consumes a retry only for a failed job
// (JobFailed), so only that Stalled reason is worth waiting out; any other
// stall is reported at once.
func retryPending(pg *drv1alpha1.ProtectionGroup, exp Expect, stalled *metav1.Condition) bool {
	return exp.RetryToken != "" &&
		stalled.Reason == drv1alpha1.JobFailedReason &&
		pg.GetAnnotations()[drv1alpha1.RetryAnnotation] == exp.RetryToken &&
		pg.Status.LastHandledRetry != exp.RetryToken
}
