package controllers_test

import (
	"context"
	"strings"
	"testing"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	drv1alpha1 "github.com/sdrs-operator/sdrs-operator/api/v1alpha1"
	"github.com/sdrs-operator/sdrs-operator/internal/emutest"
)

// Deleting a ProviderConfig that groups still use does not hang in
// silence: its status says the deletion waits, names the groups and how to
// move them; once none uses it, it goes.
func TestProviderConfigDeletionInUse(t *testing.T) {
	needEnv(t)
	tenantProviderConfig(t, "in-use", nil)
	ns := newNamespace(t)
	g := seedGroup(t, emutest.Group{})
	pg := newPG(t, ns, "user", g.ID, func(p *drv1alpha1.ProtectionGroup) { p.Spec.ProviderConfigRef.Name = "in-use" })
	waitFor(t, pg, "Ready at source", readyAt(drv1alpha1.SiteSource))

	pc := &drv1alpha1.ProviderConfig{}
	pc.Name = "in-use"
	if err := k8s.Delete(context.Background(), pc); err != nil {
		t.Fatal(err)
	}
	waitUntil(t, "the ProviderConfig says why its deletion waits", func() bool {
		if err := k8s.Get(context.Background(), client.ObjectKeyFromObject(pc), pc); err != nil {
			return false
		}
		c := meta.FindStatusCondition(pc.Status.Conditions, drv1alpha1.ReadyCondition)
		return c != nil && c.Status == metav1.ConditionFalse && c.Reason == drv1alpha1.ProviderConfigInUseReason &&
			strings.Contains(c.Message, ns+"/user") && strings.Contains(c.Message, "spec.providerConfigRef.name")
	})

	update(t, pg, func(p *drv1alpha1.ProtectionGroup) { p.Spec.ProviderConfigRef.Name = "default" })
	deadline := time.Now().Add(converge)
	for {
		err := k8s.Get(context.Background(), client.ObjectKeyFromObject(pc), pc)
		if apierrors.IsNotFound(err) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the ProviderConfig is still there after its last user moved: %v", err)
		}
		<-time.After(poll)
	}
	waitFor(t, pg, "Ready with the other ProviderConfig", readyAt(drv1alpha1.SiteSource))
}
