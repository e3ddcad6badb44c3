package controllers

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime/schema"

	drv1alpha1 "github.com/sdrs-operator/sdrs-operator/api/v1alpha1"
	"github.com/sdrs-operator/sdrs-operator/internal/sdrs"
)

// TestClassify lists every kind of error a reconcile can end with and what
// it does to the object. A new error kind needs a row here.
func TestClassify(t *testing.T) {
	type want struct {
		reason      string
		reconciling bool
		stalled     bool
		requeue     time.Duration
		returnsErr  bool
		warning     bool
		conflict    bool
	}
	wrap := func(err error) error { return fmt.Errorf("cannot read SDRS group g: %w", err) }
	cases := map[string]struct {
		reason string
		err    error
		want   want
	}{
		"Nil": {
			reason: "A clean reconcile sets no reason; Ready is decided by convergence.",
		},
		"Waiting": {
			reason: "A running job is progress: Reconciling, polled at the schedule's delay.",
			err:    waiting(drv1alpha1.PlannedFailoverInProgressReason, 3*time.Second, "job running"),
			want:   want{reason: drv1alpha1.PlannedFailoverInProgressReason, reconciling: true, requeue: 3 * time.Second},
		},
		"Stalled": {
			reason: "A failed job needs a person: Stalled, re-checked slowly, Warning Event.",
			err:    stalled(drv1alpha1.JobFailedReason, "job failed"),
			want:   want{reason: drv1alpha1.JobFailedReason, stalled: true, requeue: stalledRecheck, warning: true},
		},
		"Paused": {
			reason: "Paused is neither progress nor failure.",
			err:    &pausedError{wouldDo: "fail over"},
			want:   want{reason: drv1alpha1.ReconciliationPausedReason},
		},
		"Conflict": {
			reason: "A stale copy is re-read after a backoff, without touching conditions.",
			err:    apierrors.NewConflict(schema.GroupResource{Resource: "protectiongroups"}, "pg", errors.New("stale")),
			want:   want{conflict: true},
		},
		"Throttled": {
			reason: "429 waits exactly as long as SDRS asked and is not an error.",
			err:    wrap(&sdrs.ThrottledError{RetryAfter: 7 * time.Second, Code: "APIGW.0308"}),
			want:   want{reason: drv1alpha1.ThrottledReason, reconciling: true, requeue: 7 * time.Second},
		},
		"Transient": {
			reason: "5xx and network errors are Reconciling, never Stalled, and use the queue's backoff.",
			err:    wrap(&sdrs.TransientError{StatusCode: 503}),
			want:   want{reason: drv1alpha1.SDRSUnavailableReason, reconciling: true, returnsErr: true, warning: true},
		},
		"Unauthorized": {
			reason: "Refused credentials need a person; re-checked soon for a rotated Secret.",
			err:    wrap(&sdrs.UnauthorizedError{Code: "APIGW.0301"}),
			want:   want{reason: drv1alpha1.CredentialsInvalidReason, stalled: true, requeue: credentialsRecheck, warning: true},
		},
		"SecretMissing": {
			reason: "A missing Secret needs a person; re-checked soon.",
			err:    fmt.Errorf("cannot connect: %w", &sdrs.SecretError{Namespace: "ns", Name: "creds", NotFound: true}),
			want:   want{reason: drv1alpha1.SecretNotFoundReason, stalled: true, requeue: credentialsRecheck, warning: true},
		},
		"NotFound": {
			reason: "A missing SDRS group needs a person.",
			err:    wrap(&sdrs.NotFoundError{Resource: "protection group", ID: "g", Code: "SDRS.1013"}),
			want:   want{reason: drv1alpha1.GroupNotFoundReason, stalled: true, requeue: stalledRecheck, warning: true},
		},
		"Precondition": {
			reason: "SDRS refusing an action in the current state needs a person.",
			err:    wrap(&sdrs.PreconditionError{Code: "SDRS.1002"}),
			want:   want{reason: drv1alpha1.PreconditionNotMetReason, stalled: true, requeue: stalledRecheck, warning: true},
		},
		"InvalidRequest": {
			reason: "A malformed request or unusable ProviderConfig is not retried fast.",
			err:    wrap(&sdrs.InvalidRequestError{Code: "SDRS.0201"}),
			want:   want{reason: drv1alpha1.InvalidRequestReason, stalled: true, requeue: stalledRecheck, warning: true},
		},
		"Unexpected": {
			reason: "Anything else is retried with backoff and shown as Reconciling.",
			err:    errors.New("boom"),
			want:   want{reason: drv1alpha1.ReconcileErrorReason, reconciling: true, returnsErr: true, warning: true},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			o := outcomeOf(tc.err)
			got := want{reason: o.reason, reconciling: o.reconciling, stalled: o.stalled, requeue: o.requeue,
				returnsErr: o.retErr != nil, warning: o.warning, conflict: o.conflict}
			if diff := cmp.Diff(tc.want, got, cmp.AllowUnexported(want{})); diff != "" {
				t.Errorf("\nReason: %s\nclassify(%v): -want, +got:\n%s", tc.reason, tc.err, diff)
			}
		})
	}
}
