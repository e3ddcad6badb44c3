package controllers_test

import (
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	drv1alpha1 "github.com/sdrs-operator/sdrs-operator/api/v1alpha1"
	"github.com/sdrs-operator/sdrs-operator/internal/emutest"
)

// A planned switchover with serverPower Managed is the whole runbook: stop
// the production servers, reverse, start the servers at the new site; and
// back again. SDRS sees exactly one reverse per switchover.
func TestPlannedSwitchoverManaged(t *testing.T) {
	needEnv(t)
	ns := newNamespace(t)
	g := seedGroup(t, emutest.Group{Instances: []emutest.Instance{{Name: "web", OSType: "Windows"}}})
	inst := g.Instances[0]
	pg := newPG(t, ns, "web", g.ID)

	cur := waitFor(t, pg, "Ready at source", readyAt(drv1alpha1.SiteSource))
	if cur.Status.Sites == nil || cur.Status.Sites.Production != "cn-north-4a" || cur.Status.Sites.DisasterRecovery != "cn-north-4b" {
		t.Fatalf("sites before switchover: %+v", cur.Status.Sites)
	}
	if c := condition(cur, drv1alpha1.ProtectedCondition); c.Status != metav1.ConditionTrue {
		t.Fatalf("Protected before switchover: %+v", c)
	}
	if len(cur.Status.Instances) != 1 || cur.Status.Instances[0].ServingServerID != inst.SourceServer {
		t.Fatalf("instances before switchover: %+v", cur.Status.Instances)
	}

	start := time.Now()
	update(t, pg, func(p *drv1alpha1.ProtectionGroup) { p.Spec.DesiredActiveSite = drv1alpha1.SiteTarget })
	cur = waitFor(t, pg, "Ready at target", readyAt(drv1alpha1.SiteTarget))

	if got := cur.Status.Sites; got.Production != "cn-north-4b" || got.DisasterRecovery != "cn-north-4a" {
		t.Errorf("sites did not swap: %+v", got)
	}
	in := cur.Status.Instances[0]
	if in.ServingServerID != inst.TargetServer || in.ServingSite != drv1alpha1.SiteTarget {
		t.Errorf("serving server after switchover: %+v", in)
	}
	if in.TargetServer.Power != "ACTIVE" || in.SourceServer.Power != "SHUTOFF" {
		t.Errorf("server power after switchover: source %s, target %s; want SHUTOFF, ACTIVE", in.SourceServer.Power, in.TargetServer.Power)
	}
	if fs := cur.Status.FirstSwap; fs == nil || fs.State != drv1alpha1.FirstSwapDone || fs.ProductionStartedAt == nil {
		t.Errorf("firstSwap after the operator's first planned failover (servers started by it): %+v", fs)
	}
	if l := in.Login; l == nil || len(l.Servers) != 2 || l.Servers[1].Role != "Production" ||
		l.Servers[1].Credential != drv1alpha1.CredentialBPasswordUntilInit || l.Servers[1].Until == nil {
		t.Errorf("Windows login guidance after the first swap (B's password until Cloudbase-Init starts): %+v", l)
	}
	order := callOrder(t, start, "BatchStopServers", "StartReverseProtectionGroup", "BatchStartServers")
	if strings.Join(order, ",") != "BatchStopServers,StartReverseProtectionGroup,BatchStartServers" {
		t.Errorf("runbook order: got %v", order)
	}
	if n := calls(t, "StartReverseProtectionGroup", g.ID); n != 1 {
		t.Errorf("reverse calls after one switchover: got %d, want 1", n)
	}
	last := cur.Status.LastOperation
	if last == nil || last.Type != drv1alpha1.OperationPlannedFailover || last.Result != drv1alpha1.OperationSucceeded ||
		last.JobID == "" || last.From != drv1alpha1.SiteSource || last.To != drv1alpha1.SiteTarget {
		t.Errorf("lastOperation: %+v", last)
	}
	if cur.Status.CurrentOperation != nil {
		t.Errorf("currentOperation left behind: %+v", cur.Status.CurrentOperation)
	}

	update(t, pg, func(p *drv1alpha1.ProtectionGroup) { p.Spec.DesiredActiveSite = drv1alpha1.SiteSource })
	cur = waitFor(t, pg, "Ready back at source", readyAt(drv1alpha1.SiteSource))
	if n := calls(t, "StartReverseProtectionGroup", g.ID); n != 2 {
		t.Errorf("reverse calls after switching back: got %d, want 2", n)
	}
	if len(cur.Status.History) != 2 {
		t.Errorf("history: got %d entries, want 2", len(cur.Status.History))
	}
	if v := metricValue(t, "sdrs_operator_operations_total", map[string]string{"type": "PlannedFailover", "result": "Succeeded"}); v < 2 {
		t.Errorf("operations_total{PlannedFailover,Succeeded} = %v, want >= 2", v)
	}
	if v := metricValue(t, "sdrs_operator_cloud_api_calls_total", map[string]string{"operation": "StartReverseProtectionGroup"}); v < 2 {
		t.Errorf("cloud_api_calls_total{StartReverseProtectionGroup} = %v, want >= 2", v)
	}
	// The test's namespace holds web alone: the fleet count is web's site.
	if v := metricValue(t, "sdrs_operator_protectiongroups", map[string]string{"namespace": ns, "active_site": "source"}); v != 1 {
		t.Errorf("protectiongroups{%s,source} = %v, want 1", ns, v)
	}
	reasons := strings.Join(events(t, pg), ",")
	for _, want := range []string{drv1alpha1.StoppingServersReason, drv1alpha1.OperationSucceededReason, drv1alpha1.ReconciledReason} {
		if !strings.Contains(reasons, want) {
			t.Errorf("no %s Event; events: %s", want, reasons)
		}
	}
}
