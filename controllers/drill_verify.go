package controllers

import (
	"context"
	"encoding/json"
	"fmt"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	drv1alpha1 "github.com/sdrs-operator/sdrs-operator/api/v1alpha1"
)

// Environment the verification Job gets.
const (
	envDrillID      = "SDRS_DRILL_ID"
	envDrillName    = "SDRS_DRILL_NAME"
	envDrillVpc     = "SDRS_DRILL_VPC_ID"
	envDrillServers = "SDRS_DRILL_SERVERS"
)

// verify runs the verification Job once the drill is available, and reads
// its result. The Job's name is derived from the drill's, so a restart
// finds it instead of creating a second one.
func (r *DrillReconciler) verify(ctx context.Context, s *drillScope) error {
	d, st := s.d, &s.d.Status
	if d.Spec.Verify == nil || st.AvailableAt == nil {
		return nil
	}
	if v := st.Verification; v != nil && v.Result != "" {
		return nil
	}
	name := verifyJobName(d)
	job := &batchv1.Job{}
	err := r.Get(ctx, client.ObjectKey{Namespace: d.Namespace, Name: name}, job)
	if apierrors.IsNotFound(err) {
		job, err = r.newVerifyJob(d, name)
		if err != nil {
			return err
		}
		if err := r.Create(ctx, job); err != nil && !apierrors.IsAlreadyExists(err) {
			return fmt.Errorf("cannot create verification Job %s: %w", name, err)
		}
		now := metav1.NewTime(r.Clock())
		st.Verification = &drv1alpha1.DrillVerification{JobName: name, StartedAt: &now}
		st.Phase = drv1alpha1.DrillVerifying
		return nil
	}
	if err != nil {
		return fmt.Errorf("cannot read verification Job %s: %w", name, err)
	}
	if st.Verification == nil {
		st.Verification = &drv1alpha1.DrillVerification{JobName: name, StartedAt: &job.CreationTimestamp}
	}
	result, msg := jobResult(job)
	if t := d.Spec.Verify.Timeout; result == "" && t != nil && t.Duration > 0 && r.Clock().Sub(st.Verification.StartedAt.Time) > t.Duration {
		result, msg = drv1alpha1.DrillResultFailed, fmt.Sprintf("the Job ran longer than %s", t.Duration)
	}
	if result == "" {
		st.Phase = drv1alpha1.DrillVerifying
		return nil
	}
	now := metav1.NewTime(r.Clock())
	st.Verification.Result, st.Verification.Message, st.Verification.FinishedAt = result, msg, &now
	st.Phase = drv1alpha1.DrillAvailable
	if r.Recorder != nil {
		typ := corev1.EventTypeNormal
		if result != drv1alpha1.DrillPassed {
			typ = corev1.EventTypeWarning
		}
		r.Recorder.Eventf(d, nil, typ, "Verification"+string(result), "Verify", "verification Job %s: %s", name, msg)
	}
	return nil
}

// jobResult reads a Job's end from its conditions.
func jobResult(job *batchv1.Job) (drv1alpha1.DrillResult, string) {
	for _, c := range job.Status.Conditions {
		if c.Status != corev1.ConditionTrue {
			continue
		}
		switch c.Type {
		case batchv1.JobComplete, batchv1.JobSuccessCriteriaMet:
			return drv1alpha1.DrillPassed, "the Job succeeded"
		case batchv1.JobFailed, batchv1.JobFailureTarget:
			return drv1alpha1.DrillResultFailed, fmt.Sprintf("the Job failed: %s %s", c.Reason, c.Message)
		}
	}
	return "", ""
}

// verifyJobName is the drill's Job name, within the 63 characters a Job's
// name may have (its pods' labels carry it).
func verifyJobName(d *drv1alpha1.ProtectionGroupDrill) string {
	base := d.Name
	if len(base) > 56 {
		base = base[:56]
	}
	return base + "-verify"
}

// newVerifyJob builds the Job from the template, owned by the drill, with
// the drill's facts in the environment of every container.
func (r *DrillReconciler) newVerifyJob(d *drv1alpha1.ProtectionGroupDrill, name string) (*batchv1.Job, error) {
	servers, err := json.Marshal(d.Status.Servers)
	if err != nil {
		return nil, fmt.Errorf("cannot encode drill servers: %w", err)
	}
	env := []corev1.EnvVar{
		{Name: envDrillID, Value: d.Status.Drill.ID},
		{Name: envDrillName, Value: d.Status.Drill.Name},
		{Name: envDrillVpc, Value: d.Status.Drill.VpcID},
		{Name: envDrillServers, Value: string(servers)},
	}
	return jobFromTemplate(r.Scheme(), d, &d.Spec.Verify.Template, name, map[string]string{"dr.sdrs.io/drill": d.Name}, env)
}

// judge records the verdict: a person's (spec.outcome) over the Job's.
func (r *DrillReconciler) judge(_ context.Context, s *drillScope) error {
	d, st := s.d, &s.d.Status
	var next *drv1alpha1.DrillOutcome
	switch {
	case d.Spec.Outcome != nil:
		next = &drv1alpha1.DrillOutcome{Result: d.Spec.Outcome.Result, Source: "Person", Notes: d.Spec.Outcome.Notes, By: d.Spec.Outcome.By}
	case st.Verification != nil && st.Verification.Result != "":
		next = &drv1alpha1.DrillOutcome{Result: st.Verification.Result, Source: "Job", Notes: st.Verification.Message}
	default:
		return nil
	}
	if cur := st.Outcome; cur != nil && cur.Result == next.Result && cur.Source == next.Source && cur.Notes == next.Notes && cur.By == next.By {
		return nil
	}
	now := metav1.NewTime(r.Clock())
	next.At = &now
	st.Outcome = next
	return nil
}
