package controllers

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"

	drv1alpha1 "github.com/sdrs-operator/sdrs-operator/api/v1alpha1"
	"github.com/sdrs-operator/sdrs-operator/internal/sdrs"
)

// reconcileProviderConfig resolves the ProviderConfig and connects to SDRS.
func (r *ProtectionGroupReconciler) reconcileProviderConfig(ctx context.Context, s *scope) error {
	name := providerConfigName(s.pg)
	pc := &drv1alpha1.ProviderConfig{}
	if err := r.Get(ctx, client.ObjectKey{Name: name}, pc); err != nil {
		if apierrors.IsNotFound(err) {
			return &stallError{reason: drv1alpha1.ProviderConfigNotFoundReason, recheck: credentialsRecheck,
				message: fmt.Sprintf("ProviderConfig %q not found: create it, or point spec.providerConfigRef.name at an existing one", name)}
		}
		return fmt.Errorf("cannot get ProviderConfig %q: %w", name, err)
	}
	if err := r.checkNamespaceAllowed(ctx, s.pg, pc); err != nil {
		return err
	}
	s.pc = pc
	c, err := r.Connector.Connect(ctx, pc)
	if err != nil {
		return fmt.Errorf("cannot connect to SDRS with ProviderConfig %q: %w", name, err)
	}
	s.client = c
	return nil
}

// reconcileCreate creates the SDRS group of a forProvider spec and follows
// the create job; later phases need a group ID.
func (r *ProtectionGroupReconciler) reconcileCreate(ctx context.Context, s *scope) error {
	if s.pg.GroupID() != "" {
		return nil
	}
	if op := s.pg.Status.CurrentOperation; op != nil && op.Type == drv1alpha1.OperationCreate {
		return r.advance(ctx, s)
	}
	fp := s.pg.Spec.ForProvider
	if fp == nil {
		return stalled(drv1alpha1.GroupNotFoundReason, "set spec.protectionGroupID or spec.forProvider")
	}
	existing, err := s.client.FindProtectionGroupsByName(ctx, fp.Name)
	if err != nil {
		return fmt.Errorf("cannot look up SDRS groups named %q: %w", fp.Name, err)
	}
	if len(existing) > 0 {
		// Never create a second group with the name: it is the only SDRS
		// action that would happily be done twice.
		return stalled(drv1alpha1.GroupConflictReason,
			"an SDRS group named %q already exists (%s); adopt it with spec.protectionGroupID instead of spec.forProvider",
			fp.Name, existing[0].ID)
	}
	if err := r.startOperation(s, drv1alpha1.OperationCreate, drv1alpha1.SiteSource, drv1alpha1.SiteSource); err != nil {
		return err
	}
	return r.advance(ctx, s)
}

// reconcileObserve reads the group from SDRS and maps it into status.
func (r *ProtectionGroupReconciler) reconcileObserve(ctx context.Context, s *scope) error {
	if err := r.checkSoleOwner(ctx, s); err != nil {
		return err
	}
	if s.group == nil && !r.pollingJob(s.pg.Status.CurrentOperation) {
		if err := r.refreshGroup(ctx, s); err != nil {
			if sdrs.IsNotFound(err) {
				return stalled(drv1alpha1.GroupNotFoundReason,
					"SDRS group %s was not found in project %s: check spec.protectionGroupID and the ProviderConfig's project and region",
					s.pg.GroupID(), s.pc.Spec.ProjectID)
			}
			return err
		}
	}
	if needsInstanceRefresh(s.pg, s.group) {
		return r.observeInstances(ctx, s)
	}
	if off := servingNotRunning(s.pg); len(off) > 0 && s.pg.Status.CurrentOperation == nil {
		// Servers reported down at the active site are read again on each
		// look, so that a person starting them shows up.
		return r.refreshServers(ctx, s, off)
	}
	return nil
}

// reconcileReadinessFacts looks up the group's replication pairs and
// instances in the project-wide read (fleet_facts.go), read again at most
// once a sync interval for every group together. It never stops the
// phases: without the facts, readiness is unknown and decisions fall back
// to the group's own health.
func (r *ProtectionGroupReconciler) reconcileReadinessFacts(ctx context.Context, s *scope) error {
	if s.group == nil {
		return nil
	}
	key := fmt.Sprintf("%s/%s/%d", s.pc.Name, s.pc.UID, s.pc.Generation)
	f, err := r.facts.forGroup(ctx, key, s.client, s.group.ID, r.syncInterval(s), r.Clock())
	if err != nil {
		ctrl.LoggerFrom(ctx).Info("cannot read the project's replication pairs and instances; failover readiness unknown", "error", err.Error())
		return nil
	}
	s.facts = f
	r.Metrics.SetRPOExceededPairs(s.pc.Name, f.rpoExceeded)
	return nil
}

// refreshServers reads the power of some servers into status.instances.
func (r *ProtectionGroupReconciler) refreshServers(ctx context.Context, s *scope, ids []string) error {
	power := make(map[string]string, len(ids))
	for _, id := range ids {
		srv, err := s.client.GetServer(ctx, id)
		if err != nil {
			return fmt.Errorf("cannot read server %s: %w", id, err)
		}
		power[id] = srv.Status
	}
	for i := range s.pg.Status.Instances {
		for _, srv := range []*drv1alpha1.ServerObservation{&s.pg.Status.Instances[i].SourceServer, &s.pg.Status.Instances[i].TargetServer} {
			if p, ok := power[srv.ID]; ok {
				srv.Power = p
			}
		}
	}
	return nil
}

// pollingJob reports an operation waiting for its SDRS job, recorded in
// status or remembered by this process: the job says when it ends, so the
// group is read then, not on every poll. During a fleet-wide failover that
// halves the calls, and the status (whose observation would change while
// the group is reversing) is not rewritten while nothing happens.
func (r *ProtectionGroupReconciler) pollingJob(op *drv1alpha1.Operation) bool {
	if op == nil || op.Step != drv1alpha1.StepSDRSAction {
		return false
	}
	if op.JobID != "" {
		return true
	}
	_, ok := r.unwritten.recall(op.RequestID)
	return ok
}

// reconcileOperation drives an operation in flight. A finished operation is
// followed by a fresh look, so the next phase decides on current facts.
func (r *ProtectionGroupReconciler) reconcileOperation(ctx context.Context, s *scope) error {
	if s.pg.Status.CurrentOperation == nil {
		return nil
	}
	if err := r.advance(ctx, s); err != nil {
		return err
	}
	if swapServingSite(s.pg, s.group, s.finished) {
		return nil
	}
	return r.observeInstances(ctx, s)
}

// reconcileDesiredState compares the spec with the group and starts the
// operation that brings them together, if any.
func (r *ProtectionGroupReconciler) reconcileDesiredState(ctx context.Context, s *scope) error {
	fault := -1
	if s.facts != nil {
		fault = s.facts.worstFault
	}
	d := decide(s.pg.Name, &s.pg.Spec, s.group, fault)
	if d.err != nil {
		return d.err
	}
	if d.op == "" {
		if err := r.resumeServerStart(ctx, s); err != nil {
			return err
		}
		s.converged = true
		return nil
	}
	if err := r.checkLastFailure(s, d.op); err != nil {
		return err
	}
	if err := checkDrillsBeforeMove(s, d.op); err != nil {
		return err
	}
	if operations[d.op].replicates {
		if err := r.checkReplicationLink(ctx, s); err != nil {
			return err
		}
	}
	if err := r.startOperation(s, d.op, drv1alpha1.Site(s.group.PriorityStation), d.to); err != nil {
		return err
	}
	if err := r.advance(ctx, s); err != nil {
		return err
	}
	// Short operations may end in the same reconcile; look again next.
	return waiting(drv1alpha1.ProgressingReason, minPoll, "%s: done; checking the result", describe(s.finished))
}

// resumeServerStart handles a group at its desired site whose operation
// failed while starting the servers there (serverPower Managed): SDRS has
// moved, so nothing is left to decide, but the application is not running.
// It stays Stalled until a person asks for a retry; the retry resumes the
// same operation at its StartServers step.
func (r *ProtectionGroupReconciler) resumeServerStart(ctx context.Context, s *scope) error {
	last := s.pg.Status.LastOperation
	if last == nil || last.Result != drv1alpha1.OperationFailed || last.Step != drv1alpha1.StepStartServers ||
		last.Generation != s.pg.Generation || s.pg.Spec.ServerPower != drv1alpha1.ServerPowerManaged {
		return nil
	}
	if !r.takeRetry(s) {
		return stalled(drv1alpha1.JobFailedReason, "%s (error code %s); the group is at the desired site but its servers were not started: to retry the start, set annotation %s to a new value",
			last.Message, orNoDetail(last.ErrorCode), drv1alpha1.RetryAnnotation)
	}
	op := last.DeepCopy()
	op.Result, op.ErrorCode, op.Message, op.FinishedAt = "", "", "", nil
	resetStep(op)
	s.pg.Status.CurrentOperation = op
	ctrl.LoggerFrom(ctx).Info("retrying the server start of a failed operation", "requestID", op.RequestID)
	if err := r.advance(ctx, s); err != nil {
		return err
	}
	return waiting(drv1alpha1.ProgressingReason, minPoll, "%s: done; checking the result", describe(s.finished))
}

// checkReplicationLink waits while a replication pair reports a broken
// link to the DR site: SDRS cannot protect into a site it cannot reach, and
// the job would only fail.
func (r *ProtectionGroupReconciler) checkReplicationLink(ctx context.Context, s *scope) error {
	pairs, err := s.client.ListReplicationPairs(ctx, s.pg.GroupID())
	if err != nil {
		return fmt.Errorf("cannot list the replication pairs of SDRS group %s: %w", s.pg.GroupID(), err)
	}
	var broken []string
	for _, p := range pairs {
		if p.FaultLevel == sdrs.FaultLinkBroken {
			broken = append(broken, p.ID)
		}
	}
	if len(broken) == 0 {
		return nil
	}
	return waiting(drv1alpha1.ReplicationLinkBrokenReason, syncPoll,
		"the replication link to the disaster-recovery site (%s) is broken (fault level %d on pairs %s), for example because its zone is down; protection starts when SDRS reports it repaired",
		s.group.DisasterRecoveryZone(), sdrs.FaultLinkBroken, strings.Join(broken, ", "))
}

// checkLastFailure refuses to repeat an operation that failed for this
// generation unless a person asked for a retry: failed jobs are not
// retried in a storm.
func (r *ProtectionGroupReconciler) checkLastFailure(s *scope, next drv1alpha1.OperationType) error {
	last := s.pg.Status.LastOperation
	if last == nil || last.Result != drv1alpha1.OperationFailed || last.Generation != s.pg.Generation || last.Type != next {
		return nil
	}
	if r.takeRetry(s) {
		return nil
	}
	return stalled(drv1alpha1.JobFailedReason, "%s (error code %s); to retry, set annotation %s to a new value or change the spec",
		last.Message, orNoDetail(last.ErrorCode), drv1alpha1.RetryAnnotation)
}

// Selectable fields of the ProtectionGroup CRD (api/v1alpha1) that carry
// the SDRS group ID: an adopted group's ID is in spec, a created one's only
// in status, so both are selectable.
const (
	fieldSpecGroupID   = "spec.protectionGroupID"
	fieldStatusGroupID = "status.group.id"
)

// checkSoleOwner stalls all but one of several ProtectionGroups that name
// the same SDRS group, so that two objects never act on one group. It
// looks in the manager's cache, which is complete when the manager watches
// every namespace. A manager that watches only some (PartialCache) cannot
// see owners in other namespaces there, so before an adoption (this object
// does not manage the group yet), and while it is stalled on a conflict, it
// also asks the API server (ownersClusterWide); checkOwnerBeforeAction asks
// again before each SDRS or ECS call.
func (r *ProtectionGroupReconciler) checkSoleOwner(ctx context.Context, s *scope) error {
	if err := r.checkCachedOwners(ctx, s); err != nil {
		return err
	}
	if r.PartialCache && (!managing(s.pg, s.pg.GroupID()) || conflicted(s.pg)) {
		return r.checkOwnersClusterWide(ctx, s)
	}
	return nil
}

// checkOwnerBeforeAction runs before each SDRS or ECS call is recorded
// (recordAttempt): the check of the reconcile's start may be stale, and
// the delete path has none. The cache costs nothing; with PartialCache one
// filtered read of the API server, two for a group nobody manages yet.
func (r *ProtectionGroupReconciler) checkOwnerBeforeAction(ctx context.Context, s *scope) error {
	id := s.pg.GroupID()
	if id == "" { // a create: the group does not exist yet
		return nil
	}
	if err := r.checkCachedOwners(ctx, s); err != nil {
		return err
	}
	if !r.PartialCache {
		return nil
	}
	return r.checkOwnersClusterWide(ctx, s)
}

// checkCachedOwners applies the owner rule to the ProtectionGroups of the
// manager's cache that name the group.
func (r *ProtectionGroupReconciler) checkCachedOwners(ctx context.Context, s *scope) error {
	id := s.pg.GroupID()
	var list drv1alpha1.ProtectionGroupList
	if err := r.List(ctx, &list, client.MatchingFields{indexGroupID: id}); err != nil {
		return fmt.Errorf("cannot list ProtectionGroups managing SDRS group %s: %w", id, err)
	}
	return soleOwner(s.pg, id, list.Items)
}

// checkOwnersClusterWide applies the owner rule to the ProtectionGroups of
// every namespace that name the group, read from the API server. An error
// means unknown: the caller waits and nothing is sent.
func (r *ProtectionGroupReconciler) checkOwnersClusterWide(ctx context.Context, s *scope) error {
	id := s.pg.GroupID()
	owners, err := r.ownersClusterWide(ctx, s.pg, id)
	if err != nil {
		return fmt.Errorf("cannot list ProtectionGroups of every namespace naming SDRS group %s from the API server "+
			"(this manager watches only some namespaces and does not act on the group until it knows no other ProtectionGroup drives it; "+
			"\"field label not supported\" means the ProtectionGroup CRD predates its selectable fields: apply the current CRDs): %w", id, err)
	}
	return soleOwner(s.pg, id, owners)
}

// ownersClusterWide lists, from the API server, the ProtectionGroups of
// every namespace that name SDRS group id, with a field selector so that
// only those travel (and no whole-fleet list does).
//
// The ID is matched through CRD selectable fields rather than a label the
// controller would set: a selectable field is derived from the object by
// the API server, so an owner is found from its creation on (an adopter's
// spec) without a metadata write per object, without a window before a
// label is written, after an upgrade or a label removed by hand, and
// without adding a write to any failover. Field selectors have no OR, so
// spec and status are two reads; the status one comes first and usually
// suffices: when any owner already manages the group, the winner is among
// those (managing wins), all of which carry the ID in status. Only for a
// group nobody manages yet are the adopters read too. Every manager
// decides on the API server's copies, its own object's included, so that
// whichever looks, the same one wins.
func (r *ProtectionGroupReconciler) ownersClusterWide(ctx context.Context, self *drv1alpha1.ProtectionGroup, id string) ([]drv1alpha1.ProtectionGroup, error) {
	var inStatus drv1alpha1.ProtectionGroupList
	if err := r.APIReader.List(ctx, &inStatus, client.MatchingFields{fieldStatusGroupID: id}); err != nil {
		return nil, err
	}
	owners := inStatus.Items
	if !slices.ContainsFunc(owners, func(p drv1alpha1.ProtectionGroup) bool { return managing(&p, id) }) {
		var inSpec drv1alpha1.ProtectionGroupList
		if err := r.APIReader.List(ctx, &inSpec, client.MatchingFields{fieldSpecGroupID: id}); err != nil {
			return nil, err
		}
		for _, p := range inSpec.Items {
			if !slices.ContainsFunc(owners, func(o drv1alpha1.ProtectionGroup) bool { return o.UID == p.UID }) {
				owners = append(owners, p)
			}
		}
	}
	if !slices.ContainsFunc(owners, func(o drv1alpha1.ProtectionGroup) bool { return o.UID == self.UID }) {
		// A created group whose ID the API server does not hold yet:
		// this object is an owner that does not manage it there.
		me := *self
		me.Status.Group = nil
		owners = append(owners, me)
	}
	return owners, nil
}

// soleOwner returns a GroupConflict stall unless self is the one of owners
// (all ProtectionGroups naming SDRS group id) that may act: the one already
// managing the group (it recorded the group in its status) keeps it; among
// newcomers the oldest wins, then the lowest UID. Every look sorts the
// same way, so exactly one owner acts.
func soleOwner(self *drv1alpha1.ProtectionGroup, id string, owners []drv1alpha1.ProtectionGroup) error {
	if len(owners) < 2 {
		return nil
	}
	sort.Slice(owners, func(i, j int) bool {
		mi, mj := managing(&owners[i], id), managing(&owners[j], id)
		if mi != mj {
			return mi
		}
		ti, tj := owners[i].CreationTimestamp, owners[j].CreationTimestamp
		if !ti.Equal(&tj) {
			return ti.Before(&tj)
		}
		return owners[i].UID < owners[j].UID
	})
	if owners[0].UID == self.UID {
		return nil
	}
	way := "delete this one or point it at another group"
	if !self.DeletionTimestamp.IsZero() {
		way = "set deletionPolicy: Orphan on this one to let it go without touching the group"
	}
	return stalled(drv1alpha1.GroupConflictReason,
		"SDRS group %s is already managed by ProtectionGroup %s/%s; two objects must not drive one group: %s",
		id, owners[0].Namespace, owners[0].Name, way)
}

// conflicted reports whether pg is stalled on a GroupConflict.
func conflicted(pg *drv1alpha1.ProtectionGroup) bool {
	c := meta.FindStatusCondition(pg.Status.Conditions, drv1alpha1.StalledCondition)
	return c != nil && c.Status == metav1.ConditionTrue && c.Reason == drv1alpha1.GroupConflictReason
}

func managing(pg *drv1alpha1.ProtectionGroup, id string) bool {
	return pg.Status.Group != nil && pg.Status.Group.ID == id && pg.Status.Group.Status != ""
}

// reconcileDelete applies the deletion policy. An operation in flight is
// followed to its end and recorded first.
func (r *ProtectionGroupReconciler) reconcileDelete(ctx context.Context, s *scope) error {
	if !controllerutil.ContainsFinalizer(s.pg, drv1alpha1.ProtectionGroupFinalizer) {
		return nil
	}
	op := s.pg.Status.CurrentOperation
	if op == nil && s.pg.Spec.DeletionPolicy != drv1alpha1.DeletionDelete {
		return r.removeFinalizer(ctx, s)
	}
	if err := r.reconcileProviderConfig(ctx, s); err != nil {
		if s.pg.Spec.DeletionPolicy != drv1alpha1.DeletionDelete {
			// Orphan with an operation in flight but no way to reach
			// SDRS: the cloud job runs on without us; let go.
			return r.removeFinalizer(ctx, s)
		}
		return err
	}
	if op != nil && op.Type != drv1alpha1.OperationDelete {
		if s.pg.GroupID() != "" {
			if err := r.refreshGroup(ctx, s); err != nil && !sdrs.IsNotFound(err) {
				return err
			}
		}
		if err := r.advance(ctx, s); err != nil {
			var se *stallError
			if !errors.As(err, &se) { // still running: wait for it
				return err
			}
		}
	}
	if s.pg.Spec.DeletionPolicy != drv1alpha1.DeletionDelete {
		return r.removeFinalizer(ctx, s)
	}
	return r.deleteGroup(ctx, s)
}

// deleteGroup deletes the SDRS group when that is safe, and says why not
// otherwise.
func (r *ProtectionGroupReconciler) deleteGroup(ctx context.Context, s *scope) error {
	id := s.pg.GroupID()
	if id == "" {
		return r.removeFinalizer(ctx, s)
	}
	if op := s.pg.Status.CurrentOperation; op != nil && op.Type == drv1alpha1.OperationDelete {
		err := r.advance(ctx, s)
		if err == nil || sdrs.IsNotFound(err) {
			return r.removeFinalizer(ctx, s)
		}
		return err
	}
	if err := r.refreshGroup(ctx, s); err != nil {
		if sdrs.IsNotFound(err) {
			return r.removeFinalizer(ctx, s)
		}
		return err
	}
	g := s.group
	if isTransitional(g.Status) {
		return waiting(drv1alpha1.GroupBusyReason, busyPoll, "SDRS group %s is %s; deleting it once that ends", id, g.Status)
	}
	if err := r.reconcileDrills(ctx, s); err != nil {
		return err
	}
	if live := liveDrills(s.drills); g.DrillCount > 0 && len(live) > 0 {
		// Their controller deletes them first (SDRS refuses, SDRS.1003).
		return waiting(drv1alpha1.DeletionBlockedReason, busyPoll,
			"deletionPolicy is Delete: waiting for the group's DR drills to be deleted first (%s)", strings.Join(live, ", "))
	}
	if g.ProtectedInstanceCount > 0 || g.ReplicationCount > 0 || g.DrillCount > 0 {
		return stalled(drv1alpha1.DeletionBlockedReason,
			"deletionPolicy is Delete, but SDRS group %s still has %d protected instances, %d replication pairs and %d DR drills, and SDRS deletes only empty groups: remove them, or set deletionPolicy: Orphan to keep the group",
			id, g.ProtectedInstanceCount, g.ReplicationCount, g.DrillCount)
	}
	if err := r.startOperation(s, drv1alpha1.OperationDelete, drv1alpha1.Site(g.PriorityStation), drv1alpha1.Site(g.PriorityStation)); err != nil {
		return err
	}
	err := r.advance(ctx, s)
	if err == nil {
		return r.removeFinalizer(ctx, s)
	}
	return err
}

func (r *ProtectionGroupReconciler) removeFinalizer(ctx context.Context, s *scope) error {
	controllerutil.RemoveFinalizer(s.pg, drv1alpha1.ProtectionGroupFinalizer)
	if err := r.Update(ctx, s.pg); err != nil && !apierrors.IsNotFound(err) {
		return fmt.Errorf("cannot remove finalizer: %w", err)
	}
	ctrl.LoggerFrom(ctx).Info("finalizer removed", "deletionPolicy", s.pg.Spec.DeletionPolicy)
	return nil
}

// refreshGroup reads the group and maps it into status.
func (r *ProtectionGroupReconciler) refreshGroup(ctx context.Context, s *scope) error {
	id := s.pg.GroupID()
	g, err := s.client.GetProtectionGroup(ctx, id)
	if err != nil {
		return fmt.Errorf("cannot read SDRS group %s: %w", id, err)
	}
	if g.PriorityStation != sdrs.SiteSource && g.PriorityStation != sdrs.SiteTarget {
		// Deciding on it would move the group "from" a site that does
		// not exist, and status (an enum) could not record it: every
		// write would fail and the object would keep its last Ready.
		return stalled(drv1alpha1.GroupErrorReason,
			"SDRS group %s reports priority_station %q, which is neither source nor target; not acting on it", id, g.PriorityStation)
	}
	s.group = g
	setObservation(s.pg, g, r.Clock())
	return nil
}

// observeInstances reads the protected instances and their servers.
func (r *ProtectionGroupReconciler) observeInstances(ctx context.Context, s *scope) error {
	id := s.pg.GroupID()
	pis, err := s.client.ListProtectedInstances(ctx, id)
	if err != nil {
		return fmt.Errorf("cannot list protected instances of SDRS group %s: %w", id, err)
	}
	servers := map[string]*sdrs.Server{}
	for _, pi := range pis {
		for _, sid := range []string{pi.SourceServerID, pi.TargetServerID} {
			if sid == "" || servers[sid] != nil {
				continue
			}
			srv, err := s.client.GetServer(ctx, sid)
			if err != nil {
				return fmt.Errorf("cannot read server %s of protected instance %s: %w", sid, pi.ID, err)
			}
			servers[sid] = srv
		}
	}
	setInstances(s.pg, s.group, pis, servers)
	return nil
}
