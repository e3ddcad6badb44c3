package health_test

import (
	"context"
	"os/exec"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	kstatus "sigs.k8s.io/cli-utils/pkg/kstatus/status"
	"sigs.k8s.io/controller-runtime/pkg/client"

	drv1alpha1 "github.com/sdrs-operator/sdrs-operator/api/v1alpha1"
	"github.com/sdrs-operator/sdrs-operator/internal/health"
	"github.com/sdrs-operator/sdrs-operator/internal/testenv"
)

// TestKubectlWaitOnAPlan checks, with the real kubectl against a real API
// server and the DRPlan CRD, what docs/gitops.md says of a plan: a new
// plan reads InProgress for kstatus (the CRD's status default) and
// Progressing for Argo CD; `kubectl wait --for=condition=Ready` passes only
// for the generation just written, not on the Ready=True left from the
// previous desiredActiveSite, nor while the run moves or waits for an
// approval. The operator's status writes are played by the test, as the
// DRPlan controller's contract says it writes them.
func TestKubectlWaitOnAPlan(t *testing.T) {
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
	lua := readScript(t, planHealthLua)
	wait := func(t *testing.T) bool {
		t.Helper()
		out, err := exec.Command(kubectl, "--kubeconfig", kcPath, "-n", "dr", "wait", "drplan/erp-failover", "--for=condition=Ready", "--timeout=0").CombinedOutput()
		if err != nil && !strings.Contains(string(out), "condition not met") && !strings.Contains(string(out), "timed out") {
			t.Fatalf("kubectl wait: %v\n%s", err, out)
		}
		return err == nil
	}
	// look reads the plan back as a client sees it and judges it with the
	// Argo CD script and kstatus.
	look := func(t *testing.T) (health.Status, kstatus.Status) {
		t.Helper()
		u := &unstructured.Unstructured{}
		u.SetGroupVersionKind(drv1alpha1.GroupVersion.WithKind("DRPlan"))
		if err := k8s.Get(ctx, client.ObjectKey{Namespace: "dr", Name: "erp-failover"}, u); err != nil {
			t.Fatal(err)
		}
		res, err := kstatus.Compute(u)
		if err != nil {
			t.Fatal(err)
		}
		return health.Evaluate(lua, u).Status, res.Status
	}
	writeStatus := func(t *testing.T, p *drv1alpha1.DRPlan, st drv1alpha1.DRPlanStatus) {
		t.Helper()
		p.Status = st
		if err := k8s.Status().Update(ctx, p); err != nil {
			t.Fatal(err)
		}
	}

	p := newPlan(1)
	p.Spec.Waves[1].PostSteps = nil // the API server gets no Job template here
	if err := k8s.Create(ctx, p); err != nil {
		t.Fatal(err)
	}
	if argo, ks := look(t); argo != health.Progressing || ks != kstatus.InProgressStatus {
		t.Errorf("a new plan: want Progressing and InProgress (the CRD's status default), got %s and %s", argo, ks)
	}
	if wait(t) {
		t.Fatal("a new plan without conditions passed the Ready wait")
	}

	writeStatus(t, p, waitingPlan(1).Status)
	if argo, ks := look(t); argo != health.Suspended || ks != kstatus.InProgressStatus {
		t.Errorf("waiting for approval: want Suspended and InProgress, got %s and %s", argo, ks)
	}
	if wait(t) {
		t.Error("a run waiting for approval passed the Ready wait")
	}
	writeStatus(t, p, runningPlan(1, waveStatus("apps", drv1alpha1.PlanRunning, 10, 3, 0, 1)).Status)
	if wait(t) {
		t.Error("a running plan passed the Ready wait")
	}
	writeStatus(t, p, atSitePlan(1).Status)
	if argo, ks := look(t); argo != health.Healthy || ks != kstatus.CurrentStatus {
		t.Errorf("at the desired site: want Healthy and Current, got %s and %s", argo, ks)
	}
	if !wait(t) {
		t.Fatal("a plan at its desired site did not pass the Ready wait")
	}

	// Fail back in Git: generation 2. The Ready=True of generation 1 does
	// not count until the operator has run the plan to source.
	p.Spec.DesiredActiveSite = drv1alpha1.SiteSource
	if err := k8s.Update(ctx, p); err != nil {
		t.Fatal(err)
	}
	if p.Generation != 2 {
		t.Fatalf("want generation 2 after a desiredActiveSite edit, got %d", p.Generation)
	}
	if argo, ks := look(t); argo != health.Progressing || ks != kstatus.InProgressStatus {
		t.Errorf("new site not yet observed: want Progressing and InProgress, got %s and %s", argo, ks)
	}
	if wait(t) {
		t.Error("a stale Ready=True (observedGeneration 1 < generation 2) passed the wait")
	}
	blocked := blockedPlan(2, drv1alpha1.MemberFailedReason, memberFailedMessage).Status
	writeStatus(t, p, blocked)
	if argo, ks := look(t); argo != health.Degraded || ks != kstatus.FailedStatus {
		t.Errorf("blocked run: want Degraded and Failed, got %s and %s", argo, ks)
	}
	if wait(t) {
		t.Error("a blocked run passed the Ready wait")
	}
	writeStatus(t, p, atSitePlan(2).Status)
	if !wait(t) {
		t.Error("Ready=True for generation 2 did not pass the wait")
	}
}
