package status_test

import (
	"encoding/json"
	"testing"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"sigs.k8s.io/controller-runtime/pkg/client"

	drv1alpha1 "github.com/sdrs-operator/sdrs-operator/api/v1alpha1"
	"github.com/sdrs-operator/sdrs-operator/internal/plugin/cli"
	"github.com/sdrs-operator/sdrs-operator/internal/plugin/clitest"
	"github.com/sdrs-operator/sdrs-operator/internal/plugin/status"
)

// groups covers each kind of row: converged after a forced failover that
// left failoverMode Forced, a planned failover in flight (Ready stale for
// the new generation) on a paused group, a fresh group the operator has
// not read yet, and one in another namespace.
func groups() []client.Object {
	moving := clitest.PG("billing", func(pg *drv1alpha1.ProtectionGroup) {
		pg.Generation = 3
		pg.Spec.DesiredActiveSite = drv1alpha1.SiteTarget
		pg.Status.Replication = &drv1alpha1.ReplicationObservation{Status: "copying", Progress: 42}
		pg.Status.CurrentOperation = &drv1alpha1.Operation{Type: drv1alpha1.OperationPlannedFailover, Step: drv1alpha1.StepStopServers}
		pg.Status.LastOperation = &drv1alpha1.Operation{Type: drv1alpha1.OperationEnableProtection, Result: drv1alpha1.OperationSucceeded}
	}, clitest.Annotations(drv1alpha1.PausedAnnotation, "true"))
	done := clitest.PG("crm", func(pg *drv1alpha1.ProtectionGroup) {
		pg.Spec.DesiredActiveSite, pg.Status.ActiveSite = drv1alpha1.SiteTarget, drv1alpha1.SiteTarget
		pg.Status.Sites = &drv1alpha1.SiteRoles{Production: "az-2", DisasterRecovery: "az-1"}
		pg.Spec.FailoverMode, pg.Spec.AllowDataLoss = drv1alpha1.FailoverForced, true
		pg.Status.LastOperation = &drv1alpha1.Operation{Type: drv1alpha1.OperationFailover, Result: drv1alpha1.OperationSucceeded}
		// Failed over with serverPower Manual: the new production server
		// is still off.
		pg.Status.Instances = []drv1alpha1.InstanceObservation{{ID: "pi-1", ServingSite: drv1alpha1.SiteTarget,
			TargetServer: drv1alpha1.ServerObservation{ID: "srv-b", Power: "SHUTOFF"}}}
		meta.SetStatusCondition(&pg.Status.Conditions, metav1.Condition{Type: drv1alpha1.ServersRunningCondition,
			Status: metav1.ConditionFalse, Reason: drv1alpha1.ServersStoppedReason, Message: "servers at the active site are not running: srv-b"})
	})
	fresh := clitest.PG("new", func(pg *drv1alpha1.ProtectionGroup) { pg.Status = drv1alpha1.ProtectionGroupStatus{} })
	other := clitest.PG("erp", clitest.InNamespace("finance"), func(pg *drv1alpha1.ProtectionGroup) {
		meta.SetStatusCondition(&pg.Status.Conditions, metav1.Condition{Type: drv1alpha1.ServersRunningCondition,
			Status: metav1.ConditionTrue, Reason: drv1alpha1.ServersRunningReason, Message: "they run"})
	})
	return []client.Object{moving, done, fresh, other}
}

func TestStatusTable(t *testing.T) {
	cases := []struct {
		name string
		o    status.Options
		want string
	}{
		{name: "namespace", want: "" +
			"NAME      DESIRED   ACTIVE   MODE      PRODUCTION   DR     REPLICATION   SERVERS       OPERATION                     LAST                         READY\n" +
			"billing   target    source   Planned   az-1         az-2   copying 42%   -             PlannedFailover/StopServers   Succeeded EnableProtection   True/Reconciled (stale) (paused)\n" +
			"crm       target    target   Forced    az-2         az-1   active 100%   1/1 stopped   -                             Succeeded Failover           True/Reconciled\n" +
			"new       source    -        Planned   -            -      -             -             -                             -                            -\n"},
		{name: "all namespaces adds NAMESPACE", o: status.Options{Selection: cli.Selection{AllNamespaces: true, Selector: "!x"}}, want: "" +
			"NAMESPACE   NAME      DESIRED   ACTIVE   MODE      PRODUCTION   DR     REPLICATION   SERVERS       OPERATION                     LAST                         READY\n" +
			"apps        billing   target    source   Planned   az-1         az-2   copying 42%   -             PlannedFailover/StopServers   Succeeded EnableProtection   True/Reconciled (stale) (paused)\n" +
			"apps        crm       target    target   Forced    az-2         az-1   active 100%   1/1 stopped   -                             Succeeded Failover           True/Reconciled\n" +
			"apps        new       source    -        Planned   -            -      -             -             -                             -                            -\n" +
			"finance     erp       source    source   Planned   az-1         az-2   active 100%   running       -                             -                            True/Reconciled\n"},
		{name: "named groups only", o: status.Options{Selection: cli.Selection{Names: []string{"crm"}}}, want: "" +
			"NAME   DESIRED   ACTIVE   MODE     PRODUCTION   DR     REPLICATION   SERVERS       OPERATION   LAST                 READY\n" +
			"crm    target    target   Forced   az-2         az-1   active 100%   1/1 stopped   -           Succeeded Failover   True/Reconciled\n"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			env := clitest.NewEnv(groups())
			if err := status.Run(t.Context(), env.Env, tc.o); err != nil {
				t.Fatal(err)
			}
			if got := env.Out.String(); got != tc.want {
				t.Errorf("table:\n%s\nwant:\n%s", got, tc.want)
			}
		})
	}
}

// A Forced mode left behind and a pause are easy to miss in a table, so
// each gets a warning on stderr that says what to do, and so do servers
// at the active site that do not run.
func TestStatusWarnsForcedModeAndPause(t *testing.T) {
	env := clitest.NewEnv(groups())
	if err := env.Run(status.NewCmd); err != nil {
		t.Fatal(err)
	}
	want := "" +
		"Warning: protectiongroup.dr.sdrs.io/billing: paused: the operator starts no SDRS action until it is resumed: kubectl sdrs resume billing -n apps --wait\n" +
		"Warning: protectiongroup.dr.sdrs.io/crm: failoverMode is Forced: the next change of desiredActiveSite is another forced failover, which may lose data. " +
		`Once no forced failover is meant any more: kubectl patch pg crm -n apps --type merge -p '{"spec":{"failoverMode":"Planned","allowDataLoss":false}}'` + "\n" +
		"Warning: protectiongroup.dr.sdrs.io/crm: servers at the active site are not running: srv-b\n"
	if env.ErrOut.String() != want {
		t.Errorf("stderr:\n%s\nwant:\n%s", env.ErrOut, want)
	}
}

func TestStatusEmptyNamespace(t *testing.T) {
	env := clitest.NewEnv(nil)
	if err := env.Run(status.NewCmd); err != nil {
		t.Fatal(err)
	}
	if env.Out.Len() != 0 || env.ErrOut.String() != "No ProtectionGroups found in namespace apps.\n" {
		t.Errorf("stdout %q stderr %q", env.Out, env.ErrOut)
	}
}

func TestStatusJSON(t *testing.T) {
	env := clitest.NewEnv(groups())
	if err := env.Run(status.NewCmd, "crm", "-o", "json"); err != nil {
		t.Fatal(err)
	}
	var list drv1alpha1.ProtectionGroupList
	if err := json.Unmarshal(env.Out.Bytes(), &list); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, env.Out)
	}
	if len(list.Items) != 1 || list.Items[0].Kind != "ProtectionGroup" || list.Items[0].Status.ActiveSite != drv1alpha1.SiteTarget {
		t.Errorf("list %+v", list)
	}
}

func TestStatusBadOutput(t *testing.T) {
	env := clitest.NewEnv(groups())
	if err := env.Run(status.NewCmd, "-o", "wide"); cli.Code(err) != cli.ExitUsage {
		t.Errorf("err %v, want a usage error", err)
	}
}
