package controllers

import (
	"context"
	"fmt"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
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
	// inUseRecheck: how soon a ProviderConfig being deleted looks again
	// for the groups that hold it (a list from the cache, no cloud call).
	inUseRecheck = 5 * time.Second
	// inUseListed is how many of the groups that hold a ProviderConfig
	// being deleted its status names.
	inUseListed = 5
)

// ProviderConfigReconciler validates ProviderConfigs: it connects with the
// referenced Secret and makes one cheap SDRS call, and keeps a
// ProviderConfig while ProtectionGroups use it.
type ProviderConfigReconciler struct {
	client.Client
	// APIReader lists, around the cache, the ProtectionGroups that still
	// use a ProviderConfig being deleted: a manager watching one namespace
	// sees only its own, and must not let a ProviderConfig go that groups
	// in other namespaces use. nil lists through Client.
	APIReader client.Reader
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
			return ctrl.Result{RequeueAfter: conflictFirstWait}, nil
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
	o := outcomeOf(err)
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
	users, err := r.usersOf(ctx, pc.Name)
	if err != nil {
		// Unknown users: the finalizer stays.
		return ctrl.Result{}, fmt.Errorf("cannot list ProtectionGroups using ProviderConfig %q: %w", pc.Name, err)
	}
	if len(users) > 0 {
		return ctrl.Result{RequeueAfter: inUseRecheck}, r.reportInUse(ctx, pc, users)
	}
	if controllerutil.RemoveFinalizer(pc, drv1alpha1.ProviderConfigInUseFinalizer) {
		if err := r.Update(ctx, pc); err != nil {
			return ctrl.Result{}, client.IgnoreNotFound(err)
		}
	}
	return ctrl.Result{}, nil
}

// usersOf lists the ProtectionGroups of every namespace that use the
// ProviderConfig, a page at a time, from the API server when an APIReader
// is set (this runs only while a ProviderConfig is being deleted).
func (r *ProviderConfigReconciler) usersOf(ctx context.Context, name string) ([]drv1alpha1.ProtectionGroup, error) {
	if r.APIReader == nil {
		var users drv1alpha1.ProtectionGroupList
		err := r.List(ctx, &users, client.MatchingFields{indexProviderConfig: name})
		return users.Items, err
	}
	var users []drv1alpha1.ProtectionGroup
	cont := ""
	for {
		var page drv1alpha1.ProtectionGroupList
		if err := r.APIReader.List(ctx, &page, client.Limit(500), client.Continue(cont)); err != nil {
			return nil, err
		}
		for i := range page.Items {
			if providerConfigName(&page.Items[i]) == name {
				users = append(users, page.Items[i])
			}
		}
		if cont = page.Continue; cont == "" {
			return users, nil
		}
	}
}

// reportInUse says, in status and an Event, that the deletion waits for
// the groups that use the ProviderConfig, names them, and how to move them.
func (r *ProviderConfigReconciler) reportInUse(ctx context.Context, pc *drv1alpha1.ProviderConfig, users []drv1alpha1.ProtectionGroup) error {
	names := make([]string, 0, inUseListed)
	for i := range users {
		if i == inUseListed {
			names = append(names, fmt.Sprintf("and %d more", len(users)-inUseListed))
			break
		}
		names = append(names, users[i].Namespace+"/"+users[i].Name)
	}
	message := fmt.Sprintf("deletion waits: %d ProtectionGroups still use this ProviderConfig (%s); point each at another ProviderConfig (spec.providerConfigRef.name) or delete it, and this ProviderConfig goes once none uses it",
		len(users), strings.Join(names, ", "))
	prev := meta.FindStatusCondition(pc.Status.Conditions, drv1alpha1.ReadyCondition)
	if prev != nil && prev.Reason == drv1alpha1.ProviderConfigInUseReason && prev.Message == message {
		return nil
	}
	r.event(pc, true, drv1alpha1.ProviderConfigInUseReason, message)
	base := pc.DeepCopy()
	meta.SetStatusCondition(&pc.Status.Conditions, metav1.Condition{Type: drv1alpha1.ReadyCondition, Status: metav1.ConditionFalse,
		Reason: drv1alpha1.ProviderConfigInUseReason, Message: message, ObservedGeneration: pc.Generation})
	if err := r.Status().Patch(ctx, pc, client.MergeFrom(base)); err != nil && !apierrors.IsNotFound(err) {
		return fmt.Errorf("cannot update ProviderConfig status: %w", err)
	}
	return nil
}

func (r *ProviderConfigReconciler) event(pc *drv1alpha1.ProviderConfig, warning bool, reason, message string) {
	if r.Recorder == nil {
		return
	}
	typ := corev1.EventTypeNormal
	if warning {
		typ = corev1.EventTypeWarning
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
