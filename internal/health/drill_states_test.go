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

// drillStates are ProtectionGroupDrills as the API server returns them at
// each moment of their life, with the health Argo CD (through
// config/argocd/health-drill.lua) and kstatus must compute. The status is
// written the way controllers/drill_controller.go writes it: Ready, Stalled
// and Reconciling set together in the deferred summary, each with
// observedGeneration; Ready is True only while the drill servers are
// available (Available, Verifying).
func drillStates() []state {
	return []state{
		{
			name:   "just created, no status",
			reason: "the operator has not reconciled yet; Argo must wait, not judge",
			obj:    func() *unstructured.Unstructured { return drillObject(newDrill(1)) },
			argo:   health.Progressing, argoMessage: "Waiting for the operator to report status",
			kstatus: kstatus.CurrentStatus,
		},
		{
			name:   "just created, with the status.observedGeneration: 0 default",
			reason: "the drill CRD defaults status to {observedGeneration: 0}, so kstatus says InProgress until the first reconcile",
			obj: func() *unstructured.Unstructured {
				u := drillObject(newDrill(1))
				u.Object["status"] = map[string]any{"observedGeneration": int64(0)}
				return u
			},
			argo: health.Progressing, argoMessage: "Waiting for the operator to report status",
			kstatus: kstatus.InProgressStatus,
		},
		{
			name:   "Pending: the group has no SDRS group yet",
			reason: "a precondition that resolves itself is a wait (Reconciling=True), not a failure",
			obj: func() *unstructured.Unstructured {
				d := newDrill(1)
				d.Status.ObservedGeneration = 1
				d.Status.Phase = drv1alpha1.DrillPending
				d.Status.Conditions = drillProgressing(1, "GroupNotReadyForDrill", "ProtectionGroup web has no SDRS group yet")
				return drillObject(d)
			},
			argo: health.Progressing, argoMessage: "ProtectionGroup web has no SDRS group yet",
			kstatus: kstatus.InProgressStatus,
		},
		{
			name:   "Pending: first full synchronisation not done",
			reason: "SDRS refuses drills before the first full sync; the drill waits for it",
			obj: func() *unstructured.Unstructured {
				d := newDrill(1)
				d.Status.ObservedGeneration = 1
				d.Status.Phase = drv1alpha1.DrillPending
				d.Status.Conditions = drillProgressing(1, drv1alpha1.ReplicationNotSynchronizedReason,
					"the first full synchronisation is not done (42%): drill servers made now might not start; the drill starts when it is")
				return drillObject(d)
			},
			argo: health.Progressing, argoMessage: "the first full synchronisation is not done (42%)",
			kstatus: kstatus.InProgressStatus,
		},
		{
			name:   "Pending: the group does not exist",
			reason: "a drill of a missing group needs a person: Degraded with the Stalled message",
			obj: func() *unstructured.Unstructured {
				d := newDrill(1)
				d.Status.ObservedGeneration = 1
				d.Status.Phase = drv1alpha1.DrillPending
				d.Status.Conditions = drillStalled(1, "ProtectionGroupNotFound", "ProtectionGroup web not found in namespace dr: a drill needs the group it drills")
				return drillObject(d)
			},
			argo: health.Degraded, argoMessage: "ProtectionGroup web not found in namespace dr",
			kstatus: kstatus.FailedStatus,
		},
		{
			name:   "Creating: the create job in flight",
			reason: "SDRS creates the drill servers for minutes; that is progress",
			obj: func() *unstructured.Unstructured {
				d := newDrill(1)
				d.Status.ObservedGeneration = 1
				d.Status.Phase = drv1alpha1.DrillCreating
				d.Status.Drill = &drv1alpha1.DrillObservation{Name: "dr-web-drill-q4-1a2b3c4d5e", VpcAutoCreated: true}
				d.Status.CurrentOperation = drillOp(drv1alpha1.DrillOperationCreate, "job-drill-1")
				d.Status.Conditions = drillProgressing(1, string(drv1alpha1.DrillCreating), "SDRS creates drill dr-web-drill-q4-1a2b3c4d5e (job job-drill-1)")
				return drillObject(d)
			},
			argo: health.Progressing, argoMessage: "CreateDrill in progress: SDRS creates drill dr-web-drill-q4-1a2b3c4d5e",
			kstatus: kstatus.InProgressStatus,
		},
		{
			name:   "Creating: the answer to the create call was lost",
			reason: "the operator looks the drill up by name before anything else; never Degraded while it does",
			obj: func() *unstructured.Unstructured {
				d := newDrill(1)
				d.Status.ObservedGeneration = 1
				d.Status.Phase = drv1alpha1.DrillCreating
				d.Status.Drill = &drv1alpha1.DrillObservation{Name: "dr-web-drill-q4-1a2b3c4d5e", VpcAutoCreated: true}
				d.Status.CurrentOperation = drillOp(drv1alpha1.DrillOperationCreate, "")
				d.Status.Conditions = drillProgressing(1, drv1alpha1.OutcomeUnknownReason,
					"the answer to creating drill dr-web-drill-q4-1a2b3c4d5e was lost; looking it up by name until 2026-11-25T09:05:00Z")
				return drillObject(d)
			},
			argo: health.Progressing, argoMessage: "CreateDrill in progress: the answer to creating drill",
			kstatus: kstatus.InProgressStatus,
		},
		{
			name:   "Creating: the drill found, SDRS status creating",
			reason: "after the job, the operator polls the drill until SDRS says available",
			obj: func() *unstructured.Unstructured {
				d := newDrill(1)
				d.Status.ObservedGeneration = 1
				d.Status.Phase = drv1alpha1.DrillCreating
				d.Status.Drill = &drv1alpha1.DrillObservation{ID: "drill-1", Name: "dr-web-drill-q4-1a2b3c4d5e", Status: "creating"}
				d.Status.Conditions = drillProgressing(1, string(drv1alpha1.DrillCreating), "SDRS creates the drill servers of dr-web-drill-q4-1a2b3c4d5e")
				return drillObject(d)
			},
			argo: health.Progressing, argoMessage: "SDRS creates the drill servers",
			kstatus: kstatus.InProgressStatus,
		},
		{
			name:   "Available",
			reason: "the drill servers run in the drill VPC: Healthy and Current",
			obj:    func() *unstructured.Unstructured { return drillObject(availableDrill(1)) },
			argo:   health.Healthy, argoMessage: "2 drill servers available in VPC vpc-drill until 2026-11-25T11:00:00Z",
			kstatus: kstatus.CurrentStatus,
		},
		{
			name:   "Verifying: the verification Job runs",
			reason: "the drill servers are available while the Job checks them; Ready stays True",
			obj: func() *unstructured.Unstructured {
				d := availableDrill(1)
				d.Status.Phase = drv1alpha1.DrillVerifying
				d.Status.Verification = &drv1alpha1.DrillVerification{JobName: "web-drill-q4-verify", StartedAt: &t0}
				d.Status.Conditions = drillConds(1, withGen(ready(metav1.ConditionTrue, string(drv1alpha1.DrillVerifying), availableMessage), 1),
					reconciling(false, "", ""), stalledCond(false, "", ""))
				return drillObject(d)
			},
			argo: health.Healthy, argoMessage: "2 drill servers available",
			kstatus: kstatus.CurrentStatus,
		},
		{
			name:   "Available, the Job failed the drill",
			reason: "a failed verdict is what the drill found, not a broken object: Healthy, with the verdict in the message",
			obj: func() *unstructured.Unstructured {
				d := availableDrill(1)
				d.Status.Verification = &drv1alpha1.DrillVerification{JobName: "web-drill-q4-verify", Result: drv1alpha1.DrillResultFailed,
					Message: "the Job failed: BackoffLimitExceeded", StartedAt: &t0, FinishedAt: &t0}
				d.Status.Outcome = &drv1alpha1.DrillOutcome{Result: drv1alpha1.DrillResultFailed, Source: "Job", Notes: "the Job failed: BackoffLimitExceeded", At: &t0}
				return drillObject(d)
			},
			argo: health.Healthy, argoMessage: "until 2026-11-25T11:00:00Z; verdict: Failed (Job)",
			kstatus: kstatus.CurrentStatus,
		},
		{
			name:   "Available, judged by a person",
			reason: "spec.outcome is a new generation; once observed the person's verdict shows",
			obj: func() *unstructured.Unstructured {
				d := availableDrill(2)
				d.Spec.Outcome = &drv1alpha1.DrillOutcomeSpec{Result: drv1alpha1.DrillPassed, Notes: "orders placed and read back", By: "jane"}
				d.Status.Outcome = &drv1alpha1.DrillOutcome{Result: drv1alpha1.DrillPassed, Source: "Person", Notes: "orders placed and read back", By: "jane", At: &t0}
				return drillObject(d)
			},
			argo: health.Healthy, argoMessage: "; verdict: Passed (Person)",
			kstatus: kstatus.CurrentStatus,
		},
		{
			name:   "ttl edited, new generation not yet observed",
			reason: "the Ready=True of the old spec must not count until the operator has moved expiresAt",
			obj: func() *unstructured.Unstructured {
				d := availableDrill(1)
				d.Generation = 2
				d.Spec.TTL = &metav1.Duration{Duration: 8 * time.Hour}
				return drillObject(d)
			},
			argo: health.Progressing, argoMessage: "Waiting for the operator to reconcile generation 2",
			kstatus: kstatus.InProgressStatus,
		},
		{
			name:   "released early, new generation not yet observed, old Stalled=True",
			reason: "setting spec.release on a stalled drill must not read as Degraded before the operator looks at it",
			obj: func() *unstructured.Unstructured {
				d := failedDrill(1, "SDRS drill drill-1 is in status error: set spec.release to delete it")
				d.Generation = 2
				d.Spec.Release = true
				return drillObject(d)
			},
			argo: health.Progressing, argoMessage: "Waiting for the operator to reconcile generation 2",
			kstatus: kstatus.InProgressStatus,
		},
		{
			name:   "Releasing: the delete job in flight",
			reason: "SDRS deletes the drill servers; Argo waits",
			obj: func() *unstructured.Unstructured {
				d := availableDrill(2)
				d.Spec.Release = true
				d.Status.Phase = drv1alpha1.DrillReleasing
				d.Status.Drill.Status = "deleting"
				d.Status.CurrentOperation = drillOp(drv1alpha1.DrillOperationDelete, "job-del-1")
				d.Status.Conditions = drillProgressing(2, string(drv1alpha1.DrillReleasing), "SDRS deletes drill drill-1 (job job-del-1)")
				return drillObject(d)
			},
			argo: health.Progressing, argoMessage: "DeleteDrill in progress: SDRS deletes drill drill-1",
			kstatus: kstatus.InProgressStatus,
		},
		{
			name:   "Releasing: error-deleting, retried with backoff past the expiry",
			reason: "a failed delete is retried (Reconciling=True, DrillDeleteFailed): Progressing with the cost warning; the SDRSDrillCleanupOverdue alert pages, not Argo",
			obj: func() *unstructured.Unstructured {
				d := availableDrill(1)
				d.Status.Phase = drv1alpha1.DrillReleasing
				d.Status.Drill.Status = "error-deleting"
				d.Status.CurrentOperation = drillOp(drv1alpha1.DrillOperationDelete, "job-del-3")
				d.Status.CurrentOperation.Attempt = 3
				d.Status.Conditions = drillProgressing(1, "DrillDeleteFailed",
					"SDRS could not delete drill drill-1 (status error-deleting, attempt 3); retrying in 2m0s; the drill expired at 2026-11-25T11:00:00Z and its servers still cost money: check the drill in the SDRS console")
				return drillObject(d)
			},
			argo: health.Progressing, argoMessage: "its servers still cost money",
			kstatus: kstatus.InProgressStatus,
		},
		{
			name:   "Released",
			reason: "the drill is over and its servers are deleted: Healthy for Argo; no Ready condition any more, so kstatus reads it Current",
			obj:    func() *unstructured.Unstructured { return drillObject(releasedDrill(1)) },
			argo:   health.Healthy, argoMessage: "the drill and its servers are deleted; SDRS created drill VPC vpc-drill and keeps it",
			kstatus: kstatus.CurrentStatus,
		},
		{
			name:   "Released with a verdict",
			reason: "the record of a passed drill stays Healthy, verdict in the message",
			obj: func() *unstructured.Unstructured {
				d := releasedDrill(1)
				d.Status.Outcome = &drv1alpha1.DrillOutcome{Result: drv1alpha1.DrillPassed, Source: "Job", Notes: "the Job succeeded", At: &t0}
				return drillObject(d)
			},
			argo: health.Healthy, argoMessage: "keeps it: delete it with the VPC console or API when no drill needs it; verdict: Passed (Job)",
			kstatus: kstatus.CurrentStatus,
		},
		{
			name:   "Released: deleted outside the operator",
			reason: "the SDRS drill vanished (someone deleted it in the console): Stalled, so Degraded",
			obj: func() *unstructured.Unstructured {
				d := releasedDrill(1)
				d.Status.ReleasedAt = nil
				d.Status.Conditions = drillStalled(1, "DrillGoneOutside", "SDRS drill drill-1 is gone: it was deleted outside this operator")
				return drillObject(d)
			},
			argo: health.Degraded, argoMessage: "SDRS drill drill-1 is gone",
			kstatus: kstatus.FailedStatus,
		},
		{
			name:   "Failed: the create job failed",
			reason: "SDRS could not create the drill; a person creates another one: Degraded",
			obj: func() *unstructured.Unstructured {
				return drillObject(failedDrill(1,
					"SDRS could not create the drill: job job-drill-1 failed with SDRS.1922: create drill failed; create another drill when the cause is fixed"))
			},
			argo: health.Degraded, argoMessage: "SDRS could not create the drill: job job-drill-1 failed with SDRS.1922",
			kstatus: kstatus.FailedStatus,
		},
		{
			name:   "Failed, Stalled=True only from an older generation",
			reason: "phase Failed is Degraded by itself, with Ready's message, even without a current Stalled",
			obj: func() *unstructured.Unstructured {
				d := failedDrill(2, "SDRS drill drill-1 is in status error: set spec.release to delete it")
				d.Status.Conditions = drillConds(2,
					withGen(ready(metav1.ConditionFalse, drv1alpha1.JobFailedReason, "SDRS drill drill-1 is in status error: set spec.release to delete it"), 2),
					withGen(reconciling(false, "", ""), 2),
					withGen(stalledCond(true, drv1alpha1.JobFailedReason, "an older failure"), 1))
				return drillObject(d)
			},
			argo: health.Degraded, argoMessage: "SDRS drill drill-1 is in status error: set spec.release to delete it",
			kstatus: kstatus.FailedStatus,
		},
		{
			name:   "Stalled while the delete job is in flight",
			reason: "credentials revoked mid-delete: the job still runs in SDRS, so Argo shows Progressing with the reason; kstatus says Failed",
			obj: func() *unstructured.Unstructured {
				d := availableDrill(2)
				d.Spec.Release = true
				d.Status.Phase = drv1alpha1.DrillReleasing
				d.Status.CurrentOperation = drillOp(drv1alpha1.DrillOperationDelete, "job-del-2")
				d.Status.Conditions = drillStalled(2, drv1alpha1.CredentialsInvalidReason, "SDRS rejected the credentials in sdrs-system/sdrs-credentials")
				return drillObject(d)
			},
			argo: health.Progressing, argoMessage: "DeleteDrill in progress: SDRS rejected the credentials",
			kstatus: kstatus.FailedStatus,
		},
	}
}

// --- builders ----------------------------------------------------------------

const availableMessage = "2 drill servers available in VPC vpc-drill until 2026-11-25T11:00:00Z"

func newDrill(generation int64) *drv1alpha1.ProtectionGroupDrill {
	return &drv1alpha1.ProtectionGroupDrill{
		TypeMeta: metav1.TypeMeta{APIVersion: drv1alpha1.GroupVersion.String(), Kind: "ProtectionGroupDrill"},
		ObjectMeta: metav1.ObjectMeta{
			Name: "web-drill-q4", Namespace: "dr", Generation: generation, CreationTimestamp: t0,
			Finalizers: []string{drv1alpha1.ProtectionGroupFinalizer},
		},
		Spec: drv1alpha1.ProtectionGroupDrillSpec{
			ProtectionGroupRef: drv1alpha1.LocalObjectReference{Name: "web"},
			TTL:                &metav1.Duration{Duration: 2 * time.Hour},
			DeletionPolicy:     drv1alpha1.DeletionDelete,
		},
	}
}

// availableDrill is a drill whose two servers run, for generation gen.
func availableDrill(gen int64) *drv1alpha1.ProtectionGroupDrill {
	d := newDrill(gen)
	exp := metav1.NewTime(t0.Add(2 * time.Hour))
	d.Status = drv1alpha1.ProtectionGroupDrillStatus{
		ObservedGeneration: gen,
		Phase:              drv1alpha1.DrillAvailable,
		Drill: &drv1alpha1.DrillObservation{ID: "drill-1", Name: "dr-web-drill-q4-1a2b3c4d5e", Status: "available",
			VpcID: "vpc-drill", VpcAutoCreated: true},
		Servers: []drv1alpha1.DrillServer{
			{ProtectedInstance: "pi-1", ServerID: "ecs-d1", Name: "web-1-drill", Addresses: []string{"192.168.0.11"}},
			{ProtectedInstance: "pi-2", ServerID: "ecs-d2", Name: "web-2-drill", Addresses: []string{"192.168.0.12"}},
		},
		AvailableAt: &t0,
		ExpiresAt:   &exp,
		Conditions: drillConds(gen, ready(metav1.ConditionTrue, string(drv1alpha1.DrillAvailable), availableMessage),
			reconciling(false, "", ""), stalledCond(false, "", "")),
	}
	return d
}

// releasedDrill is a drill whose SDRS drill was deleted at its TTL.
func releasedDrill(gen int64) *drv1alpha1.ProtectionGroupDrill {
	d := availableDrill(gen)
	rel := metav1.NewTime(t0.Add(2*time.Hour + time.Minute))
	d.Status.Phase, d.Status.ReleasedAt, d.Status.Servers = drv1alpha1.DrillReleased, &rel, nil
	d.Status.Drill.Status = ""
	msg := "the drill and its servers are deleted; SDRS created drill VPC vpc-drill and keeps it: delete it with the VPC console or API when no drill needs it"
	// Released drops Ready (the servers are gone for good); Reconciling
	// carries the message.
	d.Status.Conditions = []metav1.Condition{
		withGen(cond(drv1alpha1.StalledCondition, metav1.ConditionFalse, drv1alpha1.ReconciledReason, msg), gen),
		withGen(cond(drv1alpha1.ReconcilingCondition, metav1.ConditionFalse, drv1alpha1.ReconciledReason, msg), gen),
	}
	return d
}

// failedDrill is a drill SDRS could not create, stalled for generation gen.
func failedDrill(gen int64, message string) *drv1alpha1.ProtectionGroupDrill {
	d := newDrill(gen)
	d.Status = drv1alpha1.ProtectionGroupDrillStatus{
		ObservedGeneration: gen,
		Phase:              drv1alpha1.DrillFailed,
		Drill:              &drv1alpha1.DrillObservation{ID: "drill-1", Name: "dr-web-drill-q4-1a2b3c4d5e", Status: "error"},
		Conditions:         drillStalled(gen, drv1alpha1.JobFailedReason, message),
	}
	return d
}

func drillOp(typ drv1alpha1.DrillOperationType, jobID string) *drv1alpha1.DrillOperation {
	return &drv1alpha1.DrillOperation{Type: typ, Attempt: 1, AttemptedAt: &t0, JobID: jobID, StartedAt: t0}
}

// drillConds lists Ready, Stalled and Reconciling (the order the drill
// controller first writes them), all for generation gen.
func drillConds(gen int64, readyC, reconcilingC, stalledC metav1.Condition) []metav1.Condition {
	out := []metav1.Condition{readyC, stalledC, reconcilingC}
	for i := range out {
		if out[i].ObservedGeneration == 0 {
			out[i].ObservedGeneration = gen
		}
	}
	return out
}

// drillProgressing: the drill controller waits (Reconciling=True) with
// Ready=False carrying the same reason and message.
func drillProgressing(gen int64, reason, message string) []metav1.Condition {
	return drillConds(gen, ready(metav1.ConditionFalse, reason, message), reconciling(true, reason, message), stalledCond(false, "", ""))
}

// drillStalled: a person must act (Stalled=True), Ready=False says the same.
func drillStalled(gen int64, reason, message string) []metav1.Condition {
	return drillConds(gen, ready(metav1.ConditionFalse, reason, message), reconciling(false, "", ""), stalledCond(true, reason, message))
}

// drillObject is object for a drill: what a client reads from the API server.
func drillObject(d *drv1alpha1.ProtectionGroupDrill) *unstructured.Unstructured {
	raw, err := json.Marshal(d)
	if err != nil {
		panic(err)
	}
	u := &unstructured.Unstructured{}
	if err := u.UnmarshalJSON(raw); err != nil {
		panic(err)
	}
	if d.Status.ObservedGeneration == 0 && len(d.Status.Conditions) == 0 && d.Status.Phase == "" {
		delete(u.Object, "status") // a new object has no status at all
	}
	return u
}

func TestDrillStatesAreWellFormed(t *testing.T) {
	// Guard the fixtures: each is a decodable ProtectionGroupDrill whose
	// conditions all carry an observedGeneration, and every phase appears.
	phases := map[drv1alpha1.DrillPhase]bool{}
	for _, s := range drillStates() {
		u := s.obj()
		d := &drv1alpha1.ProtectionGroupDrill{}
		raw, _ := u.MarshalJSON()
		if err := json.Unmarshal(raw, d); err != nil {
			t.Errorf("%s: not a ProtectionGroupDrill: %v", s.name, err)
			continue
		}
		phases[d.Status.Phase] = true
		for _, c := range d.Status.Conditions {
			if c.ObservedGeneration == 0 {
				t.Errorf("%s: condition %s has no observedGeneration", s.name, c.Type)
			}
		}
		if s.name == "" || s.reason == "" {
			t.Errorf("every state needs a name and a reason: %+v", s)
		}
	}
	for _, p := range []drv1alpha1.DrillPhase{drv1alpha1.DrillPending, drv1alpha1.DrillCreating, drv1alpha1.DrillAvailable,
		drv1alpha1.DrillVerifying, drv1alpha1.DrillReleasing, drv1alpha1.DrillReleased, drv1alpha1.DrillFailed} {
		if !phases[p] {
			t.Errorf("no state in phase %s", p)
		}
	}
}
