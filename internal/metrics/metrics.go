// Package metrics holds the operator's Prometheus collectors, registered on
// controller-runtime's registry so they are served on the manager's
// metrics endpoint.
package metrics

import (
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	crmetrics "sigs.k8s.io/controller-runtime/pkg/metrics"

	"github.com/sdrs-operator/sdrs-operator/internal/sdrs"
)

const namespace = "sdrs_operator"

// Recorder records what the operator does. It is safe for concurrent use.
type Recorder struct {
	operations *prometheus.CounterVec
	duration   *prometheus.HistogramVec
	inFlight   *prometheus.GaugeVec
	calls      *prometheus.CounterVec
	callErrors *prometheus.CounterVec
	callTime   *prometheus.HistogramVec
	activeSite *prometheus.GaugeVec
	conditions *prometheus.GaugeVec
	replActive *prometheus.GaugeVec
	faultLevel *prometheus.GaugeVec
	rpoPairs   *prometheus.GaugeVec
	drillPhase *prometheus.GaugeVec
	drillAge   *prometheus.GaugeVec
	drillStuck *prometheus.GaugeVec

	planMembers  *prometheus.GaugeVec
	planWaiting  *prometheus.GaugeVec
	planLastRun  *prometheus.GaugeVec
	planRuns     *prometheus.HistogramVec
	planLastWave *prometheus.GaugeVec

	mu      sync.Mutex
	current map[string]string // group key -> in-flight operation type
}

var (
	once   sync.Once
	shared *Recorder
)

// NewRecorder returns the process-wide Recorder, registering its collectors
// on first use (controller-runtime's registry is process-wide too).
func NewRecorder() *Recorder {
	once.Do(func() {
		shared = newRecorder()
		crmetrics.Registry.MustRegister(shared.operations, shared.duration, shared.inFlight,
			shared.calls, shared.callErrors, shared.callTime, shared.activeSite, shared.conditions, shared.replActive,
			shared.faultLevel, shared.rpoPairs, shared.drillPhase, shared.drillAge, shared.drillStuck,
			shared.planMembers, shared.planWaiting, shared.planLastRun, shared.planRuns, shared.planLastWave)
	})
	return shared
}

func newRecorder() *Recorder {
	return &Recorder{
		operations: counterVec("operations_total",
			"SDRS operations finished, by type (PlannedFailover, Failover, Reprotect, ...) and result (Succeeded, Failed).",
			"type", "result"),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Namespace: namespace, Name: "operation_duration_seconds",
			Help:    "Time from an operation's intent to its end, including server stop/start steps.",
			Buckets: []float64{1, 2, 5, 10, 20, 30, 60, 120, 300, 600, 1200, 1800, 3600},
		}, []string{"type"}),
		inFlight: gaugeVec("operations_in_flight",
			"Operations currently in flight, by type.",
			"type"),
		calls: counterVec("cloud_api_calls_total",
			"SDRS and ECS API calls, by SDK operation.",
			"operation"),
		callErrors: counterVec("cloud_api_errors_total",
			"SDRS and ECS API calls that failed, by SDK operation and error code (a code the operator knows, \"other\", or \"none\" without a code).",
			"operation", "code"),
		callTime: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Namespace: namespace, Name: "cloud_api_call_duration_seconds",
			Help:    "Latency of SDRS and ECS API calls, including rate-limit waits.",
			Buckets: prometheus.DefBuckets,
		}, []string{"operation"}),
		activeSite: gaugeVec("active_site",
			"1 for the site (source or target) that serves production now, per ProtectionGroup.",
			"namespace", "name", "site"),
		conditions: gaugeVec("protectiongroup_condition",
			"1 for the current status (True, False, Unknown) of each condition of each ProtectionGroup, 0 for the others.",
			"namespace", "name", "type", "status"),
		replActive: gaugeVec("replication_active",
			"1 when SDRS replication of a ProtectionGroup with protection Enabled is active, else 0.",
			"namespace", "name"),
		faultLevel: gaugeVec("replication_fault_level",
			"Worst SDRS fault_level of a ProtectionGroup's replication pairs: 0 none, 2 forced failover advised, 5 no failover allowed.",
			"namespace", "name"),
		rpoPairs: gaugeVec("rpo_exceeded_pairs",
			"Replication pairs of a ProviderConfig's project above their RPO target at SDRS's latest statistics point (SDRS counts per project).",
			"provider_config"),
		drillPhase: gaugeVec("drill_phase",
			"1 for the current phase of each ProtectionGroupDrill (Pending, Creating, Available, Verifying, Releasing, Released, Failed), 0 for the others.",
			"namespace", "name", "phase"),
		drillAge: gaugeVec("drill_age_seconds",
			"How long a ProtectionGroupDrill's servers have been available (0 before).",
			"namespace", "name"),
		drillStuck: gaugeVec("drill_cleanup_overdue",
			"1 when a ProtectionGroupDrill is still not deleted 15 minutes past its expiry: its servers still cost money.",
			"namespace", "name"),
		planMembers: gaugeVec("drplan_members",
			"Members of a DRPlan by state: pending, inProgress, succeeded, failed and skipped count the live or last run; atSource, atTarget, diverged, claimedElsewhere and unassigned count the members now.",
			"namespace", "plan", "state"),
		planWaiting: gaugeVec("drplan_waiting_for_approval",
			"1 while a DRPlan's run waits for an Approve decision, else 0.",
			"namespace", "plan"),
		planLastRun: gaugeVec("drplan_last_run_duration_seconds",
			"Duration of a DRPlan's last finished run (its measured RTO), by mode (Failover, Drill), site it moved to and how it ended (Succeeded, Failed, Aborted); one series per plan.",
			"namespace", "plan", "mode", "to_site", "phase"),
		planRuns: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Namespace: namespace, Name: "drplan_run_duration_seconds",
			Help:    "Durations of finished DRPlan runs (measured RTOs), by namespace, mode, site moved to and how the run ended; without the plan, to bound the series.",
			Buckets: []float64{60, 120, 300, 600, 900, 1200, 1800, 2700, 3600, 5400, 7200, 10800, 14400, 21600},
		}, []string{"namespace", "mode", "to_site", "phase"}),
		planLastWave: gaugeVec("drplan_last_wave_duration_seconds",
			"Duration of the last finished run of each wave of a DRPlan.",
			"namespace", "plan", "wave"),
		current: map[string]string{},
	}
}

// counterVec and gaugeVec are the metrics with nothing but a name, a help
// text and labels, all in the operator's namespace.
func counterVec(name, help string, labels ...string) *prometheus.CounterVec {
	return prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: namespace, Name: name, Help: help}, labels)
}

func gaugeVec(name, help string, labels ...string) *prometheus.GaugeVec {
	return prometheus.NewGaugeVec(prometheus.GaugeOpts{Namespace: namespace, Name: name, Help: help}, labels)
}

// ObserveCall counts one cloud API call; it matches sdrs.CallObserver.
func (r *Recorder) ObserveCall(op string, err error, d time.Duration) {
	r.calls.WithLabelValues(op).Inc()
	r.callTime.WithLabelValues(op).Observe(d.Seconds())
	if err != nil {
		r.callErrors.WithLabelValues(op, codeLabel(sdrs.ErrorCode(err))).Inc()
	}
}

// OperationFinished counts a finished operation and its duration.
func (r *Recorder) OperationFinished(opType, result string, d time.Duration) {
	r.operations.WithLabelValues(opType, result).Inc()
	r.duration.WithLabelValues(opType).Observe(d.Seconds())
}

// SetInFlight records which operation, if any, a group has in flight. The
// gauge is derived from this map so that it stays right across reconciles
// that see the same operation many times.
func (r *Recorder) SetInFlight(group, opType string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	prev, had := r.current[group]
	if had && prev == opType {
		return
	}
	if had {
		r.inFlight.WithLabelValues(prev).Dec()
		delete(r.current, group)
	}
	if opType != "" {
		r.current[group] = opType
		r.inFlight.WithLabelValues(opType).Inc()
	}
}

// SetActiveSite publishes the active site of a group ("" removes it).
func (r *Recorder) SetActiveSite(namespace, name, site string) {
	for _, s := range []string{"source", "target"} {
		if site == "" {
			r.activeSite.DeleteLabelValues(namespace, name, s)
			continue
		}
		v := 0.0
		if s == site {
			v = 1
		}
		r.activeSite.WithLabelValues(namespace, name, s).Set(v)
	}
}

var conditionStatuses = []string{"True", "False", "Unknown"}

// SetConditions publishes a group's conditions as type/status gauges.
func (r *Recorder) SetConditions(namespace, name string, conds map[string]string) {
	for typ, status := range conds {
		for _, s := range conditionStatuses {
			v := 0.0
			if s == status {
				v = 1
			}
			r.conditions.WithLabelValues(namespace, name, typ, s).Set(v)
		}
	}
}

// SetReplicationActive publishes whether replication is active; exported
// reports false removes the series (protection Disabled: not expected).
func (r *Recorder) SetReplicationActive(namespace, name string, active, exported bool) {
	if !exported {
		r.replActive.DeleteLabelValues(namespace, name)
		return
	}
	v := 0.0
	if active {
		v = 1
	}
	r.replActive.WithLabelValues(namespace, name).Set(v)
}

// SetFaultLevel publishes the worst fault level of a group's pairs; a
// negative level (not read) removes the series.
func (r *Recorder) SetFaultLevel(namespace, name string, level int) {
	if level < 0 {
		r.faultLevel.DeleteLabelValues(namespace, name)
		return
	}
	r.faultLevel.WithLabelValues(namespace, name).Set(float64(level))
}

// SetRPOExceededPairs publishes a project's count of pairs above their RPO
// target; a negative count (SDRS had none) removes the series.
func (r *Recorder) SetRPOExceededPairs(providerConfig string, n int) {
	if n < 0 {
		r.rpoPairs.DeleteLabelValues(providerConfig)
		return
	}
	r.rpoPairs.WithLabelValues(providerConfig).Set(float64(n))
}

var drillPhases = []string{"Pending", "Creating", "Available", "Verifying", "Releasing", "Released", "Failed"}

// SetDrill publishes a drill's phase, age and whether its cleanup is overdue.
func (r *Recorder) SetDrill(namespace, name, phase string, age time.Duration, cleanupOverdue bool) {
	for _, p := range drillPhases {
		v := 0.0
		if p == phase {
			v = 1
		}
		r.drillPhase.WithLabelValues(namespace, name, p).Set(v)
	}
	r.drillAge.WithLabelValues(namespace, name).Set(age.Seconds())
	v := 0.0
	if cleanupOverdue {
		v = 1
	}
	r.drillStuck.WithLabelValues(namespace, name).Set(v)
}

// ForgetDrill removes a deleted drill's series.
func (r *Recorder) ForgetDrill(namespace, name string) {
	r.drillPhase.DeletePartialMatch(prometheus.Labels{"namespace": namespace, "name": name})
	r.drillAge.DeleteLabelValues(namespace, name)
	r.drillStuck.DeleteLabelValues(namespace, name)
}

// Forget removes every per-group series of a deleted ProtectionGroup.
func (r *Recorder) Forget(namespace, name string) {
	r.SetActiveSite(namespace, name, "")
	r.replActive.DeleteLabelValues(namespace, name)
	r.faultLevel.DeleteLabelValues(namespace, name)
	r.conditions.DeletePartialMatch(prometheus.Labels{"namespace": namespace, "name": name})
}

// planMemberStates are the states SetPlan always publishes, 0 when the
// controller reports none; the controller's map may add others (its keys
// are fixed in its code, never taken from an object).
var planMemberStates = []string{"pending", "inProgress", "succeeded", "failed", "skipped",
	"atSource", "atTarget", "diverged", "claimedElsewhere", "unassigned"}

// SetPlan publishes a plan's members by state and whether its run waits for
// an approval; it matches controllers.PlanMetrics.
func (r *Recorder) SetPlan(namespace, name string, members map[string]int, waitingForApproval bool) {
	for _, state := range planMemberStates {
		r.planMembers.WithLabelValues(namespace, name, state).Set(float64(members[state]))
	}
	for state, n := range members {
		r.planMembers.WithLabelValues(namespace, name, state).Set(float64(n))
	}
	v := 0.0
	if waitingForApproval {
		v = 1
	}
	r.planWaiting.WithLabelValues(namespace, name).Set(v)
}

// ObserveRun records a finished run's duration: the plan's last-run gauge
// keeps only this run (one series per plan), and the histogram counts it
// without the plan label.
func (r *Recorder) ObserveRun(namespace, name, mode, toSite, phase string, d time.Duration) {
	r.planLastRun.DeletePartialMatch(prometheus.Labels{"namespace": namespace, "plan": name})
	r.planLastRun.WithLabelValues(namespace, name, mode, toSite, phase).Set(d.Seconds())
	r.planRuns.WithLabelValues(namespace, mode, toSite, phase).Observe(d.Seconds())
}

// ObserveWave records a finished wave's duration.
func (r *Recorder) ObserveWave(namespace, name, wave string, d time.Duration) {
	r.planLastWave.WithLabelValues(namespace, name, wave).Set(d.Seconds())
}

// ForgetPlan removes a deleted plan's series (the histogram has no plan
// label and keeps its counts).
func (r *Recorder) ForgetPlan(namespace, name string) {
	labels := prometheus.Labels{"namespace": namespace, "plan": name}
	r.planMembers.DeletePartialMatch(labels)
	r.planWaiting.DeletePartialMatch(labels)
	r.planLastRun.DeletePartialMatch(labels)
	r.planLastWave.DeletePartialMatch(labels)
}
