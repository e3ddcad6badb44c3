package controllers

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	drv1alpha1 "github.com/sdrs-operator/sdrs-operator/api/v1alpha1"
	"github.com/sdrs-operator/sdrs-operator/internal/sdrs"
)

// Tests of what keeps a fleet-wide failover cheap; see docs/performance.md.

func TestSwapServingSiteAfterPlannedFailover(t *testing.T) {
	before := func() *drv1alpha1.ProtectionGroup {
		return &drv1alpha1.ProtectionGroup{Status: drv1alpha1.ProtectionGroupStatus{Instances: []drv1alpha1.InstanceObservation{{
			ID: "i-1", OSType: "Linux",
			SourceServer: drv1alpha1.ServerObservation{ID: "s-src", AvailabilityZone: "az-a", Power: "ACTIVE"},
			TargetServer: drv1alpha1.ServerObservation{ID: "s-dst", AvailabilityZone: "az-b", Power: "SHUTOFF"},
			ServingSite:  drv1alpha1.SiteSource, ServingServerID: "s-src", Login: "linux",
		}}}}
	}
	planned := &drv1alpha1.Operation{Type: drv1alpha1.OperationPlannedFailover, Result: drv1alpha1.OperationSucceeded,
		From: drv1alpha1.SiteSource, To: drv1alpha1.SiteTarget}
	atTarget := &sdrs.ProtectionGroup{PriorityStation: sdrs.SiteTarget, ProtectedInstanceCount: 1}

	pg := before()
	if !swapServingSite(pg, atTarget, planned) {
		t.Fatal("a planned failover with unchanged instances must not need reads")
	}
	want := before().Status.Instances
	want[0].SourceServer.Power = "SHUTOFF" // SDRS reversed it, so it was off
	want[0].ServingSite, want[0].ServingServerID = drv1alpha1.SiteTarget, "s-dst"
	if d := cmp.Diff(want, pg.Status.Instances); d != "" {
		t.Errorf("instances after the swap (-want +got):\n%s", d)
	}

	back := &drv1alpha1.Operation{Type: drv1alpha1.OperationPlannedFailover, Result: drv1alpha1.OperationSucceeded,
		From: drv1alpha1.SiteTarget, To: drv1alpha1.SiteSource}
	if !swapServingSite(pg, &sdrs.ProtectionGroup{PriorityStation: sdrs.SiteSource, ProtectedInstanceCount: 1}, back) {
		t.Fatal("switching back must not need reads either")
	}
	if in := pg.Status.Instances[0]; in.ServingSite != drv1alpha1.SiteSource || in.ServingServerID != "s-src" || in.TargetServer.Power != "SHUTOFF" {
		t.Errorf("after switching back: %+v", in)
	}

	for name, c := range map[string]struct {
		g  *sdrs.ProtectionGroup
		op *drv1alpha1.Operation
	}{
		"group not read":        {nil, planned},
		"no operation ended":    {atTarget, nil},
		"an instance added":     {&sdrs.ProtectionGroup{PriorityStation: sdrs.SiteTarget, ProtectedInstanceCount: 2}, planned},
		"group elsewhere":       {&sdrs.ProtectionGroup{PriorityStation: sdrs.SiteSource, ProtectedInstanceCount: 1}, planned},
		"forced failover":       {atTarget, &drv1alpha1.Operation{Type: drv1alpha1.OperationFailover, Result: drv1alpha1.OperationSucceeded, To: drv1alpha1.SiteTarget}},
		"failed planned":        {atTarget, &drv1alpha1.Operation{Type: drv1alpha1.OperationPlannedFailover, Result: drv1alpha1.OperationFailed, To: drv1alpha1.SiteTarget}},
		"re-protect, same site": {atTarget, &drv1alpha1.Operation{Type: drv1alpha1.OperationReprotect, Result: drv1alpha1.OperationSucceeded, To: drv1alpha1.SiteTarget}},
	} {
		pg := before()
		if swapServingSite(pg, c.g, c.op) {
			t.Errorf("%s: must read the instances instead", name)
		}
		if d := cmp.Diff(before().Status.Instances, pg.Status.Instances); d != "" {
			t.Errorf("%s: changed the instances without reading them:\n%s", name, d)
		}
	}
}
