package controllers

import (
	"sigs.k8s.io/controller-runtime/pkg/client"

	drv1alpha1 "github.com/sdrs-operator/sdrs-operator/api/v1alpha1"
)

// publishMetrics exports the group's state for alerts and dashboards.
func (r *ProtectionGroupReconciler) publishMetrics(pg *drv1alpha1.ProtectionGroup) {
	m := r.Metrics
	m.SetInFlight(client.ObjectKeyFromObject(pg).String(), operationType(pg.Status.CurrentOperation))
	conds := make(map[string]string, len(pg.Status.Conditions))
	for _, c := range pg.Status.Conditions {
		conds[c.Type] = string(c.Status)
	}
	m.SetConditions(pg.Namespace, pg.Name, conds)
	active := pg.Status.Replication != nil && pg.Status.Replication.Status == "active"
	m.SetReplicationActive(pg.Namespace, pg.Name, active, pg.Spec.Protection != drv1alpha1.ProtectionDisabled && pg.Status.Group != nil)
	if r := pg.Status.Readiness; r != nil {
		m.SetFaultLevel(pg.Namespace, pg.Name, int(r.WorstFaultLevel))
	}
}
