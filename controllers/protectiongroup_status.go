package controllers

import (
	"fmt"
	"sort"
	"strings"
	"time"

	"k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	drv1alpha1 "github.com/sdrs-operator/sdrs-operator/api/v1alpha1"
	"github.com/sdrs-operator/sdrs-operator/internal/sdrs"
)

// The functions in this file compute status from facts. They do no I/O, so
// each has a table test that needs no API server.

// observedAtRefresh is how old status.group.observedAt may grow while the
// group reads the same on every sync: an idle sync that finds nothing new
// writes nothing, which keeps an idle fleet's writes at zero, and at least
// once this often the status still confirms that the operator is looking.
const observedAtRefresh = time.Hour

// setObservation maps an SDRS group into status: the active site, the zone
// in each role (they swap on failover), the group and replication state.
// observedAt moves when any of it changed, or when it is older than
// observedAtRefresh.
func setObservation(pg *drv1alpha1.ProtectionGroup, g *sdrs.ProtectionGroup, now time.Time) {
	if g == nil {
		return
	}
	observedAt := metav1.NewTime(now)
	prev := pg.Status.DeepCopy()
	pg.Status.ActiveSite = drv1alpha1.Site(g.PriorityStation)
	pg.Status.Sites = &drv1alpha1.SiteRoles{Production: g.ProductionZone(), DisasterRecovery: g.DisasterRecoveryZone()}
	pg.Status.Group = &drv1alpha1.GroupObservation{
		ID:              g.ID,
		Name:            g.Name,
		Status:          g.Status,
		ProtectedStatus: g.ProtectedStatus,
		HealthStatus:    g.HealthStatus,
		PriorityStation: drv1alpha1.Site(g.PriorityStation),
		ObservedAt:      &observedAt,
	}
	pg.Status.Replication = &drv1alpha1.ReplicationObservation{Status: g.ReplicationStatus, Progress: g.Progress}
	if old := prev.Group; old != nil && old.ObservedAt != nil && now.Sub(old.ObservedAt.Time) < observedAtRefresh {
		pg.Status.Group.ObservedAt = old.ObservedAt
		if !equality.Semantic.DeepEqual(prev.Group, pg.Status.Group) || prev.ActiveSite != pg.Status.ActiveSite ||
			!equality.Semantic.DeepEqual(prev.Sites, pg.Status.Sites) || !equality.Semantic.DeepEqual(prev.Replication, pg.Status.Replication) {
			pg.Status.Group.ObservedAt = &observedAt
		}
	}
}

// setGroupID records the ID of a group the operator created.
func setGroupID(pg *drv1alpha1.ProtectionGroup, id string) {
	if pg.Status.Group == nil {
		pg.Status.Group = &drv1alpha1.GroupObservation{}
	}
	pg.Status.Group.ID = id
}

// needsInstanceRefresh says whether status.instances is out of date: the
// instance count changed, or the serving site no longer matches the group
// (a failover made outside the operator).
func needsInstanceRefresh(pg *drv1alpha1.ProtectionGroup, g *sdrs.ProtectionGroup) bool {
	if g == nil {
		return false
	}
	if int32(len(pg.Status.Instances)) != g.ProtectedInstanceCount {
		return true
	}
	for _, in := range pg.Status.Instances {
		if in.ServingSite != drv1alpha1.Site(g.PriorityStation) {
			return true
		}
	}
	return false
}

// servingNotRunning lists the servers at the active site whose power was
// read and is not ACTIVE.
func servingNotRunning(pg *drv1alpha1.ProtectionGroup) []string {
	return servingServers(pg, func(power string) bool { return power != sdrs.PowerActive })
}

// servingRunning lists the servers at the active site reported running.
func servingRunning(pg *drv1alpha1.ProtectionGroup) []string {
	return servingServers(pg, func(power string) bool { return power == sdrs.PowerActive })
}

func servingServers(pg *drv1alpha1.ProtectionGroup, match func(power string) bool) []string {
	var out []string
	for _, in := range pg.Status.Instances {
		srv := in.SourceServer
		if in.ServingSite == drv1alpha1.SiteTarget {
			srv = in.TargetServer
		}
		if srv.ID != "" && srv.Power != "" && match(srv.Power) {
			out = append(out, srv.ID)
		}
	}
	return out
}

// setServersRunningCondition says whether the servers at the active site
// run, and if not, who starts them.
func setServersRunningCondition(pg *drv1alpha1.ProtectionGroup, now time.Time) {
	if len(pg.Status.Instances) == 0 {
		setCondition(pg, drv1alpha1.ServersRunningCondition, metav1.ConditionUnknown, drv1alpha1.ServersUnknownReason,
			"no protected instance has been read", now)
		return
	}
	off := servingNotRunning(pg)
	if len(off) == 0 {
		setCondition(pg, drv1alpha1.ServersRunningCondition, metav1.ConditionTrue, drv1alpha1.ServersRunningReason,
			fmt.Sprintf("the servers at the active site (%s) run", pg.Status.ActiveSite), now)
		return
	}
	who := "serverPower is Managed: the operator starts them after a failover; outside an operation, someone stopped them"
	if pg.Spec.ServerPower == drv1alpha1.ServerPowerManual {
		who = "serverPower is Manual: the operator never starts servers; start them with the ECS console or API"
	}
	setCondition(pg, drv1alpha1.ServersRunningCondition, metav1.ConditionFalse, drv1alpha1.ServersStoppedReason,
		fmt.Sprintf("servers at the active site (%s, %s) are not running: %s; %s",
			pg.Status.ActiveSite, productionZone(pg), strings.Join(off, ", "), who), now)
}

// swapServingSite updates status.instances after a planned failover from
// what it proves, instead of reading every instance and server again: the
// instances are the same (the group's count did not change), the other
// site serves now, and the servers at the old production site are off
// (SDRS reverses a group only while they are stopped). It reports false
// when that does not apply and the instances must be read.
func swapServingSite(pg *drv1alpha1.ProtectionGroup, g *sdrs.ProtectionGroup, op *drv1alpha1.Operation) bool {
	if g == nil || op == nil || op.Type != drv1alpha1.OperationPlannedFailover || op.Result != drv1alpha1.OperationSucceeded ||
		int32(len(pg.Status.Instances)) != g.ProtectedInstanceCount || drv1alpha1.Site(g.PriorityStation) != op.To {
		return false
	}
	for i := range pg.Status.Instances {
		in := &pg.Status.Instances[i]
		old, serving := &in.SourceServer, in.TargetServer.ID
		if op.To == drv1alpha1.SiteSource {
			old, serving = &in.TargetServer, in.SourceServer.ID
		}
		if old.ID != "" {
			old.Power = sdrs.PowerShutoff
		}
		in.ServingSite, in.ServingServerID = op.To, serving
	}
	return true
}

// setInstances records each protected instance's servers, which one serves
// now, and which credentials apply there.
func setInstances(pg *drv1alpha1.ProtectionGroup, g *sdrs.ProtectionGroup, pis []sdrs.ProtectedInstance, servers map[string]*sdrs.Server) {
	active := drv1alpha1.SiteSource
	if g != nil {
		active = drv1alpha1.Site(g.PriorityStation)
	}
	out := make([]drv1alpha1.InstanceObservation, 0, len(pis))
	for _, pi := range pis {
		in := drv1alpha1.InstanceObservation{
			ID:           pi.ID,
			Name:         pi.Name,
			Status:       pi.Status,
			SourceServer: serverObservation(pi.SourceServerID, servers),
			TargetServer: serverObservation(pi.TargetServerID, servers),
			ServingSite:  active,
		}
		serving := pi.SourceServerID
		if active == drv1alpha1.SiteTarget {
			serving = pi.TargetServerID
		}
		in.ServingServerID = serving
		// Server A (source) carries the image the login rules speak of.
		for _, id := range []string{pi.SourceServerID, serving} {
			if srv := servers[id]; srv != nil && in.OSType == "" {
				in.OSType, in.KeyName = srv.OSType, srv.KeyName
			}
		}
		out = append(out, in)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	pg.Status.Instances = out
}

func serverObservation(id string, servers map[string]*sdrs.Server) drv1alpha1.ServerObservation {
	srv := servers[id]
	if srv == nil {
		return drv1alpha1.ServerObservation{ID: id}
	}
	return drv1alpha1.ServerObservation{ID: id, AvailabilityZone: srv.AvailabilityZone, Power: srv.Status}
}

// setProgressing marks a new generation: Ready False until this
// generation is acted on.
func setProgressing(pg *drv1alpha1.ProtectionGroup, now time.Time) {
	setReady(pg, metav1.ConditionFalse, drv1alpha1.ProgressingReason,
		fmt.Sprintf("generation %d not yet reconciled", pg.Generation), now)
}

func setReady(pg *drv1alpha1.ProtectionGroup, status metav1.ConditionStatus, reason, message string, now time.Time) {
	setCondition(pg, drv1alpha1.ReadyCondition, status, reason, message, now)
}

func setCondition(pg *drv1alpha1.ProtectionGroup, typ string, status metav1.ConditionStatus, reason, message string, now time.Time) {
	meta.SetStatusCondition(&pg.Status.Conditions, metav1.Condition{
		Type:               typ,
		Status:             status,
		Reason:             reason,
		Message:            truncate(message, 1024),
		ObservedGeneration: pg.Generation,
		LastTransitionTime: metav1.NewTime(now),
	})
}

// setKstatusConditions sets Ready, Reconciling and Stalled from a
// reconcile's outcome: Ready only when converged; Reconciling while the
// operator makes progress by itself; Stalled when a person is needed.
func setKstatusConditions(pg *drv1alpha1.ProtectionGroup, o outcome, converged bool, now time.Time) {
	switch {
	case o.reason == "" && converged:
		msg := fmt.Sprintf("active site %s (%s) as desired", pg.Status.ActiveSite, productionZone(pg))
		if off := servingNotRunning(pg); len(off) > 0 {
			msg += fmt.Sprintf("; %d server(s) there are not running (see condition %s)", len(off), drv1alpha1.ServersRunningCondition)
		}
		setReady(pg, metav1.ConditionTrue, drv1alpha1.ReconciledReason, msg, now)
	case o.reason == "":
		setReady(pg, metav1.ConditionFalse, drv1alpha1.ProgressingReason, "reconciling", now)
	default:
		setReady(pg, metav1.ConditionFalse, o.reason, o.message, now)
	}
	if o.reconciling {
		setCondition(pg, drv1alpha1.ReconcilingCondition, metav1.ConditionTrue, o.reason, o.message, now)
	} else {
		setCondition(pg, drv1alpha1.ReconcilingCondition, metav1.ConditionFalse, drv1alpha1.ReconciledReason, "no operation in progress", now)
	}
	if o.stalled {
		setCondition(pg, drv1alpha1.StalledCondition, metav1.ConditionTrue, o.reason, o.message, now)
	} else {
		setCondition(pg, drv1alpha1.StalledCondition, metav1.ConditionFalse, drv1alpha1.ReconciledReason, "not stalled", now)
	}
}

// setProtectedCondition says whether replication protects the group.
func setProtectedCondition(pg *drv1alpha1.ProtectionGroup, g *sdrs.ProtectionGroup, now time.Time) {
	if g == nil {
		if meta.FindStatusCondition(pg.Status.Conditions, drv1alpha1.ProtectedCondition) == nil {
			setCondition(pg, drv1alpha1.ProtectedCondition, metav1.ConditionUnknown, drv1alpha1.ProtectionUnknownReason,
				"the SDRS group has not been read yet", now)
		}
		return
	}
	switch {
	case g.Status == sdrs.StatusFailedOver || g.Status == sdrs.StatusErrorReprotecting:
		setCondition(pg, drv1alpha1.ProtectedCondition, metav1.ConditionFalse, drv1alpha1.FailedOverReason,
			fmt.Sprintf("failed over to %s; replication is stopped until re-protect", g.ProductionZone()), now)
	case g.ProtectedStatus == "started" || g.Status == sdrs.StatusProtected || g.Status == sdrs.StatusReversing:
		if g.ReplicationStatus == sdrs.ReplicationActive || g.ReplicationStatus == "" {
			setCondition(pg, drv1alpha1.ProtectedCondition, metav1.ConditionTrue, drv1alpha1.ProtectionStartedReason,
				fmt.Sprintf("replicating from %s to %s", g.ProductionZone(), g.DisasterRecoveryZone()), now)
		} else {
			setCondition(pg, drv1alpha1.ProtectedCondition, metav1.ConditionFalse, drv1alpha1.ReplicationCopyingReason,
				fmt.Sprintf("replication is %s (%d%%) from %s to %s", g.ReplicationStatus, g.Progress, g.ProductionZone(), g.DisasterRecoveryZone()), now)
		}
	default:
		setCondition(pg, drv1alpha1.ProtectedCondition, metav1.ConditionFalse, drv1alpha1.ProtectionStoppedReason,
			fmt.Sprintf("protection is not running (group status %s)", g.Status), now)
	}
}

// setPausedCondition mirrors the paused annotation.
func setPausedCondition(pg *drv1alpha1.ProtectionGroup, now time.Time) {
	if pg.IsPaused() {
		setCondition(pg, drv1alpha1.PausedCondition, metav1.ConditionTrue, drv1alpha1.PausedReason,
			fmt.Sprintf("annotation %s is \"true\": no new SDRS actions; a job in flight is still followed", drv1alpha1.PausedAnnotation), now)
		return
	}
	setCondition(pg, drv1alpha1.PausedCondition, metav1.ConditionFalse, drv1alpha1.NotPausedReason, "not paused", now)
}

func readyReason(pg *drv1alpha1.ProtectionGroup) string {
	if c := meta.FindStatusCondition(pg.Status.Conditions, drv1alpha1.ReadyCondition); c != nil {
		return c.Reason
	}
	return ""
}

func readyMessage(pg *drv1alpha1.ProtectionGroup) string {
	if c := meta.FindStatusCondition(pg.Status.Conditions, drv1alpha1.ReadyCondition); c != nil {
		return c.Message
	}
	return ""
}

func productionZone(pg *drv1alpha1.ProtectionGroup) string {
	if pg.Status.Sites == nil {
		return "zone unknown"
	}
	return pg.Status.Sites.Production
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n-3] + "..."
}
