package controllers

import (
	"strings"

	corev1 "k8s.io/api/core/v1"

	drv1alpha1 "github.com/sdrs-operator/sdrs-operator/api/v1alpha1"
)

// event records an Event whose reason is the condition reason it mirrors.
// The action names the operation: the Event library folds Events with the
// same object, reason and action into one series that keeps the first
// message, so a re-protect's end must not share a failover's action.
func (r *ProtectionGroupReconciler) event(pg *drv1alpha1.ProtectionGroup, warning bool, reason, action, message string) {
	if r.Recorder == nil || reason == "" {
		return
	}
	typ := corev1.EventTypeNormal
	if warning {
		typ = corev1.EventTypeWarning
	}
	r.Recorder.Eventf(pg, nil, typ, reason, action, "%s", message)
}

// eventAction is the Event action for an operation: its type, and for one
// that moves the active site, where to ("PlannedFailoverToTarget").
func eventAction(op *drv1alpha1.Operation) string {
	if op == nil {
		return "Reconcile"
	}
	if !specOf(op).movesSite || op.To == "" {
		return string(op.Type)
	}
	return string(op.Type) + "To" + strings.ToUpper(string(op.To[:1])) + string(op.To[1:])
}

// recordFinished publishes a finished operation: an Event and metrics.
func (r *ProtectionGroupReconciler) recordFinished(pg *drv1alpha1.ProtectionGroup, op *drv1alpha1.Operation) {
	took := op.FinishedAt.Sub(op.StartedAt.Time)
	r.Metrics.OperationFinished(string(op.Type), string(op.Result), took)
	switch op.Result {
	case drv1alpha1.OperationSucceeded:
		r.event(pg, false, drv1alpha1.OperationSucceededReason, eventAction(op), op.Message)
	case drv1alpha1.OperationCancelled:
		r.event(pg, false, drv1alpha1.OperationCancelledReason, eventAction(op), op.Message)
	default:
		r.event(pg, true, drv1alpha1.JobFailedReason, eventAction(op), op.Message)
	}
}
