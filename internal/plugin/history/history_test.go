package history_test

import (
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	drv1alpha1 "github.com/sdrs-operator/sdrs-operator/api/v1alpha1"
	"github.com/sdrs-operator/sdrs-operator/internal/plugin/cli"
	"github.com/sdrs-operator/sdrs-operator/internal/plugin/clitest"
	"github.com/sdrs-operator/sdrs-operator/internal/plugin/history"
)

func ago(d time.Duration) metav1.Time { return metav1.NewTime(clitest.Now.Add(-d)) }

func ptr(t metav1.Time) *metav1.Time { return &t }

func TestHistoryTable(t *testing.T) {
	pg := clitest.PG("app", func(pg *drv1alpha1.ProtectionGroup) {
		pg.Status.CurrentOperation = &drv1alpha1.Operation{Type: drv1alpha1.OperationReprotect, From: "target", To: "target",
			StartedAt: ago(90 * time.Second)}
		pg.Status.History = []drv1alpha1.Operation{
			{Type: drv1alpha1.OperationFailover, From: "source", To: "target", StartedAt: ago(time.Hour),
				FinishedAt: ptr(ago(time.Hour - 3*time.Minute)), Result: drv1alpha1.OperationSucceeded, Message: "failed over"},
			{Type: drv1alpha1.OperationPlannedFailover, From: "source", To: "target", StartedAt: ago(2 * time.Hour),
				FinishedAt: ptr(ago(2*time.Hour - 40*time.Second)), Result: drv1alpha1.OperationFailed,
				ErrorCode: "SDRS.1403", Message: "production site\nunhealthy"},
		}
	})
	env := clitest.NewEnv([]client.Object{pg})
	if err := env.Run(history.NewCmd, "app"); err != nil {
		t.Fatal(err)
	}
	want := "" +
		"STARTED                DURATION   TYPE              FROM     TO       RESULT      ERROR       MESSAGE\n" +
		"2026-03-01T11:58:30Z   1m30s      Reprotect         target   target   Running     -           -\n" +
		"2026-03-01T11:00:00Z   3m0s       Failover          source   target   Succeeded   -           failed over\n" +
		"2026-03-01T10:00:00Z   40s        PlannedFailover   source   target   Failed      SDRS.1403   production site unhealthy\n"
	if got := env.Out.String(); got != want {
		t.Errorf("table:\n%s\nwant:\n%s", got, want)
	}
}

func TestHistoryEmptyAndUsage(t *testing.T) {
	env := clitest.NewEnv([]client.Object{clitest.PG("app")})
	if err := env.Run(history.NewCmd, "app"); err != nil {
		t.Fatal(err)
	}
	if env.ErrOut.String() != "No operations recorded for protectiongroup.dr.sdrs.io/app.\n" {
		t.Errorf("stderr %q", env.ErrOut)
	}
	if err := env.Run(history.NewCmd); cli.Code(err) != cli.ExitUsage {
		t.Errorf("no name: err %v, want a usage error", err)
	}
	if err := env.Run(history.NewCmd, "nope"); cli.Code(err) != cli.ExitError {
		t.Errorf("missing group: err %v, want exit 1", err)
	}
}
