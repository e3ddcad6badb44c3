package controllers

import (
	"fmt"
	"strings"
	"time"

	"k8s.io/apimachinery/pkg/api/equality"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	drv1alpha1 "github.com/sdrs-operator/sdrs-operator/api/v1alpha1"
	"github.com/sdrs-operator/sdrs-operator/internal/sdrs"
)

// readinessInput is what decides whether a failover would run now.
type readinessInput struct {
	spec     *drv1alpha1.ProtectionGroupSpec
	group    *sdrs.ProtectionGroup // nil when not read
	facts    *groupFacts           // nil when not read
	inFlight *drv1alpha1.Operation
	// running are the production servers that run (for serverPower Manual).
	running []string
}

// check is one kind of failover's verdict.
type check = drv1alpha1.FailoverCheck

func ready() check { return check{Ready: true} }

func notReady(reason, format string, args ...any) check {
	return check{Reason: reason, Message: fmt.Sprintf(format, args...)}
}

// judgeReadiness says whether a planned and a forced failover to the other
// site would run now. It is pure; it mirrors decide and the SDRS state
// machine (sdrs-api.md §6.2), and changes nothing.
func judgeReadiness(in readinessInput) (planned, forced check) {
	if both, stop := readinessBlocked(in); stop {
		return both, both
	}
	g, f := in.group, in.facts
	to := drv1alpha1.Site(g.PriorityStation).Other()

	forced = ready()
	switch g.Status {
	case sdrs.StatusProtected, sdrs.StatusErrorFailingOver, sdrs.StatusErrorReversing:
	default:
		forced = notReady(drv1alpha1.PreconditionNotMetReason,
			"SDRS fails over only a group in status protected, error-failing-over or error-reversing; it is %s", g.Status)
	}

	switch {
	case g.Status != sdrs.StatusProtected && g.Status != sdrs.StatusErrorReversing:
		planned = notReady(drv1alpha1.PreconditionNotMetReason, "SDRS runs a planned failover only from status protected or error-reversing; the group is %s%s",
			g.Status, nextStepFrom(g.Status))
	case g.HealthStatus == sdrs.HealthAbnormal:
		planned = notReady(drv1alpha1.ProductionSiteUnhealthyReason, "the production site %s is unhealthy", g.ProductionZone())
	case f.worstFault == sdrs.FaultFailoverAdvised:
		planned = notReady(drv1alpha1.FailoverAdvisedReason,
			"a replication pair reports fault level 2 (the production disk cannot be read or written): SDRS advises a forced failover to %s", to)
	case g.ReplicationStatus != sdrs.ReplicationActive:
		planned = notReady(drv1alpha1.ReplicationNotSynchronizedReason, "replication is %s (%d%%), not active (synchronised)",
			orNotReported(g.ReplicationStatus), g.Progress)
	case len(f.unhealthy) > 0:
		planned = notReady(drv1alpha1.InstancesUnhealthyReason, "protected instances are not healthy: %s", strings.Join(f.unhealthy, ", "))
	default:
		planned = ready()
		if in.spec.ServerPower == drv1alpha1.ServerPowerManual && len(in.running) > 0 {
			// Stopping them is a step of every Manual planned failover,
			// not a fault: the failover runs once a person has.
			planned.Message = fmt.Sprintf("serverPower is Manual: it starts once a person stops the production servers (%s)", strings.Join(in.running, ", "))
		}
	}
	return planned, forced
}

// readinessBlocked returns the verdict both kinds share when one fact
// stops them alike.
func readinessBlocked(in readinessInput) (check, bool) {
	g, f := in.group, in.facts
	switch {
	case in.inFlight != nil:
		return notReady(drv1alpha1.OperationInProgressReason, "%s is in flight", describe(in.inFlight)), true
	case g == nil:
		return notReady(drv1alpha1.ReadinessUnknownReason, "the SDRS group has not been read"), true
	case isTransitional(g.Status):
		return notReady(drv1alpha1.GroupBusyReason, "SDRS group is %s", g.Status), true
	case f == nil:
		return notReady(drv1alpha1.ReadinessUnknownReason, "the group's replication pairs and instances have not been read"), true
	case f.pairs == 0:
		return notReady(drv1alpha1.NoReplicationPairsReason, "the SDRS group has no replication pairs (no protected instances)"), true
	case f.worstFault == sdrs.FaultLinkBroken:
		return notReady(drv1alpha1.FailoverNotAllowedReason,
			"a replication pair reports fault level 5 (the replication link is broken): SDRS allows no failover until it is repaired"), true
	case f.invalid:
		return notReady(drv1alpha1.InstancesUnhealthyReason,
			"protected instances are invalid (a server was deleted): %s; remove them from the group or recreate their servers", strings.Join(f.unhealthy, ", ")), true
	}
	return check{}, false
}

func nextStepFrom(status string) string {
	switch status {
	case sdrs.StatusFailedOver, sdrs.StatusErrorReprotecting:
		return " (re-protect first: spec.protection Enabled)"
	case sdrs.StatusAvailable, sdrs.StatusErrorStarting:
		return " (enable protection first)"
	}
	return ""
}

func orNotReported(s string) string {
	if s == "" {
		return "not reported"
	}
	return s
}

// setReadiness writes status.readiness and FailoverReady from this
// reconcile's facts; without a fresh group read it keeps what it had.
func setReadiness(pg *drv1alpha1.ProtectionGroup, in readinessInput, now time.Time) {
	if in.group == nil && in.inFlight == nil && pg.Status.Readiness != nil {
		return
	}
	planned, forced := judgeReadiness(in)
	r := &drv1alpha1.Readiness{Planned: planned, Forced: forced, WorstFaultLevel: -1, RPOExceededPairs: -1}
	if old := pg.Status.Readiness; old != nil && in.facts == nil {
		r.WorstFaultLevel, r.ReplicationPairs, r.UnhealthyInstances, r.RPOExceededPairs, r.CheckedAt =
			old.WorstFaultLevel, old.ReplicationPairs, old.UnhealthyInstances, old.RPOExceededPairs, old.CheckedAt
	}
	if f := in.facts; f != nil {
		at := metav1.NewTime(f.at)
		r.WorstFaultLevel, r.ReplicationPairs, r.UnhealthyInstances, r.RPOExceededPairs, r.CheckedAt =
			int32(f.worstFault), int32(f.pairs), f.unhealthy, int32(f.rpoExceeded), &at
	}
	if old := pg.Status.Readiness; old != nil && old.CheckedAt != nil && r.CheckedAt != nil &&
		now.Sub(old.CheckedAt.Time) < observedAtRefresh && sameReadiness(old, r) {
		// Idle syncs must not rewrite the object: like observedAt, the
		// check time moves only with a change or once an hour.
		r.CheckedAt = old.CheckedAt
	}
	pg.Status.Readiness = r

	to := pg.Status.ActiveSite.Other()
	switch {
	case planned.Ready:
		msg := fmt.Sprintf("a planned failover to %s would run now (and a forced one)", to)
		if planned.Message != "" {
			msg += "; " + planned.Message
		}
		setCondition(pg, drv1alpha1.FailoverReadyCondition, metav1.ConditionTrue, drv1alpha1.PlannedFailoverReadyReason, msg, now)
	case forced.Ready:
		setCondition(pg, drv1alpha1.FailoverReadyCondition, metav1.ConditionFalse, drv1alpha1.ForcedFailoverOnlyReason,
			fmt.Sprintf("only a forced failover to %s (data loss up to the RPO) would run now; planned: %s", to, planned.Message), now)
	case planned.Reason == drv1alpha1.OperationInProgressReason || planned.Reason == drv1alpha1.ReadinessUnknownReason:
		setCondition(pg, drv1alpha1.FailoverReadyCondition, metav1.ConditionUnknown, planned.Reason, planned.Message, now)
	default:
		setCondition(pg, drv1alpha1.FailoverReadyCondition, metav1.ConditionFalse, drv1alpha1.NotFailoverReadyReason,
			fmt.Sprintf("no failover to %s would run now: %s", to, forced.Message), now)
	}
}

func sameReadiness(a, b *drv1alpha1.Readiness) bool {
	x, y := *a, *b
	x.CheckedAt, y.CheckedAt = nil, nil
	return equality.Semantic.DeepEqual(x, y)
}
