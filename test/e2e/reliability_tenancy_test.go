//go:build e2e

package e2e

import (
	"errors"
	"regexp"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	drv1alpha1 "github.com/sdrs-operator/sdrs-operator/api/v1alpha1"
	"github.com/sdrs-operator/sdrs-operator/internal/emutest"
	"github.com/sdrs-operator/sdrs-operator/test/e2e/harness"
)

// tenantLabel is the namespace label the tenancy scenario's ProviderConfig
// selects on.
const tenantLabel = "sdrs.io/tenant"

// relTenancy: a ProtectionGroup in a namespace its ProviderConfig does not
// admit, then the namespace labelled so that it does.
func relTenancy(t *testing.T) {
	var tenant string
	s := newScenario(t, harness.Row{Order: 93, Area: "Security",
		Fault:  "a ProtectionGroup adopts a real SDRS group through a ProviderConfig whose spec.namespaceSelector does not select the group's namespace (a namespace editor pointing at another team's ProviderConfig); forced reconciles and stalled re-checks; then a cluster admin labels the namespace",
		Assert: "Stalled/NamespaceNotAllowed naming the ProviderConfig, its selector and the namespace, with a Warning Event; not one call about the group reaches SDRS (no read either) and status shows nothing of the group; once the namespace is labelled the group converges without a restart and a switchover works"},
		scenarioOptions{emulator: harness.EmulatorOptions{JobDuration: time.Second},
			mutatePC: func(pc *drv1alpha1.ProviderConfig) {
				tenant = "tenant-" + pc.Name
				pc.Spec.NamespaceSelector = &metav1.LabelSelector{MatchLabels: map[string]string{tenantLabel: tenant}}
			}})
	g := s.seed(emutest.Group{Name: "web", Instances: []emutest.Instance{off}})[0]
	s.manager("m")
	pg := s.adopt("web", g.ID, manual)

	s.waitFor(pg, relOpTimeout, harness.HasCondition(drv1alpha1.StalledCondition, metav1.ConditionTrue, drv1alpha1.NamespaceNotAllowedReason))
	stalledAt := time.Now()
	msg := findCondition(pg, drv1alpha1.StalledCondition).Message
	for _, want := range []string{`"` + s.pc + `"`, tenantLabel + "=" + tenant, `"` + s.ns + `"`} {
		if !strings.Contains(msg, want) {
			t.Errorf("Stalled message %q does not name %s", msg, want)
		}
	}
	if _, err := s.cp.WaitEvent(s.ctx, s.ns, pg.Name, drv1alpha1.NamespaceNotAllowedReason, s.pc, 10*time.Second); err != nil {
		t.Error(err)
	}
	// A forced reconcile and two stalled re-checks (3s each) later, still
	// nothing about the group has reached SDRS.
	s.poke(pg)
	time.Sleep(7 * time.Second)
	before := s.calls(g.ID)
	if len(before) != 0 {
		t.Errorf("%d calls about the group reached SDRS from a namespace the ProviderConfig does not admit, first %s %s", len(before), before[0].Method, before[0].Path)
	}
	others := map[string]int{}
	for _, c := range s.calls("") {
		if c.Operation != "ShowQuota" { // the ProviderConfig's own credentials check
			others[c.Operation]++
		}
	}
	if len(others) > 0 {
		t.Errorf("calls other than the ProviderConfig's credentials check reached SDRS: %v", others)
	}
	if cur := s.get(pg); cur.Status.Group != nil || cur.Status.ActiveSite != "" {
		t.Errorf("status tells about the SDRS group: group %+v, activeSite %q", cur.Status.Group, cur.Status.ActiveSite)
	}

	labelled := time.Now()
	observed := labelled.Sub(stalledAt)
	s.labelNamespace(map[string]string{tenantLabel: tenant})
	s.waitFor(pg, relOpTimeout, harness.ReadyAt(drv1alpha1.SiteSource))
	converged := time.Since(labelled)
	s.update(pg, func(p *drv1alpha1.ProtectionGroup) { p.Spec.DesiredActiveSite = drv1alpha1.SiteTarget })
	s.waitFor(pg, relOpTimeout, harness.ReadyAt(drv1alpha1.SiteTarget))
	got := s.expectActions(g.ID, map[string]int{"StartReverseProtectionGroup": 1})
	s.result("Stalled/NamespaceNotAllowed %q with a Warning Event; 0 calls about the group over %s (a forced reconcile, stalled re-checks), only the ProviderConfig's ShowQuota reached SDRS; namespace labelled: Ready %s later, then a switchover: %s",
		msg, ms(observed), ms(converged), fmtCounts(got))
}

// labelNamespace replaces the labels of the scenario's namespace.
func (s *scenario) labelNamespace(labels map[string]string) {
	s.t.Helper()
	ns := &corev1.Namespace{}
	if err := s.cp.Client.Get(s.ctx, client.ObjectKey{Name: s.ns}, ns); err != nil {
		s.t.Fatal(err)
	}
	ns.Labels = labels
	if err := s.cp.Client.Update(s.ctx, ns); err != nil {
		s.t.Fatal(err)
	}
}

// relPlainHTTP: ProviderConfigs pointing at the plain-http emulator with
// and without the explicit opt-in.
func relPlainHTTP(t *testing.T) {
	relReport.Add(harness.Row{Order: 95, Area: "Security", Passed: true,
		Test:   "internal/sdrs: TestConnectRefusesPlainHTTPWithoutOptIn, TestConnectRefusesHTTPAfterOptInIsRemoved, TestConnectPlainHTTPWarnsOnEveryBuild",
		Fault:  "a ProviderConfig with an http:// (or HTTP://, ftp://, host-less) endpoint and no allowInsecureHTTP reaching the operator anyway (written before the CEL rule, or with validation off), including one whose cached client was built while it still opted in",
		Assert: "the connector refuses it before any call with an InvalidRequest naming the field and the two ways out, so the ProviderConfig and its groups show InvalidRequest; with the opt-in, one WARNING per client built, none when every endpoint is https",
		Result: "covered by internal/sdrs unit tests, run by `make test`; the API server never lets such an object in, as the row above shows"})
	s := newScenario(t, harness.Row{Order: 94, Area: "Security",
		Fault:  "ProviderConfigs whose endpoint and ecsEndpoint are the emulator's plain http:// URLs: without allowInsecureHTTP; with it; then an update taking the opt-in away; a ProtectionGroup names the ProviderConfig throughout",
		Assert: "create and update without the opt-in are refused at admission, each endpoint by name, with the message to use https:// or set allowInsecureHTTP: true; while refused not one call reaches the emulator and the group is Stalled/ProviderConfigNotFound; with the opt-in the group converges and the manager logs the plain-http WARNING"},
		scenarioOptions{noProviderConfig: true, emulator: harness.EmulatorOptions{JobDuration: time.Second}})
	g := s.seed(emutest.Group{Name: "web", Instances: []emutest.Instance{off}})[0]
	m := s.manager("m")
	pg := s.adopt("web", g.ID, manual)

	pc := harness.ProviderConfigFor(s.pc, s.ns, s.emu, "")
	if !strings.HasPrefix(pc.Spec.Endpoint, "http://") || !strings.HasPrefix(pc.Spec.ECSEndpoint, "http://") {
		t.Fatalf("the emulator is not plain http: %s, %s", pc.Spec.Endpoint, pc.Spec.ECSEndpoint)
	}
	pc.Spec.AllowInsecureHTTP = false
	o := s.emu.Options()
	err := s.cp.CreateProviderConfig(s.ctx, pc, o.AccessKey, o.SecretKey)
	refusal := refusedFor(t, err, "spec.endpoint", "spec.ecsEndpoint")

	s.waitFor(pg, relOpTimeout, harness.HasCondition(drv1alpha1.StalledCondition, metav1.ConditionTrue, drv1alpha1.ProviderConfigNotFoundReason))
	s.poke(pg)
	time.Sleep(4 * time.Second) // a forced reconcile and a stalled re-check
	// The group's calls: a ProviderConfig of another row, left on the
	// shared control plane and pointing at an emulator port since reused
	// by this row's, may validate itself here (a quota read naming no group).
	if c := s.calls(g.ID); len(c) != 0 {
		t.Errorf("%d calls for the group reached the emulator while the ProviderConfig was refused, first %s %s", len(c), c[0].Method, c[0].Path)
	}

	optedIn := pc.DeepCopy()
	optedIn.ResourceVersion = ""
	optedIn.Spec.AllowInsecureHTTP = true
	if err := s.cp.Client.Create(s.ctx, optedIn); err != nil {
		t.Fatalf("the opted-in ProviderConfig was refused: %v", err)
	}
	s.waitFor(pg, relOpTimeout, harness.ReadyAt(drv1alpha1.SiteSource))
	warned := m.HasLogged(regexp.MustCompile(`WARNING: this ProviderConfig reaches SDRS or ECS over plain http://`))
	if !warned {
		t.Error("allowInsecureHTTP was used without the WARNING log line")
	}

	// Taking the opt-in away is refused like creating without it.
	cur := &drv1alpha1.ProviderConfig{}
	if err := s.cp.Client.Get(s.ctx, client.ObjectKey{Name: s.pc}, cur); err != nil {
		t.Fatal(err)
	}
	cur.Spec.AllowInsecureHTTP = false
	updateRefusal := refusedFor(t, s.cp.Client.Update(s.ctx, cur), "spec.endpoint", "spec.ecsEndpoint")
	s.result("create without allowInsecureHTTP refused: %q; 0 calls reached the emulator, the group Stalled/ProviderConfigNotFound; with the opt-in: Ready, WARNING logged: %v; update removing the opt-in refused: %q",
		refusal, warned, updateRefusal)
}

// refusedFor asserts that err is the API server refusing plain http on
// each of fields, with the way out, and returns its message.
func refusedFor(t *testing.T, err error, fields ...string) string {
	t.Helper()
	if err == nil {
		t.Fatal("plain http without allowInsecureHTTP was accepted")
	}
	var status apierrors.APIStatus
	if !apierrors.IsInvalid(err) || !errors.As(err, &status) || status.Status().Details == nil {
		t.Fatalf("want an Invalid (422) refusal, got %v", err)
	}
	causes := map[string]string{}
	for _, c := range status.Status().Details.Causes {
		causes[c.Field] = c.Message
	}
	for _, f := range fields {
		msg, ok := causes[f]
		if !ok {
			t.Errorf("the refusal does not name %s: %v", f, err)
			continue
		}
		for _, want := range []string{"plain http://", "use https://", "allowInsecureHTTP: true"} {
			if !strings.Contains(msg, want) {
				t.Errorf("%s: %q does not say %q", f, msg, want)
			}
		}
	}
	return causes[fields[0]]
}
