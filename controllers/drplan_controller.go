package controllers

import (
	"context"
	"fmt"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/types"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	drv1alpha1 "github.com/sdrs-operator/sdrs-operator/api/v1alpha1"
)

// livePoll is how often a live run is looked at without a member event:
// members' own changes wake the plan sooner.
const livePoll = 30 * time.Second

// DRPlanReconciler runs DRPlans: it moves members wave by wave by setting
// their spec (or creating their drills) and never calls SDRS itself; the
// ProtectionGroup controller does that with its exactly-once rules.
type DRPlanReconciler struct {
	client.Client
	// APIReader reads drills around the cache during drill runs.
	APIReader client.Reader
	Recorder  EventRecorder
	Metrics   PlanMetrics
	// Clock is replaceable in tests; nil is the real clock.
	Clock func() time.Time

	// expect holds this process's member and plan writes the cache has
	// not shown yet: deciding on an older copy could move more members
	// than maxConcurrent allows.
	expect *writeExpectations
}

// planScope carries what one reconcile of a plan learned and did.
type planScope struct {
	plan    *drv1alpha1.DRPlan
	base    *drv1alpha1.DRPlan
	now     time.Time
	members []drv1alpha1.ProtectionGroup
	placed  placement
	// problems keep a new run from starting (the Valid condition).
	problems []string
	// others are the namespace's other plans, for claims.
	others map[string]*drv1alpha1.DRPlan
	// drills are the drill run's ProtectionGroupDrills by name.
	drills map[string]*drv1alpha1.ProtectionGroupDrill
	// views are the current wave's members as the run sees them.
	views []memberView
	// requeue is the earliest moment something is due (a wait, a timeout).
	requeue time.Duration
}

func (s *planScope) due(d time.Duration) {
	d = max(d, time.Second)
	if s.requeue == 0 || d < s.requeue {
		s.requeue = d
	}
}

func (r *DRPlanReconciler) setDefaults() {
	if r.Clock == nil {
		r.Clock = time.Now
	}
	if r.Metrics == nil {
		r.Metrics = noopPlanMetrics{}
	}
	if r.APIReader == nil {
		r.APIReader = r.Client
	}
	if r.expect == nil {
		r.expect = newWriteExpectations()
	}
}

// +kubebuilder:rbac:groups=dr.sdrs.io,resources=drplans,verbs=get;list;watch
// +kubebuilder:rbac:groups=dr.sdrs.io,resources=drplans/status,verbs=get;update;patch
// +kubebuilder:rbac:groups=dr.sdrs.io,resources=protectiongroups,verbs=get;list;watch;patch
// +kubebuilder:rbac:groups=dr.sdrs.io,resources=protectiongroupdrills,verbs=get;list;watch;create;delete
// +kubebuilder:rbac:groups=batch,resources=jobs,verbs=get;list;watch;create

// Reconcile is the plan's skeleton: get, scope, deferred summary and one
// status write, then the phases.
func (r *DRPlanReconciler) Reconcile(ctx context.Context, req ctrl.Request) (res ctrl.Result, reterr error) {
	plan := &drv1alpha1.DRPlan{}
	if err := r.Get(ctx, req.NamespacedName, plan); err != nil {
		if apierrors.IsNotFound(err) {
			r.expect.forget(req.NamespacedName)
			r.Metrics.ForgetPlan(req.Namespace, req.Name)
		}
		return ctrl.Result{}, client.IgnoreNotFound(err)
	}
	now := r.Clock()
	if r.expect.behind(req.NamespacedName, plan.ResourceVersion, now) {
		return ctrl.Result{RequeueAfter: cacheLagPoll}, nil
	}
	ctx = ctrl.LoggerInto(ctx, ctrl.LoggerFrom(ctx).WithValues("plan", req.NamespacedName.String()))
	s := &planScope{plan: plan, base: plan.DeepCopy(), now: now}
	if lag, err := r.load(ctx, s); err != nil || lag {
		return ctrl.Result{RequeueAfter: cacheLagPoll}, err
	}
	defer func() { res, reterr = r.summarize(ctx, s, reterr) }()
	return ctrl.Result{}, runPhases(ctx, s,
		r.evaluate,
		r.startRun,
		r.advanceRun,
	)
}

// load reads the members, the namespace's other plans and (in a drill
// run) the plan's drills. lag is true while the cache has not shown a
// member this process patched.
func (r *DRPlanReconciler) load(ctx context.Context, s *planScope) (lag bool, err error) {
	sel, err := metav1.LabelSelectorAsSelector(&s.plan.Spec.Selector)
	if err != nil {
		return false, nil // evaluate reports it
	}
	var pgs drv1alpha1.ProtectionGroupList
	if err := r.List(ctx, &pgs, client.InNamespace(s.plan.Namespace), client.MatchingLabelsSelector{Selector: sel}); err != nil {
		return false, fmt.Errorf("cannot list the plan's ProtectionGroups: %w", err)
	}
	for i := range pgs.Items {
		if r.expect.behind(client.ObjectKeyFromObject(&pgs.Items[i]), pgs.Items[i].ResourceVersion, s.now) {
			return true, nil
		}
	}
	s.members = pgs.Items
	var plans drv1alpha1.DRPlanList
	if err := r.List(ctx, &plans, client.InNamespace(s.plan.Namespace)); err != nil {
		return false, fmt.Errorf("cannot list DRPlans: %w", err)
	}
	s.others = map[string]*drv1alpha1.DRPlan{}
	for i := range plans.Items {
		if plans.Items[i].Name != s.plan.Name {
			s.others[plans.Items[i].Name] = &plans.Items[i]
		}
	}
	if run := s.plan.Status.Run; run != nil && run.Mode == drv1alpha1.PlanModeDrill && !run.Phase.Finished() {
		// Read around the cache: a drill this process just created must
		// count, or the wave could start more than maxConcurrent.
		var drills drv1alpha1.ProtectionGroupDrillList
		if err := r.APIReader.List(ctx, &drills, client.InNamespace(s.plan.Namespace),
			client.MatchingLabels{planLabel: s.plan.Name, runLabel: run.ID}); err != nil {
			return false, fmt.Errorf("cannot list the run's drills: %w", err)
		}
		s.drills = map[string]*drv1alpha1.ProtectionGroupDrill{}
		for i := range drills.Items {
			s.drills[drills.Items[i].Name] = &drills.Items[i]
		}
	}
	return false, nil
}

// evaluate places the members in waves and lists what keeps a run from
// starting; the Valid condition carries it.
func (r *DRPlanReconciler) evaluate(_ context.Context, s *planScope) error {
	if _, err := metav1.LabelSelectorAsSelector(&s.plan.Spec.Selector); err != nil {
		s.problems = append(s.problems, "spec.selector: "+err.Error())
		return nil
	}
	p, err := placeMembers(s.plan, s.members)
	if err != nil {
		s.problems = append(s.problems, err.Error())
		return nil
	}
	s.placed = p
	s.problems = append(s.problems, planProblems(s.plan, p, s.members)...)
	s.plan.Status.Members = r.memberSummary(s)
	return nil
}

// memberSummary counts the members as they are now.
func (r *DRPlanReconciler) memberSummary(s *planScope) *drv1alpha1.PlanMembers {
	m := &drv1alpha1.PlanMembers{Total: int32(len(s.members)), Unassigned: int32(len(s.placed.unassigned))}
	last := lastRun(s.plan, drv1alpha1.PlanModeFailover)
	for i := range s.members {
		pg := &s.members[i]
		switch pg.Status.ActiveSite {
		case drv1alpha1.SiteSource:
			m.AtSource++
		case drv1alpha1.SiteTarget:
			m.AtTarget++
		}
		plan, run, _, ok := parseStamp(pg.Annotations[drv1alpha1.PlanRunAnnotation])
		switch {
		case ok && plan != s.plan.Name && s.claimedBy(plan, run):
			m.ClaimedElsewhere++
		case ok && plan == s.plan.Name && last != nil && run == last.ID && pg.Spec.DesiredActiveSite != last.ToSite:
			m.Diverged++
		}
	}
	return m
}

// claimedBy says whether plan's run is live.
func (s *planScope) claimedBy(plan, run string) bool {
	o := s.others[plan]
	return o != nil && o.Status.Run != nil && o.Status.Run.ID == run && !o.Status.Run.Phase.Finished()
}

// summarize sets the conditions from the run, records metrics, and writes
// status once if it changed.
func (r *DRPlanReconciler) summarize(ctx context.Context, s *planScope, err error) (ctrl.Result, error) {
	o := outcomeOf(err)
	if o.conflict {
		return ctrl.Result{RequeueAfter: time.Second}, nil
	}
	plan := s.plan
	r.setConditions(s, o)
	if o.retErr == nil {
		plan.Status.ObservedGeneration = plan.Generation
	}
	if run := plan.Status.Run; run != nil && !run.Phase.Finished() {
		run.Duration = &metav1.Duration{Duration: s.now.Sub(run.StartedAt.Time).Truncate(time.Second)}
	}
	r.publish(s)
	if !equality.Semantic.DeepEqual(s.base.Status, plan.Status) {
		if werr := r.Status().Update(ctx, plan); werr != nil {
			if apierrors.IsConflict(werr) || apierrors.IsNotFound(werr) {
				return ctrl.Result{RequeueAfter: time.Second}, nil
			}
			return ctrl.Result{}, fmt.Errorf("cannot write plan status: %w", werr)
		}
		r.expect.wrote(client.ObjectKeyFromObject(plan), plan.ResourceVersion, s.now)
	}
	if o.retErr != nil {
		return ctrl.Result{}, o.retErr
	}
	if o.requeue > 0 {
		s.due(o.requeue)
	}
	if run := plan.Status.Run; run != nil && !run.Phase.Finished() {
		s.due(livePoll)
	}
	return ctrl.Result{RequeueAfter: s.requeue}, nil
}

func (r *DRPlanReconciler) publish(s *planScope) {
	members := map[string]int{}
	if m := s.plan.Status.Members; m != nil {
		members["atSource"], members["atTarget"] = int(m.AtSource), int(m.AtTarget)
		members["diverged"], members["claimedElsewhere"], members["unassigned"] = int(m.Diverged), int(m.ClaimedElsewhere), int(m.Unassigned)
	}
	waiting := false
	if run := s.plan.Status.Run; run != nil {
		var c drv1alpha1.PlanCounts
		for _, w := range run.Waves {
			c = addCounts(c, w.Counts)
		}
		members["pending"], members["inProgress"], members["succeeded"] = int(c.Pending), int(c.InProgress), int(c.Succeeded)
		members["failed"], members["skipped"] = int(c.Failed), int(c.Skipped)
		waiting = run.Phase == drv1alpha1.PlanWaitingForApproval
	}
	r.Metrics.SetPlan(s.plan.Namespace, s.plan.Name, members, waiting)
	publishPlanRun(r.Metrics, s.plan)
}

// setConditions derives Ready, Reconciling, Stalled, WaitingForApproval
// and Valid from the run and the members; the table is in docs/plans.md.
func (r *DRPlanReconciler) setConditions(s *planScope, o outcome) {
	plan := s.plan
	set := func(typ string, status bool, reason, msg string) {
		meta.SetStatusCondition(&plan.Status.Conditions, metav1.Condition{Type: typ, Status: boolStatus(status), Reason: reason,
			Message: truncate(msg, 1024), ObservedGeneration: plan.Generation, LastTransitionTime: metav1.NewTime(s.now)})
	}
	valid := len(s.problems) == 0
	if valid {
		set(drv1alpha1.ValidCondition, true, drv1alpha1.PlanValidReason, fmt.Sprintf("%d members in %d waves", len(s.members), len(plan.Spec.Waves)))
	} else {
		set(drv1alpha1.ValidCondition, false, drv1alpha1.PlanInvalidReason, joinProblems(s.problems))
	}
	ready, reconciling, stalledNow := false, false, false
	reason, msg := r.state(s)
	run := plan.Status.Run
	live := run != nil && !run.Phase.Finished()
	switch {
	case o.retErr != nil || o.stalled:
		reason, msg, stalledNow, reconciling = o.reason, o.message, o.stalled, !o.stalled
	case live && run.Phase == drv1alpha1.PlanBlocked:
		stalledNow = true
	case live && plan.Spec.Suspend:
	case live:
		reconciling = true
	case !valid:
		stalledNow = true
	case reason == drv1alpha1.PlanArmedReason || reason == drv1alpha1.PlanAtDesiredSiteReason:
		ready = true
	case reason == drv1alpha1.PlanNoMembersReason:
		ready = plan.Spec.DesiredActiveSite == ""
	default:
		stalledNow = true
	}
	set(drv1alpha1.ReadyCondition, ready, reason, msg)
	set(drv1alpha1.ReconcilingCondition, reconciling, orReason(reconciling, reason), msg)
	set(drv1alpha1.StalledCondition, stalledNow, orReason(stalledNow, reason), msg)
	waiting := live && run.Phase == drv1alpha1.PlanWaitingForApproval
	wmsg := "no approval pending"
	if waiting {
		wmsg = run.Message
	}
	set(drv1alpha1.WaitingForApprovalCondition, waiting, orReason(waiting, drv1alpha1.ApprovalRequiredReason), wmsg)
}

// state is the plan's Ready reason and message.
func (r *DRPlanReconciler) state(s *planScope) (string, string) {
	plan, run := s.plan, s.plan.Status.Run
	if run != nil && !run.Phase.Finished() {
		if plan.Spec.Suspend && run.Phase != drv1alpha1.PlanBlocked {
			return drv1alpha1.PlanSuspendedReason, fmt.Sprintf("run %s: suspended; nothing new starts, what is in flight finishes", run.ID)
		}
		return orDefault(run.Reason, drv1alpha1.WaveRunningReason), runMessage(run)
	}
	if len(s.problems) > 0 {
		return drv1alpha1.PlanInvalidReason, joinProblems(s.problems)
	}
	if len(s.members) == 0 {
		return drv1alpha1.PlanNoMembersReason, "spec.selector selects no ProtectionGroup in this namespace"
	}
	to := plan.Spec.DesiredActiveSite
	if run != nil && run.Phase != drv1alpha1.PlanSucceeded && (run.Mode == drv1alpha1.PlanModeDrill || run.ToSite == to) {
		// The last run ended badly and nothing newer replaced it: a person decides.
		return run.Reason, fmt.Sprintf("%s; a Retry decision for run %s starts a new one", run.Message, run.ID)
	}
	if to == "" {
		m := plan.Status.Members
		return drv1alpha1.PlanArmedReason, fmt.Sprintf("armed: no desiredActiveSite, nothing moves; %d members at source, %d at target", m.AtSource, m.AtTarget)
	}
	var away []string
	for i := range s.members {
		if pg := &s.members[i]; pg.Status.ActiveSite != to || pg.Spec.DesiredActiveSite != to {
			away = append(away, pg.Name)
		}
	}
	if len(away) > 0 {
		return drv1alpha1.PlanMembersNotAtSiteReason, fmt.Sprintf("%d of %d members are not at %s: %s; a Retry decision for the last run starts a new one",
			len(away), len(s.members), to, capList(away, 10))
	}
	return drv1alpha1.PlanAtDesiredSiteReason, fmt.Sprintf("all %d members at %s", len(s.members), to)
}

// lastRun is the plan's most recent run of a mode, live or finished.
func lastRun(plan *drv1alpha1.DRPlan, mode drv1alpha1.PlanRunMode) *drv1alpha1.PlanRun {
	if run := plan.Status.Run; run != nil && run.Mode == mode {
		return run
	}
	for _, h := range plan.Status.History {
		if h.Mode == mode {
			return &drv1alpha1.PlanRun{ID: h.ID, Mode: h.Mode, ToSite: h.ToSite, DrillRequest: h.DrillRequest, Phase: h.Phase}
		}
	}
	return nil
}

func runMessage(run *drv1alpha1.PlanRun) string {
	if run.Message != "" {
		return run.Message
	}
	return fmt.Sprintf("run %s (%s to %s): %s", run.ID, run.Mode, run.ToSite, run.Phase)
}

func joinProblems(p []string) string {
	return "no run starts until this is fixed: " + capList(p, 5)
}

func orDefault(s, d string) string {
	if s == "" {
		return d
	}
	return s
}

// event records an Event on the plan; reasons equal condition reasons.
func (r *DRPlanReconciler) event(plan *drv1alpha1.DRPlan, warning bool, reason, format string, args ...any) {
	if r.Recorder == nil {
		return
	}
	typ := corev1.EventTypeNormal
	if warning {
		typ = corev1.EventTypeWarning
	}
	r.Recorder.Eventf(plan, nil, typ, reason, "Run", format, args...)
}

// SetupWithManager watches plans, their Jobs and drills, and the
// ProtectionGroups they select.
func (r *DRPlanReconciler) SetupWithManager(mgr ctrl.Manager) error {
	r.setDefaults()
	return ctrl.NewControllerManagedBy(mgr).
		For(&drv1alpha1.DRPlan{}).
		Owns(&batchv1.Job{}).
		Owns(&drv1alpha1.ProtectionGroupDrill{}).
		Watches(&drv1alpha1.ProtectionGroup{}, handler.EnqueueRequestsFromMapFunc(r.plansOfMember)).
		WithOptions(controller.Options{MaxConcurrentReconciles: 4}).
		Complete(r)
}

// plansOfMember maps a ProtectionGroup to the plans that select it or
// whose run stamped it.
func (r *DRPlanReconciler) plansOfMember(ctx context.Context, o client.Object) []reconcile.Request {
	var plans drv1alpha1.DRPlanList
	if err := r.List(ctx, &plans, client.InNamespace(o.GetNamespace())); err != nil {
		return nil
	}
	stamped, _, _, _ := parseStamp(o.GetAnnotations()[drv1alpha1.PlanRunAnnotation])
	var out []reconcile.Request
	for i := range plans.Items {
		p := &plans.Items[i]
		sel, err := metav1.LabelSelectorAsSelector(&p.Spec.Selector)
		if p.Name == stamped || (err == nil && sel.Matches(labels.Set(o.GetLabels()))) {
			out = append(out, reconcile.Request{NamespacedName: types.NamespacedName{Namespace: p.Namespace, Name: p.Name}})
		}
	}
	return out
}
