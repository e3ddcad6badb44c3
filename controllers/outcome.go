package controllers

import (
	"errors"
	"fmt"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"

	drv1alpha1 "github.com/sdrs-operator/sdrs-operator/api/v1alpha1"
	"github.com/sdrs-operator/sdrs-operator/internal/sdrs"
)

// This file is the one place that answers "what does this error do to the
// object": which condition and reason it sets, whether it needs a person
// (Stalled) or resolves by itself (Reconciling), and when to look again.

const (
	// stalledRecheck: Stalled still re-checks, slowly, so that a fix made
	// outside Kubernetes (site back up, key rotated) is noticed.
	stalledRecheck = 2 * time.Minute
	// credentialsRecheck is shorter, so that a rotated Secret is picked up
	// soon without a watch on Secrets.
	credentialsRecheck = 30 * time.Second
)

// waitError means the operator is waiting for something that resolves by
// itself: a job running, replication catching up, servers stopping.
type waitError struct {
	reason  string
	message string
	after   time.Duration
	// warn makes the transition's Event a Warning: the wait resolves by
	// itself, but a person should know (a drill past its expiry that
	// SDRS has not deleted yet).
	warn bool
}

func (e *waitError) Error() string { return e.message }

func waiting(reason string, after time.Duration, format string, args ...any) error {
	return &waitError{reason: reason, after: after, message: fmt.Sprintf(format, args...)}
}

// stallError means progress needs a person: the operator will not act
// until something changes, but it keeps re-checking slowly.
type stallError struct {
	reason  string
	message string
	recheck time.Duration
}

func (e *stallError) Error() string { return e.message }

func stalled(reason string, format string, args ...any) error {
	return &stallError{reason: reason, recheck: stalledRecheck, message: fmt.Sprintf(format, args...)}
}

// outcome is what an error (or its absence) does to the object.
type outcome struct {
	reason      string
	message     string
	reconciling bool          // Reconciling=True
	stalled     bool          // Stalled=True
	requeue     time.Duration // RequeueAfter; 0 with retErr means queue backoff
	retErr      error         // returned to controller-runtime for rate-limited backoff
	warning     bool          // the Event is a Warning
	conflict    bool          // a write conflicted: leave conditions alone, look again after a backoff
}

// outcomeOf maps the error a reconcile ended with to its outcome.
func outcomeOf(err error) outcome {
	if err == nil {
		return outcome{}
	}
	var we *waitError
	var se *stallError
	var secretErr *sdrs.SecretError
	var pe *pausedError
	switch {
	case errors.As(err, &pe):
		// Paused is neither progress nor a failure: no new action until
		// the annotation goes; the idle sync interval still applies.
		return outcome{reason: drv1alpha1.ReconciliationPausedReason, message: pe.Error()}
	case errors.As(err, &we):
		return outcome{reason: we.reason, message: we.message, reconciling: true, requeue: we.after, warning: we.warn}
	case errors.As(err, &se):
		return outcome{reason: se.reason, message: se.message, stalled: true, requeue: se.recheck, warning: true}
	case apierrors.IsConflict(err):
		// Someone (often our own earlier write, not yet in the cache)
		// changed the object: look again at once, say nothing.
		return outcome{conflict: true}
	case errors.As(err, &secretErr):
		return outcome{reason: drv1alpha1.SecretNotFoundReason, message: err.Error(), stalled: true,
			requeue: credentialsRecheck, warning: true}
	case sdrs.IsUnauthorized(err):
		return outcome{reason: drv1alpha1.CredentialsInvalidReason, message: err.Error(), stalled: true,
			requeue: credentialsRecheck, warning: true}
	}
	if d, ok := sdrs.IsThrottled(err); ok {
		return outcome{reason: drv1alpha1.ThrottledReason, message: err.Error(), reconciling: true, requeue: d}
	}
	switch {
	case sdrs.IsTransient(err):
		return outcome{reason: drv1alpha1.SDRSUnavailableReason, message: err.Error(), reconciling: true,
			retErr: err, warning: true}
	case sdrs.IsNotFound(err):
		return outcome{reason: drv1alpha1.GroupNotFoundReason, message: err.Error(), stalled: true,
			requeue: stalledRecheck, warning: true}
	}
	if sdrs.IsInvalidRequest(err) {
		return outcome{reason: drv1alpha1.InvalidRequestReason, message: err.Error(), stalled: true,
			requeue: stalledRecheck, warning: true}
	}
	if _, ok := sdrs.IsPrecondition(err); ok {
		return outcome{reason: drv1alpha1.PreconditionNotMetReason, message: err.Error(), stalled: true,
			requeue: stalledRecheck, warning: true}
	}
	return outcome{reason: drv1alpha1.ReconcileErrorReason, message: err.Error(), reconciling: true,
		retErr: err, warning: true}
}
