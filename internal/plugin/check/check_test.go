package check_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	drv1alpha1 "github.com/sdrs-operator/sdrs-operator/api/v1alpha1"
	"github.com/sdrs-operator/sdrs-operator/internal/plugin/check"
	"github.com/sdrs-operator/sdrs-operator/internal/plugin/cli"
	"github.com/sdrs-operator/sdrs-operator/internal/plugin/clitest"
)

var yes = drv1alpha1.FailoverCheck{Ready: true}

func readiness(planned, forced drv1alpha1.FailoverCheck, fault int32, unhealthy ...string) func(*drv1alpha1.ProtectionGroup) {
	return func(pg *drv1alpha1.ProtectionGroup) {
		checked := metav1.NewTime(clitest.Now.Add(-45 * time.Second))
		pg.Status.Readiness = &drv1alpha1.Readiness{Planned: planned, Forced: forced, WorstFaultLevel: fault,
			ReplicationPairs: 2, UnhealthyInstances: unhealthy, CheckedAt: &checked}
	}
}

// groups: one of each outcome. web would run a planned failover; erp only a
// forced one (a pair advises failover); files neither (fault level 5);
// fresh was never checked; moving has an operation in flight; held is
// paused; crm, in another namespace, would run a planned one.
func groups() []client.Object {
	return []client.Object{
		clitest.PG("web", readiness(yes, yes, 0)),
		clitest.PG("erp", readiness(
			drv1alpha1.FailoverCheck{Reason: drv1alpha1.FailoverAdvisedReason, Message: "replication pair rp-1 reports fault level 2: the production disk is unusable; SDRS advises a forced failover"},
			yes, 2, "db-1"), clitest.Labels("tier", "app"), func(pg *drv1alpha1.ProtectionGroup) {
			pg.Status.Readiness.RPOExceededPairs = 3
		}),
		clitest.PG("files", readiness(
			drv1alpha1.FailoverCheck{Reason: drv1alpha1.NotFailoverReadyReason, Message: "replication pair rp-9 reports fault level 5"},
			drv1alpha1.FailoverCheck{Reason: drv1alpha1.NotFailoverReadyReason, Message: "replication pair rp-9 reports fault level 5: SDRS allows no failover"},
			5), clitest.Labels("tier", "storage")),
		clitest.PG("fresh", func(pg *drv1alpha1.ProtectionGroup) { pg.Status = drv1alpha1.ProtectionGroupStatus{} }),
		clitest.PG("moving", readiness(yes, yes, 0), func(pg *drv1alpha1.ProtectionGroup) {
			pg.Status.CurrentOperation = &drv1alpha1.Operation{Type: drv1alpha1.OperationPlannedFailover,
				From: drv1alpha1.SiteSource, To: drv1alpha1.SiteTarget, Step: drv1alpha1.StepStopServers}
		}),
		clitest.PG("held", readiness(yes, yes, -1), clitest.Annotations(drv1alpha1.PausedAnnotation, "true")),
		clitest.PG("crm", clitest.InNamespace("finance"), clitest.Labels("tier", "app"), readiness(yes, yes, 0)),
	}
}

func TestCheckTable(t *testing.T) {
	env := clitest.NewEnv(groups())
	err := env.Run(check.NewCmd)
	want := "" +
		"NAME     ACTIVE   PLANNED                   FORCED                    FAULT                  UNHEALTHY   CHECKED\n" +
		"erp      source   no: FailoverAdvised       yes                       2 (failover advised)   1           45s ago\n" +
		"files    source   no: NotFailoverReady      no: NotFailoverReady      5 (no failover)        0           45s ago\n" +
		"fresh    -        no: ReadinessUnknown      no: ReadinessUnknown      -                      -           -\n" +
		"held     source   no: Paused                no: Paused                unknown                0           45s ago\n" +
		"moving   source   no: OperationInProgress   no: OperationInProgress   0                      0           45s ago\n" +
		"web      source   yes                       yes                       0                      0           45s ago\n" +
		"\n" +
		"protectiongroup.dr.sdrs.io/erp:\n" +
		"  planned: no, FailoverAdvised: replication pair rp-1 reports fault level 2: the production disk is unusable; SDRS advises a forced failover\n" +
		"  forced: yes: a forced failover would run now; it may lose the data written since the last replication, up to the RPO\n" +
		"  unhealthy instances: db-1\n" +
		"  replication pairs of the project above their RPO target: 3 (SDRS counts per project, not per group)\n" +
		"\n" +
		"protectiongroup.dr.sdrs.io/files:\n" +
		"  planned: no, NotFailoverReady: replication pair rp-9 reports fault level 5\n" +
		"  forced: no, NotFailoverReady: replication pair rp-9 reports fault level 5: SDRS allows no failover\n" +
		"\n" +
		"protectiongroup.dr.sdrs.io/fresh:\n" +
		"  planned: no, ReadinessUnknown: the operator has not checked this group's readiness yet (status.readiness is empty)\n" +
		"  forced: no, ReadinessUnknown: the operator has not checked this group's readiness yet (status.readiness is empty)\n" +
		"\n" +
		"protectiongroup.dr.sdrs.io/held:\n" +
		"  planned: no, Paused: paused: the operator starts no SDRS action until it is resumed: kubectl sdrs resume held -n apps --wait\n" +
		"  forced: no, Paused: paused: the operator starts no SDRS action until it is resumed: kubectl sdrs resume held -n apps --wait\n" +
		"\n" +
		"protectiongroup.dr.sdrs.io/moving:\n" +
		"  planned: no, OperationInProgress: PlannedFailover source->target is in flight at step StopServers; check again when it ends: kubectl sdrs wait moving -n apps\n" +
		"  forced: no, OperationInProgress: PlannedFailover source->target is in flight at step StopServers; check again when it ends: kubectl sdrs wait moving -n apps\n"
	if got := env.Out.String(); got != want {
		t.Errorf("stdout:\n%s\nwant:\n%s", got, want)
	}
	wantErr := "4 of 6 groups would run no failover, planned or forced, now: files, fresh, held, moving; " +
		"1 of 6 groups would run only a forced failover now (data loss up to the RPO): erp"
	if cli.Code(err) != cli.ExitNotReady || err == nil || err.Error() != wantErr {
		t.Errorf("exit %d, err %v", cli.Code(err), err)
	}
	if len(env.Patches()) != 0 || env.ErrOut.Len() != 0 {
		t.Errorf("patches %+v, stderr %q", env.Patches(), env.ErrOut)
	}
}

func TestCheckAllNamespaces(t *testing.T) {
	env := clitest.NewEnv(groups())
	err := env.Run(check.NewCmd, "-A", "-l", "tier=app")
	want := "" +
		"NAMESPACE   NAME   ACTIVE   PLANNED               FORCED   FAULT                  UNHEALTHY   CHECKED\n" +
		"apps        erp    source   no: FailoverAdvised   yes      2 (failover advised)   1           45s ago\n" +
		"finance     crm    source   yes                   yes      0                      0           45s ago\n" +
		"\n" +
		"protectiongroup.dr.sdrs.io/erp -n apps:\n"
	if got := env.Out.String(); !strings.HasPrefix(got, want) {
		t.Errorf("stdout:\n%s\nwant prefix:\n%s", got, want)
	}
	if cli.Code(err) != cli.ExitForcedOnly || !strings.Contains(err.Error(), "1 of 2 groups would run only a forced failover now (data loss up to the RPO): apps/erp") {
		t.Errorf("exit %d, err %v", cli.Code(err), err)
	}
}

// Every exit code, and never a write.
func TestCheckExitCodes(t *testing.T) {
	cases := []struct {
		name string
		args []string
		code int
		msg  string
	}{
		{"planned ready", []string{"web"}, cli.ExitOK, ""},
		{"planned ready, fleet", []string{"-A", "-l", "tier=app", "--for", "forced"}, cli.ExitOK, ""},
		{"only forced", []string{"web", "erp"}, cli.ExitForcedOnly, "1 of 2 groups would run only a forced failover now (data loss up to the RPO): erp"},
		{"only forced is enough with --for forced", []string{"web", "erp", "--for", "forced"}, cli.ExitOK, ""},
		{"neither beats only forced", []string{"erp", "files"}, cli.ExitNotReady, "1 of 2 groups would run no failover, planned or forced, now: files"},
		{"neither, --for forced", []string{"erp", "files", "--for", "forced"}, cli.ExitNotReady, "1 of 2 groups would run no forced failover now: files"},
		{"readiness unknown", []string{"fresh"}, cli.ExitNotReady, "fresh"},
		{"operation in flight", []string{"moving"}, cli.ExitNotReady, "moving"},
		{"operation in flight, --for forced", []string{"moving", "--for", "forced"}, cli.ExitNotReady, "moving"},
		{"paused", []string{"held"}, cli.ExitNotReady, "held"},
		{"--all", []string{"--all"}, cli.ExitNotReady, "of 6 groups"},
		{"missing group", []string{"nope"}, cli.ExitError, "not found"},
		{"nothing selected", []string{"-l", "tier=none"}, cli.ExitError, "no ProtectionGroups found in namespace apps matching tier=none"},
		{"bad --for", []string{"web", "--for", "drill"}, cli.ExitUsage, "--for must be planned or forced"},
		{"names and --all", []string{"web", "--all"}, cli.ExitUsage, "not several of them"},
		{"names and -l", []string{"web", "-l", "a=b"}, cli.ExitUsage, "not several of them"},
		{"-A with names", []string{"web", "-A"}, cli.ExitUsage, "-A/--all-namespaces selects by -l or --all"},
		{"bad selector", []string{"-l", "a in"}, cli.ExitUsage, "invalid selector"},
		{"bad flag", []string{"--dry-run"}, cli.ExitUsage, "unknown flag"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			env := clitest.NewEnv(groups())
			err := env.Run(check.NewCmd, tc.args...)
			if cli.Code(err) != tc.code {
				t.Errorf("exit %d (%v), want %d", cli.Code(err), err, tc.code)
			}
			if tc.msg != "" && (err == nil || !strings.Contains(err.Error(), tc.msg)) {
				t.Errorf("error %v lacks %q", err, tc.msg)
			}
			if len(env.Patches()) != 0 {
				t.Errorf("check patched: %+v", env.Patches())
			}
		})
	}
}

func TestCheckAPIError(t *testing.T) {
	boom := errors.New("connection refused")
	env := clitest.NewEnv(groups(), clitest.WithGet(func(context.Context, client.WithWatch, client.ObjectKey, client.Object, ...client.GetOption) error {
		return boom
	}))
	err := env.Run(check.NewCmd, "web")
	if cli.Code(err) != cli.ExitError || !errors.Is(err, boom) || env.Out.Len() != 0 {
		t.Errorf("exit %d, err %v, stdout %q", cli.Code(err), err, env.Out)
	}
}

// A ready check's own message, when the operator writes one, is shown.
func TestCheckAssess(t *testing.T) {
	pg := clitest.PG("x", readiness(drv1alpha1.FailoverCheck{Ready: true, Message: "ok"}, yes, 0))
	if r := check.Assess(pg); r.Code(check.ForPlanned) != cli.ExitOK || r.Code(check.ForForced) != cli.ExitOK {
		t.Errorf("%+v", r)
	}
	pg.Status.Readiness.Forced = drv1alpha1.FailoverCheck{}
	if r := check.Assess(pg); r.Code(check.ForPlanned) != cli.ExitOK || r.Code(check.ForForced) != cli.ExitNotReady {
		t.Errorf("planned only: %+v", r)
	}
}
