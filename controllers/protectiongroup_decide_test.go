package controllers

import (
	"errors"
	"testing"

	drv1alpha1 "github.com/sdrs-operator/sdrs-operator/api/v1alpha1"
	"github.com/sdrs-operator/sdrs-operator/internal/sdrs"
)

func TestDecide(t *testing.T) {
	type want struct {
		op     drv1alpha1.OperationType
		to     drv1alpha1.Site
		reason string // of the wait or stall, "" when none
		stall  bool
	}
	spec := func(desired drv1alpha1.Site, mode drv1alpha1.FailoverMode, protection drv1alpha1.ProtectionMode) drv1alpha1.ProtectionGroupSpec {
		return drv1alpha1.ProtectionGroupSpec{DesiredActiveSite: desired, FailoverMode: mode, AllowDataLoss: mode != drv1alpha1.FailoverPlanned, Protection: protection}
	}
	group := func(status string, at sdrs.Site, replication, health string) *sdrs.ProtectionGroup {
		return &sdrs.ProtectionGroup{ID: "g", Status: status, PriorityStation: at, ReplicationStatus: replication,
			HealthStatus: health, SourceAvailabilityZone: "az1", TargetAvailabilityZone: "az2",
			ProtectedInstanceCount: 1, ReplicationCount: 1}
	}
	const (
		src, tgt = drv1alpha1.SiteSource, drv1alpha1.SiteTarget
		planned  = drv1alpha1.FailoverPlanned
		forced   = drv1alpha1.FailoverForced
		auto     = drv1alpha1.FailoverAuto
		on, off  = drv1alpha1.ProtectionEnabled, drv1alpha1.ProtectionDisabled
	)
	empty := group(sdrs.StatusAvailable, sdrs.SiteSource, "", "")
	empty.ProtectedInstanceCount, empty.ReplicationCount = 0, 0
	cases := map[string]struct {
		reason string
		spec   drv1alpha1.ProtectionGroupSpec
		group  *sdrs.ProtectionGroup
		fault  int
		want   want
	}{
		"EmptyGroupCannotBeProtected": {
			reason: "A created group has no members: enabling protection would only fail, so it stalls naming what is missing.",
			spec:   spec(src, planned, on), group: empty,
			want: want{reason: drv1alpha1.NoReplicationPairsReason, stall: true},
		},
		"EmptyGroupUnprotectedIsFine": {
			reason: "An empty group with protection Disabled needs nothing.",
			spec:   spec(src, planned, off), group: empty,
		},
		"FaultLevel5BlocksEveryMove": {
			reason: "Fault level 5: SDRS allows no failover, not even a forced one; wait for the repair.",
			spec:   spec(tgt, forced, on), group: group(sdrs.StatusProtected, sdrs.SiteSource, "active", "normal"), fault: sdrs.FaultLinkBroken,
			want: want{reason: drv1alpha1.FailoverNotAllowedReason},
		},
		"AutoForcedOnFaultLevel2": {
			reason: "Auto: fault level 2 is SDRS advising a forced failover, even while the group reads healthy.",
			spec:   spec(tgt, auto, on), group: group(sdrs.StatusProtected, sdrs.SiteSource, "active", "normal"), fault: sdrs.FaultFailoverAdvised,
			want: want{op: drv1alpha1.OperationFailover, to: tgt},
		},
		"PlannedStallsOnFaultLevel2": {
			reason: "Planned never loses data: fault level 2 needs a person to choose a forced failover.",
			spec:   spec(tgt, planned, on), group: group(sdrs.StatusProtected, sdrs.SiteSource, "active", "normal"), fault: sdrs.FaultFailoverAdvised,
			want: want{reason: drv1alpha1.ProductionSiteUnhealthyReason, stall: true},
		},
		"Converged": {
			reason: "A protected group at the desired site needs nothing.",
			spec:   spec(src, planned, on), group: group(sdrs.StatusProtected, sdrs.SiteSource, "active", "normal"),
		},
		"PlannedSwitchover": {
			reason: "A healthy synchronised group moves with reverse-server-group.",
			spec:   spec(tgt, planned, on), group: group(sdrs.StatusProtected, sdrs.SiteSource, "active", "normal"),
			want: want{op: drv1alpha1.OperationPlannedFailover, to: tgt},
		},
		"PlannedSwitchoverBack": {
			reason: "Moving back to source is a planned failover with priority_station source.",
			spec:   spec(src, planned, on), group: group(sdrs.StatusProtected, sdrs.SiteTarget, "active", "normal"),
			want: want{op: drv1alpha1.OperationPlannedFailover, to: src},
		},
		"PlannedWaitsForSync": {
			reason: "A planned failover waits (not stalls) while replication is copying.",
			spec:   spec(tgt, planned, on), group: group(sdrs.StatusProtected, sdrs.SiteSource, "copying", "normal"),
			want: want{reason: drv1alpha1.ReplicationNotSynchronizedReason},
		},
		"PlannedRefusedSiteDown": {
			reason: "Planned mode never loses data: an unhealthy production site needs a person.",
			spec:   spec(tgt, planned, on), group: group(sdrs.StatusProtected, sdrs.SiteSource, "active", "abnormal"),
			want: want{reason: drv1alpha1.ProductionSiteUnhealthyReason, stall: true},
		},
		"AutoPlannedWhenHealthy": {
			reason: "Auto uses the planned path while the production site is healthy.",
			spec:   spec(tgt, auto, on), group: group(sdrs.StatusProtected, sdrs.SiteSource, "active", "normal"),
			want: want{op: drv1alpha1.OperationPlannedFailover, to: tgt},
		},
		"AutoForcedWhenUnhealthy": {
			reason: "Auto fails over when the production site is unhealthy.",
			spec:   spec(tgt, auto, on), group: group(sdrs.StatusProtected, sdrs.SiteSource, "copying", "abnormal"),
			want: want{op: drv1alpha1.OperationFailover, to: tgt},
		},
		"ForcedIgnoresSync": {
			reason: "Forced does not wait for replication: that is the data loss it accepts.",
			spec:   spec(tgt, forced, on), group: group(sdrs.StatusProtected, sdrs.SiteSource, "copying", "normal"),
			want: want{op: drv1alpha1.OperationFailover, to: tgt},
		},
		"ReprotectAfterFailover": {
			reason: "A failed-over group is re-protected when protection is Enabled.",
			spec:   spec(tgt, forced, on), group: group(sdrs.StatusFailedOver, sdrs.SiteTarget, "active-stopped", "normal"),
			want: want{op: drv1alpha1.OperationReprotect, to: tgt},
		},
		"ReprotectBeforeMovingBack": {
			reason: "SDRS cannot reverse a failed-over group: re-protect comes first.",
			spec:   spec(src, planned, on), group: group(sdrs.StatusFailedOver, sdrs.SiteTarget, "active-stopped", "normal"),
			want: want{op: drv1alpha1.OperationReprotect, to: tgt},
		},
		"FailedOverUnprotectedCannotMove": {
			reason: "Without protection a failed-over group cannot move back; a person must enable it.",
			spec:   spec(src, planned, off), group: group(sdrs.StatusFailedOver, sdrs.SiteTarget, "active-stopped", "normal"),
			want: want{reason: drv1alpha1.ProtectionRequiredReason, stall: true},
		},
		"EnableProtection": {
			reason: "An available group gets protection when Enabled.",
			spec:   spec(src, planned, on), group: group(sdrs.StatusAvailable, sdrs.SiteSource, "", ""),
			want: want{op: drv1alpha1.OperationEnableProtection, to: src},
		},
		"DisableProtection": {
			reason: "A protected group at the desired site stops protection when Disabled.",
			spec:   spec(src, planned, off), group: group(sdrs.StatusProtected, sdrs.SiteSource, "active", "normal"),
			want: want{op: drv1alpha1.OperationDisableProtection, to: src},
		},
		"UnprotectedConvergedWhenDisabled": {
			reason: "An available group with protection Disabled is what was asked.",
			spec:   spec(src, planned, off), group: group(sdrs.StatusAvailable, sdrs.SiteSource, "", ""),
		},
		"UnprotectedCannotMove": {
			reason: "SDRS fails over only protected groups.",
			spec:   spec(tgt, forced, off), group: group(sdrs.StatusAvailable, sdrs.SiteSource, "", ""),
			want: want{reason: drv1alpha1.ProtectionRequiredReason, stall: true},
		},
		"BusyOutsideOperator": {
			reason: "A transitional status means an action is running: wait, never start another.",
			spec:   spec(tgt, planned, on), group: group(sdrs.StatusReversing, sdrs.SiteSource, "active", "normal"),
			want: want{reason: drv1alpha1.GroupBusyReason},
		},
		"RetryPlannedFromErrorReversing": {
			reason: "SDRS allows reverse again from error-reversing.",
			spec:   spec(tgt, planned, on), group: group(sdrs.StatusErrorReversing, sdrs.SiteSource, "active", "normal"),
			want: want{op: drv1alpha1.OperationPlannedFailover, to: tgt},
		},
		"NoPlannedFromErrorFailingOver": {
			reason: "SDRS does not allow reverse from error-failing-over.",
			spec:   spec(tgt, planned, on), group: group(sdrs.StatusErrorFailingOver, sdrs.SiteSource, "active", "normal"),
			want: want{reason: drv1alpha1.PreconditionNotMetReason, stall: true},
		},
		"CreationFailed": {
			reason: "A group whose creation failed cannot be used.",
			spec:   spec(src, planned, on), group: group(sdrs.StatusError, sdrs.SiteSource, "", ""),
			want: want{reason: drv1alpha1.GroupErrorReason, stall: true},
		},
		"UnknownStatus": {
			reason: "An unknown status is never acted on.",
			spec:   spec(tgt, forced, on), group: group("melting", sdrs.SiteSource, "", ""),
			want: want{reason: drv1alpha1.GroupErrorReason, stall: true},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			d := decide("web", &tc.spec, tc.group, tc.fault)
			got := want{op: d.op, to: d.to}
			var we *waitError
			var se *stallError
			switch {
			case errors.As(d.err, &we):
				got.reason = we.reason
			case errors.As(d.err, &se):
				got.reason, got.stall = se.reason, true
			case d.err != nil:
				t.Fatalf("unexpected error type %T: %v", d.err, d.err)
			}
			if got != tc.want {
				t.Errorf("\nReason: %s\ndecide(): want %+v, got %+v (err: %v)", tc.reason, tc.want, got, d.err)
			}
		})
	}
}
