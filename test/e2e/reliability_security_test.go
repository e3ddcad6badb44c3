//go:build e2e

package e2e

import (
	"bytes"
	"context"
	"encoding/base64"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	authorizationv1 "k8s.io/api/authorization/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/yaml"

	drv1alpha1 "github.com/sdrs-operator/sdrs-operator/api/v1alpha1"
	"github.com/sdrs-operator/sdrs-operator/internal/emutest"
	"github.com/sdrs-operator/sdrs-operator/internal/localrun"
	"github.com/sdrs-operator/sdrs-operator/test/e2e/harness"
)

// setSecret writes the credentials Secret of the scenario's ProviderConfig.
func (s *scenario) setSecret(name, ak, sk string) {
	s.t.Helper()
	usedSecret(sk)
	sec := &corev1.Secret{}
	err := s.cp.Client.Get(s.ctx, client.ObjectKey{Namespace: s.ns, Name: name}, sec)
	if err != nil {
		if err := s.cp.Client.Create(s.ctx, harness.CredentialsSecret(s.ns, name, ak, sk)); err != nil {
			s.t.Fatal(err)
		}
		return
	}
	sec.Data = map[string][]byte{"accessKey": []byte(ak), "secretKey": []byte(sk)}
	if err := s.cp.Client.Update(s.ctx, sec); err != nil {
		s.t.Fatal(err)
	}
}

// relCredentials: wrong keys, a missing Secret, and a rotation while
// running, all picked up by the same manager process.
func relCredentials(t *testing.T) {
	s := newScenario(t, harness.Row{Order: 80, Area: "Credentials",
		Fault:  "wrong secret key; the Secret fixed; the Secret deleted; recreated; then SDRS's keys rotated (emulator restarted with a new AK/SK) and the Secret updated while the manager runs",
		Assert: "Stalled/CredentialsInvalid and Stalled/SecretNotFound naming the Secret, never a key; each fix is picked up by the same process without a restart; a switchover then works with the rotated keys"},
		scenarioOptions{noProviderConfig: true, emulator: harness.EmulatorOptions{Persist: true, JobDuration: time.Second}})
	o := s.emu.Options()
	g := s.seed(emutest.Group{Name: "web", Instances: []emutest.Instance{off}})[0]
	s.setSecret(s.pc, o.AccessKey, "wrong-secret-key-0000000000000000000001")
	if err := s.cp.Client.Create(s.ctx, harness.ProviderConfigFor(s.pc, s.ns, s.emu, "")); err != nil {
		t.Fatal(err)
	}
	m := s.manager("m")
	pg := s.adopt("web", g.ID, manual)

	s.waitFor(pg, relOpTimeout, harness.HasCondition(drv1alpha1.StalledCondition, metav1.ConditionTrue, drv1alpha1.CredentialsInvalidReason))
	wrongMsg := findCondition(pg, drv1alpha1.StalledCondition).Message
	pcReady := s.waitPCReady(metav1.ConditionFalse, drv1alpha1.CredentialsInvalidReason)

	fixed := time.Now()
	s.setSecret(s.pc, o.AccessKey, o.SecretKey)
	s.waitFor(pg, relOpTimeout, harness.ReadyAt(drv1alpha1.SiteSource))
	pickup1 := time.Since(fixed)

	if err := s.cp.Client.Delete(s.ctx, &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: s.ns, Name: s.pc}}); err != nil {
		t.Fatal(err)
	}
	s.poke(pg)
	s.waitFor(pg, relOpTimeout, harness.HasCondition(drv1alpha1.StalledCondition, metav1.ConditionTrue, drv1alpha1.SecretNotFoundReason))
	missingMsg := findCondition(pg, drv1alpha1.StalledCondition).Message
	if !strings.Contains(missingMsg, s.ns+"/"+s.pc) {
		t.Errorf("SecretNotFound message %q should name the Secret %s/%s", missingMsg, s.ns, s.pc)
	}
	recreated := time.Now()
	s.setSecret(s.pc, o.AccessKey, o.SecretKey)
	s.waitFor(pg, relOpTimeout, harness.ReadyAt(drv1alpha1.SiteSource))
	pickup2 := time.Since(recreated)

	// SDRS's keys change (the cloud side of a rotation): the old ones stop
	// working, then the Secret catches up.
	newAK, newSK := "AKE2EROTATED00000002", usedSecret("e2e-rotated-secret-key-MUST-NOT-LEAK-0002")
	if err := s.emu.Stop(); err != nil {
		t.Fatal(err)
	}
	if err := s.emu.Restart(newAK, newSK); err != nil {
		t.Fatal(err)
	}
	s.poke(pg)
	s.waitFor(pg, relOpTimeout, harness.HasCondition(drv1alpha1.StalledCondition, metav1.ConditionTrue, drv1alpha1.CredentialsInvalidReason))
	rotated := time.Now()
	s.setSecret(s.pc, newAK, newSK)
	s.waitFor(pg, relOpTimeout, harness.ReadyAt(drv1alpha1.SiteSource))
	pickup3 := time.Since(rotated)
	s.update(pg, func(p *drv1alpha1.ProtectionGroup) { p.Spec.DesiredActiveSite = drv1alpha1.SiteTarget })
	s.waitFor(pg, relOpTimeout, harness.ReadyAt(drv1alpha1.SiteTarget))
	if !m.Alive() {
		t.Error("the manager exited")
	}
	got := s.expectActions(g.ID, map[string]int{"StartReverseProtectionGroup": 1})
	for _, msg := range []string{wrongMsg, missingMsg, pcReady} {
		for sk := range relSecretsSnapshot() {
			if strings.Contains(msg, sk) {
				t.Errorf("a condition message holds a secret key: %q", msg)
			}
		}
	}
	s.result("wrong key: Stalled %q, ProviderConfig Ready=False %q; fix picked up in %s; Secret deleted: Stalled %q; recreated, picked up in %s; rotated keys picked up in %s; then %s with the new keys; one manager process throughout",
		wrongMsg, pcReady, ms(pickup1), missingMsg, ms(pickup2), ms(pickup3), fmtCounts(got))
}

// waitPCReady waits for the scenario ProviderConfig's Ready condition and
// returns its message.
func (s *scenario) waitPCReady(status metav1.ConditionStatus, reason string) string {
	s.t.Helper()
	msg := ""
	deadline := time.Now().Add(relOpTimeout)
	for time.Now().Before(deadline) {
		pc := &drv1alpha1.ProviderConfig{}
		if err := s.cp.Client.Get(s.ctx, client.ObjectKey{Name: s.pc}, pc); err == nil {
			for _, c := range pc.Status.Conditions {
				if c.Type == drv1alpha1.ReadyCondition && c.Status == status && c.Reason == reason {
					return c.Message
				}
				if c.Type == drv1alpha1.ReadyCondition {
					msg = fmt.Sprintf("%s/%s %q", c.Status, c.Reason, c.Message)
				}
			}
		}
		select {
		case <-s.ctx.Done():
			s.t.Fatal(s.ctx.Err())
		case <-time.After(harness.PollInterval):
		}
	}
	s.t.Fatalf("ProviderConfig %s Ready is not %s/%s; last %s", s.pc, status, reason, msg)
	return ""
}

func relSecretsSnapshot() map[string]bool {
	relSecretsMu.Lock()
	defer relSecretsMu.Unlock()
	out := map[string]bool{}
	for k := range relSecrets {
		out[k] = true
	}
	return out
}

// relNoSecretLeaks runs after every other scenario: no secret key any of
// them used may appear in any process log, Event, or status.
func relNoSecretLeaks(t *testing.T) {
	if relCP == nil {
		t.Skip("no scenario ran")
	}
	row := harness.Row{Order: 99, Area: "Credentials", Test: t.Name(),
		Fault:  "every secret key the scenarios used (including wrong and rotated ones)",
		Assert: "none appears, plain or base64, in any line of any manager or emulator log, in any Event, or in any ProtectionGroup or ProviderConfig"}
	defer func() {
		row.Passed = !t.Failed()
		relReport.Add(row)
	}()
	secrets := relSecretsSnapshot()
	var needles [][]byte
	for sk := range secrets {
		needles = append(needles, []byte(sk), []byte(base64.StdEncoding.EncodeToString([]byte(sk))))
	}
	files, lines := 0, 0
	for _, path := range localrun.LogFiles() {
		b, err := os.ReadFile(path)
		if err != nil {
			continue
		}
		files++
		lines += bytes.Count(b, []byte("\n"))
		for _, n := range needles {
			if i := bytes.Index(b, n); i >= 0 {
				t.Errorf("%s holds a secret key: …%s…", filepath.Base(path), clip(b, i))
			}
		}
	}
	dump, err := relCP.DumpAll(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range needles {
		if i := bytes.Index(dump, n); i >= 0 {
			t.Errorf("an object holds a secret key: …%s…", clip(dump, i))
		}
	}
	var evs corev1.EventList
	_ = relCP.Client.List(context.Background(), &evs)
	var pgs drv1alpha1.ProtectionGroupList
	_ = relCP.Client.List(context.Background(), &pgs)
	row.Result = fmt.Sprintf("%d secret keys searched in %d log files (%d lines), %d Events and %d ProtectionGroups (+ProviderConfigs): %s",
		len(secrets), files, lines, len(evs.Items), len(pgs.Items), map[bool]string{true: "found (see test log)", false: "none found"}[t.Failed()])
	t.Log(row.Result)
}

func clip(b []byte, i int) string {
	lo, hi := max(0, i-60), min(len(b), i+60)
	return strings.ReplaceAll(string(b[lo:hi]), "\n", " ")
}

// credentialsNamespace is where config/rbac lets the operator get Secrets:
// role.yaml's Role, generated from the marker's namespace=sdrs-system.
const credentialsNamespace = "sdrs-system"

// relRBAC runs the manager as a ServiceAccount bound to exactly the roles
// in config/rbac, as a Deployment would.
func relRBAC(t *testing.T) {
	s := newScenario(t, harness.Row{Order: 90, Area: "Security",
		Fault:  "the manager runs as ServiceAccount controller-manager with a TokenRequest token, bound to exactly config/rbac (ClusterRole manager-role, Role manager-role in sdrs-system for Secrets, leader-election Role), not as an admin; the ProviderConfig's Secret is in sdrs-system",
		Assert: "role.yaml grants Secrets only get, only in sdrs-system, and nothing beyond the operator's kinds, Events, Leases and reading Namespaces; a full switchover (leader election, ECS, Events) works with no forbidden error; SubjectAccessReview allows get Secrets in sdrs-system and denies it in any other namespace or cluster-wide, and denies list/watch Secrets, ConfigMaps, writes to Secrets and deleting ProtectionGroups"},
		scenarioOptions{noProviderConfig: true, emulator: harness.EmulatorOptions{JobDuration: time.Second}})
	root, err := localrun.RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	rbacDir := filepath.Join(root, "config", "rbac")
	role, secretsRole := readGeneratedRoles(t, root)
	secretVerbs := checkRoleShape(t, role, secretsRole)

	var leRole rbacv1.Role
	readYAML(t, filepath.Join(rbacDir, "leader_election_role.yaml"), &leRole)
	var binding rbacv1.ClusterRoleBinding
	readYAML(t, filepath.Join(rbacDir, "role_binding.yaml"), &binding)
	var secretsBinding rbacv1.RoleBinding
	readYAML(t, filepath.Join(rbacDir, "credentials_role_binding.yaml"), &secretsBinding)
	var leBinding rbacv1.RoleBinding
	readYAML(t, filepath.Join(rbacDir, "leader_election_role_binding.yaml"), &leBinding)
	var sa corev1.ServiceAccount
	readYAML(t, filepath.Join(rbacDir, "service_account.yaml"), &sa)
	if secretsBinding.Namespace != secretsRole.Namespace || secretsBinding.RoleRef.Kind != "Role" || secretsBinding.RoleRef.Name != secretsRole.Name {
		t.Fatalf("credentials_role_binding.yaml binds %s %s in %s, not the Role %s/%s of role.yaml",
			secretsBinding.RoleRef.Kind, secretsBinding.RoleRef.Name, secretsBinding.Namespace, secretsRole.Namespace, secretsRole.Name)
	}

	// kustomize's namespace: the scenario's namespace stands for "system".
	// The Secrets Role and its binding stay in sdrs-system, as config/default
	// keeps them; they get the scenario's suffix, as the ClusterRoleBinding.
	sa.Namespace, leRole.Namespace, leBinding.Namespace = s.ns, s.ns, s.ns
	for _, subjects := range [][]rbacv1.Subject{binding.Subjects, leBinding.Subjects, secretsBinding.Subjects} {
		for i := range subjects {
			subjects[i].Namespace = s.ns
		}
	}
	secretsRoleName := secretsRole.Name
	binding.Name += "-" + s.ns
	secretsRole.Name += "-" + s.ns
	secretsBinding.Name += "-" + s.ns
	secretsBinding.RoleRef.Name = secretsRole.Name
	if err := s.cp.Client.Create(s.ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: credentialsNamespace}}); err != nil && !apierrors.IsAlreadyExists(err) {
		t.Fatal(err)
	}
	for _, o := range []client.Object{&sa, role, secretsRole, &leRole, &binding, &secretsBinding, &leBinding} {
		if err := s.cp.Client.Create(s.ctx, o); err != nil {
			t.Fatalf("create %T %s: %v", o, o.GetName(), err)
		}
	}
	// The ProviderConfig's Secret is in the credentials namespace, as the
	// README tells people to put it.
	s.cp.MustProviderConfig(t, harness.ProviderConfigFor(s.pc, credentialsNamespace, s.emu, ""), s.emu)

	kubeconfig, err := s.cp.ServiceAccountKubeconfig(s.ctx, s.ns, sa.Name)
	if err != nil {
		t.Fatal(err)
	}
	opts := s.managerOptions("sa", true)
	opts.Kubeconfig = kubeconfig
	m := s.managerWith(opts)
	if _, err := m.WaitLog(s.ctx, harness.LeaderLine); err != nil {
		t.Fatal(err)
	}
	g := s.seed(emutest.Group{Name: "web", Instances: []emutest.Instance{{}}})[0]
	pg := s.adopt("web", g.ID, nil)
	s.waitFor(pg, relOpTimeout, harness.ReadyAt(drv1alpha1.SiteSource))
	s.update(pg, func(p *drv1alpha1.ProtectionGroup) { p.Spec.DesiredActiveSite = drv1alpha1.SiteTarget })
	s.waitFor(pg, relOpTimeout, harness.ReadyAt(drv1alpha1.SiteTarget))
	if _, err := s.cp.WaitEvent(s.ctx, s.ns, pg.Name, drv1alpha1.OperationSucceededReason, "", 10*time.Second); err != nil {
		t.Error(err)
	}
	forbidden := regexp.MustCompile(`(?i)forbidden`)
	var denied []string
	for _, l := range m.Lines() {
		if forbidden.MatchString(l) {
			denied = append(denied, l)
		}
	}
	if len(denied) > 0 {
		t.Errorf("the manager hit %d permission errors, first: %s", len(denied), denied[0])
	}
	user := "system:serviceaccount:" + s.ns + ":" + sa.Name
	checks := []struct {
		verb, group, resource, ns string
		want                      bool
	}{
		{"get", "", "secrets", credentialsNamespace, true},
		{"get", "", "secrets", "default", false},
		{"get", "", "secrets", s.ns, false},
		{"get", "", "secrets", "", false},
		{"list", "", "secrets", credentialsNamespace, false},
		{"list", "", "secrets", s.ns, false},
		{"watch", "", "secrets", "", false},
		{"update", "", "secrets", credentialsNamespace, false},
		{"update", "", "secrets", s.ns, false},
		{"get", "", "configmaps", s.ns, false},
		{"list", "", "pods", "", false},
		{"watch", "", "namespaces", "", true},
		{"update", "", "namespaces", "", false},
		{"delete", "dr.sdrs.io", "protectiongroups", s.ns, false},
		{"create", "dr.sdrs.io", "protectiongroups", s.ns, false},
		{"patch", "dr.sdrs.io", "protectiongroups/status", s.ns, true},
		{"update", "coordination.k8s.io", "leases", s.ns, true},
		{"update", "coordination.k8s.io", "leases", "kube-system", false},
		{"create", "events.k8s.io", "events", s.ns, true},
	}
	var sar []string
	for _, c := range checks {
		res, sub, _ := strings.Cut(c.resource, "/")
		r := &authorizationv1.SubjectAccessReview{Spec: authorizationv1.SubjectAccessReviewSpec{
			User: user, Groups: []string{"system:serviceaccounts", "system:serviceaccounts:" + s.ns, "system:authenticated"},
			ResourceAttributes: &authorizationv1.ResourceAttributes{Verb: c.verb, Group: c.group, Resource: res, Subresource: sub, Namespace: c.ns},
		}}
		if err := s.cp.Client.Create(s.ctx, r); err != nil {
			t.Fatal(err)
		}
		if r.Status.Allowed != c.want {
			t.Errorf("%s %s/%s in %q: allowed=%v, want %v", c.verb, c.group, c.resource, c.ns, r.Status.Allowed, c.want)
		}
		word := "denied"
		if r.Status.Allowed {
			word = "allowed"
		}
		where := c.ns
		switch where {
		case "":
			where = "cluster-wide"
		case s.ns:
			where = "own namespace"
		}
		sar = append(sar, fmt.Sprintf("%s %s %s (%s)", word, c.verb, c.resource, where))
	}
	got := s.actions(g.ID)
	s.result("Secrets verbs %v, granted by the Role %s in %s only (the ClusterRole has no Secrets rule); switchover as the ServiceAccount with the Secret in %s: %s, %d permission errors; SubjectAccessReview: %s",
		secretVerbs, secretsRoleName, secretsRole.Namespace, credentialsNamespace, fmtCounts(got), len(denied), strings.Join(sar, "; "))
}

func readYAML(t *testing.T, path string, into any) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := yaml.UnmarshalStrict(b, into); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
}

// readGeneratedRoles returns the two documents `make manifests` writes
// into role.yaml: the ClusterRole and the Secrets Role in sdrs-system.
// Any other document fails the test.
func readGeneratedRoles(t *testing.T, root string) (*rbacv1.ClusterRole, *rbacv1.Role) {
	t.Helper()
	g, err := localrun.LoadGeneratedRoles(root)
	if err != nil {
		t.Fatal(err)
	}
	if len(g.ClusterRoles) != 1 || len(g.Roles) != 1 {
		t.Fatalf("%s: want one ClusterRole and one Role, got %d and %d", localrun.GeneratedRolesFile, len(g.ClusterRoles), len(g.Roles))
	}
	cr, r := g.ClusterRoles[0], g.Roles[0]
	if r.Namespace != credentialsNamespace {
		t.Errorf("%s: the Role is in %q, want %s", localrun.GeneratedRolesFile, r.Namespace, credentialsNamespace)
	}
	return cr, r
}

// checkRoleShape asserts what the generated roles may grant: the
// ClusterRole the operator's kinds, Events, reading Namespaces (their
// labels, for ProviderConfigs' namespaceSelector), creating and reading
// Jobs (a drill's verification) and nothing on Secrets; the Role only get
// on Secrets. It returns the verbs on Secrets.
func checkRoleShape(t *testing.T, role *rbacv1.ClusterRole, secretsRole *rbacv1.Role) []string {
	t.Helper()
	allowed := map[string][]string{
		"dr.sdrs.io": {"protectiongroups", "protectiongroups/status", "protectiongroups/finalizers", "providerconfigs", "providerconfigs/status", "providerconfigs/finalizers",
			"protectiongroupdrills", "protectiongroupdrills/status", "protectiongroupdrills/finalizers", "drplans", "drplans/status"},
		"events.k8s.io": {"events"},
		"":              {"namespaces"},
		"batch":         {"jobs"},
	}
	for _, r := range role.Rules {
		if slices.Contains(r.Resources, "jobs") {
			for _, v := range r.Verbs {
				if !slices.Contains([]string{"create", "get", "list", "watch"}, v) {
					t.Errorf("role.yaml's ClusterRole may %s Jobs; it only creates a drill's verification Job and a plan's step Jobs, and reads them", v)
				}
			}
		}
	}
	for _, r := range role.Rules {
		if slices.Contains(r.Resources, "namespaces") {
			for _, v := range r.Verbs {
				if !slices.Contains([]string{"get", "list", "watch"}, v) {
					t.Errorf("role.yaml's ClusterRole may %s Namespaces; it only reads their labels", v)
				}
			}
		}
	}
	check := func(what string, rules []rbacv1.PolicyRule, allowed map[string][]string, onSecrets func(verbs []string)) {
		for _, r := range rules {
			for _, g := range r.APIGroups {
				for _, res := range r.Resources {
					if !slices.Contains(allowed[g], res) {
						t.Errorf("%s grants %v on %s/%s, beyond the operator's kinds, Secrets and Events", what, r.Verbs, g, res)
					}
					if g == "" && res == "secrets" {
						onSecrets(r.Verbs)
					}
				}
			}
			for _, v := range r.Verbs {
				if v == "*" {
					t.Errorf("%s grants a wildcard verb: %+v", what, r)
				}
			}
			if len(r.NonResourceURLs) > 0 {
				t.Errorf("%s grants non-resource URLs: %+v", what, r)
			}
		}
	}
	check("role.yaml's ClusterRole", role.Rules, allowed, func(verbs []string) {
		t.Errorf("role.yaml's ClusterRole grants %v on Secrets in every namespace", verbs)
	})
	var secretVerbs []string
	check("role.yaml's Role", secretsRole.Rules, map[string][]string{"": {"secrets"}}, func(verbs []string) {
		secretVerbs = append(secretVerbs, verbs...)
	})
	if !slices.Equal(secretVerbs, []string{"get"}) {
		t.Errorf("role.yaml grants %v on Secrets, want only get", secretVerbs)
	}
	return secretVerbs
}

// relTLS: the emulator behind HTTPS with a private CA.
func relTLS(t *testing.T) {
	relReport.Add(harness.Row{Order: 92, Area: "Security", Passed: true, Test: "internal/emulator: TestAuthRejectsBadCredentials, TestAuthRawRequests",
		Fault:  "unsigned, wrongly signed, replayed (stale X-Sdk-Date) and wrong-project requests to the emulator",
		Assert: "each refused with 401 APIGW.0301 saying which check failed; the emulator re-signs with the SDK's own signer",
		Result: "covered by the emulator's unit tests, run by `make test`; the rows above show the operator's own calls are all signed (no 401 outside the wrong-key scenario)"})
	files, err := harness.NewTLSFiles("tls")
	if err != nil {
		t.Fatal(err)
	}
	s := newScenario(t, harness.Row{Order: 91, Area: "Security",
		Fault:  "SDRS and ECS endpoints on HTTPS with a certificate from a private CA; three ProviderConfigs: with spec.caBundle, without it, with insecureSkipTLSVerify",
		Assert: "with the CA bundle a switchover works; without it the ProviderConfig and the group say the certificate is not trusted and nothing is sent; skipping verification works only as an explicit opt-in and logs a WARNING; every request that reached SDRS was signed (no 401 in the call log)"},
		scenarioOptions{noProviderConfig: true, emulator: harness.EmulatorOptions{JobDuration: time.Second,
			TLSCert: files.CertFile, TLSKey: files.KeyFile, CACert: files.CAPEM}})
	if !strings.HasPrefix(s.emu.SDRSURL, "https://") {
		t.Fatalf("emulator URL %s is not https", s.emu.SDRSURL)
	}
	gs := s.seed(emutest.Group{Name: "ca", Instances: []emutest.Instance{{}}}, emutest.Group{Name: "noca", Instances: []emutest.Instance{off}},
		emutest.Group{Name: "insecure", Instances: []emutest.Instance{off}})
	o := s.emu.Options()
	pcs := map[string]func(*drv1alpha1.ProviderConfig){
		"ca":       func(pc *drv1alpha1.ProviderConfig) { pc.Spec.CABundle = files.CAPEM },
		"noca":     func(pc *drv1alpha1.ProviderConfig) {},
		"insecure": func(pc *drv1alpha1.ProviderConfig) { pc.Spec.InsecureSkipTLSVerify = true },
	}
	for name, mutate := range pcs {
		pc := harness.ProviderConfigFor(s.pc+"-"+name, s.ns, s.emu, "")
		mutate(pc)
		if err := s.cp.CreateProviderConfig(s.ctx, pc, o.AccessKey, o.SecretKey); err != nil {
			t.Fatal(err)
		}
	}
	m := s.manager("m")
	var pgs []*drv1alpha1.ProtectionGroup
	for i, name := range []string{"ca", "noca", "insecure"} {
		pgs = append(pgs, s.adopt(name, gs[i].ID, func(p *drv1alpha1.ProtectionGroup) {
			p.Spec.ProviderConfigRef.Name = s.pc + "-" + name
			if name != "ca" {
				manual(p)
			}
		}))
	}
	s.waitFor(pgs[0], relOpTimeout, harness.ReadyAt(drv1alpha1.SiteSource))
	s.update(pgs[0], func(p *drv1alpha1.ProtectionGroup) { p.Spec.DesiredActiveSite = drv1alpha1.SiteTarget })
	s.waitFor(pgs[0], relOpTimeout, harness.ReadyAt(drv1alpha1.SiteTarget))
	s.waitFor(pgs[2], relOpTimeout, harness.ReadyAt(drv1alpha1.SiteSource))

	s.waitFor(pgs[1], relOpTimeout, func(p *drv1alpha1.ProtectionGroup) (bool, string) {
		c := findCondition(p, drv1alpha1.ReadyCondition)
		return c.Status == metav1.ConditionFalse && strings.Contains(c.Message, "certificate"), harness.Describe(p)
	})
	noca := findCondition(pgs[1], drv1alpha1.ReadyCondition)
	stalled := findCondition(pgs[1], drv1alpha1.StalledCondition)
	pcMsg := ""
	pc := &drv1alpha1.ProviderConfig{}
	if err := s.cp.Client.Get(s.ctx, client.ObjectKey{Name: s.pc + "-noca"}, pc); err == nil {
		for _, c := range pc.Status.Conditions {
			if c.Type == drv1alpha1.ReadyCondition {
				pcMsg = fmt.Sprintf("%s/%s %q", c.Status, c.Reason, c.Message)
			}
		}
	}
	if n := len(s.calls(gs[1].ID)); n != 0 {
		t.Errorf("%d calls about the no-CA group reached SDRS", n)
	}
	warned := m.HasLogged(regexp.MustCompile(`WARNING: TLS certificate verification is OFF`))
	if !warned {
		t.Error("insecureSkipTLSVerify was used without the WARNING log line")
	}
	unsigned := 0
	for _, c := range s.calls("") {
		if c.StatusCode == http.StatusUnauthorized {
			unsigned++
		}
	}
	if unsigned > 0 {
		t.Errorf("%d calls were refused as unauthenticated", unsigned)
	}
	s.result("caBundle: switchover %s; no caBundle: Ready=%s/%s Stalled=%s %q, ProviderConfig %s, 0 calls reached SDRS; insecureSkipTLSVerify: Ready, WARNING logged: %v; 0 unsigned calls (signature, stale date, replay and wrong project refusals: internal/emulator auth_test.go)",
		fmtCounts(s.actions(gs[0].ID)), noca.Status, noca.Reason, stalled.Status, noca.Message, pcMsg, warned)
}
