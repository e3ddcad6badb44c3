package health_test

import (
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	kstatus "sigs.k8s.io/cli-utils/pkg/kstatus/status"

	drv1alpha1 "github.com/sdrs-operator/sdrs-operator/api/v1alpha1"
	"github.com/sdrs-operator/sdrs-operator/internal/health"
)

// The ProtectionGroup tests in lua_test.go and kstatus_test.go, for DRPlan
// and config/argocd/health-drplan.lua.

// planHealthLua is the DRPlan health check users install in Argo CD.
var planHealthLua = filepath.Join("..", "..", "config", "argocd", "health-drplan.lua")

func TestPlanHealthLuaOnEveryState(t *testing.T) {
	lua := readScript(t, planHealthLua)
	for _, s := range planStates() {
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

func TestPlanHealthLuaDegradedMessageSaysWhatToDo(t *testing.T) {
	// Degraded shows exactly what the operator wrote in Valid (an invalid
	// plan) or in Stalled (a blocked or ended run, members off the site),
	// so the Argo CD UI tells the person which decision or fix is needed.
	lua := readScript(t, planHealthLua)
	n := 0
	for _, s := range planStates() {
		u := s.obj()
		got, err := health.RunScript(lua, u)
		if err != nil || got.Status != health.Degraded {
			continue
		}
		n++
		want := conditionMessage(u, drv1alpha1.StalledCondition)
		if conditionStatus(u, drv1alpha1.ValidCondition) == "False" {
			want = conditionMessage(u, drv1alpha1.ValidCondition)
		}
		if got.Message != want {
			t.Errorf("%s: Degraded message %q, want %q", s.name, got.Message, want)
		}
	}
	if n < 8 {
		t.Errorf("want at least eight Degraded states to check, found %d", n)
	}
}

func TestPlanHealthLuaNeverDegradedWhileNewStaleOrMoving(t *testing.T) {
	// A Degraded during a sync fails the Argo CD sync (argo-cd#1826): a new
	// plan, one whose spec the operator has not looked at (a decision just
	// merged from Git), or one whose run moves is never Degraded.
	lua := readScript(t, planHealthLua)
	checked := 0
	for _, s := range planStates() {
		u := s.obj()
		_, hasStatus := u.Object["status"]
		phase, _, _ := unstructured.NestedString(u.Object, "status", "run", "phase")
		moving := phase == string(drv1alpha1.PlanPending) || phase == string(drv1alpha1.PlanRunning)
		observed, _, _ := unstructured.NestedInt64(u.Object, "status", "observedGeneration")
		stale := observed < u.GetGeneration()
		if hasStatus && !moving && !stale {
			continue
		}
		checked++
		got, err := health.RunScript(lua, u)
		if err != nil {
			t.Fatalf("%s: %v", s.name, err)
		}
		if got.Status == health.Degraded {
			t.Errorf("%s: Degraded (%q), but it is new, stale or its run moves", s.name, got.Message)
		}
	}
	if checked < 8 {
		t.Errorf("want at least 8 new, stale or moving states, found %d", checked)
	}
}

func TestPlanHealthLuaSuspendedOnlyWhenAPersonHoldsTheRun(t *testing.T) {
	// Suspended means the run is held on purpose: it waits for an approval,
	// or spec.suspend holds it. Nothing else reads Suspended, and a held
	// run is never Healthy.
	lua := readScript(t, planHealthLua)
	n := 0
	for _, s := range planStates() {
		u := s.obj()
		got, err := health.RunScript(lua, u)
		if err != nil {
			t.Fatalf("%s: %v", s.name, err)
		}
		waiting := conditionStatus(u, drv1alpha1.WaitingForApprovalCondition) == "True"
		suspended := conditionStatus(u, drv1alpha1.ReadyCondition) == "False" &&
			conditionField(u, drv1alpha1.ReadyCondition, "reason") == drv1alpha1.PlanSuspendedReason
		held := waiting || suspended
		if held {
			n++
		}
		if (got.Status == health.Suspended) != held {
			t.Errorf("%s: %s (%q), but waiting for approval %v, suspended %v", s.name, got.Status, got.Message, waiting, suspended)
		}
		if waiting && got.Message != conditionMessage(u, drv1alpha1.WaitingForApprovalCondition) {
			t.Errorf("%s: Suspended message %q, want the WaitingForApproval message", s.name, got.Message)
		}
	}
	if n < 3 {
		t.Errorf("want at least three held states, found %d", n)
	}
}

func TestPlanHealthLuaHealthyOnlyWhenReadyAndNothingLive(t *testing.T) {
	// Healthy means the plan is where Git says: Ready=True for the current
	// generation and no run live.
	lua := readScript(t, planHealthLua)
	for _, s := range planStates() {
		u := s.obj()
		got, err := health.RunScript(lua, u)
		if err != nil || got.Status != health.Healthy {
			continue
		}
		if conditionStatus(u, drv1alpha1.ReadyCondition) != "True" || conditionGeneration(u, drv1alpha1.ReadyCondition) < u.GetGeneration() {
			t.Errorf("%s: Healthy without a current Ready=True", s.name)
		}
		phase, _, _ := unstructured.NestedString(u.Object, "status", "run", "phase")
		if phase != "" && !drv1alpha1.PlanPhase(phase).Finished() {
			t.Errorf("%s: Healthy while run phase %s is live", s.name, phase)
		}
	}
}

func TestPlanHealthLuaSurvivesPartialStatus(t *testing.T) {
	// A status the script does not expect (a run without waves or counts,
	// a current wave missing from the list, conditions without reason or
	// message, a run without id) must not make the script fail: Argo CD
	// would show Unknown with a Lua error.
	lua := readScript(t, planHealthLua)
	base := planObject(runningPlan(1, waveStatus("apps", drv1alpha1.PlanRunning, 10, 3, 0, 1)))
	for _, tc := range []struct {
		name string
		edit func(u *unstructured.Unstructured)
		want health.Status
	}{
		{"run without waves", func(u *unstructured.Unstructured) { unstructured.RemoveNestedField(u.Object, "status", "run", "waves") }, health.Progressing},
		{"waves without counts", func(u *unstructured.Unstructured) {
			waves, _, _ := unstructured.NestedSlice(u.Object, "status", "run", "waves")
			for _, w := range waves {
				delete(w.(map[string]any), "counts")
			}
			_ = unstructured.SetNestedSlice(u.Object, waves, "status", "run", "waves")
		}, health.Progressing},
		{"current wave not listed", func(u *unstructured.Unstructured) {
			_ = unstructured.SetNestedField(u.Object, "reports", "status", "run", "currentWave")
		}, health.Progressing},
		{"run without id", func(u *unstructured.Unstructured) { unstructured.RemoveNestedField(u.Object, "status", "run", "id") }, health.Progressing},
		{"no run at all", func(u *unstructured.Unstructured) { unstructured.RemoveNestedField(u.Object, "status", "run") }, health.Progressing},
		{"conditions without reason or message", func(u *unstructured.Unstructured) {
			conds, _, _ := unstructured.NestedSlice(u.Object, "status", "conditions")
			for _, c := range conds {
				delete(c.(map[string]any), "reason")
				delete(c.(map[string]any), "message")
			}
			_ = unstructured.SetNestedSlice(u.Object, conds, "status", "conditions")
		}, health.Progressing},
		{"no metadata.generation", func(u *unstructured.Unstructured) {
			unstructured.RemoveNestedField(u.Object, "metadata", "generation")
		}, health.Progressing},
	} {
		u := base.DeepCopy()
		tc.edit(u)
		got, err := health.RunScript(lua, u)
		if err != nil {
			t.Errorf("%s: the script failed: %v", tc.name, err)
			continue
		}
		if got.Status != tc.want {
			t.Errorf("%s: want %s, got %s (%q)", tc.name, tc.want, got.Status, got.Message)
		}
	}
}

func TestPlanHealthLuaUsesOnlyWhatArgoCDOpens(t *testing.T) {
	// Argo CD opens only the package, base and table libraries (and a
	// reduced os); this catches a library call on a branch no state reaches.
	lua := readScript(t, planHealthLua)
	for _, re := range []string{`\bstring\.`, `\bmath\.`, `\bos\.`, `\bio\.`, `\brequire\b`, `:\s*(format|sub|find|gsub|match|len|upper|lower|rep)\s*\(`} {
		if loc := regexp.MustCompile(re).FindStringIndex(lua); loc != nil {
			t.Errorf("%s uses %q (%q), which Argo CD does not provide", filepath.Base(planHealthLua), re, lua[loc[0]:loc[1]])
		}
	}
}

func TestPlanArgoCDShowsPendingDeletionWithoutRunningTheScript(t *testing.T) {
	// A plan being deleted shows Progressing "Pending deletion" in Argo CD,
	// whatever the script would say of its status.
	lua := readScript(t, planHealthLua)
	u := planObject(blockedPlan(1, drv1alpha1.MemberFailedReason, memberFailedMessage))
	u.Object["metadata"].(map[string]any)["deletionTimestamp"] = "2026-11-25T10:00:00Z"

	if got := health.Evaluate(lua, u); got != (health.Result{Status: health.Progressing, Message: "Pending deletion"}) {
		t.Errorf("Argo CD view: got %+v", got)
	}
	got, err := health.RunScript(lua, u)
	if err != nil || got.Status != health.Degraded {
		t.Errorf("script alone: want Degraded, got %+v, %v", got, err)
	}
}

func TestPlanKstatusOnEveryState(t *testing.T) {
	for _, s := range planStates() {
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

func TestPlanKstatusMatchesTheContract(t *testing.T) {
	// The rule each waiter (kpt, Flux, cli-utils) relies on: InProgress
	// before the operator observed the spec and while a run is live or
	// waits for an approval, Failed when Stalled, Current only with
	// Ready=True for the current generation.
	for _, s := range planStates() {
		u := s.obj()
		res, err := kstatus.Compute(u)
		if err != nil {
			t.Fatalf("%s: %v", s.name, err)
		}
		phase, _, _ := unstructured.NestedString(u.Object, "status", "run", "phase")
		observed, hasObserved, _ := unstructured.NestedInt64(u.Object, "status", "observedGeneration")
		switch {
		case hasObserved && observed < u.GetGeneration():
			if res.Status != kstatus.InProgressStatus {
				t.Errorf("%s: spec not observed, want InProgress, got %s", s.name, res.Status)
			}
		case conditionStatus(u, drv1alpha1.StalledCondition) == "True":
			if res.Status != kstatus.FailedStatus {
				t.Errorf("%s: Stalled, want Failed, got %s", s.name, res.Status)
			}
		case phase == string(drv1alpha1.PlanPending), phase == string(drv1alpha1.PlanRunning), phase == string(drv1alpha1.PlanWaitingForApproval):
			if res.Status != kstatus.InProgressStatus {
				t.Errorf("%s: run %s, want InProgress, got %s", s.name, phase, res.Status)
			}
		}
		if res.Status == kstatus.CurrentStatus && len(conditionsOf(u)) > 0 &&
			(conditionStatus(u, drv1alpha1.ReadyCondition) != "True" || conditionGeneration(u, drv1alpha1.ReadyCondition) < u.GetGeneration()) {
			t.Errorf("%s: Current without a current Ready=True", s.name)
		}
	}
}

func TestPlanKstatusCurrentNeedsEveryConditionSettled(t *testing.T) {
	// Current only while the plan is at its site and nothing is live or
	// stalled: removing Ready=True, or flipping Reconciling or Stalled, must
	// each leave Current.
	base := planObject(atSitePlan(3))
	res, err := kstatus.Compute(base)
	if err != nil || res.Status != kstatus.CurrentStatus {
		t.Fatalf("plan at its site: want Current, got %+v, %v", res, err)
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

func conditionsOf(u *unstructured.Unstructured) []any {
	conds, _, _ := unstructured.NestedSlice(u.Object, "status", "conditions")
	return conds
}
