package controllers

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	drv1alpha1 "github.com/sdrs-operator/sdrs-operator/api/v1alpha1"
	"github.com/sdrs-operator/sdrs-operator/internal/sdrs"
)

var now = time.Date(2026, 11, 25, 3, 0, 0, 0, time.UTC)

func TestSetObservationSwapsZones(t *testing.T) {
	cases := map[string]struct {
		reason string
		at     sdrs.Site
		want   drv1alpha1.SiteRoles
	}{
		"AtSource": {reason: "priority_station source: the source zone serves.", at: sdrs.SiteSource,
			want: drv1alpha1.SiteRoles{Production: "az1", DisasterRecovery: "az2"}},
		"AtTarget": {reason: "After a failover the zones swap roles.", at: sdrs.SiteTarget,
			want: drv1alpha1.SiteRoles{Production: "az2", DisasterRecovery: "az1"}},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			pg := &drv1alpha1.ProtectionGroup{}
			setObservation(pg, &sdrs.ProtectionGroup{ID: "g", Status: "protected", PriorityStation: tc.at,
				SourceAvailabilityZone: "az1", TargetAvailabilityZone: "az2", ReplicationStatus: "active", Progress: 100}, now)
			if diff := cmp.Diff(tc.want, *pg.Status.Sites); diff != "" {
				t.Errorf("\nReason: %s\nsites: -want, +got:\n%s", tc.reason, diff)
			}
			if pg.Status.ActiveSite != drv1alpha1.Site(tc.at) || pg.Status.Replication.Progress != 100 {
				t.Errorf("\nReason: %s\nstatus: %+v", tc.reason, pg.Status)
			}
		})
	}
}

func TestSetObservationObservedAt(t *testing.T) {
	group := func(status string) *sdrs.ProtectionGroup {
		return &sdrs.ProtectionGroup{ID: "g", Status: status, PriorityStation: sdrs.SiteSource,
			SourceAvailabilityZone: "az1", TargetAvailabilityZone: "az2", ReplicationStatus: "active", Progress: 100}
	}
	cases := map[string]struct {
		reason string
		then   time.Duration // when the first read happened, before now
		second *sdrs.ProtectionGroup
		want   time.Time
	}{
		"Unchanged": {reason: "An idle sync that reads the same group leaves the status as it was: no write.",
			then: 5 * time.Minute, second: group("protected"), want: now.Add(-5 * time.Minute)},
		"Changed": {reason: "A changed group moves observedAt.",
			then: 5 * time.Minute, second: group("reversing"), want: now},
		"Stale": {reason: "Once an hour observedAt moves even while nothing changes.",
			then: observedAtRefresh, second: group("protected"), want: now},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			pg := &drv1alpha1.ProtectionGroup{}
			setObservation(pg, group("protected"), now.Add(-tc.then))
			setObservation(pg, tc.second, now)
			if got := pg.Status.Group.ObservedAt.Time; !got.Equal(tc.want) {
				t.Errorf("\nReason: %s\nobservedAt %s, want %s", tc.reason, got, tc.want)
			}
			if pg.Status.Group.Status != tc.second.Status {
				t.Errorf("\nReason: %s\nthe group's status must always be current: %+v", tc.reason, pg.Status.Group)
			}
		})
	}
}

func TestSetKstatusConditions(t *testing.T) {
	type want struct{ ready, reconciling, stalled metav1.ConditionStatus }
	cases := map[string]struct {
		reason    string
		outcome   outcome
		converged bool
		want      want
		readyWhy  string
	}{
		"Converged": {reason: "Nothing to do: Ready, neither Reconciling nor Stalled.", converged: true,
			want: want{metav1.ConditionTrue, metav1.ConditionFalse, metav1.ConditionFalse}, readyWhy: drv1alpha1.ReconciledReason},
		"JobRunning": {reason: "A job in flight is progress, never Stalled.",
			outcome: outcome{reason: drv1alpha1.FailoverInProgressReason, reconciling: true},
			want:    want{metav1.ConditionFalse, metav1.ConditionTrue, metav1.ConditionFalse}, readyWhy: drv1alpha1.FailoverInProgressReason},
		"JobFailed": {reason: "A failed job needs a person: Stalled, not Reconciling.",
			outcome: outcome{reason: drv1alpha1.JobFailedReason, stalled: true},
			want:    want{metav1.ConditionFalse, metav1.ConditionFalse, metav1.ConditionTrue}, readyWhy: drv1alpha1.JobFailedReason},
		"Paused": {reason: "Paused is neither progress nor failure.",
			outcome: outcome{reason: drv1alpha1.ReconciliationPausedReason},
			want:    want{metav1.ConditionFalse, metav1.ConditionFalse, metav1.ConditionFalse}, readyWhy: drv1alpha1.ReconciliationPausedReason},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			pg := &drv1alpha1.ProtectionGroup{ObjectMeta: metav1.ObjectMeta{Generation: 3}}
			setKstatusConditions(pg, tc.outcome, tc.converged, now)
			got := want{condStatus(pg, drv1alpha1.ReadyCondition), condStatus(pg, drv1alpha1.ReconcilingCondition), condStatus(pg, drv1alpha1.StalledCondition)}
			if got != tc.want || readyReason(pg) != tc.readyWhy {
				t.Errorf("\nReason: %s\nwant %+v (Ready %s), got %+v (Ready %s)", tc.reason, tc.want, tc.readyWhy, got, readyReason(pg))
			}
			for _, c := range pg.Status.Conditions {
				if c.ObservedGeneration != 3 {
					t.Errorf("%s carries observedGeneration %d, want 3", c.Type, c.ObservedGeneration)
				}
			}
		})
	}
}

func TestSetProtectedCondition(t *testing.T) {
	cases := map[string]struct {
		reason string
		group  *sdrs.ProtectionGroup
		want   metav1.Condition
	}{
		"Unread": {reason: "Before the first read protection is Unknown.",
			want: metav1.Condition{Type: drv1alpha1.ProtectedCondition, Status: metav1.ConditionUnknown, Reason: drv1alpha1.ProtectionUnknownReason}},
		"Replicating": {reason: "Protected and synchronised.",
			group: &sdrs.ProtectionGroup{Status: "protected", ProtectedStatus: "started", ReplicationStatus: "active"},
			want:  metav1.Condition{Type: drv1alpha1.ProtectedCondition, Status: metav1.ConditionTrue, Reason: drv1alpha1.ProtectionStartedReason}},
		"Copying": {reason: "Protection started but not yet synchronised is not yet protection.",
			group: &sdrs.ProtectionGroup{Status: "protected", ProtectedStatus: "started", ReplicationStatus: "copying", Progress: 40},
			want:  metav1.Condition{Type: drv1alpha1.ProtectedCondition, Status: metav1.ConditionFalse, Reason: drv1alpha1.ReplicationCopyingReason}},
		"FailedOver": {reason: "After a failover replication is stopped until re-protect.",
			group: &sdrs.ProtectionGroup{Status: "failed-over", ProtectedStatus: "stopped", ReplicationStatus: "active-stopped"},
			want:  metav1.Condition{Type: drv1alpha1.ProtectedCondition, Status: metav1.ConditionFalse, Reason: drv1alpha1.FailedOverReason}},
		"Available": {reason: "An unprotected group is not protected.",
			group: &sdrs.ProtectionGroup{Status: "available"},
			want:  metav1.Condition{Type: drv1alpha1.ProtectedCondition, Status: metav1.ConditionFalse, Reason: drv1alpha1.ProtectionStoppedReason}},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			pg := &drv1alpha1.ProtectionGroup{}
			setProtectedCondition(pg, tc.group, now)
			got := pg.Status.Conditions[0]
			if diff := cmp.Diff(tc.want, got, cmpopts.IgnoreFields(metav1.Condition{}, "Message", "LastTransitionTime", "ObservedGeneration")); diff != "" {
				t.Errorf("\nReason: %s\n-want, +got:\n%s", tc.reason, diff)
			}
		})
	}
}

func TestNeedsInstanceRefresh(t *testing.T) {
	g := &sdrs.ProtectionGroup{PriorityStation: sdrs.SiteTarget, ProtectedInstanceCount: 1}
	pg := &drv1alpha1.ProtectionGroup{}
	if !needsInstanceRefresh(pg, g) {
		t.Error("no instances recorded yet: refresh")
	}
	pg.Status.Instances = []drv1alpha1.InstanceObservation{{ID: "i", ServingSite: drv1alpha1.SiteSource}}
	if !needsInstanceRefresh(pg, g) {
		t.Error("serving site differs from the group's: refresh (failover made outside)")
	}
	pg.Status.Instances[0].ServingSite = drv1alpha1.SiteTarget
	if needsInstanceRefresh(pg, g) {
		t.Error("up to date: no refresh (idle groups must stay cheap)")
	}
}

func condStatus(pg *drv1alpha1.ProtectionGroup, typ string) metav1.ConditionStatus {
	for _, c := range pg.Status.Conditions {
		if c.Type == typ {
			return c.Status
		}
	}
	return ""
}

func TestSwapServingSiteAfterPlannedFailover(t *testing.T) {
	before := func() *drv1alpha1.ProtectionGroup {
		return &drv1alpha1.ProtectionGroup{Status: drv1alpha1.ProtectionGroupStatus{Instances: []drv1alpha1.InstanceObservation{{
			ID: "i-1", OSType: "Linux",
			SourceServer: drv1alpha1.ServerObservation{ID: "s-src", AvailabilityZone: "az-a", Power: "ACTIVE"},
			TargetServer: drv1alpha1.ServerObservation{ID: "s-dst", AvailabilityZone: "az-b", Power: "SHUTOFF"},
			ServingSite:  drv1alpha1.SiteSource, ServingServerID: "s-src",
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
