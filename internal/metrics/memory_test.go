package metrics

import (
	"fmt"
	"runtime"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// fleetSize is issue 17's target fleet.
const fleetSize = 10000

// heapInUse is the live heap after a full collection.
func heapInUse() uint64 {
	runtime.GC()
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}

// eachGroup calls observe with the facts of fleetSize groups in 20
// namespaces, every condition set, a tenth with an operation in flight;
// one at a time, so that only what observe keeps stays on the heap.
func eachGroup(observe func(GroupFacts)) {
	for i := range fleetSize {
		f := facts(fmt.Sprintf("team-%02d", i%20), fmt.Sprintf("app-%05d", i))
		f.Conditions["Reconciling"], f.Conditions["Protected"], f.Conditions["Paused"] = "False", "True", "False"
		f.Conditions["ServersRunning"], f.Conditions["DrillUpToDate"] = "True", "False"
		if i%10 == 0 {
			f.Operation, f.OperationStarted = "Failover", t0.Add(-time.Duration(i)*time.Millisecond)
		}
		observe(f)
	}
}

// allocatedBy is the bytes fn allocates, freed or not.
func allocatedBy(fn func()) uint64 {
	var a, b runtime.MemStats
	runtime.ReadMemStats(&a)
	fn()
	runtime.ReadMemStats(&b)
	return b.TotalAlloc - a.TotalAlloc
}

// TestMemoryAtTenThousandGroups measures what the Recorder holds for a
// fleet of ten thousand groups between scrapes, and the series one scrape
// sends, with per-group series off and on; run with -v for the figures.
// The bound is far above the figures, to catch a table that grows a
// series' worth per group.
func TestMemoryAtTenThousandGroups(t *testing.T) {
	if testing.Short() {
		t.Skip("measures memory")
	}
	for _, perGroup := range []bool{false, true} {
		before := heapInUse()
		r, _ := testRecorder(perGroup)
		eachGroup(r.ObserveGroup)
		held := heapInUse() - before
		var series int
		scrapeAlloc := allocatedBy(func() { series = gatherCount(t, groupCollector{r}) })
		t.Logf("per-group %v: %d groups hold %.2f MiB (%d B per group) between scrapes; one scrape sends %d series and allocates %.1f MiB, freed after it",
			perGroup, fleetSize, float64(held)/(1<<20), held/fleetSize, series, float64(scrapeAlloc)/(1<<20))
		if held > 8<<20 {
			t.Errorf("per-group %v: the Recorder holds %d B for %d groups, want under 8 MiB", perGroup, held, fleetSize)
		}
		runtime.KeepAlive(r)
	}
}

// gatherCount gathers cs as the metrics endpoint does (a plain registry)
// and counts the series.
func gatherCount(t *testing.T, cs ...prometheus.Collector) int {
	t.Helper()
	reg := prometheus.NewRegistry()
	reg.MustRegister(cs...)
	families, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, mf := range families {
		n += len(mf.GetMetric())
	}
	return n
}

// TestMemoryOfGaugesPerGroup measures the design this package replaced,
// GaugeVecs holding every group's series between scrapes, for comparison.
func TestMemoryOfGaugesPerGroup(t *testing.T) {
	if testing.Short() {
		t.Skip("measures memory")
	}
	before := heapInUse()
	site := prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "site"}, []string{"namespace", "name", "site"})
	conds := prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "cond"}, []string{"namespace", "name", "type", "status"})
	repl := prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "repl"}, []string{"namespace", "name"})
	fault := prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "fault"}, []string{"namespace", "name"})
	eachGroup(func(f GroupFacts) {
		for _, s := range []string{"source", "target"} {
			site.WithLabelValues(f.Namespace, f.Name, s).Set(boolValue(s == f.ActiveSite))
		}
		for typ, st := range f.Conditions {
			for _, s := range statusNames[statusTrue:] {
				conds.WithLabelValues(f.Namespace, f.Name, typ, s).Set(boolValue(s == st))
			}
		}
		repl.WithLabelValues(f.Namespace, f.Name).Set(1)
		fault.WithLabelValues(f.Namespace, f.Name).Set(0)
	})
	held := heapInUse() - before
	var series int
	scrapeAlloc := allocatedBy(func() { series = gatherCount(t, site, conds, repl, fault) })
	t.Logf("GaugeVecs per group: %d groups hold %.2f MiB (%d B per group) between scrapes; one scrape sends %d series and allocates %.1f MiB",
		fleetSize, float64(held)/(1<<20), held/fleetSize, series, float64(scrapeAlloc)/(1<<20))
	runtime.KeepAlive([]any{site, conds, repl, fault})
}
