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
//
// The ProtectionGroup series come from a table of facts per group (a few
// dozen bytes each) that one collector turns into series at scrape time:
// the fleet-level counts always, the per-group series only when asked
// (WithPerGroup). A GaugeVec per group held about twenty series per group
// between scrapes, which at ten thousand groups was most of the manager's
// memory.
type Recorder struct {
	operations *prometheus.CounterVec
	failures   *prometheus.CounterVec
	duration   *prometheus.HistogramVec
	calls      *prometheus.CounterVec
	callErrors *prometheus.CounterVec
	eventsLost *prometheus.CounterVec
	callTime   *prometheus.HistogramVec
	rpoPairs   *prometheus.GaugeVec
	drillPhase *prometheus.GaugeVec
	drillAge   *prometheus.GaugeVec
	drillStuck *prometheus.GaugeVec

	planMembers  *prometheus.GaugeVec
	planWaiting  *prometheus.GaugeVec
	planLastRun  *prometheus.GaugeVec
	planRuns     *prometheus.HistogramVec
	planLastWave *prometheus.GaugeVec

	// perGroup exports the per-group series besides the fleet counts.
	perGroup bool
	// now is the clock of the ages computed at scrape time; started is
	// when the Recorder was built: failures that ended before it were
	// counted by an earlier process.
	now     func() time.Time
	started time.Time

	mu      sync.Mutex
	groups  map[groupKey]groupFact
	plans   map[groupKey]planFact
	drills  map[groupKey]time.Time
	strings map[string]string // interned namespaces and operation types
	opTypes map[string]bool   // operation types ever in flight
}

// Option configures the Recorder.
type Option func(*Recorder)

// WithPerGroup exports the per-group ProtectionGroup series (about twenty
// per group) besides the fleet-level counts (the manager flag
// --metrics-per-group).
func WithPerGroup(on bool) Option {
	return func(r *Recorder) { r.perGroup = on }
}

// withClock sets the clock of the ages computed at scrape time (tests).
func withClock(now func() time.Time) Option {
	return func(r *Recorder) { r.now, r.started = now, now() }
}

var (
	once   sync.Once
	shared *Recorder
)

// NewRecorder returns the process-wide Recorder, registering its collectors
// on first use (controller-runtime's registry is process-wide too); the
// options of the first call apply.
func NewRecorder(opts ...Option) *Recorder {
	once.Do(func() {
		shared = newRecorder(opts...)
		crmetrics.Registry.MustRegister(shared.collectors()...)
	})
	return shared
}

// collectors are everything the Recorder registers.
func (r *Recorder) collectors() []prometheus.Collector {
	return []prometheus.Collector{r.operations, r.failures, r.duration,
		r.calls, r.callErrors, r.callTime, r.eventsLost, r.rpoPairs, r.drillPhase, r.drillAge, r.drillStuck,
		r.planMembers, r.planWaiting, r.planLastRun, r.planRuns, r.planLastWave, groupCollector{r}}
}

func newRecorder(opts ...Option) *Recorder {
	r := &Recorder{
		operations: counterVec("operations_total",
			"SDRS operations finished, by type (PlannedFailover, Failover, Reprotect, ...) and result (Succeeded, Failed).",
			"type", "result"),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Namespace: namespace, Name: "operation_duration_seconds",
			Help:    "Time from an operation's intent to its end, including server stop/start steps.",
			Buckets: []float64{1, 2, 5, 10, 20, 30, 60, 120, 300, 600, 1200, 1800, 3600},
		}, []string{"type"}),
		failures: counterVec("operation_failures_total",
			"Operations that failed, by type, the condition reason they left the group with (a reason of the API, or Other) and the cloud error code (as cloud_api_errors_total labels it).",
			"type", "reason", "code"),
		calls: counterVec("cloud_api_calls_total",
			"SDRS and ECS API calls, by SDK operation.",
			"operation"),
		callErrors: counterVec("cloud_api_errors_total",
			"SDRS and ECS API calls that failed, by SDK operation and error code (a code the operator knows, \"other\", or \"none\" without a code).",
			"operation", "code"),
		eventsLost: counterVec("events_not_recorded_total",
			"Events the operator did not record, by why: queue_full (dropped so that no reconcile waits for the API server) or failed (refused by the API server, or failed every attempt).",
			"why"),
		callTime: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Namespace: namespace, Name: "cloud_api_call_duration_seconds",
			Help:    "Latency of SDRS and ECS API calls, including rate-limit waits.",
			Buckets: prometheus.DefBuckets,
		}, []string{"operation"}),
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
		now:     time.Now,
		groups:  map[groupKey]groupFact{},
		plans:   map[groupKey]planFact{},
		drills:  map[groupKey]time.Time{},
		strings: map[string]string{},
		opTypes: map[string]bool{},
	}
	r.started = r.now()
	for _, o := range opts {
		o(r)
	}
	return r
}

// counterVec and gaugeVec are the metrics with nothing but a name, a help
// text and labels, all in the operator's namespace.
func counterVec(name, help string, labels ...string) *prometheus.CounterVec {
	return prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: namespace, Name: name, Help: help}, labels)
}

func gaugeVec(name, help string, labels ...string) *prometheus.GaugeVec {
	return prometheus.NewGaugeVec(prometheus.GaugeOpts{Namespace: namespace, Name: name, Help: help}, labels)
}

// ObserveEventNotRecorded counts an Event not recorded; it matches
// eventrecorder.Options.OnNotRecorded.
func (r *Recorder) ObserveEventNotRecorded(why string) {
	r.eventsLost.WithLabelValues(why).Inc()
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
	r.forgetDrillExpiry(namespace, name)
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
	r.forgetPlanRun(namespace, name)
}
