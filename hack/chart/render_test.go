package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"helm.sh/helm/v3/pkg/lint"
	"helm.sh/helm/v3/pkg/lint/support"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apiextensions-apiserver/pkg/apis/apiextensions"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	"k8s.io/apiextensions-apiserver/pkg/apiserver/schema"
	"k8s.io/apiextensions-apiserver/pkg/apiserver/schema/cel"
	"k8s.io/apiextensions-apiserver/pkg/apiserver/schema/defaulting"
	"k8s.io/apiextensions-apiserver/pkg/apiserver/schema/pruning"
	"k8s.io/apiextensions-apiserver/pkg/apiserver/validation"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/validation/field"
	celconfig "k8s.io/apiserver/pkg/apis/cel"
	"sigs.k8s.io/yaml"
)

const (
	release   = "sdrs-operator"
	namespace = "sdrs-operator-system"
	// credentialsNamespace is where config/ lets the operator get Secrets,
	// and the chart's default credentials.namespace.
	credentialsNamespace = "sdrs-system"
)

var chartPath = filepath.Join(root, chartDir)

// renderObjects renders the chart and parses every rendered document as
// YAML. Every document must be a named object, and no two may share a kind
// and name.
func renderObjects(t *testing.T, vals map[string]any, name, ns string) (*rendered, map[string]object) {
	t.Helper()
	r, err := renderChart(chartPath, vals, name, ns)
	if err != nil {
		t.Fatalf("render: %v", err)
	}
	objs := map[string]object{}
	for src, text := range r.templates {
		docs, err := splitDocs([]byte(text), src)
		if err != nil {
			t.Fatalf("rendered %s is not YAML: %v\n%s", src, err, text)
		}
		for _, d := range docs {
			o := object{source: src, obj: d}
			if o.obj["apiVersion"] == nil || o.kind() == "" || o.name() == "" {
				t.Errorf("%s renders a document without apiVersion, kind or metadata.name:\n%s", src, text)
				continue
			}
			if prev, dup := objs[o.key()]; dup {
				t.Errorf("%s is rendered twice, by %s and %s", o.key(), prev.source, src)
			}
			objs[o.key()] = o
		}
	}
	return r, objs
}

func get(t *testing.T, objs map[string]object, kind, name string, into any) {
	t.Helper()
	o, ok := objs[kind+"/"+name]
	if !ok {
		t.Fatalf("the chart renders no %s %s; it renders %v", kind, name, keys(objs))
	}
	o.decode(t, into)
}

func keys(objs map[string]object) []string {
	var ks []string
	for k := range objs {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}

func diff(t *testing.T, what string, want, got any) {
	t.Helper()
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("%s: -config/, +chart:\n%s", what, d)
	}
}

func TestGeneratedFilesMatchConfig(t *testing.T) {
	files, err := generated(root)
	if err != nil {
		t.Fatal(err)
	}
	problems, err := verifyGenerated(root, files)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range problems {
		t.Errorf("%s (run 'cd hack/chart && go run . generate')", p)
	}
}

// The chart's CRDs are config/crd/bases, byte for byte, and parse as CRDs.
func TestCRDsAreConfigs(t *testing.T) {
	r, _ := renderObjects(t, nil, release, namespace)
	want, err := filepath.Glob(filepath.Join(root, "config/crd/bases/*.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	got := map[string][]byte{}
	for _, c := range r.crds {
		got[filepath.Base(c.Name)] = c.File.Data
	}
	if len(want) == 0 || len(got) != len(want) {
		t.Fatalf("config/crd/bases has %d CRDs, the chart's crds/ %d", len(want), len(got))
	}
	for _, p := range want {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(b, got[filepath.Base(p)]) {
			t.Errorf("crds/%s differs from %s", filepath.Base(p), p)
		}
		docs, err := splitDocs(got[filepath.Base(p)], p)
		if err != nil || len(docs) != 1 {
			t.Fatalf("crds/%s: want one YAML document, got %d (%v)", filepath.Base(p), len(docs), err)
		}
		var crd apiextensionsv1.CustomResourceDefinition
		object{source: p, obj: docs[0]}.decode(t, &crd)
		if crd.Spec.Group != "dr.sdrs.io" {
			t.Errorf("%s: group %s", p, crd.Spec.Group)
		}
	}
}

// With the default values and the release name sdrs-operator, the chart
// deploys what config/default deploys, under the same names, except the
// Namespace (Helm installs into an existing or --create-namespace one) and
// the CRDs (in crds/).
func TestDefaultsDeployWhatConfigDefaultDeploys(t *testing.T) {
	r, objs := renderObjects(t, nil, release, namespace)
	k := readKustomization(t, "config/default")
	want := map[string]bool{}
	// Where each namespaced object goes: the release namespace, except the
	// objects config/ puts in the credentials namespace (the Secrets Role
	// and its RoleBinding), which config/default keeps there and the chart
	// puts in credentials.namespace, sdrs-system by default.
	wantNS := map[string]string{}
	for _, o := range configObjects(t, "config/default") {
		if isCRD(o) || o.kind() == "Namespace" {
			continue
		}
		key := o.kind() + "/" + k.NamePrefix + o.name()
		want[key] = true
		md, _ := o.obj["metadata"].(map[string]any)
		switch ns, _ := md["namespace"].(string); ns {
		case "", "system": // cluster-scoped, or kustomize's namespace: sets it
			wantNS[key] = namespace
		default:
			wantNS[key] = ns
		}
	}
	got := map[string]bool{}
	for key := range objs {
		got[key] = true
	}
	diff(t, "objects", want, got)
	if k.Namespace != namespace {
		t.Errorf("config/default deploys into %s; the tests assume %s", k.Namespace, namespace)
	}
	if wantNS["Role/"+k.NamePrefix+"manager-role"] != credentialsNamespace {
		t.Errorf("config/ puts the Secrets Role in %q; the tests assume %s", wantNS["Role/"+k.NamePrefix+"manager-role"], credentialsNamespace)
	}
	for _, o := range objs {
		if hasPrefix(o.kind(), "ClusterRole", "Cluster") {
			continue
		}
		md := o.obj["metadata"].(map[string]any)
		if md["namespace"] != wantNS[o.key()] {
			t.Errorf("%s: namespace %v, want %s as config/default", o.key(), md["namespace"], wantNS[o.key()])
		}
	}
	if !strings.Contains(r.notes, "rollout status deploy/sdrs-operator-controller-manager") {
		t.Errorf("NOTES.txt does not say how to follow the rollout:\n%s", r.notes)
	}
}

// The Deployment runs the manager as config/manager/manager.yaml does.
func TestDeploymentMatchesConfigManager(t *testing.T) {
	_, objs := renderObjects(t, nil, release, namespace)
	var want, got appsv1.Deployment
	configObject(t, "config/manager/manager.yaml", "Deployment", &want)
	get(t, objs, "Deployment", "sdrs-operator-controller-manager", &got)

	diff(t, "replicas", want.Spec.Replicas, got.Spec.Replicas)
	wp, gp := want.Spec.Template.Spec, got.Spec.Template.Spec
	diff(t, "pod securityContext", wp.SecurityContext, gp.SecurityContext)
	diff(t, "terminationGracePeriodSeconds", wp.TerminationGracePeriodSeconds, gp.TerminationGracePeriodSeconds)
	diff(t, "default-container annotation", want.Spec.Template.Annotations, got.Spec.Template.Annotations)
	if len(gp.Containers) != 1 || len(wp.Containers) != 1 {
		t.Fatalf("want one container, config has %d, chart %d", len(wp.Containers), len(gp.Containers))
	}
	wc, gc := wp.Containers[0], gp.Containers[0]
	diff(t, "container name", wc.Name, gc.Name)
	diff(t, "command", wc.Command, gc.Command)
	diff(t, "args", wc.Args, gc.Args)
	diff(t, "ports", wc.Ports, gc.Ports)
	diff(t, "livenessProbe", wc.LivenessProbe, gc.LivenessProbe)
	diff(t, "readinessProbe", wc.ReadinessProbe, gc.ReadinessProbe)
	diff(t, "resources", wc.Resources, gc.Resources)
	diff(t, "container securityContext", wc.SecurityContext, gc.SecurityContext)
	diff(t, "image", managerImage(t), gc.Image)

	// Whatever config/ says, the chart must run restricted.
	sc := gc.SecurityContext
	if sc == nil || sc.RunAsNonRoot == nil || !*sc.RunAsNonRoot || sc.ReadOnlyRootFilesystem == nil || !*sc.ReadOnlyRootFilesystem ||
		sc.AllowPrivilegeEscalation == nil || *sc.AllowPrivilegeEscalation || sc.Capabilities == nil ||
		!cmp.Equal(sc.Capabilities.Drop, []corev1.Capability{"ALL"}) ||
		sc.SeccompProfile == nil || sc.SeccompProfile.Type != corev1.SeccompProfileTypeRuntimeDefault {
		t.Errorf("container securityContext is not restricted (non-root, read-only root fs, no escalation, no capabilities, RuntimeDefault seccomp): %+v", sc)
	}
	if gp.SecurityContext == nil || gp.SecurityContext.RunAsNonRoot == nil || !*gp.SecurityContext.RunAsNonRoot {
		t.Errorf("pod securityContext does not set runAsNonRoot: %+v", gp.SecurityContext)
	}
	ports := map[string]int32{}
	for _, p := range gc.Ports {
		ports[p.Name] = p.ContainerPort
	}
	for path, probe := range map[string]*corev1.Probe{"/healthz": gc.LivenessProbe, "/readyz": gc.ReadinessProbe} {
		if probe == nil || probe.HTTPGet == nil || probe.HTTPGet.Path != path || ports[probe.HTTPGet.Port.String()] != 8081 {
			t.Errorf("probe %s must GET it on the health port 8081, got %+v", path, probe)
		}
	}
	for _, a := range []string{"--leader-elect", "--health-probe-bind-address=:8081", "--metrics-bind-address=:8080"} {
		if !contains(gc.Args, a) {
			t.Errorf("args %v lack %s", gc.Args, a)
		}
	}

	// The selector selects the pods, and the default anti-affinity spreads them.
	sel := labels.SelectorFromSet(got.Spec.Selector.MatchLabels)
	if !sel.Matches(labels.Set(got.Spec.Template.Labels)) {
		t.Errorf("selector %v does not select the pod labels %v", sel, got.Spec.Template.Labels)
	}
	aa := gp.Affinity
	if aa == nil || aa.PodAntiAffinity == nil || len(aa.PodAntiAffinity.PreferredDuringSchedulingIgnoredDuringExecution) != 1 {
		t.Fatalf("no default preferred anti-affinity: %+v", aa)
	}
	term := aa.PodAntiAffinity.PreferredDuringSchedulingIgnoredDuringExecution[0]
	wterm := wp.Affinity.PodAntiAffinity.PreferredDuringSchedulingIgnoredDuringExecution[0]
	diff(t, "anti-affinity topologyKey", wterm.PodAffinityTerm.TopologyKey, term.PodAffinityTerm.TopologyKey)
	if !labels.SelectorFromSet(term.PodAffinityTerm.LabelSelector.MatchLabels).Matches(labels.Set(got.Spec.Template.Labels)) {
		t.Error("the anti-affinity term does not select the manager pods")
	}

	// The ServiceAccount exists, and the metrics Service and PDB select the pods.
	var sa corev1.ServiceAccount
	get(t, objs, "ServiceAccount", gp.ServiceAccountName, &sa)
	var svc, wsvc corev1.Service
	get(t, objs, "Service", "sdrs-operator-controller-manager-metrics-service", &svc)
	configObject(t, "config/default/metrics_service.yaml", "Service", &wsvc)
	diff(t, "metrics Service ports", wsvc.Spec.Ports, svc.Spec.Ports)
	if !labels.SelectorFromSet(svc.Spec.Selector).Matches(labels.Set(got.Spec.Template.Labels)) {
		t.Errorf("metrics Service selector %v does not select the manager pods", svc.Spec.Selector)
	}
	if _, ok := ports[svc.Spec.Ports[0].TargetPort.String()]; !ok {
		t.Errorf("metrics Service targets port %s, which the container does not name", svc.Spec.Ports[0].TargetPort.String())
	}
	var pdb, wpdb policyv1.PodDisruptionBudget
	get(t, objs, "PodDisruptionBudget", "sdrs-operator-controller-manager", &pdb)
	configObject(t, "config/manager/pdb.yaml", "PodDisruptionBudget", &wpdb)
	diff(t, "PDB minAvailable", wpdb.Spec.MinAvailable, pdb.Spec.MinAvailable)
	if !labels.SelectorFromSet(pdb.Spec.Selector.MatchLabels).Matches(labels.Set(got.Spec.Template.Labels)) {
		t.Error("the PodDisruptionBudget does not select the manager pods")
	}
}

func contains(ss []string, s string) bool {
	for _, x := range ss {
		if x == s {
			return true
		}
	}
	return false
}

// The RBAC rules are those of config/rbac, and the bindings give them to the
// manager's ServiceAccount in the release namespace.
func TestRBACMatchesConfig(t *testing.T) {
	for _, name := range []string{release, "dr"} {
		t.Run(name, func(t *testing.T) {
			_, objs := renderObjects(t, nil, name, "ops")
			prefix := name + "-"
			if name != release {
				prefix = name + "-sdrs-operator-"
			}
			var dep appsv1.Deployment
			get(t, objs, "Deployment", prefix+"controller-manager", &dep)
			sa := rbacv1.Subject{Kind: "ServiceAccount", Name: dep.Spec.Template.Spec.ServiceAccountName, Namespace: "ops"}

			var wantCR, gotCR rbacv1.ClusterRole
			configObject(t, "config/rbac/role.yaml", "ClusterRole", &wantCR)
			get(t, objs, "ClusterRole", prefix+"manager-role", &gotCR)
			diff(t, "manager ClusterRole rules (config/rbac/role.yaml)", wantCR.Rules, gotCR.Rules)
			var crb rbacv1.ClusterRoleBinding
			get(t, objs, "ClusterRoleBinding", prefix+"manager-rolebinding", &crb)
			diff(t, "ClusterRoleBinding roleRef", rbacv1.RoleRef{APIGroup: "rbac.authorization.k8s.io", Kind: "ClusterRole", Name: gotCR.Name}, crb.RoleRef)
			diff(t, "ClusterRoleBinding subjects", []rbacv1.Subject{sa}, crb.Subjects)

			// Secrets: the rules of role.yaml's Role, in the credentials
			// namespace only, and none in the ClusterRole.
			var wantSR, gotSR rbacv1.Role
			configObject(t, "config/rbac/role.yaml", "Role", &wantSR)
			get(t, objs, "Role", prefix+"manager-role", &gotSR)
			diff(t, "manager Role rules (config/rbac/role.yaml)", wantSR.Rules, gotSR.Rules)
			if gotSR.Namespace != credentialsNamespace || wantSR.Namespace != credentialsNamespace {
				t.Errorf("Secrets Role in %s (config/: %s), want the default credentials.namespace %s", gotSR.Namespace, wantSR.Namespace, credentialsNamespace)
			}
			var srb rbacv1.RoleBinding
			get(t, objs, "RoleBinding", prefix+"manager-rolebinding", &srb)
			if srb.Namespace != gotSR.Namespace {
				t.Errorf("Secrets RoleBinding in %s, its Role in %s", srb.Namespace, gotSR.Namespace)
			}
			diff(t, "Secrets RoleBinding roleRef", rbacv1.RoleRef{APIGroup: "rbac.authorization.k8s.io", Kind: "Role", Name: gotSR.Name}, srb.RoleRef)
			diff(t, "Secrets RoleBinding subjects", []rbacv1.Subject{sa}, srb.Subjects)
			for _, r := range gotCR.Rules {
				if contains(r.Resources, "secrets") || contains(r.Resources, "*") {
					t.Errorf("the ClusterRole grants %v on %v in every namespace", r.Verbs, r.Resources)
				}
			}

			var wantR, gotR rbacv1.Role
			configObject(t, "config/rbac/leader_election_role.yaml", "Role", &wantR)
			get(t, objs, "Role", prefix+"leader-election-role", &gotR)
			diff(t, "leader election Role rules", wantR.Rules, gotR.Rules)
			if gotR.Namespace != "ops" {
				t.Errorf("leader election Role in %s, want the release namespace", gotR.Namespace)
			}
			var rb rbacv1.RoleBinding
			get(t, objs, "RoleBinding", prefix+"leader-election-rolebinding", &rb)
			diff(t, "RoleBinding roleRef", rbacv1.RoleRef{APIGroup: "rbac.authorization.k8s.io", Kind: "Role", Name: gotR.Name}, rb.RoleRef)
			diff(t, "RoleBinding subjects", []rbacv1.Subject{sa}, rb.Subjects)

			for _, f := range []string{"protectiongroup_operator_role.yaml", "protectiongroup_viewer_role.yaml", "providerconfig_viewer_role.yaml"} {
				var w, g rbacv1.ClusterRole
				configObject(t, "config/rbac/"+f, "ClusterRole", &w)
				get(t, objs, "ClusterRole", prefix+w.Name, &g)
				diff(t, f+" rules", w.Rules, g.Rules)
				// Aggregation decides who gets a role without a binding, so
				// the chart aggregates exactly as config/ does.
				diff(t, f+" aggregation labels", aggregationLabels(w.Labels), aggregationLabels(g.Labels))
			}
		})
	}
}

// aggregationLabels returns the rbac.authorization.k8s.io/ labels that
// aggregate a ClusterRole into others.
func aggregationLabels(labels map[string]string) map[string]string {
	out := map[string]string{}
	for k, v := range labels {
		if strings.HasPrefix(k, "rbac.authorization.k8s.io/") {
			out[k] = v
		}
	}
	return out
}

// Every value the chart offers reaches the manifests.
func TestNonDefaultValues(t *testing.T) {
	ca := "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n"
	vals := map[string]any{
		"image":            map[string]any{"repository": "registry.example/sdrs-operator", "tag": "v1.2.3", "pullPolicy": "Always"},
		"imagePullSecrets": []any{map[string]any{"name": "regcred"}},
		"replicas":         3,
		"leaderElect":      false,
		"extraArgs":        []any{"--max-concurrent-reconciles=32", "--zap-log-level=debug"},
		"resources": map[string]any{
			"requests": map[string]any{"cpu": "200m", "memory": "256Mi"},
			"limits":   map[string]any{"cpu": "1", "memory": "512Mi"},
		},
		"nodeSelector":      map[string]any{"node-role.kubernetes.io/infra": ""},
		"tolerations":       []any{map[string]any{"key": "infra", "operator": "Exists", "effect": "NoSchedule"}},
		"affinity":          map[string]any{"nodeAffinity": map[string]any{"requiredDuringSchedulingIgnoredDuringExecution": map[string]any{"nodeSelectorTerms": []any{map[string]any{"matchExpressions": []any{map[string]any{"key": "zone", "operator": "In", "values": []any{"a"}}}}}}}},
		"priorityClassName": "system-cluster-critical",
		"podAnnotations":    map[string]any{"example.com/a": "b"},
		"podLabels":         map[string]any{"team": "dr"},
		"serviceAccount":    map[string]any{"annotations": map[string]any{"example.com/role": "x"}},
		"rbac":              map[string]any{"userRoles": false},
		"serviceMonitor":    map[string]any{"enabled": true, "interval": "15s", "labels": map[string]any{"release": "prom"}},
		"prometheusRule":    map[string]any{"enabled": true, "labels": map[string]any{"release": "prom"}},
		"metrics":           map[string]any{"perGroup": true},
		"providerConfig": map[string]any{
			"create": true, "name": "hwc", "region": "ap-southeast-1", "projectID": "0123456789abcdef0123456789abcdef",
			"endpoint": "http://sdrs.example.internal", "ecsEndpoint": "https://ecs.example.internal", "caBundle": ca,
			"allowInsecureHTTP": true,
			"namespaceSelector": map[string]any{"matchLabels": map[string]any{"sdrs.io/failover": "allowed"},
				"matchExpressions": []any{map[string]any{"key": "env", "operator": "In", "values": []any{"prod"}}}},
			"rateLimit": map[string]any{"callsPerSecond": 5, "burst": 10}, "syncInterval": "2m",
			"credentials": map[string]any{"secretName": "hwc-aksk"},
		},
		"credentials": map[string]any{"namespace": "secrets"},
	}
	_, objs := renderObjects(t, vals, "dr", "ops")

	var dep appsv1.Deployment
	get(t, objs, "Deployment", "dr-sdrs-operator-controller-manager", &dep)
	pod := dep.Spec.Template.Spec
	c := pod.Containers[0]
	diff(t, "replicas", int32(3), *dep.Spec.Replicas)
	diff(t, "image", "registry.example/sdrs-operator:v1.2.3", c.Image)
	diff(t, "pullPolicy", corev1.PullAlways, c.ImagePullPolicy)
	diff(t, "args", []string{"--leader-elect=false", "--health-probe-bind-address=:8081", "--metrics-bind-address=:8080",
		"--metrics-per-group", "--max-concurrent-reconciles=32", "--zap-log-level=debug"}, c.Args)
	diff(t, "requests", "200m", c.Resources.Requests.Cpu().String())
	diff(t, "limits", "512Mi", c.Resources.Limits.Memory().String())
	diff(t, "nodeSelector", map[string]string{"node-role.kubernetes.io/infra": ""}, pod.NodeSelector)
	diff(t, "tolerations", []corev1.Toleration{{Key: "infra", Operator: corev1.TolerationOpExists, Effect: corev1.TaintEffectNoSchedule}}, pod.Tolerations)
	if pod.Affinity == nil || pod.Affinity.NodeAffinity == nil || pod.Affinity.PodAntiAffinity != nil {
		t.Errorf("affinity must replace the default: %+v", pod.Affinity)
	}
	diff(t, "priorityClassName", "system-cluster-critical", pod.PriorityClassName)
	diff(t, "imagePullSecrets", []corev1.LocalObjectReference{{Name: "regcred"}}, pod.ImagePullSecrets)
	diff(t, "pod annotation", "b", dep.Spec.Template.Annotations["example.com/a"])
	diff(t, "pod label", "dr", dep.Spec.Template.Labels["team"])
	if sc := c.SecurityContext; sc == nil || !*sc.ReadOnlyRootFilesystem || !*sc.RunAsNonRoot {
		t.Errorf("values must not loosen the security context: %+v", sc)
	}
	var sa corev1.ServiceAccount
	get(t, objs, "ServiceAccount", pod.ServiceAccountName, &sa)
	diff(t, "ServiceAccount annotations", map[string]string{"example.com/role": "x"}, sa.Annotations)
	// credentials.namespace moves the Secrets Role and its binding.
	var sr rbacv1.Role
	get(t, objs, "Role", "dr-sdrs-operator-manager-role", &sr)
	var srb rbacv1.RoleBinding
	get(t, objs, "RoleBinding", "dr-sdrs-operator-manager-rolebinding", &srb)
	diff(t, "Secrets Role namespace", "secrets", sr.Namespace)
	diff(t, "Secrets RoleBinding namespace", "secrets", srb.Namespace)
	diff(t, "Secrets RoleBinding subjects", []rbacv1.Subject{{Kind: "ServiceAccount", Name: pod.ServiceAccountName, Namespace: "ops"}}, srb.Subjects)
	for _, k := range keys(objs) {
		if strings.Contains(k, "editor-role") || strings.Contains(k, "viewer-role") {
			t.Errorf("rbac.userRoles=false still renders %s", k)
		}
	}

	// ServiceMonitor: config/prometheus/monitor.yaml's endpoint, selecting the metrics Service.
	var mon, wmon struct {
		Metadata struct {
			Labels map[string]string `json:"labels"`
		} `json:"metadata"`
		Spec struct {
			Endpoints []map[string]any `json:"endpoints"`
			Selector  struct {
				MatchLabels map[string]string `json:"matchLabels"`
			} `json:"selector"`
		} `json:"spec"`
	}
	objs["ServiceMonitor/dr-sdrs-operator-controller-manager-metrics-monitor"].decodeLoose(t, &mon)
	d, err := readKind(root, "config/prometheus/monitor.yaml", "ServiceMonitor")
	if err != nil {
		t.Fatal(err)
	}
	object{obj: d}.decodeLoose(t, &wmon)
	wmon.Spec.Endpoints[0]["interval"] = "15s"
	diff(t, "ServiceMonitor endpoints", wmon.Spec.Endpoints, mon.Spec.Endpoints)
	diff(t, "ServiceMonitor label", "prom", mon.Metadata.Labels["release"])
	var svc corev1.Service
	get(t, objs, "Service", "dr-sdrs-operator-controller-manager-metrics-service", &svc)
	if !labels.SelectorFromSet(mon.Spec.Selector.MatchLabels).Matches(labels.Set(svc.Labels)) {
		t.Errorf("ServiceMonitor selector %v does not select the metrics Service labels %v", mon.Spec.Selector.MatchLabels, svc.Labels)
	}

	// PrometheusRule: config/prometheus/prometheusrule.yaml's groups, with
	// the alerts' {{ $labels.x }} left for Prometheus.
	var pr, wpr struct {
		Spec map[string]any `json:"spec"`
	}
	po, ok := objs["PrometheusRule/dr-sdrs-operator-controller-manager-alerts"]
	if !ok {
		t.Fatalf("no PrometheusRule: %v", keys(objs))
	}
	po.decodeLoose(t, &pr)
	d, err = readKind(root, "config/prometheus/prometheusrule.yaml", "PrometheusRule")
	if err != nil {
		t.Fatal(err)
	}
	object{obj: d}.decodeLoose(t, &wpr)
	diff(t, "PrometheusRule spec", wpr.Spec, pr.Spec)
	if !strings.Contains(po.source, "prometheusrule") || !strings.Contains(renderedText(t, vals, "templates/prometheusrule.yaml"), "{{ $labels.namespace }}") {
		t.Error("the alert annotations lost their Prometheus templates")
	}

	// ProviderConfig: valid against the CRD, pointing at the existing Secret.
	pc, ok := objs["ProviderConfig/hwc"]
	if !ok {
		t.Fatalf("no ProviderConfig hwc: %v", keys(objs))
	}
	validateAgainstCRD(t, pc, "config/crd/bases/dr.sdrs.io_providerconfigs.yaml")
	spec := pc.obj["spec"].(map[string]any)
	diff(t, "credentialsSecretRef", map[string]any{"namespace": "secrets", "name": "hwc-aksk"}, spec["credentialsSecretRef"])
	diff(t, "region", "ap-southeast-1", spec["region"])
	diff(t, "endpoint", "http://sdrs.example.internal", spec["endpoint"])
	diff(t, "allowInsecureHTTP", true, spec["allowInsecureHTTP"])
	diff(t, "namespaceSelector", map[string]any{"matchLabels": map[string]any{"sdrs.io/failover": "allowed"},
		"matchExpressions": []any{map[string]any{"key": "env", "operator": "In", "values": []any{"prod"}}}}, spec["namespaceSelector"])
	diff(t, "ecsEndpoint", "https://ecs.example.internal", spec["ecsEndpoint"])
	diff(t, "syncInterval", "2m", spec["syncInterval"])
	diff(t, "rateLimit", map[string]any{"callsPerSecond": float64(5), "burst": float64(10)}, spec["rateLimit"])
	if b, _ := base64.StdEncoding.DecodeString(spec["caBundle"].(string)); string(b) != ca {
		t.Errorf("caBundle does not decode to the PEM given: %q", spec["caBundle"])
	}
}

func renderedText(t *testing.T, vals map[string]any, tpl string) string {
	t.Helper()
	r, err := renderChart(chartPath, vals, "dr", "ops")
	if err != nil {
		t.Fatal(err)
	}
	return r.templates[tpl]
}

// decodeLoose is decode for kinds the tests only partly model.
func (o object) decodeLoose(t *testing.T, into any) {
	t.Helper()
	if o.obj == nil {
		t.Fatalf("no object to decode into %T", into)
	}
	b, err := yaml.Marshal(o.obj)
	if err != nil {
		t.Fatal(err)
	}
	if err := yaml.Unmarshal(b, into); err != nil {
		t.Fatal(err)
	}
}

// The smallest ProviderConfig (region, project, the default Secret name) is
// valid, and its Secret is in the default credentials namespace, where the
// operator may read it.
func TestMinimalProviderConfig(t *testing.T) {
	_, objs := renderObjects(t, map[string]any{
		"providerConfig": map[string]any{"create": true, "region": "cn-north-4", "projectID": "abc"},
	}, release, namespace)
	pc, ok := objs["ProviderConfig/default"]
	if !ok {
		t.Fatalf("no ProviderConfig default: %v", keys(objs))
	}
	validateAgainstCRD(t, pc, "config/crd/bases/dr.sdrs.io_providerconfigs.yaml")
	spec := pc.obj["spec"].(map[string]any)
	diff(t, "credentialsSecretRef", map[string]any{"namespace": credentialsNamespace, "name": "sdrs-credentials"}, spec["credentialsSecretRef"])
	for _, k := range []string{"endpoint", "ecsEndpoint", "caBundle", "rateLimit", "syncInterval", "allowInsecureHTTP", "namespaceSelector"} {
		if _, set := spec[k]; set {
			t.Errorf("%s is set although its value is empty; the operator would not use the SDK's defaults", k)
		}
	}
}

// validateAgainstCRD validates an object the way the API server would on
// create: the CRD's OpenAPI schema and its CEL rules.
func validateAgainstCRD(t *testing.T, o object, crdFile string) {
	t.Helper()
	for _, e := range crdErrors(t, o, crdFile) {
		t.Errorf("%s is not valid against %s: %v", o.key(), crdFile, e)
	}
}

func crdErrors(t *testing.T, o object, crdFile string) field.ErrorList {
	t.Helper()
	docs, err := readDocs(root, crdFile)
	if err != nil {
		t.Fatal(err)
	}
	var crd apiextensionsv1.CustomResourceDefinition
	object{source: crdFile, obj: docs[0]}.decode(t, &crd)
	var v1schema *apiextensionsv1.JSONSchemaProps
	for _, v := range crd.Spec.Versions {
		if o.obj["apiVersion"] == crd.Spec.Group+"/"+v.Name {
			v1schema = v.Schema.OpenAPIV3Schema
		}
	}
	if v1schema == nil {
		t.Fatalf("%s serves no %v", crdFile, o.obj["apiVersion"])
	}
	var internal apiextensions.JSONSchemaProps
	if err := apiextensionsv1.Convert_v1_JSONSchemaProps_To_apiextensions_JSONSchemaProps(v1schema, &internal, nil); err != nil {
		t.Fatal(err)
	}
	structural, err := schema.NewStructural(&internal)
	if err != nil {
		t.Fatal(err)
	}
	// As the API server does: unknown fields (rejected by kubectl's default
	// strict field validation), then defaulting, then the schema and CEL.
	obj := runtime.DeepCopyJSON(o.obj)
	var errs field.ErrorList
	for _, p := range pruning.PruneWithOptions(obj, structural, true, schema.UnknownFieldPathOptions{TrackUnknownFieldPaths: true}) {
		errs = append(errs, field.Invalid(field.NewPath(p), nil, "unknown field"))
	}
	defaulting.Default(obj, structural)
	validator, _, err := validation.NewSchemaValidator(&internal)
	if err != nil {
		t.Fatal(err)
	}
	errs = append(errs, validation.ValidateCustomResource(field.NewPath(""), obj, validator)...)
	celErrs, _ := cel.NewValidator(structural, true, celconfig.PerCallLimit).Validate(context.Background(), field.NewPath(""), structural, obj, nil, celconfig.RuntimeCELCostBudget)
	return append(errs, celErrs...)
}

// The CRD validation above is the real thing: it rejects what the API server
// rejects, CEL rules included.
func TestCRDValidationRejectsBadProviderConfigs(t *testing.T) {
	for name, spec := range map[string]map[string]any{
		"no region":                     {"projectID": "p", "credentialsSecretRef": map[string]any{"namespace": "n", "name": "s"}},
		"syncInterval below 1s (CEL)":   {"region": "r", "projectID": "p", "syncInterval": "500ms", "credentialsSecretRef": map[string]any{"namespace": "n", "name": "s"}},
		"endpoint not a URL (CEL)":      {"region": "r", "projectID": "p", "endpoint": "ftp://x", "credentialsSecretRef": map[string]any{"namespace": "n", "name": "s"}},
		"http without the opt-in (CEL)": {"region": "r", "projectID": "p", "endpoint": "http://x", "credentialsSecretRef": map[string]any{"namespace": "n", "name": "s"}},
		"caBundle and insecure (CEL)":   {"region": "r", "projectID": "p", "caBundle": "eA==", "insecureSkipTLSVerify": true, "credentialsSecretRef": map[string]any{"namespace": "n", "name": "s"}},
		"an unknown field":              {"region": "r", "projectID": "p", "regoin": "x", "credentialsSecretRef": map[string]any{"namespace": "n", "name": "s"}},
		"rate limit above the maximum":  {"region": "r", "projectID": "p", "rateLimit": map[string]any{"callsPerSecond": int64(5000)}, "credentialsSecretRef": map[string]any{"namespace": "n", "name": "s"}},
	} {
		t.Run(name, func(t *testing.T) {
			o := object{obj: map[string]any{
				"apiVersion": "dr.sdrs.io/v1alpha1", "kind": "ProviderConfig",
				"metadata": map[string]any{"name": "x"}, "spec": spec,
			}}
			errs := crdErrors(t, o, "config/crd/bases/dr.sdrs.io_providerconfigs.yaml")
			if len(errs) == 0 {
				t.Error("accepted")
			}
			t.Log(errs)
		})
	}
}

// values.schema.json rejects mistakes before anything is rendered.
func TestSchemaRejectsBadValues(t *testing.T) {
	for name, vals := range map[string]map[string]any{
		"replicas as a string":          {"replicas": "two"},
		"a misspelt key":                {"replicaCount": 2},
		"unknown pull policy":           {"image": map[string]any{"repository": "x", "pullPolicy": "Sometimes"}},
		"extra arg without dashes":      {"extraArgs": []any{"zap-log-level=debug"}},
		"ProviderConfig, no region":     {"providerConfig": map[string]any{"create": true, "projectID": "abc"}},
		"ProviderConfig, no project":    {"providerConfig": map[string]any{"create": true, "region": "cn-north-4"}},
		"endpoint without scheme":       {"providerConfig": map[string]any{"endpoint": "sdrs.example.com"}},
		"bad sync interval":             {"providerConfig": map[string]any{"syncInterval": "5 minutes"}},
		"namespaceSelector as a string": {"providerConfig": map[string]any{"namespaceSelector": "team=a"}},
		"unknown selector operator": {"providerConfig": map[string]any{"namespaceSelector": map[string]any{
			"matchExpressions": []any{map[string]any{"key": "team", "operator": "Maybe"}}}}},
		// The Secret's namespace is credentials.namespace, where the
		// operator may read it; this value no longer exists.
		"a Secret namespace of its own":        {"providerConfig": map[string]any{"credentials": map[string]any{"secretNamespace": "x"}}},
		"empty credentials namespace":          {"credentials": map[string]any{"namespace": ""}},
		"credentials namespace not a DNS name": {"credentials": map[string]any{"namespace": "Sdrs_System"}},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := renderChart(chartPath, vals, release, namespace)
			if err == nil {
				t.Fatalf("values %v rendered without an error", vals)
			}
			t.Log(err)
		})
	}
}

func TestOneReplicaHasNoDisruptionBudget(t *testing.T) {
	_, objs := renderObjects(t, map[string]any{"replicas": 1}, release, namespace)
	if _, ok := objs["PodDisruptionBudget/sdrs-operator-controller-manager"]; ok {
		t.Error("a PodDisruptionBudget with minAvailable 1 on one replica would block every node drain")
	}
}

func TestImageDigest(t *testing.T) {
	digest := "sha256:" + strings.Repeat("ab", 32)
	_, objs := renderObjects(t, map[string]any{"image": map[string]any{"repository": "r/sdrs-operator", "tag": "v1", "digest": digest}}, release, namespace)
	var dep appsv1.Deployment
	get(t, objs, "Deployment", "sdrs-operator-controller-manager", &dep)
	diff(t, "image", "r/sdrs-operator@"+digest, dep.Spec.Template.Spec.Containers[0].Image)
}

// helm lint passes with no warnings, with the defaults and with every
// optional part on.
func TestLint(t *testing.T) {
	for name, vals := range map[string]map[string]any{
		"defaults": nil,
		"everything on": {
			"serviceMonitor":   map[string]any{"enabled": true},
			"prometheusRule":   map[string]any{"enabled": true},
			"grafanaDashboard": map[string]any{"enabled": true},
			"providerConfig":   map[string]any{"create": true, "region": "cn-north-4", "projectID": "abc"},
		},
	} {
		t.Run(name, func(t *testing.T) {
			l := lint.All(chartPath, vals, namespace, false)
			for _, m := range l.Messages {
				if m.Severity >= support.WarningSev {
					t.Errorf("helm lint: %s", m)
				} else {
					t.Logf("helm lint: %s", m)
				}
			}
		})
	}
}

// The template command prints a stream that parses, CRDs first.
func TestTemplateCommand(t *testing.T) {
	var out, errOut bytes.Buffer
	if err := run([]string{"template", "-root", root, "--set", "serviceMonitor.enabled=true", "--name", "x"}, &out, &errOut); err != nil {
		t.Fatalf("%v: %s", err, errOut.String())
	}
	docs, err := splitDocs(out.Bytes(), "template output")
	if err != nil {
		t.Fatal(err)
	}
	if len(docs) < 10 || docs[0]["kind"] != "CustomResourceDefinition" {
		t.Errorf("want CRDs first and the rest after, got %d documents starting with %v", len(docs), docs[0]["kind"])
	}
	if !strings.Contains(out.String(), "kind: ServiceMonitor") {
		t.Error("--set serviceMonitor.enabled=true rendered no ServiceMonitor")
	}
}
