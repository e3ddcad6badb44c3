package controllers

import (
	"context"
	"fmt"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"
	"sigs.k8s.io/controller-runtime/pkg/predicate"

	drv1alpha1 "github.com/sdrs-operator/sdrs-operator/api/v1alpha1"
	"github.com/sdrs-operator/sdrs-operator/internal/sdrs"
)

const (
	// providerConfigRecheck: how often working credentials are re-validated.
	providerConfigRecheck = 10 * time.Minute
	// ProviderConfigInUseReason surfaces when a ProviderConfig being
	// deleted is still used by ProtectionGroups.
	providerConfigInUseReason = "InUse"
)

// ProviderConfigReconciler validates ProviderConfigs: it connects with the
// referenced Secret and makes one cheap SDRS call, and keeps a
// ProviderConfig while ProtectionGroups use it.
type ProviderConfigReconciler struct {
	client.Client
	Connector sdrs.Connector
	Recorder  EventRecorder
}

// +kubebuilder:rbac:groups=dr.sdrs.io,resources=providerconfigs,verbs=get;list;watch;update;patch
// +kubebuilder:rbac:groups=dr.sdrs.io,resources=providerconfigs/status,verbs=get;update;patch
// +kubebuilder:rbac:groups=dr.sdrs.io,resources=providerconfigs/finalizers,verbs=update

// Reconcile validates one ProviderConfig.
func (r *ProviderConfigReconciler) Reconcile(ctx context.Context, req ctrl.Request) (ctrl.Result, error) {
	pc := &drv1alpha1.ProviderConfig{}
	if err := r.Get(ctx, req.NamespacedName, pc); err != nil {
		return ctrl.Result{}, client.IgnoreNotFound(err)
	}
	if !pc.DeletionTimestamp.IsZero() {
		return r.reconcileDelete(ctx, pc)
	}
	if controllerutil.AddFinalizer(pc, drv1alpha1.ProviderConfigInUseFinalizer) {
		if err := r.Update(ctx, pc); err != nil {
			return ctrl.Result{}, client.IgnoreNotFound(err)
		}
	}

	base := pc.DeepCopy()
	status, reason, message, requeue := r.validate(ctx, pc)
	cond := metav1.Condition{Type: drv1alpha1.ReadyCondition, Status: status, Reason: reason,
		Message: message, ObservedGeneration: pc.Generation}
	prev := meta.FindStatusCondition(pc.Status.Conditions, drv1alpha1.ReadyCondition)
	if prev == nil || prev.Reason != reason || prev.Status != status {
		r.event(pc, status != metav1.ConditionTrue, reason, message)
	}
	meta.SetStatusCondition(&pc.Status.Conditions, cond)
	pc.Status.ObservedGeneration = pc.Generation
	if err := r.Status().Patch(ctx, pc, client.MergeFrom(base)); err != nil {
		if apierrors.IsConflict(err) {
			return ctrl.Result{Requeue: true}, nil
		}
		return ctrl.Result{}, fmt.Errorf("cannot update ProviderConfig status: %w", err)
	}
	return ctrl.Result{RequeueAfter: requeue}, nil
}

// validate connects and makes one read call; the result says whether the
// endpoint and credentials work.
func (r *ProviderConfigReconciler) validate(ctx context.Context, pc *drv1alpha1.ProviderConfig) (metav1.ConditionStatus, string, string, time.Duration) {
	c, err := r.Connector.Connect(ctx, pc)
	if err == nil {
		err = c.Validate(ctx)
	}
	if err == nil {
		return metav1.ConditionTrue, drv1alpha1.CredentialsValidReason, "SDRS accepted the credentials", providerConfigRecheck
	}
	o := classify(err)
	ctrl.LoggerFrom(ctx).Info("ProviderConfig validation failed", "reason", o.reason, "error", err.Error())
	requeue := o.requeue
	if requeue == 0 {
		requeue = credentialsRecheck
	}
	status := metav1.ConditionFalse
	if o.reconciling {
		status = metav1.ConditionUnknown // transient: the credentials may well be fine
	}
	return status, o.reason, o.message, requeue
}

// reconcileDelete keeps the finalizer while any ProtectionGroup uses the
// ProviderConfig: deleting it would leave them unable to reach SDRS.
func (r *ProviderConfigReconciler) reconcileDelete(ctx context.Context, pc *drv1alpha1.ProviderConfig) (ctrl.Result, error) {
	var users drv1alpha1.ProtectionGroupList
	if err := r.List(ctx, &users, client.MatchingFields{indexProviderConfig: pc.Name}); err != nil {
		return ctrl.Result{}, fmt.Errorf("cannot list ProtectionGroups using ProviderConfig %q: %w", pc.Name, err)
	}
	if n := len(users.Items); n > 0 {
		r.event(pc, true, providerConfigInUseReason,
			fmt.Sprintf("%d ProtectionGroups still use this ProviderConfig (e.g. %s/%s); it is deleted once they are gone",
				n, users.Items[0].Namespace, users.Items[0].Name))
		return ctrl.Result{RequeueAfter: credentialsRecheck}, nil
	}
	if controllerutil.RemoveFinalizer(pc, drv1alpha1.ProviderConfigInUseFinalizer) {
		if err := r.Update(ctx, pc); err != nil {
			return ctrl.Result{}, client.IgnoreNotFound(err)
		}
	}
	return ctrl.Result{}, nil
}

func (r *ProviderConfigReconciler) event(pc *drv1alpha1.ProviderConfig, warning bool, reason, message string) {
	if r.Recorder == nil {
		return
	}
	typ := "Normal"
	if warning {
		typ = "Warning"
	}
	r.Recorder.Eventf(pc, nil, typ, reason, "Validate", "%s", message)
}

// SetupWithManager registers the controller. The ProtectionGroup
// controller registers the index on spec.providerConfigRef.name it uses.
func (r *ProviderConfigReconciler) SetupWithManager(mgr ctrl.Manager) error {
	return ctrl.NewControllerManagedBy(mgr).
		// Status writes do not wake it; spec changes do, and it re-checks
		// on a timer so a rotated Secret is noticed.
		For(&drv1alpha1.ProviderConfig{}, builder.WithPredicates(predicate.GenerationChangedPredicate{})).
		Named("providerconfig").
		Complete(r)
}
