package metrics

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/sdrs-operator/sdrs-operator/internal/sdrs"
)

func TestInFlightFollowsTheCurrentOperation(t *testing.T) {
	r := newRecorder()
	r.SetInFlight("ns/a", "Failover")
	r.SetInFlight("ns/a", "Failover") // seen again by a later reconcile: still one
	r.SetInFlight("ns/b", "Failover")
	if got := testutil.ToFloat64(r.inFlight.WithLabelValues("Failover")); got != 2 {
		t.Errorf("in flight after two groups started: %v, want 2", got)
	}
	r.SetInFlight("ns/a", "Reprotect")
	r.SetInFlight("ns/b", "")
	if got := testutil.ToFloat64(r.inFlight.WithLabelValues("Failover")); got != 0 {
		t.Errorf("Failover in flight after both moved on: %v, want 0", got)
	}
	if got := testutil.ToFloat64(r.inFlight.WithLabelValues("Reprotect")); got != 1 {
		t.Errorf("Reprotect in flight: %v, want 1", got)
	}
}

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

func TestConditionsAndForget(t *testing.T) {
	r := newRecorder()
	r.SetConditions("ns", "pg", map[string]string{"Stalled": "True", "Ready": "False"})
	if got := testutil.ToFloat64(r.conditions.WithLabelValues("ns", "pg", "Stalled", "True")); got != 1 {
		t.Errorf("Stalled=True gauge: %v", got)
	}
	if got := testutil.ToFloat64(r.conditions.WithLabelValues("ns", "pg", "Stalled", "False")); got != 0 {
		t.Errorf("Stalled=False gauge: %v", got)
	}
	r.SetReplicationActive("ns", "pg", false, true)
	r.SetActiveSite("ns", "pg", "target")
	r.Forget("ns", "pg")
	if n := testutil.CollectAndCount(r.conditions) + testutil.CollectAndCount(r.replActive) + testutil.CollectAndCount(r.activeSite); n != 0 {
		t.Errorf("series left after Forget: %d", n)
	}
}
