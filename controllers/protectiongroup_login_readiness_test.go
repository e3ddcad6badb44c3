package controllers_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	. "github.com/onsi/gomega"

	drv1alpha1 "github.com/sdrs-operator/sdrs-operator/api/v1alpha1"
	"github.com/sdrs-operator/sdrs-operator/internal/emutest"
)

// The login guidance end to end: servers of every kind the SDRS rules tell
// apart, read from the emulator over the official SDK (ECS says only Linux
// or Windows; CoreOS comes from the image), before and after the group's
// first swap.
func TestLoginGuidanceAcrossTheFirstSwap(t *testing.T) {
	needEnv(t)
	ns := newNamespace(t)
	g := seedGroup(t, emutest.Group{Instances: []emutest.Instance{
		{Name: "win-key", OSType: "Windows", KeyName: "kp-win"},
		{Name: "win-pw", OSType: "Windows"},
		{Name: "win-noinit", OSType: "Windows"},
		{Name: "linux", OSType: "Linux"},
		{Name: "linux-key", OSType: "Linux", KeyName: "kp-linux"},
		{Name: "coreos", OSType: "CoreOS"},
	}})
	pg := newPG(t, ns, "login", g.ID, func(p *drv1alpha1.ProtectionGroup) {
		p.Spec.Login = &drv1alpha1.LoginSpec{Instances: []drv1alpha1.InstanceLoginSpec{
			{Instance: "win-noinit", GuestInitAgent: drv1alpha1.GuestInitNotInstalled}}}
	})
	cur := waitFor(t, pg, "Ready at source with guidance", func(p *drv1alpha1.ProtectionGroup) bool {
		return readyAt(drv1alpha1.SiteSource)(p) && len(p.Status.Instances) == 6 && p.Status.Instances[0].Login != nil
	})
	if fs := cur.Status.FirstSwap; fs == nil || fs.State != drv1alpha1.FirstSwapUnknown {
		t.Fatalf("an adopted group at its source site has an unknown past: %+v", fs)
	}
	for _, in := range cur.Status.Instances {
		if n := len(in.Login.Servers); n != 4 {
			t.Errorf("%s: %d rows before the swap, want 4 (A and B, if no swap yet and if swapped)", in.Name, n)
		}
	}
	if got := instance(t, cur, "coreos").OSType; got != "CoreOS" {
		t.Errorf("CoreOS must be recognised from the image (ECS sends os_type Linux): %q", got)
	}

	update(t, pg, func(p *drv1alpha1.ProtectionGroup) { p.Spec.DesiredActiveSite = drv1alpha1.SiteTarget })
	cur = waitFor(t, pg, "Ready at target", readyAt(drv1alpha1.SiteTarget))
	fs := cur.Status.FirstSwap
	if fs == nil || fs.State != drv1alpha1.FirstSwapDone || fs.At == nil || fs.ProductionStartedAt == nil {
		t.Fatalf("after the operator's planned failover (servers started by it): %+v", fs)
	}
	want := map[string]struct {
		method drv1alpha1.LoginMethod
		a, b   drv1alpha1.Credential
		until  bool
	}{
		"win-key":    {drv1alpha1.LoginKeyPair, drv1alpha1.CredentialAObtainedPassword, drv1alpha1.CredentialBObtainedPasswordUntilInit, true},
		"win-pw":     {drv1alpha1.LoginPassword, drv1alpha1.CredentialOwn, drv1alpha1.CredentialBPasswordUntilInit, true},
		"win-noinit": {drv1alpha1.LoginPassword, drv1alpha1.CredentialAPassword, drv1alpha1.CredentialAPassword, false},
		"linux":      {drv1alpha1.LoginPassword, drv1alpha1.CredentialAPassword, drv1alpha1.CredentialAPassword, false},
		"linux-key":  {drv1alpha1.LoginKeyPair, drv1alpha1.CredentialAKeyPair, drv1alpha1.CredentialAKeyPair, false},
		"coreos":     {drv1alpha1.LoginPassword, drv1alpha1.CredentialACreationPassword, drv1alpha1.CredentialACreationPassword, false},
	}
	for name, w := range want {
		in := instance(t, cur, name)
		l := in.Login
		if l == nil || len(l.Servers) != 2 {
			t.Errorf("%s: guidance %+v", name, l)
			continue
		}
		a, b := l.Servers[0], l.Servers[1]
		if l.Method != w.method || a.Credential != w.a || b.Credential != w.b || (b.Until != nil) != w.until {
			t.Errorf("%s: method %s, A %s, B %s (until %v); want %s, %s, %s (until %v)", name, l.Method, a.Credential, b.Credential, b.Until, w.method, w.a, w.b, w.until)
		}
		if b.Role != "Production" || b.ID != in.TargetServer.ID || a.Role != "DisasterRecovery" {
			t.Errorf("%s: roles A %s, B %s (%s)", name, a.Role, b.Role, b.ID)
		}
		if w.until && !b.Until.Time.Equal(fs.ProductionStartedAt.Add(3*time.Minute)) {
			t.Errorf("%s: window closes at %s, want B's start + 3m", name, b.Until)
		}
	}
	waitEvent(t, pg, drv1alpha1.LoginChangedReason)

	// A second swap changes no rule: the first swap stays where it was.
	update(t, pg, func(p *drv1alpha1.ProtectionGroup) { p.Spec.DesiredActiveSite = drv1alpha1.SiteSource })
	cur = waitFor(t, pg, "Ready back at source", readyAt(drv1alpha1.SiteSource))
	if !cur.Status.FirstSwap.At.Equal(fs.At) {
		t.Errorf("the first swap moved with the second: %s -> %s", fs.At, cur.Status.FirstSwap.At)
	}
	if b := instance(t, cur, "win-pw").Login.Servers[1]; b.Role != "DisasterRecovery" {
		t.Errorf("after failing back, B is the DR server: %+v", b)
	}
}

// Failover readiness follows what SDRS reports, changes nothing, and
// fault level 5 holds even a forced failover.
func TestFailoverReadiness(t *testing.T) {
	needEnv(t)
	ns := newNamespace(t)
	g := seedGroup(t, emutest.Group{Instances: []emutest.Instance{{Name: "db", OSType: "Linux"}}})
	pair, inst := g.Instances[0].ReplicationID, g.Instances[0].ID
	pg := newPG(t, ns, "ready", g.ID)
	failoverReady := func(status metav1.ConditionStatus, reason string) func(*drv1alpha1.ProtectionGroup) bool {
		return func(p *drv1alpha1.ProtectionGroup) bool {
			c := meta.FindStatusCondition(p.Status.Conditions, drv1alpha1.FailoverReadyCondition)
			return c != nil && c.Status == status && c.Reason == reason && c.ObservedGeneration == p.Generation
		}
	}
	cur := waitFor(t, pg, "planned failover ready", failoverReady(metav1.ConditionTrue, drv1alpha1.PlannedFailoverReadyReason))
	if r := cur.Status.Readiness; r == nil || r.WorstFaultLevel != 0 || r.ReplicationPairs != 1 || r.CheckedAt == nil {
		t.Fatalf("readiness facts: %+v", r)
	}

	setPair(t, pair, emutest.PairFacts{FaultLevel: ptr("2"), RPOExceeded: ptr(true)})
	cur = waitFor(t, pg, "only forced", failoverReady(metav1.ConditionFalse, drv1alpha1.ForcedFailoverOnlyReason))
	if r := cur.Status.Readiness; r.Planned.Reason != drv1alpha1.FailoverAdvisedReason || !r.Forced.Ready || r.WorstFaultLevel != 2 {
		t.Errorf("fault level 2: %+v", r)
	}
	waitFor(t, pg, "RPO statistics read", func(p *drv1alpha1.ProtectionGroup) bool {
		return p.Status.Readiness != nil && p.Status.Readiness.RPOExceededPairs >= 1
	})

	setPair(t, pair, emutest.PairFacts{FaultLevel: ptr("5")})
	waitFor(t, pg, "no failover", failoverReady(metav1.ConditionFalse, drv1alpha1.NotFailoverReadyReason))
	update(t, pg, func(p *drv1alpha1.ProtectionGroup) {
		p.Spec.DesiredActiveSite = drv1alpha1.SiteTarget
		p.Spec.FailoverMode, p.Spec.AllowDataLoss = drv1alpha1.FailoverForced, true
	})
	waitFor(t, pg, "forced failover held by fault level 5", readyReason(drv1alpha1.FailoverNotAllowedReason))
	if n := sent(t, "StartFailoverProtectionGroup", g.ID) + sent(t, "StartReverseProtectionGroup", g.ID); n != 0 {
		t.Fatalf("an action was sent while SDRS allows none: %d", n)
	}

	// Repaired: the held failover runs, once.
	setPair(t, pair, emutest.PairFacts{FaultLevel: ptr("")})
	waitFor(t, pg, "failed over", func(p *drv1alpha1.ProtectionGroup) bool { return p.Status.ActiveSite == drv1alpha1.SiteTarget })
	if n := sent(t, "StartFailoverProtectionGroup", g.ID); n != 1 {
		t.Errorf("failover calls: %d, want 1", n)
	}
	waitFor(t, pg, "Ready at target", readyAt(drv1alpha1.SiteTarget))

	if err := admin.SetInstanceStatus(context.Background(), inst, "fault"); err != nil {
		t.Fatal(err)
	}
	cur = waitFor(t, pg, "instance fault seen", func(p *drv1alpha1.ProtectionGroup) bool {
		return p.Status.Readiness != nil && len(p.Status.Readiness.UnhealthyInstances) == 1
	})
	if r := cur.Status.Readiness; r.Planned.Reason != drv1alpha1.InstancesUnhealthyReason || !strings.Contains(r.UnhealthyInstances[0], "fault") {
		t.Errorf("instance fault: %+v", r)
	}
}

// A group the operator creates is empty: it says what is missing instead
// of sending a start SDRS can only refuse.
func TestCreatedEmptyGroupSaysWhatIsMissing(t *testing.T) {
	needEnv(t)
	ns := newNamespace(t)
	pg := newPG(t, ns, "empty", "", func(p *drv1alpha1.ProtectionGroup) {
		p.Spec.ForProvider = &drv1alpha1.GroupParameters{Name: "empty-" + ns, SourceAvailabilityZone: "cn-north-4a",
			TargetAvailabilityZone: "cn-north-4b", DomainID: domainID(t), SourceVpcID: "vpc-1"}
	})
	cur := waitFor(t, pg, "stalled: no members", readyReason(drv1alpha1.NoReplicationPairsReason))
	msg := condition(cur, drv1alpha1.StalledCondition).Message
	if !strings.Contains(msg, "protected-instances") || !strings.Contains(msg, cur.Status.Group.ID) {
		t.Errorf("the message must say how to add members: %q", msg)
	}
	if fs := cur.Status.FirstSwap; fs == nil || fs.State != drv1alpha1.FirstSwapNotYet {
		t.Errorf("a group the operator created has no past: %+v", fs)
	}
	// Look again twice more: still no start is sent.
	for i := 0; i < 2; i++ {
		before := get(t, pg).Status.Group.ObservedAt
		update(t, pg, func(p *drv1alpha1.ProtectionGroup) {
			metav1.SetMetaDataAnnotation(&p.ObjectMeta, drv1alpha1.RefreshAnnotation, fmt.Sprint(i))
		})
		waitFor(t, pg, "looked again", func(p *drv1alpha1.ProtectionGroup) bool {
			return readyReason(drv1alpha1.NoReplicationPairsReason)(p) && p.Status.Group.ObservedAt != nil && (before == nil || !p.Status.Group.ObservedAt.Before(before))
		})
	}
	if n := sent(t, "StartProtectionGroup", cur.Status.Group.ID); n != 0 {
		t.Errorf("start sent to an empty group: %d", n)
	}
	waitEvent(t, pg, drv1alpha1.NoReplicationPairsReason)
}

func instance(t *testing.T, pg *drv1alpha1.ProtectionGroup, name string) drv1alpha1.InstanceObservation {
	t.Helper()
	for _, in := range pg.Status.Instances {
		if in.Name == name {
			return in
		}
	}
	t.Fatalf("no instance %q in status", name)
	return drv1alpha1.InstanceObservation{}
}

func setPair(t *testing.T, id string, f emutest.PairFacts) {
	t.Helper()
	if err := admin.SetPair(context.Background(), id, f); err != nil {
		t.Fatalf("cannot set pair %s: %v", id, err)
	}
}

func waitEvent(t *testing.T, pg *drv1alpha1.ProtectionGroup, reason string) {
	t.Helper()
	NewWithT(t).Eventually(func() []string { return events(t, pg) }, converge, poll).Should(ContainElement(reason),
		"no %s Event", reason)
}
