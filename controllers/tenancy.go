package controllers

import (
	"context"
	"fmt"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	drv1alpha1 "github.com/sdrs-operator/sdrs-operator/api/v1alpha1"
)

// Tenancy. A ProviderConfig is cluster-scoped and its credentials can fail
// over any group of its project, while anyone who may edit a
// ProtectionGroup may name any ProviderConfig and any group ID. The
// ProviderConfig's spec.namespaceSelector says which namespaces may use it;
// a group elsewhere is Stalled before anything is sent to SDRS, reads
// included, since a read tells a tenant about another tenant's group.

// +kubebuilder:rbac:groups="",resources=namespaces,verbs=get;list;watch

// namespaceReadTimeout bounds the wait for the Namespace informer's first
// sync: without list/watch on Namespaces (an operator upgraded without
// its new role) the cached read would otherwise wait forever.
const namespaceReadTimeout = 30 * time.Second

// checkNamespaceAllowed returns a stall error unless pc's namespaceSelector
// selects pg's namespace. The Namespace is read only when there is a
// selector to match, so a ProviderConfig without one costs nothing.
func (r *ProtectionGroupReconciler) checkNamespaceAllowed(ctx context.Context, pg *drv1alpha1.ProtectionGroup, pc *drv1alpha1.ProviderConfig) error {
	sel, err := namespaceSelector(pc)
	if err != nil {
		return stalled(drv1alpha1.NamespaceNotAllowedReason,
			"ProviderConfig %q has an invalid spec.namespaceSelector (%v), so no namespace may use it until a cluster administrator fixes it%s",
			pc.Name, err, deletionHint(pg))
	}
	if sel.Empty() {
		return nil
	}
	nsLabels, err := r.namespaceLabels(ctx, pg.Namespace)
	if err != nil {
		return err
	}
	if nsLabels != nil && sel.Matches(labels.Set(nsLabels)) {
		return nil
	}
	return stalled(drv1alpha1.NamespaceNotAllowedReason,
		"ProviderConfig %q may be used only from namespaces whose labels match %q (its spec.namespaceSelector), and namespace %q does not: a cluster administrator can label the namespace or widen the selector, or point spec.providerConfigRef.name at a ProviderConfig meant for this namespace; nothing is sent to SDRS meanwhile%s",
		pc.Name, sel.String(), pg.Namespace, deletionHint(pg))
}

// namespaceSelector returns the selector of pc: everything when the field
// is unset (existing setups keep working) or {} (the Kubernetes meaning of
// an empty selector). LabelSelectorAsSelector alone would read unset as
// "nothing".
func namespaceSelector(pc *drv1alpha1.ProviderConfig) (labels.Selector, error) {
	if pc.Spec.NamespaceSelector == nil {
		return labels.Everything(), nil
	}
	return metav1.LabelSelectorAsSelector(pc.Spec.NamespaceSelector)
}

// namespaceLabels reads a Namespace's labels from the cache, metadata only.
// A Namespace that cannot be found has nil labels: it is refused, not
// waited for, since the group cannot outlive it.
func (r *ProtectionGroupReconciler) namespaceLabels(ctx context.Context, name string) (map[string]string, error) {
	ctx, cancel := context.WithTimeout(ctx, namespaceReadTimeout)
	defer cancel()
	ns := namespaceMetadata()
	if err := r.Get(ctx, client.ObjectKey{Name: name}, ns); err != nil {
		if apierrors.IsNotFound(err) {
			return nil, nil
		}
		return nil, fmt.Errorf("cannot read the labels of namespace %q to check the ProviderConfig's namespaceSelector: %w", name, err)
	}
	if ns.Labels == nil {
		return map[string]string{}, nil
	}
	return ns.Labels, nil
}

// namespaceMetadata is an empty Namespace as metadata only: the operator
// needs its labels, and the cache then holds no Namespace specs or status.
func namespaceMetadata() *metav1.PartialObjectMetadata {
	ns := &metav1.PartialObjectMetadata{}
	ns.SetGroupVersionKind(corev1.SchemeGroupVersion.WithKind("Namespace"))
	return ns
}

// deletionHint tells how to let go of a group being deleted with
// deletionPolicy Delete, which cannot delete the SDRS group without using
// the ProviderConfig. Orphan lets go at once.
func deletionHint(pg *drv1alpha1.ProtectionGroup) string {
	if pg.DeletionTimestamp.IsZero() || pg.Spec.DeletionPolicy != drv1alpha1.DeletionDelete {
		return ""
	}
	return "; this ProtectionGroup is being deleted with deletionPolicy Delete, which needs SDRS: set spec.deletionPolicy to Orphan to let it go and keep the SDRS group"
}

// groupsForNamespace wakes the ProtectionGroups of a Namespace whose labels
// changed, so that a namespace labelled to match a ProviderConfig's
// selector (or unlabelled) is acted on at once, not at the next re-check.
func (r *ProtectionGroupReconciler) groupsForNamespace(ctx context.Context, o client.Object) []reconcile.Request {
	var list drv1alpha1.ProtectionGroupList
	if err := r.List(ctx, &list, client.InNamespace(o.GetName())); err != nil {
		// With --watch-namespace, other namespaces are not in the cache;
		// their groups are not ours to wake.
		ctrl.LoggerFrom(ctx).V(1).Info("cannot list ProtectionGroups of a relabelled namespace", "namespace", o.GetName(), "error", err.Error())
		return nil
	}
	return requestsFor(list.Items)
}
