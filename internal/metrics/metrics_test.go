package metrics

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/sdrs-operator/sdrs-operator/internal/sdrs"
)

func TestObserveCallCountsErrorsByCode(t *testing.T) {
	r := newRecorder()
	r.ObserveCall("ShowProtectionGroup", nil, time.Millisecond)
	r.ObserveCall("StartFailoverProtectionGroup", &sdrs.PreconditionError{Code: "SDRS.1002"}, time.Millisecond)
	r.ObserveCall("ShowJobStatus", errors.New("opaque"), time.Millisecond)
	if got := testutil.ToFloat64(r.calls.WithLabelValues("ShowProtectionGroup")); got != 1 {
		t.Errorf("calls: %v", got)
	}
	if got := testutil.ToFloat64(r.callErrors.WithLabelValues("StartFailoverProtectionGroup", "SDRS.1002")); got != 1 {
		t.Errorf("errors by code: %v", got)
	}
	if got := testutil.ToFloat64(r.callErrors.WithLabelValues("ShowJobStatus", "none")); got != 1 {
		t.Errorf("errors without a code: %v", got)
	}
}

// The cloud never chooses a label value: a thousand made-up codes make one
// series, not a thousand.
func TestObserveCallBoundsErrorCodes(t *testing.T) {
	r := newRecorder()
	for i := range 1000 {
		r.ObserveCall("ShowProtectionGroup", &sdrs.TransientError{Code: fmt.Sprintf("EVIL.%04d", i)}, time.Millisecond)
	}
	r.ObserveCall("ShowProtectionGroup", &sdrs.NotFoundError{Code: "Ecs.0114"}, time.Millisecond)
	if n := testutil.CollectAndCount(r.callErrors); n != 2 {
		t.Errorf("series: %d, want 2 (other, ECS.0114)", n)
	}
	if got := testutil.ToFloat64(r.callErrors.WithLabelValues("ShowProtectionGroup", "other")); got != 1000 {
		t.Errorf("made-up codes counted as other: %v, want 1000", got)
	}
}

func TestCodeLabel(t *testing.T) {
	cases := map[string]string{
		"":           "none",
		" ":          "none",
		"SDRS.1027":  "SDRS.1027", // job failure codes, documented for failed jobs
		"SDRS.1028":  "SDRS.1028",
		"SDRS.1029":  "SDRS.1029",
		"sdrs.1030":  "SDRS.1030",
		"SDRS.1032":  "SDRS.1032",
		"SDRS.1014":  "SDRS.1014",
		"SDRS.1016":  "SDRS.1016",
		"SDRS.1002":  "SDRS.1002", // codes internal/sdrs gives a meaning to
		"SDRS.1319":  "SDRS.1319",
		"Ecs.0114":   "ECS.0114",
		"APIGW.0308": "APIGW.0308",
		"APIGW.0301": "APIGW.03*", // a family
		"IAM.0001":   "IAM.*",
		"SDRS.9999":  "other",
		"EVS.2024":   "other",
		"a\nb\"c{d}": "other",
		"SDRS.1002 ": "SDRS.1002",
		"xSDRS.1002": "other",
	}
	for code, want := range cases {
		if got := codeLabel(code); got != want {
			t.Errorf("codeLabel(%q) = %q, want %q", code, got, want)
		}
	}
}

func TestSetPlanPublishesEveryStateAndTheApprovalWait(t *testing.T) {
	r := newRecorder()
	r.SetPlan("dr", "erp", map[string]int{"succeeded": 4, "inProgress": 3, "pending": 3, "atTarget": 7, "atSource": 6}, true)
	for state, want := range map[string]float64{"succeeded": 4, "inProgress": 3, "pending": 3, "atTarget": 7, "atSource": 6,
		"failed": 0, "skipped": 0, "diverged": 0, "claimedElsewhere": 0, "unassigned": 0} {
		if got := testutil.ToFloat64(r.planMembers.WithLabelValues("dr", "erp", state)); got != want {
			t.Errorf("members %s: %v, want %v", state, got, want)
		}
	}
	if got := testutil.ToFloat64(r.planWaiting.WithLabelValues("dr", "erp")); got != 1 {
		t.Errorf("waiting for approval: %v, want 1", got)
	}

	// The approval given, the wave moves on: the gauges follow.
	r.SetPlan("dr", "erp", map[string]int{"succeeded": 10, "atTarget": 13}, false)
	if got := testutil.ToFloat64(r.planWaiting.WithLabelValues("dr", "erp")); got != 0 {
		t.Errorf("waiting for approval after the decision: %v, want 0", got)
	}
	if got := testutil.ToFloat64(r.planMembers.WithLabelValues("dr", "erp", "inProgress")); got != 0 {
		t.Errorf("inProgress once the wave is done: %v, want 0", got)
	}
	// Per plan and state, never per member: ten states, one plan.
	if n := testutil.CollectAndCount(r.planMembers); n != 10 {
		t.Errorf("member series: %d, want 10", n)
	}
}

func TestObserveRunKeepsOnlyTheLastRunPerPlan(t *testing.T) {
	r := newRecorder()
	r.ObserveRun("dr", "erp", "Failover", "target", "Failed", 50*time.Minute)
	r.ObserveRun("dr", "erp", "Failover", "target", "Succeeded", 42*time.Minute)
	r.ObserveRun("dr", "erp", "Drill", "target", "Succeeded", 20*time.Minute)
	r.ObserveRun("dr", "crm", "Failover", "source", "Succeeded", 10*time.Minute)

	if n := testutil.CollectAndCount(r.planLastRun); n != 2 {
		t.Errorf("last-run series: %d, want one per plan (2)", n)
	}
	if got := testutil.ToFloat64(r.planLastRun.WithLabelValues("dr", "erp", "Drill", "target", "Succeeded")); got != 1200 {
		t.Errorf("last run of erp: %v s, want 1200", got)
	}
	// The histogram has every run, without the plan label.
	if n := testutil.CollectAndCount(r.planRuns); n != 4 {
		t.Errorf("histogram series (namespace, mode, to_site, phase): %d, want 4", n)
	}
	want := `
# HELP sdrs_operator_drplan_run_duration_seconds Durations of finished DRPlan runs (measured RTOs), by namespace, mode, site moved to and how the run ended; without the plan, to bound the series.
# TYPE sdrs_operator_drplan_run_duration_seconds histogram
sdrs_operator_drplan_run_duration_seconds_bucket{mode="Failover",namespace="dr",phase="Succeeded",to_site="target",le="60"} 0
sdrs_operator_drplan_run_duration_seconds_bucket{mode="Failover",namespace="dr",phase="Succeeded",to_site="target",le="120"} 0
sdrs_operator_drplan_run_duration_seconds_bucket{mode="Failover",namespace="dr",phase="Succeeded",to_site="target",le="300"} 0
sdrs_operator_drplan_run_duration_seconds_bucket{mode="Failover",namespace="dr",phase="Succeeded",to_site="target",le="600"} 0
sdrs_operator_drplan_run_duration_seconds_bucket{mode="Failover",namespace="dr",phase="Succeeded",to_site="target",le="900"} 0
sdrs_operator_drplan_run_duration_seconds_bucket{mode="Failover",namespace="dr",phase="Succeeded",to_site="target",le="1200"} 0
sdrs_operator_drplan_run_duration_seconds_bucket{mode="Failover",namespace="dr",phase="Succeeded",to_site="target",le="1800"} 0
sdrs_operator_drplan_run_duration_seconds_bucket{mode="Failover",namespace="dr",phase="Succeeded",to_site="target",le="2700"} 1
sdrs_operator_drplan_run_duration_seconds_bucket{mode="Failover",namespace="dr",phase="Succeeded",to_site="target",le="3600"} 1
sdrs_operator_drplan_run_duration_seconds_bucket{mode="Failover",namespace="dr",phase="Succeeded",to_site="target",le="5400"} 1
sdrs_operator_drplan_run_duration_seconds_bucket{mode="Failover",namespace="dr",phase="Succeeded",to_site="target",le="7200"} 1
sdrs_operator_drplan_run_duration_seconds_bucket{mode="Failover",namespace="dr",phase="Succeeded",to_site="target",le="10800"} 1
sdrs_operator_drplan_run_duration_seconds_bucket{mode="Failover",namespace="dr",phase="Succeeded",to_site="target",le="14400"} 1
sdrs_operator_drplan_run_duration_seconds_bucket{mode="Failover",namespace="dr",phase="Succeeded",to_site="target",le="21600"} 1
sdrs_operator_drplan_run_duration_seconds_bucket{mode="Failover",namespace="dr",phase="Succeeded",to_site="target",le="+Inf"} 1
sdrs_operator_drplan_run_duration_seconds_sum{mode="Failover",namespace="dr",phase="Succeeded",to_site="target"} 2520
sdrs_operator_drplan_run_duration_seconds_count{mode="Failover",namespace="dr",phase="Succeeded",to_site="target"} 1
`
	r2 := newRecorder()
	r2.ObserveRun("dr", "erp", "Failover", "target", "Succeeded", 42*time.Minute)
	if err := testutil.CollectAndCompare(r2.planRuns, strings.NewReader(want)); err != nil {
		t.Error(err)
	}
}

func TestObserveWaveAndForgetPlan(t *testing.T) {
	r := newRecorder()
	r.ObserveWave("dr", "erp", "databases", 12*time.Minute)
	r.ObserveWave("dr", "erp", "databases", 9*time.Minute)
	r.ObserveWave("dr", "erp", "apps", 30*time.Minute)
	r.ObserveWave("dr", "crm", "apps", time.Minute)
	if got := testutil.ToFloat64(r.planLastWave.WithLabelValues("dr", "erp", "databases")); got != 540 {
		t.Errorf("last databases wave: %v s, want 540", got)
	}
	r.SetPlan("dr", "erp", map[string]int{"atTarget": 13}, false)
	r.SetPlan("dr", "crm", map[string]int{"atSource": 2}, false)
	r.ObserveRun("dr", "erp", "Failover", "target", "Succeeded", 42*time.Minute)

	r.ForgetPlan("dr", "erp")
	for name, c := range map[string]prometheus.Collector{"members": r.planMembers, "waiting": r.planWaiting, "last run": r.planLastRun, "last wave": r.planLastWave} {
		for _, erp := range seriesOf(t, c, "plan", "erp") {
			t.Errorf("%s: series of the deleted plan left: %s", name, erp)
		}
	}
	if got := testutil.ToFloat64(r.planLastWave.WithLabelValues("dr", "crm", "apps")); got != 60 {
		t.Errorf("another plan's wave lost: %v", got)
	}
	if n := testutil.CollectAndCount(r.planRuns); n != 1 {
		t.Errorf("the histogram keeps finished runs: %d series, want 1", n)
	}
}

// seriesOf lists the series of c whose label has value.
func seriesOf(t *testing.T, c prometheus.Collector, label, value string) []string {
	t.Helper()
	reg := prometheus.NewPedanticRegistry()
	reg.MustRegister(c)
	families, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, mf := range families {
		for _, m := range mf.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == label && l.GetValue() == value {
					out = append(out, mf.GetName()+" "+m.String())
				}
			}
		}
	}
	return out
}
