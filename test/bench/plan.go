package main

import (
	"context"
	"encoding/json"
	"fmt"
	"log"
	"strings"
	"sync"
	"time"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"

	drv1alpha1 "github.com/sdrs-operator/sdrs-operator/api/v1alpha1"
	"github.com/sdrs-operator/sdrs-operator/test/e2e/harness"
)

// planResult is one DRPlan run over N groups: the plan selects all of
// them, in Waves waves of N/Waves, each with maxConcurrent MaxConcurrent,
// and its desiredActiveSite is set to target once every group is Ready at
// source.
type planResult struct {
	N             int
	Waves         int
	MaxConcurrent int
	JobDuration   time.Duration
	// Phase and Message of the run at the end.
	Phase, Message string
	RunID          string

	// RunTook is the plan's spec update -> the benchmark's watch sees the
	// run Succeeded (or otherwise finished).
	RunTook time.Duration
	// StatusTook is status.run.finishedAt minus the update; finishedAt
	// has second resolution, so it may be up to 1 s short.
	StatusTook time.Duration
	// RunDuration is status.run.duration (recorded -> finished, whole
	// seconds).
	RunDuration time.Duration
	// FirstMove and LastMove: the update -> the watch sees the first and
	// the last member applied by the plan.
	FirstMove, LastMove time.Duration
	// LastReady: the update -> the last member seen done (Ready at
	// target for its new generation, as the plan counts it).
	LastReady time.Duration
	// LastReadyTracker is the same by the fleet flip's rule (Ready, at
	// the desired site, no operation in flight).
	LastReadyTracker time.Duration

	// Applies per member: the distinct (dr.sdrs.io/run,
	// dr.sdrs.io/moved-at) values the watch saw on it; each apply of the
	// plan writes a new moved-at.
	Patched, PatchesTotal, PatchesMax int
	// API is kube-apiserver's apiserver_request_total over the run, for
	// protectiongroups and drplans, by "resource[/subresource] VERB".
	API map[string]float64
	// PlanReconciles is the manager's controller_runtime_reconcile_total
	// for the drplan controller over the run.
	PlanReconciles float64
	// ManagerByMethod is the manager's rest_client_requests_total by
	// method (no resource label: every controller together).
	ManagerByMethod map[string]float64

	// The DRPlan as JSON: at its largest while the run went on and at
	// the end, with and without managedFields.
	PlanBytesMax, PlanBytesEnd         int
	PlanBytesMaxNoMF, PlanBytesEndNoMF int
	// MaxDone is the longest status.run.waves[].done list seen, and
	// MaxDoneBytes the most bytes of JSON the done lists took in one
	// version.
	MaxDone, MaxDoneBytes int
	// PlanBytesWritten adds up the DRPlan's JSON over the versions the
	// watch saw: what kube-apiserver stored and sent for the run.
	PlanBytesWritten int
	// PlanVersions is how many versions of the DRPlan the watch saw from
	// the update to the end of the run.
	PlanVersions int

	// OpOverlap is the most members' status.lastOperation spans
	// (startedAt..finishedAt, whole seconds) running at one instant;
	// JobOverlap the same for the emulator's reverse jobs (exact times);
	// InFlight for the spans the plan counts: its apply seen -> the member
	// seen done.
	OpOverlap, JobOverlap, InFlight int

	// SDRS: reverse actions per group and every call during the run.
	Reverses, ReversesMin, ReversesMax int
	Calls                              callCounts

	// MachineBusy is the whole machine's busy share during the run
	// (0..1), LoadAvg the 1-minute load average at its end.
	MachineBusy, LoadAvg float64

	Err string
}

const planName = "fleet"

// waveOf names the wave of group i of n when the plan has k waves: groups
// in order, n/k each.
func waveOf(i, n, k int) string {
	return fmt.Sprintf("w%d", i*k/n+1)
}

// runPlan runs one DRPlan over a fresh fleet of o.n groups.
func runPlan(ctx context.Context, o fleetOptions, waves, maxConcurrent int) (*planResult, error) {
	r := &planResult{N: o.n, Waves: waves, MaxConcurrent: maxConcurrent, JobDuration: o.jobDuration}
	s, err := startStack(ctx, stackOptions{n: o.n, jobDuration: o.jobDuration,
		callsPerSecond: o.callsPerSecond, burst: o.burst, syncInterval: 5 * time.Minute})
	if err != nil {
		return r, err
	}
	defer s.stop()
	err = s.measurePlan(ctx, o, r)
	if err != nil {
		r.Err = err.Error()
	}
	return r, err
}

func (s *stack) measurePlan(ctx context.Context, o fleetOptions, r *planResult) error {
	label := fmt.Sprintf("plan N=%d, %d wave(s), maxConcurrent %d", o.n, r.Waves, r.MaxConcurrent)
	log.Printf("%s: seeding %d groups", label, o.n)
	ids, err := s.seed(ctx, "plan", o.n, o.seedBatch)
	if err != nil {
		return err
	}
	groupOf := map[string]string{}
	s.groupLabels = func(i int) map[string]string {
		return map[string]string{"app": planName, "wave": waveOf(i, o.n, r.Waves)}
	}
	if err := s.startManager(ctx, o.managerArgs, false); err != nil {
		return err
	}
	names, err := s.createGroups(ctx, ids, o.workers)
	if err != nil {
		return err
	}
	for i, n := range names {
		groupOf[n] = ids[i]
	}
	if _, err := s.track.waitReady(ctx, names, nil, o.readyTimeout); err != nil {
		return fmt.Errorf("setup: %w", err)
	}
	log.Printf("%s: all Ready; creating the plan (armed)", label)
	time.Sleep(3 * time.Second)

	mc := intstr.FromInt32(int32(r.MaxConcurrent))
	plan := &drv1alpha1.DRPlan{
		ObjectMeta: metav1.ObjectMeta{Namespace: s.Namespace, Name: planName},
		Spec: drv1alpha1.DRPlanSpec{
			Selector: metav1.LabelSelector{MatchLabels: map[string]string{"app": planName}},
		},
	}
	for k := 1; k <= r.Waves; k++ {
		w := fmt.Sprintf("w%d", k)
		plan.Spec.Waves = append(plan.Spec.Waves, drv1alpha1.PlanWave{Name: w, MaxConcurrent: &mc,
			Selector: metav1.LabelSelector{MatchLabels: map[string]string{"wave": w}}})
	}
	if err := s.kube.Create(ctx, plan); err != nil {
		return fmt.Errorf("cannot create the DRPlan: %w", err)
	}
	if err := s.waitPlan(ctx, time.Minute, "armed and valid", func(p *drv1alpha1.DRPlan) bool {
		c := meta.FindStatusCondition(p.Status.Conditions, drv1alpha1.ValidCondition)
		return p.Status.ObservedGeneration == p.Generation && p.Status.Members != nil &&
			int(p.Status.Members.Total) == o.n && c != nil && c.Status == metav1.ConditionTrue
	}); err != nil {
		return err
	}
	// Each member's generation after the plan's apply: one more.
	var list drv1alpha1.ProtectionGroupList
	if err := s.kube.List(ctx, &list, client.InNamespace(s.Namespace)); err != nil {
		return err
	}
	gens := map[string]int64{}
	for i := range list.Items {
		gens[list.Items[i].Name] = list.Items[i].Generation + 1
	}

	wctx, stopWatch := context.WithCancel(ctx)
	defer stopWatch()
	pw := &planWatch{}
	go pw.run(wctx, s.kube, s.Namespace)
	ml := &memberLog{prefix: planName + "/", site: drv1alpha1.SiteTarget,
		moves: map[string]map[string]time.Time{}, done: map[string]time.Time{}}
	defer s.track.addObserver(ml.observe)()
	time.Sleep(time.Second) // the plan watch is open
	if err := s.clearCalls(ctx); err != nil {
		return err
	}
	hc, err := rest.HTTPClientFor(s.CP.Config)
	if err != nil {
		return err
	}
	apiURL := strings.TrimSuffix(s.CP.Config.Host, "/") + "/metrics"
	keep := func(line string) bool { return strings.HasPrefix(line, "apiserver_request_total{") }
	api0, err := scrapeWith(ctx, hc, apiURL, keep)
	if err != nil {
		return fmt.Errorf("kube-apiserver metrics: %w", err)
	}
	mgr0, err := scrape(ctx, s.metricsURL)
	if err != nil {
		return err
	}

	log.Printf("%s: setting the plan's desiredActiveSite to target", label)
	busy0, total0 := machineCPU()
	t0 := time.Now()
	pw.start(t0)
	if err := s.kube.Patch(ctx, &drv1alpha1.DRPlan{ObjectMeta: metav1.ObjectMeta{Namespace: s.Namespace, Name: planName}},
		client.RawPatch(types.MergePatchType, []byte(`{"spec":{"desiredActiveSite":"target"}}`))); err != nil {
		return fmt.Errorf("cannot set the plan's site: %w", err)
	}
	end, err := pw.waitFinished(ctx, o.readyTimeout, label)
	if err != nil {
		return err
	}
	r.RunTook = pw.finishedSeen.Sub(t0)
	if busy1, total1 := machineCPU(); total1 > total0 {
		r.MachineBusy = float64(busy1-busy0) / float64(total1-total0)
	}
	r.LoadAvg = loadAvg()
	run := end.Status.Run
	r.Phase, r.Message, r.RunID = string(run.Phase), run.Message, run.ID
	if run.FinishedAt != nil {
		r.StatusTook = run.FinishedAt.Sub(t0)
	}
	if run.Duration != nil {
		r.RunDuration = run.Duration.Duration
	}
	log.Printf("%s: run %s %s %.2fs after the update: %s", label, run.ID, run.Phase, r.RunTook.Seconds(), run.Message)
	if run.Phase != drv1alpha1.PlanSucceeded {
		return fmt.Errorf("run %s ended %s: %s", run.ID, run.Phase, run.Message)
	}
	readyAt, err := s.track.waitReady(ctx, names, gens, time.Minute)
	if err != nil {
		return fmt.Errorf("after the run: %w", err)
	}
	for _, t := range readyAt {
		r.LastReadyTracker = max(r.LastReadyTracker, t.Sub(t0))
	}
	// Trailing writes (Events, the last status) land shortly after.
	time.Sleep(2 * time.Second)
	api1, err := scrapeWith(ctx, hc, apiURL, keep)
	if err != nil {
		return fmt.Errorf("kube-apiserver metrics: %w", err)
	}
	mgr1, err := scrape(ctx, s.metricsURL)
	if err != nil {
		return err
	}
	stopWatch()

	r.API = apiRequests(delta(api0, api1))
	dm := delta(mgr0, mgr1)
	r.PlanReconciles = dm.sum("controller_runtime_reconcile_total", `controller="drplan"`)
	r.ManagerByMethod = dm.byLabel("rest_client_requests_total", "method")

	pw.mu.Lock()
	r.PlanBytesMax, r.PlanBytesMaxNoMF, r.MaxDone, r.PlanVersions = pw.bytesMax, pw.bytesMaxNoMF, pw.maxDone, pw.versions
	r.MaxDoneBytes, r.PlanBytesWritten = pw.maxDoneBytes, pw.bytesWritten
	pw.mu.Unlock()
	final := &drv1alpha1.DRPlan{}
	if err := s.kube.Get(ctx, client.ObjectKey{Namespace: s.Namespace, Name: planName}, final); err != nil {
		return err
	}
	r.PlanBytesEnd, r.PlanBytesEndNoMF = planBytes(final)

	ml.mu.Lock()
	var spans []harness.Span
	r.FirstMove = time.Duration(1<<62 - 1)
	r.PatchesMax = 0
	for _, n := range names {
		moves := ml.moves[n]
		if len(moves) > 0 {
			r.Patched++
		}
		r.PatchesTotal += len(moves)
		r.PatchesMax = max(r.PatchesMax, len(moves))
		var first time.Time
		for _, at := range moves {
			if first.IsZero() || at.Before(first) {
				first = at
			}
		}
		if !first.IsZero() {
			r.FirstMove = min(r.FirstMove, first.Sub(t0))
			r.LastMove = max(r.LastMove, first.Sub(t0))
		}
		if d, ok := ml.done[n]; ok {
			r.LastReady = max(r.LastReady, d.Sub(t0))
			if !first.IsZero() {
				spans = append(spans, harness.Span{Start: first, End: d})
			}
		}
	}
	ml.mu.Unlock()
	if r.Patched == 0 {
		r.FirstMove = 0
	}
	r.InFlight = harness.MaxOverlap(spans)

	if err := s.kube.List(ctx, &list, client.InNamespace(s.Namespace)); err != nil {
		return err
	}
	spans = spans[:0]
	for i := range list.Items {
		if op := list.Items[i].Status.LastOperation; op != nil && op.FinishedAt != nil && !op.StartedAt.Time.Before(t0.Truncate(time.Second)) {
			spans = append(spans, harness.Span{Start: op.StartedAt.Time, End: op.FinishedAt.Time})
		}
	}
	r.OpOverlap = harness.MaxOverlap(spans)

	calls, err := s.Emu.Admin.Calls(ctx, "", "")
	if err != nil {
		return err
	}
	r.Calls = countCalls(calls)
	perGroup := map[string]int{}
	for _, c := range calls {
		if c.Operation == "StartReverseProtectionGroup" {
			perGroup[c.GroupID]++
			r.Reverses++
		}
	}
	r.ReversesMin, r.ReversesMax = 1<<30, 0
	for _, id := range ids {
		r.ReversesMin = min(r.ReversesMin, perGroup[id])
		r.ReversesMax = max(r.ReversesMax, perGroup[id])
	}
	st, err := s.Emu.State(ctx)
	if err != nil {
		return err
	}
	spans = spans[:0]
	for _, j := range st.Jobs {
		if j.Type == reverseJob && !j.Begin.Before(t0) && !j.End.IsZero() {
			spans = append(spans, harness.Span{Start: j.Begin, End: j.End})
		}
	}
	r.JobOverlap = harness.MaxOverlap(spans)
	log.Printf("%s: last member Ready %.2fs; applies per member %.2f (max %d); plan %d B max, %d B at the end; overlap ops %d, jobs %d, in flight %d; reverses %d (%d..%d per group)",
		label, r.LastReady.Seconds(), float64(r.PatchesTotal)/float64(o.n), r.PatchesMax, r.PlanBytesMax, r.PlanBytesEnd,
		r.OpOverlap, r.JobOverlap, r.InFlight, r.Reverses, r.ReversesMin, r.ReversesMax)
	return nil
}

// waitPlan polls the plan until cond holds.
func (s *stack) waitPlan(ctx context.Context, timeout time.Duration, what string, cond func(*drv1alpha1.DRPlan) bool) error {
	deadline := time.Now().Add(timeout)
	last := &drv1alpha1.DRPlan{}
	for time.Now().Before(deadline) {
		cur := &drv1alpha1.DRPlan{}
		if err := s.kube.Get(ctx, client.ObjectKey{Namespace: s.Namespace, Name: planName}, cur); err == nil {
			if last = cur; cond(cur) {
				return nil
			}
		}
		if err := sleep(ctx, 200*time.Millisecond); err != nil {
			return err
		}
	}
	return fmt.Errorf("DRPlan not %s after %s: %s", what, timeout, describePlan(last))
}

func describePlan(p *drv1alpha1.DRPlan) string {
	var b strings.Builder
	fmt.Fprintf(&b, "gen=%d observed=%d", p.Generation, p.Status.ObservedGeneration)
	for _, c := range p.Status.Conditions {
		fmt.Fprintf(&b, " %s=%s/%s", c.Type, c.Status, c.Reason)
	}
	if run := p.Status.Run; run != nil {
		fmt.Fprintf(&b, "; run %s %s: %s", run.ID, run.Phase, run.Message)
		for _, w := range run.Waves {
			fmt.Fprintf(&b, "; wave %s %s %+v", w.Name, w.Phase, w.Counts)
			if len(w.Failures) > 0 {
				fmt.Fprintf(&b, " failures %+v", w.Failures)
			}
		}
	}
	return b.String()
}

// planBytes is the plan as JSON, with and without its managedFields.
func planBytes(p *drv1alpha1.DRPlan) (int, int) {
	c := p.DeepCopy()
	c.APIVersion, c.Kind = drv1alpha1.GroupVersion.String(), "DRPlan"
	b, _ := json.Marshal(c)
	c.ManagedFields = nil
	nb, _ := json.Marshal(c)
	return len(b), len(nb)
}

// planWatch follows the namespace's DRPlan: its size at every version,
// and when its run finished.
type planWatch struct {
	mu                     sync.Mutex
	started                bool
	bytesMax, bytesMaxNoMF int
	maxDone, versions      int
	maxDoneBytes           int
	bytesWritten           int
	last                   *drv1alpha1.DRPlan
	finished               *drv1alpha1.DRPlan
	finishedSeen           time.Time
	t0                     time.Time
}

// start begins counting at t0, just before the plan's site is set.
func (w *planWatch) start(t0 time.Time) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.started, w.t0 = true, t0
}

func (w *planWatch) observe(p *drv1alpha1.DRPlan, at time.Time) {
	if p.Name != planName {
		return
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	w.last = p
	if !w.started {
		return
	}
	w.versions++
	b, nb := planBytes(p)
	w.bytesMax, w.bytesMaxNoMF = max(w.bytesMax, b), max(w.bytesMaxNoMF, nb)
	w.bytesWritten += b
	run := p.Status.Run
	if run == nil {
		return
	}
	doneBytes := 0
	for _, ws := range run.Waves {
		w.maxDone = max(w.maxDone, len(ws.Done))
		if len(ws.Done) > 0 {
			d, _ := json.Marshal(ws.Done)
			doneBytes += len(d)
		}
	}
	w.maxDoneBytes = max(w.maxDoneBytes, doneBytes)
	if w.finished == nil && run.ToSite == drv1alpha1.SiteTarget && run.Phase.Finished() {
		w.finished, w.finishedSeen = p, at
	}
}

func (w *planWatch) run(ctx context.Context, c client.WithWatch, ns string) {
	for ctx.Err() == nil {
		var list drv1alpha1.DRPlanList
		if err := c.List(ctx, &list, client.InNamespace(ns)); err != nil {
			_ = sleep(ctx, time.Second)
			continue
		}
		now := time.Now()
		for i := range list.Items {
			w.observe(&list.Items[i], now)
		}
		wt, err := c.Watch(ctx, &drv1alpha1.DRPlanList{}, client.InNamespace(ns),
			&client.ListOptions{Raw: &metav1.ListOptions{ResourceVersion: list.ResourceVersion}})
		if err != nil {
			_ = sleep(ctx, time.Second)
			continue
		}
		for ev := range wt.ResultChan() {
			if ev.Type != watch.Added && ev.Type != watch.Modified {
				continue
			}
			if p, ok := ev.Object.(*drv1alpha1.DRPlan); ok {
				w.observe(p, time.Now())
			}
		}
		wt.Stop()
	}
}

// waitFinished waits for the run to end; a run Blocked (a failed member,
// onMemberFailure Stop) ends the wait at once, as no decision will come.
func (w *planWatch) waitFinished(ctx context.Context, timeout time.Duration, label string) (*drv1alpha1.DRPlan, error) {
	deadline := time.Now().Add(timeout)
	lastLog := time.Now()
	for {
		w.mu.Lock()
		fin, last := w.finished, w.last
		w.mu.Unlock()
		if fin != nil {
			return fin, nil
		}
		if last != nil && last.Status.Run != nil && last.Status.Run.Phase == drv1alpha1.PlanBlocked {
			return nil, fmt.Errorf("run blocked: %s", describePlan(last))
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			d := "no plan seen"
			if last != nil {
				d = describePlan(last)
			}
			return nil, fmt.Errorf("run not finished after %s: %s", timeout, d)
		}
		if time.Since(lastLog) > 15*time.Second && last != nil && last.Status.Run != nil {
			log.Printf("  %s: %s", label, last.Status.Run.Message)
			lastLog = time.Now()
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// memberLog records, from the ProtectionGroup watch, each apply of the
// plan on a member (a new run stamp or moved-at value) and when the member
// was first seen done.
type memberLog struct {
	mu     sync.Mutex
	prefix string
	site   drv1alpha1.Site
	moves  map[string]map[string]time.Time
	done   map[string]time.Time
}

func (l *memberLog) observe(pg *drv1alpha1.ProtectionGroup, at time.Time) {
	stamp := pg.Annotations[drv1alpha1.PlanRunAnnotation]
	if !strings.HasPrefix(stamp, l.prefix) {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	key := stamp + " " + pg.Annotations[drv1alpha1.PlanMovedAtAnnotation]
	m := l.moves[pg.Name]
	if m == nil {
		m = map[string]time.Time{}
		l.moves[pg.Name] = m
	}
	if _, ok := m[key]; !ok {
		m[key] = at
	}
	if _, ok := l.done[pg.Name]; !ok && planMemberDone(pg, l.site) {
		l.done[pg.Name] = at
	}
}

// planMemberDone is the plan controller's rule for a member that reached
// the site: Ready for its current generation, active and desired there.
func planMemberDone(pg *drv1alpha1.ProtectionGroup, site drv1alpha1.Site) bool {
	c := meta.FindStatusCondition(pg.Status.Conditions, drv1alpha1.ReadyCondition)
	return c != nil && c.Status == metav1.ConditionTrue && c.ObservedGeneration == pg.Generation &&
		pg.Status.ObservedGeneration == pg.Generation && pg.Status.ActiveSite == site && pg.Spec.DesiredActiveSite == site
}

// apiRequests sums apiserver_request_total for the operator's resources by
// "resource[/subresource] VERB".
func apiRequests(m metrics) map[string]float64 {
	out := map[string]float64{}
	for series, v := range m {
		name, rest, _ := strings.Cut(series, "{")
		if name != "apiserver_request_total" || v == 0 {
			continue
		}
		res := labelValue(rest, "resource")
		if res != "protectiongroups" && res != "drplans" {
			continue
		}
		if sub := labelValue(rest, "subresource"); sub != "" {
			res += "/" + sub
		}
		out[res+" "+labelValue(rest, "verb")] += v
	}
	return out
}

// labelValue reads one label of a series' label text.
func labelValue(labels, key string) string {
	for _, part := range strings.Split(strings.TrimSuffix(labels, "}"), ",") {
		if k, v, ok := strings.Cut(part, "="); ok && k == key {
			return strings.Trim(v, `"`)
		}
	}
	return ""
}

// planRuns runs the plan part: per N, the flat flip (reused from the main
// table when it ran at that N) and one DRPlan run per wave count.
func planRuns(ctx context.Context, o runOptions, run *benchRun, write func()) (failed bool) {
	for _, n := range o.PlanSizes {
		if ctx.Err() != nil {
			return true
		}
		fo := fleetOptions{
			n: n, jobDuration: o.JobDuration, callsPerSecond: int32(o.CallsPerSecond), burst: int32(o.Burst),
			seedBatch: o.SeedBatch, workers: o.Workers, managerArgs: o.ManagerArgs, readyTimeout: o.ReadyTimeout,
		}
		if run.flatAt(n) == nil {
			log.Printf("plan: the flat flip at N=%d, for comparison", n)
			res, err := runScenario(ctx, fo)
			if res != nil && err == nil {
				run.PlanFlat = append(run.PlanFlat, &res.Fleet)
			}
			if err != nil {
				log.Printf("plan: flat flip N=%d: %v", n, err)
				run.Errors = append(run.Errors, fmt.Sprintf("flat flip for the plan, N=%d: %v", n, err))
				failed = true
			}
			write()
		}
		for _, k := range o.PlanWaves {
			if ctx.Err() != nil {
				return true
			}
			res, err := runPlan(ctx, fo, k, o.PlanMaxConcurrent)
			run.Plans = append(run.Plans, res)
			if err != nil {
				log.Printf("plan N=%d, %d waves: %v", n, k, err)
				run.Errors = append(run.Errors, fmt.Sprintf("DRPlan N=%d, %d waves: %v", n, k, err))
				failed = true
			}
			write()
		}
	}
	return failed
}

// flatAt is the flat flip at n of this run: the main table's, else the
// one run for the plan comparison.
func (b *benchRun) flatAt(n int) *fleetResult {
	for _, s := range b.Scenarios {
		if s.Fleet.N == n && s.Fleet.LastReady > 0 {
			return &s.Fleet
		}
	}
	for _, f := range b.PlanFlat {
		if f.N == n && f.LastReady > 0 {
			return f
		}
	}
	return nil
}
