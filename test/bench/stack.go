package main

import (
	"context"
	"fmt"
	"io"
	"log"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"

	drv1alpha1 "github.com/sdrs-operator/sdrs-operator/api/v1alpha1"
	"github.com/sdrs-operator/sdrs-operator/internal/emutest"
	"github.com/sdrs-operator/sdrs-operator/test/e2e/harness"
)

// stack is one control plane, one emulator and (while the operator is
// measured) one manager, with the ProtectionGroups of one namespace.
type stack struct {
	*harness.Stack
	// kube is a client without client-side throttling, so the benchmark's
	// own writes (create, flip) do not pace the measurement.
	kube client.WithWatch
	// metricsURL is the manager's Prometheus endpoint; pprofURL its pprof
	// endpoint when profiling was asked for.
	metricsURL, pprofURL string
	track                *tracker
	// pids of the control plane and the emulator, to say where the CPU
	// went.
	apiserverPids, etcdPids, emulatorPids []int
	// stopTrack ends the tracker's watch; an open watch would hold up
	// kube-apiserver's graceful stop.
	stopTrack context.CancelFunc
	// groupLabels, when set, gives createGroups' i-th group its labels
	// (the DRPlan runs select their members by label).
	groupLabels func(i int) map[string]string
}

type stackOptions struct {
	n              int
	jobDuration    time.Duration
	callsPerSecond int32
	burst          int32
	syncInterval   time.Duration
}

func startStack(ctx context.Context, o stackOptions) (*stack, error) {
	log.Printf("starting control plane and emulator (job duration %s)", o.jobDuration)
	st, err := harness.StartStack(ctx, harness.StackOptions{
		Emulator: harness.EmulatorOptions{
			Name:        "bench-emulator",
			JobDuration: o.jobDuration,
			// Seeded groups are active already; copies only run after a
			// forced failover, which the benchmark does not do.
			SyncDuration: o.jobDuration,
			ExtraArgs:    []string{"--max-calls", strconv.Itoa(max(100000, 40*o.n))},
		},
		NamespacePrefix: "bench-",
		ProviderConfig:  "bench",
		MutateProviderConfig: func(pc *drv1alpha1.ProviderConfig) {
			pc.Spec.RateLimit = drv1alpha1.RateLimit{CallsPerSecond: o.callsPerSecond, Burst: o.burst}
			pc.Spec.SyncInterval = metav1.Duration{Duration: o.syncInterval}
		},
	})
	if err != nil {
		return nil, err
	}
	s := &stack{Stack: st}
	cfg := rest.CopyConfig(s.CP.Config)
	cfg.QPS, cfg.Burst = 5000, 10000
	if s.kube, err = client.NewWithWatch(cfg, client.Options{Scheme: harness.Scheme}); err != nil {
		s.stop()
		return nil, err
	}
	s.apiserverPids = findPids("kube-apiserver", s.CP.Dir)
	if u := s.CP.Env.ControlPlane.Etcd.URL; u != nil {
		s.etcdPids = findPids("etcd", "--listen-client-urls="+u.String())
	}
	s.emulatorPids = findPids("sdrs-emulator")
	s.track = newTracker()
	tctx, cancel := context.WithCancel(ctx)
	s.stopTrack = cancel
	go s.track.run(tctx, s.kube, s.Namespace)
	return s, nil
}

// startManager starts bin/manager with its metrics endpoint (and, when
// asked, pprof) on a free port.
func (s *stack) startManager(ctx context.Context, extra []string, pprof bool) error {
	log.Printf("starting manager %v", extra)
	if err := s.StartManager(ctx, harness.ManagerOptions{
		Name: "bench-manager", ExtraArgs: extra, ServeMetrics: true, ServePprof: pprof,
		// One manager for the whole fleet, as deployed by default: its
		// cache holds every namespace, so the owner check needs no API
		// reads (a manager limited to some namespaces makes one filtered
		// read per action, docs/deploy.md).
		AllNamespaces: true,
	}); err != nil {
		return err
	}
	s.metricsURL, s.pprofURL = s.Mgr.MetricsURL, s.Mgr.PprofURL
	return nil
}

func (s *stack) stop() {
	if s.stopTrack != nil {
		s.stopTrack()
	}
	s.Stop()
}

// seed creates n protected groups in the emulator, in batches, with every
// server already stopped: the benchmark's groups use serverPower Manual,
// as after a runbook's "stop production" step.
func (s *stack) seed(ctx context.Context, prefix string, n, batch int) ([]string, error) {
	ids := make([]string, 0, n)
	stopped := []emutest.Instance{{ProductionPower: "SHUTOFF", DRPower: "SHUTOFF"}}
	for start := 0; start < n; start += batch {
		var groups []emutest.Group
		for i := start; i < min(n, start+batch); i++ {
			groups = append(groups, emutest.Group{Name: fmt.Sprintf("%s-%05d", prefix, i), Instances: stopped})
		}
		res, err := s.Emu.Admin.Seed(ctx, groups...)
		if err != nil {
			return nil, err
		}
		for _, g := range res {
			ids = append(ids, g.ID)
		}
	}
	return ids, nil
}

// createGroups creates one ProtectionGroup per SDRS group, named pg-00000
// and so on, in parallel.
func (s *stack) createGroups(ctx context.Context, ids []string, workers int) ([]string, error) {
	names := make([]string, len(ids))
	for i := range ids {
		names[i] = fmt.Sprintf("pg-%05d", i)
	}
	err := parallel(ctx, len(ids), workers, func(i int) error {
		pg := harness.AdoptingGroup(s.Namespace, names[i], s.ProviderConfig, ids[i])
		pg.Spec.ServerPower = drv1alpha1.ServerPowerManual
		if s.groupLabels != nil {
			pg.Labels = s.groupLabels(i)
		}
		return s.kube.Create(ctx, pg)
	})
	return names, err
}

// flip patches every group's desiredActiveSite at once and returns when
// each patch was answered and the generation it produced.
func (s *stack) flip(ctx context.Context, names []string, site drv1alpha1.Site, workers int) (map[string]time.Time, map[string]int64, error) {
	var mu sync.Mutex
	at := map[string]time.Time{}
	gens := map[string]int64{}
	patch := client.RawPatch(types.MergePatchType, []byte(`{"spec":{"desiredActiveSite":"`+string(site)+`"}}`))
	err := parallel(ctx, len(names), workers, func(i int) error {
		pg := &drv1alpha1.ProtectionGroup{}
		pg.Namespace, pg.Name = s.Namespace, names[i]
		if err := s.kube.Patch(ctx, pg, patch); err != nil {
			return err
		}
		mu.Lock()
		at[names[i]] = time.Now()
		gens[names[i]] = pg.Generation
		mu.Unlock()
		return nil
	})
	return at, gens, err
}

// setSyncInterval changes the ProviderConfig's syncInterval.
func (s *stack) setSyncInterval(ctx context.Context, d time.Duration) error {
	pc := &drv1alpha1.ProviderConfig{}
	pc.Name = s.ProviderConfig
	return s.kube.Patch(ctx, pc, client.RawPatch(types.MergePatchType,
		[]byte(`{"spec":{"syncInterval":"`+d.String()+`"}}`)))
}

// clearCalls empties the emulator's call log.
func (s *stack) clearCalls(ctx context.Context) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodDelete, s.Emu.SDRSURL+"/admin/calls", nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNoContent {
		return fmt.Errorf("DELETE /admin/calls: %d", resp.StatusCode)
	}
	return nil
}

// parallel runs fn(0..n-1) on workers goroutines and returns the first error.
func parallel(ctx context.Context, n, workers int, fn func(i int) error) error {
	var (
		wg       sync.WaitGroup
		mu       sync.Mutex
		firstErr error
		next     = make(chan int)
	)
	for range max(workers, 1) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				if err := fn(i); err != nil {
					mu.Lock()
					if firstErr == nil {
						firstErr = err
					}
					mu.Unlock()
				}
			}
		}()
	}
	for i := range n {
		select {
		case next <- i:
		case <-ctx.Done():
		}
	}
	close(next)
	wg.Wait()
	if firstErr == nil {
		firstErr = ctx.Err()
	}
	return firstErr
}

// tracker watches the namespace's ProtectionGroups and remembers, for each,
// when it was first seen Ready for a generation.
type tracker struct {
	mu sync.Mutex
	// ready is, per object, the highest generation seen Ready and when.
	ready map[string]readyMark
	last  map[string]string // name -> one-line status, for timeouts
	// observers see every ProtectionGroup the watch delivers, with the
	// time it arrived (the DRPlan run counts its applies through them).
	observers []func(pg *drv1alpha1.ProtectionGroup, at time.Time)
}

type readyMark struct {
	gen int64
	at  time.Time
}

func newTracker() *tracker {
	return &tracker{ready: map[string]readyMark{}, last: map[string]string{}}
}

// isReady is the benchmark's "done": Ready True for the current generation,
// the desired site active, nothing in flight.
func isReady(pg *drv1alpha1.ProtectionGroup) bool {
	c := meta.FindStatusCondition(pg.Status.Conditions, drv1alpha1.ReadyCondition)
	return c != nil && c.Status == metav1.ConditionTrue && c.ObservedGeneration == pg.Generation &&
		string(pg.Status.ActiveSite) == string(pg.Spec.DesiredActiveSite) && pg.Status.CurrentOperation == nil
}

// addObserver adds f to the functions every watched ProtectionGroup is
// passed to; it returns a function that removes it again.
func (t *tracker) addObserver(f func(pg *drv1alpha1.ProtectionGroup, at time.Time)) (remove func()) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.observers = append(t.observers, f)
	i := len(t.observers) - 1
	return func() {
		t.mu.Lock()
		defer t.mu.Unlock()
		t.observers[i] = nil
	}
}

func (t *tracker) observe(pg *drv1alpha1.ProtectionGroup, now time.Time) {
	t.mu.Lock()
	defer t.mu.Unlock()
	for _, f := range t.observers {
		if f != nil {
			f(pg, now)
		}
	}
	t.last[pg.Name] = harness.Describe(pg)
	if !isReady(pg) {
		return
	}
	if m, ok := t.ready[pg.Name]; !ok || m.gen < pg.Generation {
		t.ready[pg.Name] = readyMark{gen: pg.Generation, at: now}
	}
}

func (t *tracker) run(ctx context.Context, c client.WithWatch, ns string) {
	for ctx.Err() == nil {
		var list drv1alpha1.ProtectionGroupList
		if err := c.List(ctx, &list, client.InNamespace(ns)); err != nil {
			time.Sleep(time.Second)
			continue
		}
		now := time.Now()
		for i := range list.Items {
			t.observe(&list.Items[i], now)
		}
		w, err := c.Watch(ctx, &drv1alpha1.ProtectionGroupList{}, client.InNamespace(ns),
			&client.ListOptions{Raw: &metav1.ListOptions{ResourceVersion: list.ResourceVersion}})
		if err != nil {
			time.Sleep(time.Second)
			continue
		}
		for ev := range w.ResultChan() {
			if ev.Type != watch.Added && ev.Type != watch.Modified {
				continue
			}
			if pg, ok := ev.Object.(*drv1alpha1.ProtectionGroup); ok {
				t.observe(pg, time.Now())
			}
		}
		w.Stop()
	}
}

// readyTimes returns when each name was first Ready at generation >=
// gens[name] (gen 1 when gens is nil); missing names are not Ready yet.
func (t *tracker) readyTimes(names []string, gens map[string]int64) map[string]time.Time {
	t.mu.Lock()
	defer t.mu.Unlock()
	out := map[string]time.Time{}
	for _, n := range names {
		want := int64(1)
		if gens != nil {
			want = gens[n]
		}
		if m, ok := t.ready[n]; ok && m.gen >= want {
			out[n] = m.at
		}
	}
	return out
}

// waitReady waits until every name is Ready at its generation.
func (t *tracker) waitReady(ctx context.Context, names []string, gens map[string]int64, timeout time.Duration) (map[string]time.Time, error) {
	deadline := time.Now().Add(timeout)
	lastLog := time.Now()
	for {
		got := t.readyTimes(names, gens)
		if len(got) == len(names) {
			return got, nil
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			t.mu.Lock()
			var sample string
			for _, n := range names {
				if _, ok := got[n]; !ok {
					sample = n + ": " + t.last[n]
					break
				}
			}
			t.mu.Unlock()
			return got, fmt.Errorf("%d of %d ProtectionGroups Ready after %s; e.g. %s", len(got), len(names), timeout, sample)
		}
		if time.Since(lastLog) > 15*time.Second {
			log.Printf("  %d/%d Ready", len(got), len(names))
			lastLog = time.Now()
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// profileAPIServer saves a CPU profile of kube-apiserver over d to path,
// to see where a flip's server time goes (go tool pprof).
func (s *stack) profileAPIServer(ctx context.Context, d time.Duration, path string) error {
	hc, err := rest.HTTPClientFor(s.CP.Config)
	if err != nil {
		return err
	}
	return saveProfile(ctx, hc, strings.TrimSuffix(s.CP.Config.Host, "/")+"/debug/pprof/profile", d, path)
}

// profileManager saves a CPU profile of the manager (started with pprof).
func (s *stack) profileManager(ctx context.Context, d time.Duration, path string) error {
	if s.pprofURL == "" {
		return nil
	}
	return saveProfile(ctx, http.DefaultClient, s.pprofURL, d, path)
}

// heapManager saves the manager's heap profile (what is live now, and
// what was allocated since it started) to path.
func (s *stack) heapManager(ctx context.Context, path string) error {
	if s.pprofURL == "" {
		return nil
	}
	return saveProfile(ctx, http.DefaultClient, strings.TrimSuffix(s.pprofURL, "profile")+"heap", 0, path)
}

// saveProfile saves base's profile to path; d > 0 asks for a profile over d.
func saveProfile(ctx context.Context, hc *http.Client, base string, d time.Duration, path string) error {
	url := base
	if d > 0 {
		url = fmt.Sprintf("%s?seconds=%d", base, int(d.Seconds()))
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	resp, err := hc.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: %d", url, resp.StatusCode)
	}
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	defer f.Close()
	_, err = io.Copy(f, resp.Body)
	return err
}

// emuPort is the emulator's SDRS listener port.
func (s *stack) emuPort() int {
	u := s.Emu.SDRSURL
	i := strings.LastIndexByte(u, ':')
	if i < 0 {
		return 0
	}
	p, _ := strconv.Atoi(u[i+1:])
	return p
}
