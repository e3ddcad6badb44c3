package health_test

import (
	"encoding/json"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	kstatus "sigs.k8s.io/cli-utils/pkg/kstatus/status"

	drv1alpha1 "github.com/sdrs-operator/sdrs-operator/api/v1alpha1"
	"github.com/sdrs-operator/sdrs-operator/internal/health"
)

// planStates are DRPlans as the API server returns them at each moment of
// their life, with the health Argo CD (through
// config/argocd/health-drplan.lua) and kstatus must compute. The status is
// written as the DRPlan controller's contract says: Ready, Reconciling,
// Stalled, WaitingForApproval and Valid set together, each with
// observedGeneration;
//   - a live run (Pending, Running) is Reconciling=True, Ready=False;
//   - a run waiting for an approval is WaitingForApproval=True and
//     Reconciling=True, Ready=False;
//   - a Blocked run, a run that ended Failed or Aborted, members left off
//     the desired site and an invalid plan are Stalled=True, Ready=False;
//   - spec.suspend holding a live run is Ready=False reason Suspended with
//     neither Reconciling nor Stalled;
//   - no run live and every member at the desired site (or no desired
//     site) is Ready=True.
func planStates() []state {
	return []state{
		{
			name:   "just created, no status",
			reason: "the operator has not reconciled yet; Argo must wait, not judge",
			obj:    func() *unstructured.Unstructured { return planObject(newPlan(1)) },
			argo:   health.Progressing, argoMessage: "Waiting for the operator to report status",
			kstatus: kstatus.CurrentStatus,
		},
		{
			name:   "just created, with the status.observedGeneration: 0 default",
			reason: "the DRPlan CRD defaults status to {observedGeneration: 0}, so kstatus says InProgress until the first reconcile",
			obj: func() *unstructured.Unstructured {
				u := planObject(newPlan(1))
				u.Object["status"] = map[string]any{"observedGeneration": int64(0)}
				return u
			},
			argo: health.Progressing, argoMessage: "Waiting for the operator to report status",
			kstatus: kstatus.InProgressStatus,
		},
		{
			name:   "desiredActiveSite flipped in Git, new generation not yet observed, old Ready=True",
			reason: "the Ready=True of the old spec (members at source) must not count before the operator starts the run",
			obj: func() *unstructured.Unstructured {
				p := atSitePlan(1)
				p.Generation = 2
				p.Spec.DesiredActiveSite = drv1alpha1.SiteSource
				return planObject(p)
			},
			argo: health.Progressing, argoMessage: "Waiting for the operator to reconcile generation 2",
			kstatus: kstatus.InProgressStatus,
		},
		{
			name:   "a decision merged for a blocked run, new generation not yet observed, old Stalled=True",
			reason: "a Retry or Skip from Git must not read as Degraded before the operator applies it",
			obj: func() *unstructured.Unstructured {
				p := blockedPlan(2, drv1alpha1.MemberFailedReason, memberFailedMessage)
				p.Generation = 3
				p.Spec.Decisions = []drv1alpha1.PlanDecision{{Run: "r-0003", Member: "pg-billing", Action: drv1alpha1.DecisionRetry, Note: "jane: quota raised"}}
				return planObject(p)
			},
			argo: health.Progressing, argoMessage: "Waiting for the operator to reconcile generation 3",
			kstatus: kstatus.InProgressStatus,
		},
		{
			name:   "a new generation whose first reconcile is retried",
			reason: "the operator keeps the old observedGeneration while it retries; Reconciling's message shows",
			obj: func() *unstructured.Unstructured {
				p := atSitePlan(2)
				p.Generation = 3
				p.Status.Conditions = planLive(3, drv1alpha1.ReconcileErrorReason, "cannot list ProtectionGroups: the server is currently unable to handle the request; retrying")
				return planObject(p)
			},
			argo: health.Progressing, argoMessage: "generation 3: cannot list ProtectionGroups",
			kstatus: kstatus.InProgressStatus,
		},
		{
			name:   "invalid plan: a member in two waves",
			reason: "no run starts while Valid=False; a person fixes the waves: Degraded with the Valid message",
			obj: func() *unstructured.Unstructured {
				p := newPlan(1)
				p.Status = drv1alpha1.DRPlanStatus{
					ObservedGeneration: 1,
					Members:            &drv1alpha1.PlanMembers{Total: 13, AtSource: 13},
					Conditions: planConds(1,
						ready(metav1.ConditionFalse, drv1alpha1.PlanInvalidReason, invalidMessage),
						reconciling(false, "", ""),
						stalledCond(true, drv1alpha1.PlanInvalidReason, invalidMessage),
						waitingCond(false, "", ""),
						validCond(false, drv1alpha1.PlanInvalidReason, invalidMessage)),
				}
				return planObject(p)
			},
			argo: health.Degraded, argoMessage: invalidMessage,
			kstatus: kstatus.FailedStatus,
		},
		{
			name:   "invalid plan while a run moves",
			reason: "a run already live goes on (Reconciling=True) while Valid=False: Progressing, never Degraded mid-run",
			obj: func() *unstructured.Unstructured {
				p := runningPlan(2, waveStatus("apps", drv1alpha1.PlanRunning, 10, 3, 0, 1))
				p.Status.Conditions[4] = withGen(validCond(false, drv1alpha1.PlanInvalidReason, invalidMessage), 2)
				return planObject(p)
			},
			argo: health.Progressing, argoMessage: "run r-0003: wave apps 4/10",
			kstatus: kstatus.InProgressStatus,
		},
		{
			name:   "no members, with a desiredActiveSite",
			reason: "a plan that should move members but selects none needs a person: Degraded",
			obj: func() *unstructured.Unstructured {
				p := newPlan(1)
				p.Status = drv1alpha1.DRPlanStatus{
					ObservedGeneration: 1,
					Members:            &drv1alpha1.PlanMembers{},
					Conditions:         planStalled(1, drv1alpha1.PlanNoMembersReason, "spec.selector selects no ProtectionGroup in this namespace"),
				}
				return planObject(p)
			},
			argo: health.Degraded, argoMessage: "spec.selector selects no ProtectionGroup",
			kstatus: kstatus.FailedStatus,
		},
		{
			name:   "run Pending: recorded, no wave started yet",
			reason: "a run that was just recorded is progress",
			obj: func() *unstructured.Unstructured {
				p := armedPlanAt(1, drv1alpha1.SiteTarget)
				p.Status.Run = planRun("r-0003", drv1alpha1.PlanPending, "")
				p.Status.Conditions = planLive(1, drv1alpha1.RunStartedReason, "run r-0003 to target recorded: 13 members in 2 waves")
				return planObject(p)
			},
			argo: health.Progressing, argoMessage: "run r-0003; run r-0003 to target recorded",
			kstatus: kstatus.InProgressStatus,
		},
		{
			name:   "run Running: wave apps moving, 4 of 10 members done",
			reason: "members moving is progress; the message names the run, its wave and the wave's done members",
			obj: func() *unstructured.Unstructured {
				return planObject(runningPlan(1, waveStatus("apps", drv1alpha1.PlanRunning, 10, 3, 0, 1)))
			},
			argo: health.Progressing, argoMessage: "run r-0003: wave apps 4/10",
			kstatus: kstatus.InProgressStatus,
		},
		{
			name:   "run Running, a member failed under onMemberFailure Continue",
			reason: "Continue counts the failure and goes on: still progress, the failure in the message",
			obj: func() *unstructured.Unstructured {
				return planObject(runningPlan(1, waveStatus("apps", drv1alpha1.PlanRunning, 10, 6, 1, 0)))
			},
			argo: health.Progressing, argoMessage: "run r-0003: wave apps 6/10 (1 failed)",
			kstatus: kstatus.InProgressStatus,
		},
		{
			name:   "drill run Running",
			reason: "a drill run creates one drill per member; progress like a failover run",
			obj: func() *unstructured.Unstructured {
				p := runningPlan(1, waveStatus("databases", drv1alpha1.PlanRunning, 3, 1, 0, 0))
				p.Spec.Drill = &drv1alpha1.PlanDrill{Request: "2026-q4"}
				p.Status.Run.ID, p.Status.Run.Mode, p.Status.Run.DrillRequest = "r-0005", drv1alpha1.PlanModeDrill, "2026-q4"
				p.Status.Run.CurrentWave = "databases"
				return planObject(p)
			},
			argo: health.Progressing, argoMessage: "drill run r-0005: wave databases 1/3",
			kstatus: kstatus.InProgressStatus,
		},
		{
			name:   "run WaitingForApproval",
			reason: "an approval step waits for a person's decision: Suspended (the run is paused on purpose), with the WaitingForApproval message",
			obj:    func() *unstructured.Unstructured { return planObject(waitingPlan(1)) },
			argo:   health.Suspended, argoMessage: approvalMessage,
			kstatus: kstatus.InProgressStatus,
		},
		{
			name:   "run WaitingForApproval with spec.suspend set",
			reason: "suspend turns Reconciling off and Ready's reason to Suspended; the approval's message still says what the run waits for",
			obj: func() *unstructured.Unstructured {
				p := waitingPlan(2)
				p.Spec.Suspend = true
				p.Status.Conditions = planConds(2,
					ready(metav1.ConditionFalse, drv1alpha1.PlanSuspendedReason, suspendedMessage),
					reconciling(false, "", ""), stalledCond(false, "", ""),
					waitingCond(true, drv1alpha1.ApprovalRequiredReason, approvalMessage), validCond(true, "", ""))
				return planObject(p)
			},
			argo: health.Suspended, argoMessage: approvalMessage,
			kstatus: kstatus.InProgressStatus,
		},
		{
			name:   "run Blocked with spec.suspend set",
			reason: "a suspended plan reads Suspended even when its run is blocked: the controller writes Ready reason Suspended and Stalled=True; kstatus says Failed",
			obj: func() *unstructured.Unstructured {
				p := blockedPlan(2, drv1alpha1.MemberFailedReason, memberFailedMessage)
				p.Spec.Suspend = true
				p.Status.Conditions = planConds(2,
					ready(metav1.ConditionFalse, drv1alpha1.PlanSuspendedReason, suspendedMessage),
					reconciling(false, "", ""), stalledCond(true, drv1alpha1.PlanSuspendedReason, suspendedMessage),
					waitingCond(false, "", ""), validCond(true, "", ""))
				return planObject(p)
			},
			argo: health.Suspended, argoMessage: suspendedMessage,
			kstatus: kstatus.FailedStatus,
		},
		{
			name:   "run Blocked: a member failed under onMemberFailure Stop",
			reason: "the run waits for Retry, Skip or Abort: Degraded with the Stalled message",
			obj: func() *unstructured.Unstructured {
				return planObject(blockedPlan(1, drv1alpha1.MemberFailedReason, memberFailedMessage))
			},
			argo: health.Degraded, argoMessage: memberFailedMessage,
			kstatus: kstatus.FailedStatus,
		},
		{
			name:   "run Blocked: a job step failed",
			reason: "a failed Job step blocks the run until a decision",
			obj: func() *unstructured.Unstructured {
				return planObject(blockedPlan(1, drv1alpha1.StepFailedReason,
					"job step apps/smoke-test failed (attempt 1, Job erp-failover-r-0003-apps-smoke-test-1: BackoffLimitExceeded): decide Retry, Skip or Abort for run r-0003"))
			},
			argo: health.Degraded, argoMessage: "job step apps/smoke-test failed",
			kstatus: kstatus.FailedStatus,
		},
		{
			name:   "run Blocked: the approval expired",
			reason: "an approval not given within its timeout blocks the run",
			obj: func() *unstructured.Unstructured {
				p := blockedPlan(1, drv1alpha1.ApprovalExpiredReason,
					"approval databases/approve expired after 2h0m0s: decide Retry (wait again), Skip or Abort for run r-0003")
				p.Status.Run.CurrentWave = "databases"
				return planObject(p)
			},
			argo: health.Degraded, argoMessage: "approval databases/approve expired",
			kstatus: kstatus.FailedStatus,
		},
		{
			name:   "run Blocked: RunBlocked",
			reason: "the generic Blocked reason reads the same",
			obj: func() *unstructured.Unstructured {
				return planObject(blockedPlan(1, drv1alpha1.RunBlockedReason, "run r-0003 waits for a decision: Retry, Skip or Abort"))
			},
			argo: health.Degraded, argoMessage: "run r-0003 waits for a decision",
			kstatus: kstatus.FailedStatus,
		},
		{
			name:   "run ended Failed",
			reason: "members failed under onMemberFailure Continue; the run is over and members are not where Git says",
			obj: func() *unstructured.Unstructured {
				return planObject(endedPlan(1, drv1alpha1.PlanFailed, drv1alpha1.RunFailedReason,
					"run r-0003 ended Failed: 2 of 10 members of wave apps failed; a Retry decision for r-0003 starts a new run"))
			},
			argo: health.Degraded, argoMessage: "run r-0003 ended Failed",
			kstatus: kstatus.FailedStatus,
		},
		{
			name:   "run ended Aborted",
			reason: "a person aborted the run; moved members stay moved: the plan is not where Git says",
			obj: func() *unstructured.Unstructured {
				return planObject(endedPlan(1, drv1alpha1.PlanAborted, drv1alpha1.RunAbortedReason,
					"run r-0003 aborted by decision (jane: rollback window closed); 3 members moved to target stay there"))
			},
			argo: health.Degraded, argoMessage: "run r-0003 aborted by decision",
			kstatus: kstatus.FailedStatus,
		},
		{
			name:   "spec.suspend with a live run",
			reason: "suspend holds new steps and members: Suspended, neither progress nor failure",
			obj: func() *unstructured.Unstructured {
				p := runningPlan(2, waveStatus("databases", drv1alpha1.PlanSucceeded, 3, 3, 0, 0))
				p.Spec.Suspend = true
				p.Status.Run.CurrentWave = "databases"
				p.Status.Conditions = planConds(2,
					ready(metav1.ConditionFalse, drv1alpha1.PlanSuspendedReason, suspendedMessage),
					reconciling(false, "", ""), stalledCond(false, "", ""), waitingCond(false, "", ""), validCond(true, "", ""))
				return planObject(p)
			},
			argo: health.Suspended, argoMessage: suspendedMessage,
			kstatus: kstatus.InProgressStatus,
		},
		{
			name:   "every member at the desired site, no run live",
			reason: "the plan is where Git says: Healthy and Current",
			obj:    func() *unstructured.Unstructured { return planObject(atSitePlan(1)) },
			argo:   health.Healthy, argoMessage: atSiteMessage,
			kstatus: kstatus.CurrentStatus,
		},
		{
			name:   "every member at the desired site, the last run over its RTO",
			reason: "a slow run still got there: Healthy, the RTO miss in the message",
			obj: func() *unstructured.Unstructured {
				p := atSitePlan(1)
				p.Status.Run.RTOMet = ptr(false)
				p.Status.Run.Duration = &metav1.Duration{Duration: 83 * time.Minute}
				return planObject(p)
			},
			argo: health.Healthy, argoMessage: atSiteMessage + "; run r-0003 took longer than spec.rto",
			kstatus: kstatus.CurrentStatus,
		},
		{
			name:   "every member at the desired site, spec.suspend set",
			reason: "suspend with nothing live holds nothing: Healthy",
			obj: func() *unstructured.Unstructured {
				p := atSitePlan(2)
				p.Spec.Suspend = true
				return planObject(p)
			},
			argo: health.Healthy, argoMessage: atSiteMessage,
			kstatus: kstatus.CurrentStatus,
		},
		{
			name:   "armed: no desiredActiveSite",
			reason: "an armed plan is evaluated and moves nothing: Healthy",
			obj: func() *unstructured.Unstructured {
				p := armedPlanAt(1, "")
				p.Status.Conditions = planConds(1,
					ready(metav1.ConditionTrue, drv1alpha1.PlanArmedReason, armedMessage),
					reconciling(false, "", ""), stalledCond(false, "", ""), waitingCond(false, "", ""), validCond(true, "", ""))
				return planObject(p)
			},
			argo: health.Healthy, argoMessage: armedMessage,
			kstatus: kstatus.CurrentStatus,
		},
		{
			name:   "the last run ended, members are not at the desired site",
			reason: "members failed, were skipped or were moved back since (self-heal, a person): a Retry decision starts a new run; Degraded",
			obj: func() *unstructured.Unstructured {
				p := atSitePlan(1)
				p.Status.Members = &drv1alpha1.PlanMembers{Total: 13, AtSource: 2, AtTarget: 11, Diverged: 2}
				p.Status.Conditions = planStalled(1, drv1alpha1.PlanMembersNotAtSiteReason, notAtSiteMessage)
				return planObject(p)
			},
			argo: health.Degraded, argoMessage: notAtSiteMessage,
			kstatus: kstatus.FailedStatus,
		},
	}
}

// --- builders ----------------------------------------------------------------

const (
	invalidMessage      = "ProtectionGroup pg-billing is selected by waves databases and apps: every member must be in exactly one wave"
	approvalMessage     = "run r-0003 waits for approval of step databases/approve (confirm the DBAs stopped writes at source): add the decision {run: r-0003, step: databases/approve, action: Approve}"
	memberFailedMessage = "member pg-billing failed in wave apps (JobFailed: SDRS job j-7 ended FAIL with SDRS.1402): decide Retry, Skip or Abort for run r-0003"
	suspendedMessage    = "spec.suspend holds run r-0003 after wave databases; wave apps starts when suspend is removed"
	atSiteMessage       = "13 members at target; no run live"
	armedMessage        = "no desiredActiveSite: 13 members evaluated, nothing moves"
	notAtSiteMessage    = "run r-0003 ended, yet 2 members are not at target (pg-billing, pg-ledger: set to source by someone else); a Retry decision for r-0003 starts a new run"
)

func newPlan(generation int64) *drv1alpha1.DRPlan {
	return &drv1alpha1.DRPlan{
		TypeMeta:   metav1.TypeMeta{APIVersion: drv1alpha1.GroupVersion.String(), Kind: "DRPlan"},
		ObjectMeta: metav1.ObjectMeta{Name: "erp-failover", Namespace: "dr", Generation: generation, CreationTimestamp: t0},
		Spec: drv1alpha1.DRPlanSpec{
			Selector:          metav1.LabelSelector{MatchLabels: map[string]string{"app.kubernetes.io/part-of": "erp"}},
			DesiredActiveSite: drv1alpha1.SiteTarget,
			Waves: []drv1alpha1.PlanWave{
				{
					Name:     "databases",
					Selector: metav1.LabelSelector{MatchLabels: map[string]string{"tier": "db"}},
					PreSteps: []drv1alpha1.PlanStep{{Name: "approve", Approval: &drv1alpha1.ApprovalStep{
						Message: "confirm the DBAs stopped writes at source", Timeout: &metav1.Duration{Duration: 2 * time.Hour}}}},
				},
				{
					Name:      "apps",
					Selector:  metav1.LabelSelector{MatchLabels: map[string]string{"tier": "app"}},
					PostSteps: []drv1alpha1.PlanStep{{Name: "smoke-test", Job: &drv1alpha1.JobStep{}}},
				},
			},
			RTO: &metav1.Duration{Duration: time.Hour},
		},
	}
}

// armedPlanAt is a plan for generation gen with desiredActiveSite site
// whose 13 members are all at source and that has no run yet.
func armedPlanAt(gen int64, site drv1alpha1.Site) *drv1alpha1.DRPlan {
	p := newPlan(gen)
	p.Spec.DesiredActiveSite = site
	p.Status = drv1alpha1.DRPlanStatus{
		ObservedGeneration: gen,
		Members:            &drv1alpha1.PlanMembers{Total: 13, AtSource: 13},
	}
	return p
}

// atSitePlan is a plan whose run r-0003 moved its 13 members to target.
func atSitePlan(gen int64) *drv1alpha1.DRPlan {
	p := newPlan(gen)
	run := planRun("r-0003", drv1alpha1.PlanSucceeded, "apps",
		waveStatus("databases", drv1alpha1.PlanSucceeded, 3, 3, 0, 0),
		waveStatus("apps", drv1alpha1.PlanSucceeded, 10, 9, 0, 1))
	finished := metav1.NewTime(t0.Add(42 * time.Minute))
	run.FinishedAt, run.Duration, run.RTOMet = &finished, &metav1.Duration{Duration: 42 * time.Minute}, ptr(true)
	run.Reason, run.Message = drv1alpha1.RunSucceededReason, "every wave succeeded in 42m0s"
	p.Status = drv1alpha1.DRPlanStatus{
		ObservedGeneration: gen,
		Members:            &drv1alpha1.PlanMembers{Total: 13, AtTarget: 13},
		Run:                run,
		Conditions: planConds(gen,
			ready(metav1.ConditionTrue, drv1alpha1.PlanAtDesiredSiteReason, atSiteMessage),
			reconciling(false, "", ""), stalledCond(false, "", ""), waitingCond(false, "", ""), validCond(true, "", "")),
	}
	return p
}

// runningPlan is a plan whose run r-0003 moves the members of wave
// current (databases done when current is apps).
func runningPlan(gen int64, current drv1alpha1.PlanWaveStatus) *drv1alpha1.DRPlan {
	p := armedPlanAt(gen, drv1alpha1.SiteTarget)
	waves := []drv1alpha1.PlanWaveStatus{current}
	if current.Name == "apps" {
		waves = []drv1alpha1.PlanWaveStatus{waveStatus("databases", drv1alpha1.PlanSucceeded, 3, 3, 0, 0), current}
	}
	p.Status.Run = planRun("r-0003", drv1alpha1.PlanRunning, current.Name, waves...)
	p.Status.Conditions = planLive(gen, drv1alpha1.WaveRunningReason,
		"wave "+current.Name+": moving members to target (maxConcurrent 3)")
	return p
}

// waitingPlan is a plan whose run r-0003 waits for the approval step
// databases/approve.
func waitingPlan(gen int64) *drv1alpha1.DRPlan {
	p := armedPlanAt(gen, drv1alpha1.SiteTarget)
	w := waveStatus("databases", drv1alpha1.PlanWaitingForApproval, 3, 0, 0, 0)
	w.Counts.Pending, w.Counts.InProgress = 3, 0
	w.Steps = []drv1alpha1.PlanStepStatus{{Name: "approve", Stage: "Pre", Type: "approval", Phase: drv1alpha1.StepWaitingForApproval,
		Attempt: 1, StartedAt: &t0, Message: "confirm the DBAs stopped writes at source"}}
	p.Status.Run = planRun("r-0003", drv1alpha1.PlanWaitingForApproval, "databases", w)
	p.Status.Conditions = planConds(gen,
		ready(metav1.ConditionFalse, drv1alpha1.ApprovalRequiredReason, approvalMessage),
		reconciling(true, drv1alpha1.ApprovalRequiredReason, approvalMessage),
		stalledCond(false, "", ""),
		waitingCond(true, drv1alpha1.ApprovalRequiredReason, approvalMessage),
		validCond(true, "", ""))
	return p
}

// blockedPlan is a plan whose run r-0003 is Blocked in wave apps.
func blockedPlan(gen int64, reason, message string) *drv1alpha1.DRPlan {
	p := runningPlan(gen, waveStatus("apps", drv1alpha1.PlanBlocked, 10, 4, 1, 0))
	p.Status.Run.Phase, p.Status.Run.Reason, p.Status.Run.Message = drv1alpha1.PlanBlocked, reason, message
	p.Status.Run.Waves[1].Failures = []drv1alpha1.MemberFailure{{Member: "pg-billing", Reason: drv1alpha1.JobFailedReason,
		Message: "SDRS job j-7 ended FAIL with SDRS.1402", At: &t0}}
	p.Status.Conditions = planStalled(gen, reason, message)
	return p
}

// endedPlan is a plan whose run r-0003 ended in phase (Failed, Aborted).
func endedPlan(gen int64, phase drv1alpha1.PlanPhase, reason, message string) *drv1alpha1.DRPlan {
	p := blockedPlan(gen, reason, message)
	finished := metav1.NewTime(t0.Add(50 * time.Minute))
	p.Status.Run.Phase, p.Status.Run.FinishedAt = phase, &finished
	p.Status.Run.Duration = &metav1.Duration{Duration: 50 * time.Minute}
	p.Status.Run.Waves[1].Phase = phase
	p.Status.Members = &drv1alpha1.PlanMembers{Total: 13, AtSource: 6, AtTarget: 7}
	return p
}

func planRun(id string, phase drv1alpha1.PlanPhase, current string, waves ...drv1alpha1.PlanWaveStatus) *drv1alpha1.PlanRun {
	return &drv1alpha1.PlanRun{
		ID: id, Mode: drv1alpha1.PlanModeFailover, ToSite: drv1alpha1.SiteTarget, Phase: phase,
		PlanGeneration: 1, StartedAt: t0, CurrentWave: current, Waves: waves,
	}
}

// waveStatus is a wave of total members of which succeeded, failed and
// skipped are counted; the rest are in progress.
func waveStatus(name string, phase drv1alpha1.PlanPhase, total, succeeded, failed, skipped int32) drv1alpha1.PlanWaveStatus {
	return drv1alpha1.PlanWaveStatus{
		Name: name, Phase: phase, StartedAt: &t0,
		Counts: drv1alpha1.PlanCounts{Total: total, Succeeded: succeeded, Failed: failed, Skipped: skipped,
			InProgress: total - succeeded - failed - skipped},
	}
}

func waitingCond(on bool, reason, message string) metav1.Condition {
	if !on {
		return cond(drv1alpha1.WaitingForApprovalCondition, metav1.ConditionFalse, drv1alpha1.ReconciledReason, "no approval pending")
	}
	return cond(drv1alpha1.WaitingForApprovalCondition, metav1.ConditionTrue, reason, message)
}

func validCond(ok bool, reason, message string) metav1.Condition {
	if ok {
		return cond(drv1alpha1.ValidCondition, metav1.ConditionTrue, drv1alpha1.PlanValidReason, "every member is in exactly one wave")
	}
	return cond(drv1alpha1.ValidCondition, metav1.ConditionFalse, reason, message)
}

// planConds lists Ready, Reconciling, Stalled, WaitingForApproval and
// Valid, each for generation gen unless it carries its own.
func planConds(gen int64, readyC, reconcilingC, stalledC, waitingC, validC metav1.Condition) []metav1.Condition {
	out := []metav1.Condition{readyC, reconcilingC, stalledC, waitingC, validC}
	for i := range out {
		if out[i].ObservedGeneration == 0 {
			out[i].ObservedGeneration = gen
		}
	}
	return out
}

// planLive: a run moves (Reconciling=True), Ready=False says the same.
func planLive(gen int64, reason, message string) []metav1.Condition {
	return planConds(gen, ready(metav1.ConditionFalse, reason, message), reconciling(true, reason, message),
		stalledCond(false, "", ""), waitingCond(false, "", ""), validCond(true, "", ""))
}

// planStalled: a person must decide (Stalled=True), Ready=False says the same.
func planStalled(gen int64, reason, message string) []metav1.Condition {
	return planConds(gen, ready(metav1.ConditionFalse, reason, message), reconciling(false, "", ""),
		stalledCond(true, reason, message), waitingCond(false, "", ""), validCond(true, "", ""))
}

func ptr[T any](v T) *T { return &v }

// planObject is object for a DRPlan: what a client reads from the API server.
func planObject(p *drv1alpha1.DRPlan) *unstructured.Unstructured {
	raw, err := json.Marshal(p)
	if err != nil {
		panic(err)
	}
	u := &unstructured.Unstructured{}
	if err := u.UnmarshalJSON(raw); err != nil {
		panic(err)
	}
	if p.Status.ObservedGeneration == 0 && len(p.Status.Conditions) == 0 && p.Status.Run == nil {
		delete(u.Object, "status") // a new object has no status at all
	}
	return u
}

func TestPlanStatesAreWellFormed(t *testing.T) {
	// Guard the fixtures: each is a decodable DRPlan whose conditions all
	// carry an observedGeneration, every run phase appears, and every
	// contract row (each reason the controller writes) has a state.
	phases := map[drv1alpha1.PlanPhase]bool{}
	reasons := map[string]bool{}
	for _, s := range planStates() {
		u := s.obj()
		p := &drv1alpha1.DRPlan{}
		raw, _ := u.MarshalJSON()
		if err := json.Unmarshal(raw, p); err != nil {
			t.Errorf("%s: not a DRPlan: %v", s.name, err)
			continue
		}
		if p.Status.Run != nil {
			phases[p.Status.Run.Phase] = true
		}
		for _, c := range p.Status.Conditions {
			if c.ObservedGeneration == 0 {
				t.Errorf("%s: condition %s has no observedGeneration", s.name, c.Type)
			}
			if c.Status == metav1.ConditionTrue || c.Type == drv1alpha1.ReadyCondition {
				reasons[c.Type+"/"+c.Reason] = true
			}
		}
		if s.name == "" || s.reason == "" {
			t.Errorf("every state needs a name and a reason: %+v", s)
		}
	}
	for _, ph := range []drv1alpha1.PlanPhase{drv1alpha1.PlanPending, drv1alpha1.PlanRunning, drv1alpha1.PlanWaitingForApproval,
		drv1alpha1.PlanBlocked, drv1alpha1.PlanSucceeded, drv1alpha1.PlanFailed, drv1alpha1.PlanAborted} {
		if !phases[ph] {
			t.Errorf("no state whose run is in phase %s", ph)
		}
	}
	for _, r := range []string{
		"Stalled/" + drv1alpha1.PlanInvalidReason,
		"Reconciling/" + drv1alpha1.RunStartedReason,
		"Reconciling/" + drv1alpha1.WaveRunningReason,
		"WaitingForApproval/" + drv1alpha1.ApprovalRequiredReason,
		"Stalled/" + drv1alpha1.RunBlockedReason,
		"Stalled/" + drv1alpha1.MemberFailedReason,
		"Stalled/" + drv1alpha1.StepFailedReason,
		"Stalled/" + drv1alpha1.ApprovalExpiredReason,
		"Stalled/" + drv1alpha1.RunFailedReason,
		"Stalled/" + drv1alpha1.RunAbortedReason,
		"Stalled/" + drv1alpha1.PlanMembersNotAtSiteReason,
		"Ready/" + drv1alpha1.PlanSuspendedReason,
		"Ready/" + drv1alpha1.PlanAtDesiredSiteReason,
		"Ready/" + drv1alpha1.PlanArmedReason,
	} {
		if !reasons[r] {
			t.Errorf("no state with condition %s", r)
		}
	}
}
