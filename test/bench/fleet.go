package main

import (
	"context"
	"encoding/json"
	"fmt"
	"log"
	"os"
	"path/filepath"
	"strings"
	"time"

	eventsv1 "k8s.io/api/events/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	drv1alpha1 "github.com/sdrs-operator/sdrs-operator/api/v1alpha1"
	"github.com/sdrs-operator/sdrs-operator/internal/emutest"
	"github.com/sdrs-operator/sdrs-operator/test/e2e/harness"
)

const reverseJob = "reverseProtectionGroupNoCG"

// fleetResult is everything measured for one N.
type fleetResult struct {
	N           int
	JobDuration time.Duration
	// SDRSLatency is added to every SDRS and ECS answer (0: none).
	SDRSLatency time.Duration
	RateLimit   string

	// Setup: creating N ProtectionGroups until all are Ready.
	SetupTook  time.Duration
	SetupCalls callCounts

	// The flip.
	FlipSend  time.Duration // sending all N patches
	LastReady time.Duration // first patch sent -> last group Ready
	// Per group: its job's end -> its Ready; its patch -> its job's start.
	ReadyDelay []time.Duration
	ActDelay   []time.Duration
	Calls      callCounts
	// Per group spread of SDRS calls (min, max).
	CallsMin, CallsMax int
	// DuplicateActions counts planned failovers beyond one per group (a
	// group without one fails the run: a lost action).
	DuplicateActions int
	Kube             kubeCounts
	Reconciles       float64
	// EventsNotRecorded are Events the manager dropped or failed to write.
	EventsNotRecorded float64
	CPU               time.Duration // manager CPU during the flip
	// CPU of the other processes during the flip.
	APIServerCPU, EtcdCPU, EmulatorCPU, BenchCPU time.Duration
	// Wall is the flip's wall time from the first patch until the CPU was
	// read (last Ready plus a little).
	Wall        time.Duration
	MachineBusy float64 // whole machine busy share during the flip, 0..1
	LoadAvg     float64
	PeakRSS     int64 // VmHWM over the manager's whole life
	RSSAfter    int64

	// ObjectBytes is one ProtectionGroup's JSON after the flip, and
	// without its managedFields.
	ObjectBytes, ObjectBytesNoMF int
	// Connections to the emulator's SDRS listener closed in the last
	// minute (TIME_WAIT) and open, right after the flip: how many TCP
	// (in production: TLS) connections the manager opened and dropped.
	ConnsClosed, ConnsOpen int
	// MetricSeries is how many series the manager's /metrics serves, and
	// how many of them name one ProtectionGroup.
	MetricSeries, GroupSeries int

	Idle idleResult

	// ManagerProfile is the telling part of the manager's CPU profile of
	// the flip (with -pprof-dir).
	ManagerProfile string
}

// kubeCounts are the manager's Kubernetes API requests in a window, from
// its client-go metrics (rest_client_requests_total), and the Events it
// created.
type kubeCounts struct {
	ByMethod map[string]float64
	// EventWrites are Event creations and series updates.
	EventWrites float64
}

func (k kubeCounts) writes() float64 {
	return k.ByMethod["POST"] + k.ByMethod["PUT"] + k.ByMethod["PATCH"] + k.ByMethod["DELETE"]
}

type idleResult struct {
	SyncInterval time.Duration
	Window       time.Duration
	Calls        callCounts
	// PerGroupPerSync is calls per group per syncInterval.
	PerGroupPerSync float64
	// SDRSPerGroupPerSync counts SDRS calls alone: ECS reads come on top
	// while servers at the active site are down (they are read again on
	// each look, so that status notices when someone starts them).
	SDRSPerGroupPerSync float64
	// ProjectPerSync counts the project-wide reads behind failover
	// readiness (replication pairs, protected instances, RPO statistics)
	// per syncInterval: one set per ProviderConfig, shared by every group.
	ProjectPerSync float64
	CPUPerMinute   time.Duration
	// KubeWrites is the manager's Kubernetes writes per group per
	// syncInterval.
	KubeWrites float64
	// Default is the same at the default syncInterval, when measured.
	DefaultWindow   time.Duration
	DefaultCalls    callCounts
	DefaultPerGroup float64 // per group per 5 minutes
}

type fleetOptions struct {
	n              int
	jobDuration    time.Duration
	sdrsLatency    time.Duration
	callsPerSecond int32
	burst          int32
	seedBatch      int
	workers        int
	managerArgs    []string
	readyTimeout   time.Duration
	idleSync       time.Duration
	idleWindow     time.Duration
	idleDefault    time.Duration // 0: skip
	// pprofDir, when set, receives a CPU profile of kube-apiserver
	// during each flip.
	pprofDir string
	// pprofFor is how long each profile runs from the flip's start.
	pprofFor time.Duration
	// baselines: how many groups each runbook variant flips (0: none),
	// and whether the unbounded SDK script flips all N.
	serialGroups, parallelGroups, parallel int
	unbounded                              bool
	runbookPoll                            time.Duration
}

type scenarioResult struct {
	Fleet    fleetResult
	Serial   *runbookMeasure
	Parallel *runbookMeasure
	// Unbounded is the SDK script with every group's action at once.
	Unbounded *runbookMeasure
	// FlipFrom is empty when Fleet is this run's flip; a -peers-only run
	// has none and says here which earlier report its flip time is from,
	// and FlipSDRSPerFailover is that report's SDRS calls per failover.
	FlipFrom            string
	FlipSDRSPerFailover float64
}

// runbookMeasure is a runbook run with its calls.
type runbookMeasure struct {
	runbookResult
	Calls callCounts
	// Reverses per group, fewest and most, from the emulator's call log.
	ReversesMin, ReversesMax int
	// AtTarget is how many of the groups the emulator shows at target
	// afterwards.
	AtTarget int
	// From the runbook's start: the last reverse the emulator logged, and
	// the last of their jobs to end (what a script polling without delay
	// would see).
	LastAction, LastJobEnd time.Duration
}

func runScenario(ctx context.Context, o fleetOptions) (*scenarioResult, error) {
	s, err := startStack(ctx, stackOptions{n: o.n, jobDuration: o.jobDuration,
		callsPerSecond: o.callsPerSecond, burst: o.burst, syncInterval: 5 * time.Minute})
	if err != nil {
		return nil, err
	}
	defer s.stop()
	res := &scenarioResult{}
	fr, err := s.measureFleet(ctx, o)
	res.Fleet = fr
	if err != nil {
		return res, err
	}
	s.StopManager()
	return res, s.runPeers(ctx, o, res)
}

// runPeers runs the runbooks without the operator in the stack's emulator,
// each on its own freshly seeded groups: serial, o.parallel at a time, and
// every group at once.
func (s *stack) runPeers(ctx context.Context, o fleetOptions, res *scenarioResult) error {
	if o.serialGroups > 0 {
		m, err := s.measureRunbook(ctx, o, "serial", min(o.serialGroups, o.n), 1)
		if err != nil {
			return err
		}
		res.Serial = m
	}
	if o.parallelGroups > 0 {
		m, err := s.measureRunbook(ctx, o, "parallel", min(o.parallelGroups, o.n), o.parallel)
		if err != nil {
			return err
		}
		res.Parallel = m
	}
	if o.unbounded {
		m, err := s.measureRunbook(ctx, o, "unbounded", o.n, unbounded)
		if err != nil {
			return err
		}
		res.Unbounded = m
	}
	return nil
}

// runPeersOnly runs the peers alone on a fresh stack without a manager
// (-peers-only): the flip time they are compared with comes from
// elsewhere.
func runPeersOnly(ctx context.Context, o fleetOptions) (*scenarioResult, error) {
	s, err := startStack(ctx, stackOptions{n: o.n, jobDuration: o.jobDuration,
		callsPerSecond: o.callsPerSecond, burst: o.burst, syncInterval: 5 * time.Minute})
	if err != nil {
		return nil, err
	}
	defer s.stop()
	res := &scenarioResult{Fleet: fleetResult{N: o.n, JobDuration: o.jobDuration,
		RateLimit: fmt.Sprintf("%d calls/s, burst %d", o.callsPerSecond, o.burst)}}
	return res, s.runPeers(ctx, o, res)
}

func (s *stack) measureFleet(ctx context.Context, o fleetOptions) (fleetResult, error) {
	r := fleetResult{N: o.n, JobDuration: o.jobDuration, SDRSLatency: o.sdrsLatency,
		RateLimit: fmt.Sprintf("%d calls/s, burst %d", o.callsPerSecond, o.burst)}
	log.Printf("N=%d: seeding %d groups", o.n, o.n)
	ids, err := s.seed(ctx, "fleet", o.n, o.seedBatch)
	if err != nil {
		return r, err
	}
	if o.sdrsLatency > 0 {
		// As a real region answers: every call takes a network round trip.
		if err := s.Emu.Admin.SetHTTPFaults(ctx, emutest.HTTPFaults{Latency: o.sdrsLatency.String()}); err != nil {
			return r, err
		}
	}
	if err := s.startManager(ctx, o.managerArgs, o.pprofDir != ""); err != nil {
		return r, err
	}
	if err := s.clearCalls(ctx); err != nil {
		return r, err
	}
	log.Printf("N=%d: creating %d ProtectionGroups", o.n, o.n)
	setupStart := time.Now()
	names, err := s.createGroups(ctx, ids, o.workers)
	if err != nil {
		return r, err
	}
	if _, err := s.track.waitReady(ctx, names, nil, o.readyTimeout); err != nil {
		return r, fmt.Errorf("setup: %w", err)
	}
	r.SetupTook = time.Since(setupStart)
	calls, err := s.Emu.Admin.Calls(ctx, "", "")
	if err != nil {
		return r, err
	}
	r.SetupCalls = countCalls(calls)
	log.Printf("N=%d: all Ready after %s; settling", o.n, r.SetupTook.Round(time.Millisecond))
	// Let Events and trailing requeues of the setup drain.
	time.Sleep(3 * time.Second)

	groupOf := map[string]string{}
	for i, n := range names {
		groupOf[n] = ids[i]
	}
	if err := s.clearCalls(ctx); err != nil {
		return r, err
	}
	before, err := scrape(ctx, s.metricsURL)
	if err != nil {
		return r, err
	}
	evBefore, err := s.eventWrites(ctx)
	if err != nil {
		return r, err
	}
	psBefore, err := readProcStats(s.Mgr.Pid())
	if err != nil {
		return r, err
	}
	busy0, total0 := machineCPU()
	api0, etcd0, emu0, self0 := cpuOf(s.apiserverPids), cpuOf(s.etcdPids), cpuOf(s.emulatorPids), cpuOf([]int{os.Getpid()})

	log.Printf("N=%d: flipping every desiredActiveSite to target", o.n)
	if o.pprofDir != "" {
		go func() {
			path := filepath.Join(o.pprofDir, fmt.Sprintf("apiserver-%d.pprof", o.n))
			if err := s.profileAPIServer(ctx, o.pprofFor, path); err != nil {
				log.Printf("apiserver profile: %v", err)
			}
		}()
		go func() {
			path := filepath.Join(o.pprofDir, fmt.Sprintf("manager-%d.pprof", o.n))
			if err := s.profileManager(ctx, o.pprofFor, path); err != nil {
				log.Printf("manager profile: %v", err)
			}
		}()
	}
	t0 := time.Now()
	patchedAt, gens, err := s.flip(ctx, names, drv1alpha1.SiteTarget, o.workers)
	if err != nil {
		return r, err
	}
	r.FlipSend = time.Since(t0)
	readyAt, err := s.track.waitReady(ctx, names, gens, o.readyTimeout)
	if err != nil {
		return r, fmt.Errorf("flip: %w", err)
	}
	var last time.Time
	for _, t := range readyAt {
		if t.After(last) {
			last = t
		}
	}
	r.LastReady = last.Sub(t0)
	if o.pprofDir != "" {
		if err := s.heapManager(ctx, filepath.Join(o.pprofDir, fmt.Sprintf("manager-heap-%d.pprof", o.n))); err != nil {
			log.Printf("manager heap profile: %v", err)
		}
	}
	if port := s.emuPort(); port > 0 {
		st := socketsTo(port)
		r.ConnsClosed, r.ConnsOpen = st["06"], st["01"]
	}
	r.LoadAvg = loadAvg()
	busy1, total1 := machineCPU()
	if total1 > total0 {
		r.MachineBusy = float64(busy1-busy0) / float64(total1-total0)
	}
	psAfter, err := readProcStats(s.Mgr.Pid())
	if err != nil {
		return r, err
	}
	r.CPU = psAfter.CPU - psBefore.CPU
	r.APIServerCPU = cpuOf(s.apiserverPids) - api0
	r.EtcdCPU = cpuOf(s.etcdPids) - etcd0
	r.EmulatorCPU = cpuOf(s.emulatorPids) - emu0
	r.BenchCPU = cpuOf([]int{os.Getpid()}) - self0
	r.Wall = time.Since(t0)
	log.Printf("N=%d: last Ready %.2fs after the flip (%.2f x D)", o.n, r.LastReady.Seconds(), r.LastReady.Seconds()/o.jobDuration.Seconds())

	// Trailing writes (the last Events, sent from the recorder's queue)
	// land after Ready: wait until the manager's requests stop growing.
	after, err := s.settledScrape(ctx)
	if err != nil {
		return r, err
	}
	r.MetricSeries = len(after)
	for k := range after {
		if strings.Contains(k, `name="pg-`) {
			r.GroupSeries++
		}
	}
	d := delta(before, after)
	r.Kube.ByMethod = map[string]float64{}
	for k, v := range d.byLabel("rest_client_requests_total", "method") {
		r.Kube.ByMethod[k] = v
	}
	r.Reconciles = d.sum("controller_runtime_reconcile_total", `controller="protectiongroup"`)
	r.EventsNotRecorded = d.sum("sdrs_operator_events_not_recorded_total", "")
	evAfter, err := s.eventWrites(ctx)
	if err != nil {
		return r, err
	}
	r.Kube.EventWrites = evAfter - evBefore

	one := &drv1alpha1.ProtectionGroup{}
	if err := s.kube.Get(ctx, client.ObjectKey{Namespace: s.Namespace, Name: names[0]}, one); err == nil {
		b, _ := json.Marshal(one)
		r.ObjectBytes = len(b)
		one.ManagedFields = nil
		b, _ = json.Marshal(one)
		r.ObjectBytesNoMF = len(b)
	}

	calls, err = s.Emu.Admin.Calls(ctx, "", "")
	if err != nil {
		return r, err
	}
	flipCalls := between(calls, t0, last.Add(2*time.Second))
	r.Calls = countCalls(flipCalls)
	perGroup := map[string]int{}
	for _, c := range flipCalls {
		if classify(c.Operation) != classECS {
			perGroup[c.GroupID]++
		}
	}
	r.CallsMin, r.CallsMax = 1<<30, 0
	for _, id := range ids {
		r.CallsMin = min(r.CallsMin, perGroup[id])
		r.CallsMax = max(r.CallsMax, perGroup[id])
	}

	st, err := s.Emu.State(ctx)
	if err != nil {
		return r, err
	}
	jobOf := map[string]harness.JobState{}
	jobsOf := map[string]int{}
	for _, j := range st.Jobs {
		if j.Type == reverseJob && !j.Begin.Before(t0) {
			jobOf[j.GroupID] = j
			jobsOf[j.GroupID]++
		}
	}
	for _, id := range ids {
		r.DuplicateActions += max(jobsOf[id]-1, 0)
	}
	for _, n := range names {
		j, ok := jobOf[groupOf[n]]
		if !ok || j.End.IsZero() {
			return r, fmt.Errorf("no finished %s job for %s (group %s)", reverseJob, n, groupOf[n])
		}
		r.ReadyDelay = append(r.ReadyDelay, readyAt[n].Sub(j.End))
		r.ActDelay = append(r.ActDelay, j.Begin.Sub(patchedAt[n]))
	}

	if err := s.measureIdle(ctx, o, &r); err != nil {
		return r, err
	}
	ps, err := readProcStats(s.Mgr.Pid())
	if err != nil {
		return r, err
	}
	r.PeakRSS, r.RSSAfter = ps.PeakRSS, ps.RSS
	if o.pprofDir != "" {
		// The profile ran from the flip's start; it has ended by now
		// unless -pprof-seconds outlasts the idle window too.
		path := filepath.Join(o.pprofDir, fmt.Sprintf("manager-%d.pprof", o.n))
		if r.ManagerProfile, err = summarizeProfile(ctx, path); err != nil {
			log.Printf("manager profile: %v", err)
		}
	}
	return r, nil
}

// measureIdle counts the calls of a fleet where nothing changes, first
// with a short syncInterval (to see the pattern quickly), then, when asked,
// at the default.
func (s *stack) measureIdle(ctx context.Context, o fleetOptions, r *fleetResult) error {
	if o.idleWindow <= 0 {
		return nil
	}
	if o.idleDefault > 0 {
		// At the default syncInterval (the stack starts with it): the
		// flip moved every group's next sync to Ready + 5m.
		log.Printf("N=%d: idle at the default syncInterval for %s", o.n, o.idleDefault)
		if err := s.clearCalls(ctx); err != nil {
			return err
		}
		start := time.Now()
		if err := sleep(ctx, o.idleDefault); err != nil {
			return err
		}
		calls, err := s.Emu.Admin.Calls(ctx, "", "")
		if err != nil {
			return err
		}
		r.Idle.DefaultWindow = time.Since(start)
		r.Idle.DefaultCalls = countCalls(calls)
		r.Idle.DefaultPerGroup = float64(r.Idle.DefaultCalls.Total) / float64(o.n) /
			(r.Idle.DefaultWindow.Minutes() / 5)
	}
	// A large fleet gets a longer interval (10ms per group), so that the
	// shared control plane keeps up with the syncs being measured.
	sync := max(o.idleSync, time.Duration(o.n)*10*time.Millisecond)
	window := max(o.idleWindow, 2*sync)
	log.Printf("N=%d: idle with syncInterval %s for %s", o.n, sync, window)
	r.Idle.SyncInterval = sync
	if err := s.setSyncInterval(ctx, sync); err != nil {
		return err
	}
	// The ProviderConfig change wakes every group once; then each settles
	// into its own rhythm.
	if err := sleep(ctx, sync+5*time.Second); err != nil {
		return err
	}
	if err := s.clearCalls(ctx); err != nil {
		return err
	}
	ps0, err := readProcStats(s.Mgr.Pid())
	if err != nil {
		return err
	}
	m0, err := scrape(ctx, s.metricsURL)
	if err != nil {
		return err
	}
	start := time.Now()
	if err := sleep(ctx, window); err != nil {
		return err
	}
	calls, err := s.Emu.Admin.Calls(ctx, "", "")
	if err != nil {
		return err
	}
	ps1, err := readProcStats(s.Mgr.Pid())
	if err != nil {
		return err
	}
	m1, err := scrape(ctx, s.metricsURL)
	if err != nil {
		return err
	}
	r.Idle.Window = time.Since(start)
	syncs := r.Idle.Window.Seconds() / sync.Seconds()
	w := delta(m0, m1).byLabel("rest_client_requests_total", "method")
	r.Idle.KubeWrites = (w["POST"] + w["PUT"] + w["PATCH"] + w["DELETE"]) / float64(o.n) / syncs
	r.Idle.Calls = countCalls(calls)
	own, project := splitProjectWide(calls)
	ownCalls := countCalls(own)
	r.Idle.PerGroupPerSync = float64(ownCalls.Total) / float64(o.n) / syncs
	r.Idle.SDRSPerGroupPerSync = float64(ownCalls.SDRS()) / float64(o.n) / syncs
	r.Idle.ProjectPerSync = float64(len(project)) / syncs
	r.Idle.CPUPerMinute = time.Duration(float64(ps1.CPU-ps0.CPU) / r.Idle.Window.Minutes())
	return nil
}

// eventWrites counts the writes behind the namespace's Events: one create
// per Event plus one update per further occurrence in its series.
// settledScrape scrapes the manager's metrics once its Kubernetes
// requests have stopped growing for two seconds (at most two minutes).
func (s *stack) settledScrape(ctx context.Context) (map[string]float64, error) {
	var last float64 = -1
	still := 0
	deadline := time.Now().Add(2 * time.Minute)
	for {
		m, err := scrape(ctx, s.metricsURL)
		if err != nil {
			return nil, err
		}
		n := 0.0
		for k, v := range m {
			if strings.HasPrefix(k, "rest_client_requests_total") {
				n += v
			}
		}
		if n == last {
			still++
		} else {
			still = 0
		}
		if still >= 2 || time.Now().After(deadline) {
			return m, nil
		}
		last = n
		time.Sleep(time.Second)
	}
}

func (s *stack) eventWrites(ctx context.Context) (float64, error) {
	var list eventsv1.EventList
	if err := s.kube.List(ctx, &list, client.InNamespace(s.Namespace)); err != nil {
		return 0, err
	}
	n := 0.0
	for _, e := range list.Items {
		n++
		if e.Series != nil && e.Series.Count > 1 {
			n += float64(e.Series.Count - 1)
		}
	}
	return n, nil
}

func (s *stack) measureRunbook(ctx context.Context, o fleetOptions, name string, groups, par int) (*runbookMeasure, error) {
	width := fmt.Sprint(par)
	if par == unbounded {
		width = "unbounded"
	}
	log.Printf("N=%d: runbook %s (parallelism %s, %d calls/s burst %d) over %d groups", o.n, name, width, o.callsPerSecond, o.burst, groups)
	ids, err := s.seed(ctx, "runbook-"+name, groups, o.seedBatch)
	if err != nil {
		return nil, err
	}
	eo := s.Emu.Options()
	rb, err := newRunbook(s.Emu.SDRSURL, eo.ProjectID, eo.AccessKey, eo.SecretKey, o.runbookPoll, par, int(o.callsPerSecond), int(o.burst))
	if err != nil {
		return nil, err
	}
	if err := s.clearCalls(ctx); err != nil {
		return nil, err
	}
	res := rb.failOver(ctx, ids, "target")
	if res.Failed > 0 {
		return nil, fmt.Errorf("runbook %s: %d of %d groups failed", name, res.Failed, groups)
	}
	log.Printf("N=%d: runbook %s done in %.2fs", o.n, name, res.Took.Seconds())
	calls, err := s.Emu.Admin.Calls(ctx, "", "")
	if err != nil {
		return nil, err
	}
	set := map[string]bool{}
	for _, id := range ids {
		set[id] = true
	}
	own := forGroups(calls, set)
	m := &runbookMeasure{runbookResult: res, Calls: countCalls(own)}
	reverses := map[string]int{}
	for _, c := range own {
		if c.Operation == "StartReverseProtectionGroup" {
			reverses[c.GroupID]++
			m.LastAction = max(m.LastAction, c.Time.Sub(res.Started))
		}
	}
	m.ReversesMin, m.ReversesMax = 1<<30, 0
	for _, id := range ids {
		m.ReversesMin = min(m.ReversesMin, reverses[id])
		m.ReversesMax = max(m.ReversesMax, reverses[id])
	}
	st, err := s.Emu.State(ctx)
	if err != nil {
		return nil, err
	}
	for _, j := range st.Jobs {
		if set[j.GroupID] && j.Type == reverseJob && !j.End.IsZero() && !j.Begin.Before(res.Started) {
			m.LastJobEnd = max(m.LastJobEnd, j.End.Sub(res.Started))
		}
	}
	for _, g := range st.Groups {
		if set[g.ID] && g.PriorityStation == "target" {
			m.AtTarget++
		}
	}
	return m, nil
}

func sleep(ctx context.Context, d time.Duration) error {
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-time.After(d):
		return nil
	}
}

// rateSlack is the timing jitter allowed between the manager's rate
// limiter and the emulator's call log.
const rateSlack = 20 * time.Millisecond

// rateResult is the tight rate-limit scenario.
type rateResult struct {
	N                int
	Rate             float64
	Burst            int
	Calls            int // SDRS and ECS calls from the flip to the last Ready
	LastReady        time.Duration
	Predicted        time.Duration // (Calls - Burst) / Rate
	MaxIn1s          int
	BucketExcess     float64
	MeanRate         float64
	SetupCalls       int
	SetupTook        time.Duration
	SetupMaxIn1s     int
	SetupBucketExces float64
}

func runRateLimited(ctx context.Context, o fleetOptions, rate, burst int32) (*rateResult, error) {
	s, err := startStack(ctx, stackOptions{n: o.n, jobDuration: o.jobDuration,
		callsPerSecond: rate, burst: burst, syncInterval: 5 * time.Minute})
	if err != nil {
		return nil, err
	}
	defer s.stop()
	r := &rateResult{N: o.n, Rate: float64(rate), Burst: int(burst)}
	ids, err := s.seed(ctx, "limited", o.n, o.seedBatch)
	if err != nil {
		return nil, err
	}
	if err := s.startManager(ctx, o.managerArgs, false); err != nil {
		return nil, err
	}
	if err := s.clearCalls(ctx); err != nil {
		return nil, err
	}
	log.Printf("rate limit %d/s burst %d: creating %d ProtectionGroups", rate, burst, o.n)
	start := time.Now()
	names, err := s.createGroups(ctx, ids, o.workers)
	if err != nil {
		return nil, err
	}
	if _, err := s.track.waitReady(ctx, names, nil, o.readyTimeout); err != nil {
		return nil, fmt.Errorf("setup: %w", err)
	}
	r.SetupTook = time.Since(start)
	calls, err := s.Emu.Admin.Calls(ctx, "", "")
	if err != nil {
		return nil, err
	}
	r.SetupCalls = len(calls)
	ts := times(calls)
	r.SetupMaxIn1s = maxInWindow(ts, time.Second)
	if len(ts) <= 20000 {
		r.SetupBucketExces = bucketExcess(ts, r.Rate, r.Burst, rateSlack)
	}
	// Let the bucket fill up again, as it would before a real incident.
	if err := sleep(ctx, time.Duration(float64(burst)/float64(rate)*float64(time.Second))+3*time.Second); err != nil {
		return nil, err
	}
	if err := s.clearCalls(ctx); err != nil {
		return nil, err
	}
	log.Printf("rate limit %d/s burst %d: flipping %d groups", rate, burst, o.n)
	t0 := time.Now()
	_, gens, err := s.flip(ctx, names, drv1alpha1.SiteTarget, o.workers)
	if err != nil {
		return nil, err
	}
	readyAt, err := s.track.waitReady(ctx, names, gens, o.readyTimeout)
	if err != nil {
		return nil, fmt.Errorf("flip: %w", err)
	}
	var last time.Time
	for _, t := range readyAt {
		if t.After(last) {
			last = t
		}
	}
	r.LastReady = last.Sub(t0)
	calls, err = s.Emu.Admin.Calls(ctx, "", "")
	if err != nil {
		return nil, err
	}
	flip := between(calls, t0, last.Add(time.Second))
	r.Calls = len(flip)
	ts = times(flip)
	r.MaxIn1s = maxInWindow(ts, time.Second)
	if len(ts) <= 20000 {
		r.BucketExcess = bucketExcess(ts, r.Rate, r.Burst, rateSlack)
	}
	if r.LastReady > 0 {
		r.MeanRate = float64(r.Calls) / r.LastReady.Seconds()
	}
	r.Predicted = time.Duration(float64(max(r.Calls-r.Burst, 0)) / r.Rate * float64(time.Second))
	return r, nil
}

// sortedDurations is a helper for the report.
