package controllers

import (
	"time"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	drv1alpha1 "github.com/sdrs-operator/sdrs-operator/api/v1alpha1"
	"github.com/sdrs-operator/sdrs-operator/internal/metrics"
)

// publishMetrics hands the group's facts, read from the status this
// reconcile wrote, to the metrics; the collector turns them into series
// at scrape time.
func (r *ProtectionGroupReconciler) publishMetrics(pg *drv1alpha1.ProtectionGroup) {
	r.Metrics.ObserveGroup(metricFacts(pg))
}

// metricFacts reads the facts alerts and dashboards need from a group.
func metricFacts(pg *drv1alpha1.ProtectionGroup) metrics.GroupFacts {
	f := metrics.GroupFacts{
		Namespace:           pg.Namespace,
		Name:                pg.Name,
		ActiveSite:          string(pg.Status.ActiveSite),
		Conditions:          conditionStatuses(pg.Status.Conditions),
		ReplicationExpected: pg.Spec.Protection != drv1alpha1.ProtectionDisabled && pg.Status.Group != nil,
		ReplicationActive:   pg.Status.Replication != nil && pg.Status.Replication.Status == "active",
		FaultLevel:          -1,
		Failed:              lastFailure(pg),
	}
	if rd := pg.Status.Readiness; rd != nil {
		f.FaultLevel = int(rd.WorstFaultLevel)
	}
	if op := pg.Status.CurrentOperation; op != nil {
		f.Operation, f.OperationStarted = operationType(op), op.StartedAt.Time
	}
	if p := pg.Status.LastPassedDrill; p != nil && p.At != nil {
		f.DrillDue = p.At.Add(drillInterval(pg))
	}
	return f
}

func conditionStatuses(conds []metav1.Condition) map[string]string {
	out := make(map[string]string, len(conds))
	for _, c := range conds {
		out[c.Type] = string(c.Status)
	}
	return out
}

// drillInterval is how young the group's last passed drill must be.
func drillInterval(pg *drv1alpha1.ProtectionGroup) time.Duration {
	if d := pg.Spec.DrillInterval; d != nil && d.Duration > 0 {
		return d.Duration
	}
	return defaultDrillInterval
}

// lastFailure is the group's last finished operation when it failed, with
// the reason the failure left on the group: Stalled's while it is True
// (a failed job stalls), else Ready's.
func lastFailure(pg *drv1alpha1.ProtectionGroup) *metrics.Failure {
	op := pg.Status.LastOperation
	if op == nil || op.Result != drv1alpha1.OperationFailed || op.FinishedAt == nil {
		return nil
	}
	reason := ""
	if c := meta.FindStatusCondition(pg.Status.Conditions, drv1alpha1.StalledCondition); c != nil && c.Status == metav1.ConditionTrue {
		reason = c.Reason
	} else if c := meta.FindStatusCondition(pg.Status.Conditions, drv1alpha1.ReadyCondition); c != nil {
		reason = c.Reason
	}
	return &metrics.Failure{Type: string(op.Type), Reason: reason, Code: op.ErrorCode, FinishedAt: op.FinishedAt.Time}
}
