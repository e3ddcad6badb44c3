package controllers

import (
	"strings"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	drv1alpha1 "github.com/sdrs-operator/sdrs-operator/api/v1alpha1"
	"github.com/sdrs-operator/sdrs-operator/internal/sdrs"
)

func TestJudgeReadiness(t *testing.T) {
	healthy := func() *sdrs.ProtectionGroup {
		return &sdrs.ProtectionGroup{ID: "g", Status: sdrs.StatusProtected, PriorityStation: sdrs.SiteSource,
			ReplicationStatus: sdrs.ReplicationActive, HealthStatus: sdrs.HealthNormal, Progress: 100,
			SourceAvailabilityZone: "az1", TargetAvailabilityZone: "az2"}
	}
	with := func(mod func(g *sdrs.ProtectionGroup)) *sdrs.ProtectionGroup { g := healthy(); mod(g); return g }
	facts := func(fault int, unhealthy ...string) *groupFacts {
		return &groupFacts{pairs: 2, worstFault: fault, unhealthy: unhealthy}
	}
	managed := &drv1alpha1.ProtectionGroupSpec{ServerPower: drv1alpha1.ServerPowerManaged}
	manual := &drv1alpha1.ProtectionGroupSpec{ServerPower: drv1alpha1.ServerPowerManual}
	const (
		yes = ""
	)
	cases := []struct {
		name            string
		in              readinessInput
		planned, forced string // reason, "" when ready
	}{
		{"healthy protected group", readinessInput{spec: managed, group: healthy(), facts: facts(0)}, yes, yes},
		{"operation in flight", readinessInput{spec: managed, group: healthy(), facts: facts(0), inFlight: &drv1alpha1.Operation{Type: drv1alpha1.OperationReprotect}},
			drv1alpha1.OperationInProgressReason, drv1alpha1.OperationInProgressReason},
		{"group not read", readinessInput{spec: managed}, drv1alpha1.ReadinessUnknownReason, drv1alpha1.ReadinessUnknownReason},
		{"pairs not read", readinessInput{spec: managed, group: healthy()}, drv1alpha1.ReadinessUnknownReason, drv1alpha1.ReadinessUnknownReason},
		{"busy", readinessInput{spec: managed, group: with(func(g *sdrs.ProtectionGroup) { g.Status = sdrs.StatusReversing }), facts: facts(0)},
			drv1alpha1.GroupBusyReason, drv1alpha1.GroupBusyReason},
		{"no pairs", readinessInput{spec: managed, group: healthy(), facts: &groupFacts{}}, drv1alpha1.NoReplicationPairsReason, drv1alpha1.NoReplicationPairsReason},
		{"fault level 5", readinessInput{spec: managed, group: healthy(), facts: facts(sdrs.FaultLinkBroken)},
			drv1alpha1.FailoverNotAllowedReason, drv1alpha1.FailoverNotAllowedReason},
		{"fault level 2", readinessInput{spec: managed, group: healthy(), facts: facts(sdrs.FaultFailoverAdvised)}, drv1alpha1.FailoverAdvisedReason, yes},
		{"production site down", readinessInput{spec: managed, group: with(func(g *sdrs.ProtectionGroup) { g.HealthStatus = sdrs.HealthAbnormal }), facts: facts(0)},
			drv1alpha1.ProductionSiteUnhealthyReason, yes},
		{"replication copying", readinessInput{spec: managed, group: with(func(g *sdrs.ProtectionGroup) { g.ReplicationStatus = sdrs.ReplicationCopying }), facts: facts(0)},
			drv1alpha1.ReplicationNotSynchronizedReason, yes},
		{"instance fault", readinessInput{spec: managed, group: healthy(), facts: facts(0, "db-1 (fault)")}, drv1alpha1.InstancesUnhealthyReason, yes},
		{"instance invalid", readinessInput{spec: managed, group: healthy(), facts: &groupFacts{pairs: 1, invalid: true, unhealthy: []string{"db-1 (invalid)"}}},
			drv1alpha1.InstancesUnhealthyReason, drv1alpha1.InstancesUnhealthyReason},
		{"failed over: re-protect first", readinessInput{spec: managed, group: with(func(g *sdrs.ProtectionGroup) { g.Status = sdrs.StatusFailedOver }), facts: facts(0)},
			drv1alpha1.PreconditionNotMetReason, drv1alpha1.PreconditionNotMetReason},
		{"error-failing-over: forced may retry", readinessInput{spec: managed, group: with(func(g *sdrs.ProtectionGroup) { g.Status = sdrs.StatusErrorFailingOver }), facts: facts(0)},
			drv1alpha1.PreconditionNotMetReason, yes},
		{"error-reversing: both", readinessInput{spec: managed, group: with(func(g *sdrs.ProtectionGroup) { g.Status = sdrs.StatusErrorReversing }), facts: facts(0)}, yes, yes},
		{"manual with servers running: a person stops them as a step", readinessInput{spec: manual, group: healthy(), facts: facts(0), running: []string{"srv-1"}},
			yes, yes},
		{"manual with servers stopped", readinessInput{spec: manual, group: healthy(), facts: facts(0)}, yes, yes},
		{"managed stops them itself", readinessInput{spec: managed, group: healthy(), facts: facts(0), running: []string{"srv-1"}}, yes, yes},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p, f := judgeReadiness(c.in)
			if p.Ready != (c.planned == yes) || p.Reason != c.planned {
				t.Errorf("planned = %+v, want reason %q", p, c.planned)
			}
			if f.Ready != (c.forced == yes) || f.Reason != c.forced {
				t.Errorf("forced = %+v, want reason %q", f, c.forced)
			}
			for _, ch := range []check{p, f} {
				if !ch.Ready && ch.Message == "" {
					t.Errorf("a refusal without a message: %+v", ch)
				}
			}
		})
	}
}

func TestFailoverReadyCondition(t *testing.T) {
	now := time.Date(2026, 12, 6, 3, 0, 0, 0, time.UTC)
	g := &sdrs.ProtectionGroup{ID: "g", Status: sdrs.StatusProtected, PriorityStation: sdrs.SiteSource,
		ReplicationStatus: sdrs.ReplicationActive, HealthStatus: sdrs.HealthNormal}
	spec := &drv1alpha1.ProtectionGroupSpec{ServerPower: drv1alpha1.ServerPowerManaged}
	pg := &drv1alpha1.ProtectionGroup{Status: drv1alpha1.ProtectionGroupStatus{ActiveSite: drv1alpha1.SiteSource}}

	setReadiness(pg, readinessInput{spec: spec, group: g, facts: &groupFacts{at: now, pairs: 1, rpoExceeded: 3}}, now)
	c := meta.FindStatusCondition(pg.Status.Conditions, drv1alpha1.FailoverReadyCondition)
	if c == nil || c.Status != metav1.ConditionTrue || c.Reason != drv1alpha1.PlannedFailoverReadyReason || !strings.Contains(c.Message, "target") {
		t.Fatalf("healthy: %+v", c)
	}
	if r := pg.Status.Readiness; r.RPOExceededPairs != 3 || r.ReplicationPairs != 1 || r.CheckedAt == nil {
		t.Fatalf("readiness facts: %+v", r)
	}

	// An idle sync with the same facts an hour later moves nothing but
	// checkedAt, which stays put (no write).
	later := now.Add(30 * time.Minute)
	setReadiness(pg, readinessInput{spec: spec, group: g, facts: &groupFacts{at: later, pairs: 1, rpoExceeded: 3}}, later)
	if !pg.Status.Readiness.CheckedAt.Time.Equal(now) {
		t.Errorf("checkedAt moved on an unchanged read: %v", pg.Status.Readiness.CheckedAt)
	}

	setReadiness(pg, readinessInput{spec: spec, group: g, facts: &groupFacts{at: later, pairs: 1, worstFault: sdrs.FaultFailoverAdvised}}, later)
	c = meta.FindStatusCondition(pg.Status.Conditions, drv1alpha1.FailoverReadyCondition)
	if c.Status != metav1.ConditionFalse || c.Reason != drv1alpha1.ForcedFailoverOnlyReason || !strings.Contains(c.Message, "fault level 2") {
		t.Errorf("fault 2: %+v", c)
	}
	if !pg.Status.Readiness.CheckedAt.Time.Equal(later) {
		t.Errorf("a changed read must carry its time")
	}

	setReadiness(pg, readinessInput{spec: spec, group: g, facts: &groupFacts{at: later, pairs: 1, worstFault: sdrs.FaultLinkBroken}}, later)
	c = meta.FindStatusCondition(pg.Status.Conditions, drv1alpha1.FailoverReadyCondition)
	if c.Status != metav1.ConditionFalse || c.Reason != drv1alpha1.NotFailoverReadyReason {
		t.Errorf("fault 5: %+v", c)
	}

	setReadiness(pg, readinessInput{spec: spec, inFlight: &drv1alpha1.Operation{Type: drv1alpha1.OperationFailover}}, later)
	c = meta.FindStatusCondition(pg.Status.Conditions, drv1alpha1.FailoverReadyCondition)
	if c.Status != metav1.ConditionUnknown || c.Reason != drv1alpha1.OperationInProgressReason {
		t.Errorf("in flight: %+v", c)
	}
}
