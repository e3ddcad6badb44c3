package controllers

import (
	"context"
	"fmt"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"

	drv1alpha1 "github.com/sdrs-operator/sdrs-operator/api/v1alpha1"
)

// Labels on the drills a drill run creates.
const (
	planLabel = "dr.sdrs.io/plan"
	runLabel  = "dr.sdrs.io/run"
)

// defaultMemberTimeout applies when a wave has none (the CRD defaults it).
const defaultMemberTimeout = time.Hour

// classify says what a member is in the run now. The stamp the plan put on
// the member, the member's own conditions and the wave's done list are all
// it needs, so a restarted controller classifies exactly as before.
func (r *DRPlanReconciler) classify(s *planScope, w *drv1alpha1.PlanWave, ws *drv1alpha1.PlanWaveStatus, pg *drv1alpha1.ProtectionGroup) memberView {
	run := s.plan.Status.Run
	v := memberView{pg: pg}
	timeout := defaultMemberTimeout
	if w.MemberTimeout != nil {
		timeout = w.MemberTimeout.Duration
	}
	switch {
	case containsString(ws.Done, pg.Name):
		v.state = memberSucceeded
	case r.decided(s, drv1alpha1.DecisionSkip, pg.Name):
		v.state = memberSkipped
	case run.Mode == drv1alpha1.PlanModeDrill:
		r.classifyDrill(s, &v, timeout)
	default:
		r.classifyMove(s, &v, timeout)
	}
	return v
}

func (r *DRPlanReconciler) classifyMove(s *planScope, v *memberView, timeout time.Duration) {
	run, pg := s.plan.Status.Run, v.pg
	plan, id, _, stamped := parseStamp(pg.Annotations[drv1alpha1.PlanRunAnnotation])
	if stamped && plan == s.plan.Name && id == run.ID {
		at := movedAt(pg)
		switch c := memberStall(pg, at, s.now); {
		case memberDone(pg, run.ToSite):
			v.state = memberSucceeded
		case pg.Spec.DesiredActiveSite != run.ToSite:
			v.state, v.reason = memberFailed, drv1alpha1.MemberDivergedReason
			v.message = fmt.Sprintf("someone set desiredActiveSite to %s after the plan moved it to %s; the plan does not move it back (a Retry decision does)", pg.Spec.DesiredActiveSite, run.ToSite)
		case c != nil:
			v.state, v.reason, v.message = memberFailed, c.Reason, c.Message
		case !at.IsZero() && s.now.Sub(at) > timeout:
			v.state, v.reason = memberFailed, drv1alpha1.MemberTimeoutReason
			v.message = fmt.Sprintf("not Ready at %s %s after the plan moved it (memberTimeout %s): %s", run.ToSite, s.now.Sub(at).Truncate(time.Second), timeout, readyText(pg))
		default:
			v.state = memberInProgress
			if !at.IsZero() {
				s.due(at.Add(timeout).Sub(s.now) + time.Second)
			}
		}
		return
	}
	switch {
	case stamped && plan != s.plan.Name && s.claimedBy(plan, id):
		v.state, v.reason, v.message = memberClaimedElsewhere, drv1alpha1.MemberClaimedElsewhereReason, "plan "+plan+" run "+id
	case memberDone(pg, run.ToSite):
		v.state = memberSkipped // already there: not touched
	default:
		v.state = memberPending
	}
}

func (r *DRPlanReconciler) classifyDrill(s *planScope, v *memberView, timeout time.Duration) {
	d := s.drills[drillObjectName(s.plan.Name, s.plan.Status.Run.ID, v.pg.Name)]
	if d == nil {
		v.state = memberPending
		return
	}
	v.drill = d
	ready := meta.FindStatusCondition(d.Status.Conditions, drv1alpha1.ReadyCondition)
	stall := meta.FindStatusCondition(d.Status.Conditions, drv1alpha1.StalledCondition)
	switch {
	case !d.DeletionTimestamp.IsZero():
		v.state = memberInProgress // a retried drill being released; created again once gone
	case ready != nil && ready.Status == metav1.ConditionTrue:
		v.state = memberSucceeded
	case d.Status.Phase == drv1alpha1.DrillFailed:
		v.state, v.reason, v.message = memberFailed, string(drv1alpha1.DrillFailed), fmt.Sprintf("drill %s failed: %s", d.Name, readyMessageOf(d.Status.Conditions))
	case stall != nil && stall.Status == metav1.ConditionTrue:
		v.state, v.reason, v.message = memberFailed, stall.Reason, fmt.Sprintf("drill %s: %s", d.Name, stall.Message)
	case s.now.Sub(d.CreationTimestamp.Time) > timeout:
		v.state, v.reason = memberFailed, drv1alpha1.MemberTimeoutReason
		v.message = fmt.Sprintf("drill %s not available %s after it was created (memberTimeout %s)", d.Name, s.now.Sub(d.CreationTimestamp.Time).Truncate(time.Second), timeout)
	default:
		v.state = memberInProgress
		s.due(d.CreationTimestamp.Add(timeout).Sub(s.now) + time.Second)
	}
}

func readyText(pg *drv1alpha1.ProtectionGroup) string {
	if c := meta.FindStatusCondition(pg.Status.Conditions, drv1alpha1.ReadyCondition); c != nil {
		return c.Reason + ": " + c.Message
	}
	return "no Ready condition yet"
}

func readyMessageOf(conds []metav1.Condition) string {
	if c := meta.FindStatusCondition(conds, drv1alpha1.ReadyCondition); c != nil {
		return c.Message
	}
	return "no detail"
}

func containsString(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// decideFailedMembers applies Skip and Retry decisions to failed members.
func (r *DRPlanReconciler) decideFailedMembers(ctx context.Context, s *planScope, w *drv1alpha1.PlanWave, ws *drv1alpha1.PlanWaveStatus) error {
	for i := range s.views {
		v := &s.views[i]
		if v.state != memberFailed {
			continue
		}
		if r.takeDecision(s, drv1alpha1.DecisionSkip, "", v.pg.Name) != nil {
			v.state = memberSkipped
			continue
		}
		if r.takeDecision(s, drv1alpha1.DecisionRetry, "", v.pg.Name) == nil {
			continue
		}
		if v.drill != nil {
			// A drill is one SDRS object: retrying it means releasing it
			// and creating it again once it is gone.
			if err := r.Delete(ctx, v.drill); client.IgnoreNotFound(err) != nil {
				return fmt.Errorf("cannot delete drill %s to retry it: %w", v.drill.Name, err)
			}
			v.state = memberInProgress
			continue
		}
		if err := r.moveMember(ctx, s, v.pg, ws.Name, true); err != nil {
			return err
		}
		v.state = memberInProgress
	}
	return nil
}

// startMembers moves pending members while fewer than maxConcurrent are
// in progress.
func (r *DRPlanReconciler) startMembers(ctx context.Context, s *planScope, w *drv1alpha1.PlanWave, ws *drv1alpha1.PlanWaveStatus) error {
	if s.plan.Spec.Suspend {
		return nil
	}
	c := countStates(s.views)
	room := concurrency(w, int(c.Total)) - int(c.InProgress)
	var moved []string
	for i := range s.views {
		v := &s.views[i]
		if room <= 0 {
			break
		}
		if v.state != memberPending {
			continue
		}
		var err error
		if s.plan.Status.Run.Mode == drv1alpha1.PlanModeDrill {
			err = r.createDrill(ctx, s, v.pg)
		} else {
			err = r.moveMember(ctx, s, v.pg, ws.Name, false)
		}
		if apierrors.IsConflict(err) || apierrors.IsNotFound(err) {
			// The member changed since the cache showed it (another plan
			// may have claimed it): look again soon, move nothing on a
			// stale copy.
			s.due(time.Second)
			break
		}
		if err != nil {
			return err
		}
		v.state = memberInProgress
		moved = append(moved, v.pg.Name)
		room--
	}
	if len(moved) > 0 {
		verb := drv1alpha1.MemberMovedReason
		if s.plan.Status.Run.Mode == drv1alpha1.PlanModeDrill {
			verb = drv1alpha1.MemberDrillCreatedReason
		}
		r.event(s.plan, false, verb, "run %s, wave %s: %d members started: %s", s.plan.Status.Run.ID, ws.Name, len(moved), capList(moved, 10))
	}
	return nil
}

// moveMember sets the member's site, with the run stamp, in one
// server-side apply under the plan's field manager. The apply carries the
// member's resourceVersion, so it fails instead of acting on a copy older
// than the server's: a member is never moved twice, nor claimed by two
// runs. It forces ownership of the fields it sets: the member's site was
// written by whoever created it (kubectl, Argo CD), and moving it is what
// the plan was asked to do; after that the plan never applies it again in
// the run, so a later change by someone else is reported, not fought.
func (r *DRPlanReconciler) moveMember(ctx context.Context, s *planScope, pg *drv1alpha1.ProtectionGroup, wave string, retry bool) error {
	run := s.plan.Status.Run
	annotations := map[string]any{
		drv1alpha1.PlanRunAnnotation:     runStamp(s.plan.Name, run.ID, wave),
		drv1alpha1.PlanMovedAtAnnotation: s.now.UTC().Format(time.RFC3339),
	}
	if retry {
		annotations[drv1alpha1.RetryAnnotation] = fmt.Sprintf("%s/%s/%d", s.plan.Name, run.ID, len(run.Decisions))
	}
	spec := map[string]any{"desiredActiveSite": string(run.ToSite)}
	if m := s.plan.Spec.FailoverMode; m != "" {
		spec["failoverMode"], spec["allowDataLoss"] = string(m), s.plan.Spec.AllowDataLoss
	}
	u := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": drv1alpha1.GroupVersion.String(),
		"kind":       "ProtectionGroup",
		"metadata": map[string]any{
			"name": pg.Name, "namespace": pg.Namespace, "resourceVersion": pg.ResourceVersion, "annotations": annotations,
		},
		"spec": spec,
	}}
	if err := r.Apply(ctx, client.ApplyConfigurationFromUnstructured(u), client.FieldOwner(drv1alpha1.PlanFieldManager), client.ForceOwnership); err != nil {
		return fmt.Errorf("cannot move member %s to %s: %w", pg.Name, run.ToSite, err)
	}
	r.expect.wrote(client.ObjectKeyFromObject(pg), u.GetResourceVersion(), s.now)
	ctrl.LoggerFrom(ctx).Info("member moved", "run", run.ID, "wave", wave, "group", pg.Name, "toSite", run.ToSite, "retry", retry)
	return nil
}

// createDrill creates the member's ProtectionGroupDrill under a name
// derived from the plan, run and member, so a restart finds it instead of
// creating a second one; the drill controller does the SDRS work.
func (r *DRPlanReconciler) createDrill(ctx context.Context, s *planScope, pg *drv1alpha1.ProtectionGroup) error {
	run, spec := s.plan.Status.Run, s.plan.Spec.Drill
	d := &drv1alpha1.ProtectionGroupDrill{
		ObjectMeta: metav1.ObjectMeta{
			Name: drillObjectName(s.plan.Name, run.ID, pg.Name), Namespace: pg.Namespace,
			Labels: map[string]string{planLabel: s.plan.Name, runLabel: run.ID},
		},
		Spec: drv1alpha1.ProtectionGroupDrillSpec{ProtectionGroupRef: drv1alpha1.LocalObjectReference{Name: pg.Name}},
	}
	if spec != nil {
		d.Spec.TTL, d.Spec.DrillVpcID = spec.TTL, spec.DrillVpcID
	}
	if err := controllerutil.SetControllerReference(s.plan, d, r.Scheme()); err != nil {
		return err
	}
	if err := r.Create(ctx, d); err != nil && !apierrors.IsAlreadyExists(err) {
		return fmt.Errorf("cannot create drill %s for member %s: %w", d.Name, pg.Name, err)
	}
	s.drills[d.Name] = d
	ctrl.LoggerFrom(ctx).Info("member drill created", "run", run.ID, "group", pg.Name, "drill", d.Name)
	return nil
}

// decided says whether the run used a decision of this action for member.
func (r *DRPlanReconciler) decided(s *planScope, action drv1alpha1.DecisionAction, member string) bool {
	for _, d := range s.plan.Status.Run.Decisions {
		if d.Action == action && d.Member == member && d.Step == "" {
			return true
		}
	}
	return false
}

// takeDecision uses the next unused decision of the current run for a
// step or member (both empty: the run). Identical entries are used one by
// one: the run's record counts how many were used.
func (r *DRPlanReconciler) takeDecision(s *planScope, action drv1alpha1.DecisionAction, step, member string) *drv1alpha1.PlanDecision {
	run := s.plan.Status.Run
	if run == nil {
		return nil
	}
	used := map[drv1alpha1.AppliedDecision]int{}
	for _, a := range run.Decisions {
		used[drv1alpha1.AppliedDecision{Step: a.Step, Member: a.Member, Action: a.Action, Note: a.Note}]++
	}
	for i := range s.plan.Spec.Decisions {
		d := &s.plan.Spec.Decisions[i]
		if d.Run != run.ID || d.Action != action || d.Step != step || d.Member != member {
			continue
		}
		k := drv1alpha1.AppliedDecision{Step: d.Step, Member: d.Member, Action: d.Action, Note: d.Note}
		if used[k] > 0 {
			used[k]--
			continue
		}
		run.Decisions = append(run.Decisions, drv1alpha1.AppliedDecision{Step: step, Member: member, Action: action, Note: d.Note, At: metav1.NewTime(s.now)})
		r.event(s.plan, false, drv1alpha1.DecisionAppliedReason, "run %s: %s %s (%s)", run.ID, action, orDefault(step+member, "the run"), orDefault(d.Note, "no note"))
		return d
	}
	return nil
}
