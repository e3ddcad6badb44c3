package login

import (
	"strings"
	"testing"
	"time"

	drv1alpha1 "github.com/sdrs-operator/sdrs-operator/api/v1alpha1"
)

const (
	own     = drv1alpha1.CredentialOwn
	aPass   = drv1alpha1.CredentialAPassword
	aObt    = drv1alpha1.CredentialAObtainedPassword
	aCreate = drv1alpha1.CredentialACreationPassword
	aKey    = drv1alpha1.CredentialAKeyPair
	bUntil  = drv1alpha1.CredentialBPasswordUntilInit
	bObtUn  = drv1alpha1.CredentialBObtainedPasswordUntilInit
	bReset  = drv1alpha1.CredentialBResetPassword
	bObtAg  = drv1alpha1.CredentialBObtainedPasswordAgain
	unknown = drv1alpha1.CredentialUnknown
)

var (
	installed = drv1alpha1.GuestInitInstalled
	none      = drv1alpha1.GuestInitNotInstalled
)

// TestRulesAfterFirstSwap restates every row of the SDRS login rules
// (shared/reference/login-rules.md), independently of the table in
// login.go, with B started as production one minute ago (inside the
// Cloudbase-Init window) and long ago (after it).
func TestRulesAfterFirstSwap(t *testing.T) {
	now := time.Date(2026, 12, 6, 3, 0, 0, 0, time.UTC)
	rows := []struct {
		name                string
		os, key             string
		agent               drv1alpha1.GuestInitAgent
		a, bInWindow, bLate drv1alpha1.Credential
		changes             bool
	}{
		{"windows, no Cloudbase-Init, password", Windows, "", none, aPass, aPass, aPass, false},
		{"windows, no Cloudbase-Init, key pair", Windows, "kp", none, aObt, aObt, aObt, false},
		{"windows, Cloudbase-Init, password", Windows, "", installed, own, bUntil, bReset, true},
		{"windows, Cloudbase-Init, key pair", Windows, "kp", installed, aObt, bObtUn, bObtAg, true},
		{"linux, Cloud-Init, password", Linux, "", installed, aPass, aPass, aPass, false},
		{"linux, no Cloud-Init, password", Linux, "", none, aPass, aPass, aPass, false},
		{"linux, key pair", Linux, "kp", installed, aKey, aKey, aKey, false},
		{"linux, no Cloud-Init, key pair", Linux, "kp", none, aKey, aKey, aKey, false},
		{"coreos, Cloud-Init, password", CoreOS, "", installed, aCreate, aCreate, aCreate, true},
		{"coreos, no Cloud-Init, password", CoreOS, "", none, aPass, aPass, aPass, false},
		{"coreos, key pair", CoreOS, "kp", installed, aKey, aKey, aKey, false},
		{"unknown os", "", "", installed, unknown, unknown, unknown, false},
	}
	for _, r := range rows {
		t.Run(r.name, func(t *testing.T) {
			f := Facts{OS: r.os, KeyName: r.key, Agent: r.agent, FirstSwap: drv1alpha1.FirstSwapDone,
				Active: drv1alpha1.SiteTarget, ServerA: "a1", ServerB: "b1"}
			started := now.Add(-time.Minute)
			f.ProductionStartedAt = &started
			g := Guide(f, now)
			assertRows(t, g, r.a, r.bInWindow)
			if r.bInWindow != r.bLate {
				b := g.Servers[1]
				if b.Until == nil || !b.Until.Time.Equal(started.Add(3*time.Minute)) {
					t.Errorf("B until = %v, want B's start + 3m", b.Until)
				}
				if !strings.Contains(b.Use, started.Add(5*time.Minute).Format(time.RFC3339)) {
					t.Errorf("B use %q does not name the latest end of the window", b.Use)
				}
			}
			long := now.Add(-time.Hour)
			f.ProductionStartedAt = &long
			assertRows(t, Guide(f, now), r.a, r.bLate)
			// Without B's start time the window's text stands.
			f.ProductionStartedAt = nil
			assertRows(t, Guide(f, now), r.a, r.bInWindow)
			if got := ChangesAtFirstSwap(f); got != r.changes {
				t.Errorf("ChangesAtFirstSwap = %v, want %v", got, r.changes)
			}
			wantMethod := drv1alpha1.LoginPassword
			if r.key != "" {
				wantMethod = drv1alpha1.LoginKeyPair
			}
			if g.Method != wantMethod {
				t.Errorf("method = %s, want %s", g.Method, wantMethod)
			}
		})
	}
}

func TestWindowEndsAtFiveMinutes(t *testing.T) {
	start := time.Date(2026, 12, 6, 3, 0, 0, 0, time.UTC)
	f := Facts{OS: Windows, Agent: installed, FirstSwap: drv1alpha1.FirstSwapDone, Active: drv1alpha1.SiteTarget, ProductionStartedAt: &start}
	for _, c := range []struct {
		after time.Duration
		want  drv1alpha1.Credential
	}{{0, bUntil}, {4*time.Minute + 59*time.Second, bUntil}, {5 * time.Minute, bReset}} {
		if got := Guide(f, start.Add(c.after)).Servers[1].Credential; got != c.want {
			t.Errorf("%s after B started: %s, want %s", c.after, got, c.want)
		}
	}
}

func TestBeforeFirstSwapEveryServerKeepsItsOwn(t *testing.T) {
	for _, os := range []string{Windows, Linux, CoreOS, ""} {
		g := Guide(Facts{OS: os, FirstSwap: drv1alpha1.FirstSwapNotYet, Active: drv1alpha1.SiteSource, ServerA: "a", ServerB: "b"}, time.Now())
		assertRows(t, g, own, own)
		if g.Servers[0].Role != RoleProduction || g.Servers[1].Role != RoleDisasterRecovery {
			t.Errorf("%s: roles %s/%s, want A production, B DR", os, g.Servers[0].Role, g.Servers[1].Role)
		}
	}
}

func TestUnknownPastShowsBothCases(t *testing.T) {
	start := time.Now()
	g := Guide(Facts{OS: Windows, FirstSwap: drv1alpha1.FirstSwapUnknown, Active: drv1alpha1.SiteSource,
		ServerA: "a", ServerB: "b", ProductionStartedAt: &start}, start)
	if len(g.Servers) != 4 {
		t.Fatalf("rows = %d, want 4 (A and B, for each case)", len(g.Servers))
	}
	want := []struct {
		kase string
		cred drv1alpha1.Credential
	}{{CaseNoSwapYet, own}, {CaseNoSwapYet, own}, {CaseSwapped, own}, {CaseSwapped, bReset}}
	for i, w := range want {
		if g.Servers[i].Case != w.kase || g.Servers[i].Credential != w.cred {
			t.Errorf("row %d = %s/%s, want %s/%s", i, g.Servers[i].Case, g.Servers[i].Credential, w.kase, w.cred)
		}
		if g.Servers[i].Until != nil {
			t.Errorf("row %d has a window end, but a swap before adoption has no known start", i)
		}
	}
}

func TestEveryCredentialIsExplained(t *testing.T) {
	for _, c := range []drv1alpha1.Credential{own, aPass, aObt, aCreate, aKey, bUntil, bObtUn, bReset, bObtAg, unknown} {
		if Use(c) == "" {
			t.Errorf("credential %s has no text for people", c)
		}
	}
}

func assertRows(t *testing.T, g *drv1alpha1.InstanceLogin, a, b drv1alpha1.Credential) {
	t.Helper()
	if len(g.Servers) != 2 {
		t.Fatalf("rows = %d, want 2", len(g.Servers))
	}
	if g.Servers[0].Server != "A" || g.Servers[0].Credential != a {
		t.Errorf("server A: %s %s, want %s", g.Servers[0].Server, g.Servers[0].Credential, a)
	}
	if g.Servers[1].Server != "B" || g.Servers[1].Credential != b {
		t.Errorf("server B: %s %s, want %s", g.Servers[1].Server, g.Servers[1].Credential, b)
	}
}
