package main

import (
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"
)

// root is the repository root, seen from hack/dashboard.
const root = "../.."

const metricsDir = "internal/metrics"

// metric is one collector internal/metrics registers.
type metric struct {
	name      string // with the sdrs_operator_ prefix
	histogram bool
	labels    map[string]bool
}

// exportedMetrics reads the collectors internal/metrics declares from its
// Go syntax, without importing the operator's module: the counterVec and
// gaugeVec helpers (name, help, labels...), prometheus.New*Vec calls
// with an Opts literal (Name: "...") and a []string{...} of labels, and
// the family literals (Name: "...", Labels: []string{...}) its collector
// builds series from at scrape time.
func exportedMetrics(t *testing.T) map[string]metric {
	t.Helper()
	out := map[string]metric{}
	fset := token.NewFileSet()
	for _, file := range metricsSources(t) {
		f, err := parser.ParseFile(fset, file, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		ast.Inspect(f, func(n ast.Node) bool {
			// The helpers' own bodies build collectors from parameters.
			if fd, ok := n.(*ast.FuncDecl); ok && (fd.Name.Name == "counterVec" || fd.Name.Name == "gaugeVec") {
				return false
			}
			if lit, ok := n.(*ast.CompositeLit); ok {
				if m, ok := familyMetric(t, fset, lit); ok {
					out[m.name] = m
				}
				return true
			}
			call, ok := n.(*ast.CallExpr)
			if !ok {
				return true
			}
			var name string
			var labels []ast.Expr
			histogram := false
			switch fn := call.Fun.(type) {
			case *ast.Ident: // counterVec("name", "help", "label", ...)
				if fn.Name != "counterVec" && fn.Name != "gaugeVec" {
					return true
				}
				if len(call.Args) < 2 {
					t.Errorf("%s: %s with %d arguments", fset.Position(call.Pos()), fn.Name, len(call.Args))
					return true
				}
				name = stringLit(t, fset, call.Args[0])
				labels = call.Args[2:]
			case *ast.SelectorExpr: // prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "..."}, []string{...})
				pkg, ok := fn.X.(*ast.Ident)
				if !ok || pkg.Name != "prometheus" || !strings.HasPrefix(fn.Sel.Name, "New") || !strings.HasSuffix(fn.Sel.Name, "Vec") {
					return true
				}
				if len(call.Args) != 2 {
					t.Errorf("%s: %s with %d arguments", fset.Position(call.Pos()), fn.Sel.Name, len(call.Args))
					return true
				}
				opts, ok := call.Args[0].(*ast.CompositeLit)
				if !ok {
					t.Errorf("%s: %s without an Opts literal", fset.Position(call.Pos()), fn.Sel.Name)
					return true
				}
				for _, e := range opts.Elts {
					if kv, ok := e.(*ast.KeyValueExpr); ok {
						if k, ok := kv.Key.(*ast.Ident); ok && k.Name == "Name" {
							name = stringLit(t, fset, kv.Value)
						}
					}
				}
				if ls, ok := call.Args[1].(*ast.CompositeLit); ok {
					labels = ls.Elts
				} else {
					t.Errorf("%s: %s labels are not a []string literal", fset.Position(call.Pos()), fn.Sel.Name)
				}
				histogram = fn.Sel.Name == "NewHistogramVec"
			default:
				return true
			}
			if name == "" {
				return true
			}
			m := metric{name: "sdrs_operator_" + name, histogram: histogram, labels: map[string]bool{}}
			for _, l := range labels {
				m.labels[stringLit(t, fset, l)] = true
			}
			out[m.name] = m
			return true
		})
	}
	if len(out) == 0 {
		t.Fatalf("found no metrics in %s", metricsDir)
	}
	return out
}

// familyMetric reads a family{Name: "...", Labels: []string{...}} literal
// (every family is a gauge).
func familyMetric(t *testing.T, fset *token.FileSet, lit *ast.CompositeLit) (metric, bool) {
	t.Helper()
	if id, ok := lit.Type.(*ast.Ident); !ok || id.Name != "family" {
		return metric{}, false
	}
	m := metric{labels: map[string]bool{}}
	for _, e := range lit.Elts {
		kv, ok := e.(*ast.KeyValueExpr)
		if !ok {
			continue
		}
		switch k, _ := kv.Key.(*ast.Ident); {
		case k == nil:
		case k.Name == "Name":
			m.name = "sdrs_operator_" + stringLit(t, fset, kv.Value)
		case k.Name == "Labels":
			ls, ok := kv.Value.(*ast.CompositeLit)
			if !ok {
				t.Errorf("%s: family labels are not a []string literal", fset.Position(kv.Pos()))
				continue
			}
			for _, l := range ls.Elts {
				m.labels[stringLit(t, fset, l)] = true
			}
		}
	}
	if m.name == "" {
		t.Errorf("%s: a family without a Name", fset.Position(lit.Pos()))
		return metric{}, false
	}
	return m, true
}

func metricsSources(t *testing.T) []string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(root, metricsDir, "*.go"))
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, f := range files {
		if !strings.HasSuffix(f, "_test.go") {
			out = append(out, f)
		}
	}
	sort.Strings(out)
	return out
}

func stringLit(t *testing.T, fset *token.FileSet, e ast.Expr) string {
	t.Helper()
	lit, ok := e.(*ast.BasicLit)
	if !ok || lit.Kind != token.STRING {
		t.Errorf("%s: a metric name or label that is not a string literal", fset.Position(e.Pos()))
		return ""
	}
	s, err := strconv.Unquote(lit.Value)
	if err != nil {
		t.Errorf("%s: %v", fset.Position(e.Pos()), err)
	}
	return s
}

// The Go-syntax reading finds the same names as the regular expression that
// hack/chart's TestDocsNameExportedMetrics and config/'s packaging test use,
// so a collector built some new way cannot slip past both.
func TestExportedMetricsMatchTheOtherChecks(t *testing.T) {
	fromAST := exportedMetrics(t)
	nameRE := regexp.MustCompile(`(?:Name:\s*|(?:counterVec|gaugeVec)\()"([a-z_]+)"`)
	fromRE := map[string]bool{}
	for _, f := range metricsSources(t) {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range nameRE.FindAllStringSubmatch(string(b), -1) {
			fromRE["sdrs_operator_"+m[1]] = true
		}
	}
	var a, r []string
	for n := range fromAST {
		a = append(a, n)
	}
	for n := range fromRE {
		r = append(r, n)
	}
	sort.Strings(a)
	sort.Strings(r)
	if fmt.Sprint(a) != fmt.Sprint(r) {
		t.Errorf("internal/metrics: the Go syntax gives\n%v\nthe regular expression gives\n%v", a, r)
	}
	for _, m := range fromAST {
		if len(m.labels) == 0 {
			t.Errorf("%s: found no labels", m.name)
		}
	}
}
