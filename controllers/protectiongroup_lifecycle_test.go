package controllers_test

import (
	"context"
	"strings"
	"testing"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	drv1alpha1 "github.com/sdrs-operator/sdrs-operator/api/v1alpha1"
	"github.com/sdrs-operator/sdrs-operator/internal/emutest"
)

// Pause: no new action while the annotation is set; the group is still
// observed; removing it lets the change through.
func TestPause(t *testing.T) {
	needEnv(t)
	ns := newNamespace(t)
	g := seedGroup(t, emutest.Group{})
	pg := newPG(t, ns, "paused", g.ID, func(p *drv1alpha1.ProtectionGroup) {
		p.Spec.FailoverMode, p.Spec.AllowDataLoss = drv1alpha1.FailoverForced, true
	})
	waitFor(t, pg, "Ready at source", readyAt(drv1alpha1.SiteSource))
	update(t, pg, func(p *drv1alpha1.ProtectionGroup) {
		p.Annotations = map[string]string{drv1alpha1.PausedAnnotation: "true"}
		p.Spec.DesiredActiveSite = drv1alpha1.SiteTarget
	})
	cur := waitFor(t, pg, "paused", readyReason(drv1alpha1.ReconciliationPausedReason))
	if c := condition(cur, drv1alpha1.PausedCondition); c.Status != metav1.ConditionTrue {
		t.Errorf("Paused condition: %+v", c)
	}
	if !strings.Contains(condition(cur, drv1alpha1.ReadyCondition).Message, "failover from source to target") {
		t.Errorf("paused message should say what would be done: %q", condition(cur, drv1alpha1.ReadyCondition).Message)
	}
	if n := calls(t, "StartFailoverProtectionGroup", g.ID); n != 0 {
		t.Fatalf("acted while paused: %d failover calls", n)
	}
	update(t, pg, func(p *drv1alpha1.ProtectionGroup) { delete(p.Annotations, drv1alpha1.PausedAnnotation) })
	waitFor(t, pg, "Ready at target after resume", readyAt(drv1alpha1.SiteTarget))
	if n := calls(t, "StartFailoverProtectionGroup", g.ID); n != 1 {
		t.Errorf("failover calls after resume: %d, want 1", n)
	}
}

// A change made behind the operator's back (console, Terraform) shows up
// in status.
func TestOutOfBandChangeObserved(t *testing.T) {
	needEnv(t)
	ns := newNamespace(t)
	g := seedGroup(t, emutest.Group{})
	pg := newPG(t, ns, "oob", g.ID)
	waitFor(t, pg, "Ready at source", readyAt(drv1alpha1.SiteSource))
	// Pause so that the operator only observes; then someone fails the
	// group over in the console.
	update(t, pg, func(p *drv1alpha1.ProtectionGroup) {
		p.Annotations = map[string]string{drv1alpha1.PausedAnnotation: "true"}
	})
	waitFor(t, pg, "paused", func(p *drv1alpha1.ProtectionGroup) bool {
		return condition(p, drv1alpha1.PausedCondition).Status == metav1.ConditionTrue
	})
	sdkT = t
	if err := sdkFailover(g.ID); err != nil {
		t.Fatal(err)
	}
	cur := waitFor(t, pg, "the console failover observed", func(p *drv1alpha1.ProtectionGroup) bool {
		return p.Status.ActiveSite == drv1alpha1.SiteTarget && p.Status.Group != nil && p.Status.Group.Status == "failed-over"
	})
	if cur.Status.Sites.Production != "cn-north-4b" {
		t.Errorf("production zone after the console failover: %+v", cur.Status.Sites)
	}
	if c := condition(cur, drv1alpha1.ProtectedCondition); c.Reason != drv1alpha1.FailedOverReason {
		t.Errorf("Protected after the console failover: %+v", c)
	}
}

// Deletion: Orphan never touches the cloud; Delete refuses a group that
// still has instances and says why; Delete removes an empty group.
func TestDeletionPolicies(t *testing.T) {
	needEnv(t)
	ns := newNamespace(t)
	ctx := context.Background()

	g := seedGroup(t, emutest.Group{})
	orphan := newPG(t, ns, "orphan", g.ID)
	waitFor(t, orphan, "Ready", readyAt(drv1alpha1.SiteSource))
	if err := k8s.Delete(ctx, orphan); err != nil {
		t.Fatal(err)
	}
	waitGone(t, orphan)
	if n := calls(t, "DeleteProtectionGroup", g.ID); n != 0 {
		t.Errorf("Orphan deleted the SDRS group: %d calls", n)
	}

	blocked := newPG(t, ns, "blocked", g.ID, func(p *drv1alpha1.ProtectionGroup) { p.Spec.DeletionPolicy = drv1alpha1.DeletionDelete })
	waitFor(t, blocked, "Ready", readyAt(drv1alpha1.SiteSource))
	if err := k8s.Delete(ctx, blocked); err != nil {
		t.Fatal(err)
	}
	cur := waitFor(t, blocked, "deletion blocked", readyReason(drv1alpha1.DeletionBlockedReason))
	if msg := condition(cur, drv1alpha1.StalledCondition).Message; !strings.Contains(msg, "1 protected instances") || !strings.Contains(msg, "Orphan") {
		t.Errorf("DeletionBlocked must say why and how out: %q", msg)
	}
	// The way out the message offers: switch to Orphan.
	update(t, blocked, func(p *drv1alpha1.ProtectionGroup) { p.Spec.DeletionPolicy = drv1alpha1.DeletionOrphan })
	waitGone(t, blocked)

	// An empty group created by the operator is deleted with Delete.
	created := newPG(t, ns, "created", "", func(p *drv1alpha1.ProtectionGroup) {
		p.Spec.ProtectionGroupID = ""
		p.Spec.ForProvider = &drv1alpha1.GroupParameters{Name: "created-" + ns, SourceAvailabilityZone: "cn-north-4a",
			TargetAvailabilityZone: "cn-north-4b", DomainID: domainID(t), SourceVpcID: "vpc-1"}
		p.Spec.Protection = drv1alpha1.ProtectionDisabled
		p.Spec.DeletionPolicy = drv1alpha1.DeletionDelete
	})
	cur = waitFor(t, created, "created and Ready", readyAt(drv1alpha1.SiteSource))
	id := cur.Status.Group.ID
	if id == "" || calls(t, "CreateProtectionGroup", "") != 1 {
		t.Fatalf("group not created once: id %q", id)
	}
	if err := k8s.Delete(ctx, created); err != nil {
		t.Fatal(err)
	}
	waitGone(t, created)
	if n := calls(t, "DeleteProtectionGroup", id); n != 1 {
		t.Errorf("Delete policy: %d delete calls, want 1", n)
	}
}

// Two ProtectionGroups naming one SDRS group: only the older one acts.
func TestTwoOwnersOneGroup(t *testing.T) {
	needEnv(t)
	ns := newNamespace(t)
	g := seedGroup(t, emutest.Group{})
	first := newPG(t, ns, "first", g.ID)
	waitFor(t, first, "first Ready", readyAt(drv1alpha1.SiteSource))
	second := newPG(t, ns, "second", g.ID, func(p *drv1alpha1.ProtectionGroup) {
		p.Spec.DesiredActiveSite = drv1alpha1.SiteTarget
		p.Spec.FailoverMode, p.Spec.AllowDataLoss = drv1alpha1.FailoverForced, true
	})
	cur := waitFor(t, second, "second stalled on the conflict", readyReason(drv1alpha1.GroupConflictReason))
	if !strings.Contains(condition(cur, drv1alpha1.StalledCondition).Message, ns+"/first") {
		t.Errorf("conflict message should name the owner: %+v", condition(cur, drv1alpha1.StalledCondition))
	}
	if n := calls(t, "StartFailoverProtectionGroup", g.ID); n != 0 {
		t.Errorf("the second owner acted: %d failover calls", n)
	}
}

// Bad credentials and a missing Secret give a clear Stalled condition that
// never shows the secret key.
func TestCredentialsProblems(t *testing.T) {
	needEnv(t)
	ns := newNamespace(t)
	ctx := context.Background()
	g := seedGroup(t, emutest.Group{})
	const wrongSK = "wrong-secret-key-must-never-appear-0000"
	if err := createProviderConfig(ctx, "wrongkey", "wrongkey-creds", accessKey, wrongSK); err != nil {
		t.Fatal(err)
	}
	if err := createProviderConfig(ctx, "nosecret", "", "", ""); err != nil {
		t.Fatal(err)
	}
	g2 := seedGroup(t, emutest.Group{Name: "creds-2"})
	g3 := seedGroup(t, emutest.Group{Name: "creds-3"})
	bad := newPG(t, ns, "badkey", g.ID, func(p *drv1alpha1.ProtectionGroup) { p.Spec.ProviderConfigRef.Name = "wrongkey" })
	missing := newPG(t, ns, "nosecret", g2.ID, func(p *drv1alpha1.ProtectionGroup) { p.Spec.ProviderConfigRef.Name = "nosecret" })
	nopc := newPG(t, ns, "nopc", g3.ID, func(p *drv1alpha1.ProtectionGroup) { p.Spec.ProviderConfigRef.Name = "does-not-exist" })

	cur := waitFor(t, bad, "CredentialsInvalid", readyReason(drv1alpha1.CredentialsInvalidReason))
	if c := condition(cur, drv1alpha1.StalledCondition); c.Status != metav1.ConditionTrue {
		t.Errorf("bad key must stall: %+v", c)
	}
	cur = waitFor(t, missing, "SecretNotFound", readyReason(drv1alpha1.SecretNotFoundReason))
	if msg := condition(cur, drv1alpha1.ReadyCondition).Message; !strings.Contains(msg, "nosecret-missing-secret") {
		t.Errorf("message should name the Secret: %q", msg)
	}
	waitFor(t, nopc, "ProviderConfigNotFound", readyReason(drv1alpha1.ProviderConfigNotFoundReason))

	// The ProviderConfig itself reports the bad key.
	pc := &drv1alpha1.ProviderConfig{}
	waitUntil(t, "ProviderConfig wrongkey not Ready", func() bool {
		if err := k8s.Get(ctx, client.ObjectKey{Name: "wrongkey"}, pc); err != nil {
			return false
		}
		for _, c := range pc.Status.Conditions {
			if c.Type == drv1alpha1.ReadyCondition && c.Reason == drv1alpha1.CredentialsInvalidReason {
				return true
			}
		}
		return false
	})

	// Rotation: fix the Secret; the operator picks it up without a restart.
	sec := secretFor(t, "wrongkey-creds")
	sec.StringData = map[string]string{"secretKey": secretKey}
	if err := k8s.Update(ctx, sec); err != nil {
		t.Fatal(err)
	}
	waitFor(t, bad, "Ready after the Secret was fixed", readyAt(drv1alpha1.SiteSource))

	assertNoSecretInStatus(t, ns, wrongSK, secretKey)
}

func waitGone(t *testing.T, pg *drv1alpha1.ProtectionGroup) {
	t.Helper()
	waitUntil(t, "ProtectionGroup "+pg.Name+" gone", func() bool {
		err := k8s.Get(context.Background(), client.ObjectKeyFromObject(pg), &drv1alpha1.ProtectionGroup{})
		return apierrors.IsNotFound(err)
	})
}
