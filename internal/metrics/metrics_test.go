package metrics

import (
	"errors"
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
	if got := testutil.ToFloat64(r.callErrors.WithLabelValues("ShowJobStatus", "unknown")); got != 1 {
		t.Errorf("errors without a code: %v", got)
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
