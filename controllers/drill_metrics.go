package controllers

import (
	"time"

	drv1alpha1 "github.com/sdrs-operator/sdrs-operator/api/v1alpha1"
)

// DrillExpiryMetrics is what a DrillMetrics may also publish: when a
// drill's servers are deleted. internal/metrics implements it; a
// DrillMetrics without it records no expiry.
type DrillExpiryMetrics interface {
	SetDrillExpiry(namespace, name string, expiresAt time.Time)
}

// publishDrillExpiry hands the drill's status.expiresAt to the metrics
// while its servers exist (zero once released, or before they exist).
func publishDrillExpiry(m DrillMetrics, d *drv1alpha1.ProtectionGroupDrill) {
	em, ok := m.(DrillExpiryMetrics)
	if !ok {
		return
	}
	var exp time.Time
	if d.Status.ExpiresAt != nil && d.Status.Phase != drv1alpha1.DrillReleased {
		exp = d.Status.ExpiresAt.Time
	}
	em.SetDrillExpiry(d.Namespace, d.Name, exp)
}
