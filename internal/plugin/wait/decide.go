// Package wait implements `kubectl sdrs wait` and the --wait of every verb
// that changes a group: it waits, as kubectl wait does, for the operator to
// observe the current generation and report Ready for it.
package wait

import (
	"fmt"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	drv1alpha1 "github.com/sdrs-operator/sdrs-operator/api/v1alpha1"
	"github.com/sdrs-operator/sdrs-operator/internal/plugin/cli"
)

// State is where a group stands for a waiter.
type State int

const (
	Waiting State = iota
	Done
	// Failed: Stalled for this generation; a person must act.
	Failed
	// Superseded: the spec changed again after the verb's change, so what
	// the operator does now is someone else's request.
	Superseded
	// Paused: the operator would act but the group is paused.
	Paused
)

func (s State) String() string {
	return [...]string{"Waiting", "Done", "Failed", "Superseded", "Paused"}[s]
}

// ExitCode is the exit code a wait that ends in s returns.
func (s State) ExitCode() int {
	switch s {
	case Done:
		return cli.ExitOK
	case Failed:
		return cli.ExitStalled
	case Superseded:
		return cli.ExitSuperseded
	case Paused:
		return cli.ExitPaused
	}
	return cli.ExitTimeout
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
	// Generation is the generation the verb wrote. A group at another
	// generation has a newer spec: its outcome is not this verb's to
	// report. Zero follows the group's current generation (the wait verb).
	Generation int64
	// Site is the active site the verb asked for; Ready elsewhere is not
	// done. Empty when the verb moves nothing.
	Site drv1alpha1.Site
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
	if exp.Generation != 0 && gen != exp.Generation {
		return Decision{Superseded, superseded(pg, exp)}
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
		if exp.Site != "" && pg.Status.ActiveSite != exp.Site {
			return Decision{Waiting, fmt.Sprintf("Ready %s, but the active site is %s, not %s", ready.Reason, orDash(string(pg.Status.ActiveSite)), exp.Site)}
		}
		return Decision{Done, fmt.Sprintf("Ready %s: %s", ready.Reason, ready.Message)}
	case ready != nil && ready.Reason == drv1alpha1.ReconciliationPausedReason && pg.Status.CurrentOperation == nil:
		// The operator has read this spec and would act, but is paused;
		// it follows a job already in flight, so only then is it stuck.
		return Decision{Paused, fmt.Sprintf("Paused: %s. It acts only once resumed: %s", ready.Message, cli.ResumeCommand(pg))}
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

// superseded words a newer generation for the verb that wrote an older one.
func superseded(pg *drv1alpha1.ProtectionGroup, exp Expect) string {
	asked := ""
	if exp.Site != "" {
		asked = fmt.Sprintf(" (active site %s)", exp.Site)
	}
	return fmt.Sprintf("the spec changed while waiting: generation %d, desiredActiveSite %s, replaced generation %d that this command wrote%s; "+
		"not reporting the outcome of someone else's change: see kubectl sdrs status %s -n %s, or follow it with kubectl sdrs wait %s -n %s",
		pg.Generation, orDash(string(pg.Spec.DesiredActiveSite)), exp.Generation, asked, pg.Name, pg.Namespace, pg.Name, pg.Namespace)
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
