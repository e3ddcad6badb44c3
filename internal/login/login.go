// Package login says which credentials open the servers of a protected
// instance now, by the SDRS rules for logging in after the first planned
// failover, failover or DR drill (shared/reference/login-rules.md). It is
// pure: the controller gives it what it read and recorded, and writes the
// answer into status; the plugin and the Events only show it.
package login

import (
	"fmt"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	drv1alpha1 "github.com/sdrs-operator/sdrs-operator/api/v1alpha1"
)

// OS families. ECS reports Linux or Windows; CoreOS is a Linux whose image
// says so.
const (
	Windows = "Windows"
	Linux   = "Linux"
	CoreOS  = "CoreOS"
)

// Cloudbase-Init normally starts 3 minutes after the server, at most 5
// (the SDRS documentation's "3–5 minutes").
const (
	InitWindow    = 3 * time.Minute
	InitWindowMax = 5 * time.Minute
)

// Cases shown for a group whose past is unknown.
const (
	CaseNoSwapYet = "IfNoSwapYet"
	CaseSwapped   = "IfSwapped"
)

// Roles of a server now.
const (
	RoleProduction       = "Production"
	RoleDisasterRecovery = "DisasterRecovery"
)

// Facts are what the guidance depends on for one protected instance.
type Facts struct {
	// OS family of server A's image: Windows, Linux, CoreOS, or "".
	OS string
	// KeyName is ECS key_name: set when the servers use a key pair.
	KeyName string
	// Agent says whether Cloud-Init / Cloudbase-Init is installed.
	Agent drv1alpha1.GuestInitAgent
	// FirstSwap of the group.
	FirstSwap drv1alpha1.FirstSwapState
	// Active is the site serving now.
	Active drv1alpha1.Site
	// ServerA and ServerB are the source- and target-site server IDs.
	ServerA, ServerB string
	// ProductionStartedAt is when server B was started as production after
	// the first swap, if the operator saw it.
	ProductionStartedAt *time.Time
}

// credentials is one row of the rules: what opens A and B after the first
// swap. Server B's credential changes when the init window has passed.
type credentials struct {
	a, b       drv1alpha1.Credential
	bAfterInit drv1alpha1.Credential // "" when B's credential does not expire
}

// rule is the key of the rules table.
type rule struct {
	os      string
	keyPair bool
	agent   bool
}

// afterFirstSwap is the SDRS rules table. Server A keeps its own
// credentials where the rules name only server B.
var afterFirstSwap = map[rule]credentials{
	{Windows, false, false}: {a: drv1alpha1.CredentialAPassword, b: drv1alpha1.CredentialAPassword},
	{Windows, true, false}:  {a: drv1alpha1.CredentialAObtainedPassword, b: drv1alpha1.CredentialAObtainedPassword},
	{Windows, false, true}: {a: drv1alpha1.CredentialOwn, b: drv1alpha1.CredentialBPasswordUntilInit,
		bAfterInit: drv1alpha1.CredentialBResetPassword},
	{Windows, true, true}: {a: drv1alpha1.CredentialAObtainedPassword, b: drv1alpha1.CredentialBObtainedPasswordUntilInit,
		bAfterInit: drv1alpha1.CredentialBObtainedPasswordAgain},
	{Linux, false, false}: {a: drv1alpha1.CredentialAPassword, b: drv1alpha1.CredentialAPassword},
	{Linux, false, true}:  {a: drv1alpha1.CredentialAPassword, b: drv1alpha1.CredentialAPassword},
	{Linux, true, false}:  {a: drv1alpha1.CredentialAKeyPair, b: drv1alpha1.CredentialAKeyPair},
	{Linux, true, true}:   {a: drv1alpha1.CredentialAKeyPair, b: drv1alpha1.CredentialAKeyPair},
	// CoreOS reverts to its creation password only because the init agent
	// injects it again; without the agent nothing changes.
	{CoreOS, false, true}:  {a: drv1alpha1.CredentialACreationPassword, b: drv1alpha1.CredentialACreationPassword},
	{CoreOS, false, false}: {a: drv1alpha1.CredentialAPassword, b: drv1alpha1.CredentialAPassword},
	{CoreOS, true, false}:  {a: drv1alpha1.CredentialAKeyPair, b: drv1alpha1.CredentialAKeyPair},
	{CoreOS, true, true}:   {a: drv1alpha1.CredentialAKeyPair, b: drv1alpha1.CredentialAKeyPair},
}

// uses says each credential for a person.
var uses = map[drv1alpha1.Credential]string{
	drv1alpha1.CredentialOwn:                        "its own credentials, as it was created",
	drv1alpha1.CredentialAPassword:                  "server A's password (its latest one)",
	drv1alpha1.CredentialAObtainedPassword:          "the password obtained for server A with its key pair (console or API)",
	drv1alpha1.CredentialACreationPassword:          "the password server A was created with (CoreOS reverts to it at the first swap)",
	drv1alpha1.CredentialAKeyPair:                   "server A's SSH key pair",
	drv1alpha1.CredentialBPasswordUntilInit:         "server B's own password, only until Cloudbase-Init starts (3-5 minutes after B starts); then reset B's password and use the new one, which stays valid for later swaps",
	drv1alpha1.CredentialBObtainedPasswordUntilInit: "the password obtained for server B, only until Cloudbase-Init starts (3-5 minutes after B starts); then obtain B's password again, which stays valid for later swaps",
	drv1alpha1.CredentialBResetPassword:             "the password you reset on server B after the first swap (Cloudbase-Init invalidated its old one); if it was never reset, reset it now",
	drv1alpha1.CredentialBObtainedPasswordAgain:     "the password obtained again for server B after the first swap (Cloudbase-Init changed it); obtain it again if you have not",
	drv1alpha1.CredentialUnknown:                    "unknown: the server's OS or login method could not be read; see the SDRS login rules",
}

// Use says a credential for a person.
func Use(c drv1alpha1.Credential) string { return uses[c] }

// Guide returns the guidance for one protected instance at now.
func Guide(f Facts, now time.Time) *drv1alpha1.InstanceLogin {
	out := &drv1alpha1.InstanceLogin{Method: drv1alpha1.LoginPassword, GuestInitAgent: f.Agent, FirstSwap: f.FirstSwap}
	if f.KeyName != "" {
		out.Method = drv1alpha1.LoginKeyPair
	}
	if out.GuestInitAgent == "" {
		out.GuestInitAgent = drv1alpha1.GuestInitInstalled
	}
	switch f.FirstSwap {
	case drv1alpha1.FirstSwapNotYet:
		out.Servers = f.rows("", before())
	case drv1alpha1.FirstSwapDone:
		out.Servers = f.rows("", f.after(now, false))
	default:
		// The window of a swap before adoption has long closed.
		swapped := f
		swapped.ProductionStartedAt = nil
		out.Servers = append(f.rows(CaseNoSwapYet, before()), swapped.rows(CaseSwapped, swapped.after(now, true))...)
	}
	return out
}

func before() credentials {
	return credentials{a: drv1alpha1.CredentialOwn, b: drv1alpha1.CredentialOwn}
}

// after picks the row of the rules table, and server B's credential after
// the init window when it has closed. Without B's start time the window is
// open (its text says when it closes) unless the caller knows it closed.
func (f Facts) after(now time.Time, closed bool) credentials {
	c, ok := afterFirstSwap[rule{os: f.OS, keyPair: f.KeyName != "", agent: f.Agent != drv1alpha1.GuestInitNotInstalled}]
	if !ok {
		return credentials{a: drv1alpha1.CredentialUnknown, b: drv1alpha1.CredentialUnknown}
	}
	if c.bAfterInit != "" && (closed || f.ProductionStartedAt != nil && !now.Before(f.ProductionStartedAt.Add(InitWindowMax))) {
		c.b, c.bAfterInit = c.bAfterInit, ""
	}
	return c
}

func (f Facts) rows(kase string, c credentials) []drv1alpha1.ServerLogin {
	a := drv1alpha1.ServerLogin{Server: "A", ID: f.ServerA, Role: f.role(drv1alpha1.SiteSource), Case: kase, Credential: c.a, Use: Use(c.a)}
	b := drv1alpha1.ServerLogin{Server: "B", ID: f.ServerB, Role: f.role(drv1alpha1.SiteTarget), Case: kase, Credential: c.b, Use: Use(c.b)}
	if c.bAfterInit != "" && f.ProductionStartedAt != nil {
		until := metav1.NewTime(f.ProductionStartedAt.Add(InitWindow))
		b.Until = &until
		b.Use = fmt.Sprintf("%s; expected to stop working at %s (up to %s)", b.Use,
			until.UTC().Format(time.RFC3339), f.ProductionStartedAt.Add(InitWindowMax).UTC().Format(time.RFC3339))
	}
	return []drv1alpha1.ServerLogin{a, b}
}

func (f Facts) role(site drv1alpha1.Site) string {
	if site == f.Active {
		return RoleProduction
	}
	return RoleDisasterRecovery
}

// ChangesAtFirstSwap reports whether the first swap changes what opens
// the servers of an instance with these facts (Cloudbase-Init on Windows,
// CoreOS reverting to its creation password), so that a person is told.
func ChangesAtFirstSwap(f Facts) bool {
	c := f.after(time.Time{}, true)
	return c.b == drv1alpha1.CredentialBResetPassword || c.b == drv1alpha1.CredentialBObtainedPasswordAgain ||
		c.b == drv1alpha1.CredentialACreationPassword
}
