package main

import (
	"fmt"
	"os"
	"path"
	"sort"
	"strings"

	"helm.sh/helm/v3/pkg/chart"
	"helm.sh/helm/v3/pkg/chart/loader"
	"helm.sh/helm/v3/pkg/chartutil"
	"helm.sh/helm/v3/pkg/engine"
	"helm.sh/helm/v3/pkg/strvals"
	"sigs.k8s.io/yaml"
)

// rendered is a chart rendered the way `helm install` would: the CRDs from
// crds/ and the templates, keyed by file name.
type rendered struct {
	chart     *chart.Chart
	crds      []chart.CRD
	templates map[string]string // templates/x.yaml -> rendered text (partials and NOTES excluded)
	notes     string
}

// renderChart loads the chart from dir and renders it with Helm's loader,
// chartutil.ToRenderValues (which also validates values.schema.json) and
// engine, in strict mode so a template that reads a value missing from
// values.yaml fails.
func renderChart(dir string, vals map[string]any, name, namespace string) (*rendered, error) {
	ch, err := loader.Load(dir)
	if err != nil {
		return nil, fmt.Errorf("load %s: %w", dir, err)
	}
	if err := ch.Validate(); err != nil {
		return nil, fmt.Errorf("chart %s: %w", dir, err)
	}
	// The Prometheus Operator's kinds are there, as in a cluster that has its CRDs.
	caps := chartutil.DefaultCapabilities.Copy()
	caps.APIVersions = append(caps.APIVersions, "monitoring.coreos.com/v1",
		"monitoring.coreos.com/v1/ServiceMonitor", "monitoring.coreos.com/v1/PrometheusRule")
	rv, err := chartutil.ToRenderValues(ch, vals, chartutil.ReleaseOptions{
		Name: name, Namespace: namespace, Revision: 1, IsInstall: true,
	}, caps)
	if err != nil {
		return nil, err
	}
	out, err := engine.Engine{Strict: true}.Render(ch, rv)
	if err != nil {
		return nil, err
	}
	r := &rendered{chart: ch, crds: ch.CRDObjects(), templates: map[string]string{}}
	for k, v := range out {
		base := path.Base(k)
		switch {
		case base == "NOTES.txt":
			r.notes = v
		case strings.HasPrefix(base, "_"):
		default:
			r.templates[strings.TrimPrefix(k, ch.Name()+"/")] = v
		}
	}
	return r, nil
}

// Stream is the rendered chart as one multi-document YAML stream, CRDs first,
// as `helm template --include-crds` prints it.
func (r *rendered) Stream() string {
	var b strings.Builder
	for _, c := range r.crds {
		fmt.Fprintf(&b, "---\n# Source: %s\n%s\n", c.Filename, strings.TrimPrefix(strings.TrimSpace(string(c.File.Data)), "---\n"))
	}
	names := make([]string, 0, len(r.templates))
	for k := range r.templates {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, k := range names {
		if s := strings.TrimSpace(r.templates[k]); s != "" {
			fmt.Fprintf(&b, "---\n# Source: %s\n%s\n", k, s)
		}
	}
	return b.String()
}

// readValues merges value files and --set strings the way helm does.
func readValues(files, sets []string) (map[string]any, error) {
	base := map[string]any{}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			return nil, err
		}
		var m map[string]any
		if err := yaml.Unmarshal(b, &m); err != nil {
			return nil, fmt.Errorf("%s: %w", f, err)
		}
		base = chartutil.MergeTables(m, base)
	}
	for _, s := range sets {
		if err := strvals.ParseInto(s, base); err != nil {
			return nil, fmt.Errorf("--set %s: %w", s, err)
		}
	}
	return base, nil
}
