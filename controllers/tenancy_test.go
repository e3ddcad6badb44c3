package controllers_test

import (
	"context"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	drv1alpha1 "github.com/sdrs-operator/sdrs-operator/api/v1alpha1"
	"github.com/sdrs-operator/sdrs-operator/internal/emutest"
)

// tenantLabel is the namespace label the tenancy tests' ProviderConfigs
// select on.
const tenantLabel = "sdrs.io/tenant"

// tenantProviderConfig creates a ProviderConfig like the suite's default,
// with the suite's Secret, that only namespaces selected by sel may use.
func tenantProviderConfig(t *testing.T, name string, sel *metav1.LabelSelector) {
	t.Helper()
	pc := &drv1alpha1.ProviderConfig{
		ObjectMeta: metav1.ObjectMeta{Name: name},
		Spec: drv1alpha1.ProviderConfigSpec{
			Region: "cn-north-4", ProjectID: projectID, Endpoint: sdrsURL, ECSEndpoint: ecsURL,
			AllowInsecureHTTP:    true, // the emulator speaks plain http
			CredentialsSecretRef: drv1alpha1.SecretReference{Namespace: credsNS, Name: "sdrs-credentials"},
			NamespaceSelector:    sel,
			SyncInterval:         metav1.Duration{Duration: 2 * time.Second},
		},
	}
	if err := k8s.Create(context.Background(), pc); err != nil {
		t.Fatalf("cannot create ProviderConfig: %v", err)
	}
	t.Cleanup(func() { _ = k8s.Delete(context.Background(), pc) })
}

func labelNamespace(t *testing.T, ns string, labels map[string]string) {
	t.Helper()
	cur := &corev1.Namespace{}
	if err := k8s.Get(context.Background(), client.ObjectKey{Name: ns}, cur); err != nil {
		t.Fatal(err)
	}
	cur.Labels = labels
	if err := k8s.Update(context.Background(), cur); err != nil {
		t.Fatal(err)
	}
}

func stalledWith(reason string) func(*drv1alpha1.ProtectionGroup) bool {
	return func(pg *drv1alpha1.ProtectionGroup) bool {
		c := condition(pg, drv1alpha1.StalledCondition)
		return c.Status == metav1.ConditionTrue && c.Reason == reason && c.ObservedGeneration == pg.Generation
	}
}

// A ProtectionGroup in a namespace the ProviderConfig does not select is
// Stalled, says which ProviderConfig and rule refused it, and nothing about
// its group reaches SDRS, not even a read; labelling the namespace lets it
// through.
func TestNamespaceSelectorGatesProviderConfig(t *testing.T) {
	needEnv(t)
	ns := newNamespace(t)
	tenantProviderConfig(t, "tenancy-payments", &metav1.LabelSelector{MatchLabels: map[string]string{tenantLabel: "payments"}})
	g := seedGroup(t, emutest.Group{})
	pg := newPG(t, ns, "web", g.ID, func(p *drv1alpha1.ProtectionGroup) {
		p.Spec.ProviderConfigRef.Name = "tenancy-payments"
	})

	cur := waitFor(t, pg, "Stalled/NamespaceNotAllowed", stalledWith(drv1alpha1.NamespaceNotAllowedReason))
	msg := condition(cur, drv1alpha1.StalledCondition).Message
	for _, want := range []string{`"tenancy-payments"`, tenantLabel + "=payments", `"` + ns + `"`} {
		if !strings.Contains(msg, want) {
			t.Errorf("Stalled message %q does not name %s", msg, want)
		}
	}
	if r := condition(cur, drv1alpha1.ReadyCondition); r.Status == metav1.ConditionTrue || r.Reason != drv1alpha1.NamespaceNotAllowedReason {
		t.Errorf("Ready: %+v, want not True with reason NamespaceNotAllowed", r)
	}
	if n := sent(t, "", g.ID); n != 0 {
		t.Errorf("%d calls about the group reached SDRS from a namespace that may not use the ProviderConfig", n)
	}
	if cur.Status.Group != nil || cur.Status.ActiveSite != "" {
		t.Errorf("status tells about the SDRS group: group %+v, activeSite %q", cur.Status.Group, cur.Status.ActiveSite)
	}

	labelNamespace(t, ns, map[string]string{tenantLabel: "payments"})
	waitFor(t, pg, "Ready at source once the namespace is labelled", readyAt(drv1alpha1.SiteSource))
}

// A ProviderConfig without a selector, or with {}, admits every namespace;
// an invalid selector admits none.
func TestNamespaceSelectorUnsetEmptyInvalid(t *testing.T) {
	needEnv(t)
	ns := newNamespace(t)
	tenantProviderConfig(t, "tenancy-empty", &metav1.LabelSelector{})
	tenantProviderConfig(t, "tenancy-invalid", &metav1.LabelSelector{MatchExpressions: []metav1.LabelSelectorRequirement{
		{Key: tenantLabel, Operator: "Maybe", Values: []string{"a"}}}})
	unset, empty := seedGroup(t, emutest.Group{Name: "tenancy-unset"}), seedGroup(t, emutest.Group{Name: "tenancy-empty"})
	invalid := seedGroup(t, emutest.Group{Name: "tenancy-invalid"})
	pgUnset := newPG(t, ns, "unset", unset.ID) // the suite's default ProviderConfig has no selector
	pgEmpty := newPG(t, ns, "empty", empty.ID, func(p *drv1alpha1.ProtectionGroup) { p.Spec.ProviderConfigRef.Name = "tenancy-empty" })
	pgInvalid := newPG(t, ns, "invalid", invalid.ID, func(p *drv1alpha1.ProtectionGroup) { p.Spec.ProviderConfigRef.Name = "tenancy-invalid" })

	waitFor(t, pgUnset, "Ready with no selector", readyAt(drv1alpha1.SiteSource))
	waitFor(t, pgEmpty, "Ready with an empty selector", readyAt(drv1alpha1.SiteSource))
	cur := waitFor(t, pgInvalid, "Stalled with an invalid selector", stalledWith(drv1alpha1.NamespaceNotAllowedReason))
	if msg := condition(cur, drv1alpha1.StalledCondition).Message; !strings.Contains(msg, "invalid spec.namespaceSelector") || !strings.Contains(msg, "Maybe") {
		t.Errorf("Stalled message %q should say the selector is invalid and why", msg)
	}
	if n := sent(t, "", invalid.ID); n != 0 {
		t.Errorf("%d calls about the group reached SDRS through an invalid selector", n)
	}
}

// A group that may not use its ProviderConfig can still be deleted: Orphan
// lets go at once; Delete, which would need SDRS, waits and says how to let
// go, and switching to Orphan does. SDRS is never called.
func TestNamespaceNotAllowedDeletion(t *testing.T) {
	needEnv(t)
	ns := newNamespace(t)
	tenantProviderConfig(t, "tenancy-closed", &metav1.LabelSelector{MatchLabels: map[string]string{tenantLabel: "nobody"}})
	orphan, del := seedGroup(t, emutest.Group{Name: "tenancy-orphan"}), seedGroup(t, emutest.Group{Name: "tenancy-delete"})
	pgOrphan := newPG(t, ns, "orphan", orphan.ID, func(p *drv1alpha1.ProtectionGroup) { p.Spec.ProviderConfigRef.Name = "tenancy-closed" })
	pgDelete := newPG(t, ns, "delete", del.ID, func(p *drv1alpha1.ProtectionGroup) {
		p.Spec.ProviderConfigRef.Name = "tenancy-closed"
		p.Spec.DeletionPolicy = drv1alpha1.DeletionDelete
	})
	for _, pg := range []*drv1alpha1.ProtectionGroup{pgOrphan, pgDelete} {
		waitFor(t, pg, "Stalled/NamespaceNotAllowed", stalledWith(drv1alpha1.NamespaceNotAllowedReason))
		if err := k8s.Delete(context.Background(), pg); err != nil {
			t.Fatal(err)
		}
	}
	waitGone(t, pgOrphan)

	cur := waitFor(t, pgDelete, "Stalled with the deletion hint", func(p *drv1alpha1.ProtectionGroup) bool {
		return !p.DeletionTimestamp.IsZero() && stalledWith(drv1alpha1.NamespaceNotAllowedReason)(p) &&
			strings.Contains(condition(p, drv1alpha1.StalledCondition).Message, "deletionPolicy to Orphan")
	})
	if len(cur.Finalizers) == 0 {
		t.Fatal("the Delete group lost its finalizer without deleting the SDRS group")
	}
	update(t, pgDelete, func(p *drv1alpha1.ProtectionGroup) { p.Spec.DeletionPolicy = drv1alpha1.DeletionOrphan })
	waitGone(t, pgDelete)
	for _, id := range []string{orphan.ID, del.ID} {
		if n := sent(t, "", id); n != 0 {
			t.Errorf("%d calls about group %s reached SDRS", n, id)
		}
	}
}
