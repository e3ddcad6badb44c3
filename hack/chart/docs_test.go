package main

import (
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
)

// The docs this module keeps honest: what they name must exist in the code.
var checkedDocs = []string{"README.md", "docs/deploy.md", "docs/runbooks.md"}

func readRepo(t *testing.T, rel string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(root, rel))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// goSources returns the non-test Go files under the given directories.
func goSources(t *testing.T, dirs ...string) map[string]string {
	t.Helper()
	out := map[string]string{}
	for _, d := range dirs {
		err := filepath.WalkDir(filepath.Join(root, d), func(p string, e os.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if e.IsDir() || !strings.HasSuffix(p, ".go") || strings.HasSuffix(p, "_test.go") {
				return nil
			}
			b, err := os.ReadFile(p)
			out[p] = string(b)
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	return out
}

// Every metric the docs name is exported by internal/metrics, and the README
// lists every exported metric.
func TestDocsNameExportedMetrics(t *testing.T) {
	exported := map[string]bool{}
	nameRE := regexp.MustCompile(`(?:Name:\s*|(?:counterVec|gaugeVec)\()"([a-z_]+)"`)
	for _, src := range goSources(t, "internal/metrics") {
		for _, m := range nameRE.FindAllStringSubmatch(src, -1) {
			exported["sdrs_operator_"+m[1]] = true
		}
	}
	if len(exported) == 0 {
		t.Fatal("found no metrics in internal/metrics")
	}
	metricRE := regexp.MustCompile(`\bsdrs_operator_[a-z_]+`)
	for _, doc := range checkedDocs {
		for _, m := range metricRE.FindAllString(readRepo(t, doc), -1) {
			if !exported[m] {
				t.Errorf("%s names %s, which internal/metrics does not export", doc, m)
			}
		}
	}
	readme := readRepo(t, "README.md")
	for m := range exported {
		if !strings.Contains(readme, "`"+m+"`") {
			t.Errorf("README.md's metrics table does not list %s", m)
		}
	}
}

// The alert expressions the README shows are those of the PrometheusRule.
func TestReadmeAlertsAreConfigs(t *testing.T) {
	rules := readRepo(t, "config/prometheus/prometheusrule.yaml")
	exprRE := regexp.MustCompile(`(?m)^\s*expr:\s*(.+)$`)
	alertRE := regexp.MustCompile(`(?m)^\s*- alert:\s*(\w+)`)
	readme := readRepo(t, "README.md")
	exprs := exprRE.FindAllStringSubmatch(readme, -1)
	if len(exprs) == 0 {
		t.Fatal("README.md shows no alert expressions")
	}
	for _, m := range exprs {
		if !strings.Contains(rules, "expr: "+strings.TrimSpace(m[1])) {
			t.Errorf("README.md shows the alert expression %q, which config/prometheus/prometheusrule.yaml does not have", m[1])
		}
	}
	for _, m := range alertRE.FindAllStringSubmatch(readme, -1) {
		if !strings.Contains(rules, "alert: "+m[1]) {
			t.Errorf("README.md shows the alert %s, which config/prometheus/prometheusrule.yaml does not have", m[1])
		}
	}
}

// Every manager flag the docs name is one main.go (or controller-runtime's
// zap options) defines.
func TestDocsNameManagerFlags(t *testing.T) {
	main := readRepo(t, "main.go")
	defined := map[string]bool{
		// zap.Options.BindFlags
		"zap-devel": true, "zap-encoder": true, "zap-log-level": true, "zap-stacktrace-level": true, "zap-time-encoding": true,
	}
	for _, m := range regexp.MustCompile(`flag\.\w+Var\(&\w+, "([a-z-]+)"`).FindAllStringSubmatch(main, -1) {
		defined[m[1]] = true
	}
	if len(defined) < 10 {
		t.Fatalf("found only %d flags in main.go", len(defined))
	}
	doc := readRepo(t, "docs/deploy.md")
	i := strings.Index(doc, "## Manager flags")
	if i < 0 {
		t.Fatal("docs/deploy.md has no Manager flags section")
	}
	for _, m := range regexp.MustCompile("`--([a-z-]+)").FindAllStringSubmatch(doc[i:], -1) {
		if !defined[m[1]] {
			t.Errorf("docs/deploy.md names the manager flag --%s, which main.go does not define", m[1])
		}
	}
	for f := range defined {
		if !strings.HasPrefix(f, "zap-") && !strings.Contains(doc, "--"+f) {
			t.Errorf("docs/deploy.md does not describe the manager flag --%s", f)
		}
	}
}

// Every CamelCase name the docs put in backquotes (condition reasons and
// types, operation types and steps, SDK operations, enum values) is a
// string the code uses, so a renamed reason cannot linger in the docs.
func TestDocsNameRealReasons(t *testing.T) {
	known := map[string]bool{}
	litRE := regexp.MustCompile(`"([A-Z][A-Za-z0-9]+)"`)
	for _, src := range goSources(t, "api", "controllers", "internal/sdrs", "internal/metrics", "internal/emulator") {
		for _, m := range litRE.FindAllStringSubmatch(src, -1) {
			known[m[1]] = true
		}
	}
	// Kubernetes and Prometheus names the docs use.
	for _, k := range []string{
		"ProtectionGroup", "ProtectionGroupDrill", "ProviderConfig", "ServiceMonitor", "PrometheusRule", "PodDisruptionBudget",
		"ServiceAccount", "ClusterRole", "ClusterRoleBinding", "RoleBinding", "RuntimeDefault",
		"IfNotPresent", "OutOfSync", "CustomResourceDefinition", "ConfigMap",
		"SDRSOperationFailed", "SDRSProtectionGroupStalled", "SDRSReplicationNotActive", "SDRSJobRunningTooLong",
	} {
		known[k] = true
	}
	tokRE := regexp.MustCompile("`([A-Z][a-z0-9]+(?:[A-Z][A-Za-z0-9]*)+)`")
	var unknown []string
	for _, doc := range checkedDocs {
		for _, m := range tokRE.FindAllStringSubmatch(readRepo(t, doc), -1) {
			if !known[m[1]] {
				unknown = append(unknown, doc+": "+m[1])
			}
		}
	}
	sort.Strings(unknown)
	for _, u := range unknown {
		t.Errorf("%s is not a string the code uses (a renamed reason, step or operation?)", u)
	}
}
