package controllers

import (
	"context"
	"fmt"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	drv1alpha1 "github.com/sdrs-operator/sdrs-operator/api/v1alpha1"
	"github.com/sdrs-operator/sdrs-operator/internal/sdrs"
)

// DefaultMaxDrillTTL bounds spec.ttl unless the manager says otherwise:
// drill servers cost money, and a drill nobody ends is the anchors' worst
// complaint.
const DefaultMaxDrillTTL = 72 * time.Hour

// indexDrillGroup indexes drills by the ProtectionGroup they drill.
const indexDrillGroup = "spec.protectionGroupRef.name"

// DrillReconciler runs ProtectionGroupDrills: it creates the SDRS drill
// exactly once, reports its servers, runs the verification Job, and
// deletes the drill at its TTL, on release, or with the object.
type DrillReconciler struct {
	client.Client
	Connector sdrs.Connector
	Recorder  EventRecorder
	// Clock is replaceable in tests; nil is the real clock.
	Clock func() time.Time
	// MaxTTL bounds spec.ttl; 0 means DefaultMaxDrillTTL.
	MaxTTL time.Duration
	// NotStartedGrace is how long a create whose answer never came may
	// stay invisible before it counts as not taken (as for groups).
	NotStartedGrace time.Duration
	// Metrics records drill phases and failed cleanups; nil records nothing.
	Metrics DrillMetrics
}

// DrillMetrics is what the drill controller publishes.
type DrillMetrics interface {
	SetDrill(namespace, name, phase string, age time.Duration, cleanupOverdue bool)
	ForgetDrill(namespace, name string)
}

type noopDrillMetrics struct{}

func (noopDrillMetrics) SetDrill(string, string, string, time.Duration, bool) {}
func (noopDrillMetrics) ForgetDrill(string, string)                           {}

func (r *DrillReconciler) setDefaults() {
	if r.Clock == nil {
		r.Clock = time.Now
	}
	if r.MaxTTL <= 0 {
		r.MaxTTL = DefaultMaxDrillTTL
	}
	if r.NotStartedGrace <= 0 {
		r.NotStartedGrace = DefaultNotStartedGrace
	}
	if r.Metrics == nil {
		r.Metrics = noopDrillMetrics{}
	}
}

// drillScope carries what one reconcile of a drill learned.
type drillScope struct {
	d      *drv1alpha1.ProtectionGroupDrill
	pg     *drv1alpha1.ProtectionGroup
	client sdrs.Client
	group  *sdrs.ProtectionGroup
	// initialReady is the Ready reason when the reconcile began.
	initialReady string
	// gone: the object's finalizer was removed; nothing more to write.
	gone bool
	// releasing: this reconcile ends the drill (release, TTL, deletion).
	releasing bool
}

// +kubebuilder:rbac:groups=dr.sdrs.io,resources=protectiongroupdrills,verbs=get;list;watch;update;patch
// +kubebuilder:rbac:groups=dr.sdrs.io,resources=protectiongroupdrills/status,verbs=get;update;patch
// +kubebuilder:rbac:groups=dr.sdrs.io,resources=protectiongroupdrills/finalizers,verbs=update
// +kubebuilder:rbac:groups=batch,resources=jobs,verbs=get;list;watch;create

// Reconcile is the drill's skeleton: get, finalizer, scope, deferred
// summary and one status write, then the release path or the phases.
func (r *DrillReconciler) Reconcile(ctx context.Context, req ctrl.Request) (res ctrl.Result, reterr error) {
	d := &drv1alpha1.ProtectionGroupDrill{}
	if err := r.Get(ctx, req.NamespacedName, d); err != nil {
		if apierrors.IsNotFound(err) {
			r.Metrics.ForgetDrill(req.Namespace, req.Name)
		}
		return ctrl.Result{}, client.IgnoreNotFound(err)
	}
	ctx = ctrl.LoggerInto(ctx, ctrl.LoggerFrom(ctx).WithValues("drill", req.NamespacedName.String(), "group", d.Spec.ProtectionGroupRef.Name))
	if d.DeletionTimestamp.IsZero() && !controllerutil.ContainsFinalizer(d, drv1alpha1.ProtectionGroupFinalizer) {
		controllerutil.AddFinalizer(d, drv1alpha1.ProtectionGroupFinalizer)
		if err := r.Update(ctx, d); err != nil {
			return ctrl.Result{}, client.IgnoreNotFound(err)
		}
	}
	initial, _ := drillState(d)
	s := &drillScope{d: d, initialReady: initial}
	defer func() { res, reterr = r.summarize(ctx, s, reterr) }()

	if !d.DeletionTimestamp.IsZero() && (d.Spec.DeletionPolicy == drv1alpha1.DeletionOrphan || d.Status.Phase == drv1alpha1.DrillReleased) {
		return ctrl.Result{}, r.removeFinalizer(ctx, s)
	}
	if d.Status.Phase == drv1alpha1.DrillReleased {
		// Nothing is left in SDRS; a verdict given afterwards is still
		// recorded, and the group may be gone.
		return ctrl.Result{}, r.judge(ctx, s)
	}
	if err := r.connect(ctx, s); err != nil {
		return ctrl.Result{}, err
	}
	if s.releasing = r.releasing(s) || groupDeleting(s.pg); s.releasing {
		return ctrl.Result{}, runPhases(ctx, s, r.judge, r.resolveCreate, r.release)
	}
	return ctrl.Result{}, runPhases(ctx, s, r.resolveCreate, r.create, r.observeDrill, r.verify, r.judge)
}

// releasing: the drill is to be deleted in SDRS now.
func (r *DrillReconciler) releasing(s *drillScope) bool {
	d := s.d
	if !d.DeletionTimestamp.IsZero() || d.Spec.Release {
		return true
	}
	return d.Status.ExpiresAt != nil && !r.Clock().Before(d.Status.ExpiresAt.Time)
}

// groupDeleting: the drilled group is being deleted with its SDRS group,
// which SDRS refuses while drills exist (SDRS.1003): its drills go first.
func groupDeleting(pg *drv1alpha1.ProtectionGroup) bool {
	return pg != nil && !pg.DeletionTimestamp.IsZero() && pg.Spec.DeletionPolicy == drv1alpha1.DeletionDelete
}

// summarize turns the reconcile's error into conditions, an Event on each
// transition, the requeue, and one resourceVersion-checked status write.
func (r *DrillReconciler) summarize(ctx context.Context, s *drillScope, err error) (ctrl.Result, error) {
	if s.gone {
		return ctrl.Result{}, err
	}
	o := outcomeOf(err)
	if o.conflict {
		return ctrl.Result{RequeueAfter: time.Second}, nil
	}
	d, now := s.d, r.Clock()
	setDrillConditions(d, o, now)
	if reason, msg := drillState(d); reason != s.initialReady && r.Recorder != nil {
		typ := corev1.EventTypeNormal
		if o.warning {
			typ = corev1.EventTypeWarning
		}
		r.Recorder.Eventf(d, nil, typ, reason, "Drill", "%s", msg)
	}
	if o.retErr == nil {
		d.Status.ObservedGeneration = d.Generation
	}
	r.publish(d, now)
	if werr := r.Status().Update(ctx, d); werr != nil {
		if apierrors.IsConflict(werr) || apierrors.IsNotFound(werr) {
			return ctrl.Result{RequeueAfter: time.Second}, nil
		}
		return ctrl.Result{}, fmt.Errorf("cannot write drill status: %w", werr)
	}
	if o.retErr != nil {
		return ctrl.Result{}, o.retErr
	}
	if o.requeue > 0 {
		return ctrl.Result{RequeueAfter: o.requeue}, nil
	}
	if exp := d.Status.ExpiresAt; exp != nil && d.Status.Phase != drv1alpha1.DrillReleased {
		return ctrl.Result{RequeueAfter: max(exp.Sub(now), time.Second)}, nil
	}
	return ctrl.Result{}, nil
}

func (r *DrillReconciler) publish(d *drv1alpha1.ProtectionGroupDrill, now time.Time) {
	var age time.Duration
	if d.Status.AvailableAt != nil {
		age = now.Sub(d.Status.AvailableAt.Time)
	}
	overdue := d.Status.ExpiresAt != nil && d.Status.Phase != drv1alpha1.DrillReleased &&
		now.After(d.Status.ExpiresAt.Add(cleanupGrace))
	r.Metrics.SetDrill(d.Namespace, d.Name, string(d.Status.Phase), age, overdue)
	publishDrillExpiry(r.Metrics, d)
}

// cleanupGrace is how long past its expiry a drill may take to be deleted
// before it counts as a failed cleanup (the example alert pages on it).
const cleanupGrace = 15 * time.Minute

// setDrillConditions sets Ready (True while the drill servers are
// available), Reconciling and Stalled from the outcome and the phase.
func setDrillConditions(d *drv1alpha1.ProtectionGroupDrill, o outcome, now time.Time) {
	set := func(typ string, status metav1.ConditionStatus, reason, msg string) {
		meta.SetStatusCondition(&d.Status.Conditions, metav1.Condition{Type: typ, Status: status, Reason: reason,
			Message: truncate(msg, 1024), ObservedGeneration: d.Generation, LastTransitionTime: metav1.NewTime(now)})
	}
	phase := d.Status.Phase
	available := phase == drv1alpha1.DrillAvailable || phase == drv1alpha1.DrillVerifying
	reason, msg := o.reason, o.message
	if reason == "" {
		reason, msg = string(phase), drillPhaseMessage(d)
	}
	readyStatus := metav1.ConditionFalse
	if available && !o.stalled {
		readyStatus, reason, msg = metav1.ConditionTrue, string(phase), drillPhaseMessage(d)
	}
	set(drv1alpha1.ReadyCondition, readyStatus, reason, msg)
	set(drv1alpha1.StalledCondition, boolStatus(o.stalled), orReason(o.stalled, reason), msg)
	set(drv1alpha1.ReconcilingCondition, boolStatus(o.reconciling), orReason(o.reconciling, reason), msg)
	if phase == drv1alpha1.DrillReleased && !o.stalled && !o.reconciling {
		// Ready says whether the drill servers are available; once they
		// are gone for good the question is closed, and a Ready False
		// left behind would read as "in progress" to kstatus forever.
		meta.RemoveStatusCondition(&d.Status.Conditions, drv1alpha1.ReadyCondition)
	}
}

// drillState is the drill's state for Events: the Ready reason and
// message, or the phase's once Ready is gone (Released).
func drillState(d *drv1alpha1.ProtectionGroupDrill) (reason, message string) {
	if c := meta.FindStatusCondition(d.Status.Conditions, drv1alpha1.ReadyCondition); c != nil {
		return c.Reason, c.Message
	}
	if d.Status.Phase == drv1alpha1.DrillReleased {
		return string(drv1alpha1.DrillReleased), drillPhaseMessage(d)
	}
	return "", ""
}

func boolStatus(b bool) metav1.ConditionStatus {
	if b {
		return metav1.ConditionTrue
	}
	return metav1.ConditionFalse
}

func orReason(b bool, reason string) string {
	if b {
		return reason
	}
	return drv1alpha1.ReconciledReason
}

func drillPhaseMessage(d *drv1alpha1.ProtectionGroupDrill) string {
	st := d.Status
	switch st.Phase {
	case drv1alpha1.DrillAvailable, drv1alpha1.DrillVerifying:
		return fmt.Sprintf("%d drill servers available in VPC %s until %s", len(st.Servers), drillVpc(d), st.ExpiresAt.UTC().Format(time.RFC3339))
	case drv1alpha1.DrillReleased:
		return "the drill and its servers are deleted" + vpcLeftBehind(d)
	}
	return fmt.Sprintf("drill %s", st.Phase)
}

func drillVpc(d *drv1alpha1.ProtectionGroupDrill) string {
	if d.Status.Drill != nil {
		return d.Status.Drill.VpcID
	}
	return ""
}

func vpcLeftBehind(d *drv1alpha1.ProtectionGroupDrill) string {
	if o := d.Status.Drill; o != nil && o.VpcAutoCreated && o.VpcID != "" {
		return fmt.Sprintf("; SDRS created drill VPC %s and keeps it: delete it with the VPC console or API when no drill needs it", o.VpcID)
	}
	return ""
}

func (r *DrillReconciler) removeFinalizer(ctx context.Context, s *drillScope) error {
	if !controllerutil.RemoveFinalizer(s.d, drv1alpha1.ProtectionGroupFinalizer) {
		s.gone = true
		return nil
	}
	if err := r.Update(ctx, s.d); err != nil && !apierrors.IsNotFound(err) {
		return fmt.Errorf("cannot remove finalizer: %w", err)
	}
	s.gone = true
	return nil
}

// SetupWithManager registers the controller: drills, their Jobs, and the
// ProtectionGroups they drill (a group's change may unblock a drill).
func (r *DrillReconciler) SetupWithManager(mgr ctrl.Manager) error {
	r.setDefaults()
	if err := mgr.GetFieldIndexer().IndexField(context.Background(), &drv1alpha1.ProtectionGroupDrill{}, indexDrillGroup,
		func(o client.Object) []string {
			return []string{o.(*drv1alpha1.ProtectionGroupDrill).Spec.ProtectionGroupRef.Name}
		}); err != nil {
		return err
	}
	return ctrl.NewControllerManagedBy(mgr).
		For(&drv1alpha1.ProtectionGroupDrill{}).
		Owns(&batchv1.Job{}).
		Watches(&drv1alpha1.ProtectionGroup{}, handler.EnqueueRequestsFromMapFunc(r.drillsOfGroup)).
		Named("protectiongroupdrill").
		Complete(r)
}

func (r *DrillReconciler) drillsOfGroup(ctx context.Context, o client.Object) []reconcile.Request {
	var list drv1alpha1.ProtectionGroupDrillList
	if err := r.List(ctx, &list, client.InNamespace(o.GetNamespace()), client.MatchingFields{indexDrillGroup: o.GetName()}); err != nil {
		return nil
	}
	out := make([]reconcile.Request, 0, len(list.Items))
	for i := range list.Items {
		out = append(out, reconcile.Request{NamespacedName: client.ObjectKeyFromObject(&list.Items[i])})
	}
	return out
}
