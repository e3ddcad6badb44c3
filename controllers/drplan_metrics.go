package controllers

import (
	"time"

	drv1alpha1 "github.com/sdrs-operator/sdrs-operator/api/v1alpha1"
)

// PlanMetrics is what the DRPlan controller publishes.
type PlanMetrics interface {
	// SetPlan publishes the plan's members by state (pending, inProgress,
	// succeeded, failed, skipped of the live or last run; atSource,
	// atTarget, diverged, claimedElsewhere of the members now) and whether
	// the run waits for an approval.
	SetPlan(namespace, name string, members map[string]int, waitingForApproval bool)
	// SetPlanRun records when the plan's live run started (zero when no
	// run is live) and the plan's spec.rto (0 when unset), so that a
	// dashboard shows a run against its RTO while it runs.
	SetPlanRun(namespace, name string, runStarted time.Time, rto time.Duration)
	// ObserveRun records a finished run's duration (its measured RTO).
	ObserveRun(namespace, name, mode, toSite, phase string, duration time.Duration)
	// ObserveWave records a finished wave's duration.
	ObserveWave(namespace, name, wave string, duration time.Duration)
	// ForgetPlan removes a deleted plan's series.
	ForgetPlan(namespace, name string)
}

type noopPlanMetrics struct{}

func (noopPlanMetrics) SetPlan(string, string, map[string]int, bool)                     {}
func (noopPlanMetrics) SetPlanRun(string, string, time.Time, time.Duration)              {}
func (noopPlanMetrics) ObserveRun(string, string, string, string, string, time.Duration) {}
func (noopPlanMetrics) ObserveWave(string, string, string, time.Duration)                {}
func (noopPlanMetrics) ForgetPlan(string, string)                                        {}

// publishPlanRun hands the live run's start and the plan's RTO to the
// metrics.
func publishPlanRun(m PlanMetrics, plan *drv1alpha1.DRPlan) {
	var started time.Time
	if run := plan.Status.Run; run != nil && !run.Phase.Finished() {
		started = run.StartedAt.Time
	}
	var rto time.Duration
	if plan.Spec.RTO != nil {
		rto = plan.Spec.RTO.Duration
	}
	m.SetPlanRun(plan.Namespace, plan.Name, started, rto)
}
