package health_test

import (
	"context"
	"github.com/sdrs-operator/sdrs-operator/internal/testenv"
	"os/exec"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"sigs.k8s.io/controller-runtime/pkg/client"

	drv1alpha1 "github.com/sdrs-operator/sdrs-operator/api/v1alpha1"
)

// TestKubectlWaitPassesOnlyForTheCurrentGeneration checks, with the real
// kubectl against a real API server, the waits docs/gitops.md recommends:
// `kubectl wait --for=condition=Ready` ignores a condition whose
// observedGeneration is older than metadata.generation, so a Ready=True left
// from the previous spec does not satisfy it, nor does the Ready=False
// (Progressing) the operator writes in the first reconcile of a new
// generation; and `--for=jsonpath={.status.observedGeneration}=N` passes
// once generation N was reconciled. The operator's status writes are played
// by the test.
func TestKubectlWaitPassesOnlyForTheCurrentGeneration(t *testing.T) {
	if testing.Short() {
		t.Skip("needs envtest")
	}
	kubectl, err := exec.LookPath("kubectl")
	if err != nil {
		t.Skip("kubectl is not installed")
	}
	cfg, kcPath := testenv.StartAPIServer(t)
	scheme := clientgoscheme.Scheme
	if err := drv1alpha1.AddToScheme(scheme); err != nil {
		t.Fatal(err)
	}
	k8s, err := client.New(cfg, client.Options{Scheme: scheme})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if err := k8s.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "dr"}}); err != nil {
		t.Fatal(err)
	}

	// wait runs kubectl wait once (--timeout=0 checks once, no polling)
	// and reports whether the condition held.
	wait := func(t *testing.T, forArg string) bool {
		t.Helper()
		out, err := exec.Command(kubectl, "--kubeconfig", kcPath, "-n", "dr", "wait", "pg/erp", "--for="+forArg, "--timeout=0").CombinedOutput()
		if err != nil && !strings.Contains(string(out), "condition not met") && !strings.Contains(string(out), "timed out") {
			t.Fatalf("kubectl wait --for=%s: %v\n%s", forArg, err, out)
		}
		return err == nil
	}
	// writeStatus plays the operator's status write.
	writeStatus := func(t *testing.T, pg *drv1alpha1.ProtectionGroup, observed int64, conds []metav1.Condition) {
		t.Helper()
		pg.Status.ObservedGeneration = observed
		pg.Status.Conditions = conds
		if err := k8s.Status().Update(ctx, pg); err != nil {
			t.Fatal(err)
		}
	}

	pg := newPG(1)
	pg.ResourceVersion, pg.Finalizers = "", nil
	if err := k8s.Create(ctx, pg); err != nil {
		t.Fatal(err)
	}
	if wait(t, "condition=Ready") {
		t.Fatal("a new object without conditions passed the Ready wait")
	}
	writeStatus(t, pg, 1, converged(1).Status.Conditions)
	if !wait(t, "condition=Ready") {
		t.Fatal("Ready=True for generation 1 did not pass the wait")
	}

	// The runbook flips the site: generation 2. Ready=True of generation 1
	// is still in status until the operator writes.
	pg.Spec.DesiredActiveSite = drv1alpha1.SiteTarget
	if err := k8s.Update(ctx, pg); err != nil {
		t.Fatal(err)
	}
	if pg.Generation != 2 {
		t.Fatalf("want generation 2 after a spec change, got %d", pg.Generation)
	}
	if wait(t, "condition=Ready") {
		t.Error("a stale Ready=True (observedGeneration 1 < generation 2) passed the wait")
	}
	if wait(t, "jsonpath={.status.observedGeneration}=2") {
		t.Error("the observedGeneration wait passed before generation 2 was reconciled")
	}

	// First reconcile of generation 2: Ready=False Progressing, job started.
	writeStatus(t, pg, 2, kconds(2,
		ready(metav1.ConditionFalse, drv1alpha1.ProgressingReason, "generation 2 not yet reconciled"),
		reconciling(true, drv1alpha1.PlannedFailoverInProgressReason, "planned failover to target: SDRS job j-2 is RUNNING"),
		stalledCond(false, "", "")))
	if wait(t, "condition=Ready") {
		t.Error("Ready=False (Progressing) passed the wait")
	}
	if !wait(t, "jsonpath={.status.observedGeneration}=2") {
		t.Error("observedGeneration 2 did not pass the jsonpath wait")
	}

	// The failover finished.
	writeStatus(t, pg, 2, converged(2).Status.Conditions)
	if !wait(t, "condition=Ready") {
		t.Error("Ready=True for generation 2 did not pass the wait")
	}
}
