package controllers

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	ctrl "sigs.k8s.io/controller-runtime"

	drv1alpha1 "github.com/sdrs-operator/sdrs-operator/api/v1alpha1"
)

// Run bounds that keep the status small.
const (
	maxRunHistory   = 10
	maxWaveFailures = 20
)

// errRecorded stops the phases after a new run was recorded, so that its
// intent is written before any member moves.
var errRecorded = waiting(drv1alpha1.RunStartedReason, time.Millisecond, "run recorded")

// startRun records a new run when the plan asks for one: a desired site no
// run has gone to yet, a new drill request, or a Retry decision for the
// last, finished run. Nothing moves in the reconcile that records it.
func (r *DRPlanReconciler) startRun(ctx context.Context, s *planScope) error {
	plan, cur := s.plan, s.plan.Status.Run
	if cur != nil && !cur.Phase.Finished() {
		return nil
	}
	if len(s.problems) > 0 || plan.Spec.Suspend {
		return nil
	}
	mode, to, request := r.wantedRun(s)
	if mode == "" {
		return nil
	}
	run := &drv1alpha1.PlanRun{
		ID: nextRunID(plan), Mode: mode, ToSite: to, DrillRequest: request, Phase: drv1alpha1.PlanPending,
		PlanGeneration: plan.Generation, StartedAt: metav1.NewTime(s.now), Reason: drv1alpha1.RunStartedReason,
	}
	for _, w := range plan.Spec.Waves {
		run.Waves = append(run.Waves, drv1alpha1.PlanWaveStatus{Name: w.Name, Phase: drv1alpha1.PlanPending,
			Counts: drv1alpha1.PlanCounts{Total: int32(len(s.placed.waves[w.Name]))}})
	}
	run.Message = fmt.Sprintf("run %s (%s to %s) recorded: %d members in %d waves", run.ID, mode, siteOrDrill(run), len(s.members), len(run.Waves))
	plan.Status.Run = run
	ctrl.LoggerFrom(ctx).Info("run recorded", "run", run.ID, "mode", mode, "toSite", to)
	r.event(plan, false, drv1alpha1.RunStartedReason, "%s", run.Message)
	return errRecorded
}

// wantedRun is the run the spec asks for now, if any.
func (r *DRPlanReconciler) wantedRun(s *planScope) (drv1alpha1.PlanRunMode, drv1alpha1.Site, string) {
	plan, cur := s.plan, s.plan.Status.Run
	to := plan.Spec.DesiredActiveSite
	if cur != nil && r.takeDecision(s, drv1alpha1.DecisionRetry, "", "") != nil {
		return cur.Mode, orSite(to, cur.ToSite), cur.DrillRequest
	}
	if last := lastRun(plan, drv1alpha1.PlanModeFailover); to != "" && (last == nil || last.ToSite != to) {
		return drv1alpha1.PlanModeFailover, to, ""
	}
	if d := plan.Spec.Drill; d != nil {
		if last := lastRun(plan, drv1alpha1.PlanModeDrill); last == nil || last.DrillRequest != d.Request {
			return drv1alpha1.PlanModeDrill, "", d.Request
		}
	}
	return "", "", ""
}

func orSite(a, b drv1alpha1.Site) drv1alpha1.Site {
	if a != "" {
		return a
	}
	return b
}

func siteOrDrill(run *drv1alpha1.PlanRun) string {
	if run.Mode == drv1alpha1.PlanModeDrill {
		return "drill " + run.DrillRequest
	}
	return string(run.ToSite)
}

// advanceRun walks the live run's waves in order: a wave starts when the
// one before it ended, runs its pre-steps, moves its members, waits for
// them, runs its post-steps.
func (r *DRPlanReconciler) advanceRun(ctx context.Context, s *planScope) error {
	run := s.plan.Status.Run
	if run == nil || run.Phase.Finished() {
		return nil
	}
	if d := r.takeDecision(s, drv1alpha1.DecisionAbort, "", ""); d != nil {
		r.finishRun(s, drv1alpha1.PlanAborted, drv1alpha1.RunAbortedReason, fmt.Sprintf("run %s aborted (%s); members already moved stay where they are", run.ID, orDefault(d.Note, "no note")))
		return nil
	}
	if run.Mode == drv1alpha1.PlanModeFailover && s.plan.Spec.DesiredActiveSite != run.ToSite && !run.Superseded {
		run.Superseded = true
		r.event(s.plan, false, drv1alpha1.RunSupersededReason, "desiredActiveSite changed from %s to %q during run %s: the wave in flight finishes, then a new run starts",
			run.ToSite, s.plan.Spec.DesiredActiveSite, run.ID)
	}
	for i := range run.Waves {
		ws := &run.Waves[i]
		if ws.Phase.Finished() {
			continue
		}
		run.CurrentWave = ws.Name
		w := waveSpec(s.plan, ws.Name)
		if ws.Phase == drv1alpha1.PlanPending {
			if run.Superseded {
				r.finishRun(s, drv1alpha1.PlanAborted, drv1alpha1.RunSupersededReason,
					fmt.Sprintf("run %s to %s superseded by desiredActiveSite %q before wave %s", run.ID, run.ToSite, s.plan.Spec.DesiredActiveSite, ws.Name))
				return nil
			}
			if s.plan.Spec.Suspend {
				return nil
			}
			r.startWave(s, w, ws)
		}
		if run.Superseded && !waveMoved(ws) {
			// Nothing of this wave moved yet (it waits in its pre-steps):
			// there is no wave in flight to finish.
			r.finishRun(s, drv1alpha1.PlanAborted, drv1alpha1.RunSupersededReason,
				fmt.Sprintf("run %s to %s superseded by desiredActiveSite %q before wave %s moved", run.ID, run.ToSite, s.plan.Spec.DesiredActiveSite, ws.Name))
			return nil
		}
		done, err := r.advanceWave(ctx, s, w, ws)
		if err != nil || !done {
			return err
		}
		r.finishWave(s, ws)
		if run.Superseded {
			r.finishRun(s, drv1alpha1.PlanAborted, drv1alpha1.RunSupersededReason,
				fmt.Sprintf("run %s to %s superseded by desiredActiveSite %q after wave %s", run.ID, run.ToSite, s.plan.Spec.DesiredActiveSite, ws.Name))
			return nil
		}
	}
	var c drv1alpha1.PlanCounts
	for _, w := range run.Waves {
		c = addCounts(c, w.Counts)
	}
	if c.Failed > 0 {
		r.finishRun(s, drv1alpha1.PlanFailed, drv1alpha1.RunFailedReason, fmt.Sprintf("run %s ended with %d failed members (onMemberFailure Continue)", run.ID, c.Failed))
		return nil
	}
	r.finishRun(s, drv1alpha1.PlanSucceeded, drv1alpha1.RunSucceededReason,
		fmt.Sprintf("run %s (%s to %s) succeeded: %d members done, %d skipped", run.ID, run.Mode, siteOrDrill(run), c.Succeeded, c.Skipped))
	return nil
}

// waveMoved says whether any member of the wave was started in the run.
func waveMoved(ws *drv1alpha1.PlanWaveStatus) bool {
	c := ws.Counts
	return c.InProgress+c.Succeeded+c.Failed > 0 || len(ws.Done) > 0
}

// waveSpec finds a wave of the spec; a wave removed during the run is an
// empty one.
func waveSpec(plan *drv1alpha1.DRPlan, name string) *drv1alpha1.PlanWave {
	for i := range plan.Spec.Waves {
		if plan.Spec.Waves[i].Name == name {
			return &plan.Spec.Waves[i]
		}
	}
	return &drv1alpha1.PlanWave{Name: name}
}

func (r *DRPlanReconciler) startWave(s *planScope, w *drv1alpha1.PlanWave, ws *drv1alpha1.PlanWaveStatus) {
	now := metav1.NewTime(s.now)
	ws.Phase, ws.StartedAt = drv1alpha1.PlanRunning, &now
	ws.Steps = nil
	for _, st := range w.PreSteps {
		ws.Steps = append(ws.Steps, drv1alpha1.PlanStepStatus{Name: st.Name, Stage: stagePre, Type: stepType(&st), Phase: drv1alpha1.StepPending})
	}
	for _, st := range w.PostSteps {
		ws.Steps = append(ws.Steps, drv1alpha1.PlanStepStatus{Name: st.Name, Stage: stagePost, Type: stepType(&st), Phase: drv1alpha1.StepPending})
	}
	run := s.plan.Status.Run
	run.Phase, run.Reason = drv1alpha1.PlanRunning, drv1alpha1.WaveStartedReason
	run.Message = fmt.Sprintf("run %s: wave %s started (%d members)", run.ID, ws.Name, len(s.placed.waves[ws.Name]))
	r.event(s.plan, false, drv1alpha1.WaveStartedReason, "%s", run.Message)
}

// advanceWave runs one wave as far as it can go now; done when its
// members are done and its post-steps passed.
func (r *DRPlanReconciler) advanceWave(ctx context.Context, s *planScope, w *drv1alpha1.PlanWave, ws *drv1alpha1.PlanWaveStatus) (bool, error) {
	run := s.plan.Status.Run
	if ok, err := r.runSteps(ctx, s, w, ws, stagePre); !ok || err != nil {
		return false, err
	}
	members := s.placed.waves[ws.Name]
	s.views = make([]memberView, 0, len(members))
	for _, pg := range members {
		s.views = append(s.views, r.classify(s, w, ws, pg))
	}
	if err := r.decideFailedMembers(ctx, s, w, ws); err != nil {
		return false, err
	}
	r.recordWave(s, ws)
	if ws.Counts.Failed > 0 && w.OnMemberFailure != drv1alpha1.MemberFailureContinue {
		f := ws.Failures[0]
		r.block(s, ws, drv1alpha1.MemberFailedReason, fmt.Sprintf("run %s blocked in wave %s: member %s failed (%s: %s); decide with a Retry, Skip or Abort decision (kubectl sdrs plan retry|skip|abort)",
			run.ID, ws.Name, f.Member, f.Reason, f.Message))
		return false, nil
	}
	if err := r.startMembers(ctx, s, w, ws); err != nil {
		return false, err
	}
	r.recordWave(s, ws)
	if ws.Counts.Pending+ws.Counts.InProgress > 0 {
		run.Phase, run.Reason = drv1alpha1.PlanRunning, drv1alpha1.WaveRunningReason
		run.Message = fmt.Sprintf("run %s (%s to %s): wave %s %d/%d done, %d in progress, %d pending%s", run.ID, run.Mode, siteOrDrill(run), ws.Name,
			ws.Counts.Succeeded+ws.Counts.Skipped+ws.Counts.Failed, ws.Counts.Total, ws.Counts.InProgress, ws.Counts.Pending, claimNote(s))
		ws.Phase = drv1alpha1.PlanRunning
		return false, nil
	}
	return r.runSteps(ctx, s, w, ws, stagePost)
}

// claimNote names members held by other plans' runs.
func claimNote(s *planScope) string {
	var held []string
	for _, v := range s.views {
		if v.state == memberClaimedElsewhere {
			held = append(held, v.pg.Name+" ("+v.message+")")
		}
	}
	if len(held) == 0 {
		return ""
	}
	return "; waiting for members claimed by another run: " + capList(held, 5)
}

// block stops the run until a decision.
func (r *DRPlanReconciler) block(s *planScope, ws *drv1alpha1.PlanWaveStatus, reason, msg string) {
	run := s.plan.Status.Run
	if run.Phase != drv1alpha1.PlanBlocked || run.Message != msg {
		r.event(s.plan, true, reason, "%s", msg)
	}
	run.Phase, run.Reason, run.Message = drv1alpha1.PlanBlocked, reason, msg
	ws.Phase = drv1alpha1.PlanBlocked
	s.due(stalledRecheck)
}

// recordWave writes the wave's counts, its done ratchet and its failures:
// an Event for each new failure among the 20 the status lists, and one for
// the failures beyond them.
func (r *DRPlanReconciler) recordWave(s *planScope, ws *drv1alpha1.PlanWaveStatus) {
	failedBefore := ws.Counts.Failed
	ws.Counts = countStates(s.views)
	for _, v := range s.views {
		if v.state == memberSucceeded && !slices.Contains(ws.Done, v.pg.Name) {
			ws.Done = append(ws.Done, v.pg.Name)
		}
	}
	sort.Strings(ws.Done)
	prev := map[string]drv1alpha1.MemberFailure{}
	for _, f := range ws.Failures {
		prev[f.Member] = f
	}
	var failures []drv1alpha1.MemberFailure
	for _, v := range s.views {
		if v.state != memberFailed || len(failures) == maxWaveFailures {
			continue
		}
		f, seen := prev[v.pg.Name]
		if !seen || f.Reason != v.reason {
			at := metav1.NewTime(s.now)
			f = drv1alpha1.MemberFailure{Member: v.pg.Name, Reason: v.reason, Message: truncate(v.message, 1024), At: &at}
			r.event(s.plan, true, drv1alpha1.MemberFailedReason, "run %s, wave %s: member %s failed: %s: %s", s.plan.Status.Run.ID, ws.Name, v.pg.Name, v.reason, v.message)
		}
		failures = append(failures, f)
	}
	if more := ws.Counts.Failed - max(failedBefore, int32(len(failures))); more > 0 && len(failures) == maxWaveFailures {
		r.event(s.plan, true, drv1alpha1.MemberFailedReason, "run %s, wave %s: %d more members failed (%d in all; status lists the first %d)",
			s.plan.Status.Run.ID, ws.Name, more, ws.Counts.Failed, maxWaveFailures)
	}
	ws.Failures = failures
}

// finishWave ends a wave whose members are done and post-steps passed.
func (r *DRPlanReconciler) finishWave(s *planScope, ws *drv1alpha1.PlanWaveStatus) {
	now := metav1.NewTime(s.now)
	ws.Phase, ws.FinishedAt, ws.Done = drv1alpha1.PlanSucceeded, &now, nil
	if ws.Counts.Failed > 0 {
		ws.Phase = drv1alpha1.PlanFailed
	}
	var took time.Duration
	if ws.StartedAt != nil {
		took = s.now.Sub(ws.StartedAt.Time)
	}
	r.Metrics.ObserveWave(s.plan.Namespace, s.plan.Name, ws.Name, took)
	r.event(s.plan, false, drv1alpha1.WaveSucceededReason, "run %s: wave %s ended %s in %s: %d done, %d skipped, %d failed",
		s.plan.Status.Run.ID, ws.Name, ws.Phase, took.Truncate(time.Second), ws.Counts.Succeeded, ws.Counts.Skipped, ws.Counts.Failed)
}

// finishRun ends the run, measures it against spec.rto, and records it in
// the history.
func (r *DRPlanReconciler) finishRun(s *planScope, phase drv1alpha1.PlanPhase, reason, msg string) {
	plan, run := s.plan, s.plan.Status.Run
	now := metav1.NewTime(s.now)
	run.Phase, run.Reason, run.Message, run.FinishedAt = phase, reason, msg, &now
	took := s.now.Sub(run.StartedAt.Time).Truncate(time.Second)
	run.Duration = &metav1.Duration{Duration: took}
	if rto := plan.Spec.RTO; rto != nil && phase == drv1alpha1.PlanSucceeded {
		met := took <= rto.Duration
		run.RTOMet = &met
		if !met {
			r.event(plan, true, drv1alpha1.RTOExceededReason, "run %s took %s, more than the RTO of %s", run.ID, took, rto.Duration)
		}
	}
	var c drv1alpha1.PlanCounts
	for i := range run.Waves {
		c = addCounts(c, run.Waves[i].Counts)
		run.Waves[i].Done = nil
	}
	rec := drv1alpha1.PlanRunRecord{ID: run.ID, Mode: run.Mode, ToSite: run.ToSite, DrillRequest: run.DrillRequest, Phase: phase,
		StartedAt: run.StartedAt, FinishedAt: &now, Duration: run.Duration, RTOMet: run.RTOMet, Counts: c}
	plan.Status.History = append([]drv1alpha1.PlanRunRecord{rec}, plan.Status.History...)
	if len(plan.Status.History) > maxRunHistory {
		plan.Status.History = plan.Status.History[:maxRunHistory]
	}
	r.Metrics.ObserveRun(plan.Namespace, plan.Name, string(run.Mode), string(run.ToSite), string(phase), took)
	r.event(plan, phase != drv1alpha1.PlanSucceeded, reason, "%s (took %s)", msg, took)
}
