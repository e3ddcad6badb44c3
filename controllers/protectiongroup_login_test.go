package controllers

import (
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	drv1alpha1 "github.com/sdrs-operator/sdrs-operator/api/v1alpha1"
	"github.com/sdrs-operator/sdrs-operator/internal/sdrs"
)

func TestFirstSwapAtAdoption(t *testing.T) {
	created := &drv1alpha1.ProtectionGroup{Spec: drv1alpha1.ProtectionGroupSpec{ForProvider: &drv1alpha1.GroupParameters{Name: "g"}}}
	adopted := &drv1alpha1.ProtectionGroup{Spec: drv1alpha1.ProtectionGroupSpec{ProtectionGroupID: "id"}}
	swapped := adopted.DeepCopy()
	swapped.Status.History = []drv1alpha1.Operation{{Type: drv1alpha1.OperationFailover, Result: drv1alpha1.OperationSucceeded}}
	atSource := &sdrs.ProtectionGroup{PriorityStation: sdrs.SiteSource}
	atTarget := &sdrs.ProtectionGroup{PriorityStation: sdrs.SiteTarget}
	for name, c := range map[string]struct {
		pg   *drv1alpha1.ProtectionGroup
		g    *sdrs.ProtectionGroup
		want drv1alpha1.FirstSwapState
	}{
		"created by the operator":            {created, atSource, drv1alpha1.FirstSwapNotYet},
		"adopted at source: past unknown":    {adopted, atSource, drv1alpha1.FirstSwapUnknown},
		"adopted at target: it has swapped":  {adopted, atTarget, drv1alpha1.FirstSwapDone},
		"history shows a swap the op ran":    {swapped, atSource, drv1alpha1.FirstSwapDone},
		"created, found at target (outside)": {created, atTarget, drv1alpha1.FirstSwapDone},
	} {
		if got := firstSwapAtAdoption(c.pg, c.g).State; got != c.want {
			t.Errorf("%s: %s, want %s", name, got, c.want)
		}
	}
}

func TestTrackFirstSwap(t *testing.T) {
	now := time.Date(2026, 12, 6, 3, 0, 0, 0, time.UTC)
	done := metav1.NewTime(now.Add(-time.Minute))
	pg := &drv1alpha1.ProtectionGroup{Spec: drv1alpha1.ProtectionGroupSpec{
		ForProvider: &drv1alpha1.GroupParameters{Name: "g"}, ServerPower: drv1alpha1.ServerPowerManual}}
	if trackFirstSwap(pg, nil, nil, now) || pg.Status.FirstSwap != nil {
		t.Fatal("nothing known before the group is read")
	}
	trackFirstSwap(pg, &sdrs.ProtectionGroup{PriorityStation: sdrs.SiteSource}, nil, now)
	if pg.Status.FirstSwap.State != drv1alpha1.FirstSwapNotYet {
		t.Fatalf("created group: %s", pg.Status.FirstSwap.State)
	}
	reprotect := &drv1alpha1.Operation{Type: drv1alpha1.OperationReprotect, Result: drv1alpha1.OperationSucceeded, FinishedAt: &done}
	if trackFirstSwap(pg, nil, reprotect, now) {
		t.Fatal("a re-protect is no swap")
	}
	failed := &drv1alpha1.Operation{Type: drv1alpha1.OperationPlannedFailover, Result: drv1alpha1.OperationFailed, FinishedAt: &done}
	if trackFirstSwap(pg, nil, failed, now) {
		t.Fatal("a failed planned failover is no swap")
	}
	pg.Status.ActiveSite = drv1alpha1.SiteTarget
	pg.Status.Instances = []drv1alpha1.InstanceObservation{{ID: "i", OSType: "Windows",
		SourceServer: drv1alpha1.ServerObservation{ID: "a", Power: sdrs.PowerShutoff},
		TargetServer: drv1alpha1.ServerObservation{ID: "b", Power: sdrs.PowerShutoff},
		ServingSite:  drv1alpha1.SiteTarget, ServingServerID: "b"}}
	planned := &drv1alpha1.Operation{Type: drv1alpha1.OperationPlannedFailover, Result: drv1alpha1.OperationSucceeded, FinishedAt: &done}
	if !trackFirstSwap(pg, nil, planned, now) {
		t.Fatal("the first successful planned failover is the first swap")
	}
	if pg.Status.FirstSwap.ProductionStartedAt != nil {
		t.Fatal("serverPower Manual and B is off: its start is not known yet")
	}
	setLoginGuidance(pg, now)
	if got := pg.Status.Instances[0].Login.Servers[1].Credential; got != drv1alpha1.CredentialBPasswordUntilInit {
		t.Fatalf("Windows B right after the swap: %s", got)
	}
	if msg := loginChangedMessage(pg); !strings.Contains(msg, "Cloudbase-Init") {
		t.Errorf("the Event must say what changed: %q", msg)
	}
	pg.Status.Instances[0].TargetServer.Power = sdrs.PowerActive
	if trackFirstSwap(pg, nil, nil, now) {
		t.Fatal("the first swap is reported once")
	}
	if at := pg.Status.FirstSwap.ProductionStartedAt; at == nil || !at.Time.Equal(now) {
		t.Fatalf("B seen running: window starts now, got %v", at)
	}
	setLoginGuidance(pg, now.Add(6*time.Minute))
	if got := pg.Status.Instances[0].Login.Servers[1].Credential; got != drv1alpha1.CredentialBResetPassword {
		t.Fatalf("6 minutes after B started: %s, want the reset password", got)
	}
}

func TestGuestInitAgentOverride(t *testing.T) {
	in := &drv1alpha1.InstanceObservation{ID: "pi-1", Name: "db-1"}
	spec := &drv1alpha1.LoginSpec{GuestInitAgent: drv1alpha1.GuestInitNotInstalled,
		Instances: []drv1alpha1.InstanceLoginSpec{{Instance: "db-1", GuestInitAgent: drv1alpha1.GuestInitInstalled}}}
	if got := guestInitAgent(nil, in); got != drv1alpha1.GuestInitInstalled {
		t.Errorf("default: %s", got)
	}
	if got := guestInitAgent(spec, in); got != drv1alpha1.GuestInitInstalled {
		t.Errorf("override by name: %s", got)
	}
	if got := guestInitAgent(spec, &drv1alpha1.InstanceObservation{ID: "pi-2"}); got != drv1alpha1.GuestInitNotInstalled {
		t.Errorf("group setting: %s", got)
	}
}
