package controllers

import (
	"fmt"
	"strings"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	drv1alpha1 "github.com/sdrs-operator/sdrs-operator/api/v1alpha1"
	"github.com/sdrs-operator/sdrs-operator/internal/login"
	"github.com/sdrs-operator/sdrs-operator/internal/sdrs"
)

// swaps are the operations that count as the first swap of the login rules
// (a DR drill counts too).
func isSwap(op *drv1alpha1.Operation) bool {
	return op != nil && op.Result == drv1alpha1.OperationSucceeded &&
		(op.Type == drv1alpha1.OperationPlannedFailover || op.Type == drv1alpha1.OperationFailover)
}

// firstSwapAtAdoption says what the operator can know of a group's past
// when it first reads it: a group it created has none; a group found
// serving from its target site has swapped (groups are created with source
// as production); any other adopted group's past is unknown.
func firstSwapAtAdoption(pg *drv1alpha1.ProtectionGroup, g *sdrs.ProtectionGroup) *drv1alpha1.FirstSwap {
	for i := range pg.Status.History {
		if isSwap(&pg.Status.History[i]) {
			return &drv1alpha1.FirstSwap{State: drv1alpha1.FirstSwapDone}
		}
	}
	switch {
	case g.PriorityStation == sdrs.SiteTarget:
		return &drv1alpha1.FirstSwap{State: drv1alpha1.FirstSwapDone}
	case pg.Spec.ForProvider != nil:
		return &drv1alpha1.FirstSwap{State: drv1alpha1.FirstSwapNotYet}
	}
	return &drv1alpha1.FirstSwap{State: drv1alpha1.FirstSwapUnknown}
}

// trackFirstSwap keeps status.firstSwap: set at the first read, Done after
// the first swap this operator ran, with the moment the new production
// servers were seen started (the Cloudbase-Init window starts then). It
// reports whether this reconcile's operation was the first swap.
func trackFirstSwap(pg *drv1alpha1.ProtectionGroup, g *sdrs.ProtectionGroup, finished *drv1alpha1.Operation, now time.Time) bool {
	if pg.Status.FirstSwap == nil {
		if g == nil {
			return false
		}
		pg.Status.FirstSwap = firstSwapAtAdoption(pg, g)
	}
	fs := pg.Status.FirstSwap
	first := false
	if isSwap(finished) && fs.State != drv1alpha1.FirstSwapDone {
		fs.State, fs.At, first = drv1alpha1.FirstSwapDone, finished.FinishedAt.DeepCopy(), true
	}
	if isSwap(finished) && fs.ProductionStartedAt == nil &&
		specOf(finished).startAfter && pg.Spec.ServerPower == drv1alpha1.ServerPowerManaged {
		// Server B's first start: the first failover after a drill too.
		fs.ProductionStartedAt = finished.FinishedAt.DeepCopy()
	}
	if fs.State == drv1alpha1.FirstSwapDone && fs.At != nil && fs.ProductionStartedAt == nil &&
		pg.Status.ActiveSite == drv1alpha1.SiteTarget && len(pg.Status.Instances) > 0 && len(servingNotRunning(pg)) == 0 {
		// A person started them (serverPower Manual): seen at this look.
		t := metav1.NewTime(now)
		fs.ProductionStartedAt = &t
	}
	return first
}

// setLoginGuidance writes, per instance, what opens each server now.
func setLoginGuidance(pg *drv1alpha1.ProtectionGroup, now time.Time) {
	if pg.Status.FirstSwap == nil {
		return
	}
	for i := range pg.Status.Instances {
		in := &pg.Status.Instances[i]
		in.Login = login.Guide(loginFacts(pg, in), now)
	}
}

func loginFacts(pg *drv1alpha1.ProtectionGroup, in *drv1alpha1.InstanceObservation) login.Facts {
	f := login.Facts{
		OS:        in.OSType,
		KeyName:   in.KeyName,
		Agent:     guestInitAgent(pg.Spec.Login, in),
		FirstSwap: pg.Status.FirstSwap.State,
		Active:    pg.Status.ActiveSite,
		ServerA:   in.SourceServer.ID,
		ServerB:   in.TargetServer.ID,
	}
	if t := pg.Status.FirstSwap.ProductionStartedAt; t != nil {
		f.ProductionStartedAt = &t.Time
	}
	return f
}

// guestInitAgent is the instance's override, or the group's setting, or
// Installed (as on the cloud's public images).
func guestInitAgent(spec *drv1alpha1.LoginSpec, in *drv1alpha1.InstanceObservation) drv1alpha1.GuestInitAgent {
	if spec == nil {
		return drv1alpha1.GuestInitInstalled
	}
	for _, o := range spec.Instances {
		if o.Instance == in.ID || o.Instance == in.Name {
			return o.GuestInitAgent
		}
	}
	if spec.GuestInitAgent != "" {
		return spec.GuestInitAgent
	}
	return drv1alpha1.GuestInitInstalled
}

// loginChangedMessage says, for the Event at the end of the first swap,
// which instances' credentials changed and what to use now; empty when
// none did.
func loginChangedMessage(pg *drv1alpha1.ProtectionGroup) string {
	var parts []string
	for i := range pg.Status.Instances {
		in := &pg.Status.Instances[i]
		if in.Login == nil || !login.ChangesAtFirstSwap(loginFacts(pg, in)) {
			continue
		}
		for _, s := range in.Login.Servers {
			if s.Role == login.RoleProduction {
				parts = append(parts, fmt.Sprintf("%s (%s, server %s %s): %s", in.Name, in.OSType, s.Server, s.ID, s.Use))
			}
		}
	}
	if len(parts) == 0 {
		return ""
	}
	const most = 5
	more := ""
	if len(parts) > most {
		more = fmt.Sprintf("; and %d more: kubectl sdrs login %s", len(parts)-most, pg.Name)
		parts = parts[:most]
	}
	return "first swap of this group: credentials changed. " + strings.Join(parts, "; ") + more
}
