package switchover_test

import (
	"context"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	drv1alpha1 "github.com/sdrs-operator/sdrs-operator/api/v1alpha1"
	"github.com/sdrs-operator/sdrs-operator/internal/plugin/cli"
	"github.com/sdrs-operator/sdrs-operator/internal/plugin/clitest"
	"github.com/sdrs-operator/sdrs-operator/internal/plugin/switchover"
)

func fleet() []client.Object {
	return []client.Object{
		clitest.PG("db1", clitest.Labels("tier", "db")),
		clitest.PG("db2", clitest.Labels("tier", "db")),
		clitest.PG("web", clitest.Labels("tier", "web")),
		clitest.PG("db3", clitest.InNamespace("other"), clitest.Labels("tier", "db")),
	}
}

func TestSwitchover(t *testing.T) {
	const both = `{"spec":{"desiredActiveSite":"target","failoverMode":"Planned"}}`
	cases := []struct {
		name        string
		objs        []client.Object
		args        []string
		wantCode    int
		wantPatched []string // namespace/name patched for real, in order
		wantData    string   // the data of every real patch
		wantDryRun  int      // server dry-run patches
		wantOut     []string // substrings of stdout
		wantErr     string   // substring of the error
	}{
		{name: "patches exactly desiredActiveSite and failoverMode",
			objs: fleet(), args: []string{"web", "--to", "target"},
			wantPatched: []string{"apps/web"}, wantData: both,
			wantOut: []string{"protectiongroup.dr.sdrs.io/web patched\n  spec.desiredActiveSite: source -> target\n"}},
		{name: "--keep-mode patches desiredActiveSite only",
			objs: fleet(), args: []string{"web", "--to", "target", "--keep-mode"},
			wantPatched: []string{"apps/web"}, wantData: `{"spec":{"desiredActiveSite":"target"}}`},
		{name: "a Forced mode left by a failover goes back to Planned",
			objs: []client.Object{clitest.PG("web", func(pg *drv1alpha1.ProtectionGroup) {
				pg.Spec.FailoverMode, pg.Spec.AllowDataLoss = drv1alpha1.FailoverForced, true
			})},
			args: []string{"web", "--to", "target"}, wantPatched: []string{"apps/web"}, wantData: both,
			wantOut: []string{"spec.failoverMode: Forced -> Planned"}},
		{name: "already there: nothing patched",
			objs: fleet(), args: []string{"web", "--to", "source"},
			wantOut: []string{"protectiongroup.dr.sdrs.io/web unchanged"}},
		{name: "selector picks the matching groups of the namespace",
			objs: fleet(), args: []string{"-l", "tier=db", "--to", "target"},
			wantPatched: []string{"apps/db1", "apps/db2"}, wantData: both},
		{name: "--all picks every group of the namespace",
			objs: fleet(), args: []string{"--all", "--to", "target"},
			wantPatched: []string{"apps/db1", "apps/db2", "apps/web"}, wantData: both},
		{name: "--all -A spans namespaces",
			objs: fleet(), args: []string{"--all", "-A", "--to", "target"},
			wantPatched: []string{"apps/db1", "apps/db2", "apps/web", "other/db3"}, wantData: both,
			wantOut: []string{"protectiongroup.dr.sdrs.io/db3 -n other patched"}},
		{name: "a selector matching nothing is an error",
			objs: fleet(), args: []string{"-l", "tier=none", "--to", "target"},
			wantCode: cli.ExitError, wantErr: "no ProtectionGroups found in namespace apps matching tier=none"},
		{name: "server dry run patches nothing and shows the patch",
			objs: fleet(), args: []string{"web", "--to", "target", "--dry-run"},
			wantDryRun: 1,
			wantOut: []string{"protectiongroup.dr.sdrs.io/web would be patched (dry run: server)\n" +
				"  spec.desiredActiveSite: source -> target\n  patch: " + both + "\n"}},
		{name: "client dry run sends nothing at all",
			objs: fleet(), args: []string{"-l", "tier=db", "--to", "target", "--dry-run=client"},
			wantOut: []string{"db1 would be patched (dry run: client)", "db2 would be patched"}},
		{name: "no group named: refused, not the whole namespace",
			objs: fleet(), args: []string{"--to", "target"}, wantCode: cli.ExitUsage, wantErr: "name a ProtectionGroup"},
		{name: "names and --all together are ambiguous",
			objs: fleet(), args: []string{"web", "--all", "--to", "target"}, wantCode: cli.ExitUsage},
		{name: "-A with names is refused",
			objs: fleet(), args: []string{"web", "-A", "--to", "target"}, wantCode: cli.ExitUsage},
		{name: "--to is required",
			objs: fleet(), args: []string{"web"}, wantCode: cli.ExitUsage, wantErr: "--to is required"},
		{name: "--to must be a site",
			objs: fleet(), args: []string{"web", "--to", "primary"}, wantCode: cli.ExitUsage},
		{name: "--wait with --dry-run is refused",
			objs: fleet(), args: []string{"web", "--to", "target", "--dry-run", "--wait"}, wantCode: cli.ExitUsage},
		{name: "an unknown flag is a usage error",
			objs: fleet(), args: []string{"web", "--to", "target", "--bogus"}, wantCode: cli.ExitUsage},
		{name: "a missing group is an error",
			objs: fleet(), args: []string{"nope", "--to", "target"}, wantCode: cli.ExitError, wantErr: "not found"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			env := clitest.NewEnv(tc.objs)
			err := env.Run(switchover.NewCmd, tc.args...)
			if got := cli.Code(err); got != tc.wantCode {
				t.Fatalf("exit code %d, want %d (err %v)", got, tc.wantCode, err)
			}
			if tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)) {
				t.Errorf("error %v, want it to contain %q", err, tc.wantErr)
			}
			var patched []string
			dry := 0
			for _, p := range env.Patches() {
				if p.Status {
					t.Errorf("status patch sent: %+v", p)
				}
				if p.Type != "application/merge-patch+json" {
					t.Errorf("patch type %s, want a merge patch", p.Type)
				}
				if p.DryRun {
					dry++
					continue
				}
				patched = append(patched, p.Name)
				if p.Data != tc.wantData {
					t.Errorf("patch of %s = %s, want %s", p.Name, p.Data, tc.wantData)
				}
			}
			if strings.Join(patched, ",") != strings.Join(tc.wantPatched, ",") {
				t.Errorf("patched %v, want %v", patched, tc.wantPatched)
			}
			if dry != tc.wantDryRun {
				t.Errorf("%d server dry-run patches, want %d", dry, tc.wantDryRun)
			}
			for _, s := range tc.wantOut {
				if !strings.Contains(env.Out.String(), s) {
					t.Errorf("stdout lacks %q:\n%s", s, env.Out)
				}
			}
		})
	}
}

// The patched object changes in spec only; status is left to the operator.
func TestSwitchoverLeavesStatus(t *testing.T) {
	env := clitest.NewEnv(fleet())
	if err := env.Run(switchover.NewCmd, "web", "--to", "target"); err != nil {
		t.Fatal(err)
	}
	var pg drv1alpha1.ProtectionGroup
	if err := env.Client.Get(context.Background(), types.NamespacedName{Namespace: "apps", Name: "web"}, &pg); err != nil {
		t.Fatal(err)
	}
	if pg.Spec.DesiredActiveSite != drv1alpha1.SiteTarget {
		t.Errorf("desiredActiveSite %s, want target", pg.Spec.DesiredActiveSite)
	}
	if pg.Status.ActiveSite != drv1alpha1.SiteSource || pg.Status.ObservedGeneration != 1 {
		t.Errorf("status changed: %+v", pg.Status)
	}
}

func TestArgoCDWarning(t *testing.T) {
	cases := []struct {
		name string
		mod  func(*drv1alpha1.ProtectionGroup)
		want bool
	}{
		{"tracking-id annotation", clitest.Annotations("argocd.argoproj.io/tracking-id", "dr:dr.sdrs.io/ProtectionGroup:apps/web"), true},
		{"app.kubernetes.io/instance label", clitest.Labels("app.kubernetes.io/instance", "dr"), true},
		{"argocd.argoproj.io/instance label", clitest.Labels("argocd.argoproj.io/instance", "dr"), true},
		{"not managed", clitest.Labels("tier", "web"), false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			env := clitest.NewEnv([]client.Object{clitest.PG("web", tc.mod)})
			if err := env.Run(switchover.NewCmd, "web", "--to", "target", "--dry-run"); err != nil {
				t.Fatal(err)
			}
			want := "Warning: protectiongroup.dr.sdrs.io/web: " + cli.ArgoCDWarning + "\n"
			if got := env.ErrOut.String() == want; got != tc.want {
				t.Errorf("stderr %q; want the warning: %v", env.ErrOut, tc.want)
			}
		})
	}
}
