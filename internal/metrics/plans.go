package metrics

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// planFact is what the collector needs of a DRPlan: its live run's start
// (zero when none is live) and its spec.rto (0 when unset).
type planFact struct {
	runStarted time.Time
	rto        time.Duration
}

// SetPlanRun records a plan's live run start (zero when no run is live)
// and its RTO (0 when the plan sets none); the elapsed time is computed
// at each scrape, so it moves between reconciles.
func (r *Recorder) SetPlanRun(namespace, name string, runStarted time.Time, rto time.Duration) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.plans[groupKey{namespace: namespace, name: name}] = planFact{runStarted: runStarted, rto: rto}
}

// SetDrillExpiry records when a drill's servers are deleted; zero removes
// it (not available yet, or released).
func (r *Recorder) SetDrillExpiry(namespace, name string, expiresAt time.Time) {
	r.mu.Lock()
	defer r.mu.Unlock()
	key := groupKey{namespace: namespace, name: name}
	if expiresAt.IsZero() {
		delete(r.drills, key)
		return
	}
	r.drills[key] = expiresAt
}

func (r *Recorder) forgetPlanRun(namespace, name string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	delete(r.plans, groupKey{namespace: namespace, name: name})
}

func (r *Recorder) forgetDrillExpiry(namespace, name string) {
	r.SetDrillExpiry(namespace, name, time.Time{})
}

// collectPlansAndDrills emits the live runs, the RTOs and the drill
// expiries. The caller holds r.mu.
func (r *Recorder) collectPlansAndDrills(ch chan<- prometheus.Metric, now time.Time) {
	for k, p := range r.plans {
		if !p.runStarted.IsZero() {
			gauge(ch, planElapsed, max(now.Sub(p.runStarted).Seconds(), 0), k.namespace, k.name)
		}
		if p.rto > 0 {
			gauge(ch, planRTO, p.rto.Seconds(), k.namespace, k.name)
		}
	}
	for k, exp := range r.drills {
		gauge(ch, drillExpiresIn, exp.Sub(now).Seconds(), k.namespace, k.name)
	}
}
