package controllers

import (
	"fmt"
	"time"

	drv1alpha1 "github.com/sdrs-operator/sdrs-operator/api/v1alpha1"
	"github.com/sdrs-operator/sdrs-operator/internal/sdrs"
)

const (
	// busyPoll: how often to look at a group that is busy with an action
	// the operator did not start.
	busyPoll = 15 * time.Second
	// syncPoll: how often to look while replication catches up before a
	// planned failover.
	syncPoll = 10 * time.Second
)

// decision is what the spec asks of a group in its observed state: an
// operation to start, a reason to wait or stall, or nothing (converged).
type decision struct {
	op  drv1alpha1.OperationType
	to  drv1alpha1.Site
	err error // waitError or stallError when the spec cannot be met now
}

// decide compares the spec with the observed SDRS group and the worst
// fault level of its replication pairs (-1 when not read). It is pure, so
// every row of the SDRS state machine has a table test.
func decide(name string, spec *drv1alpha1.ProtectionGroupSpec, g *sdrs.ProtectionGroup, fault int) decision {
	desired := spec.DesiredActiveSite
	active := drv1alpha1.Site(g.PriorityStation)
	wantProtected := spec.Protection != drv1alpha1.ProtectionDisabled
	move := active != desired

	if isTransitional(g.Status) {
		return decision{err: waiting(drv1alpha1.GroupBusyReason, busyPoll,
			"SDRS group is %s (an action started outside this operator, or one whose job ID was lost); waiting for it to end", g.Status)}
	}

	switch g.Status {
	case sdrs.StatusError:
		return decision{err: stalled(drv1alpha1.GroupErrorReason,
			"SDRS group is in status error (its creation failed); delete it in SDRS or adopt another group")}
	case sdrs.StatusErrorDeleting:
		return decision{err: stalled(drv1alpha1.GroupErrorReason,
			"SDRS group is in status error-deleting; retry the deletion in SDRS or contact support")}

	case sdrs.StatusFailedOver, sdrs.StatusErrorReprotecting:
		if wantProtected {
			return decision{op: drv1alpha1.OperationReprotect, to: active}
		}
		if move {
			return decision{err: stalled(drv1alpha1.ProtectionRequiredReason,
				"the group failed over to %s and replication is stopped; moving it to %s needs re-protection first: set spec.protection to Enabled", active, desired)}
		}
		return decision{}

	case sdrs.StatusAvailable, sdrs.StatusErrorStarting:
		if wantProtected && g.ProtectedInstanceCount == 0 && g.ReplicationCount == 0 {
			// SDRS protects replication pairs: starting an empty group
			// only fails. The sync notices members when they are added.
			return decision{err: stalled(drv1alpha1.NoReplicationPairsReason,
				"SDRS group %s has no protected instances, so there is nothing to protect and SDRS would refuse; add the servers with the SDRS console (Protection Groups > Add Protected Instance) or the API (POST /v1/{project_id}/protected-instances with server_group_id %s), then protection starts by itself",
				g.ID, g.ID)}
		}
		if wantProtected {
			return decision{op: drv1alpha1.OperationEnableProtection, to: active}
		}
		if move {
			return decision{err: stalled(drv1alpha1.ProtectionRequiredReason,
				"moving the active site from %s to %s needs protection (SDRS fails over only protected groups): set spec.protection to Enabled", active, desired)}
		}
		return decision{}

	case sdrs.StatusProtected, sdrs.StatusErrorReversing, sdrs.StatusErrorFailingOver, sdrs.StatusErrorStopping:
		if move {
			return decideMove(name, spec, g, fault, active, desired)
		}
		if !wantProtected && (g.Status == sdrs.StatusProtected || g.Status == sdrs.StatusErrorStopping) {
			return decision{op: drv1alpha1.OperationDisableProtection, to: active}
		}
		if g.Status != sdrs.StatusProtected {
			return decision{err: stalled(drv1alpha1.GroupErrorReason,
				"SDRS group is in status %s at the desired site %s; SDRS offers no action that clears it from here: check the failed job in the SDRS task center", g.Status, desired)}
		}
		return decision{}
	}
	return decision{err: stalled(drv1alpha1.GroupErrorReason,
		"SDRS group reports status %q, which this operator does not know; not acting", g.Status)}
}

// decideMove picks planned failover or failover for a protected group
// whose active site differs from the desired one.
func decideMove(name string, spec *drv1alpha1.ProtectionGroupSpec, g *sdrs.ProtectionGroup, fault int, active, desired drv1alpha1.Site) decision {
	if fault == sdrs.FaultLinkBroken {
		return decision{err: waiting(drv1alpha1.FailoverNotAllowedReason, busyPoll,
			"a replication pair of the group reports fault level 5 (the replication link is broken): SDRS allows no failover to %s until it is repaired; waiting", desired)}
	}
	// Fault level 2 (the production disk is unusable) is SDRS advising a
	// forced failover, as an unhealthy production site is.
	unhealthy := g.HealthStatus == sdrs.HealthAbnormal || fault == sdrs.FaultFailoverAdvised
	forced := spec.FailoverMode == drv1alpha1.FailoverForced ||
		(spec.FailoverMode == drv1alpha1.FailoverAuto && unhealthy)

	if forced {
		if g.Status == sdrs.StatusErrorStopping {
			return decision{err: stalled(drv1alpha1.PreconditionNotMetReason,
				"SDRS cannot fail over a group in status error-stopping; disable and re-enable protection in SDRS first")}
		}
		return decision{op: drv1alpha1.OperationFailover, to: desired}
	}
	if unhealthy {
		why := fmt.Sprintf("the production site %s is unhealthy", g.ProductionZone())
		if g.HealthStatus != sdrs.HealthAbnormal {
			why = "a replication pair reports fault level 2 (the production disk cannot be read or written; SDRS advises a forced failover)"
		}
		return decision{err: stalled(drv1alpha1.ProductionSiteUnhealthyReason,
			"%s, so a planned failover cannot run; to fail over to %s accepting data loss up to the RPO, run `kubectl sdrs failover %s --to %s --allow-data-loss` (or set spec.failoverMode: Forced with spec.allowDataLoss: true)",
			why, desired, name, desired)}
	}
	if g.Status != sdrs.StatusProtected && g.Status != sdrs.StatusErrorReversing {
		return decision{err: stalled(drv1alpha1.PreconditionNotMetReason,
			"SDRS allows a planned failover only from status protected or error-reversing, and the group is %s; use failoverMode Forced with allowDataLoss: true, or clear the error in SDRS", g.Status)}
	}
	if g.ReplicationStatus != sdrs.ReplicationActive {
		status := g.ReplicationStatus
		if status == "" {
			status = "not reported"
		}
		return decision{err: waiting(drv1alpha1.ReplicationNotSynchronizedReason, syncPoll,
			"replication is %s (%d%%); the planned failover to %s starts when it is active", status, g.Progress, desired)}
	}
	return decision{op: drv1alpha1.OperationPlannedFailover, to: desired}
}

// isTransitional reports statuses in which SDRS is running an action.
func isTransitional(status string) bool {
	switch status {
	case sdrs.StatusCreating, sdrs.StatusStarting, sdrs.StatusReprotecting, sdrs.StatusStopping,
		sdrs.StatusReversing, sdrs.StatusFailingOver, sdrs.StatusDeleting:
		return true
	}
	return false
}
