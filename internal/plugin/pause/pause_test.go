package pause_test

import (
	"context"
	"testing"
	"time"

	"sigs.k8s.io/controller-runtime/pkg/client"

	drv1alpha1 "github.com/sdrs-operator/sdrs-operator/api/v1alpha1"
	"github.com/sdrs-operator/sdrs-operator/internal/plugin/cli"
	"github.com/sdrs-operator/sdrs-operator/internal/plugin/clitest"
	"github.com/sdrs-operator/sdrs-operator/internal/plugin/pause"
)

func TestPauseResume(t *testing.T) {
	paused := clitest.Annotations(drv1alpha1.PausedAnnotation, "true")
	cases := []struct {
		name      string
		pg        *drv1alpha1.ProtectionGroup
		resume    bool
		want      string // patch data; "" for none
		wantPause bool
	}{
		{name: "pause sets the annotation", pg: clitest.PG("app"),
			want: `{"metadata":{"annotations":{"dr.sdrs.io/paused":"true"}}}`, wantPause: true},
		{name: "pause of a paused group patches nothing", pg: clitest.PG("app", paused), wantPause: true},
		{name: "resume removes the annotation", pg: clitest.PG("app", paused), resume: true,
			want: `{"metadata":{"annotations":{"dr.sdrs.io/paused":null}}}`},
		{name: "resume of a running group patches nothing", pg: clitest.PG("app"), resume: true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			env := clitest.NewEnv([]client.Object{tc.pg})
			newCmd := pause.NewPauseCmd
			if tc.resume {
				newCmd = pause.NewResumeCmd
			}
			if err := env.Run(newCmd, "app"); err != nil {
				t.Fatal(err)
			}
			ps := env.Patches()
			switch {
			case tc.want == "" && len(ps) != 0:
				t.Errorf("patches %+v, want none", ps)
			case tc.want != "" && (len(ps) != 1 || ps[0].Data != tc.want):
				t.Errorf("patches %+v, want one with %s", ps, tc.want)
			}
			var pg drv1alpha1.ProtectionGroup
			if err := env.Client.Get(context.Background(), client.ObjectKeyFromObject(tc.pg), &pg); err != nil {
				t.Fatal(err)
			}
			if pg.IsPaused() != tc.wantPause {
				t.Errorf("paused %v, want %v", pg.IsPaused(), tc.wantPause)
			}
			if env.ErrOut.Len() != 0 {
				t.Errorf("unexpected stderr %q", env.ErrOut)
			}
		})
	}
}

// pause --wait is done once the operator reports Paused=True; the group's
// generation does not change, so Ready alone would say nothing.
func TestPauseWait(t *testing.T) {
	env := clitest.NewEnv([]client.Object{clitest.PG("app")}, clitest.Script(
		func(*drv1alpha1.ProtectionGroup) {}, // the selection read
		func(*drv1alpha1.ProtectionGroup) {}, // not yet acknowledged
		func(pg *drv1alpha1.ProtectionGroup) {
			pg.Status.Conditions = append(pg.Status.Conditions,
				clitest.Cond(drv1alpha1.PausedCondition, "True", drv1alpha1.PausedReason, "no new SDRS actions", 1))
		},
	))
	err := pause.Run(context.Background(), env.Env, cli.MutateOptions{Selection: cli.Selection{Names: []string{"app"}},
		DryRun: cli.DryRunNone, Wait: true, Timeout: cli.DefaultTimeout, PollInterval: time.Millisecond}, true)
	if err != nil {
		t.Fatal(err)
	}
	want := "protectiongroup.dr.sdrs.io/app patched\n" +
		"  metadata.annotations.dr.sdrs.io/paused: (unset) -> true\n" +
		"[0s] protectiongroup.dr.sdrs.io/app: waiting for the operator to report Paused=True\n" +
		"[0s] protectiongroup.dr.sdrs.io/app: paused: no new SDRS actions\n"
	if env.Out.String() != want {
		t.Errorf("stdout:\n%s\nwant:\n%s", env.Out, want)
	}
}
