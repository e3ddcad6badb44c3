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

// state is a ProtectionGroup as the API server returns it at one moment of
// its life, with the health Argo CD (through config/argocd/health.lua) and
// kstatus must compute for it. The status is written the way the
// controllers write it: every condition carries observedGeneration, and
// Ready, Reconciling and Stalled are set together in the deferred summary
// (Ready first, then Paused, Protected, Reconciling, Stalled, the order in
// which a new object gets them).
type state struct {
	name   string
	reason string
	obj    func() *unstructured.Unstructured

	argo        health.Status
	argoMessage string // substring of the Argo CD message
	kstatus     kstatus.Status
}

var t0 = metav1.NewTime(time.Date(2026, 11, 25, 9, 0, 0, 0, time.UTC))

func states() []state {
	return []state{
		{
			name:   "just created, no status",
			reason: "the operator has not reconciled yet; Argo must wait, not judge",
			obj:    func() *unstructured.Unstructured { return object(newPG(1)) },
			argo:   health.Progressing, argoMessage: "Waiting for the operator to report status",
			// kstatus treats an object without status.observedGeneration and
			// without conditions as Current (see TestKstatusJustCreated).
			kstatus: kstatus.CurrentStatus,
		},
		{
			name:   "just created, with the status.observedGeneration: 0 default",
			reason: "what kstatus sees if the CRD defaults status to {observedGeneration: 0}: InProgress until the first reconcile",
			obj: func() *unstructured.Unstructured {
				u := object(newPG(1))
				u.Object["status"] = map[string]any{"observedGeneration": int64(0)}
				return u
			},
			argo: health.Progressing, argoMessage: "Waiting for the operator to report status",
			kstatus: kstatus.InProgressStatus,
		},
		{
			name:   "first reconcile hit a transient SDRS error",
			reason: "a retried error leaves status.observedGeneration unset; Ready=False with Reconciling=True is still progress",
			obj: func() *unstructured.Unstructured {
				pg := newPG(1)
				pg.Status.ObservedGeneration = 0
				pg.Status.Conditions = progressingConds(1, drv1alpha1.SDRSUnavailableReason, "SDRS answered 503; retrying")
				return object(pg)
			},
			argo: health.Progressing, argoMessage: "generation 1: SDRS answered 503; retrying",
			kstatus: kstatus.InProgressStatus,
		},
		{
			name:   "creating the SDRS group (job in flight)",
			reason: "a create job runs for minutes; it is progress, never Degraded",
			obj: func() *unstructured.Unstructured {
				pg := newPG(1)
				pg.Status.ObservedGeneration = 1
				pg.Status.CurrentOperation = op(drv1alpha1.OperationCreate, drv1alpha1.StepSDRSAction, "job-create-1", 1)
				pg.Status.Conditions = progressingConds(1, drv1alpha1.CreatingReason, "create SDRS group erp: SDRS job job-create-1 is RUNNING")
				return object(pg)
			},
			argo: health.Progressing, argoMessage: "Create in progress (step SDRSAction): create SDRS group erp",
			kstatus: kstatus.InProgressStatus,
		},
		{
			name:   "new generation not yet observed, old Ready=True",
			reason: "right after desiredActiveSite flips, the Ready=True of the old spec must not count",
			obj: func() *unstructured.Unstructured {
				pg := converged(1)
				pg.Generation = 2
				pg.Spec.DesiredActiveSite = drv1alpha1.SiteTarget
				return object(pg)
			},
			argo: health.Progressing, argoMessage: "Waiting for the operator to reconcile generation 2",
			kstatus: kstatus.InProgressStatus,
		},
		{
			name:   "new generation not yet observed, old Stalled=True",
			reason: "fixing the spec of a stalled object must not read as Degraded before the operator looks at the fix",
			obj: func() *unstructured.Unstructured {
				pg := stalledPG(2, drv1alpha1.JobFailedReason, "planned failover to target failed: SDRS job j-1 ended FAIL with SDRS.1402")
				pg.Generation = 3
				return object(pg)
			},
			argo: health.Progressing, argoMessage: "Waiting for the operator to reconcile generation 3",
			kstatus: kstatus.InProgressStatus,
		},
		{
			name:   "transient error on a new generation",
			reason: "the operator keeps the old observedGeneration while it retries; the retry reason shows in the message",
			obj: func() *unstructured.Unstructured {
				pg := converged(2)
				pg.Generation = 3
				pg.Status.Conditions = progressingConds(3, drv1alpha1.ThrottledReason, "SDRS answered 429; retrying after 2s")
				return object(pg)
			},
			argo: health.Progressing, argoMessage: "generation 3: SDRS answered 429",
			kstatus: kstatus.InProgressStatus,
		},
		{
			name:   "planned failover stopping the production servers",
			reason: "the first, ECS step of a Managed planned failover is part of the job in flight",
			obj: func() *unstructured.Unstructured {
				pg := converged(2)
				pg.Spec.DesiredActiveSite = drv1alpha1.SiteTarget
				pg.Status.CurrentOperation = op(drv1alpha1.OperationPlannedFailover, drv1alpha1.StepStopServers, "", 2)
				pg.Status.CurrentOperation.ServerJobID = "ecs-job-7"
				pg.Status.Conditions = progressingConds(2, drv1alpha1.StoppingServersReason, "planned failover to target: stopping servers s-1 (ECS job ecs-job-7)")
				return object(pg)
			},
			argo: health.Progressing, argoMessage: "PlannedFailover in progress (step StopServers): planned failover to target: stopping servers",
			kstatus: kstatus.InProgressStatus,
		},
		{
			name:   "planned failover SDRS job in flight",
			reason: "reverse-server-group runs for minutes; Argo must wait for it",
			obj: func() *unstructured.Unstructured {
				pg := converged(2)
				pg.Spec.DesiredActiveSite = drv1alpha1.SiteTarget
				pg.Status.CurrentOperation = op(drv1alpha1.OperationPlannedFailover, drv1alpha1.StepSDRSAction, "job-rev-1", 2)
				pg.Status.Conditions = progressingConds(2, drv1alpha1.PlannedFailoverInProgressReason, "planned failover to target: SDRS job job-rev-1 is RUNNING")
				return object(pg)
			},
			argo: health.Progressing, argoMessage: "PlannedFailover in progress (step SDRSAction): planned failover to target: SDRS job job-rev-1",
			kstatus: kstatus.InProgressStatus,
		},
		{
			name:   "job in flight while a Stalled=True of an older generation lingers",
			reason: "never Degraded while a job runs, even if an old Stalled=True was not cleaned up",
			obj: func() *unstructured.Unstructured {
				pg := converged(3)
				pg.Status.CurrentOperation = op(drv1alpha1.OperationFailover, drv1alpha1.StepSDRSAction, "job-fo-1", 3)
				pg.Status.Conditions = kconds(3,
					ready(metav1.ConditionFalse, drv1alpha1.FailoverInProgressReason, "failover to target: SDRS job job-fo-1 is RUNNING"),
					reconciling(true, drv1alpha1.FailoverInProgressReason, "failover to target: SDRS job job-fo-1 is RUNNING"),
					stalledCond(true, drv1alpha1.JobFailedReason, "an older failure"))
				pg.Status.Conditions[4].ObservedGeneration = 2 // left from generation 2
				return object(pg)
			},
			argo: health.Progressing, argoMessage: "Failover in progress (step SDRSAction): failover to target",
			kstatus: kstatus.InProgressStatus,
		},
		{
			name:   "Manual server power: waiting for a person to stop servers",
			reason: "the operator waits with Reconciling=True and names the servers; that is progress, not failure",
			obj: func() *unstructured.Unstructured {
				pg := converged(2)
				pg.Spec.ServerPower = drv1alpha1.ServerPowerManual
				pg.Status.CurrentOperation = op(drv1alpha1.OperationPlannedFailover, drv1alpha1.StepWaitServersStopped, "", 2)
				pg.Status.CurrentOperation.Servers = []string{"s-1", "s-2"}
				pg.Status.Conditions = progressingConds(2, drv1alpha1.WaitingForServersStoppedReason, "stop servers s-1, s-2 at cn-north-4a to continue")
				return object(pg)
			},
			argo: health.Progressing, argoMessage: "stop servers s-1, s-2",
			kstatus: kstatus.InProgressStatus,
		},
		{
			name:   "waiting for replication to synchronise",
			reason: "a planned failover waits (Reconciling=True, ReplicationNotSynchronized) until replication is active",
			obj: func() *unstructured.Unstructured {
				pg := converged(2)
				pg.Spec.DesiredActiveSite = drv1alpha1.SiteTarget
				pg.Status.Replication = &drv1alpha1.ReplicationObservation{Status: "copying", Progress: 42}
				pg.Status.Conditions = progressingConds(2, drv1alpha1.ReplicationNotSynchronizedReason, "replication is copying (42%); the planned failover waits until it is active")
				return object(pg)
			},
			argo: health.Progressing, argoMessage: "replication is copying (42%)",
			kstatus: kstatus.InProgressStatus,
		},
		{
			name:   "Ready=False with nothing in flight and nothing wrong",
			reason: "the summary without a reason but not yet converged; kstatus reads the Ready fallback",
			obj: func() *unstructured.Unstructured {
				pg := converged(2)
				pg.Status.Conditions = kconds(2,
					ready(metav1.ConditionFalse, drv1alpha1.ProgressingReason, "reconciling"),
					reconciling(false, "", ""),
					stalledCond(false, "", ""))
				return object(pg)
			},
			argo: health.Progressing, argoMessage: "reconciling",
			kstatus: kstatus.InProgressStatus,
		},
		{
			name:   "Stalled: the SDRS job failed",
			reason: "a failed job needs a person (retry annotation or spec change): Degraded with the SDRS error",
			obj: func() *unstructured.Unstructured {
				return object(stalledPG(2, drv1alpha1.JobFailedReason,
					"planned failover to target failed: SDRS job j-1 ended FAIL with SDRS.1402: replication abnormal; to retry, set annotation dr.sdrs.io/retry to a new value or change the spec"))
			},
			argo: health.Degraded,
			argoMessage: "planned failover to target failed: SDRS job j-1 ended FAIL with SDRS.1402: replication abnormal; " +
				"to retry, set annotation dr.sdrs.io/retry to a new value or change the spec",
			kstatus: kstatus.FailedStatus,
		},
		{
			name:   "Stalled: credentials rejected",
			reason: "bad AK/SK never fix themselves: Degraded",
			obj: func() *unstructured.Unstructured {
				return object(stalledPG(1, drv1alpha1.CredentialsInvalidReason, "SDRS rejected the credentials in sdrs-system/sdrs-credentials (APIGW.0301)"))
			},
			argo: health.Degraded, argoMessage: "SDRS rejected the credentials in sdrs-system/sdrs-credentials (APIGW.0301)",
			kstatus: kstatus.FailedStatus,
		},
		{
			name:   "Stalled while a job is in flight",
			reason: "credentials revoked mid-job: the job still runs in SDRS, so Argo shows Progressing with the reason; kstatus says Failed",
			obj: func() *unstructured.Unstructured {
				pg := stalledPG(2, drv1alpha1.CredentialsInvalidReason, "SDRS rejected the credentials in sdrs-system/sdrs-credentials")
				pg.Status.CurrentOperation = op(drv1alpha1.OperationPlannedFailover, drv1alpha1.StepSDRSAction, "job-rev-2", 2)
				return object(pg)
			},
			argo: health.Progressing, argoMessage: "PlannedFailover in progress (step SDRSAction): SDRS rejected the credentials",
			kstatus: kstatus.FailedStatus,
		},
		{
			name:   "Paused with an action pending",
			reason: "the pause annotation holds a failover back: Suspended, as Argo shows a suspended CronJob",
			obj: func() *unstructured.Unstructured {
				pg := converged(2)
				pg.Annotations = map[string]string{drv1alpha1.PausedAnnotation: "true"}
				pg.Spec.DesiredActiveSite = drv1alpha1.SiteTarget
				pg.Status.Conditions = pausedConds(2,
					ready(metav1.ConditionFalse, drv1alpha1.ReconciliationPausedReason, "paused: would run a planned failover to target"))
				return object(pg)
			},
			argo: health.Suspended, argoMessage: `annotation dr.sdrs.io/paused is "true"`,
			kstatus: kstatus.InProgressStatus,
		},
		{
			name:   "Paused and converged",
			reason: "nothing to do and paused: still Suspended for Argo; kstatus sees Ready=True",
			obj: func() *unstructured.Unstructured {
				pg := converged(2)
				pg.Annotations = map[string]string{drv1alpha1.PausedAnnotation: "true"}
				pg.Status.Conditions = pausedConds(2,
					ready(metav1.ConditionTrue, drv1alpha1.ReconciledReason, "active site source (cn-north-4a) as desired"))
				return object(pg)
			},
			argo: health.Suspended, argoMessage: "no new SDRS actions",
			kstatus: kstatus.CurrentStatus,
		},
		{
			name:   "Paused while a job is in flight",
			reason: "a job in flight is still followed when paused; Paused wins for Argo, Reconciling for kstatus",
			obj: func() *unstructured.Unstructured {
				pg := converged(2)
				pg.Annotations = map[string]string{drv1alpha1.PausedAnnotation: "true"}
				pg.Status.CurrentOperation = op(drv1alpha1.OperationPlannedFailover, drv1alpha1.StepSDRSAction, "job-rev-3", 2)
				c := pausedConds(2, ready(metav1.ConditionFalse, drv1alpha1.PlannedFailoverInProgressReason, "planned failover: SDRS job job-rev-3 is RUNNING"))
				c[3] = reconciling(true, drv1alpha1.PlannedFailoverInProgressReason, "planned failover: SDRS job job-rev-3 is RUNNING")
				c[3].ObservedGeneration = 2
				pg.Status.Conditions = c
				return object(pg)
			},
			argo: health.Suspended, argoMessage: "no new SDRS actions",
			kstatus: kstatus.InProgressStatus,
		},
		{
			name:   "Ready",
			reason: "at the desired site, protected, nothing in flight: Healthy and Current",
			obj:    func() *unstructured.Unstructured { return object(converged(4)) },
			argo:   health.Healthy, argoMessage: "active site source (cn-north-4a) as desired",
			kstatus: kstatus.CurrentStatus,
		},
		{
			name:   "Ready but not protected",
			reason: "protection Disabled is a choice, so Healthy, but the message says so",
			obj: func() *unstructured.Unstructured {
				pg := converged(2)
				pg.Spec.Protection = drv1alpha1.ProtectionDisabled
				for i := range pg.Status.Conditions {
					if pg.Status.Conditions[i].Type == drv1alpha1.ProtectedCondition {
						pg.Status.Conditions[i].Status = metav1.ConditionFalse
						pg.Status.Conditions[i].Reason = drv1alpha1.ProtectionStoppedReason
						pg.Status.Conditions[i].Message = "protection is not running (group status available)"
					}
				}
				return object(pg)
			},
			argo: health.Healthy, argoMessage: "as desired; not protected: protection is not running",
			kstatus: kstatus.CurrentStatus,
		},
	}
}

// --- builders ----------------------------------------------------------------

func newPG(generation int64) *drv1alpha1.ProtectionGroup {
	return &drv1alpha1.ProtectionGroup{
		TypeMeta: metav1.TypeMeta{APIVersion: drv1alpha1.GroupVersion.String(), Kind: "ProtectionGroup"},
		ObjectMeta: metav1.ObjectMeta{
			Name: "erp", Namespace: "dr", Generation: generation, CreationTimestamp: t0,
			Finalizers: []string{drv1alpha1.ProtectionGroupFinalizer},
		},
		Spec: drv1alpha1.ProtectionGroupSpec{
			ProviderConfigRef: drv1alpha1.ProviderConfigReference{Name: "default"},
			ProtectionGroupID: "0a1b2c3d-0000-4000-8000-000000000000",
			DesiredActiveSite: drv1alpha1.SiteSource,
			FailoverMode:      drv1alpha1.FailoverPlanned,
			Protection:        drv1alpha1.ProtectionEnabled,
			ServerPower:       drv1alpha1.ServerPowerManaged,
			DeletionPolicy:    drv1alpha1.DeletionOrphan,
		},
	}
}

// converged is a group at its desired site, protected, for generation gen.
func converged(gen int64) *drv1alpha1.ProtectionGroup {
	pg := newPG(gen)
	pg.Status = drv1alpha1.ProtectionGroupStatus{
		ObservedGeneration: gen,
		ActiveSite:         drv1alpha1.SiteSource,
		Sites:              &drv1alpha1.SiteRoles{Production: "cn-north-4a", DisasterRecovery: "cn-north-4b"},
		Group: &drv1alpha1.GroupObservation{ID: pg.Spec.ProtectionGroupID, Status: "protected", ProtectedStatus: "started",
			HealthStatus: "normal", PriorityStation: drv1alpha1.SiteSource},
		Replication: &drv1alpha1.ReplicationObservation{Status: "active", Progress: 100},
		Conditions: kconds(gen,
			ready(metav1.ConditionTrue, drv1alpha1.ReconciledReason, "active site source (cn-north-4a) as desired"),
			reconciling(false, "", ""),
			stalledCond(false, "", "")),
	}
	return pg
}

// stalledPG is a group whose last reconcile of generation gen stalled.
func stalledPG(gen int64, reason, message string) *drv1alpha1.ProtectionGroup {
	pg := converged(gen)
	pg.Status.LastOperation = op(drv1alpha1.OperationPlannedFailover, drv1alpha1.StepSDRSAction, "j-1", gen)
	pg.Status.LastOperation.Result = drv1alpha1.OperationFailed
	pg.Status.Conditions = kconds(gen,
		ready(metav1.ConditionFalse, reason, message),
		reconciling(false, "", ""),
		stalledCond(true, reason, message))
	return pg
}

func op(typ drv1alpha1.OperationType, step drv1alpha1.OperationStep, jobID string, gen int64) *drv1alpha1.Operation {
	return &drv1alpha1.Operation{Type: typ, RequestID: "req-1", Step: step, JobID: jobID,
		From: drv1alpha1.SiteSource, To: drv1alpha1.SiteTarget, Generation: gen, StartedAt: t0}
}

func cond(typ string, status metav1.ConditionStatus, reason, message string) metav1.Condition {
	return metav1.Condition{Type: typ, Status: status, Reason: reason, Message: message, LastTransitionTime: t0}
}

func ready(status metav1.ConditionStatus, reason, message string) metav1.Condition {
	return cond(drv1alpha1.ReadyCondition, status, reason, message)
}

func reconciling(on bool, reason, message string) metav1.Condition {
	if !on {
		return cond(drv1alpha1.ReconcilingCondition, metav1.ConditionFalse, drv1alpha1.ReconciledReason, "no operation in progress")
	}
	return cond(drv1alpha1.ReconcilingCondition, metav1.ConditionTrue, reason, message)
}

func stalledCond(on bool, reason, message string) metav1.Condition {
	if !on {
		return cond(drv1alpha1.StalledCondition, metav1.ConditionFalse, drv1alpha1.ReconciledReason, "not stalled")
	}
	return cond(drv1alpha1.StalledCondition, metav1.ConditionTrue, reason, message)
}

func withGen(c metav1.Condition, gen int64) metav1.Condition {
	c.ObservedGeneration = gen
	return c
}

// kconds lists Ready, Paused=False, Protected=True, Reconciling and Stalled
// (the order the operator first writes them), all for generation gen.
func kconds(gen int64, readyC, reconcilingC, stalledC metav1.Condition) []metav1.Condition {
	out := []metav1.Condition{
		readyC,
		cond(drv1alpha1.PausedCondition, metav1.ConditionFalse, drv1alpha1.NotPausedReason, "not paused"),
		cond(drv1alpha1.ProtectedCondition, metav1.ConditionTrue, drv1alpha1.ProtectionStartedReason, "replicating from cn-north-4a to cn-north-4b"),
		reconcilingC,
		stalledC,
	}
	for i := range out {
		out[i].ObservedGeneration = gen
	}
	return out
}

// progressingConds is kconds while the operator works on generation gen:
// Ready=False and Reconciling=True with the same reason and message.
func progressingConds(gen int64, reason, message string) []metav1.Condition {
	return kconds(gen, ready(metav1.ConditionFalse, reason, message), reconciling(true, reason, message), stalledCond(false, "", ""))
}

// pausedConds is kconds with Paused=True, as the operator writes it while
// the pause annotation is set.
func pausedConds(gen int64, readyC metav1.Condition) []metav1.Condition {
	out := kconds(gen, readyC, reconciling(false, "", ""), stalledCond(false, "", ""))
	out[1] = withGen(cond(drv1alpha1.PausedCondition, metav1.ConditionTrue, drv1alpha1.PausedReason,
		`annotation dr.sdrs.io/paused is "true": no new SDRS actions; a job in flight is still followed`), gen)
	return out
}

// object turns a typed object into what a client reads from the API
// server: JSON decoded into unstructured (integers as int64, omitempty
// fields absent).
func object(pg *drv1alpha1.ProtectionGroup) *unstructured.Unstructured {
	raw, err := json.Marshal(pg)
	if err != nil {
		panic(err)
	}
	u := &unstructured.Unstructured{}
	if err := u.UnmarshalJSON(raw); err != nil {
		panic(err)
	}
	if pg.Status.ObservedGeneration == 0 && len(pg.Status.Conditions) == 0 && pg.Status.CurrentOperation == nil {
		delete(u.Object, "status") // a new object has no status at all
	}
	return u
}

func TestStatesAreWellFormed(t *testing.T) {
	// Guard the fixtures themselves: each is a decodable ProtectionGroup
	// whose conditions all carry an observedGeneration, as the operator
	// writes them.
	for _, s := range states() {
		u := s.obj()
		pg := &drv1alpha1.ProtectionGroup{}
		raw, _ := u.MarshalJSON()
		if err := json.Unmarshal(raw, pg); err != nil {
			t.Errorf("%s: not a ProtectionGroup: %v", s.name, err)
			continue
		}
		for _, c := range pg.Status.Conditions {
			if c.ObservedGeneration == 0 {
				t.Errorf("%s: condition %s has no observedGeneration", s.name, c.Type)
			}
		}
		if s.name == "" || s.reason == "" {
			t.Errorf("every state needs a name and a reason: %+v", s)
		}
	}
}
