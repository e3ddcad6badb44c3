//go:build e2e

package e2e

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/wait"
	"sigs.k8s.io/controller-runtime/pkg/client"

	drv1alpha1 "github.com/sdrs-operator/sdrs-operator/api/v1alpha1"
	"github.com/sdrs-operator/sdrs-operator/internal/emutest"
	"github.com/sdrs-operator/sdrs-operator/test/e2e/harness"
)

// foreignWriter touches a ProtectionGroup the way other controllers and
// people do (a label, an annotation outside dr.sdrs.io/, a status condition
// of its own type) at a fixed interval, until stopped. Every write moves
// the object's resourceVersion, so a status patch the manager computed
// from an earlier copy conflicts.
type foreignWriter struct {
	mu                     sync.Mutex
	meta, status, conflict int
	stop                   chan struct{}
	done                   chan struct{}
}

// ForeignCondition is the condition type the foreign writer owns.
const foreignCondition = "ExampleComAudited"

func startForeignWriter(ctx context.Context, c client.Client, key types.NamespacedName, every time.Duration) *foreignWriter {
	w := &foreignWriter{stop: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(w.done)
		tick := time.NewTicker(every)
		defer tick.Stop()
		for n := 0; ; n++ {
			select {
			case <-w.stop:
				return
			case <-ctx.Done():
				return
			case <-tick.C:
			}
			pg := &drv1alpha1.ProtectionGroup{ObjectMeta: metav1.ObjectMeta{Namespace: key.Namespace, Name: key.Name}}
			patch := fmt.Sprintf(`{"metadata":{"labels":{"example.com/tick":"%d"},"annotations":{"example.com/touched":"%d"}}}`, n, n)
			if err := c.Patch(ctx, pg, client.RawPatch(types.MergePatchType, []byte(patch))); err == nil {
				w.count(&w.meta)
			}
			// The status: read, set its own condition, write with the
			// resourceVersion read (so it never overwrites the manager's
			// status; it conflicts instead, like any careful writer).
			cur := &drv1alpha1.ProtectionGroup{}
			if err := c.Get(ctx, key, cur); err != nil {
				continue
			}
			meta.SetStatusCondition(&cur.Status.Conditions, metav1.Condition{Type: foreignCondition, Status: metav1.ConditionTrue,
				Reason: "Audited", Message: fmt.Sprintf("audit pass %d", n), ObservedGeneration: cur.Generation})
			switch err := c.Status().Update(ctx, cur); {
			case err == nil:
				w.count(&w.status)
			case apierrors.IsConflict(err):
				w.count(&w.conflict)
			}
		}
	}()
	return w
}

func (w *foreignWriter) count(n *int) {
	w.mu.Lock()
	*n++
	w.mu.Unlock()
}

// Stop stops the writer and returns its successful metadata and status
// writes and its own status writes that conflicted.
func (w *foreignWriter) Stop() (meta, status, conflict int) {
	select {
	case <-w.stop:
	default:
		close(w.stop)
	}
	<-w.done
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.meta, w.status, w.conflict
}

// callStats counts the SDRS and ECS calls on a group in [from, to).
type callStats struct {
	all, groupReads int
	span            time.Duration
}

func (c callStats) perSecond() float64 {
	if c.span <= 0 {
		return 0
	}
	return float64(c.all) / c.span.Seconds()
}

func (c callStats) String() string {
	return fmt.Sprintf("%d calls (%.2f/s), %d group reads in %s", c.all, c.perSecond(), c.groupReads, ms(c.span))
}

func (s *scenario) callsBetween(groupID string, from, to time.Time) callStats {
	s.t.Helper()
	st := callStats{span: to.Sub(from)}
	for _, c := range s.calls(groupID) {
		if c.Time.Before(from) || !c.Time.Before(to) {
			continue
		}
		st.all++
		if c.Operation == "ShowProtectionGroup" {
			st.groupReads++
		}
	}
	return st
}

// freePort returns a local TCP address nobody listens on now.
func freePort(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// scrape sums the samples of a Prometheus counter whose labels contain
// every one of match (e.g. `code="409"`).
func scrape(ctx context.Context, addr, name string, match ...string) (float64, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+addr+"/metrics", nil)
	if err != nil {
		return 0, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	sum := 0.0
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 64<<10), 4<<20)
lines:
	for sc.Scan() {
		l := sc.Text()
		if !strings.HasPrefix(l, name+"{") && !strings.HasPrefix(l, name+" ") {
			continue
		}
		for _, m := range match {
			if !strings.Contains(l, m) {
				continue lines
			}
		}
		f := strings.Fields(l)
		v, err := strconv.ParseFloat(f[len(f)-1], 64)
		if err == nil {
			sum += v
		}
	}
	return sum, sc.Err()
}

// conflictLooks is how many looks the manager's conflict backoff (50ms,
// doubling, at most 10s; controllers/conflicts.go) allows in a window
// during which every status write of one object conflicts.
func conflictLooks(window time.Duration) int {
	n, at, wait := 0, time.Duration(0), 50*time.Millisecond
	for {
		at += wait
		if at > window {
			return n
		}
		n++
		wait = min(2*wait, 10*time.Second)
	}
}

// relForeignWriter: another writer touches the object every 100ms for 30s,
// while the group is idle and while it switches over.
func relForeignWriter(t *testing.T) {
	const (
		every     = 100 * time.Millisecond
		window    = 30 * time.Second
		idle      = 10 * time.Second
		syncEvery = 2 * time.Second
		latency   = 30 * time.Millisecond
	)
	s := newScenario(t, harness.Row{Order: 63, Area: "Conflicting change",
		Fault: fmt.Sprintf("a foreign writer touches the ProtectionGroup every %s for %s: a label, an annotation outside dr.sdrs.io/, and a status condition of its own (read, set, write with the resourceVersion), so the manager's own status patches conflict; %s idle, then a switchover (ProviderConfig syncInterval %s, 3s job, every SDRS and ECS call answered after %s as a cloud API would, so that a reconcile spans a foreign write); the same measured first without the writer",
			every, window, idle, syncEvery, latency),
		Assert: "the writes wake no reconcile (only spec and dr.sdrs.io/ annotations do); SDRS calls stay on the poll schedule: idle, no more group reads than one per sync interval (+1); during the switchover, no more group reads than without the writer plus the looks the conflict backoff allows (50ms doubling to 10s: 8 in 20s) plus the sync look already scheduled; the switchover completes while the writer runs, exactly once (one reverse carried out, 0 duplicate, 0 lost); the foreign condition is kept"},
		scenarioOptions{emulator: harness.EmulatorOptions{JobDuration: 3 * time.Second},
			mutatePC: func(pc *drv1alpha1.ProviderConfig) { pc.Spec.SyncInterval = metav1.Duration{Duration: syncEvery} }})
	g := s.seed(emutest.Group{Name: "web", Instances: []emutest.Instance{off}})[0]
	opts := s.managerOptions("m", false)
	metricsAddr := freePort(t)
	opts.ExtraArgs = []string{"--metrics-bind-address=" + metricsAddr}
	s.managerWith(opts)
	pg := s.adopt("web", g.ID, manual)
	s.waitFor(pg, relOpTimeout, harness.ReadyAt(drv1alpha1.SiteSource))
	// A cloud API answers in tens of milliseconds, not in the emulator's
	// one: with this latency a reconcile spans a foreign write between
	// the copy it decides on and its status patch, as it would in a real
	// cluster, so that patch conflicts. The same latency applies with
	// and without the writer.
	if err := s.emu.Admin.SetHTTPFaults(s.ctx, emutest.HTTPFaults{Latency: latency.String()}); err != nil {
		t.Fatal(err)
	}
	// The manager's status writes that conflicted: PUT answered 409.
	// (Its other writes, ProviderConfig status and Events, carry no
	// resourceVersion and cannot conflict; the finalizer is written once,
	// before this.)
	conflicts := func() float64 {
		n, err := scrape(s.ctx, metricsAddr, "rest_client_requests_total", `code="409"`, `method="PUT"`)
		if err != nil {
			t.Fatalf("cannot read the manager's metrics: %v", err)
		}
		return n
	}
	reconciles := func() float64 {
		n, err := scrape(s.ctx, metricsAddr, "controller_runtime_reconcile_total", `controller="protectiongroup"`)
		if err != nil {
			t.Fatalf("cannot read the manager's metrics: %v", err)
		}
		return n
	}

	// Without the writer: idle, then a switchover to target.
	from := time.Now()
	time.Sleep(idle)
	baseIdle := s.callsBetween(g.ID, from, time.Now())
	r0 := reconciles()
	flip := time.Now()
	s.update(pg, func(p *drv1alpha1.ProtectionGroup) { p.Spec.DesiredActiveSite = drv1alpha1.SiteTarget })
	s.waitFor(pg, relOpTimeout, harness.ReadyAt(drv1alpha1.SiteTarget))
	baseSwitch := s.callsBetween(g.ID, flip, time.Now())
	baseReconciles := reconciles() - r0
	// Let the last look after the switchover pass, so that both windows
	// start alike.
	time.Sleep(syncEvery)

	// With the writer: idle, then a switchover back to source.
	r0 = reconciles()
	c0 := conflicts()
	w := startForeignWriter(s.ctx, s.cp.Client, types.NamespacedName{Namespace: s.ns, Name: pg.Name}, every)
	started := time.Now()
	time.Sleep(idle)
	idleEnd := time.Now()
	withIdle := s.callsBetween(g.ID, started, idleEnd)
	idleReconciles := reconciles() - r0
	flip = time.Now()
	s.update(pg, func(p *drv1alpha1.ProtectionGroup) { p.Spec.DesiredActiveSite = drv1alpha1.SiteSource })
	// The switchover must complete while the writer goes on (its job
	// takes 3s; the window leaves 20s).
	var switched time.Time
	_ = wait.PollUntilContextTimeout(s.ctx, 100*time.Millisecond, window-time.Since(started), true, func(ctx context.Context) (bool, error) {
		if ok, _ := harness.ReadyAt(drv1alpha1.SiteSource)(s.get(pg)); ok {
			switched = time.Now()
			return true, nil
		}
		return false, nil
	})
	during := harness.Describe(s.get(pg))
	if rest := window - time.Since(started); rest > 0 {
		time.Sleep(rest)
	}
	metaWrites, statusWrites, ownConflicts := w.Stop()
	stopped := time.Now()
	switchEnd, completed := switched, "back at source %s after the flip, while the writer ran"
	if switched.IsZero() {
		t.Errorf("the switchover did not complete in the %s the writer still ran after the flip; at the writer's end: %s", ms(stopped.Sub(flip)), during)
		switchEnd, completed = stopped, "NOT done while the writer ran; back at source %s after the flip, once it stopped"
		s.waitFor(pg, relOpTimeout, harness.ReadyAt(drv1alpha1.SiteSource))
		switched = time.Now()
	}
	completed = fmt.Sprintf(completed, ms(switched.Sub(flip)))
	withSwitch := s.callsBetween(g.ID, flip, switchEnd)
	whole := s.callsBetween(g.ID, started, stopped)
	withReconciles := reconciles() - r0
	managerConflicts := conflicts() - c0

	idleBound := int(idle/syncEvery) + 1
	if withIdle.groupReads > idleBound {
		t.Errorf("idle with the writer: %d group reads in %s, more than one per sync interval (%s) + 1 = %d", withIdle.groupReads, ms(idle), syncEvery, idleBound)
	}
	// 100 writes would wake 100 reconciles; the sync interval and the
	// conflict backoff allow these.
	if bound := idleBound + conflictLooks(idle); idleReconciles > float64(bound) {
		t.Errorf("idle with the writer: %.0f reconciles in %s, more than one per sync interval + 1 + the conflict backoff's looks = %d: the foreign writes wake the controller", idleReconciles, ms(idle), bound)
	}
	// Without the writer the switchover reads the group baseSwitch times;
	// each conflicting write adds at most one look (one group read) on
	// the conflict backoff's schedule, and the idle sync look scheduled
	// before the flip still comes.
	looks := conflictLooks(switchEnd.Sub(flip))
	switchBound := baseSwitch.groupReads + looks + 1
	if withSwitch.groupReads > switchBound {
		t.Errorf("switchover with the writer: %d group reads, more than without it (%d) + the conflict backoff's looks in %s (%d) + 1 sync look = %d",
			withSwitch.groupReads, baseSwitch.groupReads, ms(switchEnd.Sub(flip)), looks, switchBound)
	}
	got := s.exactlyOnce(g.ID, harness.Expect{Actions: map[string]int{"StartReverseProtectionGroup": 2}, Site: "source"})
	cur := s.get(pg)
	n := 0
	for _, h := range cur.Status.History {
		if h.Type == drv1alpha1.OperationPlannedFailover && h.Result == drv1alpha1.OperationSucceeded {
			n++
		}
	}
	if n != 2 {
		t.Errorf("history holds %d succeeded planned failovers, want 2 (there and back): %+v", n, cur.Status.History)
	}
	if meta.FindStatusCondition(cur.Status.Conditions, foreignCondition) == nil {
		t.Errorf("the foreign writer's condition %s was lost", foreignCondition)
	}
	s.result("writer: %d metadata and %d status writes in %s (%d of its own status writes conflicted); the manager's status patches refused with 409 meanwhile: %.0f; "+
		"idle %s: %s without the writer, %s and %.0f reconciles with it (bound %d group reads); switchover: %s without the writer (%.0f reconciles), %s with it (bound %d group reads); the whole window with the writer: %s, %.0f reconciles; %s; %s",
		metaWrites, statusWrites, ms(stopped.Sub(started)), ownConflicts, managerConflicts,
		ms(idle), baseIdle, withIdle, idleReconciles, idleBound, baseSwitch, baseReconciles, withSwitch, switchBound, whole, withReconciles, completed, got)
}
