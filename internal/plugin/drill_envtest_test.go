package plugin_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/api/equality"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	drv1alpha1 "github.com/sdrs-operator/sdrs-operator/api/v1alpha1"
	"github.com/sdrs-operator/sdrs-operator/internal/plugin/cli"
)

// TestDrillAgainstAPIServer runs drill start, end and list through the
// root command against a real API server: the drill CRD's defaulting, CEL
// rules, generations and status subresource are the real ones. No operator
// runs; the test writes the statuses it would, through the status
// subresource.
func TestDrillAgainstAPIServer(t *testing.T) {
	if testing.Short() {
		t.Skip("needs the pinned control plane (make control-plane); -short runs the unit tests only")
	}
	ctx := t.Context()
	c, kubeconfig := startAPIServer(t)
	run := func(args ...string) (int, string, string) {
		return execute(append([]string{"--kubeconfig", kubeconfig, "-n", "dr"}, args...)...)
	}
	drills := func() []drv1alpha1.ProtectionGroupDrill {
		var list drv1alpha1.ProtectionGroupDrillList
		if err := c.List(ctx, &list, client.InNamespace("dr")); err != nil {
			t.Fatal(err)
		}
		return list.Items
	}
	getDrill := func(name string) *drv1alpha1.ProtectionGroupDrill {
		var d drv1alpha1.ProtectionGroupDrill
		if err := c.Get(ctx, client.ObjectKey{Namespace: "dr", Name: name}, &d); err != nil {
			t.Fatal(err)
		}
		return &d
	}
	// setStatus plays the operator: it writes the drill's status for its
	// current generation.
	setStatus := func(d *drv1alpha1.ProtectionGroupDrill, phase drv1alpha1.DrillPhase, ready metav1.ConditionStatus, reason string) {
		t.Helper()
		d.Status.ObservedGeneration, d.Status.Phase = d.Generation, phase
		d.Status.Conditions = []metav1.Condition{{Type: drv1alpha1.ReadyCondition, Status: ready, Reason: reason,
			Message: "the operator says " + reason, ObservedGeneration: d.Generation, LastTransitionTime: metav1.Now()}}
		if err := c.Status().Update(ctx, d); err != nil {
			t.Fatal(err)
		}
	}
	createGroup(t, c, "app1", nil)
	createGroup(t, c, "app2", nil)

	t.Run("start --dry-run is defaulted by the server and creates nothing", func(t *testing.T) {
		code, out, stderr := run("drill", "start", "app1", "--dry-run")
		if code != 0 || !strings.Contains(out, " would be created (dry run: server)\n") ||
			!strings.Contains(out, "  ttl: 4h0m0s after the drill servers become available\n") {
			t.Errorf("exit %d, stdout %q, stderr %q", code, out, stderr)
		}
		if n := len(drills()); n != 0 {
			t.Errorf("%d drills exist after a dry run", n)
		}
	})

	var name string
	t.Run("start creates the drill with the right spec", func(t *testing.T) {
		code, out, stderr := run("drill", "start", "app1", "--ttl", "2h", "--vpc", "vpc-drill")
		if code != 0 || stderr != "" {
			t.Fatalf("exit %d, stdout %q, stderr %q", code, out, stderr)
		}
		list := drills()
		if len(list) != 1 || !strings.HasPrefix(list[0].Name, "app1-drill-") {
			t.Fatalf("drills %+v", list)
		}
		d := list[0]
		name = d.Name
		if !strings.HasPrefix(out, "protectiongroupdrill.dr.sdrs.io/"+name+" created\n") ||
			!strings.Contains(out, "  end it early: kubectl sdrs drill end "+name+" -n dr\n") {
			t.Errorf("stdout %q", out)
		}
		if d.Spec.ProtectionGroupRef.Name != "app1" || d.Spec.TTL.Duration != 2*time.Hour || d.Spec.DrillVpcID != "vpc-drill" ||
			d.Spec.Release || d.Spec.DeletionPolicy != drv1alpha1.DeletionDelete || d.Generation != 1 || d.Status.Phase != "" {
			t.Errorf("spec %+v, generation %d, status %+v", d.Spec, d.Generation, d.Status)
		}
	})

	t.Run("a second start while one is live exits 2", func(t *testing.T) {
		for _, args := range [][]string{{"drill", "start", "app1"}, {"drill", "start", "app1", "--name", "app1-other"}} {
			code, out, stderr := run(args...)
			if code != cli.ExitUsage || out != "" || !strings.Contains(stderr, "protectiongroup.dr.sdrs.io/app1 already has a live drill: "+name+" (new)") {
				t.Errorf("%v: exit %d, stdout %q, stderr %q", args, code, out, stderr)
			}
		}
		d := getDrill(name)
		setStatus(d, drv1alpha1.DrillAvailable, metav1.ConditionTrue, "Available")
		if code, _, stderr := run("drill", "start", "app1"); code != cli.ExitUsage || !strings.Contains(stderr, name+" (Available)") {
			t.Errorf("exit %d, stderr %q", code, stderr)
		}
		if n := len(drills()); n != 1 {
			t.Errorf("%d drills", n)
		}
	})

	t.Run("start for a missing group exits 2", func(t *testing.T) {
		if code, _, stderr := run("drill", "start", "nope"); code != cli.ExitUsage || !strings.Contains(stderr, "ProtectionGroup dr/nope not found") {
			t.Errorf("exit %d, stderr %q", code, stderr)
		}
	})

	t.Run("end patches spec.release only", func(t *testing.T) {
		before := getDrill(name)
		code, out, stderr := run("drill", "end", name)
		if code != 0 || out != "protectiongroupdrill.dr.sdrs.io/"+name+" patched\n  spec.release: false -> true\n  the operator deletes the SDRS drill and its drill servers\n" {
			t.Errorf("exit %d, stdout %q, stderr %q", code, out, stderr)
		}
		after := getDrill(name)
		want := before.Spec.DeepCopy()
		want.Release = true
		if !equality.Semantic.DeepEqual(after.Spec, *want) || after.Generation != 2 || !equality.Semantic.DeepEqual(after.Status, before.Status) {
			t.Errorf("spec %+v (want %+v), generation %d, status %+v", after.Spec, *want, after.Generation, after.Status)
		}
	})

	t.Run("end --wait ends when the phase is Released", func(t *testing.T) {
		done := make(chan [3]any, 1)
		go func() {
			code, out, stderr := run("drill", "end", name, "--wait", "--timeout", "1m")
			done <- [3]any{code, out, stderr}
		}()
		d := getDrill(name)
		setStatus(d, drv1alpha1.DrillReleased, metav1.ConditionFalse, "Released")
		r := <-done
		out := r[1].(string)
		if r[0] != 0 || !strings.HasPrefix(out, "protectiongroupdrill.dr.sdrs.io/"+name+" unchanged: ") ||
			!strings.Contains(out, ": Released; released\n") {
			t.Errorf("exit %v, stdout %q, stderr %q", r[0], out, r[2])
		}
	})

	t.Run("start --wait ends when the drill is Ready", func(t *testing.T) {
		done := make(chan [3]any, 1)
		go func() {
			code, out, stderr := run("drill", "start", "app1", "--name", "app1-q2", "--wait", "--timeout", "1m")
			done <- [3]any{code, out, stderr}
		}()
		d := awaitDrill(t, kubeconfigClient(t, kubeconfig), "app1-q2")
		setStatus(d, drv1alpha1.DrillAvailable, metav1.ConditionTrue, "Available")
		r := <-done
		if r[0] != 0 || !strings.Contains(r[1].(string), "protectiongroupdrill.dr.sdrs.io/app1-q2: Available; Ready Available: the operator says Available\n") {
			t.Errorf("exit %v, stdout %q, stderr %q", r[0], r[1], r[2])
		}
	})

	t.Run("list exits 9 for an overdue group", func(t *testing.T) {
		old := metav1.NewTime(time.Now().Add(-100 * 24 * time.Hour).Truncate(time.Second))
		recent := metav1.NewTime(time.Now().Add(-48 * time.Hour).Truncate(time.Second))
		for _, g := range []struct {
			name, reason string
			status       metav1.ConditionStatus
			at           metav1.Time
		}{{"app1", drv1alpha1.DrillOverdueReason, metav1.ConditionFalse, old}, {"app2", drv1alpha1.DrillPassedRecentlyReason, metav1.ConditionTrue, recent}} {
			var pg drv1alpha1.ProtectionGroup
			if err := c.Get(ctx, client.ObjectKey{Namespace: "dr", Name: g.name}, &pg); err != nil {
				t.Fatal(err)
			}
			pg.Status.LastDrill = &drv1alpha1.DrillRecord{Name: g.name + "-drill-old", Result: drv1alpha1.DrillPassed, At: &g.at}
			pg.Status.LastPassedDrill = pg.Status.LastDrill.DeepCopy()
			pg.Status.Conditions = append(pg.Status.Conditions, metav1.Condition{Type: drv1alpha1.DrillUpToDateCondition, Status: g.status,
				Reason: g.reason, Message: "the operator says " + g.reason, ObservedGeneration: pg.Generation, LastTransitionTime: metav1.Now()})
			if err := c.Status().Update(ctx, &pg); err != nil {
				t.Fatal(err)
			}
		}
		code, out, stderr := run("drill", "list")
		want := "" +
			"GROUP   LAST DRILL       RESULT   WHEN       LAST PASSED   UP TO DATE         LIVE DRILL\n" +
			"app1    app1-drill-old   Passed   100d ago   100d ago      no: DrillOverdue   app1-q2 (Available)\n" +
			"app2    app2-drill-old   Passed   2d ago     2d ago        yes                -\n" +
			"\n" +
			"protectiongroup.dr.sdrs.io/app1: the operator says DrillOverdue\n" +
			"  a drill is live: app1-q2 (Available)\n"
		if code != cli.ExitDrillOverdue || out != want ||
			stderr != "error: 1 of 2 groups have no passed drill within their drill interval: app1 (DrillOverdue)\n" {
			t.Errorf("exit %d, stderr %q, stdout:\n%s\nwant:\n%s", code, stderr, out, want)
		}
		if code, _, stderr := run("drill", "list", "app2"); code != 0 {
			t.Errorf("app2: exit %d, stderr %q", code, stderr)
		}
	})

	t.Run("list --drills", func(t *testing.T) {
		code, out, stderr := run("drill", "list", "--drills")
		if code != 0 || !strings.HasPrefix(out, "NAME ") || !strings.Contains(out, "app1-q2 ") || !strings.Contains(out, name+" ") ||
			!strings.Contains(out, "True/Available") || !strings.Contains(out, "False/Released") {
			t.Errorf("exit %d, stderr %q, stdout:\n%s", code, stderr, out)
		}
	})
}

// awaitDrill watches until the drill named name exists.
func awaitDrill(t *testing.T, c client.WithWatch, name string) *drv1alpha1.ProtectionGroupDrill {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	w, err := c.Watch(ctx, &drv1alpha1.ProtectionGroupDrillList{}, client.InNamespace("dr"),
		client.MatchingFields{"metadata.name": name})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Stop()
	for ev := range w.ResultChan() {
		if d, ok := ev.Object.(*drv1alpha1.ProtectionGroupDrill); ok {
			return d
		}
	}
	t.Fatalf("%s never appeared", name)
	return nil
}

// Usage errors of the drill verbs exit 2 before any kubeconfig is read,
// and the root help lists the verb and exit code 9.
func TestDrillWithoutACluster(t *testing.T) {
	cases := []struct {
		args       []string
		wantStderr string
	}{
		{[]string{"drill", "bogus"}, `unknown drill command "bogus"`},
		{[]string{"drill", "start"}, "exactly one ProtectionGroup name"},
		{[]string{"drill", "start", "web", "--ttl", "0s"}, "--ttl must be positive"},
		{[]string{"drill", "start", "web", "--wait", "--dry-run"}, "do not go together"},
		{[]string{"drill", "end"}, "exactly one ProtectionGroupDrill name"},
		{[]string{"drill", "list", "web", "-A"}, "-A/--all-namespaces selects by -l"},
		{[]string{"drill", "list", "--wait"}, "unknown flag: --wait"},
	}
	for _, tc := range cases {
		code, _, stderr := execute(tc.args...)
		if code != cli.ExitUsage || !strings.Contains(stderr, tc.wantStderr) {
			t.Errorf("%v: exit %d, stderr %q; want 2, %q", tc.args, code, stderr, tc.wantStderr)
		}
	}
	code, out, _ := execute("--help")
	for _, w := range []string{"drill ", "9 drill list: some\ngroup has no passed drill"} {
		if code != 0 || !strings.Contains(out, w) {
			t.Errorf("root --help lacks %q:\n%s", w, out)
		}
	}
	code, out, _ = execute("drill", "list", "--help")
	for _, w := range []string{"--drills", "-A, --all-namespaces", "9 some listed group is\noverdue"} {
		if code != 0 || !strings.Contains(out, w) {
			t.Errorf("drill list --help lacks %q:\n%s", w, out)
		}
	}
}
