package plugin_test

import (
	"context"
	"github.com/sdrs-operator/sdrs-operator/internal/testenv"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/tools/clientcmd"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/yaml"

	drv1alpha1 "github.com/sdrs-operator/sdrs-operator/api/v1alpha1"
	"github.com/sdrs-operator/sdrs-operator/internal/plugin/cli"
)

// TestAgainstAPIServer runs the cobra command in-process against a real
// kube-apiserver (envtest), through a kubeconfig file as a user would: the
// CRD's defaulting and validation, server-side dry run, generations and
// the status subresource are the real ones, which the fake client only
// imitates. No operator runs, so nothing ever becomes Ready by itself.
func TestAgainstAPIServer(t *testing.T) {
	if testing.Short() {
		t.Skip("needs the pinned control plane (make control-plane); -short runs the unit tests only")
	}
	ctx := t.Context()
	c, kubeconfig := startAPIServer(t)
	base := []string{"--kubeconfig", kubeconfig, "-n", "dr"}
	run := func(args ...string) (int, string, string) { return execute(append(base, args...)...) }
	get := func(name string) *drv1alpha1.ProtectionGroup {
		var pg drv1alpha1.ProtectionGroup
		if err := c.Get(ctx, client.ObjectKey{Namespace: "dr", Name: name}, &pg); err != nil {
			t.Fatal(err)
		}
		return &pg
	}
	createGroup(t, c, "app1", nil)
	createGroup(t, c, "app2", map[string]string{"argocd.argoproj.io/instance": "dr"})

	t.Run("status", func(t *testing.T) {
		code, out, stderr := run("status")
		want := "" +
			"NAME   DESIRED   ACTIVE   MODE      PRODUCTION   DR     REPLICATION   SERVERS   OPERATION   LAST   READY\n" +
			"app1   source    source   Planned   az-1         az-2   active 100%   -         -           -      True/Reconciled\n" +
			"app2   source    source   Planned   az-1         az-2   active 100%   -         -           -      True/Reconciled\n"
		if code != 0 || out != want {
			t.Errorf("exit %d, stderr %q, stdout:\n%s\nwant:\n%s", code, stderr, out, want)
		}
	})

	t.Run("status -o yaml", func(t *testing.T) {
		code, out, _ := run("status", "app1", "-o", "yaml")
		var list drv1alpha1.ProtectionGroupList
		if err := yaml.Unmarshal([]byte(out), &list); code != 0 || err != nil || len(list.Items) != 1 ||
			list.Items[0].Spec.FailoverMode != drv1alpha1.FailoverPlanned { // defaulted by the CRD
			t.Errorf("exit %d, err %v, list %+v", code, err, list)
		}
	})

	t.Run("switchover --dry-run changes nothing on the server", func(t *testing.T) {
		before := get("app2")
		code, out, stderr := run("switchover", "app2", "--to", "target", "--dry-run")
		if code != 0 || !strings.Contains(out, "protectiongroup.dr.sdrs.io/app2 would be patched (dry run: server)") {
			t.Errorf("exit %d, stdout %q, stderr %q", code, out, stderr)
		}
		if !strings.Contains(stderr, cli.ArgoCDWarning) {
			t.Errorf("no Argo CD warning on stderr: %q", stderr)
		}
		after := get("app2")
		if after.ResourceVersion != before.ResourceVersion || after.Spec.DesiredActiveSite != drv1alpha1.SiteSource {
			t.Errorf("dry run changed the object: rv %s -> %s, desired %s", before.ResourceVersion, after.ResourceVersion, after.Spec.DesiredActiveSite)
		}
	})

	t.Run("switchover patches spec, bumps the generation and leaves status", func(t *testing.T) {
		code, out, stderr := run("switchover", "app1", "--to", "target")
		if code != 0 {
			t.Fatalf("exit %d, stdout %q, stderr %q", code, out, stderr)
		}
		pg := get("app1")
		if pg.Spec.DesiredActiveSite != drv1alpha1.SiteTarget || pg.Generation != 2 ||
			pg.Status.ActiveSite != drv1alpha1.SiteSource || pg.Status.ObservedGeneration != 1 {
			t.Errorf("spec %+v generation %d status %+v", pg.Spec, pg.Generation, pg.Status)
		}
	})

	t.Run("the table marks the old Ready as stale", func(t *testing.T) {
		_, out, _ := run("status", "app1")
		if !strings.Contains(out, "True/Reconciled (stale)") {
			t.Errorf("stdout:\n%s", out)
		}
	})

	t.Run("wait on an unobserved generation times out with exit 3", func(t *testing.T) {
		code, out, stderr := run("wait", "app1", "--timeout", "1s")
		if code != cli.ExitTimeout || !strings.Contains(stderr, "timed out after 1s") ||
			!strings.Contains(out, "waiting for the operator to observe generation 2 (observed 1)") {
			t.Errorf("exit %d, stdout %q, stderr %q", code, out, stderr)
		}
	})

	t.Run("switchover --wait ends when the new generation is Ready", func(t *testing.T) {
		type result struct {
			code     int
			out, err string
		}
		done := make(chan result, 1)
		go func() {
			code, out, stderr := run("switchover", "app1", "--to", "source", "--wait", "--timeout", "1m")
			done <- result{code, out, stderr}
		}()
		// Play the operator: once the patch lands (generation 3), report
		// Ready for it. A watch, not a sleep, says when.
		pg := awaitGeneration(t, kubeconfigClient(t, kubeconfig), "app1", 3)
		pg.Status.ObservedGeneration, pg.Status.ActiveSite = 3, drv1alpha1.SiteSource
		pg.Status.Conditions = []metav1.Condition{{Type: drv1alpha1.ReadyCondition, Status: metav1.ConditionTrue,
			Reason: drv1alpha1.ReconciledReason, Message: "active site source", ObservedGeneration: 3, LastTransitionTime: metav1.Now()}}
		if err := c.Status().Update(ctx, pg); err != nil {
			t.Fatal(err)
		}
		r := <-done
		if r.code != 0 || !strings.Contains(r.out, "protectiongroup.dr.sdrs.io/app1: Ready Reconciled: active site source") {
			t.Errorf("exit %d, stdout %q, stderr %q", r.code, r.out, r.err)
		}
	})

	t.Run("a missing group exits 1", func(t *testing.T) {
		if code, _, stderr := run("pause", "nope"); code != cli.ExitError || !strings.Contains(stderr, "not found") {
			t.Errorf("exit %d, stderr %q", code, stderr)
		}
	})
}

// awaitGeneration watches name until its generation reaches gen.
func awaitGeneration(t *testing.T, c client.WithWatch, name string, gen int64) *drv1alpha1.ProtectionGroup {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	w, err := c.Watch(ctx, &drv1alpha1.ProtectionGroupList{}, client.InNamespace("dr"),
		client.MatchingFields{"metadata.name": name})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Stop()
	for ev := range w.ResultChan() {
		if pg, ok := ev.Object.(*drv1alpha1.ProtectionGroup); ok && pg.Generation >= gen {
			return pg
		}
	}
	t.Fatalf("%s never reached generation %d", name, gen)
	return nil
}

// kubeconfigClient is a watching client built from the test's kubeconfig.
func kubeconfigClient(t *testing.T, path string) client.WithWatch {
	t.Helper()
	cfg, err := clientcmd.BuildConfigFromFlags("", path)
	if err != nil {
		t.Fatal(err)
	}
	c, err := client.NewWithWatch(cfg, client.Options{Scheme: cli.Scheme()})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// startAPIServer starts etcd and kube-apiserver with the CRDs and returns
// an admin client and the path of a kubeconfig for the same user.
func startAPIServer(t *testing.T) (client.Client, string) {
	t.Helper()
	cfg, path := testenv.StartAPIServer(t)
	s := cli.Scheme()
	if err := corev1.AddToScheme(s); err != nil {
		t.Fatal(err)
	}
	c, err := client.New(cfg, client.Options{Scheme: s})
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Create(t.Context(), &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "dr"}}); err != nil {
		t.Fatal(err)
	}
	return c, path
}

// createGroup creates a group and writes the status an operator would
// have written after converging at source, through the status subresource.
func createGroup(t *testing.T, c client.Client, name string, labels map[string]string) {
	t.Helper()
	ctx := context.Background()
	pg := &drv1alpha1.ProtectionGroup{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "dr", Labels: labels},
		Spec:       drv1alpha1.ProtectionGroupSpec{ProtectionGroupID: "pg-" + name, DesiredActiveSite: drv1alpha1.SiteSource},
	}
	if err := c.Create(ctx, pg); err != nil {
		t.Fatal(err)
	}
	pg.Status = drv1alpha1.ProtectionGroupStatus{
		ObservedGeneration: pg.Generation,
		ActiveSite:         drv1alpha1.SiteSource,
		Sites:              &drv1alpha1.SiteRoles{Production: "az-1", DisasterRecovery: "az-2"},
		Replication:        &drv1alpha1.ReplicationObservation{Status: "active", Progress: 100},
		Conditions: []metav1.Condition{{Type: drv1alpha1.ReadyCondition, Status: metav1.ConditionTrue,
			Reason: drv1alpha1.ReconciledReason, Message: "as desired", ObservedGeneration: pg.Generation,
			LastTransitionTime: metav1.Now()}},
	}
	if err := c.Status().Update(ctx, pg); err != nil {
		t.Fatal(err)
	}
}
