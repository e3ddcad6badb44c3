package login_test

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/yaml"

	drv1alpha1 "github.com/sdrs-operator/sdrs-operator/api/v1alpha1"
	"github.com/sdrs-operator/sdrs-operator/internal/plugin/cli"
	"github.com/sdrs-operator/sdrs-operator/internal/plugin/clitest"
	"github.com/sdrs-operator/sdrs-operator/internal/plugin/login"
)

func at(d time.Duration) *metav1.Time {
	t := metav1.NewTime(clitest.Now.Add(d))
	return &t
}

func server(name, id, role, kase string, cred drv1alpha1.Credential, use string, until *metav1.Time) drv1alpha1.ServerLogin {
	return drv1alpha1.ServerLogin{Server: name, ID: id, Role: role, Case: kase, Credential: cred, Use: use, Until: until}
}

// swapped: the first swap ran 2 minutes ago; a Windows instance whose
// server B opens with its own password for one more minute, one whose
// window passed a minute ago (up to one more minute), one whose window
// ended for good, a Linux one with a key pair whose agent is overridden,
// and one the operator has not read yet.
func swapped(pg *drv1alpha1.ProtectionGroup) {
	pg.Spec.DesiredActiveSite, pg.Status.ActiveSite = drv1alpha1.SiteTarget, drv1alpha1.SiteTarget
	pg.Status.FirstSwap = &drv1alpha1.FirstSwap{State: drv1alpha1.FirstSwapDone, At: at(-2 * time.Minute)}
	win := func(id string, until *metav1.Time) drv1alpha1.InstanceObservation {
		return drv1alpha1.InstanceObservation{ID: "pi-" + id, Name: id, OSType: "Windows",
			Login: &drv1alpha1.InstanceLogin{Method: drv1alpha1.LoginPassword, GuestInitAgent: drv1alpha1.GuestInitInstalled,
				FirstSwap: drv1alpha1.FirstSwapDone, Servers: []drv1alpha1.ServerLogin{
					server("A", "srv-"+id+"-a", "DisasterRecovery", "", drv1alpha1.CredentialOwn, "its own credentials", nil),
					server("B", "srv-"+id+"-b", "Production", "", drv1alpha1.CredentialBPasswordUntilInit, "server B's own password until Cloudbase-Init starts", until),
				}}}
	}
	pg.Status.Instances = []drv1alpha1.InstanceObservation{
		win("win-1", at(time.Minute)),
		win("win-2", at(-time.Minute)),
		win("win-3", at(-3*time.Minute)),
		{ID: "pi-lin", OSType: "Linux", KeyName: "kp", Login: &drv1alpha1.InstanceLogin{Method: drv1alpha1.LoginKeyPair,
			GuestInitAgent: drv1alpha1.GuestInitNotInstalled, FirstSwap: drv1alpha1.FirstSwapDone, Servers: []drv1alpha1.ServerLogin{
				server("A", "srv-l-a", "DisasterRecovery", "", drv1alpha1.CredentialAKeyPair, "server A's SSH key pair", nil),
				server("B", "srv-l-b", "Production", "", drv1alpha1.CredentialAKeyPair, "server A's SSH key pair", nil),
			}}},
		{ID: "pi-new", Name: "fresh"},
	}
}

// adopted: an adopted group serving from source, past unknown.
func adopted(pg *drv1alpha1.ProtectionGroup) {
	pg.Spec.Login = &drv1alpha1.LoginSpec{GuestInitAgent: drv1alpha1.GuestInitInstalled}
	pg.Status.FirstSwap = &drv1alpha1.FirstSwap{State: drv1alpha1.FirstSwapUnknown}
	pg.Status.Instances = []drv1alpha1.InstanceObservation{{ID: "pi-1", Name: "core", OSType: "CoreOS",
		Login: &drv1alpha1.InstanceLogin{Method: drv1alpha1.LoginPassword, GuestInitAgent: drv1alpha1.GuestInitInstalled,
			FirstSwap: drv1alpha1.FirstSwapUnknown, Servers: []drv1alpha1.ServerLogin{
				server("A", "srv-a", "Production", login.CaseNoSwapYet, drv1alpha1.CredentialOwn, "its own credentials", nil),
				server("B", "srv-b", "DisasterRecovery", login.CaseNoSwapYet, drv1alpha1.CredentialOwn, "its own credentials", nil),
				server("A", "srv-a", "Production", login.CaseSwapped, drv1alpha1.CredentialACreationPassword, "the password server A was created with", nil),
				server("B", "srv-b", "DisasterRecovery", login.CaseSwapped, drv1alpha1.CredentialACreationPassword, "the password server A was created with", nil),
			}}}}
}

func fresh(pg *drv1alpha1.ProtectionGroup) {
	pg.Spec.Login = &drv1alpha1.LoginSpec{GuestInitAgent: drv1alpha1.GuestInitNotInstalled}
	pg.Status.FirstSwap = &drv1alpha1.FirstSwap{State: drv1alpha1.FirstSwapNotYet}
	pg.Status.Instances = []drv1alpha1.InstanceObservation{{ID: "pi-1", OSType: "Linux",
		Login: &drv1alpha1.InstanceLogin{Method: drv1alpha1.LoginPassword, GuestInitAgent: drv1alpha1.GuestInitNotInstalled,
			FirstSwap: drv1alpha1.FirstSwapNotYet, Servers: []drv1alpha1.ServerLogin{
				server("A", "srv-a", "Production", "", drv1alpha1.CredentialOwn, "its own credentials", nil),
				server("B", "srv-b", "DisasterRecovery", "", drv1alpha1.CredentialOwn, "its own credentials", nil),
			}}}}
}

func groups() []client.Object {
	return []client.Object{
		clitest.PG("web", swapped),
		clitest.PG("legacy", adopted),
		clitest.PG("new", fresh),
		clitest.PG("unread"),
		clitest.PG("found", func(pg *drv1alpha1.ProtectionGroup) {
			fresh(pg)
			pg.Status.FirstSwap = &drv1alpha1.FirstSwap{State: drv1alpha1.FirstSwapDone}
		}),
	}
}

func TestLoginTable(t *testing.T) {
	cases := []struct {
		name, group, want, wantErr string
	}{
		{name: "after the first swap", group: "web", want: "" +
			"First swap: Done at 2026-03-01T11:58:00Z\n" +
			"Guest init agent: Installed (the default); NotInstalled for pi-lin\n" +
			"\n" +
			"INSTANCE   OS        METHOD     SERVER          ROLE NOW           USE                                                   UNTIL\n" +
			"win-1      Windows   Password   A srv-win-1-a   DisasterRecovery   its own credentials                                   -\n" +
			"win-1      Windows   Password   B srv-win-1-b   Production         server B's own password until Cloudbase-Init starts   2026-03-01T12:01:00Z (in 1m0s)\n" +
			"win-2      Windows   Password   A srv-win-2-a   DisasterRecovery   its own credentials                                   -\n" +
			"win-2      Windows   Password   B srv-win-2-b   Production         server B's own password until Cloudbase-Init starts   2026-03-01T11:59:00Z (1m0s ago; may work up to 1m0s more)\n" +
			"win-3      Windows   Password   A srv-win-3-a   DisasterRecovery   its own credentials                                   -\n" +
			"win-3      Windows   Password   B srv-win-3-b   Production         server B's own password until Cloudbase-Init starts   expired\n" +
			"pi-lin     Linux     KeyPair    A srv-l-a       DisasterRecovery   server A's SSH key pair                               -\n" +
			"pi-lin     Linux     KeyPair    B srv-l-b       Production         server A's SSH key pair                               -\n",
			wantErr: "Warning: protectiongroup.dr.sdrs.io/web: instance fresh: no login guidance yet\n"},
		{name: "an adopted group shows both cases", group: "legacy", want: "" +
			"First swap: Unknown: this group was adopted; its past is unknown, so both cases are shown\n" +
			"Guest init agent: Installed (spec.login.guestInitAgent)\n" +
			"\n" +
			"If no planned failover, failover or drill ever ran:\n" +
			"INSTANCE   OS       METHOD     SERVER    ROLE NOW           USE                   UNTIL\n" +
			"core       CoreOS   Password   A srv-a   Production         its own credentials   -\n" +
			"core       CoreOS   Password   B srv-b   DisasterRecovery   its own credentials   -\n" +
			"\n" +
			"If one did:\n" +
			"INSTANCE   OS       METHOD     SERVER    ROLE NOW           USE                                      UNTIL\n" +
			"core       CoreOS   Password   A srv-a   Production         the password server A was created with   -\n" +
			"core       CoreOS   Password   B srv-b   DisasterRecovery   the password server A was created with   -\n"},
		{name: "before the first swap", group: "new", want: "" +
			"First swap: NotYet (no planned failover, failover or drill has run: every server opens with its own credentials)\n" +
			"Guest init agent: NotInstalled (spec.login.guestInitAgent)\n" +
			"\n" +
			"INSTANCE   OS      METHOD     SERVER    ROLE NOW           USE                   UNTIL\n" +
			"pi-1       Linux   Password   A srv-a   Production         its own credentials   -\n" +
			"pi-1       Linux   Password   B srv-b   DisasterRecovery   its own credentials   -\n"},
		{name: "a swap the operator did not see", group: "found", want: "" +
			"First swap: Done (before the operator saw the group: the time is not known)\n"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			env := clitest.NewEnv(groups())
			if err := env.Run(login.NewCmd, tc.group); err != nil {
				t.Fatal(err)
			}
			if got := env.Out.String(); !strings.HasPrefix(got, tc.want) {
				t.Errorf("stdout:\n%s\nwant:\n%s", got, tc.want)
			}
			if env.ErrOut.String() != tc.wantErr {
				t.Errorf("stderr %q, want %q", env.ErrOut, tc.wantErr)
			}
			if len(env.Patches()) != 0 {
				t.Errorf("login patched: %+v", env.Patches())
			}
		})
	}
}

// UNTIL turns to "expired" only once the latest end (until + 2m) passed.
func TestUntil(t *testing.T) {
	until := metav1.NewTime(clitest.Now)
	cases := map[time.Duration]string{
		-90 * time.Second: "2026-03-01T12:00:00Z (in 1m30s)",
		0:                 "2026-03-01T12:00:00Z (in 0s)",
		2 * time.Minute:   "2026-03-01T12:00:00Z (2m0s ago; may work up to 0s more)",
		2*time.Minute + 1: "expired",
	}
	for d, want := range cases {
		if got := login.Until(&until, clitest.Now.Add(d)); got != want {
			t.Errorf("now until%+v: %q, want %q", d, got, want)
		}
	}
	if got := login.Until(nil, clitest.Now); got != "" {
		t.Errorf("no until: %q", got)
	}
	// Shown in the caller's zone (the user's local one).
	if got := login.Until(&until, clitest.Now.In(time.FixedZone("CST", 8*3600)).Add(-time.Minute)); got != "2026-03-01T20:00:00+08:00 (in 1m0s)" {
		t.Errorf("local time: %q", got)
	}
}

func TestLoginOutputFormats(t *testing.T) {
	env := clitest.NewEnv(groups())
	if err := env.Run(login.NewCmd, "web", "-o", "json"); err != nil {
		t.Fatal(err)
	}
	var got []login.Instance
	if err := json.Unmarshal(env.Out.Bytes(), &got); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, env.Out)
	}
	if len(got) != 4 || got[0].ID != "pi-win-1" || got[0].Name != "win-1" || got[0].Login.Servers[1].Until == nil ||
		got[3].Login.Method != drv1alpha1.LoginKeyPair {
		t.Errorf("json: %+v", got)
	}
	env = clitest.NewEnv(groups())
	if err := env.Run(login.NewCmd, "legacy", "-o", "yaml"); err != nil {
		t.Fatal(err)
	}
	got = nil
	if err := yaml.Unmarshal(env.Out.Bytes(), &got); err != nil || len(got) != 1 || len(got[0].Login.Servers) != 4 ||
		got[0].Login.Servers[3].Case != login.CaseSwapped {
		t.Errorf("yaml (%v): %s", err, env.Out)
	}
}

func TestLoginExitCodes(t *testing.T) {
	cases := []struct {
		name string
		args []string
		code int
		msg  string
	}{
		{"no guidance yet", []string{"unread"}, cli.ExitError, "protectiongroup.dr.sdrs.io/unread: no login guidance yet: the operator has not read the group's instances"},
		{"no guidance yet, json", []string{"unread", "-o", "json"}, cli.ExitError, "no login guidance yet"},
		{"missing group", []string{"nope"}, cli.ExitError, "not found"},
		{"no name", nil, cli.ExitUsage, "exactly one"},
		{"two names", []string{"web", "new"}, cli.ExitUsage, "exactly one"},
		{"bad output", []string{"web", "-o", "wide"}, cli.ExitUsage, "-o/--output must be json or yaml"},
		{"bad flag", []string{"web", "--all"}, cli.ExitUsage, "unknown flag"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			env := clitest.NewEnv(groups())
			err := env.Run(login.NewCmd, tc.args...)
			if cli.Code(err) != tc.code || err == nil || !strings.Contains(err.Error(), tc.msg) {
				t.Errorf("exit %d (%v), want %d with %q", cli.Code(err), err, tc.code, tc.msg)
			}
			if tc.name == "no guidance yet" && !errors.Is(err, login.ErrNoGuidance) {
				t.Errorf("not ErrNoGuidance: %v", err)
			}
			if env.Out.Len() != 0 {
				t.Errorf("stdout %q", env.Out)
			}
		})
	}
}
