package controllers

import (
	corev1 "k8s.io/api/core/v1"

	drv1alpha1 "github.com/sdrs-operator/sdrs-operator/api/v1alpha1"
)

// event records an Event whose reason is the condition reason it mirrors.
func (r *ProtectionGroupReconciler) event(pg *drv1alpha1.ProtectionGroup, warning bool, reason, message string) {
	if r.Recorder == nil || reason == "" {
		return
	}
	typ := corev1.EventTypeNormal
	if warning {
		typ = corev1.EventTypeWarning
	}
	r.Recorder.Eventf(pg, nil, typ, reason, "Reconcile", "%s", message)
}

// recordFinished publishes a finished operation: an Event and metrics.
func (r *ProtectionGroupReconciler) recordFinished(pg *drv1alpha1.ProtectionGroup, op *drv1alpha1.Operation) {
	took := op.FinishedAt.Sub(op.StartedAt.Time)
	r.metrics().OperationFinished(string(op.Type), string(op.Result), took)
	switch op.Result {
	case drv1alpha1.OperationSucceeded:
		r.event(pg, false, drv1alpha1.OperationSucceededReason, op.Message)
		return
	case drv1alpha1.OperationCancelled:
		r.event(pg, false, drv1alpha1.OperationCancelledReason, op.Message)
		return
	}
	r.event(pg, true, drv1alpha1.JobFailedReason, op.Message)
}
