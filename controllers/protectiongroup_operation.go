package controllers

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/uuid"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	drv1alpha1 "github.com/sdrs-operator/sdrs-operator/api/v1alpha1"
	"github.com/sdrs-operator/sdrs-operator/internal/sdrs"
)

// An operation moves through persisted steps:
//
//	PlannedFailover: StopServers|WaitServersStopped -> SDRSAction -> StartServers -> Done
//	Failover:        SDRSAction -> StartServers -> Done
//	Reprotect:       StopServers|WaitServersStopped -> SDRSAction -> Done
//	others:          SDRSAction -> Done
//
// Server steps exist only with serverPower Managed (Stop/Start) or Manual
// (Wait). ECS stop and start are harmless to repeat, so they need no intent
// record; the SDRS action does: its step is written before the call and its
// job ID right after, and an SDRS step found without a job ID is judged by
// the group's own status before anything is re-issued.

const maxHistory = 20

// errOperationFailed marks an operation that ended badly in the cloud.
type operationFailed struct {
	code    string
	message string
}

func (e *operationFailed) Error() string { return e.message }

func failed(code, format string, args ...any) error {
	return &operationFailed{code: code, message: fmt.Sprintf(format, args...)}
}

// errPaused stops a phase that would start a new cloud action.
type pausedError struct{ wouldDo string }

func (e *pausedError) Error() string {
	return fmt.Sprintf("reconciliation is paused (annotation %s=\"true\"); would %s", drv1alpha1.PausedAnnotation, e.wouldDo)
}

// startOperation records a new operation's intent in status and writes it
// before any cloud call. The write carries the resourceVersion of the copy
// the decision was made on: if anyone wrote the object since (another
// leader, or our copy came from a stale cache), the API server refuses it
// with a conflict, nothing is issued and the reconcile starts over. That is
// the fresh read the design asks for, done by the API server in the same
// step as the write, so it costs no extra request.
func (r *ProtectionGroupReconciler) startOperation(ctx context.Context, s *scope, typ drv1alpha1.OperationType, from, to drv1alpha1.Site) (*drv1alpha1.Operation, error) {
	op := &drv1alpha1.Operation{
		Type:       typ,
		RequestID:  string(uuid.NewUUID()),
		Step:       firstStep(typ, s.pg.Spec.ServerPower),
		From:       from,
		To:         to,
		Generation: s.pg.Generation,
		StartedAt:  metav1.NewTime(r.now()),
	}
	s.pg.Status.CurrentOperation = op
	s.freshStep = op.Step
	if err := r.writeIntent(ctx, s, op); err != nil {
		s.pg.Status.CurrentOperation = nil
		return nil, err
	}
	ctrl.LoggerFrom(ctx).Info("operation started", "operation", op.Type, "requestID", op.RequestID, "from", from, "to", to, "step", op.Step)
	return s.pg.Status.CurrentOperation, nil
}

// writeIntent writes the operation at its current step with the conditions
// the reconcile will end with while the step runs, so that issuing the
// action leaves nothing more to write.
func (r *ProtectionGroupReconciler) writeIntent(ctx context.Context, s *scope, op *drv1alpha1.Operation) error {
	r.applyOutcome(s, outcome{reason: stepReason(op), message: jobRunning(op), reconciling: true}, r.now())
	if err := r.patchStatus(ctx, s); err != nil {
		return fmt.Errorf("cannot record the intent to %s: %w", describe(op), err)
	}
	return nil
}

// firstStep is where an operation starts. With serverPower Manual a planned
// failover or re-protect goes to SDRS at once: SDRS itself refuses it while
// servers that must be off still run (SDRS.1319, SDRS.1342), and only then
// does the operator read the servers to name them (WaitServersStopped). A
// runbook that stopped the servers first costs no server reads at all.
func firstStep(typ drv1alpha1.OperationType, power drv1alpha1.ServerPowerPolicy) drv1alpha1.OperationStep {
	switch typ {
	case drv1alpha1.OperationPlannedFailover, drv1alpha1.OperationReprotect:
		if power == drv1alpha1.ServerPowerManual {
			return drv1alpha1.StepSDRSAction
		}
		return drv1alpha1.StepStopServers
	}
	return drv1alpha1.StepSDRSAction
}

// serversRunningCodes are the SDRS refusals that mean "servers that must be
// stopped for this action still run".
var serversRunningCodes = map[string]bool{
	"SDRS.1316": true, // server not stopped
	"SDRS.1319": true, // production-site server not stopped (reverse)
	"SDRS.1342": true, // DR-site server not stopped (re-protect)
	"SDRS.1352": true, // production-site server not stopped
}

func stepAfterAction(op *drv1alpha1.Operation, power drv1alpha1.ServerPowerPolicy) drv1alpha1.OperationStep {
	if power == drv1alpha1.ServerPowerManaged &&
		(op.Type == drv1alpha1.OperationPlannedFailover || op.Type == drv1alpha1.OperationFailover) {
		return drv1alpha1.StepStartServers
	}
	return drv1alpha1.StepDone
}

// advance drives the current operation as far as it can go in this
// reconcile: it returns nil when the operation finished well, a waitError
// while a job runs, or a stallError when it failed.
func (r *ProtectionGroupReconciler) advance(ctx context.Context, s *scope) error {
	op := s.pg.Status.CurrentOperation
	log := ctrl.LoggerFrom(ctx).WithValues("operation", op.Type, "requestID", op.RequestID)
	ctx = ctrl.LoggerInto(ctx, log)
	for op.Step != drv1alpha1.StepDone {
		before := op.Step
		next, err := r.runStep(ctx, s, op)
		var of *operationFailed
		if errors.As(err, &of) {
			r.finishOperation(s, drv1alpha1.OperationFailed, of.code, of.message)
			log.Info("operation failed", "code", of.code, "message", of.message)
			return stalled(drv1alpha1.JobFailedReason, "%s; to retry, set annotation %s to a new value or change the spec",
				of.message, drv1alpha1.RetryAnnotation)
		}
		if err != nil {
			return err
		}
		op.Step = next
		op.ServerJobID, op.Servers = "", nil
		s.freshStep = next
		log.V(1).Info("operation step done", "step", before, "next", next)
	}
	r.finishOperation(s, drv1alpha1.OperationSucceeded, "", describe(op)+": done")
	log.Info("operation succeeded")
	return nil
}

func (r *ProtectionGroupReconciler) runStep(ctx context.Context, s *scope, op *drv1alpha1.Operation) (drv1alpha1.OperationStep, error) {
	switch op.Step {
	case drv1alpha1.StepStopServers:
		return r.stepPower(ctx, s, op, false)
	case drv1alpha1.StepStartServers:
		return r.stepPower(ctx, s, op, true)
	case drv1alpha1.StepWaitServersStopped:
		return r.stepWaitServersStopped(ctx, s, op)
	case drv1alpha1.StepSDRSAction:
		return r.stepSDRSAction(ctx, s, op)
	}
	return drv1alpha1.StepDone, stalled(drv1alpha1.ReconcileErrorReason, "operation %s is at unknown step %q", op.Type, op.Step)
}

// finishOperation moves the current operation to lastOperation and history.
func (r *ProtectionGroupReconciler) finishOperation(s *scope, result drv1alpha1.OperationResult, code, message string) {
	op := s.pg.Status.CurrentOperation.DeepCopy()
	now := metav1.NewTime(r.now())
	op.FinishedAt = &now
	op.Result = result
	op.ErrorCode = code
	op.Message = message
	if result == drv1alpha1.OperationSucceeded {
		op.Step = drv1alpha1.StepDone
	}
	op.ServerJobID, op.Servers = "", nil
	s.pg.Status.CurrentOperation = nil
	s.pg.Status.LastOperation = op
	s.pg.Status.History = append([]drv1alpha1.Operation{*op}, s.pg.Status.History...)
	if len(s.pg.Status.History) > maxHistory {
		s.pg.Status.History = s.pg.Status.History[:maxHistory]
	}
	s.finished = op
}

// --- the SDRS action step -------------------------------------------------

func (r *ProtectionGroupReconciler) stepSDRSAction(ctx context.Context, s *scope, op *drv1alpha1.Operation) (drv1alpha1.OperationStep, error) {
	log := ctrl.LoggerFrom(ctx)
	key, typ := client.ObjectKeyFromObject(s.pg), jobType(op)
	var unrecorded *issuedJob // the job this process issued, not yet in status
	if op.JobID == "" {
		if j, ok := r.issued().recall(op.RequestID); ok {
			op.JobID, unrecorded = j.id, &j
		}
	}
	if op.JobID != "" {
		if poll, wait := r.poll().Before(key, op.JobID, typ, r.now()); !poll {
			// Too early to find the job ended: no call, no write.
			return "", r.jobWait(op, unrecorded, wait)
		}
		job, err := s.client.GetJob(ctx, op.JobID)
		switch {
		case sdrs.IsNotFound(err):
			log.Info("SDRS no longer knows the job; judging by the group's status", "jobID", op.JobID)
			r.poll().Ended(op.JobID, typ, 0)
			r.issued().forget(op.RequestID)
			op.JobID = ""
		case err != nil:
			// The error is written to status anyway, and the job ID with it.
			return "", fmt.Errorf("cannot read SDRS job %s: %w", op.JobID, err)
		case !job.Status.Done():
			return "", r.jobWait(op, unrecorded, r.poll().Running(key, op.JobID, typ, job.BeginTime, r.now()))
		case job.Status == sdrs.JobFail:
			r.poll().Ended(op.JobID, typ, jobTook(job))
			// The group was not read while the job ran; show the state
			// the failure left it in.
			if err := r.refreshGroup(ctx, s); err != nil && !sdrs.IsNotFound(err) {
				return "", err
			}
			return "", failed(job.ErrorCode, "%s failed: SDRS job %s ended FAIL with %s: %s",
				describe(op), op.JobID, orUnknown(job.ErrorCode), orUnknown(job.FailReason))
		default:
			r.poll().Ended(op.JobID, typ, jobTook(job))
			log.Info("SDRS job succeeded", "jobID", op.JobID)
			if op.Type == drv1alpha1.OperationCreate {
				if err := r.recordCreatedGroup(ctx, s, job); err != nil {
					return "", err
				}
			}
			if err := r.refreshGroup(ctx, s); err != nil {
				return "", err
			}
			return stepAfterAction(op, s.pg.Spec.ServerPower), nil
		}
	}

	// No job ID. Either the intent was just written in this reconcile, or
	// an earlier one wrote it and may or may not have reached SDRS.
	if s.freshStep != drv1alpha1.StepSDRSAction {
		verdict, err := r.judgeByGroup(ctx, s, op)
		if err != nil {
			return "", err
		}
		switch verdict {
		case verdictRunning:
			// Our own action, so poll as for its job: what was learned
			// about this job type says when the group should be done.
			return "", waiting(stepReason(op), r.poll().Next(jobType(op), r.now().Sub(op.StartedAt.Time)),
				"%s: the SDRS job ID was not recorded; following the group's status %s until it ends", describe(op), groupStatus(s))
		case verdictSucceeded:
			log.Info("SDRS action finished while its job ID was unknown; the group shows it succeeded")
			return stepAfterAction(op, s.pg.Spec.ServerPower), nil
		case verdictFailed:
			return "", failed("", "%s failed: the group ended in status %s (its job ID was not recorded)", describe(op), groupStatus(s))
		}
		// verdictNotStarted: SDRS never took the action; issue it now.
	}
	if s.pg.IsPaused() {
		return "", &pausedError{wouldDo: describe(op)}
	}
	// The intent, when the step just changed (a no-op when startOperation
	// wrote it in this reconcile).
	if err := r.writeIntent(ctx, s, op); err != nil {
		return "", err
	}
	jobID, err := r.issue(ctx, s, op)
	if err != nil {
		if code, ok := sdrs.IsPrecondition(err); ok && serversRunningCodes[code] &&
			s.pg.Spec.ServerPower == drv1alpha1.ServerPowerManual && !s.refusedForServers &&
			(op.Type == drv1alpha1.OperationPlannedFailover || op.Type == drv1alpha1.OperationReprotect) {
			// Servers still run: find and name them, and try again
			// once a person stopped them. A second refusal in this
			// reconcile (ECS says stopped, SDRS says running) stalls
			// below with SDRS's own words.
			s.refusedForServers = true
			ctrl.LoggerFrom(ctx).Info("SDRS refused the action while servers run; waiting for them to be stopped", "code", code)
			return drv1alpha1.StepWaitServersStopped, nil
		}
		if code, ok := sdrs.IsPrecondition(err); ok {
			// SDRS refused: nothing happened in the cloud. Drop the
			// intent and explain; the next look decides afresh.
			s.pg.Status.CurrentOperation = nil
			return "", stalled(drv1alpha1.PreconditionNotMetReason, "SDRS refused to %s (%s): %v", describe(op), code, err)
		}
		// Unknown whether SDRS took it: keep the intent; the next
		// reconcile judges by the group's status.
		return "", fmt.Errorf("cannot %s: %w", describe(op), err)
	}
	now := r.now()
	log.Info("SDRS action accepted", "jobID", jobID)
	s.issuedJobID = jobID // named by the Event at once
	// Kept in memory even when it is written at once: should that write
	// fail, the job is still followed by its ID.
	r.issued().remember(op.RequestID, jobID, now)
	op.JobID = jobID
	return "", r.jobWait(op, &issuedJob{id: jobID, at: now}, r.poll().Issued(key, jobID, typ, now))
}

// jobWait is the outcome while an SDRS job runs. A job this process issued
// whose ID is not in status yet stays out of status until it has run for
// RecordJobIDAfter (the reconcile then wakes to write it) or ends: the
// status, and the object, stay as the intent left them.
func (r *ProtectionGroupReconciler) jobWait(op *drv1alpha1.Operation, unrecorded *issuedJob, wait time.Duration) error {
	if unrecorded != nil {
		if age := r.now().Sub(unrecorded.at); age < r.RecordJobIDAfter {
			op.JobID = ""
			return waiting(stepReason(op), min(wait, r.RecordJobIDAfter-age), "%s", jobRunning(op))
		}
	}
	return waiting(stepReason(op), wait, "%s", jobRunning(op))
}

// jobRunning is the message while an SDRS action is under way. It is the
// same from the intent to the job's end, or from when the job ID is
// recorded, so looks that find the job still running leave the status, and
// the object, unchanged.
func jobRunning(op *drv1alpha1.Operation) string {
	if op.JobID == "" {
		return describe(op) + ": in progress"
	}
	return fmt.Sprintf("%s: SDRS job %s is running", describe(op), op.JobID)
}

// issue calls the SDRS action of an operation.
func (r *ProtectionGroupReconciler) issue(ctx context.Context, s *scope, op *drv1alpha1.Operation) (string, error) {
	id := s.pg.GroupID()
	switch op.Type {
	case drv1alpha1.OperationCreate:
		fp := s.pg.Spec.ForProvider
		return s.client.CreateProtectionGroup(ctx, sdrs.CreateGroupInput{
			Name: fp.Name, Description: fp.Description,
			SourceAvailabilityZone: fp.SourceAvailabilityZone, TargetAvailabilityZone: fp.TargetAvailabilityZone,
			DomainID: fp.DomainID, SourceVpcID: fp.SourceVpcID,
		})
	case drv1alpha1.OperationEnableProtection, drv1alpha1.OperationReprotect:
		return s.client.StartProtection(ctx, id)
	case drv1alpha1.OperationDisableProtection:
		return s.client.StopProtection(ctx, id)
	case drv1alpha1.OperationPlannedFailover:
		return s.client.StartPlannedFailover(ctx, id, sdrs.Site(op.To))
	case drv1alpha1.OperationFailover:
		return s.client.StartFailover(ctx, id)
	case drv1alpha1.OperationDelete:
		return s.client.DeleteProtectionGroup(ctx, id)
	}
	return "", fmt.Errorf("unknown operation type %q", op.Type)
}

type verdict int

const (
	verdictNotStarted verdict = iota
	verdictRunning
	verdictSucceeded
	verdictFailed
)

// judgeByGroup decides from the group's own status whether an action whose
// job ID was not recorded was taken, is running, or ended.
func (r *ProtectionGroupReconciler) judgeByGroup(ctx context.Context, s *scope, op *drv1alpha1.Operation) (verdict, error) {
	if op.Type == drv1alpha1.OperationCreate {
		return r.judgeCreate(ctx, s)
	}
	if err := r.refreshGroup(ctx, s); err != nil {
		if op.Type == drv1alpha1.OperationDelete && sdrs.IsNotFound(err) {
			return verdictSucceeded, nil
		}
		return verdictNotStarted, err
	}
	g := s.group
	if isTransitional(g.Status) {
		return verdictRunning, nil
	}
	at := drv1alpha1.Site(g.PriorityStation)
	switch op.Type {
	case drv1alpha1.OperationPlannedFailover:
		return judge(g.Status == sdrs.StatusProtected && at == op.To, g.Status == sdrs.StatusErrorReversing), nil
	case drv1alpha1.OperationFailover:
		return judge((g.Status == sdrs.StatusFailedOver || g.Status == sdrs.StatusProtected) && at == op.To,
			g.Status == sdrs.StatusErrorFailingOver), nil
	case drv1alpha1.OperationEnableProtection:
		return judge(g.Status == sdrs.StatusProtected, g.Status == sdrs.StatusErrorStarting), nil
	case drv1alpha1.OperationReprotect:
		return judge(g.Status == sdrs.StatusProtected, g.Status == sdrs.StatusErrorReprotecting), nil
	case drv1alpha1.OperationDisableProtection:
		return judge(g.Status == sdrs.StatusAvailable, g.Status == sdrs.StatusErrorStopping), nil
	case drv1alpha1.OperationDelete:
		return judge(false, g.Status == sdrs.StatusErrorDeleting), nil
	}
	return verdictNotStarted, nil
}

func judge(succeeded, failed bool) verdict {
	switch {
	case succeeded:
		return verdictSucceeded
	case failed:
		return verdictFailed
	}
	return verdictNotStarted
}

// judgeCreate looks the group up by name: creation is the one action SDRS
// would happily repeat, so it is never re-issued while a group of that
// name exists.
func (r *ProtectionGroupReconciler) judgeCreate(ctx context.Context, s *scope) (verdict, error) {
	groups, err := s.client.FindProtectionGroupsByName(ctx, s.pg.Spec.ForProvider.Name)
	if err != nil {
		return verdictNotStarted, fmt.Errorf("cannot look up SDRS groups named %q: %w", s.pg.Spec.ForProvider.Name, err)
	}
	switch len(groups) {
	case 0:
		return verdictNotStarted, nil
	case 1:
		g := groups[0]
		setGroupID(s.pg, g.ID)
		s.group = &g
		switch g.Status {
		case sdrs.StatusCreating:
			return verdictRunning, nil
		case sdrs.StatusError:
			return verdictFailed, nil
		}
		return verdictSucceeded, nil
	}
	return verdictNotStarted, stalled(drv1alpha1.GroupConflictReason,
		"%d SDRS groups are named %q and the create job ID was not recorded; adopt the right one with spec.protectionGroupID",
		len(groups), s.pg.Spec.ForProvider.Name)
}

func (r *ProtectionGroupReconciler) recordCreatedGroup(ctx context.Context, s *scope, job *sdrs.Job) error {
	if job.GroupID != "" {
		setGroupID(s.pg, job.GroupID)
		return nil
	}
	v, err := r.judgeCreate(ctx, s)
	if err != nil {
		return err
	}
	if v != verdictSucceeded {
		return failed("", "the create job succeeded but no SDRS group named %q was found", s.pg.Spec.ForProvider.Name)
	}
	return nil
}

// --- server steps ---------------------------------------------------------

// stepPower stops the production servers before a planned failover or
// re-protect, or starts the servers at the new production site after one.
func (r *ProtectionGroupReconciler) stepPower(ctx context.Context, s *scope, op *drv1alpha1.Operation, start bool) (drv1alpha1.OperationStep, error) {
	verb, doing, want, reason, site := "stop", "stopping", sdrs.PowerShutoff, drv1alpha1.StoppingServersReason, serversToStop(op)
	if start {
		verb, doing, want, reason, site = "start", "starting", sdrs.PowerActive, drv1alpha1.StartingServersReason, op.To
	}
	if op.ServerJobID != "" {
		job, err := s.client.GetServerJob(ctx, op.ServerJobID)
		switch {
		case sdrs.IsNotFound(err):
			op.ServerJobID = "" // harmless: the servers' own state decides below
		case err != nil:
			return "", fmt.Errorf("cannot read ECS job %s: %w", op.ServerJobID, err)
		case !job.Status.Done():
			return "", waiting(reason, r.poll().Next("ecs-"+verb, r.now().Sub(jobStart(job, op))),
				"%s: %s servers %s (ECS job %s)", describe(op), doing, strings.Join(op.Servers, ", "), op.ServerJobID)
		case job.Status == sdrs.JobFail:
			return "", failed(job.ErrorCode, "%s failed: ECS could not %s servers %s (job %s: %s %s)",
				describe(op), verb, strings.Join(op.Servers, ", "), op.ServerJobID, orUnknown(job.ErrorCode), job.FailReason)
		default:
			r.learn("ecs-"+verb, job)
		}
	}
	pending, err := r.serversNotIn(ctx, s, site, want)
	if err != nil {
		return "", err
	}
	if len(pending) == 0 {
		return r.afterPowerStep(op), nil
	}
	if s.pg.IsPaused() {
		return "", &pausedError{wouldDo: fmt.Sprintf("%s servers %s", verb, strings.Join(pending, ", "))}
	}
	var jobID string
	if start {
		jobID, err = s.client.StartServers(ctx, pending)
	} else {
		jobID, err = s.client.StopServers(ctx, pending)
	}
	if err != nil {
		return "", fmt.Errorf("cannot %s servers %s: %w", verb, strings.Join(pending, ", "), err)
	}
	op.ServerJobID, op.Servers = jobID, pending
	ctrl.LoggerFrom(ctx).Info("ECS job started", "jobID", jobID, "verb", verb, "servers", pending)
	if err := r.patchStatus(ctx, s); err != nil {
		return "", fmt.Errorf("cannot record ECS job %s: %w", jobID, err)
	}
	return "", waiting(reason, r.poll().Next("ecs-"+verb, 0), "%s: %s servers %s (ECS job %s)",
		describe(op), doing, strings.Join(pending, ", "), jobID)
}

func (r *ProtectionGroupReconciler) afterPowerStep(op *drv1alpha1.Operation) drv1alpha1.OperationStep {
	if op.Step == drv1alpha1.StepStartServers {
		return drv1alpha1.StepDone
	}
	return drv1alpha1.StepSDRSAction
}

// stepWaitServersStopped is the Manual twin of StopServers: it names the
// servers a person must stop and proceeds once they are stopped.
func (r *ProtectionGroupReconciler) stepWaitServersStopped(ctx context.Context, s *scope, op *drv1alpha1.Operation) (drv1alpha1.OperationStep, error) {
	site := serversToStop(op)
	running, err := r.serversNotIn(ctx, s, site, sdrs.PowerShutoff)
	if err != nil {
		return "", err
	}
	if len(running) == 0 {
		return drv1alpha1.StepSDRSAction, nil
	}
	op.Servers = running
	return "", waiting(drv1alpha1.WaitingForServersStoppedReason, syncPoll,
		"serverPower is Manual: stop these servers at the %s site (%s) so that SDRS can %s: %s",
		site, zoneOf(s, site), strings.ToLower(describe(op)), strings.Join(running, ", "))
}

// serversToStop is the site whose servers must be off: the production site
// before a planned failover, the disaster-recovery site before re-protect.
func serversToStop(op *drv1alpha1.Operation) drv1alpha1.Site {
	if op.Type == drv1alpha1.OperationReprotect {
		return op.To.Other()
	}
	return op.From
}

// serversNotIn lists the servers at a site whose power is not want, and
// refreshes status.instances from what it read.
func (r *ProtectionGroupReconciler) serversNotIn(ctx context.Context, s *scope, site drv1alpha1.Site, want string) ([]string, error) {
	if err := r.observeInstances(ctx, s); err != nil {
		return nil, err
	}
	var ids []string
	for _, in := range s.pg.Status.Instances {
		srv := in.SourceServer
		if site == drv1alpha1.SiteTarget {
			srv = in.TargetServer
		}
		if srv.ID != "" && srv.Power != want {
			ids = append(ids, srv.ID)
		}
	}
	return ids, nil
}

// --- small helpers --------------------------------------------------------

func (r *ProtectionGroupReconciler) poll() *PollSchedule {
	if r.Poll == nil {
		r.Poll = NewPollSchedule()
	}
	return r.Poll
}

// learn records how long a finished job took, under key.
func (r *ProtectionGroupReconciler) learn(key string, job *sdrs.Job) {
	r.poll().Observe(key, jobTook(job))
}

// jobTook is how long a finished job ran, 0 when SDRS did not say.
func jobTook(job *sdrs.Job) time.Duration {
	if job.BeginTime.IsZero() || job.EndTime.IsZero() {
		return 0
	}
	return job.EndTime.Sub(job.BeginTime)
}

func jobStart(job *sdrs.Job, op *drv1alpha1.Operation) time.Time {
	if !job.BeginTime.IsZero() {
		return job.BeginTime
	}
	return op.StartedAt.Time
}

// jobType is the SDRS job type an operation's action creates, used to look
// up how long such jobs usually take.
func jobType(op *drv1alpha1.Operation) string {
	switch op.Type {
	case drv1alpha1.OperationCreate:
		return "createProtectionGroupNoCG"
	case drv1alpha1.OperationEnableProtection:
		return "startProtectionGroupNoCG"
	case drv1alpha1.OperationReprotect:
		return "reprotectProtectionGroupNoCG"
	case drv1alpha1.OperationDisableProtection:
		return "stopProtectionGroupNoCG"
	case drv1alpha1.OperationPlannedFailover:
		return "reverseProtectionGroupNoCG"
	case drv1alpha1.OperationFailover:
		return "failoverProtectionGroupNoCG"
	case drv1alpha1.OperationDelete:
		return "deleteProtectionGroupNoCG"
	}
	return string(op.Type)
}

func groupStatus(s *scope) string {
	if s.group == nil {
		return "unknown"
	}
	return s.group.Status
}

func zoneOf(s *scope, site drv1alpha1.Site) string {
	if s.group == nil {
		return "unknown zone"
	}
	if site == drv1alpha1.SiteTarget {
		return s.group.TargetAvailabilityZone
	}
	return s.group.SourceAvailabilityZone
}

func orUnknown(s string) string {
	if s == "" {
		return "no detail"
	}
	return s
}

func operationType(op *drv1alpha1.Operation) string {
	if op == nil {
		return ""
	}
	return string(op.Type)
}

// describe says in words what an operation does.
func describe(op *drv1alpha1.Operation) string {
	switch op.Type {
	case drv1alpha1.OperationCreate:
		return "create the SDRS protection group"
	case drv1alpha1.OperationEnableProtection:
		return "enable protection"
	case drv1alpha1.OperationReprotect:
		return fmt.Sprintf("re-protect from %s", op.To)
	case drv1alpha1.OperationDisableProtection:
		return "disable protection"
	case drv1alpha1.OperationPlannedFailover:
		return fmt.Sprintf("planned failover from %s to %s", op.From, op.To)
	case drv1alpha1.OperationFailover:
		return fmt.Sprintf("failover from %s to %s", op.From, op.To)
	case drv1alpha1.OperationDelete:
		return "delete the SDRS protection group"
	}
	return string(op.Type)
}

// stepReason is the Ready/Reconciling reason while an operation is at a step.
func stepReason(op *drv1alpha1.Operation) string {
	switch op.Step {
	case drv1alpha1.StepStopServers:
		return drv1alpha1.StoppingServersReason
	case drv1alpha1.StepStartServers:
		return drv1alpha1.StartingServersReason
	case drv1alpha1.StepWaitServersStopped:
		return drv1alpha1.WaitingForServersStoppedReason
	}
	switch op.Type {
	case drv1alpha1.OperationCreate:
		return drv1alpha1.CreatingReason
	case drv1alpha1.OperationEnableProtection:
		return drv1alpha1.EnablingProtectionReason
	case drv1alpha1.OperationReprotect:
		return drv1alpha1.ReprotectingReason
	case drv1alpha1.OperationDisableProtection:
		return drv1alpha1.DisablingProtectionReason
	case drv1alpha1.OperationPlannedFailover:
		return drv1alpha1.PlannedFailoverInProgressReason
	case drv1alpha1.OperationFailover:
		return drv1alpha1.FailoverInProgressReason
	case drv1alpha1.OperationDelete:
		return drv1alpha1.DeletingReason
	}
	return drv1alpha1.ProgressingReason
}
