package drill_test

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	drv1alpha1 "github.com/sdrs-operator/sdrs-operator/api/v1alpha1"
	"github.com/sdrs-operator/sdrs-operator/internal/plugin/cli"
	"github.com/sdrs-operator/sdrs-operator/internal/plugin/clitest"
	"github.com/sdrs-operator/sdrs-operator/internal/plugin/drill"
)

const (
	T = metav1.ConditionTrue
	F = metav1.ConditionFalse
)

// newDrill returns a drill of group in namespace "apps" at generation 1,
// changed by mods.
func newDrill(name, group string, mods ...func(*drv1alpha1.ProtectionGroupDrill)) *drv1alpha1.ProtectionGroupDrill {
	d := &drv1alpha1.ProtectionGroupDrill{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "apps", Generation: 1,
			CreationTimestamp: metav1.NewTime(clitest.Now.Add(-time.Hour))},
		Spec: drv1alpha1.ProtectionGroupDrillSpec{ProtectionGroupRef: drv1alpha1.LocalObjectReference{Name: group},
			TTL: &metav1.Duration{Duration: 4 * time.Hour}},
	}
	for _, m := range mods {
		m(d)
	}
	return d
}

// at sets the phase, the observed generation and the conditions.
func at(p drv1alpha1.DrillPhase, observed int64, conds ...metav1.Condition) func(*drv1alpha1.ProtectionGroupDrill) {
	return func(d *drv1alpha1.ProtectionGroupDrill) {
		d.Status.Phase, d.Status.ObservedGeneration, d.Status.Conditions = p, observed, conds
	}
}

func cond(typ string, s metav1.ConditionStatus, reason string, gen int64) metav1.Condition {
	return clitest.Cond(typ, s, reason, "msg "+reason, gen)
}

// scriptDrills makes the n-th Get of a drill (from 0) return the stored
// object changed by steps[n], or by the last step once they run out: the
// operator, played without timing.
func scriptDrills(steps ...func(*drv1alpha1.ProtectionGroupDrill)) clitest.Option {
	var (
		mu sync.Mutex
		n  int
	)
	return clitest.WithGet(func(ctx context.Context, c client.WithWatch, key client.ObjectKey, obj client.Object, opts ...client.GetOption) error {
		if err := c.Get(ctx, key, obj, opts...); err != nil {
			return err
		}
		d, ok := obj.(*drv1alpha1.ProtectionGroupDrill)
		if !ok {
			return nil
		}
		if d.Generation == 0 {
			d.Generation = 1 // as the API server sets it on create
		}
		mu.Lock()
		i := min(n, len(steps)-1)
		n++
		mu.Unlock()
		steps[i](d)
		return nil
	})
}

func getDrill(t *testing.T, e *clitest.Env, name string) *drv1alpha1.ProtectionGroupDrill {
	t.Helper()
	var d drv1alpha1.ProtectionGroupDrill
	if err := e.Client.Get(context.Background(), client.ObjectKey{Namespace: "apps", Name: name}, &d); err != nil {
		t.Fatal(err)
	}
	return &d
}

func drillCount(t *testing.T, e *clitest.Env) int {
	t.Helper()
	var list drv1alpha1.ProtectionGroupDrillList
	if err := e.Client.List(context.Background(), &list); err != nil {
		t.Fatal(err)
	}
	return len(list.Items)
}

func TestStartCreatesTheDrill(t *testing.T) {
	e := clitest.NewEnv([]client.Object{clitest.PG("web")})
	err := e.Run(drill.NewCmd, "start", "web")
	want := "" +
		"protectiongroupdrill.dr.sdrs.io/web-drill-20260301-1200 created\n" +
		"  group: web\n" +
		"  ttl: 4h0m0s after the drill servers become available\n" +
		"  drill VPC: none given: SDRS creates one with the production VPC's CIDR and keeps it after the drill\n" +
		"  end it early: kubectl sdrs drill end web-drill-20260301-1200 -n apps\n"
	if err != nil || e.Out.String() != want {
		t.Fatalf("err %v, stdout:\n%s\nwant:\n%s", err, e.Out, want)
	}
	d := getDrill(t, e, "web-drill-20260301-1200")
	if d.Spec.ProtectionGroupRef.Name != "web" || d.Spec.TTL.Duration != 4*time.Hour || d.Spec.DrillVpcID != "" || d.Spec.Release {
		t.Errorf("spec %+v", d.Spec)
	}
	if len(e.Patches()) != 0 {
		t.Errorf("patches sent: %+v", e.Patches())
	}
}

func TestStartWithFlags(t *testing.T) {
	e := clitest.NewEnv([]client.Object{clitest.PG("web"),
		// Ended drills of the group and a live drill of another group do
		// not block a new one.
		newDrill("web-old", "web", at(drv1alpha1.DrillReleased, 1)),
		newDrill("web-broken", "web", at(drv1alpha1.DrillFailed, 1), func(d *drv1alpha1.ProtectionGroupDrill) {
			d.Status.Drill = &drv1alpha1.DrillObservation{ID: "dr-9", Status: "error"}
		}),
		newDrill("db-now", "db", at(drv1alpha1.DrillAvailable, 1)),
	})
	err := e.Run(drill.NewCmd, "start", "web", "--ttl", "2h", "--vpc", "vpc-drill", "--name", "web-q1")
	want := "" +
		"protectiongroupdrill.dr.sdrs.io/web-q1 created\n" +
		"  group: web\n" +
		"  ttl: 2h0m0s after the drill servers become available\n" +
		"  drill VPC: vpc-drill\n" +
		"  end it early: kubectl sdrs drill end web-q1 -n apps\n"
	if err != nil || e.Out.String() != want {
		t.Fatalf("err %v, stdout:\n%s\nwant:\n%s", err, e.Out, want)
	}
	if w := "Warning: protectiongroupdrill.dr.sdrs.io/web-broken failed and SDRS still holds its drill dr-9: delete it with kubectl sdrs drill end web-broken -n apps\n"; e.ErrOut.String() != w {
		t.Errorf("stderr %q, want %q", e.ErrOut, w)
	}
	d := getDrill(t, e, "web-q1")
	if d.Spec.ProtectionGroupRef.Name != "web" || d.Spec.TTL.Duration != 2*time.Hour || d.Spec.DrillVpcID != "vpc-drill" {
		t.Errorf("spec %+v", d.Spec)
	}
}

func TestStartRefusals(t *testing.T) {
	cases := []struct {
		name    string
		objs    []client.Object
		args    []string
		code    int
		wantErr string
	}{
		{name: "a missing group", args: []string{"start", "nope"}, code: cli.ExitUsage,
			wantErr: "ProtectionGroup apps/nope not found: there is nothing to drill"},
		{name: "a live drill of the group",
			objs: []client.Object{newDrill("web-1", "web", at(drv1alpha1.DrillAvailable, 1))},
			args: []string{"start", "web"}, code: cli.ExitUsage,
			wantErr: "protectiongroup.dr.sdrs.io/web already has a live drill: web-1 (Available); end it first: kubectl sdrs drill end web-1 -n apps --wait"},
		{name: "a drill the operator has not read yet is live",
			objs: []client.Object{newDrill("web-1", "web")},
			args: []string{"start", "web"}, code: cli.ExitUsage, wantErr: "already has a live drill: web-1 (new)"},
		{name: "a releasing drill is live", objs: []client.Object{newDrill("web-1", "web", at(drv1alpha1.DrillReleasing, 1))},
			args: []string{"start", "web", "--dry-run"}, code: cli.ExitUsage, wantErr: "web-1 (Releasing)"},
		{name: "the name is taken", objs: []client.Object{newDrill("web-q1", "web", at(drv1alpha1.DrillReleased, 1))},
			args: []string{"start", "web", "--name", "web-q1"}, code: cli.ExitUsage,
			wantErr: "a ProtectionGroupDrill named web-q1 already exists in apps: give another --name"},
		{name: "no group", args: []string{"start"}, code: cli.ExitUsage, wantErr: "exactly one ProtectionGroup name"},
		{name: "two groups", args: []string{"start", "web", "db"}, code: cli.ExitUsage, wantErr: "exactly one ProtectionGroup name"},
		{name: "zero ttl", args: []string{"start", "web", "--ttl", "0s"}, code: cli.ExitUsage, wantErr: "--ttl must be positive"},
		{name: "negative ttl", args: []string{"start", "web", "--ttl", "-1h"}, code: cli.ExitUsage, wantErr: "--ttl must be positive"},
		{name: "bad ttl", args: []string{"start", "web", "--ttl", "soon"}, code: cli.ExitUsage, wantErr: "invalid argument"},
		{name: "bad name", args: []string{"start", "web", "--name", "Web_Q1"}, code: cli.ExitUsage, wantErr: `invalid --name "Web_Q1"`},
		{name: "wait with dry run", args: []string{"start", "web", "--wait", "--dry-run"}, code: cli.ExitUsage, wantErr: "--wait and --dry-run do not go together"},
		{name: "bad dry run", args: []string{"start", "web", "--dry-run=maybe"}, code: cli.ExitUsage, wantErr: "--dry-run must be none, server or client"},
		{name: "zero timeout", args: []string{"start", "web", "--wait", "--timeout", "0s"}, code: cli.ExitUsage, wantErr: "--timeout must be positive"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e := clitest.NewEnv(append([]client.Object{clitest.PG("web")}, tc.objs...))
			before := drillCount(t, e)
			err := e.Run(drill.NewCmd, tc.args...)
			if cli.Code(err) != tc.code || err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("exit %d, err %v; want %d, %q", cli.Code(err), err, tc.code, tc.wantErr)
			}
			if after := drillCount(t, e); after != before || e.Out.String() != "" {
				t.Errorf("drills %d -> %d, stdout %q", before, after, e.Out)
			}
		})
	}
}

func TestStartDryRunCreatesNothing(t *testing.T) {
	for _, mode := range []string{"--dry-run", "--dry-run=client"} {
		t.Run(mode, func(t *testing.T) {
			e := clitest.NewEnv([]client.Object{clitest.PG("web")})
			err := e.Run(drill.NewCmd, "start", "web", "--ttl", "90m", mode)
			kind := map[string]string{"--dry-run": "server", "--dry-run=client": "client"}[mode]
			want := "protectiongroupdrill.dr.sdrs.io/web-drill-20260301-1200 would be created (dry run: " + kind + ")\n" +
				"  group: web\n" +
				"  ttl: 1h30m0s after the drill servers become available\n"
			if err != nil || !strings.HasPrefix(e.Out.String(), want) {
				t.Errorf("err %v, stdout:\n%s\nwant prefix:\n%s", err, e.Out, want)
			}
			if n := drillCount(t, e); n != 0 {
				t.Errorf("%d drills created", n)
			}
		})
	}
}

func TestStartWait(t *testing.T) {
	expires := metav1.NewTime(clitest.Now.Add(2 * time.Hour))
	creating := at(drv1alpha1.DrillCreating, 1, cond(drv1alpha1.ReadyCondition, F, "Creating", 1), cond(drv1alpha1.ReconcilingCondition, T, "Creating", 1))
	available := func(d *drv1alpha1.ProtectionGroupDrill) {
		at(drv1alpha1.DrillAvailable, 1, cond(drv1alpha1.ReadyCondition, T, "Available", 1))(d)
		d.Status.ExpiresAt = &expires
	}
	cases := []struct {
		name    string
		steps   []func(*drv1alpha1.ProtectionGroupDrill)
		timeout time.Duration
		code    int
		out     []string
		wantErr string
	}{
		{name: "Ready for its generation: exit 0, each phase printed once",
			steps: []func(*drv1alpha1.ProtectionGroupDrill){at("", 0), creating, creating, available},
			code:  cli.ExitOK,
			out: []string{
				"[0s] protectiongroupdrill.dr.sdrs.io/web-drill-20260301-1200: no phase yet; waiting for the operator to observe generation 1 (observed 0)\n" +
					"[0s] protectiongroupdrill.dr.sdrs.io/web-drill-20260301-1200: Creating; Ready=False Creating: msg Creating\n" +
					"[0s] protectiongroupdrill.dr.sdrs.io/web-drill-20260301-1200: Available; Ready Available: msg Available; expires 2026-03-01T14:00:00Z\n",
			}},
		{name: "Ready True for an older generation is not enough",
			steps: []func(*drv1alpha1.ProtectionGroupDrill){func(d *drv1alpha1.ProtectionGroupDrill) {
				d.Generation = 2
				at(drv1alpha1.DrillAvailable, 1, cond(drv1alpha1.ReadyCondition, T, "Available", 1))(d)
			}},
			timeout: 30 * time.Millisecond, code: cli.ExitTimeout, wantErr: "timed out after 30ms",
			out: []string{"waiting for the operator to observe generation 2 (observed 1)"}},
		{name: "Stalled: exit 4 with the operator's message",
			steps: []func(*drv1alpha1.ProtectionGroupDrill){creating, at(drv1alpha1.DrillPending, 1,
				cond(drv1alpha1.ReadyCondition, F, "GroupNotSynchronized", 1), cond(drv1alpha1.StalledCondition, T, "GroupNotSynchronized", 1))},
			code: cli.ExitStalled, wantErr: "Stalled GroupNotSynchronized: msg GroupNotSynchronized",
			out: []string{"Pending; Stalled GroupNotSynchronized: msg GroupNotSynchronized\n"}},
		{name: "phase Failed: exit 4",
			steps: []func(*drv1alpha1.ProtectionGroupDrill){at(drv1alpha1.DrillFailed, 1, cond(drv1alpha1.ReadyCondition, F, "DrillCreateFailed", 1))},
			code:  cli.ExitStalled, wantErr: "the drill failed: DrillCreateFailed: msg DrillCreateFailed"},
		{name: "ended before available: exit 5",
			steps: []func(*drv1alpha1.ProtectionGroupDrill){creating, func(d *drv1alpha1.ProtectionGroupDrill) {
				d.Generation, d.Spec.Release = 2, true
				at(drv1alpha1.DrillReleasing, 2, cond(drv1alpha1.ReadyCondition, F, "Releasing", 2))(d)
			}},
			code: cli.ExitSuperseded, wantErr: "the drill was ended (spec.release or its TTL) before its drill servers became available"},
		{name: "timeout: exit 3 with the last state",
			steps:   []func(*drv1alpha1.ProtectionGroupDrill){creating},
			timeout: 30 * time.Millisecond, code: cli.ExitTimeout,
			wantErr: "timed out after 30ms waiting for protectiongroupdrill.dr.sdrs.io/web-drill-20260301-1200 (Creating; Ready=False Creating: msg Creating)"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e := clitest.NewEnv([]client.Object{clitest.PG("web")}, scriptDrills(tc.steps...))
			timeout := tc.timeout
			if timeout == 0 {
				timeout = time.Minute
			}
			err := drill.Start(context.Background(), e.Env, drill.StartOptions{Group: "web", Wait: true, Timeout: timeout, PollInterval: time.Millisecond})
			if cli.Code(err) != tc.code || (tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr))) {
				t.Errorf("exit %d, err %v; want %d, %q", cli.Code(err), err, tc.code, tc.wantErr)
			}
			if !strings.HasPrefix(e.Out.String(), "protectiongroupdrill.dr.sdrs.io/web-drill-20260301-1200 created\n") {
				t.Errorf("stdout:\n%s", e.Out)
			}
			for _, w := range tc.out {
				if !strings.Contains(e.Out.String(), w) {
					t.Errorf("stdout lacks %q:\n%s", w, e.Out)
				}
			}
		})
	}
}

func TestEndPatchesSpecReleaseOnly(t *testing.T) {
	vpc := func(d *drv1alpha1.ProtectionGroupDrill) {
		d.Status.Drill = &drv1alpha1.DrillObservation{ID: "dr-1", VpcID: "vpc-auto", VpcAutoCreated: true}
		d.Status.Servers = []drv1alpha1.DrillServer{{ProtectedInstance: "pi-1"}, {ProtectedInstance: "pi-2"}}
	}
	e := clitest.NewEnv([]client.Object{newDrill("web-1", "web", at(drv1alpha1.DrillAvailable, 1), vpc)})
	err := e.Run(drill.NewCmd, "end", "web-1")
	want := "" +
		"protectiongroupdrill.dr.sdrs.io/web-1 patched\n" +
		"  spec.release: false -> true\n" +
		"  the operator deletes the SDRS drill and its 2 drill servers; SDRS created the drill VPC vpc-auto and keeps it: delete it when no drill needs it\n"
	if err != nil || e.Out.String() != want {
		t.Fatalf("err %v, stdout:\n%s\nwant:\n%s", err, e.Out, want)
	}
	p := e.Patches()
	if len(p) != 1 || p[0].Data != `{"spec":{"release":true}}` || p[0].Type != "application/merge-patch+json" || p[0].Status || p[0].DryRun || p[0].Name != "apps/web-1" {
		t.Errorf("patches %+v", p)
	}
	if d := getDrill(t, e, "web-1"); !d.Spec.Release || d.Status.Phase != drv1alpha1.DrillAvailable {
		t.Errorf("release %v, phase %s", d.Spec.Release, d.Status.Phase)
	}
}

func TestEndUnchangedDryRunAndRefusals(t *testing.T) {
	released := metav1.NewTime(clitest.Now.Add(-time.Minute))
	cases := []struct {
		name      string
		drill     *drv1alpha1.ProtectionGroupDrill
		args      []string
		code      int
		out       string
		wantErr   string
		patches   int
		dryRunned bool
	}{
		{name: "already released by its TTL", drill: newDrill("web-1", "web", at(drv1alpha1.DrillReleased, 1), func(d *drv1alpha1.ProtectionGroupDrill) {
			d.Status.ReleasedAt = &released
		}), args: []string{"end", "web-1"}, out: "protectiongroupdrill.dr.sdrs.io/web-1 unchanged: already released at 2026-03-01T11:59:00Z\n"},
		{name: "release already asked for", drill: newDrill("web-1", "web", at(drv1alpha1.DrillReleasing, 1), func(d *drv1alpha1.ProtectionGroupDrill) {
			d.Spec.Release = true
		}), args: []string{"end", "web-1"}, out: "protectiongroupdrill.dr.sdrs.io/web-1 unchanged: spec.release is already true (phase Releasing)\n"},
		{name: "server dry run", drill: newDrill("web-1", "web", at(drv1alpha1.DrillAvailable, 1)), args: []string{"end", "web-1", "--dry-run"},
			out:     "protectiongroupdrill.dr.sdrs.io/web-1 would be patched (dry run: server)\n  spec.release: false -> true\n  patch: {\"spec\":{\"release\":true}}\n",
			patches: 1, dryRunned: true},
		{name: "client dry run", drill: newDrill("web-1", "web", at(drv1alpha1.DrillAvailable, 1)), args: []string{"end", "web-1", "--dry-run=client"},
			out: "protectiongroupdrill.dr.sdrs.io/web-1 would be patched (dry run: client)\n  spec.release: false -> true\n  patch: {\"spec\":{\"release\":true}}\n"},
		{name: "a missing drill exits 1", args: []string{"end", "nope"}, code: cli.ExitError, wantErr: "cannot get ProtectionGroupDrill apps/nope"},
		{name: "no name", args: []string{"end"}, code: cli.ExitUsage, wantErr: "exactly one ProtectionGroupDrill name"},
		{name: "wait with dry run", args: []string{"end", "web-1", "--dry-run", "--wait"}, code: cli.ExitUsage, wantErr: "do not go together"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var objs []client.Object
			if tc.drill != nil {
				objs = append(objs, tc.drill)
			}
			e := clitest.NewEnv(objs)
			err := e.Run(drill.NewCmd, tc.args...)
			if cli.Code(err) != tc.code || (tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr))) {
				t.Errorf("exit %d, err %v; want %d, %q", cli.Code(err), err, tc.code, tc.wantErr)
			}
			if e.Out.String() != tc.out {
				t.Errorf("stdout:\n%s\nwant:\n%s", e.Out, tc.out)
			}
			p := e.Patches()
			if len(p) != tc.patches || (tc.patches > 0 && p[0].DryRun != tc.dryRunned) {
				t.Errorf("patches %+v", p)
			}
			if tc.drill != nil && getDrill(t, e, tc.drill.Name).Spec.Release != tc.drill.Spec.Release {
				t.Error("spec.release changed")
			}
		})
	}
}

func TestEndWait(t *testing.T) {
	releasedAt := metav1.NewTime(clitest.Now)
	releasing := func(d *drv1alpha1.ProtectionGroupDrill) {
		d.Generation = 2
		at(drv1alpha1.DrillReleasing, 2, cond(drv1alpha1.ReadyCondition, F, "Releasing", 2), cond(drv1alpha1.ReconcilingCondition, T, "Releasing", 2))(d)
	}
	cases := []struct {
		name    string
		steps   []func(*drv1alpha1.ProtectionGroupDrill)
		timeout time.Duration
		code    int
		out     []string
		wantErr string
	}{
		{name: "Released: exit 0",
			steps: []func(*drv1alpha1.ProtectionGroupDrill){releasing, releasing, func(d *drv1alpha1.ProtectionGroupDrill) {
				releasing(d)
				d.Status.Phase, d.Status.ReleasedAt = drv1alpha1.DrillReleased, &releasedAt
			}},
			out: []string{
				"[0s] protectiongroupdrill.dr.sdrs.io/web-1: Releasing; Reconciling=True Releasing: msg Releasing\n" +
					"[0s] protectiongroupdrill.dr.sdrs.io/web-1: Released; released at 2026-03-01T12:00:00Z\n",
			}},
		{name: "a Stalled left from the generation before the release does not count",
			steps: []func(*drv1alpha1.ProtectionGroupDrill){func(d *drv1alpha1.ProtectionGroupDrill) {
				d.Generation = 2
				at(drv1alpha1.DrillAvailable, 1, cond(drv1alpha1.StalledCondition, T, "VerifyJobFailed", 1))(d)
			}},
			timeout: 30 * time.Millisecond, code: cli.ExitTimeout, wantErr: "waiting for the operator to observe generation 2 (observed 1)"},
		{name: "Stalled while releasing: exit 4",
			steps: []func(*drv1alpha1.ProtectionGroupDrill){func(d *drv1alpha1.ProtectionGroupDrill) {
				releasing(d)
				d.Status.Conditions = append(d.Status.Conditions, cond(drv1alpha1.StalledCondition, T, "ErrorDeleting", 2))
			}},
			code: cli.ExitStalled, wantErr: "protectiongroupdrill.dr.sdrs.io/web-1: Stalled ErrorDeleting: msg ErrorDeleting"},
		{name: "timeout: exit 3",
			steps: []func(*drv1alpha1.ProtectionGroupDrill){releasing}, timeout: 30 * time.Millisecond, code: cli.ExitTimeout,
			wantErr: "timed out after 30ms waiting for protectiongroupdrill.dr.sdrs.io/web-1 (Releasing; Reconciling=True Releasing: msg Releasing)"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			steps := append([]func(*drv1alpha1.ProtectionGroupDrill){func(*drv1alpha1.ProtectionGroupDrill) {}}, tc.steps...) // End's own read
			e := clitest.NewEnv([]client.Object{newDrill("web-1", "web", at(drv1alpha1.DrillAvailable, 1))}, scriptDrills(steps...))
			timeout := tc.timeout
			if timeout == 0 {
				timeout = time.Minute
			}
			err := drill.End(context.Background(), e.Env, drill.EndOptions{Name: "web-1", Wait: true, Timeout: timeout, PollInterval: time.Millisecond})
			if cli.Code(err) != tc.code || (tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr))) {
				t.Errorf("exit %d, err %v; want %d, %q", cli.Code(err), err, tc.code, tc.wantErr)
			}
			if !strings.HasPrefix(e.Out.String(), "protectiongroupdrill.dr.sdrs.io/web-1 patched\n") {
				t.Errorf("stdout:\n%s", e.Out)
			}
			for _, w := range tc.out {
				if !strings.Contains(e.Out.String(), w) {
					t.Errorf("stdout lacks %q:\n%s", w, e.Out)
				}
			}
		})
	}
}

// group returns a group with a last drill, a last passed drill (nil
// passedAgo for none) and, unless reason is "", a DrillUpToDate condition.
func group(name string, passedAgo *time.Duration, s metav1.ConditionStatus, reason string, mods ...func(*drv1alpha1.ProtectionGroup)) *drv1alpha1.ProtectionGroup {
	return clitest.PG(name, append([]func(*drv1alpha1.ProtectionGroup){func(pg *drv1alpha1.ProtectionGroup) {
		if passedAgo != nil {
			when := metav1.NewTime(clitest.Now.Add(-*passedAgo))
			pg.Status.LastPassedDrill = &drv1alpha1.DrillRecord{Name: name + "-passed", Result: drv1alpha1.DrillPassed, At: &when}
			pg.Status.LastDrill = pg.Status.LastPassedDrill.DeepCopy()
		}
		if reason != "" {
			pg.Status.Conditions = append(pg.Status.Conditions, clitest.Cond(drv1alpha1.DrillUpToDateCondition, s, reason, "msg "+reason, 1))
		}
	}}, mods...)...)
}

func ago(d time.Duration) *time.Duration { return &d }

func lastFailed(daysAgo int) func(*drv1alpha1.ProtectionGroup) {
	return func(pg *drv1alpha1.ProtectionGroup) {
		when := metav1.NewTime(clitest.Now.Add(-time.Duration(daysAgo) * 24 * time.Hour))
		pg.Status.LastDrill = &drv1alpha1.DrillRecord{Name: pg.Name + "-failed", Result: drv1alpha1.DrillResultFailed, At: &when}
	}
}

func TestListGroups(t *testing.T) {
	e := clitest.NewEnv([]client.Object{
		group("web", ago(10*24*time.Hour), T, drv1alpha1.DrillPassedRecentlyReason),
		group("db", ago(100*24*time.Hour), F, drv1alpha1.DrillOverdueReason, lastFailed(2)),
		group("fresh", nil, F, drv1alpha1.NoDrillPassedReason),
		newDrill("fresh-1", "fresh", at(drv1alpha1.DrillCreating, 1)),
		newDrill("web-old", "web", at(drv1alpha1.DrillReleased, 1)),
	})
	err := e.Run(drill.NewCmd, "list")
	want := "" +
		"GROUP   LAST DRILL   RESULT   WHEN      LAST PASSED   UP TO DATE          LIVE DRILL\n" +
		"db      db-failed    Failed   2d ago    100d ago      no: DrillOverdue    -\n" +
		"fresh   -            -        -         -             no: NoDrillPassed   fresh-1 (Creating)\n" +
		"web     web-passed   Passed   10d ago   10d ago       yes                 -\n" +
		"\n" +
		"protectiongroup.dr.sdrs.io/db: msg DrillOverdue\n" +
		"  drill it: kubectl sdrs drill start db -n apps --wait\n" +
		"\n" +
		"protectiongroup.dr.sdrs.io/fresh: msg NoDrillPassed\n" +
		"  a drill is live: fresh-1 (Creating)\n"
	if e.Out.String() != want {
		t.Errorf("stdout:\n%s\nwant:\n%s", e.Out, want)
	}
	if cli.Code(err) != cli.ExitDrillOverdue || err.Error() != "2 of 3 groups have no passed drill within their drill interval: db (DrillOverdue), fresh (NoDrillPassed)" {
		t.Errorf("exit %d, err %v", cli.Code(err), err)
	}
	if len(e.Patches()) != 0 {
		t.Errorf("list patched: %+v", e.Patches())
	}
}

func TestListUpToDateExitsZero(t *testing.T) {
	e := clitest.NewEnv([]client.Object{
		group("web", ago(time.Hour), T, drv1alpha1.DrillPassedRecentlyReason),
		group("db", ago(100*24*time.Hour), F, drv1alpha1.DrillOverdueReason, clitest.Labels("tier", "db")),
	})
	err := e.Run(drill.NewCmd, "list", "web")
	if err != nil || !strings.Contains(e.Out.String(), "web     web-passed   Passed   60m ago ") {
		t.Errorf("err %v, stdout:\n%s", err, e.Out)
	}
	e.Out.Reset()
	err = e.Run(drill.NewCmd, "list", "-l", "tier=db")
	if cli.Code(err) != cli.ExitDrillOverdue || strings.Contains(e.Out.String(), "web") {
		t.Errorf("exit %d, stdout:\n%s", cli.Code(err), e.Out)
	}
}

// Before the operator writes DrillUpToDate, the plugin applies its rule.
func TestListComputesWithoutTheCondition(t *testing.T) {
	daily := func(pg *drv1alpha1.ProtectionGroup) {
		pg.Spec.DrillInterval = &metav1.Duration{Duration: 24 * time.Hour}
	}
	cases := []struct {
		pg   *drv1alpha1.ProtectionGroup
		cell string
		code int
	}{
		{group("a", nil, "", ""), "no: NoDrillPassed (computed)", cli.ExitDrillOverdue},
		{group("a", ago(89*24*time.Hour), "", ""), "yes (computed)", cli.ExitOK},
		{group("a", ago(91*24*time.Hour), "", ""), "no: DrillOverdue (computed)", cli.ExitDrillOverdue},
		{group("a", ago(25*time.Hour), "", "", daily), "no: DrillOverdue (computed)", cli.ExitDrillOverdue},
		{group("a", ago(23*time.Hour), "", "", daily), "yes (computed)", cli.ExitOK},
		{group("a", ago(23*time.Hour), metav1.ConditionUnknown, "DrillIntervalUnknown"), "unknown: DrillIntervalUnknown", cli.ExitOK},
	}
	for _, tc := range cases {
		e := clitest.NewEnv([]client.Object{tc.pg})
		err := e.Run(drill.NewCmd, "list")
		if cli.Code(err) != tc.code || !strings.Contains(e.Out.String(), "   "+tc.cell+"   ") {
			t.Errorf("%s: exit %d, err %v, stdout:\n%s\nwant cell %q", tc.cell, cli.Code(err), err, e.Out, tc.cell)
		}
	}
}

func TestListAllNamespaces(t *testing.T) {
	e := clitest.NewEnv([]client.Object{
		group("web", ago(time.Hour), T, drv1alpha1.DrillPassedRecentlyReason),
		group("web", nil, F, drv1alpha1.NoDrillPassedReason, clitest.InNamespace("prod")),
	})
	err := e.Run(drill.NewCmd, "list", "-A")
	want := "" +
		"NAMESPACE   GROUP   LAST DRILL   RESULT   WHEN      LAST PASSED   UP TO DATE          LIVE DRILL\n" +
		"apps        web     web-passed   Passed   60m ago   60m ago       yes                 -\n" +
		"prod        web     -            -        -         -             no: NoDrillPassed   -\n" +
		"\n" +
		"protectiongroup.dr.sdrs.io/web -n prod: msg NoDrillPassed\n" +
		"  drill it: kubectl sdrs drill start web -n prod --wait\n"
	if e.Out.String() != want {
		t.Errorf("stdout:\n%s\nwant:\n%s", e.Out, want)
	}
	if cli.Code(err) != cli.ExitDrillOverdue || !strings.HasSuffix(err.Error(), ": prod/web (NoDrillPassed)") {
		t.Errorf("exit %d, err %v", cli.Code(err), err)
	}
}

func TestListDrills(t *testing.T) {
	expires := metav1.NewTime(clitest.Now.Add(90 * time.Minute))
	expired := metav1.NewTime(clitest.Now.Add(-2 * time.Hour))
	e := clitest.NewEnv([]client.Object{
		group("web", ago(time.Hour), T, drv1alpha1.DrillPassedRecentlyReason),
		newDrill("web-2", "web", at(drv1alpha1.DrillAvailable, 1, cond(drv1alpha1.ReadyCondition, T, "Available", 1)), func(d *drv1alpha1.ProtectionGroupDrill) {
			d.Status.ExpiresAt = &expires
			d.Status.Outcome = &drv1alpha1.DrillOutcome{Result: drv1alpha1.DrillPassed, Source: "Job"}
		}),
		newDrill("web-1", "web", at(drv1alpha1.DrillReleased, 1, cond(drv1alpha1.ReadyCondition, F, "Released", 1)), func(d *drv1alpha1.ProtectionGroupDrill) {
			d.Status.ExpiresAt = &expired
			d.Status.Outcome = &drv1alpha1.DrillOutcome{Result: drv1alpha1.DrillResultFailed, Source: "Person"}
		}),
		// The group of this one is gone; it is listed all the same, as it
		// may still cost money.
		newDrill("gone-1", "gone", func(d *drv1alpha1.ProtectionGroupDrill) { d.Generation = 2 },
			at(drv1alpha1.DrillCreating, 1, cond(drv1alpha1.ReadyCondition, F, "Creating", 1))),
	})
	err := e.Run(drill.NewCmd, "list", "--drills")
	want := "" +
		"NAME     GROUP   PHASE       READY                    EXPIRES    RESULT            AGE\n" +
		"gone-1   gone    Creating    False/Creating (stale)   -          -                 60m\n" +
		"web-1    web     Released    False/Released           120m ago   Failed (Person)   60m\n" +
		"web-2    web     Available   True/Available           in 90m     Passed (Job)      60m\n"
	if err != nil || e.Out.String() != want {
		t.Errorf("err %v, stdout:\n%s\nwant:\n%s", err, e.Out, want)
	}
	e.Out.Reset()
	if err := e.Run(drill.NewCmd, "list", "--drills", "web"); err != nil || strings.Contains(e.Out.String(), "gone-1") || !strings.Contains(e.Out.String(), "web-2") {
		t.Errorf("err %v, stdout:\n%s", err, e.Out)
	}
}

func TestListEmptyAndUsage(t *testing.T) {
	e := clitest.NewEnv(nil)
	if err := e.Run(drill.NewCmd, "list"); err != nil || e.Out.String() != "" || e.ErrOut.String() != "No ProtectionGroups found in namespace apps.\n" {
		t.Errorf("err %v, stdout %q, stderr %q", err, e.Out, e.ErrOut)
	}
	e.ErrOut.Reset()
	if err := e.Run(drill.NewCmd, "list", "--drills"); err != nil || e.ErrOut.String() != "No ProtectionGroupDrills found in namespace apps.\n" {
		t.Errorf("err %v, stderr %q", err, e.ErrOut)
	}
	for _, args := range [][]string{{"list", "web", "-A"}, {"list", "web", "-l", "a=b"}, {"list", "-l", "=="}} {
		if err := e.Run(drill.NewCmd, args...); cli.Code(err) != cli.ExitUsage {
			t.Errorf("%v: exit %d, err %v", args, cli.Code(err), err)
		}
	}
}
