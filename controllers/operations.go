package controllers

import (
	"context"
	"fmt"

	drv1alpha1 "github.com/sdrs-operator/sdrs-operator/api/v1alpha1"
	"github.com/sdrs-operator/sdrs-operator/internal/sdrs"
)

// opSpec is everything that varies by operation type: the SDRS action it
// sends, the job that follows, which group states tell its outcome, and
// which server power steps surround it. The steps and the verdict read it;
// nothing else switches on the operation type.
type opSpec struct {
	// jobType is the SDRS job type the action creates (sdrs-api.md §4).
	jobType string
	// reason is the Ready/Reconciling reason while the SDRS action runs.
	reason string
	// running is the group status while the job runs.
	running string
	// failedStatus is the status a failed job may leave the group in; SDRS
	// does not promise it (a failed job may restore the old status).
	failedStatus string
	// from lists the statuses SDRS accepts the action in; used to judge an
	// attempt recorded before groupStatusBefore existed.
	from []string
	// succeeded says the group shows the action done. A nil group is one
	// SDRS no longer knows.
	succeeded func(g *sdrs.ProtectionGroup, op *drv1alpha1.Operation) bool
	// movesSite: the action changes the active site, so a spec that asks
	// for another site before SDRS acts cancels the operation.
	movesSite bool
	// stopBefore: the servers at this site must be off before the action
	// (SDRS refuses it otherwise); nil when no power step comes first.
	stopBefore func(op *drv1alpha1.Operation) drv1alpha1.Site
	// startAfter: with serverPower Managed, the servers at the new
	// production site are started after the action.
	startAfter bool
	// replicates: the action starts replication into the DR site, which
	// must be reachable (no pair with a broken link).
	replicates bool
	// issue sends the action.
	issue func(ctx context.Context, c sdrs.Client, pg *drv1alpha1.ProtectionGroup, op *drv1alpha1.Operation) (string, error)
	// describe says in words what the operation does.
	describe func(op *drv1alpha1.Operation) string
}

func fromSite(op *drv1alpha1.Operation) drv1alpha1.Site { return op.From }

// drSite is the disaster-recovery site a re-protect replicates into.
func drSite(op *drv1alpha1.Operation) drv1alpha1.Site { return op.To.Other() }

func atSite(g *sdrs.ProtectionGroup, site drv1alpha1.Site, statuses ...string) bool {
	if g == nil || drv1alpha1.Site(g.PriorityStation) != site {
		return false
	}
	for _, s := range statuses {
		if g.Status == s {
			return true
		}
	}
	return false
}

func say(text string) func(*drv1alpha1.Operation) string {
	return func(*drv1alpha1.Operation) string { return text }
}

var operations = map[drv1alpha1.OperationType]opSpec{
	drv1alpha1.OperationCreate: {
		jobType: "createProtectionGroupNoCG", reason: drv1alpha1.CreatingReason,
		running: sdrs.StatusCreating, failedStatus: sdrs.StatusError,
		succeeded: func(g *sdrs.ProtectionGroup, _ *drv1alpha1.Operation) bool {
			return g != nil && g.Status != sdrs.StatusCreating && g.Status != sdrs.StatusError
		},
		issue: func(ctx context.Context, c sdrs.Client, pg *drv1alpha1.ProtectionGroup, _ *drv1alpha1.Operation) (string, error) {
			fp := pg.Spec.ForProvider
			return c.CreateProtectionGroup(ctx, sdrs.CreateGroupInput{
				Name: fp.Name, Description: fp.Description,
				SourceAvailabilityZone: fp.SourceAvailabilityZone, TargetAvailabilityZone: fp.TargetAvailabilityZone,
				DomainID: fp.DomainID, SourceVpcID: fp.SourceVpcID,
			})
		},
		describe: say("create the SDRS protection group"),
	},
	drv1alpha1.OperationEnableProtection: {
		jobType: "startProtectionGroupNoCG", reason: drv1alpha1.EnablingProtectionReason,
		running: sdrs.StatusStarting, failedStatus: sdrs.StatusErrorStarting,
		from: []string{sdrs.StatusAvailable, sdrs.StatusErrorStarting},
		succeeded: func(g *sdrs.ProtectionGroup, _ *drv1alpha1.Operation) bool {
			return g != nil && g.Status == sdrs.StatusProtected
		},
		replicates: true,
		issue: func(ctx context.Context, c sdrs.Client, pg *drv1alpha1.ProtectionGroup, _ *drv1alpha1.Operation) (string, error) {
			return c.StartProtection(ctx, pg.GroupID())
		},
		describe: say("enable protection"),
	},
	drv1alpha1.OperationReprotect: {
		jobType: "reprotectProtectionGroupNoCG", reason: drv1alpha1.ReprotectingReason,
		running: sdrs.StatusReprotecting, failedStatus: sdrs.StatusErrorReprotecting,
		from: []string{sdrs.StatusFailedOver, sdrs.StatusErrorReprotecting},
		succeeded: func(g *sdrs.ProtectionGroup, op *drv1alpha1.Operation) bool {
			return atSite(g, op.To, sdrs.StatusProtected)
		},
		stopBefore: drSite, replicates: true,
		issue: func(ctx context.Context, c sdrs.Client, pg *drv1alpha1.ProtectionGroup, _ *drv1alpha1.Operation) (string, error) {
			return c.StartProtection(ctx, pg.GroupID())
		},
		describe: func(op *drv1alpha1.Operation) string { return fmt.Sprintf("re-protect from %s", op.To) },
	},
	drv1alpha1.OperationDisableProtection: {
		jobType: "stopProtectionGroupNoCG", reason: drv1alpha1.DisablingProtectionReason,
		running: sdrs.StatusStopping, failedStatus: sdrs.StatusErrorStopping,
		from: []string{sdrs.StatusProtected, sdrs.StatusErrorStopping},
		succeeded: func(g *sdrs.ProtectionGroup, _ *drv1alpha1.Operation) bool {
			return g != nil && g.Status == sdrs.StatusAvailable
		},
		issue: func(ctx context.Context, c sdrs.Client, pg *drv1alpha1.ProtectionGroup, _ *drv1alpha1.Operation) (string, error) {
			return c.StopProtection(ctx, pg.GroupID())
		},
		describe: say("disable protection"),
	},
	drv1alpha1.OperationPlannedFailover: {
		jobType: "reverseProtectionGroupNoCG", reason: drv1alpha1.PlannedFailoverInProgressReason,
		running: sdrs.StatusReversing, failedStatus: sdrs.StatusErrorReversing,
		from: []string{sdrs.StatusProtected, sdrs.StatusErrorReversing},
		succeeded: func(g *sdrs.ProtectionGroup, op *drv1alpha1.Operation) bool {
			return atSite(g, op.To, sdrs.StatusProtected)
		},
		movesSite: true, stopBefore: fromSite, startAfter: true,
		issue: func(ctx context.Context, c sdrs.Client, pg *drv1alpha1.ProtectionGroup, op *drv1alpha1.Operation) (string, error) {
			return c.StartPlannedFailover(ctx, pg.GroupID(), sdrs.Site(op.To))
		},
		describe: func(op *drv1alpha1.Operation) string {
			return fmt.Sprintf("planned failover from %s to %s", op.From, op.To)
		},
	},
	drv1alpha1.OperationFailover: {
		jobType: "failoverProtectionGroupNoCG", reason: drv1alpha1.FailoverInProgressReason,
		running: sdrs.StatusFailingOver, failedStatus: sdrs.StatusErrorFailingOver,
		from: []string{sdrs.StatusProtected, sdrs.StatusErrorFailingOver, sdrs.StatusErrorReversing},
		succeeded: func(g *sdrs.ProtectionGroup, op *drv1alpha1.Operation) bool {
			return atSite(g, op.To, sdrs.StatusFailedOver, sdrs.StatusProtected)
		},
		movesSite: true, startAfter: true,
		issue: func(ctx context.Context, c sdrs.Client, pg *drv1alpha1.ProtectionGroup, _ *drv1alpha1.Operation) (string, error) {
			return c.StartFailover(ctx, pg.GroupID())
		},
		describe: func(op *drv1alpha1.Operation) string {
			return fmt.Sprintf("failover from %s to %s", op.From, op.To)
		},
	},
	drv1alpha1.OperationDelete: {
		jobType: "deleteProtectionGroupNoCG", reason: drv1alpha1.DeletingReason,
		running: sdrs.StatusDeleting, failedStatus: sdrs.StatusErrorDeleting,
		succeeded: func(g *sdrs.ProtectionGroup, _ *drv1alpha1.Operation) bool { return g == nil },
		issue: func(ctx context.Context, c sdrs.Client, pg *drv1alpha1.ProtectionGroup, _ *drv1alpha1.Operation) (string, error) {
			return c.DeleteProtectionGroup(ctx, pg.GroupID())
		},
		describe: say("delete the SDRS protection group"),
	},
}

// specOf returns the operation's spec; an unknown type (a status written by
// a newer version) gets an empty spec that never judges an outcome.
func specOf(op *drv1alpha1.Operation) opSpec {
	if s, ok := operations[op.Type]; ok {
		return s
	}
	return opSpec{
		jobType:   string(op.Type),
		reason:    drv1alpha1.ProgressingReason,
		succeeded: func(*sdrs.ProtectionGroup, *drv1alpha1.Operation) bool { return false },
		issue: func(context.Context, sdrs.Client, *drv1alpha1.ProtectionGroup, *drv1alpha1.Operation) (string, error) {
			return "", fmt.Errorf("unknown operation type %q", op.Type)
		},
		describe: func(op *drv1alpha1.Operation) string { return string(op.Type) },
	}
}

// describe says in words what an operation does.
func describe(op *drv1alpha1.Operation) string { return specOf(op).describe(op) }

// jobType is the SDRS job type an operation's action creates.
func jobType(op *drv1alpha1.Operation) string { return specOf(op).jobType }

// firstStep is where an operation starts: servers that SDRS needs off are
// checked (Manual) or stopped (Managed) before the action is sent, so an
// action goes out only when it is expected to succeed.
func firstStep(op *drv1alpha1.Operation, power drv1alpha1.ServerPowerPolicy) drv1alpha1.OperationStep {
	if specOf(op).stopBefore == nil {
		return drv1alpha1.StepSDRSAction
	}
	if power == drv1alpha1.ServerPowerManual {
		return drv1alpha1.StepWaitServersStopped
	}
	return drv1alpha1.StepStopServers
}

// stepAfterAction is the step after the SDRS action succeeded.
func stepAfterAction(op *drv1alpha1.Operation, power drv1alpha1.ServerPowerPolicy) drv1alpha1.OperationStep {
	if power == drv1alpha1.ServerPowerManaged && specOf(op).startAfter {
		return drv1alpha1.StepStartServers
	}
	return drv1alpha1.StepDone
}

// serversToStop is the site whose servers must be off before the action.
func serversToStop(op *drv1alpha1.Operation) drv1alpha1.Site {
	if f := specOf(op).stopBefore; f != nil {
		return f(op)
	}
	return op.From
}

// stepReason is the Ready/Reconciling reason while an operation is at a step.
func stepReason(op *drv1alpha1.Operation) string {
	switch op.Step {
	case drv1alpha1.StepStopServers:
		return drv1alpha1.StoppingServersReason
	case drv1alpha1.StepStartServers, drv1alpha1.StepRestoreServers:
		return drv1alpha1.StartingServersReason
	case drv1alpha1.StepWaitServersStopped:
		return drv1alpha1.WaitingForServersStoppedReason
	}
	return specOf(op).reason
}
