package retry_test

import (
	"testing"

	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/sdrs-operator/sdrs-operator/internal/plugin/clitest"
	"github.com/sdrs-operator/sdrs-operator/internal/plugin/retry"
)

func TestRetrySetsAFreshToken(t *testing.T) {
	env := clitest.NewEnv([]client.Object{clitest.PG("app", clitest.Annotations("dr.sdrs.io/retry", "earlier"))})
	if err := env.Run(retry.NewCmd, "app"); err != nil {
		t.Fatal(err)
	}
	ps := env.Patches()
	want := `{"metadata":{"annotations":{"dr.sdrs.io/retry":"2026-03-01T12:00:00Z"}}}`
	if len(ps) != 1 || ps[0].Data != want {
		t.Fatalf("patches %+v, want one with %s", ps, want)
	}
	if out := "  metadata.annotations.dr.sdrs.io/retry: earlier -> 2026-03-01T12:00:00Z\n"; env.Out.String() != "protectiongroup.dr.sdrs.io/app patched\n"+out {
		t.Errorf("stdout %q", env.Out)
	}
}
