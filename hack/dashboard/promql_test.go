package main

import (
	"fmt"
	"regexp"
	"regexp/syntax"
	"sort"
	"strings"

	"github.com/prometheus/prometheus/model/labels"
	promql "github.com/prometheus/prometheus/promql/parser"
)

// targetLabels are the labels Prometheus (and a Prometheus Operator
// ServiceMonitor) attaches to every scraped series. namespace is one of
// them too, but it names the operator's own namespace on the fleet-wide
// metrics, so a panel may use namespace only where the metric has its own.
var targetLabels = map[string]bool{"job": true, "instance": true, "pod": true, "service": true, "endpoint": true, "container": true}

// namespacePlaceholder stands for $namespace once the variables are
// replaced, so a matcher on it can be told from any other.
const namespacePlaceholder = "__var_namespace__"

// grafanaVarRE matches $name, ${name}, ${name:format} and [[name]].
var grafanaVarRE = regexp.MustCompile(`\$\{(\w+)(?::\w+)?\}|\$(\w+)|\[\[(\w+)\]\]`)

// substituteVariables replaces Grafana's variables with values PromQL
// parses: durations for the interval and range variables, a placeholder
// for namespace, and a plain name for anything else.
func substituteVariables(expr string) string {
	return grafanaVarRE.ReplaceAllStringFunc(expr, func(v string) string {
		m := grafanaVarRE.FindStringSubmatch(v)
		name := m[1] + m[2] + m[3]
		switch name {
		case "__rate_interval", "__interval", "__range", "__auto":
			return "5m"
		case "__interval_ms", "__range_ms":
			return "300000"
		case "__range_s":
			return "300"
		case "namespace":
			return namespacePlaceholder
		default:
			return "var_" + name
		}
	})
}

// exprChecker parses PromQL and checks every metric and label it names
// against the exported metrics.
type exprChecker struct {
	exported map[string]metric
	// used collects the exported metric names the expressions select.
	used map[string]bool
}

// resolve maps a series name to the metric that exports it: the metric
// itself, or a histogram's _bucket, _sum or _count series. The bare name of
// a histogram selects nothing (classic histograms have no such series).
func (c *exprChecker) resolve(name string) (metric, string, bool) {
	if m, ok := c.exported[name]; ok {
		if m.histogram {
			return metric{}, "", false
		}
		return m, "", true
	}
	for _, suffix := range []string{"_bucket", "_sum", "_count"} {
		if base, ok := strings.CutSuffix(name, suffix); ok {
			if m, ok := c.exported[base]; ok && m.histogram {
				return m, suffix, true
			}
		}
	}
	return metric{}, "", false
}

// seriesLabels are the labels a series of name carries once scraped.
func (c *exprChecker) seriesLabels(name string) map[string]bool {
	m, suffix, ok := c.resolve(name)
	if !ok {
		return nil
	}
	out := map[string]bool{}
	for l := range m.labels {
		out[l] = true
	}
	for l := range targetLabels {
		out[l] = true
	}
	if suffix == "_bucket" {
		out["le"] = true
	}
	return out
}

// check returns every problem with one expression.
func (c *exprChecker) check(expr string) []string {
	var problems []string
	e, err := promql.NewParser(promql.Options{}).ParseExpr(substituteVariables(expr))
	if err != nil {
		return []string{fmt.Sprintf("does not parse: %v", err)}
	}
	selectors := 0
	promql.Inspect(e, func(n promql.Node, _ []promql.Node) error {
		switch n := n.(type) {
		case *promql.VectorSelector:
			selectors++
			problems = append(problems, c.checkSelector(n.Name, n.LabelMatchers, true)...)
		case *promql.AggregateExpr:
			if n.Without {
				break
			}
			have := c.labelsOf(n.Expr)
			for _, l := range n.Grouping {
				if have != nil && !have[l] {
					problems = append(problems, fmt.Sprintf("groups by %q, which %s does not carry", l, n.Expr))
				}
			}
		}
		return nil
	})
	if selectors == 0 {
		problems = append(problems, "selects no metric")
	}
	return problems
}

// checkSelector checks one selector's metric names and label matchers;
// panels must filter per-object metrics by the namespace variable
// (perObject), the variable's own query cannot.
func (c *exprChecker) checkSelector(name string, matchers []*labels.Matcher, perObject bool) []string {
	var problems []string
	names := []string{}
	if name != "" {
		names = append(names, name)
	}
	for _, m := range matchers {
		if m.Name != labels.MetricName || name != "" {
			continue
		}
		switch m.Type {
		case labels.MatchEqual:
			names = append(names, m.Value)
		case labels.MatchRegexp:
			alts, ok := enumerate(m.Value)
			if !ok {
				problems = append(problems, fmt.Sprintf("__name__=~%q is not a finite list of names", m.Value))
			}
			names = append(names, alts...)
		default:
			problems = append(problems, fmt.Sprintf("selects metrics by a negative __name__ matcher %s", m))
		}
	}
	if len(names) == 0 {
		problems = append(problems, "a selector without a metric name")
	}
	for _, n := range names {
		m, _, ok := c.resolve(n)
		if !ok {
			problems = append(problems, fmt.Sprintf("names %s, which internal/metrics does not export", n))
			continue
		}
		c.used[m.name] = true
		have := c.seriesLabels(n)
		for _, lm := range matchers {
			switch {
			case lm.Name == labels.MetricName:
			case lm.Name == "namespace" && !m.labels["namespace"]:
				problems = append(problems, fmt.Sprintf("matches namespace on %s, whose namespace label is the operator's own (a target label), not the object's", n))
			case !have[lm.Name]:
				problems = append(problems, fmt.Sprintf("matches label %q, which %s does not carry", lm.Name, n))
			}
		}
		// Per-object metrics follow the namespace variable; fleet-wide ones
		// cannot.
		if perObject && m.labels["namespace"] && !hasNamespaceVar(matchers) {
			problems = append(problems, fmt.Sprintf("selects %s without namespace=~\"$namespace\"", n))
		}
	}
	return problems
}

func hasNamespaceVar(ms []*labels.Matcher) bool {
	for _, m := range ms {
		if m.Name == "namespace" && m.Type == labels.MatchRegexp && m.Value == namespacePlaceholder {
			return true
		}
	}
	return false
}

// labelsOf returns the labels an expression's result may carry, or nil
// when it cannot tell.
func (c *exprChecker) labelsOf(e promql.Expr) map[string]bool {
	switch e := e.(type) {
	case *promql.VectorSelector:
		if e.Name == "" {
			return nil
		}
		return c.seriesLabels(e.Name)
	case *promql.MatrixSelector:
		return c.labelsOf(e.VectorSelector)
	case *promql.ParenExpr:
		return c.labelsOf(e.Expr)
	case *promql.NumberLiteral, *promql.StringLiteral:
		return map[string]bool{}
	case *promql.AggregateExpr:
		if e.Without {
			return nil
		}
		out := map[string]bool{}
		for _, l := range e.Grouping {
			out[l] = true
		}
		return out
	case *promql.Call:
		if e.Func.Name == "vector" || e.Func.Name == "time" {
			return map[string]bool{}
		}
		out := map[string]bool{}
		for _, a := range e.Args {
			ls := c.labelsOf(a)
			if ls == nil {
				return nil
			}
			for l := range ls {
				out[l] = true
			}
		}
		if e.Func.Name == "histogram_quantile" {
			delete(out, "le")
		}
		return out
	case *promql.BinaryExpr:
		l, r := c.labelsOf(e.LHS), c.labelsOf(e.RHS)
		if l == nil || r == nil {
			return nil
		}
		out := map[string]bool{}
		for k := range l {
			out[k] = true
		}
		for k := range r {
			out[k] = true
		}
		return out
	}
	return nil
}

// legendLabels are the labels a legend format names ({{label}}).
var legendRE = regexp.MustCompile(`\{\{\s*(\w+)\s*\}\}`)

func (c *exprChecker) checkLegend(expr, legend string) []string {
	e, err := promql.NewParser(promql.Options{}).ParseExpr(substituteVariables(expr))
	if err != nil {
		return nil // check reports it
	}
	have := c.labelsOf(e)
	if have == nil {
		return nil
	}
	var problems []string
	for _, m := range legendRE.FindAllStringSubmatch(legend, -1) {
		if !have[m[1]] {
			problems = append(problems, fmt.Sprintf("legend %q names {{%s}}, which the result does not carry", legend, m[1]))
		}
	}
	return problems
}

// enumerate lists the strings a regular expression made only of literals,
// alternations, groups and small character classes matches; ok is false for
// anything else (a *, a + or a large class).
func enumerate(expr string) ([]string, bool) {
	re, err := syntax.Parse("^(?:"+expr+")$", syntax.Perl)
	if err != nil {
		return nil, false
	}
	out, ok := enum(re.Simplify())
	sort.Strings(out)
	return out, ok
}

func enum(re *syntax.Regexp) ([]string, bool) {
	switch re.Op {
	case syntax.OpBeginText, syntax.OpEndText, syntax.OpEmptyMatch:
		return []string{""}, true
	case syntax.OpLiteral:
		return []string{string(re.Rune)}, true
	case syntax.OpCapture:
		return enum(re.Sub[0])
	case syntax.OpCharClass:
		var out []string
		for i := 0; i+1 < len(re.Rune); i += 2 {
			for r := re.Rune[i]; r <= re.Rune[i+1]; r++ {
				out = append(out, string(r))
				if len(out) > 64 {
					return nil, false
				}
			}
		}
		return out, true
	case syntax.OpAlternate:
		var out []string
		for _, s := range re.Sub {
			ss, ok := enum(s)
			if !ok {
				return nil, false
			}
			out = append(out, ss...)
		}
		return out, true
	case syntax.OpConcat:
		out := []string{""}
		for _, s := range re.Sub {
			ss, ok := enum(s)
			if !ok {
				return nil, false
			}
			var next []string
			for _, a := range out {
				for _, b := range ss {
					next = append(next, a+b)
				}
			}
			if len(next) > 1024 {
				return nil, false
			}
			out = next
		}
		return out, true
	}
	return nil, false
}
