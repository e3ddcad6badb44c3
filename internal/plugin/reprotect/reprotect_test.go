package reprotect_test

import (
	"strings"
	"testing"

	"sigs.k8s.io/controller-runtime/pkg/client"

	drv1alpha1 "github.com/sdrs-operator/sdrs-operator/api/v1alpha1"
	"github.com/sdrs-operator/sdrs-operator/internal/plugin/clitest"
	"github.com/sdrs-operator/sdrs-operator/internal/plugin/reprotect"
)

func TestReprotect(t *testing.T) {
	cases := []struct {
		name    string
		pg      *drv1alpha1.ProtectionGroup
		want    string
		wantOut string
		warn    bool
	}{
		{name: "protection Disabled: enable it",
			pg: clitest.PG("app", clitest.Labels("app.kubernetes.io/instance", "dr"), func(pg *drv1alpha1.ProtectionGroup) {
				pg.Spec.Protection = drv1alpha1.ProtectionDisabled
			}),
			want: `{"spec":{"protection":"Enabled"}}`, wantOut: "spec.protection: Disabled -> Enabled", warn: true},
		{name: "protection already Enabled: ask for a retry of a stalled re-protect",
			pg:      clitest.PG("app", clitest.Labels("app.kubernetes.io/instance", "dr")),
			want:    `{"metadata":{"annotations":{"dr.sdrs.io/retry":"2026-03-01T12:00:00Z"}}}`,
			wantOut: "protection is already Enabled"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			env := clitest.NewEnv([]client.Object{tc.pg})
			if err := env.Run(reprotect.NewCmd, "app"); err != nil {
				t.Fatal(err)
			}
			ps := env.Patches()
			if len(ps) != 1 || ps[0].Data != tc.want {
				t.Fatalf("patches %+v, want one with %s", ps, tc.want)
			}
			if !strings.Contains(env.Out.String(), tc.wantOut) {
				t.Errorf("stdout lacks %q:\n%s", tc.wantOut, env.Out)
			}
			// Argo CD reverts spec, not an annotation it does not own.
			if got := strings.Contains(env.ErrOut.String(), "managed by Argo CD: change protection in Git too"); got != tc.warn {
				t.Errorf("Argo CD warning %v, want %v: %q", got, tc.warn, env.ErrOut)
			}
		})
	}
}
