package failover_test

import (
	"strings"
	"testing"

	"sigs.k8s.io/controller-runtime/pkg/client"

	drv1alpha1 "github.com/sdrs-operator/sdrs-operator/api/v1alpha1"
	"github.com/sdrs-operator/sdrs-operator/internal/plugin/cli"
	"github.com/sdrs-operator/sdrs-operator/internal/plugin/clitest"
	"github.com/sdrs-operator/sdrs-operator/internal/plugin/failover"
)

func active(s drv1alpha1.Site) func(*drv1alpha1.ProtectionGroup) {
	return func(pg *drv1alpha1.ProtectionGroup) { pg.Status.ActiveSite, pg.Spec.DesiredActiveSite = s, s }
}

func TestFailover(t *testing.T) {
	forced := func(to string) string {
		return `{"spec":{"allowDataLoss":true,"desiredActiveSite":"` + to + `","failoverMode":"Forced"}}`
	}
	cases := []struct {
		name     string
		objs     []client.Object
		args     []string
		wantCode int
		wantErr  string
		want     map[string]string // namespace/name -> patch data
	}{
		{name: "refused without --allow-data-loss, with exit code 2",
			objs: []client.Object{clitest.PG("app")}, args: []string{"app"},
			wantCode: cli.ExitUsage, wantErr: "pass --allow-data-loss"},
		{name: "refused without --allow-data-loss even as a dry run",
			objs: []client.Object{clitest.PG("app")}, args: []string{"app", "--dry-run"},
			wantCode: cli.ExitUsage, wantErr: "--allow-data-loss"},
		{name: "fails over to the site that is not active",
			objs: []client.Object{clitest.PG("app")}, args: []string{"app", "--allow-data-loss"},
			want: map[string]string{"apps/app": forced("target")}},
		{name: "from target back to source",
			objs: []client.Object{clitest.PG("app", active(drv1alpha1.SiteTarget))}, args: []string{"app", "--allow-data-loss"},
			want: map[string]string{"apps/app": forced("source")}},
		{name: "forces a planned switchover that cannot finish (desired already the other site)",
			objs: []client.Object{clitest.PG("app", func(pg *drv1alpha1.ProtectionGroup) { pg.Spec.DesiredActiveSite = drv1alpha1.SiteTarget })},
			args: []string{"app", "--allow-data-loss"},
			want: map[string]string{"apps/app": forced("target")}},
		{name: "--to overrides the computed site",
			objs: []client.Object{clitest.PG("app")}, args: []string{"app", "--allow-data-loss", "--to", "source"},
			want: map[string]string{"apps/app": forced("source")}},
		{name: "unknown active site: refused, asks for --to",
			objs: []client.Object{clitest.PG("app", func(pg *drv1alpha1.ProtectionGroup) { pg.Status.ActiveSite = "" })},
			args: []string{"app", "--allow-data-loss"}, wantCode: cli.ExitUsage, wantErr: "ProtectionGroup not changed"},
		{name: "a fleet moves each group away from its own active site; one refusal does not stop the rest",
			objs: []client.Object{
				clitest.PG("a", clitest.Labels("site", "az1")),
				clitest.PG("b", clitest.Labels("site", "az1"), active(drv1alpha1.SiteTarget)),
				clitest.PG("c", clitest.Labels("site", "az1"), func(pg *drv1alpha1.ProtectionGroup) { pg.Status.ActiveSite = "" }),
			},
			args: []string{"-l", "site=az1", "--allow-data-loss"}, wantCode: cli.ExitUsage, wantErr: "1 of 3 ProtectionGroups not changed",
			want: map[string]string{"apps/a": forced("target"), "apps/b": forced("source")}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			env := clitest.NewEnv(tc.objs)
			err := env.Run(failover.NewCmd, tc.args...)
			if got := cli.Code(err); got != tc.wantCode {
				t.Fatalf("exit code %d, want %d (err %v)", got, tc.wantCode, err)
			}
			if tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)) {
				t.Errorf("error %v, want it to contain %q", err, tc.wantErr)
			}
			got := map[string]string{}
			for _, p := range env.Patches() {
				got[p.Name] = p.Data
			}
			if len(got) != len(tc.want) {
				t.Errorf("patches %v, want %v", got, tc.want)
			}
			for k, v := range tc.want {
				if got[k] != v {
					t.Errorf("patch of %s = %s, want %s", k, got[k], v)
				}
			}
		})
	}
}

// Argo CD must be told about every spec field the failover changes, or a
// sync puts back Planned and the old site.
func TestFailoverArgoCDWarningNamesEveryField(t *testing.T) {
	env := clitest.NewEnv([]client.Object{clitest.PG("app", clitest.Labels("argocd.argoproj.io/instance", "dr"))})
	if err := env.Run(failover.NewCmd, "app", "--allow-data-loss"); err != nil {
		t.Fatal(err)
	}
	want := "Warning: protectiongroup.dr.sdrs.io/app: " + cli.ArgoCDWarning + " (also failoverMode, allowDataLoss)\n"
	if env.ErrOut.String() != want {
		t.Errorf("stderr %q, want %q", env.ErrOut, want)
	}
}
