package controllers

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"regexp"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	drv1alpha1 "github.com/sdrs-operator/sdrs-operator/api/v1alpha1"
	"github.com/sdrs-operator/sdrs-operator/internal/login"
	"github.com/sdrs-operator/sdrs-operator/internal/sdrs"
)

const (
	// drillPoll: how often a drill being created or deleted is looked at.
	drillPoll = 10 * time.Second
	// drillRetryMax caps the backoff between delete attempts.
	drillRetryMax = 10 * time.Minute
	// defaultDrillTTL is spec.ttl's default, for an object written
	// without it.
	defaultDrillTTL = 4 * time.Hour
	// drillDeleted is what status.drill.status says once SDRS no longer
	// has the drill.
	drillDeleted = "deleted"
	// jobDrillCreate is the SDRS job type of a drill create.
	jobDrillCreate = "createDisasterRecoveryDrill"
)

// Reasons the drill conditions carry besides the phases.
const (
	drillGroupNotFoundReason = "ProtectionGroupNotFound"
	drillNotReadyReason      = "GroupNotReadyForDrill"
	drillDeleteFailedReason  = "DrillDeleteFailed"
	// drillCleanupOverdueReason: still not deleted 15 minutes past expiry.
	drillCleanupOverdueReason = "DrillCleanupOverdue"
	drillGoneReason           = "DrillGoneOutside"
)

// connect finds the ProtectionGroup and a client for its ProviderConfig,
// and reads the SDRS group.
func (r *DrillReconciler) connect(ctx context.Context, s *drillScope) error {
	pg := &drv1alpha1.ProtectionGroup{}
	key := client.ObjectKey{Namespace: s.d.Namespace, Name: s.d.Spec.ProtectionGroupRef.Name}
	if err := r.Get(ctx, key, pg); err != nil {
		if apierrors.IsNotFound(err) {
			if s.d.Status.Phase == "" {
				s.d.Status.Phase = drv1alpha1.DrillPending
			}
			return &stallError{reason: drillGroupNotFoundReason, recheck: stalledRecheck,
				message: fmt.Sprintf("ProtectionGroup %s not found in namespace %s: a drill needs the group it drills", key.Name, key.Namespace)}
		}
		return fmt.Errorf("cannot get ProtectionGroup %s: %w", key.Name, err)
	}
	s.pg = pg
	if pg.GroupID() == "" {
		return waiting(drillNotReadyReason, drillPoll, "ProtectionGroup %s has no SDRS group yet", pg.Name)
	}
	pc := &drv1alpha1.ProviderConfig{}
	if err := r.Get(ctx, client.ObjectKey{Name: providerConfigName(pg)}, pc); err != nil {
		if apierrors.IsNotFound(err) {
			return stalled(drv1alpha1.ProviderConfigNotFoundReason, "ProviderConfig %q of ProtectionGroup %s not found", providerConfigName(pg), pg.Name)
		}
		return fmt.Errorf("cannot get ProviderConfig: %w", err)
	}
	c, err := r.Connector.Connect(ctx, pc)
	if err != nil {
		return fmt.Errorf("cannot connect to SDRS with ProviderConfig %q: %w", pc.Name, err)
	}
	s.client = c
	return nil
}

// drillName is the SDRS drill's name: derived from the object's identity,
// so that after a crash or a lost answer the drill is found by it, and at
// most MaxDrillNameBytes bytes of the characters SDRS accepts.
func drillName(d *drv1alpha1.ProtectionGroupDrill) string {
	sum := sha256.Sum256([]byte(string(d.UID)))
	suffix := "-" + hex.EncodeToString(sum[:])[:10]
	base := drillNameChars.ReplaceAllString(d.Namespace+"-"+d.Name, "-")
	if n := sdrs.MaxDrillNameBytes - len(suffix); len(base) > n {
		base = base[:n]
	}
	return base + suffix
}

var drillNameChars = regexp.MustCompile(`[^A-Za-z0-9._-]`)

// writeDrillStatus writes status now, checked against the resourceVersion
// read: the intent of a call is on record before the call is sent, and no
// call follows a stale copy.
func (r *DrillReconciler) writeDrillStatus(ctx context.Context, s *drillScope) error {
	return r.Status().Update(ctx, s.d)
}

// resolveCreate settles a create whose drill ID is not known yet: it finds
// the drill by its name (SDRS's create job names no drill the SDK reads),
// or decides that the create was not taken. It never sends a create.
func (r *DrillReconciler) resolveCreate(ctx context.Context, s *drillScope) error {
	st := &s.d.Status
	op := st.CurrentOperation
	if op == nil || op.Type != drv1alpha1.DrillOperationCreate {
		return nil
	}
	now := r.Clock()
	found, err := s.client.FindDrills(ctx, s.pg.GroupID(), st.Drill.Name)
	if err != nil {
		return fmt.Errorf("cannot look up drill %s: %w", st.Drill.Name, err)
	}
	switch len(found) {
	case 1:
		st.Drill.ID, st.Drill.Status = found[0].ID, found[0].Status
		if st.Drill.VpcID == "" {
			st.Drill.VpcID = found[0].VpcID
		}
		st.CurrentOperation = nil
		return nil
	case 0:
	default:
		return stalled(drv1alpha1.GroupConflictReason, "SDRS holds %d drills named %s in group %s; delete the extra ones in SDRS", len(found), st.Drill.Name, s.pg.GroupID())
	}
	if op.JobID != "" {
		job, err := s.client.GetJob(ctx, op.JobID)
		switch {
		case sdrs.IsNotFound(err) && now.Sub(op.AttemptedAt.Time) < r.NotStartedGrace:
			return waiting(string(drv1alpha1.DrillCreating), drillPoll, "SDRS job %s is not readable yet", op.JobID)
		case err != nil:
			return fmt.Errorf("cannot read drill job %s: %w", op.JobID, err)
		case job.Status == sdrs.JobFail:
			st.CurrentOperation, st.Phase = nil, drv1alpha1.DrillFailed
			return stalled(drv1alpha1.JobFailedReason, "SDRS could not create the drill: job %s failed with %s: %s; create another drill when the cause is fixed",
				op.JobID, orNoDetail(job.ErrorCode), job.FailReason)
		case job.DrillID != "":
			st.Drill.ID, st.CurrentOperation = job.DrillID, nil
			return nil
		}
		return waiting(string(drv1alpha1.DrillCreating), drillPoll, "SDRS creates drill %s (job %s)", st.Drill.Name, op.JobID)
	}
	// No job ID: the answer was lost. Wait the grace out, then ask the task
	// center; only a create that left no trace at all is sent again.
	if now.Sub(op.AttemptedAt.Time) < r.NotStartedGrace {
		return waiting(drv1alpha1.OutcomeUnknownReason, drillPoll,
			"the answer to creating drill %s was lost; looking it up by name until %s", st.Drill.Name, op.AttemptedAt.Add(r.NotStartedGrace).UTC().Format(time.RFC3339))
	}
	failed, err := s.client.ListFailedJobs(ctx, s.pg.GroupID())
	if err != nil {
		return fmt.Errorf("cannot read the task center: %w", err)
	}
	for _, j := range failed {
		if j.Type == jobDrillCreate && !j.BeginTime.Before(op.AttemptedAt.Add(-clockSkew)) {
			st.CurrentOperation, st.Phase = nil, drv1alpha1.DrillFailed
			return stalled(drv1alpha1.JobFailedReason, "SDRS could not create the drill: job %s failed with %s: %s", j.ID, orNoDetail(j.ErrorCode), j.FailReason)
		}
	}
	ctrl.LoggerFrom(ctx).Info("drill create left no trace after the grace; it was not taken", "name", st.Drill.Name, "attempt", op.Attempt)
	if s.releasing {
		// Nothing to delete: the drill ends without one.
		st.CurrentOperation = nil
	}
	return nil
}

// create sends the SDRS create once the group allows it: intent written
// first, the job ID right after.
func (r *DrillReconciler) create(ctx context.Context, s *drillScope) error {
	st := &s.d.Status
	if st.Drill != nil && st.Drill.ID != "" {
		return nil
	}
	if op := st.CurrentOperation; op != nil && op.JobID != "" {
		return nil // resolveCreate follows it
	}
	if st.Phase == drv1alpha1.DrillFailed {
		return stalled(drv1alpha1.JobFailedReason, "the drill could not be created; create another drill")
	}
	if err := r.checkDrillPreconditions(ctx, s); err != nil {
		if st.Phase == "" {
			st.Phase = drv1alpha1.DrillPending
		}
		return err
	}
	now := metav1.NewTime(r.Clock())
	if st.Drill == nil {
		st.Drill = &drv1alpha1.DrillObservation{Name: drillName(s.d), VpcID: s.d.Spec.DrillVpcID, VpcAutoCreated: s.d.Spec.DrillVpcID == ""}
	}
	op := st.CurrentOperation
	if op == nil {
		op = &drv1alpha1.DrillOperation{Type: drv1alpha1.DrillOperationCreate, StartedAt: now}
		st.CurrentOperation = op
	}
	op.Attempt++
	op.AttemptedAt = &now
	st.Phase = drv1alpha1.DrillCreating
	if err := r.writeDrillStatus(ctx, s); err != nil {
		return err
	}
	jobID, err := s.client.CreateDrill(ctx, sdrs.CreateDrillInput{Name: st.Drill.Name, GroupID: s.pg.GroupID(), VpcID: s.d.Spec.DrillVpcID})
	if err != nil {
		if refused(err) {
			// SDRS refused it: nothing was created.
			st.CurrentOperation, st.Phase = nil, drv1alpha1.DrillPending
			return err
		}
		return waiting(drv1alpha1.OutcomeUnknownReason, drillPoll, "creating drill %s: %v; looking it up by name before anything else", st.Drill.Name, err)
	}
	op.JobID = jobID
	if err := r.writeDrillStatus(ctx, s); err != nil {
		return err
	}
	ctrl.LoggerFrom(ctx).Info("drill create sent", "jobID", jobID, "name", st.Drill.Name)
	return waiting(string(drv1alpha1.DrillCreating), drillPoll, "SDRS creates drill %s (job %s)", st.Drill.Name, jobID)
}

// refused reports an answer that says SDRS took no action.
func refused(err error) bool {
	_, precondition := sdrs.IsPrecondition(err)
	return precondition || sdrs.IsInvalidRequest(err) || sdrs.IsNotFound(err) || sdrs.IsUnauthorized(err)
}

// checkDrillPreconditions checks what SDRS checks, before the call, so
// each refusal has a condition that says what to do.
func (r *DrillReconciler) checkDrillPreconditions(ctx context.Context, s *drillScope) error {
	if op := s.pg.Status.CurrentOperation; op != nil {
		return waiting(drillNotReadyReason, drillPoll, "ProtectionGroup %s is busy with %s; the drill starts after it", s.pg.Name, describe(op))
	}
	g, err := s.client.GetProtectionGroup(ctx, s.pg.GroupID())
	if err != nil {
		return fmt.Errorf("cannot read SDRS group %s: %w", s.pg.GroupID(), err)
	}
	s.group = g
	switch {
	case isTransitional(g.Status):
		return waiting(drillNotReadyReason, drillPoll, "SDRS group is %s; the drill starts when it ends", g.Status)
	case !drillAllowedFrom(g.Status):
		return stalled(drillNotReadyReason, "SDRS creates drills only for groups in status available, protected, failed-over or error-*; the group is %s", g.Status)
	case g.ReplicationCount == 0:
		return stalled(drv1alpha1.NoReplicationPairsReason, "SDRS group %s has no replication pairs: there is nothing to drill", g.ID)
	case g.ReplicationStatus == sdrs.ReplicationCopying || g.Progress < 100 && g.ReplicationStatus != sdrs.ReplicationActive:
		return waiting(drv1alpha1.ReplicationNotSynchronizedReason, syncPoll,
			"the first full synchronisation is not done (%d%%): drill servers made now might not start; the drill starts when it is", g.Progress)
	}
	if n := len(drillName(s.d)); n > sdrs.MaxDrillNameBytes {
		return stalled(drv1alpha1.InvalidRequestReason, "drill name is %d bytes, SDRS allows %d", n, sdrs.MaxDrillNameBytes)
	}
	return nil
}

func drillAllowedFrom(status string) bool {
	switch status {
	case sdrs.StatusAvailable, sdrs.StatusProtected, sdrs.StatusFailedOver, sdrs.StatusErrorStarting, sdrs.StatusErrorStopping,
		sdrs.StatusErrorReversing, sdrs.StatusErrorReprotecting, sdrs.StatusErrorFailingOver:
		return true
	}
	return false
}

// observeDrill reads the drill and its servers into status.
func (r *DrillReconciler) observeDrill(ctx context.Context, s *drillScope) error {
	st := &s.d.Status
	dr, err := s.client.GetDrill(ctx, st.Drill.ID)
	if sdrs.IsNotFound(err) {
		st.Phase = drv1alpha1.DrillReleased
		return stalled(drillGoneReason, "SDRS drill %s is gone: it was deleted outside this operator", st.Drill.ID)
	}
	if err != nil {
		return fmt.Errorf("cannot read drill %s: %w", st.Drill.ID, err)
	}
	st.Drill.Status = dr.Status
	if dr.VpcID != "" {
		st.Drill.VpcID = dr.VpcID
	}
	switch dr.Status {
	case sdrs.DrillCreating:
		st.Phase = drv1alpha1.DrillCreating
		return waiting(string(drv1alpha1.DrillCreating), drillPoll, "SDRS creates the drill servers of %s", st.Drill.Name)
	case sdrs.DrillError:
		st.Phase = drv1alpha1.DrillFailed
		return stalled(drv1alpha1.JobFailedReason, "SDRS drill %s is in status error: set spec.release to delete it", st.Drill.ID)
	case sdrs.DrillDeleting, sdrs.DrillErrorDeleting:
		st.Phase = drv1alpha1.DrillReleasing
		return waiting(string(drv1alpha1.DrillReleasing), drillPoll, "SDRS drill %s is %s", st.Drill.ID, dr.Status)
	}
	now := r.Clock()
	if st.AvailableAt == nil {
		t := metav1.NewTime(now)
		st.AvailableAt = &t
		if st.Phase != drv1alpha1.DrillVerifying {
			st.Phase = drv1alpha1.DrillAvailable
		}
		if r.Recorder != nil && st.Drill.VpcAutoCreated {
			r.Recorder.Eventf(s.d, nil, corev1.EventTypeNormal, "DrillVpcCreated", "Drill", "SDRS created drill VPC %s; it stays after the drill", st.Drill.VpcID)
		}
	}
	ttl := defaultDrillTTL
	if t := s.d.Spec.TTL; t != nil && t.Duration > 0 {
		ttl = t.Duration
	}
	ttl = min(ttl, r.MaxTTL)
	exp := metav1.NewTime(st.AvailableAt.Add(ttl))
	st.ExpiresAt = &exp
	if len(st.Servers) != len(dr.Servers) || missingAddresses(st.Servers) {
		if err := r.observeDrillServers(ctx, s, dr); err != nil {
			return err
		}
	}
	return nil
}

func missingAddresses(servers []drv1alpha1.DrillServer) bool {
	for _, s := range servers {
		if len(s.Addresses) == 0 {
			return true
		}
	}
	return false
}

// observeDrillServers reads each drill server from ECS, and says how to
// log in: drill servers follow the rules of DR-site servers after a first
// swap (login-rules.md), their "first start" being the drill's.
func (r *DrillReconciler) observeDrillServers(ctx context.Context, s *drillScope, dr *sdrs.Drill) error {
	st := &s.d.Status
	out := make([]drv1alpha1.DrillServer, 0, len(dr.Servers))
	for _, ds := range dr.Servers {
		srv, err := s.client.GetServer(ctx, ds.ServerID)
		if err != nil {
			return fmt.Errorf("cannot read drill server %s: %w", ds.ServerID, err)
		}
		row := drv1alpha1.DrillServer{ProtectedInstance: ds.ProtectedInstanceID, ServerID: ds.ServerID, Name: srv.Name, Addresses: srv.Addresses}
		if len(row.Addresses) > 8 {
			row.Addresses = row.Addresses[:8]
		}
		row.Login = drillLogin(s.pg, ds.ProtectedInstanceID, ds.ServerID, st.AvailableAt.Time, r.Clock())
		out = append(out, row)
	}
	st.Servers = out
	return nil
}

func drillLogin(pg *drv1alpha1.ProtectionGroup, instanceID, serverID string, started, now time.Time) *drv1alpha1.ServerLogin {
	for i := range pg.Status.Instances {
		in := &pg.Status.Instances[i]
		if in.ID != instanceID {
			continue
		}
		f := login.Facts{OS: in.OSType, KeyName: in.KeyName, Agent: guestInitAgent(pg.Spec.Login, in),
			FirstSwap: drv1alpha1.FirstSwapDone, Active: drv1alpha1.SiteTarget, ServerA: in.SourceServer.ID, ServerB: serverID,
			ProductionStartedAt: &started}
		b := login.Guide(f, now).Servers[1]
		b.Role = "Drill"
		return &b
	}
	return nil
}

// release deletes the SDRS drill: intent first, the job ID right after;
// a failed delete is retried with backoff and reported once past its TTL.
func (r *DrillReconciler) release(ctx context.Context, s *drillScope) error {
	st := &s.d.Status
	if st.Drill == nil || st.Drill.ID == "" {
		if st.CurrentOperation != nil {
			return waiting(string(drv1alpha1.DrillReleasing), drillPoll,
				"looking for drill %s, whose create may have been taken, before deleting it", st.Drill.Name)
		}
		return r.released(ctx, s)
	}
	op := st.CurrentOperation
	if op != nil && op.Type == drv1alpha1.DrillOperationDelete && op.JobID != "" {
		job, err := s.client.GetJob(ctx, op.JobID)
		switch {
		case sdrs.IsNotFound(err) && r.Clock().Sub(op.AttemptedAt.Time) < r.NotStartedGrace:
			return waiting(string(drv1alpha1.DrillReleasing), drillPoll, "SDRS job %s is not readable yet", op.JobID)
		case err != nil && !sdrs.IsNotFound(err):
			return fmt.Errorf("cannot read drill delete job %s: %w", op.JobID, err)
		case err == nil && !job.Status.Done():
			st.Phase = drv1alpha1.DrillReleasing
			return waiting(string(drv1alpha1.DrillReleasing), drillPoll, "SDRS deletes drill %s (job %s)", st.Drill.ID, op.JobID)
		}
	}
	dr, err := s.client.GetDrill(ctx, st.Drill.ID)
	if sdrs.IsNotFound(err) {
		return r.released(ctx, s)
	}
	if err != nil {
		return fmt.Errorf("cannot read drill %s: %w", st.Drill.ID, err)
	}
	st.Drill.Status = dr.Status
	switch dr.Status {
	case sdrs.DrillCreating, sdrs.DrillDeleting:
		// SDRS deletes a drill only once it is available (or failed).
		st.Phase = drv1alpha1.DrillReleasing
		return waiting(string(drv1alpha1.DrillReleasing), drillPoll, "drill %s is %s; it is deleted when SDRS allows", st.Drill.ID, dr.Status)
	}
	if op != nil && op.Type == drv1alpha1.DrillOperationDelete && op.AttemptedAt != nil {
		if wait := deleteBackoff(op.Attempt) - r.Clock().Sub(op.AttemptedAt.Time); wait > 0 {
			return r.deleteFailed(s, wait)
		}
	}
	now := metav1.NewTime(r.Clock())
	if op == nil || op.Type != drv1alpha1.DrillOperationDelete {
		op = &drv1alpha1.DrillOperation{Type: drv1alpha1.DrillOperationDelete, StartedAt: now}
		st.CurrentOperation = op
	}
	op.Attempt++
	op.AttemptedAt, op.JobID = &now, ""
	st.Phase = drv1alpha1.DrillReleasing
	if err := r.writeDrillStatus(ctx, s); err != nil {
		return err
	}
	jobID, err := s.client.DeleteDrill(ctx, st.Drill.ID)
	if sdrs.IsNotFound(err) {
		return r.released(ctx, s)
	}
	if err != nil {
		return fmt.Errorf("cannot delete drill %s: %w", st.Drill.ID, err)
	}
	op.JobID = jobID
	if err := r.writeDrillStatus(ctx, s); err != nil {
		return err
	}
	ctrl.LoggerFrom(ctx).Info("drill delete sent", "jobID", jobID, "drillID", st.Drill.ID)
	return waiting(string(drv1alpha1.DrillReleasing), drillPoll, "SDRS deletes drill %s (job %s)", st.Drill.ID, jobID)
}

// deleteBackoff is the wait after the n-th failed delete.
func deleteBackoff(attempt int32) time.Duration {
	d := 30 * time.Second
	for i := int32(1); i < attempt && d < drillRetryMax; i++ {
		d *= 2
	}
	return min(d, drillRetryMax)
}

func (r *DrillReconciler) deleteFailed(s *drillScope, wait time.Duration) error {
	d := s.d
	we := &waitError{reason: drillDeleteFailedReason, after: wait, warn: true,
		message: fmt.Sprintf("SDRS could not delete drill %s (status %s, attempt %d); retrying in %s", d.Status.Drill.ID, d.Status.Drill.Status,
			d.Status.CurrentOperation.Attempt, wait.Round(time.Second))}
	if exp := d.Status.ExpiresAt; exp != nil && r.Clock().After(exp.Add(cleanupGrace)) {
		we.reason = drillCleanupOverdueReason
		we.message += fmt.Sprintf("; the drill expired at %s and its servers still cost money: check the drill in the SDRS console", exp.UTC().Format(time.RFC3339))
	}
	return we
}

// released records the end of the drill and, for a deleted object, lets
// it go.
func (r *DrillReconciler) released(ctx context.Context, s *drillScope) error {
	st := &s.d.Status
	st.CurrentOperation = nil
	if st.Drill != nil && st.Drill.ID != "" {
		st.Drill.Status = drillDeleted
	}
	if st.Phase != drv1alpha1.DrillReleased {
		t := metav1.NewTime(r.Clock())
		st.ReleasedAt, st.Phase = &t, drv1alpha1.DrillReleased
	}
	if !s.d.DeletionTimestamp.IsZero() {
		return r.removeFinalizer(ctx, s)
	}
	return nil
}
