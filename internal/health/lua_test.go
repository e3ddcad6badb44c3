package health_test

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/sdrs-operator/sdrs-operator/internal/health"
)

// healthLua and drillHealthLua are the scripts users install in Argo CD,
// for ProtectionGroup and ProtectionGroupDrill.
var (
	healthLua      = filepath.Join("..", "..", "config", "argocd", "health.lua")
	drillHealthLua = filepath.Join("..", "..", "config", "argocd", "health-drill.lua")
)

func script(t *testing.T) string {
	t.Helper()
	return readScript(t, healthLua)
}

func readScript(t *testing.T, path string) string {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("cannot read the health check: %v", err)
	}
	return string(raw)
}

func TestHealthLuaOnEveryState(t *testing.T) {
	lua := script(t)
	for _, s := range states() {
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

func TestHealthLuaDegradedMessageIsStalledMessage(t *testing.T) {
	// Degraded shows exactly what the operator wrote in Stalled, so the
	// Argo CD UI tells the person what to do.
	lua := script(t)
	n := 0
	for _, s := range states() {
		u := s.obj()
		got, err := health.RunScript(lua, u)
		if err != nil || got.Status != health.Degraded {
			continue
		}
		n++
		if want := conditionMessage(u, "Stalled"); got.Message != want {
			t.Errorf("%s: Degraded message %q, want the Stalled message %q", s.name, got.Message, want)
		}
	}
	if n < 2 {
		t.Errorf("want at least two Degraded states to check, found %d", n)
	}
}

func TestHealthLuaNeverDegradedAtCreationOrWhileAJobRuns(t *testing.T) {
	// A Degraded during a sync fails the Argo CD sync (argo-cd#1826), so an
	// object that is new, has a spec the operator has not looked at, or has
	// an operation in flight is never Degraded, whatever else its status says.
	lua := script(t)
	checked := 0
	for _, s := range states() {
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

func TestHealthLuaUsesOnlyWhatArgoCDOpens(t *testing.T) {
	// Argo CD opens only the package, base and table libraries (and a
	// reduced os). RunScript opens the same, but only the branches a state
	// reaches run; this catches a library call on a branch no state reaches.
	for _, path := range []string{healthLua, drillHealthLua} {
		lua := readScript(t, path)
		for _, re := range []string{`\bstring\.`, `\bmath\.`, `\bos\.`, `\bio\.`, `\brequire\b`, `:\s*(format|sub|find|gsub|match|len|upper|lower|rep)\s*\(`} {
			if loc := regexp.MustCompile(re).FindStringIndex(lua); loc != nil {
				t.Errorf("%s uses %q (%q), which Argo CD does not provide", filepath.Base(path), re, lua[loc[0]:loc[1]])
			}
		}
	}
}

func TestArgoCDShowsPendingDeletionWithoutRunningTheScript(t *testing.T) {
	// gitops-engine answers Progressing "Pending deletion" for an object
	// with a deletionTimestamp before any custom check; a deletion blocked
	// by the operator (Stalled DeletionBlocked) therefore stays Progressing
	// in Argo CD, and only the script alone would say Degraded.
	lua := script(t)
	u := object(stalledPG(2, "DeletionBlocked", "deletionPolicy Delete: the group still has protected instances"))
	u.Object["metadata"].(map[string]any)["deletionTimestamp"] = "2026-11-25T10:00:00Z"

	if got := health.Evaluate(lua, u); got != (health.Result{Status: health.Progressing, Message: "Pending deletion"}) {
		t.Errorf("Argo CD view: got %+v", got)
	}
	got, err := health.RunScript(lua, u)
	if err != nil || got.Status != health.Degraded {
		t.Errorf("script alone: want Degraded, got %+v, %v", got, err)
	}
}

func TestRunScriptFollowsArgoCDConventions(t *testing.T) {
	u := object(converged(1))
	cases := []struct {
		name, reason, script string
		want                 health.Result
		wantErr              string
	}{
		{
			name: "invalid status", reason: "Argo CD turns an unknown status into Unknown with a fixed message",
			script: `return {status = "Fine", message = "x"}`,
			want:   health.Result{Status: health.Unknown, Message: health.InvalidStatusMessage},
		},
		{
			name: "not a table", reason: "a script must return a table",
			script: `return "Healthy"`, wantErr: "expect table output",
		},
		{
			name: "string library absent", reason: "Argo CD does not open the string library, so neither does RunScript",
			script: `return {status = string.upper("healthy")}`, wantErr: "string",
		},
		{
			name: "obj is the object", reason: "the object arrives as the global obj, numbers as numbers",
			script: `return {status = "Healthy", message = obj.metadata.name .. "/" .. tostring(obj.metadata.generation + 1)}`,
			want:   health.Result{Status: health.Healthy, Message: "erp/2"},
		},
		{
			name: "runaway script", reason: "Argo CD stops a script after a second",
			script: `while true do end`, wantErr: "context deadline exceeded",
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if tc.wantErr != "" {
				// A failing script is Unknown in Argo CD, with the error as
				// message; Evaluate shows what RunScript returned.
				res := health.Evaluate(tc.script, u)
				if res.Status != health.Unknown || !strings.Contains(res.Message, tc.wantErr) {
					t.Fatalf("want Unknown with %q (%s), got %+v", tc.wantErr, tc.reason, res)
				}
				return
			}
			got, err := health.RunScript(tc.script, u)
			if err != nil || got != tc.want {
				t.Errorf("want %+v, got %+v, %v (%s)", tc.want, got, err, tc.reason)
			}
		})
	}
}

func conditionMessage(u *unstructured.Unstructured, typ string) string {
	conds, _, _ := unstructured.NestedSlice(u.Object, "status", "conditions")
	for _, c := range conds {
		m, _ := c.(map[string]any)
		if m["type"] == typ {
			s, _ := m["message"].(string)
			return s
		}
	}
	return ""
}
