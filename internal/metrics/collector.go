package metrics

import (
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
)

// family is a gauge the collector builds at scrape time from the facts
// tables; nothing per series lives between scrapes.
type family struct {
	Name   string
	Help   string
	Labels []string
	desc   *prometheus.Desc
}

func (f *family) describe() *prometheus.Desc { return f.desc }

// Fleet-level families: always exported, bounded by the namespaces times
// small fixed sets, never by the groups.
var (
	fleetBySite = &family{Name: "protectiongroups",
		Help:   "ProtectionGroups by the site that serves production now (source, target, or unknown before the SDRS group is observed).",
		Labels: []string{"namespace", "active_site"}}
	fleetConditions = &family{Name: "protectiongroups_condition",
		Help:   "ProtectionGroups whose condition of each type has each status (True, False, Unknown).",
		Labels: []string{"namespace", "type", "status"}}
	fleetReplInactive = &family{Name: "protectiongroups_replication_inactive",
		Help:   "ProtectionGroups with protection Enabled whose SDRS replication is not active.",
		Labels: []string{"namespace"}}
	fleetFaultLevel = &family{Name: "protectiongroups_fault_level",
		Help:   "ProtectionGroups by the worst SDRS fault_level of their replication pairs (0 none, 2 forced failover only, 5 no failover allowed), among those whose readiness was read.",
		Labels: []string{"namespace", "level"}}
	fleetDrillDue = &family{Name: "protectiongroups_drill_due",
		Help:   "ProtectionGroups by when their last passed DR drill stops counting (spec.drillInterval after it): overdue, within 7d, within 30d, later, or never (no drill passed).",
		Labels: []string{"namespace", "due"}}
	inFlight = &family{Name: "operations_in_flight",
		Help:   "Operations currently in flight, by type.",
		Labels: []string{"type"}}
	oldestOperation = &family{Name: "operation_oldest_age_seconds",
		Help:   "Age of the oldest operation in flight, by namespace and type: how long since its intent was recorded.",
		Labels: []string{"namespace", "type"}}
)

// Per-group families: exported only with --metrics-per-group, under the
// names and labels they had as gauges.
var (
	groupSite = &family{Name: "active_site",
		Help:   "1 for the site (source or target) that serves production now, per ProtectionGroup.",
		Labels: []string{"namespace", "name", "site"}}
	groupConditions = &family{Name: "protectiongroup_condition",
		Help:   "1 for the current status (True, False, Unknown) of each condition of each ProtectionGroup, 0 for the others.",
		Labels: []string{"namespace", "name", "type", "status"}}
	groupRepl = &family{Name: "replication_active",
		Help:   "1 when SDRS replication of a ProtectionGroup with protection Enabled is active, else 0.",
		Labels: []string{"namespace", "name"}}
	groupFault = &family{Name: "replication_fault_level",
		Help:   "Worst SDRS fault_level of a ProtectionGroup's replication pairs: 0 none, 2 forced failover advised, 5 no failover allowed.",
		Labels: []string{"namespace", "name"}}
	groupOperationAge = &family{Name: "operation_age_seconds",
		Help:   "Age of a ProtectionGroup's operation in flight: how long since its intent was recorded.",
		Labels: []string{"namespace", "name", "type"}}
	groupDrillDue = &family{Name: "drill_due_timestamp_seconds",
		Help:   "When a ProtectionGroup's last passed DR drill stops counting (its time plus spec.drillInterval), in Unix seconds.",
		Labels: []string{"namespace", "name"}}
)

// Plan and drill families: one series per DRPlan or drill, which are few.
var (
	planElapsed = &family{Name: "drplan_run_elapsed_seconds",
		Help:   "Time since a DRPlan's live run started; absent when no run is live.",
		Labels: []string{"namespace", "plan"}}
	planRTO = &family{Name: "drplan_rto_seconds",
		Help:   "A DRPlan's spec.rto, the target duration of a run; absent when the plan sets none.",
		Labels: []string{"namespace", "plan"}}
	drillExpiresIn = &family{Name: "drill_expires_in_seconds",
		Help:   "Time left until a ProtectionGroupDrill's servers are deleted (status.expiresAt); negative past it, absent once released.",
		Labels: []string{"namespace", "name"}}
)

var (
	fleetFamilies = []*family{fleetBySite, fleetConditions, fleetReplInactive, fleetFaultLevel, fleetDrillDue,
		inFlight, oldestOperation, planElapsed, planRTO, drillExpiresIn}
	groupFamilies = []*family{groupSite, groupConditions, groupRepl, groupFault, groupOperationAge, groupDrillDue}
)

// init builds the families' descriptors once, before any scrape reads
// them.
func init() {
	for _, f := range append(append([]*family{}, fleetFamilies...), groupFamilies...) {
		f.desc = prometheus.NewDesc(prometheus.BuildFQName(namespace, "", f.Name), f.Help, f.Labels, nil)
	}
}

// groupCollector emits the group, plan and drill families from the
// Recorder's tables at scrape time.
type groupCollector struct{ r *Recorder }

// Describe sends the per-group families only when they are enabled, so
// that a registry's checks match what Collect sends.
func (c groupCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, f := range fleetFamilies {
		ch <- f.describe()
	}
	if c.r.perGroup {
		for _, f := range groupFamilies {
			ch <- f.describe()
		}
	}
}

func (c groupCollector) Collect(ch chan<- prometheus.Metric) {
	r := c.r
	now := r.now()
	r.mu.Lock()
	defer r.mu.Unlock()
	r.collectFleet(ch, now)
	if r.perGroup {
		r.collectGroups(ch, now)
	}
	r.collectPlansAndDrills(ch, now)
}

func gauge(ch chan<- prometheus.Metric, f *family, v float64, labels ...string) {
	ch <- prometheus.MustNewConstMetric(f.describe(), prometheus.GaugeValue, v, labels...)
}

// fleetCounts are the fleet families' values of one scrape, keyed by
// their label values.
type fleetCounts struct {
	namespaces map[string]bool
	site       map[[2]string]float64
	conds      map[[3]string]float64
	inactive   map[string]float64
	fault      map[[2]string]float64
	drillDue   map[[2]string]float64
	inFlight   map[string]float64
	oldest     map[[2]string]int64
}

func newFleetCounts() *fleetCounts {
	return &fleetCounts{namespaces: map[string]bool{}, site: map[[2]string]float64{}, conds: map[[3]string]float64{},
		inactive: map[string]float64{}, fault: map[[2]string]float64{}, drillDue: map[[2]string]float64{},
		inFlight: map[string]float64{}, oldest: map[[2]string]int64{}}
}

// add counts one group.
func (fc *fleetCounts) add(ns string, g groupFact, now time.Time) {
	fc.namespaces[ns] = true
	fc.site[[2]string{ns, siteNames[g.site]}]++
	for i, s := range g.conds {
		if s != statusAbsent {
			fc.conds[[3]string{ns, conditionTypes[i], statusNames[s]}]++
		}
	}
	if g.repl == replInactive {
		fc.inactive[ns]++
	}
	if g.fault >= 0 {
		fc.fault[[2]string{ns, strconv.Itoa(int(g.fault))}]++
	}
	fc.drillDue[[2]string{ns, dueBucket(g.drillDue, now)}]++
	if g.opType != "" {
		fc.inFlight[g.opType]++
		k := [2]string{ns, g.opType}
		if old, ok := fc.oldest[k]; !ok || g.opStarted < old {
			fc.oldest[k] = g.opStarted
		}
	}
}

// Drill due buckets.
const (
	dueOverdue = "overdue"
	dueWeek    = "7d"
	dueMonth   = "30d"
	dueLater   = "later"
	dueNever   = "never"
)

func dueBucket(due int64, now time.Time) string {
	if due == 0 {
		return dueNever
	}
	left := time.Unix(due, 0).Sub(now)
	switch {
	case left <= 0:
		return dueOverdue
	case left <= 7*24*time.Hour:
		return dueWeek
	case left <= 30*24*time.Hour:
		return dueMonth
	}
	return dueLater
}

// collectFleet emits the fleet families. Every namespace with a group
// gets every site and every condition type and status, 0 included, so
// that alerts and panels see a 0 rather than nothing.
func (r *Recorder) collectFleet(ch chan<- prometheus.Metric, now time.Time) {
	fc := newFleetCounts()
	for k, g := range r.groups {
		fc.add(k.namespace, g, now)
	}
	for ns := range fc.namespaces {
		for _, site := range siteNames {
			gauge(ch, fleetBySite, fc.site[[2]string{ns, site}], ns, site)
		}
		for _, typ := range conditionTypes {
			for _, s := range statusNames[statusTrue:] {
				gauge(ch, fleetConditions, fc.conds[[3]string{ns, typ, s}], ns, typ, s)
			}
		}
		gauge(ch, fleetReplInactive, fc.inactive[ns], ns)
		for _, due := range []string{dueOverdue, dueWeek, dueMonth, dueLater, dueNever} {
			gauge(ch, fleetDrillDue, fc.drillDue[[2]string{ns, due}], ns, due)
		}
	}
	for k, n := range fc.fault {
		gauge(ch, fleetFaultLevel, n, k[0], k[1])
	}
	for _, typ := range r.opTypesSeen() {
		gauge(ch, inFlight, fc.inFlight[typ], typ)
	}
	for k, started := range fc.oldest {
		gauge(ch, oldestOperation, ageSeconds(now, started), k[0], k[1])
	}
}

// opTypesSeen lists every operation type ever in flight (ObserveGroup
// notes them), so that the in-flight gauge of a type drops to 0 instead
// of vanishing.
func (r *Recorder) opTypesSeen() []string {
	out := make([]string, 0, len(r.opTypes))
	for t := range r.opTypes {
		out = append(out, t)
	}
	return out
}

func ageSeconds(now time.Time, startedNano int64) float64 {
	return max(now.Sub(time.Unix(0, startedNano)).Seconds(), 0)
}

// collectGroups emits the per-group families. Ten thousand groups make
// some 250 000 series per scrape, so their label pairs are shared: one per
// group for its name, one per namespace, and one per site, condition type
// and status, instead of new ones for every series.
func (r *Recorder) collectGroups(ch chan<- prometheus.Metric, now time.Time) {
	lp := labelPairs{}
	for k, g := range r.groups {
		name, ns := newPair("name", k.name), lp.get("namespace", k.namespace)
		if g.site != siteUnknown {
			for _, s := range []uint8{siteSource, siteTarget} {
				sharedGauge(ch, groupSite, boolValue(g.site == s), name, ns, lp.get("site", siteNames[s]))
			}
		}
		for i, st := range g.conds {
			if st == statusAbsent {
				continue
			}
			typ := lp.get("type", conditionTypes[i])
			for s := statusTrue; s <= statusUnknown; s++ {
				sharedGauge(ch, groupConditions, boolValue(st == s), name, ns, lp.get("status", statusNames[s]), typ)
			}
		}
		if g.repl != replNotExpected {
			sharedGauge(ch, groupRepl, boolValue(g.repl == replActive), name, ns)
		}
		if g.fault >= 0 {
			sharedGauge(ch, groupFault, float64(g.fault), name, ns)
		}
		if g.opType != "" {
			sharedGauge(ch, groupOperationAge, ageSeconds(now, g.opStarted), name, ns, lp.get("type", g.opType))
		}
		if g.drillDue != 0 {
			sharedGauge(ch, groupDrillDue, float64(g.drillDue), name, ns)
		}
	}
}

// labelPairs hands out one label pair per name and value for a scrape.
type labelPairs map[[2]string]*dto.LabelPair

func (lp labelPairs) get(name, value string) *dto.LabelPair {
	k := [2]string{name, value}
	p, ok := lp[k]
	if !ok {
		p = newPair(name, value)
		lp[k] = p
	}
	return p
}

func newPair(name, value string) *dto.LabelPair {
	return &dto.LabelPair{Name: &name, Value: &value}
}

// pairGauge is a gauge whose label pairs are shared with other series;
// nothing writes to them after the scrape builds them.
type pairGauge struct {
	desc   *prometheus.Desc
	labels []*dto.LabelPair
	value  float64
}

func (g *pairGauge) Desc() *prometheus.Desc { return g.desc }

func (g *pairGauge) Write(m *dto.Metric) error {
	m.Label = g.labels
	m.Gauge = &dto.Gauge{Value: &g.value}
	return nil
}

// sharedGauge sends a gauge of f with the given pairs, which must be in
// the order of their names (as the exposition sorts them).
func sharedGauge(ch chan<- prometheus.Metric, f *family, v float64, pairs ...*dto.LabelPair) {
	ch <- &pairGauge{desc: f.describe(), labels: pairs, value: v}
}

func boolValue(b bool) float64 {
	if b {
		return 1
	}
	return 0
}
