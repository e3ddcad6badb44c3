// Package config_test checks what config/ and the Dockerfile produce, the
// way a cluster and an image build would consume them, since no cluster or
// container engine runs in the tests.
package config_test

import (
	"bytes"
	"os"
	"os/exec"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"sigs.k8s.io/yaml"
)

// render runs `kubectl kustomize dir`, as `kubectl apply -k` would.
func render(t *testing.T, dir string) []*unstructured.Unstructured {
	t.Helper()
	if _, err := exec.LookPath("kubectl"); err != nil {
		t.Skip("kubectl is not installed")
	}
	out, err := exec.Command("kubectl", "kustomize", dir).CombinedOutput()
	if err != nil {
		t.Fatalf("kubectl kustomize %s: %v\n%s", dir, err, out)
	}
	var objs []*unstructured.Unstructured
	dec := utilyaml.NewYAMLOrJSONDecoder(bytes.NewReader(out), 4096)
	for {
		var m map[string]any
		if err := dec.Decode(&m); err != nil {
			break
		}
		if len(m) > 0 {
			objs = append(objs, &unstructured.Unstructured{Object: m})
		}
	}
	return objs
}

// find returns the one object of kind and name, decoded into into.
func find(t *testing.T, objs []*unstructured.Unstructured, kind, name string, into any) {
	t.Helper()
	for _, o := range objs {
		if o.GetKind() == kind && o.GetName() == name {
			b, _ := yaml.Marshal(o.Object)
			if err := yaml.Unmarshal(b, into); err != nil {
				t.Fatalf("decode %s %s: %v", kind, name, err)
			}
			return
		}
	}
	t.Fatalf("config/default renders no %s %s", kind, name)
}

func TestDefaultDeploysTheOperator(t *testing.T) {
	objs := render(t, "default")
	const ns = "sdrs-operator-system"

	var dep appsv1.Deployment
	find(t, objs, "Deployment", "sdrs-operator-controller-manager", &dep)
	if dep.Namespace != ns {
		t.Errorf("Deployment namespace: want %s, got %s", ns, dep.Namespace)
	}
	if r := dep.Spec.Replicas; r == nil || *r != 2 {
		t.Errorf("want 2 replicas with leader election, got %v", r)
	}
	pod := dep.Spec.Template.Spec
	c := pod.Containers[0]
	if c.Image != "sdrs-operator:latest" {
		t.Errorf("image: want sdrs-operator:latest, got %s", c.Image)
	}
	wantArgs := []string{"--leader-elect", "--health-probe-bind-address=:8081", "--metrics-bind-address=:8080"}
	if diff := cmp.Diff(wantArgs, c.Args); diff != "" {
		t.Errorf("args: -want, +got:\n%s", diff)
	}
	ports := map[string]int32{}
	for _, p := range c.Ports {
		ports[p.Name] = p.ContainerPort
	}
	for path, probe := range map[string]*corev1.Probe{"/healthz": c.LivenessProbe, "/readyz": c.ReadinessProbe} {
		if probe == nil || probe.HTTPGet == nil || probe.HTTPGet.Path != path || ports[probe.HTTPGet.Port.String()] != 8081 {
			t.Errorf("probe %s must GET it on the health port 8081, got %+v", path, probe)
		}
	}
	sc := c.SecurityContext
	if sc == nil || !ptrTrue(sc.ReadOnlyRootFilesystem) || !ptrTrue(sc.RunAsNonRoot) ||
		sc.AllowPrivilegeEscalation == nil || *sc.AllowPrivilegeEscalation ||
		sc.Capabilities == nil || len(sc.Capabilities.Drop) != 1 || sc.Capabilities.Drop[0] != "ALL" ||
		sc.SeccompProfile == nil || sc.SeccompProfile.Type != corev1.SeccompProfileTypeRuntimeDefault {
		t.Errorf("container securityContext is not restricted: %+v", sc)
	}
	if pod.TerminationGracePeriodSeconds == nil {
		t.Error("terminationGracePeriodSeconds is not set")
	}
	for _, r := range []corev1.ResourceName{corev1.ResourceCPU, corev1.ResourceMemory} {
		if _, ok := c.Resources.Requests[r]; !ok {
			t.Errorf("no %s request", r)
		}
		if _, ok := c.Resources.Limits[r]; !ok {
			t.Errorf("no %s limit", r)
		}
	}

	// The manager's ServiceAccount is bound to the generated roles and to
	// the leader election role in its own namespace.
	sa := pod.ServiceAccountName
	var crb rbacv1.ClusterRoleBinding
	find(t, objs, "ClusterRoleBinding", "sdrs-operator-manager-rolebinding", &crb)
	var cr rbacv1.ClusterRole
	find(t, objs, "ClusterRole", crb.RoleRef.Name, &cr)
	var rb rbacv1.RoleBinding
	find(t, objs, "RoleBinding", "sdrs-operator-leader-election-rolebinding", &rb)
	// Secrets: get only, and only in the credentials namespace, through the
	// Role that role.yaml generates from the marker's namespace=sdrs-system.
	const credsNS = "sdrs-system"
	var crRB rbacv1.RoleBinding
	find(t, objs, "RoleBinding", "sdrs-operator-manager-rolebinding", &crRB)
	var crR rbacv1.Role
	find(t, objs, "Role", crRB.RoleRef.Name, &crR)
	if crRB.Namespace != credsNS || crR.Namespace != credsNS {
		t.Errorf("the Secrets Role and RoleBinding must stay in %s, got %s and %s", credsNS, crR.Namespace, crRB.Namespace)
	}
	if crRB.RoleRef.Kind != "Role" {
		t.Errorf("%s binds a %s, want the Role", crRB.Name, crRB.RoleRef.Kind)
	}
	wantSecrets := []rbacv1.PolicyRule{{APIGroups: []string{""}, Resources: []string{"secrets"}, Verbs: []string{"get"}}}
	if diff := cmp.Diff(wantSecrets, crR.Rules); diff != "" {
		t.Errorf("Role %s rules: -want, +got:\n%s", crR.Name, diff)
	}
	for _, r := range cr.Rules {
		if slices.Contains(r.Resources, "secrets") || slices.Contains(r.Resources, "*") {
			t.Errorf("ClusterRole %s grants %v on %v in every namespace", cr.Name, r.Verbs, r.Resources)
		}
	}
	for _, b := range []struct {
		name     string
		subjects []rbacv1.Subject
	}{{crb.Name, crb.Subjects}, {rb.Name, rb.Subjects}, {crRB.Namespace + "/" + crRB.Name, crRB.Subjects}} {
		want := []rbacv1.Subject{{Kind: "ServiceAccount", Name: sa, Namespace: ns}}
		if diff := cmp.Diff(want, b.subjects); diff != "" {
			t.Errorf("%s subjects: -want, +got:\n%s", b.name, diff)
		}
	}
	var svc corev1.Service
	find(t, objs, "Service", "sdrs-operator-controller-manager-metrics-service", &svc)
	for k, v := range svc.Spec.Selector {
		if dep.Spec.Template.Labels[k] != v {
			t.Errorf("metrics Service selector %s=%s does not select the manager pods", k, v)
		}
	}
}

func ptrTrue(b *bool) bool { return b != nil && *b }

// Changing a ProtectionGroup's spec is failing it over, so no role that
// may do it aggregates into a built-in role: editing a namespace must not
// grant failover rights. People get them from an explicit binding of
// protectiongroup-operator-role; reading still comes with view.
func TestFailoverRightsAreNotAggregated(t *testing.T) {
	objs := render(t, "default")
	writes := []string{"create", "update", "patch", "delete", "deletecollection", "*"}
	var operator, viewer rbacv1.ClusterRole
	for _, o := range objs {
		if o.GetKind() != "ClusterRole" {
			continue
		}
		var cr rbacv1.ClusterRole
		find(t, objs, "ClusterRole", o.GetName(), &cr)
		switch cr.Name {
		case "sdrs-operator-protectiongroup-operator-role":
			operator = cr
		case "sdrs-operator-protectiongroup-viewer-role":
			viewer = cr
		}
		mayWrite := false
		for _, r := range cr.Rules {
			if (slices.Contains(r.APIGroups, "dr.sdrs.io") || slices.Contains(r.APIGroups, "*")) &&
				(slices.Contains(r.Resources, "protectiongroups") || slices.Contains(r.Resources, "*")) &&
				slices.ContainsFunc(r.Verbs, func(v string) bool { return slices.Contains(writes, v) }) {
				mayWrite = true
			}
		}
		for k := range cr.Labels {
			if mayWrite && strings.HasPrefix(k, "rbac.authorization.k8s.io/aggregate-to-") {
				t.Errorf("ClusterRole %s may change ProtectionGroups and carries %s: anyone with that built-in role could fail groups over", cr.Name, k)
			}
		}
	}
	if operator.Name == "" || viewer.Name == "" {
		t.Fatalf("config/default renders no protectiongroup-operator-role or protectiongroup-viewer-role")
	}
	if !slices.ContainsFunc(operator.Rules, func(r rbacv1.PolicyRule) bool {
		return slices.Contains(r.Resources, "protectiongroups") && slices.Contains(r.Verbs, "patch")
	}) {
		t.Errorf("%s cannot patch ProtectionGroups, so binding it grants no failover rights: %+v", operator.Name, operator.Rules)
	}
	if viewer.Labels["rbac.authorization.k8s.io/aggregate-to-view"] != "true" {
		t.Errorf("%s should aggregate into view: labels %v", viewer.Name, viewer.Labels)
	}
}

func TestSamplesRender(t *testing.T) {
	objs := render(t, "samples")
	var kinds []string
	for _, o := range objs {
		kinds = append(kinds, o.GetKind()+"/"+o.GetName())
		if o.GetKind() == "ProtectionGroup" {
			id, _, _ := unstructured.NestedString(o.Object, "spec", "protectionGroupID")
			if id != "REPLACE_WITH_SDRS_GROUP_ID" {
				t.Errorf("%s: run-local replaces the placeholder REPLACE_WITH_SDRS_GROUP_ID, got %q", o.GetName(), id)
			}
		}
		if o.GetKind() == "ProviderConfig" {
			// The operator may get Secrets only in sdrs-system.
			if ns, _, _ := unstructured.NestedString(o.Object, "spec", "credentialsSecretRef", "namespace"); ns != "sdrs-system" {
				t.Errorf("%s: the Secret must be in sdrs-system, where the operator may read it, not %q", o.GetName(), ns)
			}
		}
	}
	sort.Strings(kinds)
	want := []string{"DRPlan/demo", "ProtectionGroup/erp", "ProtectionGroup/files", "ProtectionGroup/web", "ProviderConfig/default"}
	if diff := cmp.Diff(want, kinds); diff != "" {
		t.Errorf("samples: -want, +got:\n%s", diff)
	}
}

// pendingMetrics are used by an alert in prometheusrule.yaml but not yet
// exported by internal/metrics. Remove a name here when it is added.
var pendingMetrics = map[string]bool{}

// TestAlertsUseExportedMetrics keeps the example alerts honest: an alert on
// a metric nobody exports never fires.
func TestAlertsUseExportedMetrics(t *testing.T) {
	rules, err := os.ReadFile("prometheus/prometheusrule.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var pr struct {
		Spec struct {
			Groups []struct {
				Rules []struct {
					Alert string `json:"alert"`
					Expr  string `json:"expr"`
				} `json:"rules"`
			} `json:"groups"`
		} `json:"spec"`
	}
	if err := yaml.Unmarshal(rules, &pr); err != nil {
		t.Fatal(err)
	}
	exported := exportedMetrics(t)
	metricRE := regexp.MustCompile(`\bsdrs_operator_[a-z_]+`)
	for _, g := range pr.Spec.Groups {
		for _, r := range g.Rules {
			for _, m := range metricRE.FindAllString(r.Expr, -1) {
				switch {
				case exported[m] && pendingMetrics[m]:
					t.Errorf("%s is exported now: remove it from pendingMetrics", m)
				case !exported[m] && !pendingMetrics[m]:
					t.Errorf("alert %s uses %s, which internal/metrics does not export", r.Alert, m)
				case !exported[m]:
					t.Logf("alert %s waits for metric %s", r.Alert, m)
				}
			}
		}
	}
}

// exportedMetrics reads the metric names internal/metrics declares; each
// collector is built with Namespace: namespace and Name: "...".
func exportedMetrics(t *testing.T) map[string]bool {
	t.Helper()
	files, _ := os.ReadDir("../internal/metrics")
	nameRE := regexp.MustCompile(`(?:Name:\s*|(?:counterVec|gaugeVec)\()"([a-z_]+)"`)
	out := map[string]bool{}
	for _, f := range files {
		if !strings.HasSuffix(f.Name(), ".go") || strings.HasSuffix(f.Name(), "_test.go") {
			continue
		}
		src, err := os.ReadFile("../internal/metrics/" + f.Name())
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range nameRE.FindAllStringSubmatch(string(src), -1) {
			out["sdrs_operator_"+m[1]] = true
		}
	}
	if len(out) == 0 {
		t.Fatal("found no metrics in internal/metrics")
	}
	return out
}
