package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
)

// grafanaDashboard.enabled renders the ConfigMap of config/grafana: the
// same dashboard, under the same key, with the sidecar's label.
func TestGrafanaDashboard(t *testing.T) {
	_, objs := renderObjects(t, nil, release, namespace)
	if _, ok := objs["ConfigMap/sdrs-operator-fleet-dashboard"]; ok {
		t.Error("the defaults render the Grafana dashboard ConfigMap; it is opt-in")
	}

	_, objs = renderObjects(t, map[string]any{"grafanaDashboard": map[string]any{
		"enabled": true, "namespace": "monitoring",
		"annotations": map[string]any{"grafana_folder": "DR"},
	}}, release, namespace)
	var got corev1.ConfigMap
	get(t, objs, "ConfigMap", "sdrs-operator-fleet-dashboard", &got)
	var want corev1.ConfigMap
	configObject(t, "config/grafana/dashboard-configmap.yaml", "ConfigMap", &want)

	const key = "sdrs-fleet-dashboard.json"
	file, err := os.ReadFile(filepath.Join(root, dashboardSrc))
	if err != nil {
		t.Fatal(err)
	}
	if got.Data[key] == "" || got.Data[key] != want.Data[key] || got.Data[key] != strings.TrimSpace(string(file)) {
		t.Errorf("the chart's %s is not the dashboard of %s (len %d, config/grafana ConfigMap len %d)", key, dashboardSrc, len(got.Data[key]), len(want.Data[key]))
	}
	diff(t, "sidecar label", want.Labels["grafana_dashboard"], got.Labels["grafana_dashboard"])
	diff(t, "namespace", "monitoring", got.Namespace)
	diff(t, "annotations", map[string]string{"grafana_folder": "DR"}, got.Annotations)

	_, objs = renderObjects(t, map[string]any{"grafanaDashboard": map[string]any{"enabled": true}}, release, namespace)
	get(t, objs, "ConfigMap", "sdrs-operator-fleet-dashboard", &got)
	diff(t, "default namespace", namespace, got.Namespace)

	if _, err := renderChart(chartPath, map[string]any{"grafanaDashboard": map[string]any{"enabled": true, "folder": "DR"}}, release, namespace); err == nil {
		t.Error("values.schema.json accepts an unknown grafanaDashboard key")
	}
}
