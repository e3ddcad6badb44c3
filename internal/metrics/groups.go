package metrics

import (
	"time"

	drv1alpha1 "github.com/sdrs-operator/sdrs-operator/api/v1alpha1"
)

// GroupFacts is what the ProtectionGroup controller knows of one group
// after a reconcile; the collector derives every group series from it at
// scrape time.
type GroupFacts struct {
	Namespace, Name string
	// ActiveSite is "source", "target", or "" while not known.
	ActiveSite string
	// Conditions maps each condition type to its status (True, False,
	// Unknown). Types other than the ProtectionGroup's own are ignored.
	Conditions map[string]string
	// ReplicationExpected is true while protection is Enabled and the SDRS
	// group exists: only then does an inactive replication count.
	ReplicationExpected bool
	ReplicationActive   bool
	// FaultLevel is the worst fault level of the group's pairs; negative
	// while not read.
	FaultLevel int
	// Operation is the type of the operation in flight, "" for none, and
	// OperationStarted when its intent was recorded.
	Operation        string
	OperationStarted time.Time
	// DrillDue is when the last passed drill stops counting (its time plus
	// spec.drillInterval); zero when no drill passed.
	DrillDue time.Time
	// Failed is the last finished operation when it failed, else nil.
	Failed *Failure
}

// Failure is a failed operation: its type, the condition reason it left
// the group with, its cloud error code and when it ended.
type Failure struct {
	Type, Reason, Code string
	FinishedAt         time.Time
}

// groupKey identifies a group in the table.
type groupKey struct{ namespace, name string }

// Condition statuses as stored: absent, then the three statuses.
const (
	statusAbsent uint8 = iota
	statusTrue
	statusFalse
	statusUnknown
)

var statusNames = [...]string{statusTrue: "True", statusFalse: "False", statusUnknown: "Unknown"}

// conditionTypes are the ProtectionGroup condition types the table keeps;
// their index is the slot in groupFact.conds.
var conditionTypes = [...]string{
	drv1alpha1.ReadyCondition, drv1alpha1.ReconcilingCondition, drv1alpha1.StalledCondition,
	drv1alpha1.ProtectedCondition, drv1alpha1.PausedCondition, drv1alpha1.ServersRunningCondition,
	drv1alpha1.FailoverReadyCondition, drv1alpha1.DrillUpToDateCondition,
}

// Active sites as stored; siteNames labels them.
const (
	siteUnknown uint8 = iota
	siteSource
	siteTarget
)

var siteNames = [...]string{siteUnknown: "unknown", siteSource: "source", siteTarget: "target"}

// Replication states as stored.
const (
	replNotExpected uint8 = iota
	replActive
	replInactive
)

// groupFact is one group's facts, compact: ten thousand of them are the
// whole per-group cost of the metrics when per-group series are off.
// Strings other than the key are interned.
type groupFact struct {
	opType     string // interned; "" when none in flight
	opStarted  int64  // unix nanoseconds
	drillDue   int64  // unix seconds; 0 when no drill passed
	lastFailed int64  // unix seconds of the last failure seen
	conds      [len(conditionTypes)]uint8
	site       uint8
	repl       uint8
	fault      int8
}

// compact turns the controller's facts into the stored form.
func (r *Recorder) compact(f GroupFacts) groupFact {
	g := groupFact{site: siteOf(f.ActiveSite), fault: faultOf(f.FaultLevel)}
	for i, typ := range conditionTypes {
		g.conds[i] = statusOf(f.Conditions[typ])
	}
	switch {
	case !f.ReplicationExpected:
		g.repl = replNotExpected
	case f.ReplicationActive:
		g.repl = replActive
	default:
		g.repl = replInactive
	}
	if f.Operation != "" {
		g.opType = r.intern(f.Operation)
		r.opTypes[g.opType] = true
		g.opStarted = f.OperationStarted.UnixNano()
	}
	if !f.DrillDue.IsZero() {
		g.drillDue = f.DrillDue.Unix()
	}
	return g
}

func siteOf(s string) uint8 {
	switch s {
	case string(drv1alpha1.SiteSource):
		return siteSource
	case string(drv1alpha1.SiteTarget):
		return siteTarget
	}
	return siteUnknown
}

func statusOf(s string) uint8 {
	switch s {
	case "True":
		return statusTrue
	case "False":
		return statusFalse
	case "Unknown":
		return statusUnknown
	}
	return statusAbsent
}

// faultOf keeps a fault level within int8; SDRS's levels are 0 to 5, and
// a negative one means not read.
func faultOf(level int) int8 {
	if level < 0 {
		return -1
	}
	return int8(min(level, 99))
}

// intern returns the table's copy of s, so that ten thousand groups in
// one namespace, or with one operation type, hold one string. The caller
// holds r.mu.
func (r *Recorder) intern(s string) string {
	if v, ok := r.strings[s]; ok {
		return v
	}
	r.strings[s] = s
	return s
}

// ObserveGroup records a group's facts after a reconcile, and counts its
// last operation's failure once.
func (r *Recorder) ObserveGroup(f GroupFacts) {
	r.mu.Lock()
	defer r.mu.Unlock()
	key := groupKey{namespace: r.intern(f.Namespace), name: f.Name}
	prev, known := r.groups[key]
	g := r.compact(f)
	g.lastFailed = prev.lastFailed
	if f.Failed != nil {
		r.countFailure(&g, known, *f.Failed)
	}
	r.groups[key] = g
}

// countFailure counts a failure seen for the first time. A failure that
// ended before this process started was counted by the one before it (a
// restart would count every Stalled group again), and a later reconcile of
// the same failure reads its end again: only a newer end counts.
func (r *Recorder) countFailure(g *groupFact, known bool, f Failure) {
	end := f.FinishedAt.Unix()
	if known && end <= g.lastFailed {
		return
	}
	g.lastFailed = end
	if !f.FinishedAt.After(r.started) {
		return
	}
	r.failures.WithLabelValues(f.Type, reasonLabel(f.Reason), codeLabel(f.Code)).Inc()
}

// Forget removes a deleted group's facts, and with them its series.
func (r *Recorder) Forget(namespace, name string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	delete(r.groups, groupKey{namespace: namespace, name: name})
}

// failureReasons are the condition reasons a failed operation leaves a
// group with; the reason label takes only these, and reasonOther.
var failureReasons = map[string]bool{
	drv1alpha1.JobFailedReason:                  true,
	drv1alpha1.OutcomeUnknownReason:             true,
	drv1alpha1.GroupErrorReason:                 true,
	drv1alpha1.GroupNotFoundReason:              true,
	drv1alpha1.GroupConflictReason:              true,
	drv1alpha1.FailoverNotAllowedReason:         true,
	drv1alpha1.PreconditionNotMetReason:         true,
	drv1alpha1.ProductionSiteUnhealthyReason:    true,
	drv1alpha1.ReplicationNotSynchronizedReason: true,
	drv1alpha1.ReplicationLinkBrokenReason:      true,
	drv1alpha1.NoReplicationPairsReason:         true,
	drv1alpha1.CredentialsInvalidReason:         true,
	drv1alpha1.SDRSUnavailableReason:            true,
	drv1alpha1.ThrottledReason:                  true,
	drv1alpha1.InvalidRequestReason:             true,
	drv1alpha1.ReconcileErrorReason:             true,
}

// reasonOther labels a reason outside failureReasons.
const reasonOther = "Other"

func reasonLabel(reason string) string {
	if failureReasons[reason] {
		return reason
	}
	return reasonOther
}
