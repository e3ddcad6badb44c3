package controllers

import (
	"context"
	"fmt"
	"strings"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	drv1alpha1 "github.com/sdrs-operator/sdrs-operator/api/v1alpha1"
)

// defaultDrillInterval is SDRS's own "no drill in 3 months".
const defaultDrillInterval = 90 * 24 * time.Hour

// reconcileDrills reads the group's ProtectionGroupDrills from the cache.
// It never stops the phases: without them the drill status stays as it was.
func (r *ProtectionGroupReconciler) reconcileDrills(ctx context.Context, s *scope) error {
	var list drv1alpha1.ProtectionGroupDrillList
	if err := r.List(ctx, &list, client.InNamespace(s.pg.Namespace)); err != nil {
		ctrl.LoggerFrom(ctx).Info("cannot list drills", "error", err.Error())
		return nil
	}
	s.drills = []drv1alpha1.ProtectionGroupDrill{}
	for _, d := range list.Items {
		if d.Spec.ProtectionGroupRef.Name == s.pg.Name {
			s.drills = append(s.drills, d)
		}
	}
	return nil
}

// liveDrills names the group's drills whose servers exist or may exist.
func liveDrills(drills []drv1alpha1.ProtectionGroupDrill) []string {
	var out []string
	for _, d := range drills {
		switch d.Status.Phase {
		case drv1alpha1.DrillReleased, drv1alpha1.DrillFailed, drv1alpha1.DrillPending, "":
			continue
		}
		out = append(out, d.Name)
	}
	return out
}

// setDrillStatus writes lastDrill, lastPassedDrill and DrillUpToDate, and
// counts a drill as the group's first swap (the login rules do).
func setDrillStatus(pg *drv1alpha1.ProtectionGroup, drills []drv1alpha1.ProtectionGroupDrill, now time.Time) {
	if drills == nil {
		return
	}
	var last, passed *drv1alpha1.DrillRecord
	for _, d := range drills {
		// A verdict changed to Failed takes the drill off lastPassedDrill.
		if p := pg.Status.LastPassedDrill; p != nil && p.Name == d.Name && (d.Status.Outcome == nil || d.Status.Outcome.Result != drv1alpha1.DrillPassed) {
			pg.Status.LastPassedDrill = nil
		}
	}
	for _, d := range drills {
		at := d.Status.AvailableAt
		if at == nil {
			continue
		}
		rec := &drv1alpha1.DrillRecord{Name: d.Name, At: at.DeepCopy()}
		if o := d.Status.Outcome; o != nil {
			rec.Result = o.Result
		}
		if last == nil || at.After(last.At.Time) {
			last = rec
		}
		if rec.Result == drv1alpha1.DrillPassed && (passed == nil || at.After(passed.At.Time)) {
			passed = rec
		}
		if fs := pg.Status.FirstSwap; fs != nil && fs.State != drv1alpha1.FirstSwapDone {
			fs.State, fs.At = drv1alpha1.FirstSwapDone, at.DeepCopy()
		}
	}
	// A drill deleted from Kubernetes leaves its record behind.
	if last != nil {
		pg.Status.LastDrill = last
	}
	if passed != nil {
		pg.Status.LastPassedDrill = passed
	}
	interval := defaultDrillInterval
	if pg.Spec.DrillInterval != nil && pg.Spec.DrillInterval.Duration > 0 {
		interval = pg.Spec.DrillInterval.Duration
	}
	p := pg.Status.LastPassedDrill
	switch {
	case p == nil || p.At == nil:
		setCondition(pg, drv1alpha1.DrillUpToDateCondition, metav1.ConditionFalse, drv1alpha1.NoDrillPassedReason,
			fmt.Sprintf("no DR drill of this group has passed; run one: kubectl sdrs drill start %s", pg.Name), now)
	case now.Sub(p.At.Time) > interval:
		setCondition(pg, drv1alpha1.DrillUpToDateCondition, metav1.ConditionFalse, drv1alpha1.DrillOverdueReason,
			fmt.Sprintf("the last passed DR drill (%s, %s) is older than %s; run one: kubectl sdrs drill start %s",
				p.Name, p.At.UTC().Format(time.RFC3339), interval, pg.Name), now)
	default:
		setCondition(pg, drv1alpha1.DrillUpToDateCondition, metav1.ConditionTrue, drv1alpha1.DrillPassedRecentlyReason,
			fmt.Sprintf("DR drill %s passed at %s; the next is due by %s", p.Name, p.At.UTC().Format(time.RFC3339),
				p.At.Add(interval).UTC().Format(time.RFC3339)), now)
	}
}

// checkDrillsBeforeMove holds a planned failover while a drill of the group
// is live: SDRS documents no planned failover during a drill, and a planned
// failover is a choice that can wait. A forced failover, an emergency, is
// not held; SDRS refuses it if it cannot run.
func checkDrillsBeforeMove(s *scope, op drv1alpha1.OperationType) error {
	if op != drv1alpha1.OperationPlannedFailover {
		return nil
	}
	if live := liveDrills(s.drills); len(live) > 0 {
		return waiting(drillInProgressReason, busyPoll,
			"a planned failover waits while DR drills of this group run (%s): end them (kubectl sdrs drill end NAME) or use a forced failover in an emergency",
			strings.Join(live, ", "))
	}
	return nil
}

// drillInProgressReason: a planned failover waits for the group's drills.
const drillInProgressReason = "DrillInProgress"

func (r *ProtectionGroupReconciler) groupOfDrill(_ context.Context, o client.Object) []reconcile.Request {
	d := o.(*drv1alpha1.ProtectionGroupDrill)
	return []reconcile.Request{{NamespacedName: client.ObjectKey{Namespace: d.Namespace, Name: d.Spec.ProtectionGroupRef.Name}}}
}
