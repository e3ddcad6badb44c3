package health_test

import (
	"context"
	"os/exec"
	"strings"
	"testing"
	"time"

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

// The ProtectionGroup tests in lua_test.go and kstatus_test.go, for
// ProtectionGroupDrill and config/argocd/health-drill.lua.

func TestDrillHealthLuaOnEveryState(t *testing.T) {
	lua := readScript(t, drillHealthLua)
	for _, s := range drillStates() {
		t.Run(s.name, func(t *testing.T) {
			got, err := health.RunScript(lua, s.obj())
			if err != nil {
				t.Fatalf("the script failed (%s): %v", s.reason, err)
			}
			if got.Status != s.argo {
				t.Errorf("want %s, got %s (%q): %s", s.argo, got.Status, got.Message, s.reason)
			}
			if !strings.Contains(got.Message, s.argoMessage) {
				t.Errorf("message %q does not say %q", got.Message, s.argoMessage)
			}
		})
	}
}

func TestDrillHealthLuaDegradedMessageSaysWhatToDo(t *testing.T) {
	// Degraded shows exactly what the operator wrote in Stalled (or, for a
	// Failed drill without a current Stalled, in Ready), so the Argo CD UI
	// tells the person what to do.
	lua := readScript(t, drillHealthLua)
	n := 0
	for _, s := range drillStates() {
		u := s.obj()
		got, err := health.RunScript(lua, u)
		if err != nil || got.Status != health.Degraded {
			continue
		}
		n++
		want := conditionMessage(u, "Ready")
		if conditionStatus(u, "Stalled") == "True" && conditionGeneration(u, "Stalled") >= u.GetGeneration() {
			want = conditionMessage(u, "Stalled")
		}
		if got.Message != want {
			t.Errorf("%s: Degraded message %q, want %q", s.name, got.Message, want)
		}
	}
	if n < 4 {
		t.Errorf("want at least four Degraded states to check, found %d", n)
	}
}

func TestDrillHealthLuaNeverDegradedAtCreationOrWhileAJobRuns(t *testing.T) {
	// A Degraded during a sync fails the Argo CD sync (argo-cd#1826): a new
	// drill, one whose spec the operator has not looked at, or one with an
	// SDRS create or delete in flight is never Degraded.
	lua := readScript(t, drillHealthLua)
	checked := 0
	for _, s := range drillStates() {
		u := s.obj()
		_, hasStatus := u.Object["status"]
		_, inFlight, _ := unstructured.NestedMap(u.Object, "status", "currentOperation")
		observed, _, _ := unstructured.NestedInt64(u.Object, "status", "observedGeneration")
		stale := observed < u.GetGeneration()
		if hasStatus && !inFlight && !stale {
			continue
		}
		checked++
		got, err := health.RunScript(lua, u)
		if err != nil {
			t.Fatalf("%s: %v", s.name, err)
		}
		if got.Status == health.Degraded {
			t.Errorf("%s: Degraded (%q), but it is new, stale or has a job in flight", s.name, got.Message)
		}
	}
	if checked < 6 {
		t.Errorf("want at least 6 new, stale or in-flight states, found %d", checked)
	}
}

func TestDrillHealthLuaHealthyOnlyWhenAvailableOrReleased(t *testing.T) {
	// Healthy means the drill servers run (Ready=True) or the drill is over
	// (Released); Pending, Creating and Releasing never are.
	lua := readScript(t, drillHealthLua)
	for _, s := range drillStates() {
		u := s.obj()
		got, err := health.RunScript(lua, u)
		if err != nil || got.Status != health.Healthy {
			continue
		}
		phase, _, _ := unstructured.NestedString(u.Object, "status", "phase")
		if phase != "Available" && phase != "Verifying" && phase != "Released" {
			t.Errorf("%s: Healthy in phase %s", s.name, phase)
		}
	}
}

func TestDrillArgoCDShowsPendingDeletionWithoutRunningTheScript(t *testing.T) {
	// Deleting a drill deletes the SDRS drill first (the finalizer); Argo CD
	// shows Progressing "Pending deletion" meanwhile, whatever the script
	// would say.
	lua := readScript(t, drillHealthLua)
	u := drillObject(failedDrill(1, "SDRS drill drill-1 is in status error: set spec.release to delete it"))
	u.Object["metadata"].(map[string]any)["deletionTimestamp"] = "2026-11-25T10:00:00Z"

	if got := health.Evaluate(lua, u); got != (health.Result{Status: health.Progressing, Message: "Pending deletion"}) {
		t.Errorf("Argo CD view: got %+v", got)
	}
	got, err := health.RunScript(lua, u)
	if err != nil || got.Status != health.Degraded {
		t.Errorf("script alone: want Degraded, got %+v, %v", got, err)
	}
}

func TestDrillKstatusOnEveryState(t *testing.T) {
	for _, s := range drillStates() {
		t.Run(s.name, func(t *testing.T) {
			res, err := kstatus.Compute(s.obj())
			if err != nil {
				t.Fatalf("kstatus.Compute: %v", err)
			}
			if res.Status != s.kstatus {
				t.Errorf("want %s, got %s (%q): %s", s.kstatus, res.Status, res.Message, s.reason)
			}
		})
	}
}

func TestDrillKstatusCurrentNeedsEveryConditionSettled(t *testing.T) {
	// Current only while the drill servers are available and nothing is in
	// flight or stalled: removing Ready=True, or flipping Reconciling or
	// Stalled, must each leave Current.
	base := drillObject(availableDrill(3))
	res, err := kstatus.Compute(base)
	if err != nil || res.Status != kstatus.CurrentStatus {
		t.Fatalf("available drill: want Current, got %+v, %v", res, err)
	}
	for _, tc := range []struct {
		name, typ, status string
		want              kstatus.Status
	}{
		{"Ready False", "Ready", "False", kstatus.InProgressStatus},
		{"Ready Unknown", "Ready", "Unknown", kstatus.InProgressStatus},
		{"Reconciling True", "Reconciling", "True", kstatus.InProgressStatus},
		{"Stalled True", "Stalled", "True", kstatus.FailedStatus},
	} {
		u := base.DeepCopy()
		conds := u.Object["status"].(map[string]any)["conditions"].([]any)
		for _, c := range conds {
			if m := c.(map[string]any); m["type"] == tc.typ {
				m["status"] = tc.status
			}
		}
		res, err := kstatus.Compute(u)
		if err != nil || res.Status != tc.want {
			t.Errorf("%s: want %s, got %+v, %v", tc.name, tc.want, res, err)
		}
	}
}

func conditionStatus(u *unstructured.Unstructured, typ string) string {
	return conditionField(u, typ, "status")
}

func conditionGeneration(u *unstructured.Unstructured, typ string) int64 {
	conds, _, _ := unstructured.NestedSlice(u.Object, "status", "conditions")
	for _, c := range conds {
		m, _ := c.(map[string]any)
		if m["type"] == typ {
			g, _ := m["observedGeneration"].(int64)
			return g
		}
	}
	return 0
}

func conditionField(u *unstructured.Unstructured, typ, field string) string {
	conds, _, _ := unstructured.NestedSlice(u.Object, "status", "conditions")
	for _, c := range conds {
		m, _ := c.(map[string]any)
		if m["type"] == typ {
			s, _ := m[field].(string)
			return s
		}
	}
	return ""
}

// TestKubectlWaitOnADrill checks, with the real kubectl against a real API
// server, the waits docs/drills.md shows: `--for=condition=Ready` passes
// only while the drill servers are available for the current generation
// (not on a Ready=True left from before a ttl edit), and the phase wait
// passes once the drill is Released, whose Ready is False. The operator's
// status writes are played by the test.
func TestKubectlWaitOnADrill(t *testing.T) {
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
	wait := func(t *testing.T, forArg string) bool {
		t.Helper()
		out, err := exec.Command(kubectl, "--kubeconfig", kcPath, "-n", "dr", "wait", "pgdrill/web-drill-q4", "--for="+forArg, "--timeout=0").CombinedOutput()
		if err != nil && !strings.Contains(string(out), "condition not met") && !strings.Contains(string(out), "timed out") {
			t.Fatalf("kubectl wait --for=%s: %v\n%s", forArg, err, out)
		}
		return err == nil
	}
	writeStatus := func(t *testing.T, d *drv1alpha1.ProtectionGroupDrill, st drv1alpha1.ProtectionGroupDrillStatus) {
		t.Helper()
		d.Status = st
		if err := k8s.Status().Update(ctx, d); err != nil {
			t.Fatal(err)
		}
	}

	d := newDrill(1)
	d.ResourceVersion, d.Finalizers = "", nil
	if err := k8s.Create(ctx, d); err != nil {
		t.Fatal(err)
	}
	if wait(t, "condition=Ready") {
		t.Fatal("a new drill without conditions passed the Ready wait")
	}
	creating := newDrill(1)
	creating.Status.ObservedGeneration, creating.Status.Phase = 1, drv1alpha1.DrillCreating
	creating.Status.Conditions = drillProgressing(1, string(drv1alpha1.DrillCreating), "SDRS creates the drill servers")
	writeStatus(t, d, creating.Status)
	if wait(t, "condition=Ready") {
		t.Error("a Creating drill passed the Ready wait")
	}
	writeStatus(t, d, availableDrill(1).Status)
	if !wait(t, "condition=Ready") {
		t.Fatal("an Available drill did not pass the Ready wait")
	}

	// Extend the drill: generation 2. The Ready=True of generation 1 does
	// not count until the operator has moved expiresAt.
	d.Spec.TTL = &metav1.Duration{Duration: 8 * time.Hour}
	if err := k8s.Update(ctx, d); err != nil {
		t.Fatal(err)
	}
	if d.Generation != 2 {
		t.Fatalf("want generation 2 after a ttl edit, got %d", d.Generation)
	}
	if wait(t, "condition=Ready") {
		t.Error("a stale Ready=True (observedGeneration 1 < generation 2) passed the wait")
	}
	writeStatus(t, d, availableDrill(2).Status)
	if !wait(t, "condition=Ready") {
		t.Error("Ready=True for generation 2 did not pass the wait")
	}
	if wait(t, "jsonpath={.status.phase}=Released") {
		t.Error("the Released wait passed while the drill runs")
	}

	writeStatus(t, d, releasedDrill(2).Status)
	if wait(t, "condition=Ready") {
		t.Error("a Released drill passed the Ready wait: Ready is True only while the servers are available")
	}
	if !wait(t, "jsonpath={.status.phase}=Released") {
		t.Error("a Released drill did not pass the phase wait")
	}
}
