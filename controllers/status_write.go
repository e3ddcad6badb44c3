package controllers

import (
	"context"
	"fmt"
	"slices"

	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	drv1alpha1 "github.com/sdrs-operator/sdrs-operator/api/v1alpha1"
)

// rebaseAttempts bounds how often one status write is rebased onto a newer
// copy after conflicts caused by writes that changed nothing it depends on.
const rebaseAttempts = 5

// ownConditions are the condition types this operator writes; others in
// status belong to someone else and are kept.
var ownConditions = []string{
	drv1alpha1.ReadyCondition, drv1alpha1.ReconcilingCondition, drv1alpha1.StalledCondition,
	drv1alpha1.ProtectedCondition, drv1alpha1.PausedCondition, drv1alpha1.ServersRunningCondition,
}

// patchStatus writes the status if it changed since the last write. The
// write carries the resourceVersion, so a writer working from a stale copy
// fails with a conflict instead of overwriting a newer operation record.
//
// A conflict caused by a write that changed nothing this reconcile decided
// on (a label, a foreign annotation or status condition, a writer that
// touches the object every few milliseconds) is not a reason to decide
// again: the write is rebased onto the current copy, still
// resourceVersion-checked. Otherwise the conflict is returned and the
// reconcile starts over.
func (r *ProtectionGroupReconciler) patchStatus(ctx context.Context, s *scope) error {
	if equality.Semantic.DeepEqual(s.base.Status, s.pg.Status) {
		return nil
	}
	err := r.writeStatus(ctx, s)
	for i := 0; i < rebaseAttempts && apierrors.IsConflict(err); i++ {
		current := &drv1alpha1.ProtectionGroup{}
		if gerr := r.APIReader.Get(ctx, client.ObjectKeyFromObject(s.pg), current); gerr != nil {
			return fmt.Errorf("%w (and cannot read the current copy: %v)", err, gerr) //nolint:errorlint // only the conflict is the cause callers test for
		}
		if !sameDecisionInputs(s.base, current) {
			return err
		}
		keepForeignConditions(s.pg, current)
		s.pg.ObjectMeta = *current.ObjectMeta.DeepCopy()
		s.base = current
		err = r.writeStatus(ctx, s)
	}
	return err
}

// writeStatus replaces the status with s.pg's, resourceVersion-checked:
// an update of the status subresource, which the API server refuses with
// a conflict when the object changed since s.base, as the merge patch with
// an optimistic lock did. It costs both sides less than that patch: no
// diff here, no patch to apply there (docs/performance.md).
func (r *ProtectionGroupReconciler) writeStatus(ctx context.Context, s *scope) error {
	// Update a copy: the client decodes the answer into the object it is
	// given, which would swap the status pointers the phases hold.
	written := s.pg.DeepCopy()
	written.ResourceVersion = s.base.ResourceVersion
	if err := r.Status().Update(ctx, written); err != nil {
		return err
	}
	s.pg.ResourceVersion = written.ResourceVersion
	s.base = s.pg.DeepCopy()
	r.expect.wrote(client.ObjectKeyFromObject(s.pg), written.ResourceVersion, r.Clock())
	return nil
}

// sameDecisionInputs says whether current differs from base only in what
// no decision of this operator reads: the spec, deletion, the dr.sdrs.io/
// annotations and the operation records are the same.
func sameDecisionInputs(base, current *drv1alpha1.ProtectionGroup) bool {
	b, c := &base.Status, &current.Status
	return base.Generation == current.Generation &&
		base.DeletionTimestamp.IsZero() == current.DeletionTimestamp.IsZero() &&
		equalOwn(base.Annotations, current.Annotations) &&
		equality.Semantic.DeepEqual(b.CurrentOperation, c.CurrentOperation) &&
		equality.Semantic.DeepEqual(b.LastOperation, c.LastOperation) &&
		len(b.History) == len(c.History) &&
		b.LastHandledRetry == c.LastHandledRetry &&
		b.ObservedGeneration == c.ObservedGeneration &&
		equality.Semantic.DeepEqual(b.Group, c.Group)
}

// keepForeignConditions adds to pg the conditions of current that this
// operator does not own, so that a rebased write does not remove them.
func keepForeignConditions(pg, current *drv1alpha1.ProtectionGroup) {
	kept := slices.DeleteFunc(slices.Clone(pg.Status.Conditions), func(c metav1.Condition) bool {
		return !slices.Contains(ownConditions, c.Type)
	})
	for _, c := range current.Status.Conditions {
		if !slices.Contains(ownConditions, c.Type) {
			kept = append(kept, c)
		}
	}
	pg.Status.Conditions = kept
}
