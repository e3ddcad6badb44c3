package failover_test

import (
	"context"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
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
		wantOut  []string          // substrings of stdout
	}{
		{name: "refused without --allow-data-loss, with exit code 2",
			objs: []client.Object{clitest.PG("app")}, args: []string{"app", "--to", "target"},
			wantCode: cli.ExitUsage, wantErr: "pass --allow-data-loss"},
		{name: "refused without --allow-data-loss even as a dry run",
			objs: []client.Object{clitest.PG("app")}, args: []string{"app", "--to", "target", "--dry-run"},
			wantCode: cli.ExitUsage, wantErr: "--allow-data-loss"},
		{name: "refused without --to: the other site flips back when run twice",
			objs: []client.Object{clitest.PG("app")}, args: []string{"app", "--allow-data-loss"},
			wantCode: cli.ExitUsage, wantErr: "--to is required"},
		{name: "fails over to --to for this move only",
			objs: []client.Object{clitest.PG("app")}, args: []string{"app", "--to", "target", "--allow-data-loss"},
			want: map[string]string{"apps/app": forced("target")},
			wantOut: []string{"spec.desiredActiveSite: source -> target\n  spec.failoverMode: Planned -> Forced\n  spec.allowDataLoss: false -> true\n",
				"without --wait nothing puts it back",
				`kubectl patch pg app -n apps --type merge -p '{"spec":{"allowDataLoss":false,"failoverMode":"Planned"}}'`}},
		{name: "from target back to source",
			objs: []client.Object{clitest.PG("app", active(drv1alpha1.SiteTarget))}, args: []string{"app", "--to", "source", "--allow-data-loss"},
			want: map[string]string{"apps/app": forced("source")}},
		{name: "run twice: already active at --to, nothing is patched, the mode included",
			objs: []client.Object{clitest.PG("app", active(drv1alpha1.SiteTarget))}, args: []string{"app", "--to", "target", "--allow-data-loss"},
			wantOut: []string{"protectiongroup.dr.sdrs.io/app unchanged\n  already active at target: nothing to fail over\n"}},
		{name: "run twice while the first is in flight: nothing to change",
			objs: []client.Object{clitest.PG("app", func(pg *drv1alpha1.ProtectionGroup) {
				pg.Spec.DesiredActiveSite, pg.Spec.FailoverMode, pg.Spec.AllowDataLoss = drv1alpha1.SiteTarget, drv1alpha1.FailoverForced, true
			})},
			args:    []string{"app", "--to", "target", "--allow-data-loss"},
			wantOut: []string{"protectiongroup.dr.sdrs.io/app unchanged\n"}},
		{name: "forces a planned switchover that cannot finish (desired already --to)",
			objs: []client.Object{clitest.PG("app", func(pg *drv1alpha1.ProtectionGroup) { pg.Spec.DesiredActiveSite = drv1alpha1.SiteTarget })},
			args: []string{"app", "--to", "target", "--allow-data-loss"},
			want: map[string]string{"apps/app": forced("target")}},
		{name: "an Auto mode is what goes back, and allowDataLoss stays true",
			objs: []client.Object{clitest.PG("app", func(pg *drv1alpha1.ProtectionGroup) {
				pg.Spec.FailoverMode, pg.Spec.AllowDataLoss = drv1alpha1.FailoverAuto, true
			})},
			args:    []string{"app", "--to", "target", "--allow-data-loss"},
			want:    map[string]string{"apps/app": forced("target")},
			wantOut: []string{`kubectl patch pg app -n apps --type merge -p '{"spec":{"failoverMode":"Auto"}}'`}},
		{name: "unknown active site: --to says where",
			objs: []client.Object{clitest.PG("app", func(pg *drv1alpha1.ProtectionGroup) { pg.Status.ActiveSite = "" })},
			args: []string{"app", "--to", "target", "--allow-data-loss"},
			want: map[string]string{"apps/app": forced("target")}},
		{name: "a fleet moves to --to; a group already there is left alone",
			objs: []client.Object{
				clitest.PG("a", clitest.Labels("site", "az1")),
				clitest.PG("b", clitest.Labels("site", "az1"), active(drv1alpha1.SiteTarget)),
				clitest.PG("c", clitest.Labels("site", "az1"), func(pg *drv1alpha1.ProtectionGroup) { pg.Status.ActiveSite = "" }),
			},
			args:    []string{"-l", "site=az1", "--to", "target", "--allow-data-loss"},
			want:    map[string]string{"apps/a": forced("target"), "apps/c": forced("target")},
			wantOut: []string{"protectiongroup.dr.sdrs.io/b unchanged"}},
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
			for _, s := range tc.wantOut {
				if !strings.Contains(env.Out.String(), s) {
					t.Errorf("stdout lacks %q:\n%s", s, env.Out)
				}
			}
		})
	}
}

// Argo CD must be told about every spec field the failover changes, or a
// sync puts back Planned and the old site.
func TestFailoverArgoCDWarningNamesEveryField(t *testing.T) {
	env := clitest.NewEnv([]client.Object{clitest.PG("app", clitest.Labels("argocd.argoproj.io/instance", "dr"))})
	if err := env.Run(failover.NewCmd, "app", "--to", "target", "--allow-data-loss"); err != nil {
		t.Fatal(err)
	}
	want := "Warning: protectiongroup.dr.sdrs.io/app: " + cli.ArgoCDWarning + " (also failoverMode, allowDataLoss)\n"
	if env.ErrOut.String() != want {
		t.Errorf("stderr %q, want %q", env.ErrOut, want)
	}
}

// With --wait, the mode goes back once the group is Ready at --to, in a
// patch that carries the resourceVersion (so that it never overwrites a
// change made meanwhile). A wait that ends otherwise prints that patch.
func TestFailoverWaitPutsTheModeBack(t *testing.T) {
	readyAtTarget := func(pg *drv1alpha1.ProtectionGroup) {
		pg.Status.ActiveSite = drv1alpha1.SiteTarget
		pg.Status.ObservedGeneration = pg.Generation
		pg.Status.Conditions = []metav1.Condition{clitest.Cond(drv1alpha1.ReadyCondition, metav1.ConditionTrue,
			drv1alpha1.ReconciledReason, "active site target (az-2) as desired", pg.Generation)}
	}
	cases := []struct {
		name     string
		steps    []func(*drv1alpha1.ProtectionGroup)
		wantCode int
		wantBack bool   // the restoring patch was sent
		wantErr  string // substring of stderr
	}{
		{name: "Ready at --to: the mode goes back",
			steps:    []func(*drv1alpha1.ProtectionGroup){func(*drv1alpha1.ProtectionGroup) {}, readyAtTarget},
			wantBack: true},
		{name: "Ready, but someone changed the spec: nothing goes back, the patch is printed",
			steps: []func(*drv1alpha1.ProtectionGroup){func(*drv1alpha1.ProtectionGroup) {}, func(pg *drv1alpha1.ProtectionGroup) {
				pg.Generation++
				readyAtTarget(pg)
			}},
			wantCode: cli.ExitSuperseded,
			wantErr:  `put back spec.failoverMode Forced -> Planned, spec.allowDataLoss true -> false:` + "\n" + `    kubectl patch pg app -n apps --type merge -p '{"spec":{"allowDataLoss":false,"failoverMode":"Planned"}}'`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			env := clitest.NewEnv([]client.Object{clitest.PG("app")}, clitest.Script(tc.steps...))
			err := failover.Run(context.Background(), env.Env, cli.MutateOptions{Selection: cli.Selection{Names: []string{"app"}},
				DryRun: cli.DryRunNone, Wait: true, Timeout: time.Minute, PollInterval: time.Millisecond},
				failover.Options{AllowDataLoss: true, To: drv1alpha1.SiteTarget})
			if cli.Code(err) != tc.wantCode {
				t.Fatalf("err %v (code %d), want code %d; stdout:\n%s", err, cli.Code(err), tc.wantCode, env.Out)
			}
			ps := env.Patches()
			back := len(ps) == 2 && strings.HasPrefix(ps[1].Data, `{"metadata":{"resourceVersion":"`) &&
				strings.HasSuffix(ps[1].Data, `"},"spec":{"allowDataLoss":false,"failoverMode":"Planned"}}`)
			if back != tc.wantBack || len(ps) < 1 || ps[0].Data != `{"spec":{"allowDataLoss":true,"desiredActiveSite":"target","failoverMode":"Forced"}}` {
				t.Errorf("patches %+v; want the mode put back: %v", ps, tc.wantBack)
			}
			if !strings.Contains(env.ErrOut.String(), tc.wantErr) {
				t.Errorf("stderr %q lacks %q", env.ErrOut, tc.wantErr)
			}
		})
	}
}
