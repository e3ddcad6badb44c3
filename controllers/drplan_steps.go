package controllers

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	drv1alpha1 "github.com/sdrs-operator/sdrs-operator/api/v1alpha1"
)

// Step stages.
const (
	stagePre  = "Pre"
	stagePost = "Post"
)

// Environment every step Job's containers get.
const (
	envPlan    = "SDRS_PLAN"
	envRunID   = "SDRS_RUN_ID"
	envRunMode = "SDRS_RUN_MODE"
	envToSite  = "SDRS_TO_SITE"
	envWave    = "SDRS_WAVE"
)

// stepKind is what varies by step type: how it advances. advance sets the
// step's phase; a step that is not finished says when to look again.
type stepKind struct {
	advance func(r *DRPlanReconciler, ctx context.Context, s *planScope, ref string, step *drv1alpha1.PlanStep, st *drv1alpha1.PlanStepStatus) error
}

var stepKinds = map[string]stepKind{
	"approval": {advance: (*DRPlanReconciler).advanceApproval},
	"wait":     {advance: (*DRPlanReconciler).advanceWait},
	"job":      {advance: (*DRPlanReconciler).advanceJob},
}

func stepType(st *drv1alpha1.PlanStep) string {
	switch {
	case st.Approval != nil:
		return "approval"
	case st.Wait != nil:
		return "wait"
	default:
		return "job"
	}
}

// runSteps advances a wave's steps of one stage in order; ok when all of
// them passed or were skipped.
func (r *DRPlanReconciler) runSteps(ctx context.Context, s *planScope, w *drv1alpha1.PlanWave, ws *drv1alpha1.PlanWaveStatus, stage string) (bool, error) {
	run := s.plan.Status.Run
	for i := range ws.Steps {
		st := &ws.Steps[i]
		if st.Stage != stage || st.Phase == drv1alpha1.StepSucceeded || st.Phase == drv1alpha1.StepSkipped {
			continue
		}
		ref := ws.Name + "/" + st.Name
		step := findStep(w, stage, st.Name)
		if step == nil {
			// The step left the spec during the run: nothing to do.
			st.Phase, st.Message = drv1alpha1.StepSkipped, "removed from the plan during the run"
			continue
		}
		if st.Phase == drv1alpha1.StepFailed {
			switch {
			case r.takeDecision(s, drv1alpha1.DecisionSkip, ref, "") != nil:
				st.Phase, st.Message = drv1alpha1.StepSkipped, "skipped by decision after: "+st.Message
				continue
			case r.takeDecision(s, drv1alpha1.DecisionRetry, ref, "") != nil:
				st.Phase, st.StartedAt, st.FinishedAt, st.JobName, st.Message = drv1alpha1.StepPending, nil, nil, "", ""
			default:
				r.block(s, ws, failedStepReason(st), fmt.Sprintf("run %s blocked at step %s: %s; decide with a Retry, Skip or Abort decision (kubectl sdrs plan retry|skip|abort)", run.ID, ref, st.Message))
				return false, nil
			}
		}
		if st.Phase == drv1alpha1.StepPending {
			// Status keeps whole seconds: round the start up, so that what
			// is read back is what waits and timeouts count from, and a
			// wait never ends early.
			start := metav1.NewTime(s.now.Add(time.Second - 1).Truncate(time.Second))
			st.Attempt++
			st.StartedAt = &start
		}
		if err := stepKinds[st.Type].advance(r, ctx, s, ref, step, st); err != nil {
			return false, err
		}
		switch st.Phase {
		case drv1alpha1.StepSucceeded, drv1alpha1.StepSkipped:
			now := metav1.NewTime(s.now)
			st.FinishedAt = &now
			r.event(s.plan, false, drv1alpha1.StepSucceededReason, "run %s: step %s %s: %s", run.ID, ref, st.Phase, st.Message)
			continue
		case drv1alpha1.StepFailed:
			now := metav1.NewTime(s.now)
			st.FinishedAt = &now
			r.block(s, ws, failedStepReason(st), fmt.Sprintf("run %s blocked at step %s: %s; decide with a Retry, Skip or Abort decision (kubectl sdrs plan retry|skip|abort)", run.ID, ref, st.Message))
			return false, nil
		case drv1alpha1.StepWaitingForApproval:
			run.Phase, run.Reason, ws.Phase = drv1alpha1.PlanWaitingForApproval, drv1alpha1.ApprovalRequiredReason, drv1alpha1.PlanWaitingForApproval
			run.Message = fmt.Sprintf("run %s waits for approval of step %s: %s (kubectl sdrs plan approve %s --step %s)", run.ID, ref, step.Approval.Message, s.plan.Name, ref)
		default:
			run.Phase, run.Reason, ws.Phase = drv1alpha1.PlanRunning, drv1alpha1.WaveRunningReason, drv1alpha1.PlanRunning
			run.Message = fmt.Sprintf("run %s: step %s: %s", run.ID, ref, st.Message)
		}
		return false, nil
	}
	return true, nil
}

func failedStepReason(st *drv1alpha1.PlanStepStatus) string {
	if st.Type == "approval" {
		return drv1alpha1.ApprovalExpiredReason
	}
	return drv1alpha1.StepFailedReason
}

func findStep(w *drv1alpha1.PlanWave, stage, name string) *drv1alpha1.PlanStep {
	steps := w.PreSteps
	if stage == stagePost {
		steps = w.PostSteps
	}
	for i := range steps {
		if steps[i].Name == name {
			return &steps[i]
		}
	}
	return nil
}

// advanceApproval waits for an Approve (or Skip) decision naming the step,
// until its timeout.
func (r *DRPlanReconciler) advanceApproval(_ context.Context, s *planScope, ref string, step *drv1alpha1.PlanStep, st *drv1alpha1.PlanStepStatus) error {
	if st.Phase == drv1alpha1.StepPending {
		st.Phase, st.Message = drv1alpha1.StepWaitingForApproval, step.Approval.Message
		r.event(s.plan, false, drv1alpha1.ApprovalRequiredReason, "run %s waits for approval of step %s: %s", s.plan.Status.Run.ID, ref, step.Approval.Message)
	}
	if d := r.takeDecision(s, drv1alpha1.DecisionApprove, ref, ""); d != nil {
		st.Phase, st.Message = drv1alpha1.StepSucceeded, "approved: "+orDefault(d.Note, "no note")
		r.event(s.plan, false, drv1alpha1.ApprovedReason, "run %s: step %s approved (%s)", s.plan.Status.Run.ID, ref, orDefault(d.Note, "no note"))
		return nil
	}
	if d := r.takeDecision(s, drv1alpha1.DecisionSkip, ref, ""); d != nil {
		st.Phase, st.Message = drv1alpha1.StepSkipped, "skipped: "+orDefault(d.Note, "no note")
		return nil
	}
	if t := step.Approval.Timeout; t != nil && t.Duration > 0 {
		left := st.StartedAt.Add(t.Duration).Sub(s.now)
		if left <= 0 {
			st.Phase, st.Message = drv1alpha1.StepFailed, fmt.Sprintf("no approval within %s", t.Duration)
			return nil
		}
		s.due(left)
	}
	return nil
}

// advanceWait passes once its duration has gone by.
func (r *DRPlanReconciler) advanceWait(_ context.Context, s *planScope, _ string, step *drv1alpha1.PlanStep, st *drv1alpha1.PlanStepStatus) error {
	left := st.StartedAt.Add(step.Wait.Duration.Duration).Sub(s.now)
	if left <= 0 {
		st.Phase, st.Message = drv1alpha1.StepSucceeded, fmt.Sprintf("waited %s", step.Wait.Duration.Duration)
		return nil
	}
	st.Phase, st.Message = drv1alpha1.StepRunning, fmt.Sprintf("waiting %s", step.Wait.Duration.Duration)
	s.due(left)
	return nil
}

// advanceJob creates the step's Job once, under a name derived from the
// plan, run, wave, step and attempt, and reads its result.
func (r *DRPlanReconciler) advanceJob(ctx context.Context, s *planScope, ref string, step *drv1alpha1.PlanStep, st *drv1alpha1.PlanStepStatus) error {
	name := stepJobName(s.plan.Name, s.plan.Status.Run.ID, ref, st.Attempt)
	job := &batchv1.Job{}
	err := r.Get(ctx, client.ObjectKey{Namespace: s.plan.Namespace, Name: name}, job)
	if apierrors.IsNotFound(err) {
		job, err = r.newStepJob(s, ref, step, name)
		if err != nil {
			return err
		}
		if err := r.Create(ctx, job); err != nil && !apierrors.IsAlreadyExists(err) {
			return fmt.Errorf("cannot create Job %s of step %s: %w", name, ref, err)
		}
		if st.Phase != drv1alpha1.StepRunning {
			r.event(s.plan, false, drv1alpha1.StepStartedReason, "run %s: step %s started Job %s", s.plan.Status.Run.ID, ref, name)
		}
		st.Phase, st.JobName, st.Message = drv1alpha1.StepRunning, name, "Job "+name+" runs"
		s.due(livePoll)
		return nil
	}
	if err != nil {
		return fmt.Errorf("cannot read Job %s of step %s: %w", name, ref, err)
	}
	st.Phase, st.JobName = drv1alpha1.StepRunning, name
	switch result, msg := jobResult(job); {
	case result == drv1alpha1.DrillPassed:
		st.Phase, st.Message = drv1alpha1.StepSucceeded, "Job "+name+": "+msg
	case result != "":
		st.Phase, st.Message = drv1alpha1.StepFailed, "Job "+name+": "+msg
	default:
		timeout := 30 * time.Minute
		if step.Job.Timeout != nil {
			timeout = step.Job.Timeout.Duration
		}
		left := st.StartedAt.Add(timeout).Sub(s.now)
		if left <= 0 {
			st.Phase, st.Message = drv1alpha1.StepFailed, fmt.Sprintf("Job %s still running after %s", name, timeout)
			return nil
		}
		st.Message = "Job " + name + " runs"
		s.due(min(left, livePoll))
	}
	return nil
}

// stepJobName fits the Job name in 63 characters (its pods' labels carry it).
func stepJobName(plan, run, ref string, attempt int32) string {
	name := fmt.Sprintf("%s-%s-%s", plan, run, strings.ReplaceAll(ref, "/", "-"))
	if attempt > 1 {
		name = fmt.Sprintf("%s-%d", name, attempt)
	}
	if len(name) <= 63 {
		return name
	}
	sum := sha256.Sum256([]byte(name))
	return strings.TrimRight(name[:54], "-.") + "-" + hex.EncodeToString(sum[:])[:8]
}

// newStepJob builds the step's Job from its template, owned by the plan,
// with the run's facts in every container's environment. A TTL after
// finishing is dropped: the Job's result must be read before it may go,
// or a restarted controller would run it again (the plan owns it, so it
// goes with the plan).
func (r *DRPlanReconciler) newStepJob(s *planScope, ref string, step *drv1alpha1.PlanStep, name string) (*batchv1.Job, error) {
	run := s.plan.Status.Run
	wave, _, _ := strings.Cut(ref, "/")
	env := []corev1.EnvVar{
		{Name: envPlan, Value: s.plan.Name},
		{Name: envRunID, Value: run.ID},
		{Name: envRunMode, Value: string(run.Mode)},
		{Name: envToSite, Value: string(run.ToSite)},
		{Name: envWave, Value: wave},
	}
	job, err := jobFromTemplate(r.Scheme(), s.plan, &step.Job.Template, name, map[string]string{planLabel: s.plan.Name, runLabel: run.ID}, env)
	if err != nil {
		return nil, err
	}
	job.Spec.TTLSecondsAfterFinished = nil
	return job, nil
}
