package controllers

import (
	drv1alpha1 "github.com/sdrs-operator/sdrs-operator/api/v1alpha1"
	"github.com/sdrs-operator/sdrs-operator/internal/sdrs"
)

// scope carries what one reconcile of a ProtectionGroup learned, so that
// later phases and the status summary read facts instead of calling again.
type scope struct {
	// pg is the object being reconciled; phases change its status.
	pg *drv1alpha1.ProtectionGroup
	// base is pg as last written, the base of the next status patch.
	base *drv1alpha1.ProtectionGroup

	pc     *drv1alpha1.ProviderConfig
	client sdrs.Client

	// group is the SDRS group as read in this reconcile (nil if not read).
	group *sdrs.ProtectionGroup

	// drills are the group's ProtectionGroupDrills (nil when not listed).
	drills []drv1alpha1.ProtectionGroupDrill

	// facts are the group's pairs and instances from the project-wide
	// read (nil when not read).
	facts *groupFacts

	// converged is set when the group matches the spec and nothing is in
	// flight; only then is Ready True.
	converged bool
	// initialReady is the Ready reason when the reconcile began; an Event
	// is recorded when the reconcile ends with another.
	initialReady string
	// finished is the operation that ended in this reconcile, for the
	// summary's Event.
	finished *drv1alpha1.Operation
	// firstSwap is set when finished was the group's first swap, which
	// changes the login rules.
	firstSwap bool
	// issuedJobID is the SDRS job this reconcile started, for the Event.
	issuedJobID string
	// refusedForServers is set when SDRS refused the action in this
	// reconcile because servers still run, so it is tried once only.
	refusedForServers bool
}

func newScope(pg *drv1alpha1.ProtectionGroup) *scope {
	return &scope{pg: pg, base: pg.DeepCopy(), initialReady: readyReason(pg)}
}
