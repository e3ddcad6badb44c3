package metrics

import (
	"fmt"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	dto "github.com/prometheus/client_model/go"
)

var t0 = time.Date(2026, 12, 6, 3, 0, 0, 0, time.UTC)

// clock is a settable clock for the ages computed at scrape time.
type clock struct{ now time.Time }

func (c *clock) Now() time.Time { return c.now }

func testRecorder(perGroup bool) (*Recorder, *clock) {
	c := &clock{now: t0}
	return newRecorder(WithPerGroup(perGroup), withClock(c.Now)), c
}

// facts is a Ready group at source with replication active.
func facts(ns, name string) GroupFacts {
	return GroupFacts{Namespace: ns, Name: name, ActiveSite: "source",
		Conditions:          map[string]string{"Ready": "True", "Stalled": "False", "FailoverReady": "True"},
		ReplicationExpected: true, ReplicationActive: true, FaultLevel: 0}
}

// scrape gathers the Recorder's group collector: family name -> series
// (labels rendered sorted) -> value.
func scrape(t *testing.T, r *Recorder) map[string]map[string]float64 {
	t.Helper()
	reg := prometheus.NewPedanticRegistry()
	reg.MustRegister(groupCollector{r})
	families, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]map[string]float64{}
	for _, mf := range families {
		series := map[string]float64{}
		for _, m := range mf.GetMetric() {
			series[labelString(m.GetLabel())] = m.GetGauge().GetValue()
		}
		out[strings.TrimPrefix(mf.GetName(), "sdrs_operator_")] = series
	}
	return out
}

func labelString(ls []*dto.LabelPair) string {
	parts := make([]string, 0, len(ls))
	for _, l := range ls {
		parts = append(parts, l.GetName()+"="+l.GetValue())
	}
	sort.Strings(parts)
	return strings.Join(parts, ",")
}

func TestFleetCountsAggregateTheGroups(t *testing.T) {
	r, c := testRecorder(false)
	r.ObserveGroup(facts("erp", "a"))
	b := facts("erp", "b")
	b.ActiveSite, b.ReplicationActive, b.FaultLevel = "target", false, 5
	b.Conditions = map[string]string{"Ready": "False", "Stalled": "True", "FailoverReady": "False"}
	b.Operation, b.OperationStarted = "Failover", t0.Add(-10*time.Minute)
	r.ObserveGroup(b)
	d := facts("erp", "c")
	d.ActiveSite, d.FaultLevel = "", -1
	d.Operation, d.OperationStarted = "Failover", t0.Add(-time.Minute)
	d.DrillDue = t0.Add(3 * 24 * time.Hour)
	r.ObserveGroup(d)
	r.ObserveGroup(facts("crm", "a"))
	c.now = t0.Add(time.Minute)

	got := scrape(t, r)
	want := map[string]map[string]float64{
		"protectiongroups": {
			"active_site=source,namespace=erp": 1, "active_site=target,namespace=erp": 1, "active_site=unknown,namespace=erp": 1,
			"active_site=source,namespace=crm": 1, "active_site=target,namespace=crm": 0, "active_site=unknown,namespace=crm": 0,
		},
		"protectiongroups_replication_inactive": {"namespace=erp": 1, "namespace=crm": 0},
		"protectiongroups_fault_level":          {"level=0,namespace=erp": 1, "level=5,namespace=erp": 1, "level=0,namespace=crm": 1},
		"operations_in_flight":                  {"type=Failover": 2},
		"operation_oldest_age_seconds":          {"namespace=erp,type=Failover": 660},
	}
	for fam, series := range want {
		for s, v := range series {
			if g, ok := got[fam][s]; !ok || g != v {
				t.Errorf("%s{%s} = %v (present %v), want %v", fam, s, g, ok, v)
			}
		}
		if len(got[fam]) != len(series) {
			t.Errorf("%s: %d series, want %d: %v", fam, len(got[fam]), len(series), got[fam])
		}
	}
	conds := got["protectiongroups_condition"]
	for s, v := range map[string]float64{
		"namespace=erp,status=True,type=Ready": 2, "namespace=erp,status=False,type=Ready": 1,
		"namespace=erp,status=True,type=Stalled": 1, "namespace=erp,status=Unknown,type=Stalled": 0,
		"namespace=crm,status=True,type=Ready": 1, "namespace=crm,status=True,type=DrillUpToDate": 0,
	} {
		if conds[s] != v {
			t.Errorf("protectiongroups_condition{%s} = %v, want %v", s, conds[s], v)
		}
	}
	// Every namespace gets every condition type and status, 0 included.
	if n := len(conds); n != 2*len(conditionTypes)*3 {
		t.Errorf("condition count series: %d, want %d", n, 2*len(conditionTypes)*3)
	}
	due := got["protectiongroups_drill_due"]
	if due["due=7d,namespace=erp"] != 1 || due["due=never,namespace=erp"] != 2 || due["due=overdue,namespace=erp"] != 0 {
		t.Errorf("drill due: %v", due)
	}
}

func TestInFlightDropsToZeroWhenDone(t *testing.T) {
	r, _ := testRecorder(false)
	a := facts("ns", "a")
	a.Operation, a.OperationStarted = "Reprotect", t0
	r.ObserveGroup(a)
	r.ObserveGroup(a) // seen again by a later reconcile: still one
	if got := scrape(t, r)["operations_in_flight"]["type=Reprotect"]; got != 1 {
		t.Errorf("in flight: %v, want 1", got)
	}
	r.ObserveGroup(facts("ns", "a"))
	got := scrape(t, r)
	if v, ok := got["operations_in_flight"]["type=Reprotect"]; !ok || v != 0 {
		t.Errorf("in flight once done: %v (present %v), want 0", v, ok)
	}
	if n := len(got["operation_oldest_age_seconds"]); n != 0 {
		t.Errorf("oldest age series with nothing in flight: %d", n)
	}
}

// perGroupFamilies are the series names that carry a group's name.
var perGroupFamilies = []string{"active_site", "protectiongroup_condition", "replication_active",
	"replication_fault_level", "operation_age_seconds", "drill_due_timestamp_seconds"}

func TestPerGroupSeriesOnlyWhenEnabled(t *testing.T) {
	for _, on := range []bool{false, true} {
		r, _ := testRecorder(on)
		f := facts("ns", "pg")
		f.Operation, f.OperationStarted, f.DrillDue = "Failover", t0.Add(-time.Minute), t0.Add(time.Hour)
		r.ObserveGroup(f)
		got := scrape(t, r)
		for _, fam := range perGroupFamilies {
			if _, ok := got[fam]; ok != on {
				t.Errorf("per-group %v: %s present %v", on, fam, ok)
			}
		}
		for fam, series := range got {
			for s := range series {
				if !on && strings.Contains(s, "name=pg") {
					t.Errorf("per-group off: %s{%s} names the group", fam, s)
				}
			}
		}
	}
}

// With per-group series on, a group's series are those the GaugeVecs had:
// the same names, labels and values.
func TestPerGroupSeriesKeepTheirNamesAndLabels(t *testing.T) {
	r, _ := testRecorder(true)
	f := facts("ns", "pg")
	f.ActiveSite, f.ReplicationActive, f.FaultLevel = "target", false, 2
	f.Conditions["Bogus"] = "True" // not a ProtectionGroup condition: not kept
	f.Operation, f.OperationStarted = "PlannedFailover", t0.Add(-90*time.Second)
	f.DrillDue = t0.Add(48 * time.Hour)
	r.ObserveGroup(f)
	want := `
# HELP sdrs_operator_active_site 1 for the site (source or target) that serves production now, per ProtectionGroup.
# TYPE sdrs_operator_active_site gauge
sdrs_operator_active_site{name="pg",namespace="ns",site="source"} 0
sdrs_operator_active_site{name="pg",namespace="ns",site="target"} 1
# HELP sdrs_operator_protectiongroup_condition 1 for the current status (True, False, Unknown) of each condition of each ProtectionGroup, 0 for the others.
# TYPE sdrs_operator_protectiongroup_condition gauge
sdrs_operator_protectiongroup_condition{name="pg",namespace="ns",status="False",type="FailoverReady"} 0
sdrs_operator_protectiongroup_condition{name="pg",namespace="ns",status="False",type="Ready"} 0
sdrs_operator_protectiongroup_condition{name="pg",namespace="ns",status="False",type="Stalled"} 1
sdrs_operator_protectiongroup_condition{name="pg",namespace="ns",status="True",type="FailoverReady"} 1
sdrs_operator_protectiongroup_condition{name="pg",namespace="ns",status="True",type="Ready"} 1
sdrs_operator_protectiongroup_condition{name="pg",namespace="ns",status="True",type="Stalled"} 0
sdrs_operator_protectiongroup_condition{name="pg",namespace="ns",status="Unknown",type="FailoverReady"} 0
sdrs_operator_protectiongroup_condition{name="pg",namespace="ns",status="Unknown",type="Ready"} 0
sdrs_operator_protectiongroup_condition{name="pg",namespace="ns",status="Unknown",type="Stalled"} 0
# HELP sdrs_operator_replication_active 1 when SDRS replication of a ProtectionGroup with protection Enabled is active, else 0.
# TYPE sdrs_operator_replication_active gauge
sdrs_operator_replication_active{name="pg",namespace="ns"} 0
# HELP sdrs_operator_replication_fault_level Worst SDRS fault_level of a ProtectionGroup's replication pairs: 0 none, 2 forced failover advised, 5 no failover allowed.
# TYPE sdrs_operator_replication_fault_level gauge
sdrs_operator_replication_fault_level{name="pg",namespace="ns"} 2
# HELP sdrs_operator_operation_age_seconds Age of a ProtectionGroup's operation in flight: how long since its intent was recorded.
# TYPE sdrs_operator_operation_age_seconds gauge
sdrs_operator_operation_age_seconds{name="pg",namespace="ns",type="PlannedFailover"} 90
# HELP sdrs_operator_drill_due_timestamp_seconds When a ProtectionGroup's last passed DR drill stops counting (its time plus spec.drillInterval), in Unix seconds.
# TYPE sdrs_operator_drill_due_timestamp_seconds gauge
sdrs_operator_drill_due_timestamp_seconds{name="pg",namespace="ns"} %d
`
	want = fmt.Sprintf(want, t0.Add(48*time.Hour).Unix())
	if err := testutil.CollectAndCompare(groupCollector{r}, strings.NewReader(want), perGroupFamilies...); err != nil {
		t.Error(err)
	}
}

// Protection Disabled, or readiness not read yet: no replication or fault
// series for the group, and the group not counted as inactive.
func TestNotExpectedReplicationIsNotExported(t *testing.T) {
	r, _ := testRecorder(true)
	f := facts("ns", "pg")
	f.ReplicationExpected, f.ReplicationActive, f.FaultLevel = false, false, -1
	r.ObserveGroup(f)
	got := scrape(t, r)
	if len(got["replication_active"])+len(got["replication_fault_level"])+len(got["protectiongroups_fault_level"]) != 0 {
		t.Errorf("replication series of a group without protection: %v %v", got["replication_active"], got["replication_fault_level"])
	}
	if got["protectiongroups_replication_inactive"]["namespace=ns"] != 0 {
		t.Error("a group without protection counted as inactive")
	}
}

func TestForgetRemovesTheGroup(t *testing.T) {
	r, _ := testRecorder(true)
	r.ObserveGroup(facts("ns", "a"))
	r.ObserveGroup(facts("ns", "b"))
	r.Forget("ns", "a")
	got := scrape(t, r)
	for fam, series := range got {
		for s := range series {
			if strings.Contains(s, "name=a,") || strings.HasSuffix(s, "name=a") {
				t.Errorf("series of the deleted group left: %s{%s}", fam, s)
			}
		}
	}
	if got["protectiongroups"]["active_site=source,namespace=ns"] != 1 {
		t.Errorf("fleet count after Forget: %v", got["protectiongroups"])
	}
	r.Forget("ns", "b")
	if n := testutil.CollectAndCount(groupCollector{r}); n != 0 {
		t.Errorf("series with no group left: %d", n)
	}
}

// The fleet series grow with the namespaces, not with the groups.
func TestFleetSeriesAreBoundedByNamespaces(t *testing.T) {
	count := func(groups int) int {
		r, _ := testRecorder(false)
		for i := range groups {
			f := facts(fmt.Sprintf("ns-%d", i%3), fmt.Sprintf("pg-%d", i))
			f.Operation, f.OperationStarted = "Failover", t0.Add(-time.Duration(i)*time.Second)
			f.FaultLevel = []int{0, 2, 5}[i%3]
			r.ObserveGroup(f)
		}
		return testutil.CollectAndCount(groupCollector{r})
	}
	if small, large := count(30), count(3000); small != large {
		t.Errorf("fleet series: %d with 30 groups, %d with 3000", small, large)
	}
}

func TestFailuresCountedOnceByReasonAndCode(t *testing.T) {
	r, c := testRecorder(false)
	f := facts("ns", "pg")
	f.Failed = &Failure{Type: "Failover", Reason: "JobFailed", Code: "SDRS.1027", FinishedAt: t0.Add(time.Second)}
	r.ObserveGroup(f)
	// Later reconciles read the same failure back, its end at seconds.
	f.Failed.FinishedAt = f.Failed.FinishedAt.Truncate(time.Second)
	r.ObserveGroup(f)
	r.ObserveGroup(f)
	if got := testutil.ToFloat64(r.failures.WithLabelValues("Failover", "JobFailed", "SDRS.1027")); got != 1 {
		t.Errorf("failures after three reconciles of one failure: %v, want 1", got)
	}
	// A retry fails again later, with a reason and code outside the sets.
	c.now = t0.Add(time.Hour)
	f.Failed = &Failure{Type: "Failover", Reason: "Made\nUp", Code: "EVIL.1", FinishedAt: c.now}
	r.ObserveGroup(f)
	if got := testutil.ToFloat64(r.failures.WithLabelValues("Failover", "Other", "other")); got != 1 {
		t.Errorf("failure with unknown reason and code: %v, want 1 under Other/other", got)
	}
	if n := testutil.CollectAndCount(r.failures); n != 2 {
		t.Errorf("failure series: %d, want 2", n)
	}
}

// A restarted manager reads every Stalled group's old failure: it was
// counted by the process before.
func TestFailuresBeforeStartAreNotCounted(t *testing.T) {
	r, _ := testRecorder(false)
	f := facts("ns", "pg")
	f.Failed = &Failure{Type: "Reprotect", Reason: "JobFailed", FinishedAt: t0.Add(-time.Hour)}
	r.ObserveGroup(f)
	if n := testutil.CollectAndCount(r.failures); n != 0 {
		t.Errorf("failure from before the start counted: %d series", n)
	}
}

func TestPlanRunAndDrillExpiry(t *testing.T) {
	r, c := testRecorder(false)
	r.SetPlanRun("dr", "erp", t0, time.Hour)
	r.SetPlanRun("dr", "crm", time.Time{}, 0)
	r.SetDrillExpiry("dr", "d1", t0.Add(4*time.Hour))
	c.now = t0.Add(20 * time.Minute)
	got := scrape(t, r)
	if v := got["drplan_run_elapsed_seconds"]; len(v) != 1 || v["namespace=dr,plan=erp"] != 1200 {
		t.Errorf("run elapsed: %v, want erp at 1200 only", v)
	}
	if v := got["drplan_rto_seconds"]; len(v) != 1 || v["namespace=dr,plan=erp"] != 3600 {
		t.Errorf("rto: %v, want erp at 3600 only", v)
	}
	if v := got["drill_expires_in_seconds"]["name=d1,namespace=dr"]; v != 220*60 {
		t.Errorf("drill expires in: %v, want %v", v, 220*60)
	}
	r.SetPlanRun("dr", "erp", time.Time{}, time.Hour) // the run finished
	r.ForgetDrill("dr", "d1")
	got = scrape(t, r)
	if len(got["drplan_run_elapsed_seconds"])+len(got["drill_expires_in_seconds"]) != 0 {
		t.Errorf("finished run or deleted drill left: %v %v", got["drplan_run_elapsed_seconds"], got["drill_expires_in_seconds"])
	}
	r.ForgetPlan("dr", "erp")
	if v := scrape(t, r)["drplan_rto_seconds"]; len(v) != 0 {
		t.Errorf("deleted plan's rto left: %v", v)
	}
}
