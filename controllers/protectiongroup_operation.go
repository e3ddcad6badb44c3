package controllers

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/uuid"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	drv1alpha1 "github.com/sdrs-operator/sdrs-operator/api/v1alpha1"
	"github.com/sdrs-operator/sdrs-operator/internal/sdrs"
)

// An operation moves through persisted steps (operations.go says which
// apply to which type):
//
//	[StopServers | WaitServersStopped] -> SDRSAction -> [StartServers] -> Done
//	a spec flip before SDRS acts:      -> [RestoreServers] -> Done (Cancelled)
//
// Every call that changes something, SDRS or ECS, follows a
// resourceVersion-checked write of the step's attempt (attempt,
// attemptedAt), and its job ID is written right after it. A step whose
// attempt has no job ID may or may not have reached the cloud; it is judged
// by what SDRS documents (verdict.go) or, for servers, by their power, and
// sent again only once a grace shows it was not taken.

const maxHistory = 20

// operationFailed marks an operation that ended badly in the cloud.
type operationFailed struct {
	code    string
	message string
}

func (e *operationFailed) Error() string { return e.message }

func failed(code, format string, args ...any) error {
	return &operationFailed{code: code, message: fmt.Sprintf(format, args...)}
}

// pausedError stops a phase that would start a new cloud action.
type pausedError struct{ wouldDo string }

func (e *pausedError) Error() string {
	return fmt.Sprintf("reconciliation is paused (annotation %s=\"true\"); would %s", drv1alpha1.PausedAnnotation, e.wouldDo)
}

// startOperation records a new operation in status, unless the group is
// paused. Nothing is written yet: the first call the operation makes writes
// it, with the attempt, in a write that fails if anyone changed the object
// since it was read.
func (r *ProtectionGroupReconciler) startOperation(s *scope, typ drv1alpha1.OperationType, from, to drv1alpha1.Site) error {
	op := &drv1alpha1.Operation{
		Type:       typ,
		RequestID:  string(uuid.NewUUID()),
		From:       from,
		To:         to,
		Generation: s.pg.Generation,
		StartedAt:  metav1.NewTime(r.Clock()),
	}
	if s.pg.IsPaused() {
		return &pausedError{wouldDo: describe(op)}
	}
	op.Step = firstStep(op, s.pg.Spec.ServerPower)
	s.pg.Status.CurrentOperation = op
	return nil
}

// recordAttempt writes the step's next attempt before its call. The write
// carries the resourceVersion of the copy the decision was made on: if
// anyone wrote the object since (another leader, or our copy came from a
// stale cache), the API server refuses it and nothing is sent. The
// conditions are those the reconcile ends with while the step runs, so the
// call leaves only its job ID to write.
func (r *ProtectionGroupReconciler) recordAttempt(ctx context.Context, s *scope, op *drv1alpha1.Operation) error {
	if err := r.checkOwnerBeforeAction(ctx, s); err != nil {
		return err
	}
	now := metav1.NewTime(r.Clock())
	op.Attempt++
	op.AttemptedAt = &now
	r.applyOutcome(s, outcome{reason: stepReason(op), message: jobRunning(op), reconciling: true}, r.Clock())
	if err := r.patchStatus(ctx, s); err != nil {
		return fmt.Errorf("cannot record attempt %d to %s: %w", op.Attempt, describe(op), err)
	}
	ctrl.LoggerFrom(ctx).Info("attempt recorded", "step", op.Step, "attempt", op.Attempt)
	return nil
}

// advance drives the current operation as far as it can go in this
// reconcile: it returns nil when the operation finished, a waitError while
// something runs, or a stallError when it failed.
func (r *ProtectionGroupReconciler) advance(ctx context.Context, s *scope) error {
	op := s.pg.Status.CurrentOperation
	log := ctrl.LoggerFrom(ctx).WithValues("operation", op.Type, "requestID", op.RequestID)
	ctx = ctrl.LoggerInto(ctx, log)
	for op.Step != drv1alpha1.StepDone {
		if why, ok := r.cancelReason(s, op); ok {
			log.Info("operation cancelled before SDRS acted", "why", why)
			op.Result, op.Message = drv1alpha1.OperationCancelled, why
			if len(op.StoppedServers) == 0 || s.pg.Spec.ServerPower != drv1alpha1.ServerPowerManaged {
				break
			}
			// A stop job still running is awaited before the start.
			op.Step = drv1alpha1.StepRestoreServers
			op.Servers, op.Attempt, op.AttemptedAt = nil, 0, nil
		}
		before := op.Step
		next, err := r.runStep(ctx, s, op)
		var of *operationFailed
		if errors.As(err, &of) {
			if r.restoreAfterFailure(s, op, of) {
				log.Info("SDRS did not act; starting again the servers the operation stopped", "code", of.code, "servers", op.StoppedServers)
				continue
			}
			return r.fail(ctx, s, of.code, of.message)
		}
		if err != nil {
			return err
		}
		op.Step = next
		resetStep(op)
		log.V(1).Info("operation step done", "step", before, "next", next)
	}
	switch op.Result {
	case drv1alpha1.OperationCancelled:
		r.finishOperation(s, drv1alpha1.OperationCancelled, "", fmt.Sprintf("%s: cancelled, %s", describe(op), op.Message))
		log.Info("operation cancelled")
		return nil
	case drv1alpha1.OperationFailed:
		return r.fail(ctx, s, op.ErrorCode, fmt.Sprintf("%s; the servers it had stopped were started again at the %s site: %s",
			op.Message, op.From, strings.Join(op.StoppedServers, ", ")))
	}
	r.finishOperation(s, drv1alpha1.OperationSucceeded, "", describe(op)+": done")
	log.Info("operation succeeded")
	return nil
}

// fail records the operation as failed and stalls: a failed job is not
// repeated without a person. The message says what is down and the ways
// out.
func (r *ProtectionGroupReconciler) fail(ctx context.Context, s *scope, code, message string) error {
	op := s.pg.Status.CurrentOperation
	if down := r.productionDown(s, op); down != "" {
		message += "; " + down
	}
	r.finishOperation(s, drv1alpha1.OperationFailed, code, message)
	ctrl.LoggerFrom(ctx).Info("operation failed", "code", code, "message", message)
	return stalled(drv1alpha1.JobFailedReason, "%s; to retry, set annotation %s to a new value or change the spec",
		message, drv1alpha1.RetryAnnotation)
}

// restoreAfterFailure turns a failure before SDRS moved the group into a
// restore of the servers the operation stopped, so that a failed planned
// failover leaves the application running where it was. It does so only
// with serverPower Managed and while the group's production site is still
// the one the operation started from.
func (r *ProtectionGroupReconciler) restoreAfterFailure(s *scope, op *drv1alpha1.Operation, of *operationFailed) bool {
	if op.Result != "" || len(op.StoppedServers) == 0 || s.pg.Spec.ServerPower != drv1alpha1.ServerPowerManaged ||
		(op.Step != drv1alpha1.StepStopServers && op.Step != drv1alpha1.StepSDRSAction) ||
		s.group == nil || drv1alpha1.Site(s.group.PriorityStation) != op.From {
		return false
	}
	op.Result, op.ErrorCode, op.Message = drv1alpha1.OperationFailed, of.code, of.message
	op.Step = drv1alpha1.StepRestoreServers
	op.Servers, op.Attempt, op.AttemptedAt = nil, 0, nil
	return true
}

// productionDown names the production servers a failed operation leaves
// stopped, and what restores service; "" when none are known to be.
func (r *ProtectionGroupReconciler) productionDown(s *scope, op *drv1alpha1.Operation) string {
	if op == nil || !specOf(op).movesSite || op.Result == drv1alpha1.OperationFailed {
		return ""
	}
	site := op.From
	if s.group != nil {
		site = drv1alpha1.Site(s.group.PriorityStation)
	}
	var off []string
	for _, in := range s.pg.Status.Instances {
		srv := in.SourceServer
		if site == drv1alpha1.SiteTarget {
			srv = in.TargetServer
		}
		if srv.ID != "" && srv.Power == sdrs.PowerShutoff {
			off = append(off, srv.ID)
		}
	}
	if len(off) == 0 {
		return ""
	}
	return fmt.Sprintf("the servers at the production site (%s, %s) are stopped, so the application is down: %s; to restore service, retry, or start them (ECS console or API) to run where they were",
		site, zoneOf(s, site), strings.Join(off, ", "))
}

// resetStep clears what belongs to the step just left.
func resetStep(op *drv1alpha1.Operation) {
	op.ServerJobID, op.Servers, op.Attempt, op.AttemptedAt, op.GroupStatusBefore, op.RefusedCode = "", nil, 0, nil, "", ""
}

// cancelReason says why an operation that moves the active site is to be
// cancelled: the spec asks for another site and SDRS was not asked yet.
// After the SDRS action was sent the operation finishes and is recorded,
// and the next one brings the group to the new site.
func (r *ProtectionGroupReconciler) cancelReason(s *scope, op *drv1alpha1.Operation) (string, bool) {
	desired := s.pg.Spec.DesiredActiveSite
	if !specOf(op).movesSite || desired == op.To || op.Result != "" {
		return "", false
	}
	switch {
	case op.Step == drv1alpha1.StepStopServers, op.Step == drv1alpha1.StepWaitServersStopped,
		op.Step == drv1alpha1.StepSDRSAction && op.Attempt == 0 && op.JobID == "":
	default:
		return "", false
	}
	why := fmt.Sprintf("spec.desiredActiveSite changed to %s before SDRS was asked to act", desired)
	if s.pg.Spec.ServerPower != drv1alpha1.ServerPowerManaged {
		return why, true
	}
	if len(op.StoppedServers) > 0 {
		why += fmt.Sprintf("; starting again the servers it stopped: %s", strings.Join(op.StoppedServers, ", "))
	}
	return why, true
}

func (r *ProtectionGroupReconciler) runStep(ctx context.Context, s *scope, op *drv1alpha1.Operation) (drv1alpha1.OperationStep, error) {
	if p, ok := powerSteps[op.Step]; ok {
		return r.stepPower(ctx, s, op, p)
	}
	switch op.Step {
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
	now := metav1.NewTime(r.Clock())
	op.FinishedAt = &now
	op.Result = result
	op.ErrorCode = code
	op.Message = message
	if result != drv1alpha1.OperationFailed {
		op.Step = drv1alpha1.StepDone
	}
	op.ServerJobID, op.Servers, op.Attempt, op.AttemptedAt, op.GroupStatusBefore, op.RefusedCode = "", nil, 0, nil, "", ""
	s.pg.Status.CurrentOperation = nil
	s.pg.Status.LastOperation = op
	s.pg.Status.History = append([]drv1alpha1.Operation{*op}, s.pg.Status.History...)
	if len(s.pg.Status.History) > maxHistory {
		s.pg.Status.History = s.pg.Status.History[:maxHistory]
	}
	s.finished = op
}

// --- the SDRS action step -------------------------------------------------

// stepSDRSAction follows the action's job when its ID is known, judges an
// attempt whose answer never came, and sends the action when it was not
// sent or provably not taken.
func (r *ProtectionGroupReconciler) stepSDRSAction(ctx context.Context, s *scope, op *drv1alpha1.Operation) (drv1alpha1.OperationStep, error) {
	var unrecorded *unwrittenJob // the job this process issued, not yet in status
	if op.JobID == "" {
		if j, ok := r.unwritten.recall(op.RequestID); ok {
			op.JobID, unrecorded = j.id, &j
		}
	}
	if op.JobID != "" {
		return r.followJob(ctx, s, op, unrecorded)
	}
	if op.Attempt > 0 {
		next, done, err := r.judgeUnanswered(ctx, s, op, false)
		if done || err != nil {
			return next, err
		}
	}
	return r.sendAction(ctx, s, op)
}

// followJob polls the SDRS job of the action.
func (r *ProtectionGroupReconciler) followJob(ctx context.Context, s *scope, op *drv1alpha1.Operation, unrecorded *unwrittenJob) (drv1alpha1.OperationStep, error) {
	log := ctrl.LoggerFrom(ctx).WithValues("jobID", op.JobID)
	key, typ := client.ObjectKeyFromObject(s.pg), jobType(op)
	if poll, wait := r.Poll.PollNow(key, op.JobID, typ, r.Clock()); !poll {
		// Too early to find the job ended: no call, no write.
		return "", r.jobWait(op, unrecorded, wait)
	}
	job, err := s.client.GetJob(ctx, op.JobID)
	switch {
	case sdrs.IsNotFound(err):
		if age := r.Clock().Sub(attemptedAt(op)); age < r.NotStartedGrace {
			// SDRS may not show a new job at once.
			log.V(1).Info("SDRS does not show the job yet")
			return "", waiting(stepReason(op), min(r.NotStartedGrace-age, r.Poll.Next(typ, age)),
				"%s: SDRS accepted job %s and does not show it yet", describe(op), op.JobID)
		}
		log.Info("SDRS does not know the job; judging by the group and the task center")
		r.Poll.Finished(op.JobID, typ, 0)
		next, done, err := r.judgeUnanswered(ctx, s, op, true)
		if !done && err == nil {
			// An accepted job never reads as not started.
			err = stalled(drv1alpha1.OutcomeUnknownReason, "%s: SDRS job %s is unknown to SDRS; not acting", describe(op), op.JobID)
		}
		return next, err
	case err != nil:
		return "", fmt.Errorf("cannot read SDRS job %s: %w", op.JobID, err)
	case !job.Status.Done():
		return "", r.jobWait(op, unrecorded, r.Poll.Running(key, op.JobID, typ, job.BeginTime, r.Clock()))
	case job.Status == sdrs.JobFail:
		r.Poll.Finished(op.JobID, typ, jobTook(job))
		// The group was not read while the job ran; show the state
		// the failure left it in.
		if err := r.refreshGroup(ctx, s); err != nil && !sdrs.IsNotFound(err) {
			return "", err
		}
		return "", jobFailed(op, job)
	}
	r.Poll.Finished(op.JobID, typ, jobTook(job))
	log.Info("SDRS job succeeded")
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

// jobFailed is the failure of an SDRS job, with SDRS's code and reason.
func jobFailed(op *drv1alpha1.Operation, job *sdrs.Job) error {
	op.JobID = job.ID
	return failed(job.ErrorCode, "%s failed: SDRS job %s ended FAIL with %s: %s",
		describe(op), job.ID, orNoDetail(job.ErrorCode), orNoDetail(job.FailReason))
}

// judgeUnanswered decides what became of an attempt whose job is not known:
// done reports the step decided (next step, or an error to return); not
// done means the action was not taken and may be sent.
func (r *ProtectionGroupReconciler) judgeUnanswered(ctx context.Context, s *scope, op *drv1alpha1.Operation, accepted bool) (drv1alpha1.OperationStep, bool, error) {
	if op.Type == drv1alpha1.OperationCreate {
		return r.judgeCreate(ctx, s, op)
	}
	facts := attemptFacts{op: op, accepted: accepted, recorded: recordedJobs(s.pg), now: r.Clock(), grace: r.NotStartedGrace}
	if s.group == nil {
		if err := r.refreshGroup(ctx, s); err != nil && !sdrs.IsNotFound(err) {
			return "", true, err
		}
	}
	facts.group = s.group
	failures, err := s.client.ListFailedJobs(ctx, s.pg.GroupID())
	if err != nil {
		return "", true, fmt.Errorf("cannot read the SDRS task center for group %s: %w", s.pg.GroupID(), err)
	}
	facts.failures = failures
	v := judgeAttempt(facts)
	ctrl.LoggerFrom(ctx).Info("judged an attempt without a job", "attempt", op.Attempt, "verdict", v.kind.String(), "why", v.why)
	switch v.kind {
	case outcomeRunning:
		return "", true, waiting(stepReason(op), r.Poll.Next(jobType(op), r.Clock().Sub(attemptedAt(op))),
			"%s: the SDRS job ID is not known; following the group, which %s", describe(op), strings.TrimPrefix(v.why, "the group "))
	case outcomeSucceeded:
		return stepAfterAction(op, s.pg.Spec.ServerPower), true, nil
	case outcomeFailed:
		if v.failure != nil {
			return "", true, jobFailed(op, v.failure)
		}
		return "", true, failed("", "%s failed: %s (the SDRS job is not known and the task center lists no failure)", describe(op), v.why)
	case outcomePending:
		return "", true, waiting(stepReason(op), min(v.wait, syncPoll),
			"%s: waiting up to %s for SDRS to show whether it took attempt %d: %s", describe(op), v.wait.Round(time.Second), op.Attempt, v.why)
	case outcomeUnknown:
		if s.group != nil && isTransitional(s.group.Status) {
			return "", true, waiting(drv1alpha1.GroupBusyReason, busyPoll, "%s: %s; waiting for it to end", describe(op), v.why)
		}
		return "", true, stalled(drv1alpha1.OutcomeUnknownReason,
			"%s: cannot tell whether SDRS took attempt %d: %s; not acting until SDRS shows it (check the SDRS task center and the group)", describe(op), op.Attempt, v.why)
	}
	if op.RefusedCode != "" && !r.takeRetry(s) {
		return "", true, stalled(drv1alpha1.PreconditionNotMetReason,
			"%s: SDRS refused attempt %d (%s) and the group shows nothing of an earlier one; if the SDRS task center confirms nothing runs, set annotation %s to a new value to send it again",
			describe(op), op.Attempt, op.RefusedCode, drv1alpha1.RetryAnnotation)
	}
	return "", false, nil
}

// takeRetry consumes a retry annotation a person set since the last one.
func (r *ProtectionGroupReconciler) takeRetry(s *scope) bool {
	retry := s.pg.GetAnnotations()[drv1alpha1.RetryAnnotation]
	if retry == "" || retry == s.pg.Status.LastHandledRetry {
		return false
	}
	s.pg.Status.LastHandledRetry = retry
	return true
}

// sendAction records the next attempt and sends the SDRS action.
func (r *ProtectionGroupReconciler) sendAction(ctx context.Context, s *scope, op *drv1alpha1.Operation) (drv1alpha1.OperationStep, error) {
	if s.pg.IsPaused() {
		return "", &pausedError{wouldDo: describe(op)}
	}
	if s.group == nil && op.Type != drv1alpha1.OperationCreate {
		if err := r.refreshGroup(ctx, s); err != nil {
			return "", err
		}
	}
	if s.group != nil {
		op.GroupStatusBefore = s.group.Status
	}
	op.RefusedCode = ""
	if err := r.recordAttempt(ctx, s, op); err != nil {
		return "", err
	}
	log := ctrl.LoggerFrom(ctx).WithValues("attempt", op.Attempt)
	jobID, err := specOf(op).issue(ctx, s.client, s.pg, op)
	if err != nil {
		return r.actionRefused(ctx, s, op, err)
	}
	now := r.Clock()
	log.Info("SDRS action accepted", "jobID", jobID)
	s.issuedJobID = jobID // named by the Event at once
	// Kept in memory too: should the status write fail, the job is still
	// followed by its ID.
	r.unwritten.remember(op.RequestID, jobID, now)
	op.JobID = jobID
	return "", r.jobWait(op, &unwrittenJob{id: jobID, at: now}, r.Poll.Issued(client.ObjectKeyFromObject(s.pg), jobID, jobType(op), now))
}

// serversRunningCodes are the SDRS refusals that mean "servers that must be
// stopped for this action still run".
var serversRunningCodes = map[string]bool{
	"SDRS.1316": true, // server not stopped
	"SDRS.1319": true, // production-site server not stopped (reverse)
	"SDRS.1342": true, // DR-site server not stopped (re-protect)
	"SDRS.1352": true, // production-site server not stopped
}

// actionRefused handles an action call that failed. A refusal of the first
// attempt means nothing happened in SDRS; a refusal of a later one may
// mean an earlier attempt was taken, so the operation is kept and nothing
// more is sent. Any other error leaves the outcome unknown: the attempt is
// judged on the next look.
func (r *ProtectionGroupReconciler) actionRefused(ctx context.Context, s *scope, op *drv1alpha1.Operation, err error) (drv1alpha1.OperationStep, error) {
	code, refused := sdrs.IsPrecondition(err)
	if !refused {
		return "", fmt.Errorf("cannot %s (attempt %d): %w", describe(op), op.Attempt, err)
	}
	log := ctrl.LoggerFrom(ctx).WithValues("code", code, "attempt", op.Attempt)
	if op.Attempt > 1 {
		log.Info("SDRS refused a repeated attempt; an earlier one may have been taken")
		op.RefusedCode = code
		return "", stalled(drv1alpha1.PreconditionNotMetReason,
			"SDRS refused attempt %d to %s (%s): %v; an earlier attempt may have been taken and its answer lost, so nothing more is sent: the operator follows the group, and if the SDRS task center confirms nothing runs, set annotation %s to a new value to send it again",
			op.Attempt, describe(op), code, err, drv1alpha1.RetryAnnotation)
	}
	if serversRunningCodes[code] && specOf(op).stopBefore != nil && !s.refusedForServers {
		// A server was started again after the check: check again.
		s.refusedForServers = true
		log.Info("SDRS refused the action while servers run; checking them again")
		return firstStep(op, s.pg.Spec.ServerPower), nil
	}
	// Nothing happened in SDRS. Drop the intent and explain; the next
	// look decides afresh.
	log.Info("SDRS refused the action")
	msg := fmt.Sprintf("SDRS refused to %s (%s): %v", describe(op), code, err)
	if len(op.StoppedServers) > 0 {
		msg += fmt.Sprintf("; the servers it stopped stay stopped: %s", strings.Join(op.StoppedServers, ", "))
	}
	s.pg.Status.CurrentOperation = nil
	return "", stalled(drv1alpha1.PreconditionNotMetReason, "%s", msg)
}

// jobWait is the outcome while an SDRS job runs. A job this process issued
// whose ID is not in status yet stays out of status until it has run for
// RecordJobIDAfter (0 by default: it is written at once) or ends.
func (r *ProtectionGroupReconciler) jobWait(op *drv1alpha1.Operation, unrecorded *unwrittenJob, wait time.Duration) error {
	if unrecorded != nil {
		if age := r.Clock().Sub(unrecorded.at); age < r.RecordJobIDAfter {
			op.JobID = ""
			return waiting(stepReason(op), min(wait, r.RecordJobIDAfter-age), "%s", jobRunning(op))
		}
	}
	return waiting(stepReason(op), wait, "%s", jobRunning(op))
}

// jobRunning is the message while an SDRS action is under way. It is the
// same from the attempt to the job's end, so looks that find the job still
// running leave the status, and the object, unchanged.
func jobRunning(op *drv1alpha1.Operation) string {
	if op.JobID == "" {
		return describe(op) + ": in progress"
	}
	return fmt.Sprintf("%s: SDRS job %s is running", describe(op), op.JobID)
}

// judgeCreate looks the group up by name: creation is the one action SDRS
// would happily repeat, so it is never sent again while a group of that
// name exists, nor before the grace has passed.
func (r *ProtectionGroupReconciler) judgeCreate(ctx context.Context, s *scope, op *drv1alpha1.Operation) (drv1alpha1.OperationStep, bool, error) {
	g, err := r.findCreated(ctx, s)
	if err != nil {
		return "", true, err
	}
	if g == nil {
		age := r.Clock().Sub(attemptedAt(op))
		if age < r.NotStartedGrace {
			return "", true, waiting(drv1alpha1.CreatingReason, min(r.NotStartedGrace-age, syncPoll),
				"%s: no SDRS group named %q yet; waiting up to %s for SDRS to show it", describe(op), s.pg.Spec.ForProvider.Name, (r.NotStartedGrace - age).Round(time.Second))
		}
		return "", false, nil
	}
	switch g.Status {
	case sdrs.StatusCreating:
		return "", true, waiting(drv1alpha1.CreatingReason, r.Poll.Next(jobType(op), r.Clock().Sub(attemptedAt(op))),
			"%s: the SDRS job ID is not known; following group %s, which is creating", describe(op), g.ID)
	case sdrs.StatusError:
		return "", true, failed("", "%s failed: SDRS group %s ended in status error", describe(op), g.ID)
	}
	return stepAfterAction(op, s.pg.Spec.ServerPower), true, nil
}

// findCreated returns the group named as forProvider says, and records its
// ID; nil when there is none.
func (r *ProtectionGroupReconciler) findCreated(ctx context.Context, s *scope) (*sdrs.ProtectionGroup, error) {
	name := s.pg.Spec.ForProvider.Name
	groups, err := s.client.FindProtectionGroupsByName(ctx, name)
	if err != nil {
		return nil, fmt.Errorf("cannot look up SDRS groups named %q: %w", name, err)
	}
	switch len(groups) {
	case 0:
		return nil, nil
	case 1:
		g := groups[0]
		setGroupID(s.pg, g.ID)
		s.group = &g
		return &g, nil
	}
	return nil, stalled(drv1alpha1.GroupConflictReason,
		"%d SDRS groups are named %q and the create job ID was not recorded; adopt the right one with spec.protectionGroupID",
		len(groups), name)
}

func (r *ProtectionGroupReconciler) recordCreatedGroup(ctx context.Context, s *scope, job *sdrs.Job) error {
	if job.GroupID != "" {
		setGroupID(s.pg, job.GroupID)
		return nil
	}
	g, err := r.findCreated(ctx, s)
	if err != nil {
		return err
	}
	if g == nil {
		return failed("", "the create job succeeded but no SDRS group named %q was found", s.pg.Spec.ForProvider.Name)
	}
	return nil
}

// --- server steps ---------------------------------------------------------

// powerStep describes a step that stops or starts servers through ECS.
type powerStep struct {
	verb, doing string
	// jobKey names the step's ECS jobs in the poll schedule.
	jobKey string
	// failureEnds: a failed ECS job fails the operation. Restoring servers
	// after a cancel also follows the stop job it interrupted, whose
	// failure does not matter: the servers' power decides.
	failureEnds bool
	want        string // the power state the step waits for
	site        func(op *drv1alpha1.Operation) drv1alpha1.Site
	// only limits the step to these servers (nil: every server at the site).
	only func(op *drv1alpha1.Operation) []string
	next drv1alpha1.OperationStep
}

var powerSteps = map[drv1alpha1.OperationStep]powerStep{
	drv1alpha1.StepStopServers: {verb: "stop", doing: "stopping", jobKey: "ecs-stop", failureEnds: true, want: sdrs.PowerShutoff,
		site: serversToStop, next: drv1alpha1.StepSDRSAction},
	drv1alpha1.StepStartServers: {verb: "start", doing: "starting", jobKey: "ecs-start", failureEnds: true, want: sdrs.PowerActive,
		site: func(op *drv1alpha1.Operation) drv1alpha1.Site { return op.To }, next: drv1alpha1.StepDone},
	drv1alpha1.StepRestoreServers: {verb: "start", doing: "starting again", jobKey: "ecs-start", want: sdrs.PowerActive,
		site: func(op *drv1alpha1.Operation) drv1alpha1.Site { return op.From },
		only: func(op *drv1alpha1.Operation) []string { return op.StoppedServers }, next: drv1alpha1.StepDone},
}

// stepPower brings the servers of a step to its power state: it follows the
// step's ECS job, and sends a new one only for servers still not there
// once any earlier attempt had its grace to show.
func (r *ProtectionGroupReconciler) stepPower(ctx context.Context, s *scope, op *drv1alpha1.Operation, p powerStep) (drv1alpha1.OperationStep, error) {
	reason := stepReason(op)
	if op.ServerJobID != "" {
		if err := r.followServerJob(ctx, s, op, p); err != nil {
			return "", err
		}
	}
	pending, err := r.serversNotIn(ctx, s, p.site(op), p.want)
	if err != nil {
		return "", err
	}
	if p.only != nil {
		only := p.only(op)
		pending = slices.DeleteFunc(pending, func(id string) bool { return !slices.Contains(only, id) })
	}
	if len(pending) == 0 {
		return p.next, nil
	}
	if op.Attempt > 0 {
		if age := r.Clock().Sub(attemptedAt(op)); age < r.NotStartedGrace {
			// ECS may not show servers of an accepted call as changing yet.
			return "", waiting(reason, min(r.NotStartedGrace-age, r.Poll.Next(p.jobKey, age)),
				"%s: %s servers %s (waiting for ECS to show attempt %d)", describe(op), p.doing, strings.Join(pending, ", "), op.Attempt)
		}
	}
	if s.pg.IsPaused() {
		return "", &pausedError{wouldDo: fmt.Sprintf("%s servers %s", p.verb, strings.Join(pending, ", "))}
	}
	op.Servers, op.ServerJobID = pending, ""
	if p.want == sdrs.PowerShutoff {
		for _, id := range pending {
			if !slices.Contains(op.StoppedServers, id) {
				op.StoppedServers = append(op.StoppedServers, id)
			}
		}
	}
	if err := r.recordAttempt(ctx, s, op); err != nil {
		return "", err
	}
	var jobID string
	if p.want == sdrs.PowerActive {
		jobID, err = s.client.StartServers(ctx, pending)
	} else {
		jobID, err = s.client.StopServers(ctx, pending)
	}
	if err != nil {
		return "", fmt.Errorf("cannot %s servers %s (attempt %d): %w", p.verb, strings.Join(pending, ", "), op.Attempt, err)
	}
	op.ServerJobID = jobID
	ctrl.LoggerFrom(ctx).Info("ECS job started", "jobID", jobID, "verb", p.verb, "servers", pending, "attempt", op.Attempt)
	if err := r.patchStatus(ctx, s); err != nil {
		return "", fmt.Errorf("cannot record ECS job %s: %w", jobID, err)
	}
	return "", waiting(reason, r.Poll.Next(p.jobKey, 0), "%s: %s servers %s (ECS job %s)",
		describe(op), p.doing, strings.Join(pending, ", "), jobID)
}

// followServerJob polls the step's ECS job: a wait while it runs, a failure
// when it failed, nil when it ended well or is gone (the servers' own power
// then decides).
func (r *ProtectionGroupReconciler) followServerJob(ctx context.Context, s *scope, op *drv1alpha1.Operation, p powerStep) error {
	job, err := s.client.GetServerJob(ctx, op.ServerJobID)
	switch {
	case sdrs.IsNotFound(err):
		op.ServerJobID = "" // the servers' power decides, after the attempt's grace
		return nil
	case err != nil:
		return fmt.Errorf("cannot read ECS job %s: %w", op.ServerJobID, err)
	case !job.Status.Done():
		return waiting(stepReason(op), r.Poll.Next(p.jobKey, r.Clock().Sub(jobStart(job, op))),
			"%s: %s servers %s (ECS job %s)", describe(op), p.doing, strings.Join(op.Servers, ", "), op.ServerJobID)
	case job.Status == sdrs.JobFail && p.failureEnds:
		return failed(job.ErrorCode, "%s failed: ECS could not %s servers %s (job %s: %s %s)",
			describe(op), p.verb, strings.Join(op.Servers, ", "), op.ServerJobID, orNoDetail(job.ErrorCode), job.FailReason)
	}
	r.Poll.Finished("", p.jobKey, jobTook(job))
	// The job ended: its servers show their power now, so no grace.
	op.ServerJobID, op.Attempt, op.AttemptedAt = "", 0, nil
	return nil
}

// stepWaitServersStopped is the Manual twin of StopServers: it names the
// servers a person must stop and proceeds once they are stopped, so the
// SDRS action is sent only when SDRS can accept it.
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
	return attemptedAt(op)
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

func orNoDetail(s string) string {
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
