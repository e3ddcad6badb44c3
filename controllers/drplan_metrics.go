package controllers

import "time"

// PlanMetrics is what the DRPlan controller publishes.
type PlanMetrics interface {
	// SetPlan publishes the plan's members by state (pending, inProgress,
	// succeeded, failed, skipped of the live or last run; atSource,
	// atTarget, diverged, claimedElsewhere of the members now) and whether
	// the run waits for an approval.
	SetPlan(namespace, name string, members map[string]int, waitingForApproval bool)
	// ObserveRun records a finished run's duration (its measured RTO).
	ObserveRun(namespace, name, mode, toSite, phase string, duration time.Duration)
	// ObserveWave records a finished wave's duration.
	ObserveWave(namespace, name, wave string, duration time.Duration)
	// ForgetPlan removes a deleted plan's series.
	ForgetPlan(namespace, name string)
}

type noopPlanMetrics struct{}

func (noopPlanMetrics) SetPlan(string, string, map[string]int, bool)                     {}
func (noopPlanMetrics) ObserveRun(string, string, string, string, string, time.Duration) {}
func (noopPlanMetrics) ObserveWave(string, string, string, time.Duration)                {}
func (noopPlanMetrics) ForgetPlan(string, string)                                        {}
