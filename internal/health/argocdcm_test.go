package health_test

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/yaml"

	drv1alpha1 "github.com/sdrs-operator/sdrs-operator/api/v1alpha1"
)

var update = flag.Bool("update", false, "rewrite config/argocd/argocd-cm.yaml from config/argocd/health.lua, health-drill.lua and health-drplan.lua")

var argocdCM = filepath.Join("..", "..", "config", "argocd", "argocd-cm.yaml")

// healthKey is the argocd-cm key Argo CD reads a per-kind health check from:
// resource.customizations.health.<group>_<Kind>.
func healthKey(kind string) string {
	return "resource.customizations.health." + drv1alpha1.GroupVersion.Group + "_" + kind
}

// healthScripts are the health checks argocd-cm.yaml inlines, in its order.
var healthScripts = []struct{ kind, path string }{
	{"ProtectionGroup", healthLua},
	{"ProtectionGroupDrill", drillHealthLua},
	{"DRPlan", planHealthLua},
}

// cmHeader precedes the ConfigMap in argocd-cm.yaml.
const cmHeader = `# Installs the ProtectionGroup, ProtectionGroupDrill and DRPlan health checks
# in Argo CD: a patch for the argocd-cm ConfigMap of the Argo CD installation
# (namespace argocd by default).
#
#   kubectl -n argocd patch configmap argocd-cm --type merge --patch-file config/argocd/argocd-cm.yaml
#
# or list this file under patches in the kustomization that installs Argo CD.
# The scripts are config/argocd/health.lua, health-drill.lua and
# health-drplan.lua, inlined. Do not edit them here: edit the .lua files and
# run
#   go test ./internal/health -run TestArgoCDConfigMapInlinesHealthLua -update
# (the test fails while they differ). docs/gitops.md explains each status of
# a ProtectionGroup and of a DRPlan, docs/drills.md those of a drill.
`

func TestArgoCDConfigMapInlinesHealthLua(t *testing.T) {
	scripts := map[string]string{}
	for _, h := range healthScripts {
		scripts[h.kind] = readScript(t, h.path)
	}
	if *update {
		var b strings.Builder
		b.WriteString(cmHeader)
		b.WriteString("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: argocd-cm\n  namespace: argocd\n")
		b.WriteString("  labels:\n    app.kubernetes.io/name: argocd-cm\n    app.kubernetes.io/part-of: argocd\n")
		b.WriteString("data:\n")
		for _, h := range healthScripts {
			b.WriteString("  " + healthKey(h.kind) + ": |\n")
			for _, line := range strings.SplitAfter(scripts[h.kind], "\n") {
				if strings.TrimSpace(line) == "" {
					b.WriteString(strings.TrimLeft(line, " \t"))
					continue
				}
				b.WriteString("    " + line)
			}
		}
		if err := os.WriteFile(argocdCM, []byte(b.String()), 0o644); err != nil {
			t.Fatal(err)
		}
	}

	raw, err := os.ReadFile(argocdCM)
	if err != nil {
		t.Fatalf("cannot read the argocd-cm patch: %v", err)
	}
	cm := &corev1.ConfigMap{}
	if err := yaml.UnmarshalStrict(raw, cm); err != nil {
		t.Fatalf("argocd-cm.yaml is not a ConfigMap: %v", err)
	}
	if cm.Kind != "ConfigMap" || cm.APIVersion != "v1" || cm.Name != "argocd-cm" {
		t.Errorf("want the v1 ConfigMap argocd-cm, got %s %s %s", cm.APIVersion, cm.Kind, cm.Name)
	}
	if len(cm.Data) != len(healthScripts) {
		t.Errorf("the patch must set only the health check keys, got keys %v", keys(cm.Data))
	}
	for _, h := range healthScripts {
		inlined, ok := cm.Data[healthKey(h.kind)]
		if !ok {
			t.Errorf("argocd-cm.yaml has no key %s (keys: %v)", healthKey(h.kind), keys(cm.Data))
			continue
		}
		if inlined != scripts[h.kind] {
			t.Errorf("the script inlined in %s under %s differs from %s; run\n  go test ./internal/health -run TestArgoCDConfigMapInlinesHealthLua -update\n%s",
				argocdCM, healthKey(h.kind), h.path, firstDifference(scripts[h.kind], inlined))
		}
	}
}

func keys(m map[string]string) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	return out
}

func firstDifference(want, got string) string {
	w, g := strings.Split(want, "\n"), strings.Split(got, "\n")
	for i := 0; i < len(w) || i < len(g); i++ {
		var wl, gl string
		if i < len(w) {
			wl = w[i]
		}
		if i < len(g) {
			gl = g[i]
		}
		if wl != gl {
			return fmt.Sprintf("first difference at line %d:\n-%s\n+%s", i+1, wl, gl)
		}
	}
	return ""
}
