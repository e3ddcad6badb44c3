package controllers

import (
	"context"
	"fmt"
	"sync/atomic"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/types"
	kerrors "k8s.io/apimachinery/pkg/util/errors"
	"k8s.io/client-go/util/workqueue"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/predicate"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"
	"sigs.k8s.io/controller-runtime/pkg/source"

	drv1alpha1 "github.com/sdrs-operator/sdrs-operator/api/v1alpha1"
	"github.com/sdrs-operator/sdrs-operator/internal/sdrs"
)

const (
	// indexProviderConfig indexes ProtectionGroups by the ProviderConfig
	// they use, so a ProviderConfig change wakes exactly those groups.
	indexProviderConfig = "spec.providerConfigRef.name"
	// indexGroupID indexes ProtectionGroups by SDRS group ID, so that two
	// objects managing one group are detected.
	indexGroupID = "sdrs.groupID"

	// defaultSyncInterval is how often an idle group is read from SDRS
	// when the ProviderConfig does not say.
	defaultSyncInterval = 5 * time.Minute
)

// DefaultMaxConcurrentReconciles is the manager's default number of
// ProtectionGroups reconciled at once. A reconcile mostly waits on SDRS's
// round trip or on the ProviderConfig's rate limiter, so workers are cheap
// (docs/performance.md, the concurrency sweep, chose the number).
const DefaultMaxConcurrentReconciles = 64

// ProtectionGroupReconciler makes SDRS protection groups match their
// ProtectionGroup objects.
type ProtectionGroupReconciler struct {
	client.Client
	// APIReader reads around the cache (the manager's API reader), to
	// rebase a status write that conflicted; nil reads through Client.
	APIReader client.Reader
	Connector sdrs.Connector
	Recorder  EventRecorder
	// Metrics records what alerts and dashboards read; nil records nothing.
	Metrics MetricsRecorder
	// Clock is replaceable in tests; nil is the real clock.
	Clock func() time.Time
	// Poll schedules job polling; nil is a schedule that knows nothing yet.
	Poll *PollSchedule
	// StalledRecheck is how long a Stalled group waits before it is
	// looked at again (credential problems: at most credentialsRecheck);
	// 0 means DefaultStalledRecheck.
	StalledRecheck time.Duration
	// RecordJobIDAfter is how long an SDRS job this process issued may
	// run before its ID is written to status on its own; a job that ends
	// sooner has its ID written with its result (see unwrittenJobs). 0, the
	// default, writes it right after the call.
	RecordJobIDAfter time.Duration
	// NotStartedGrace is how long an attempt whose answer never came may
	// stay invisible in SDRS and ECS before it counts as not taken; it
	// must exceed the cloud client's timeout. 0 means DefaultNotStartedGrace.
	NotStartedGrace time.Duration
	// PartialCache says the manager's cache holds only some namespaces
	// (--watch-namespace): the owner check then also asks the API server,
	// through APIReader, for owners in other namespaces (checkSoleOwner).
	PartialCache bool

	// unwritten holds the job IDs this process issued that status does
	// not hold yet.
	unwritten *unwrittenJobs
	// expect holds this process's writes the cache has not shown yet.
	expect *writeExpectations
	// conflicts spaces the looks at objects whose status writes conflict.
	conflicts *conflictBackoff
	// facts holds the project-wide reads behind failover readiness.
	facts fleetFacts
}

// Workqueue priorities: an operation in flight goes first, a converged
// group's periodic look last; everything else has the default, 0.
const (
	inFlightPriority  = 10
	convergedPriority = -1
)

// queuePriority puts an operation's next look (its job's expected end)
// ahead of new flips, and a converged group's periodic look behind them:
// during a fleet failover that outlasts syncInterval, what turns groups
// Ready goes first. A change of the object raises the priority to the
// default (the queue keeps the higher one).
func queuePriority(pg *drv1alpha1.ProtectionGroup) int {
	switch {
	case pg.Status.CurrentOperation != nil:
		return inFlightPriority
	case pg.Status.ObservedGeneration == pg.Generation && meta.IsStatusConditionTrue(pg.Status.Conditions, drv1alpha1.ReadyCondition):
		return convergedPriority
	}
	return 0
}

// DefaultStalledRecheck is how often a Stalled group is looked at again
// unless StalledRecheck says otherwise.
const DefaultStalledRecheck = 2 * time.Minute

// setDefaults fills what the caller left unset, once, before the
// reconciler runs: every default lives here.
func (r *ProtectionGroupReconciler) setDefaults() {
	if r.Metrics == nil {
		r.Metrics = noopMetrics{}
	}
	if r.Clock == nil {
		r.Clock = time.Now
	}
	if r.Poll == nil {
		r.Poll = NewPollSchedule()
	}
	if r.APIReader == nil {
		r.APIReader = r.Client
	}
	if r.StalledRecheck <= 0 {
		r.StalledRecheck = DefaultStalledRecheck
	}
	if r.NotStartedGrace <= 0 {
		r.NotStartedGrace = DefaultNotStartedGrace
	}
	r.unwritten = newUnwrittenJobs()
	r.expect = newWriteExpectations()
	r.conflicts = newConflictBackoff()
}

// +kubebuilder:rbac:groups=dr.sdrs.io,resources=protectiongroups,verbs=get;list;watch;update;patch
// +kubebuilder:rbac:groups=dr.sdrs.io,resources=protectiongroups/status,verbs=get;update;patch
// +kubebuilder:rbac:groups=dr.sdrs.io,resources=protectiongroups/finalizers,verbs=update
// +kubebuilder:rbac:groups=dr.sdrs.io,resources=providerconfigs,verbs=get;list;watch
// +kubebuilder:rbac:groups="",resources=secrets,verbs=get,namespace=sdrs-system
// +kubebuilder:rbac:groups=events.k8s.io,resources=events,verbs=create;patch

// Reconcile is a short skeleton: get, finalizer, scope, deferred summary
// and one patch, then the delete path or the phases.
func (r *ProtectionGroupReconciler) Reconcile(ctx context.Context, req ctrl.Request) (res ctrl.Result, reterr error) {
	pg := &drv1alpha1.ProtectionGroup{}
	if err := r.Get(ctx, req.NamespacedName, pg); err != nil {
		if apierrors.IsNotFound(err) {
			r.expect.forget(req.NamespacedName)
			r.Metrics.Forget(req.Namespace, req.Name)
		}
		return ctrl.Result{}, client.IgnoreNotFound(err)
	}
	behind, err := r.cacheBehind(ctx, pg)
	if err != nil {
		return ctrl.Result{}, client.IgnoreNotFound(err)
	}
	if behind {
		// The cache has not caught up with our own last write: deciding on
		// this copy would repeat work already done. The update that shows
		// the write wakes the group (cacheCaughtUp); the requeue ends a
		// wait the cache does not end in time (cacheWaitLimit).
		return ctrl.Result{RequeueAfter: cacheWaitLimit}, nil
	}
	ctx = ctrl.LoggerInto(ctx, ctrl.LoggerFrom(ctx).WithValues("protectionGroup", req.NamespacedName.String()))

	if pg.DeletionTimestamp.IsZero() && !controllerutil.ContainsFinalizer(pg, drv1alpha1.ProtectionGroupFinalizer) {
		controllerutil.AddFinalizer(pg, drv1alpha1.ProtectionGroupFinalizer)
		if err := r.Update(ctx, pg); err != nil {
			return ctrl.Result{}, client.IgnoreNotFound(err)
		}
		r.expect.wrote(req.NamespacedName, pg.ResourceVersion, r.Clock())
	}

	s := newScope(pg)
	if pg.Status.ObservedGeneration != pg.Generation {
		// A new generation: a Ready left over from the old spec must not
		// satisfy `kubectl wait --for=condition=Ready`.
		setProgressing(pg, r.Clock())
	}
	defer func() {
		res, reterr = r.summarize(ctx, s, res, reterr)
		// The queue keeps a request's last priority unless told, so every
		// reconcile says it.
		res.Priority = new(queuePriority(s.pg))
	}()

	if !pg.DeletionTimestamp.IsZero() {
		return ctrl.Result{}, r.reconcileDelete(ctx, s)
	}
	return ctrl.Result{}, runPhases(ctx, s,
		r.reconcileProviderConfig,
		r.reconcileCreate,
		r.reconcileObserve,
		r.reconcileReadinessFacts,
		r.reconcileDrills,
		r.reconcileOperation,
		r.reconcileDesiredState,
	)
}

// cacheBehind reports whether the cached pg predates this process's last
// write of it. It reads the cache a second time once the wait is marked:
// an update that reached the cache between the first read and the mark
// was not passed by cacheCaughtUp, and would otherwise be waited for in
// vain. A wait past cacheWaitLimit ends with pg read from the API server.
func (r *ProtectionGroupReconciler) cacheBehind(ctx context.Context, pg *drv1alpha1.ProtectionGroup) (bool, error) {
	key := client.ObjectKeyFromObject(pg)
	switch r.expect.check(key, pg.ResourceVersion, r.Clock(), cacheWaitLimit) {
	case expectMet:
		return false, nil
	case expectOverdue:
		return false, r.readAroundCache(ctx, pg)
	}
	if err := r.Get(ctx, key, pg); err != nil {
		return true, err
	}
	switch r.expect.check(key, pg.ResourceVersion, r.Clock(), cacheWaitLimit) {
	case expectMet:
		return false, nil
	case expectOverdue:
		return false, r.readAroundCache(ctx, pg)
	}
	return true, nil
}

// readAroundCache replaces pg with the API server's copy: the cache has
// not shown this process's own write within cacheWaitLimit.
func (r *ProtectionGroupReconciler) readAroundCache(ctx context.Context, pg *drv1alpha1.ProtectionGroup) error {
	cached := pg.ResourceVersion
	if err := r.APIReader.Get(ctx, client.ObjectKeyFromObject(pg), pg); err != nil {
		return fmt.Errorf("cannot read ProtectionGroup %s around the lagging cache: %w", client.ObjectKeyFromObject(pg), err)
	}
	ctrl.LoggerFrom(ctx).V(1).Info("cache lags behind this process's write; read from the API server",
		"protectionGroup", client.ObjectKeyFromObject(pg).String(), "cachedResourceVersion", cached, "resourceVersion", pg.ResourceVersion)
	return nil
}

// runPhases runs a reconcile's phases in order. A phase returns a
// waitError or stallError to stop the ones after it with a known outcome.
func runPhases[S any](ctx context.Context, s S, phases ...func(context.Context, S) error) error {
	for _, p := range phases {
		if err := p(ctx, s); err != nil {
			return err
		}
	}
	return nil
}

// summarize turns the reconcile's error into conditions, an Event on each
// transition, the requeue, and one status patch.
func (r *ProtectionGroupReconciler) summarize(ctx context.Context, s *scope, _ ctrl.Result, err error) (ctrl.Result, error) {
	o := outcomeOf(err)
	if o.stalled {
		// StalledRecheck sets the recheck of every stall; the shorter ones
		// (credentials, so that a fixed Secret is picked up soon) stay
		// shorter.
		if o.requeue >= stalledRecheck {
			o.requeue = r.StalledRecheck
		} else {
			o.requeue = min(o.requeue, r.StalledRecheck)
		}
	}
	if o.conflict {
		// Someone (often our own earlier write, not yet in the cache)
		// changed the object: look again soon, say nothing.
		return ctrl.Result{RequeueAfter: r.conflicts.next(client.ObjectKeyFromObject(s.pg))}, nil
	}
	pg := s.pg
	r.applyOutcome(s, o, r.Clock())
	r.publishMetrics(pg)

	if s.finished != nil {
		r.recordFinished(pg, s.finished)
	}
	if s.firstSwap {
		if msg := loginChangedMessage(pg); msg != "" {
			r.event(pg, false, drv1alpha1.LoginChangedReason, eventAction(s.finished), msg)
		}
	}
	// A finished operation's Event says how the reconcile ended, unless
	// another operation started right after it, or the next step stalls:
	// those get their own.
	if reason := readyReason(pg); reason != s.initialReady && (s.finished == nil || pg.Status.CurrentOperation != nil || o.stalled) {
		msg := readyMessage(pg)
		if s.issuedJobID != "" && pg.Status.CurrentOperation != nil {
			msg = fmt.Sprintf("%s: SDRS job %s started", describe(pg.Status.CurrentOperation), s.issuedJobID)
		}
		r.event(pg, o.warning, reason, eventAction(pg.Status.CurrentOperation), msg)
	}

	var patchErr error
	if pg.DeletionTimestamp.IsZero() || controllerutil.ContainsFinalizer(pg, drv1alpha1.ProtectionGroupFinalizer) {
		patchErr = r.patchStatus(ctx, s)
	}
	if patchErr == nil && s.finished != nil {
		// The result, and its job ID, are in status now.
		r.unwritten.forget(s.finished.RequestID)
	}
	key := client.ObjectKeyFromObject(pg)
	if patchErr != nil {
		if apierrors.IsConflict(patchErr) || apierrors.IsNotFound(patchErr) {
			return ctrl.Result{RequeueAfter: r.conflicts.next(key)}, nil
		}
		return ctrl.Result{}, kerrors.NewAggregate([]error{o.retErr, patchErr})
	}
	r.conflicts.reset(key)
	if o.retErr != nil {
		return ctrl.Result{}, o.retErr
	}
	if o.requeue > 0 {
		return ctrl.Result{RequeueAfter: o.requeue}, nil
	}
	if s.group != nil && s.group.ReplicationStatus == sdrs.ReplicationCopying {
		// Converged but still synchronising: follow the progress so that
		// Protected turns True soon after replication does.
		return ctrl.Result{RequeueAfter: min(syncPoll, r.syncInterval(s))}, nil
	}
	return ctrl.Result{RequeueAfter: r.syncInterval(s)}, nil
}

// applyOutcome sets the conditions and observedGeneration an outcome
// stands for.
func (r *ProtectionGroupReconciler) applyOutcome(s *scope, o outcome, now time.Time) {
	pg := s.pg
	setPausedCondition(pg, now)
	setProtectedCondition(pg, s.group, now)
	setServersRunningCondition(pg, now)
	// applyOutcome also runs before an attempt's write; the first swap
	// found then must reach the summary's Event.
	s.firstSwap = trackFirstSwap(pg, s.group, s.finished, now) || s.firstSwap
	setReadiness(pg, readinessInput{spec: &pg.Spec, group: s.group, facts: s.facts,
		inFlight: pg.Status.CurrentOperation, running: servingRunning(pg)}, now)
	setDrillStatus(pg, s.drills, now)
	setLoginGuidance(pg, now)
	setKstatusConditions(pg, o, s.converged, now)
	if o.retErr == nil {
		// The spec was read and acted on (or its wait explained); only an
		// unexpected error leaves the generation unobserved.
		pg.Status.ObservedGeneration = pg.Generation
	}
}

func (r *ProtectionGroupReconciler) syncInterval(s *scope) time.Duration {
	if s.pc != nil && s.pc.Spec.SyncInterval.Duration > 0 {
		return s.pc.Spec.SyncInterval.Duration
	}
	return defaultSyncInterval
}

// DefaultNotStartedGrace covers the SDRS client's default 30s timeout (a
// call still on its way) and leaves SDRS 90s to show an action it took.
const DefaultNotStartedGrace = 2 * time.Minute

// SetupWithManager registers the controller, its indexes and watches.
func (r *ProtectionGroupReconciler) SetupWithManager(mgr ctrl.Manager) error {
	ctx := context.Background()
	idx := mgr.GetFieldIndexer()
	if err := idx.IndexField(ctx, &drv1alpha1.ProtectionGroup{}, indexProviderConfig, func(o client.Object) []string {
		return []string{providerConfigName(o.(*drv1alpha1.ProtectionGroup))}
	}); err != nil {
		return fmt.Errorf("cannot index ProtectionGroups by ProviderConfig: %w", err)
	}
	if err := idx.IndexField(ctx, &drv1alpha1.ProtectionGroup{}, indexGroupID, func(o client.Object) []string {
		if id := o.(*drv1alpha1.ProtectionGroup).GroupID(); id != "" {
			return []string{id}
		}
		return nil
	}); err != nil {
		return fmt.Errorf("cannot index ProtectionGroups by SDRS group ID: %w", err)
	}
	r.setDefaults()
	// Jobs parked until a scout learned how long their type takes are
	// enqueued for when they are due (PollSchedule), through the queue the
	// controller hands this source.
	var queue atomic.Pointer[workqueue.TypedRateLimitingInterface[reconcile.Request]]
	r.Poll.OnLearned(func(parked []ParkedJob) {
		q := queue.Load()
		if q == nil {
			return // not started: the parked wait covers it
		}
		now := r.Clock()
		for _, j := range parked {
			(*q).AddAfter(reconcile.Request{NamespacedName: j.Key}, jitterUp(max(j.Due.Sub(now), 0)))
		}
	})
	learned := source.Func(func(_ context.Context, q workqueue.TypedRateLimitingInterface[reconcile.Request]) error {
		queue.Store(&q)
		return nil
	})
	return ctrl.NewControllerManagedBy(mgr).
		// Our own status writes do not wake the controller: it schedules
		// its next look itself, except for a reconcile that waits for the
		// cache to show one. Spec, deletion and dr.sdrs.io/ annotation
		// changes (pause, retry, refresh) do; other metadata does not, so
		// a foreign writer cannot make it call SDRS.
		For(&drv1alpha1.ProtectionGroup{}, builder.WithPredicates(predicate.Or(
			predicate.GenerationChangedPredicate{},
			ownAnnotationsChanged(),
			cacheCaughtUp(r.expect),
		))).
		Watches(&drv1alpha1.ProviderConfig{}, handler.EnqueueRequestsFromMapFunc(r.groupsForProviderConfig)).
		Watches(&drv1alpha1.ProtectionGroupDrill{}, handler.EnqueueRequestsFromMapFunc(r.groupOfDrill)).
		// A namespace relabelled into or out of a ProviderConfig's
		// namespaceSelector is acted on at once.
		WatchesMetadata(namespaceMetadata(), handler.EnqueueRequestsFromMapFunc(r.groupsForNamespace),
			builder.WithPredicates(predicate.LabelChangedPredicate{})).
		WatchesRawSource(learned).
		Named("protectiongroup").
		Complete(r)
}

// groupsForProviderConfig wakes the groups that use a ProviderConfig.
func (r *ProtectionGroupReconciler) groupsForProviderConfig(ctx context.Context, o client.Object) []reconcile.Request {
	var list drv1alpha1.ProtectionGroupList
	if err := r.List(ctx, &list, client.MatchingFields{indexProviderConfig: o.GetName()}); err != nil {
		ctrl.LoggerFrom(ctx).Error(err, "cannot list ProtectionGroups for ProviderConfig", "providerConfig", o.GetName())
		return nil
	}
	return requestsFor(list.Items)
}

// requestsFor wakes each of the groups.
func requestsFor(groups []drv1alpha1.ProtectionGroup) []reconcile.Request {
	reqs := make([]reconcile.Request, 0, len(groups))
	for i := range groups {
		reqs = append(reqs, reconcile.Request{NamespacedName: types.NamespacedName{
			Namespace: groups[i].Namespace, Name: groups[i].Name}})
	}
	return reqs
}

func providerConfigName(pg *drv1alpha1.ProtectionGroup) string {
	if pg.Spec.ProviderConfigRef.Name != "" {
		return pg.Spec.ProviderConfigRef.Name
	}
	return "default"
}
