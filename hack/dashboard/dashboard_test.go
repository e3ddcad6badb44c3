package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"

	promql "github.com/prometheus/prometheus/promql/parser"
)

// The committed files are what the generator writes.
func TestCommittedFilesAreFresh(t *testing.T) {
	var out, errOut bytes.Buffer
	if err := run([]string{"verify", "-root", root}, &out, &errOut); err != nil {
		t.Fatalf("%v\n%s", err, errOut.String())
	}
}

// loadedPanel is a panel of the committed JSON with the row it sits in.
type loadedPanel struct {
	row         string
	id          float64
	typ         string
	title       string
	description string
	targets     []target
}

type target struct {
	expr, legend string
}

type jsonPanel struct {
	ID          float64     `json:"id"`
	Type        string      `json:"type"`
	Title       string      `json:"title"`
	Description string      `json:"description"`
	Collapsed   bool        `json:"collapsed"`
	Panels      []jsonPanel `json:"panels"`
	Targets     []struct {
		Expr         string `json:"expr"`
		LegendFormat string `json:"legendFormat"`
	} `json:"targets"`
}

type jsonDashboard struct {
	UID        string      `json:"uid"`
	Panels     []jsonPanel `json:"panels"`
	Templating struct {
		List []struct {
			Name       string          `json:"name"`
			Type       string          `json:"type"`
			Query      json.RawMessage `json:"query"`
			Definition string          `json:"definition"`
		} `json:"list"`
	} `json:"templating"`
}

// loadDashboard reads the committed JSON, as Grafana would get it, and
// walks every panel, the ones nested in collapsed rows too.
func loadDashboard(t *testing.T) (jsonDashboard, []loadedPanel) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(root, outDir, jsonFile))
	if err != nil {
		t.Fatal(err)
	}
	var d jsonDashboard
	if err := json.Unmarshal(b, &d); err != nil {
		t.Fatal(err)
	}
	var out []loadedPanel
	row := ""
	var walk func(ps []jsonPanel)
	walk = func(ps []jsonPanel) {
		for _, p := range ps {
			if p.Type == "row" {
				row = p.Title
				if !p.Collapsed && len(p.Panels) > 0 {
					t.Errorf("row %s is expanded but holds panels: Grafana shows those only in collapsed rows", p.Title)
				}
				walk(p.Panels)
				continue
			}
			lp := loadedPanel{row: row, id: p.ID, typ: p.Type, title: p.Title, description: p.Description}
			for _, tg := range p.Targets {
				lp.targets = append(lp.targets, target{expr: tg.Expr, legend: tg.LegendFormat})
			}
			out = append(out, lp)
			walk(p.Panels)
		}
	}
	walk(d.Panels)
	if len(out) == 0 {
		t.Fatal("the dashboard has no panels")
	}
	return d, out
}

// Every panel's PromQL parses, and every metric and label it names is one
// the manager exports.
func TestPanelQueriesNameExportedMetrics(t *testing.T) {
	exported := exportedMetrics(t)
	c := &exprChecker{exported: exported, used: map[string]bool{}}
	_, panels := loadDashboard(t)
	queries := 0
	for _, p := range panels {
		if len(p.targets) == 0 {
			t.Errorf("panel %q has no query", p.title)
		}
		for _, tg := range p.targets {
			queries++
			for _, problem := range c.check(tg.expr) {
				t.Errorf("panel %q: %s\n\t%s", p.title, problem, tg.expr)
			}
			for _, problem := range c.checkLegend(tg.expr, tg.legend) {
				t.Errorf("panel %q: %s", p.title, problem)
			}
		}
	}
	t.Logf("checked %d queries of %d panels", queries, len(panels))
	var unused []string
	for n := range exported {
		if !c.used[n] {
			unused = append(unused, n)
		}
	}
	sort.Strings(unused)
	for _, n := range unused {
		t.Logf("no panel shows %s", n)
	}
}

// The namespace variable's query names exported metrics and a label they
// carry.
func TestVariables(t *testing.T) {
	c := &exprChecker{exported: exportedMetrics(t), used: map[string]bool{}}
	d, _ := loadDashboard(t)
	found := map[string]string{}
	labelValuesRE := regexp.MustCompile(`^label_values\((.+),\s*(\w+)\)$`)
	for _, v := range d.Templating.List {
		found[v.Name] = v.Type
		if v.Type != "query" {
			continue
		}
		m := labelValuesRE.FindStringSubmatch(v.Definition)
		if m == nil {
			t.Errorf("variable %s: %q is not label_values(selector, label)", v.Name, v.Definition)
			continue
		}
		var q string
		if err := json.Unmarshal(v.Query, &q); err != nil || q != v.Definition {
			t.Errorf("variable %s: query %s differs from its definition %q", v.Name, v.Query, v.Definition)
		}
		matchers, err := promql.NewParser(promql.Options{}).ParseMetricSelector(m[1])
		if err != nil {
			t.Errorf("variable %s: %v", v.Name, err)
			continue
		}
		for _, p := range c.checkSelector("", matchers, false) {
			t.Errorf("variable %s: %s", v.Name, p)
		}
		for n := range c.used {
			if !c.exported[n].labels[m[2]] {
				t.Errorf("variable %s: %s has no label %s", v.Name, n, m[2])
			}
		}
	}
	if found["datasource"] != "datasource" || found["namespace"] != "query" {
		t.Errorf("want a datasource variable and a namespace query variable, got %v", found)
	}
}

// Every panel says which question it answers, and its ID is unique.
func TestPanelsHaveDescriptions(t *testing.T) {
	_, panels := loadDashboard(t)
	ids := map[float64]string{}
	for _, p := range panels {
		first, _, _ := strings.Cut(p.description, "?")
		if p.description == "" || len(first) == len(p.description) {
			t.Errorf("panel %q: its description must start with the question it answers, got %q", p.title, p.description)
		}
		if prev, ok := ids[p.id]; ok || p.id == 0 {
			t.Errorf("panel %q: ID %v is also %q's", p.title, p.id, prev)
		}
		ids[p.id] = p.title
	}
}

// topics are what the dashboard must cover (issue 17), each as a row and a
// selector one of its panels must use.
var topics = []struct {
	row  string
	want []string // substrings of one of the row's expressions
}{
	{"Fleet", []string{`sum by (active_site) (sdrs_operator_protectiongroups{`}},
	{"Fleet", []string{`sdrs_operator_protectiongroups_condition{`, `type="Ready"`}},
	{"Fleet", []string{`sdrs_operator_protectiongroups_condition{`, `type="Stalled"`}},
	{"Operations", []string{`sdrs_operator_operations_in_flight`}},
	{"Operations", []string{`sdrs_operator_operation_oldest_age_seconds`}},
	{"Operations", []string{`sdrs_operator_operation_duration_seconds_bucket`}},
	{"Failures by reason", []string{`sdrs_operator_operation_failures_total`, `reason`}},
	{"Failures by reason", []string{`sdrs_operator_cloud_api_errors_total`, `by (code)`}},
	{"Cloud API", []string{`sdrs_operator_cloud_api_calls_total`}},
	{"Cloud API", []string{`sdrs_operator_cloud_api_call_duration_seconds_bucket`}},
	{"Replication and RPO", []string{`sdrs_operator_protectiongroups_replication_inactive`}},
	{"Replication and RPO", []string{`sdrs_operator_protectiongroups_fault_level`}},
	{"Replication and RPO", []string{`sdrs_operator_rpo_exceeded_pairs`}},
	{"Replication and RPO", []string{`type="FailoverReady"`}},
	{"Drills", []string{`type="DrillUpToDate",status="False"`}},
	{"Drills", []string{`sdrs_operator_protectiongroups_drill_due`}},
	{"Drills", []string{`sdrs_operator_drill_expires_in_seconds`}},
	{"Drills", []string{`sdrs_operator_drill_phase`}},
	{"Drills", []string{`sdrs_operator_drill_cleanup_overdue`}},
	{"Plans", []string{`sdrs_operator_drplan_members`}},
	{"Plans", []string{`sdrs_operator_drplan_waiting_for_approval`}},
	{"Plans", []string{`sdrs_operator_drplan_run_elapsed_seconds`, `sdrs_operator_drplan_rto_seconds`}},
	{"Plans", []string{`sdrs_operator_drplan_last_run_duration_seconds`}},
	{"Plans", []string{`sdrs_operator_drplan_run_duration_seconds_`}},
}

func TestDashboardCoversTheTopics(t *testing.T) {
	_, panels := loadDashboard(t)
	for _, tp := range topics {
		ok := false
		for _, p := range panels {
			if p.row != tp.row {
				continue
			}
			for _, tg := range p.targets {
				all := true
				for _, w := range tp.want {
					all = all && strings.Contains(tg.expr, w)
				}
				ok = ok || all
			}
		}
		if !ok {
			t.Errorf("row %q has no panel with %q", tp.row, tp.want)
		}
	}
}

// docs/dashboard.md describes every panel: a heading with its title, its
// PromQL verbatim, and only alerts the PrometheusRule has.
func TestDocsDescribeEveryPanel(t *testing.T) {
	b, err := os.ReadFile(filepath.Join(root, "docs/dashboard.md"))
	if err != nil {
		t.Fatal(err)
	}
	doc := string(b)
	_, panels := loadDashboard(t)
	for _, p := range panels {
		if !strings.Contains(doc, "### "+p.title+"\n") {
			t.Errorf("docs/dashboard.md has no heading \"### %s\"", p.title)
		}
		for _, tg := range p.targets {
			if !strings.Contains(doc, tg.expr) {
				t.Errorf("docs/dashboard.md does not show the query of %q:\n\t%s", p.title, tg.expr)
			}
		}
	}
	rules, err := os.ReadFile(filepath.Join(root, "config/prometheus/prometheusrule.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range regexp.MustCompile(`\bSDRS[A-Z][A-Za-z]+`).FindAllString(doc+descriptions(panels), -1) {
		if !strings.Contains(string(rules), "alert: "+m+"\n") {
			t.Errorf("docs/dashboard.md or a panel names the alert %s, which config/prometheus/prometheusrule.yaml does not have", m)
		}
	}
	metricRE := regexp.MustCompile(`\bsdrs_operator_[a-z_]+`)
	exported := exportedMetrics(t)
	c := &exprChecker{exported: exported, used: map[string]bool{}}
	for _, m := range metricRE.FindAllString(doc, -1) {
		if _, _, ok := c.resolve(m); !ok {
			t.Errorf("docs/dashboard.md names %s, which internal/metrics does not export", m)
		}
	}
}

func descriptions(ps []loadedPanel) string {
	var b strings.Builder
	for _, p := range ps {
		b.WriteString(p.description + "\n")
	}
	return b.String()
}

// The checker itself catches what it is for: each of these must fail.
func TestCheckerRejectsBadQueries(t *testing.T) {
	c := &exprChecker{exported: exportedMetrics(t), used: map[string]bool{}}
	for _, bad := range []string{
		`sum by (site) (sdrs_operator_active_sites{namespace=~"$namespace"})`,                                // a misspelt metric
		`sdrs_operator_operations_in_flights`,                                                                // another
		`rate(sdrs_operator_operations_totals[$__rate_interval])`,                                            // inside a range
		`sdrs_operator_operation_duration_seconds`,                                                           // a histogram's bare name
		`sdrs_operator_active_site_bucket{namespace=~"$namespace"}`,                                          // _bucket of a gauge
		`sdrs_operator_active_site{namespace=~"$namespace",zone="a"}`,                                        // a label it does not carry
		`sum by (zone) (sdrs_operator_active_site{namespace=~"$namespace"})`,                                 // grouping by one
		`sdrs_operator_operations_in_flight{namespace=~"$namespace"}`,                                        // the operator's namespace
		`sdrs_operator_active_site`,                                                                          // ignores the namespace variable
		`sum(rate(sdrs_operator_cloud_api_calls_total[$__rate_interval]`,                                     // does not parse
		`{__name__=~"sdrs_operator_(active_site|drill_phases)",namespace=~"$namespace"}`,                     // one alternative wrong
		`{__name__=~"sdrs_operator_.*"}`,                                                                     // not a list
		`vector(1)`,                                                                                          // no metric at all
		`histogram_quantile(0.9, sum by (le) (rate(sdrs_operator_cloud_api_calls_total[$__rate_interval])))`, // le of a counter
	} {
		if len(c.check(bad)) == 0 {
			t.Errorf("the checker accepts %s", bad)
		}
	}
	if p := c.checkLegend(`sum by (site) (sdrs_operator_active_site{namespace=~"$namespace"})`, "{{sites}}"); len(p) == 0 {
		t.Error("the checker accepts a legend naming a label the result does not carry")
	}
	for _, good := range []string{
		`sum by (site) (sdrs_operator_active_site{namespace=~"$namespace"})`,
		`histogram_quantile(0.95, sum by (le, type) (rate(sdrs_operator_operation_duration_seconds_bucket[$__rate_interval])))`,
		`sum(increase(sdrs_operator_drplan_run_duration_seconds_count{namespace=~"${namespace}"}[$__range]))`,
		`{__name__=~"sdrs_operator_(active_site|drill_phase)",namespace=~"$namespace"}`,
	} {
		if p := c.check(good); len(p) > 0 {
			t.Errorf("the checker rejects %s: %v", good, p)
		}
	}
}
