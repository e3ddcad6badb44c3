//go:build e2e

package e2e

import (
	"context"
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"

	drv1alpha1 "github.com/sdrs-operator/sdrs-operator/api/v1alpha1"
	"github.com/sdrs-operator/sdrs-operator/internal/emutest"
	"github.com/sdrs-operator/sdrs-operator/test/e2e/harness"
)

// Answers that lie about what happened: an action carried out and answered
// 5xx, an action refused before it reached SDRS, a job that failed while
// nobody held its ID.

// verdictLine is the manager's log line for an attempt judged without its
// job ID.
var verdictLine = regexp.MustCompile(`"msg":"judged an attempt without a job".*"verdict":"([^"]+)","why":"([^"]*)"`)

// verdicts returns the verdicts a manager logged, as "verdict (why)".
func verdicts(m *harness.Manager) []string {
	var out []string
	for _, l := range m.Lines() {
		if v := verdictLine.FindStringSubmatch(l); v != nil {
			out = append(out, fmt.Sprintf("%s (%s)", v[1], v[2]))
		}
	}
	return out
}

// relAcceptThenError: SDRS carries the reverse out, then answers 500.
func relAcceptThenError(t *testing.T, profile string) {
	s := newScenario(t, harness.Row{Order: 25, Area: "Lost answer",
		Fault:  "serverPower Managed; SDRS carries the planned failover out and answers 500 instead of the job ID (the emulator's accept-then-error fault)",
		Assert: "the manager never sends the reverse again: it judges the unanswered attempt by the group and the task center, follows it to the end and starts the servers; exactly one stop, one reverse, one start carried out, 0 duplicate, 0 lost (servers at the new production site ACTIVE); lastOperation Succeeded"},
		scenarioOptions{profile: profile, emulator: harness.EmulatorOptions{JobDuration: 2 * time.Second}})
	g := s.seed(emutest.Group{Name: "web", Instances: []emutest.Instance{{}}})[0]
	m := s.manager("m")
	pg := s.adopt("web", g.ID, nil)
	s.waitFor(pg, relOpTimeout, harness.ReadyAt(drv1alpha1.SiteSource))
	if err := s.emu.AcceptThenError(s.ctx, "StartReverseProtectionGroup", g.ID, 1); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	s.update(pg, func(p *drv1alpha1.ProtectionGroup) { p.Spec.DesiredActiveSite = drv1alpha1.SiteTarget })
	s.waitFor(pg, relOpTimeout, harness.ReadyAt(drv1alpha1.SiteTarget))
	took := time.Since(start)
	answered := ""
	for _, c := range s.calls(g.ID) {
		if c.Operation == "StartReverseProtectionGroup" {
			answered += fmt.Sprintf(" %d(applied=%v)", c.StatusCode, c.Applied)
		}
	}
	got := s.exactlyOnce(g.ID, harness.Expect{Actions: switchManaged, Site: "target", ServersOn: true})
	s.switchedOver(pg, g.ID, "")
	v := verdicts(m)
	if len(v) == 0 {
		t.Errorf("the manager logged no verdict on the unanswered attempt")
	}
	s.result("reverse calls answered:%s; verdicts: %s; %s; converged in %s", answered, strings.Join(v, "; "), got, ms(took))
}

// relRetryRefusedBeforeSDRS: the retry of a failed planned failover is
// answered 503 by a gateway (the proxy) and never reaches SDRS.
func relRetryRefusedBeforeSDRS(t *testing.T, profile string) {
	s := newScenario(t, harness.Row{Order: 56, Area: "Failed job",
		Fault:  "the reverse job ends FAIL with SDRS.1029 (the group is left error-reversing by the default profile, protected by the pessimistic one); the dr.sdrs.io/retry annotation's action is answered 503 by a gateway (proxy) without reaching SDRS",
		Assert: "the never-sent retry is not recorded as failed (no Stalled, no Failed operation after the retry); it is sent once more only after the not-started grace (8s) and succeeds; reverses carried out: the failed one and the retry, 0 duplicate, 0 lost"},
		scenarioOptions{proxy: true, profile: profile, emulator: harness.EmulatorOptions{JobDuration: time.Second}})
	g := s.seed(emutest.Group{Name: "web", Instances: []emutest.Instance{off}})[0]
	s.manager("m")
	if err := s.emu.Admin.FailJobs(s.ctx, "reverseProtectionGroupNoCG", 1, "SDRS.1029", "injected by the reliability suite"); err != nil {
		t.Fatal(err)
	}
	pg := s.adopt("web", g.ID, manual)
	s.waitFor(pg, relOpTimeout, harness.ReadyAt(drv1alpha1.SiteSource))
	s.update(pg, func(p *drv1alpha1.ProtectionGroup) { p.Spec.DesiredActiveSite = drv1alpha1.SiteTarget })
	s.waitFor(pg, relOpTimeout, harness.HasCondition(drv1alpha1.StalledCondition, metav1.ConditionTrue, drv1alpha1.JobFailedReason))
	firstFailed := pg.Status.LastOperation.RequestID
	groupAfterFailure := s.groupStatus(g.ID)

	var mu sync.Mutex
	var refusedAt time.Time
	gateway := s.proxy.Add(&harness.Rule{Match: harness.MatchAction("reverse-server-group"), Times: 1,
		Respond: func(w http.ResponseWriter, _ *http.Request) {
			mu.Lock()
			refusedAt = time.Now()
			mu.Unlock()
			w.Header().Set("Content-Type", "text/html")
			w.WriteHeader(http.StatusServiceUnavailable)
			_, _ = w.Write([]byte("<html><body><h1>503 Service Unavailable</h1></body></html>"))
		}})
	s.annotate(pg, drv1alpha1.RetryAnnotation, "1")
	s.waitHit(gateway, "the retry to reach the gateway")
	// From the retry on, the object must never say the retry failed.
	var bad string
	err := wait.PollUntilContextTimeout(s.ctx, 100*time.Millisecond, relOpTimeout, true, func(ctx context.Context) (bool, error) {
		cur := s.get(pg)
		if ok, _ := harness.HasCondition(drv1alpha1.StalledCondition, metav1.ConditionTrue, "")(cur); ok && cur.Status.LastHandledRetry == "1" {
			bad = "Stalled after the retry: " + harness.Describe(cur)
			return true, nil
		}
		if last := cur.Status.LastOperation; last != nil && last.RequestID != firstFailed && last.Result == drv1alpha1.OperationFailed {
			bad = fmt.Sprintf("the retry was recorded as failed: %+v", last)
			return true, nil
		}
		ok, _ := harness.ReadyAt(drv1alpha1.SiteTarget)(cur)
		return ok, nil
	})
	if err != nil {
		t.Fatalf("not Ready at target after the retry: %s", harness.Describe(s.get(pg)))
	}
	if bad != "" {
		t.Fatal(bad)
	}
	mu.Lock()
	refused := refusedAt
	mu.Unlock()
	var sentAgain time.Time
	reverses := 0
	for _, c := range s.calls(g.ID) {
		if c.Operation == "StartReverseProtectionGroup" {
			reverses++
			if c.Time.After(refused) && sentAgain.IsZero() {
				sentAgain = c.Time
			}
		}
	}
	grace := 8 * time.Second
	gap := sentAgain.Sub(refused)
	if sentAgain.IsZero() || gap < grace-time.Second {
		t.Errorf("the retry was sent again %s after the gateway refused it, want no sooner than the not-started grace (%s)", gap, grace)
	}
	if reverses != 2 {
		t.Errorf("%d reverse calls reached SDRS, want 2 (the failed one, the retry sent again)", reverses)
	}
	failures := 0
	for _, h := range s.get(pg).Status.History {
		if h.Result == drv1alpha1.OperationFailed {
			failures++
		}
	}
	if failures != 1 {
		t.Errorf("history holds %d failed operations, want 1 (the injected job failure)", failures)
	}
	got := s.exactlyOnce(g.ID, harness.Expect{Actions: map[string]int{"StartReverseProtectionGroup": 2}, Site: "target"})
	s.result("group %s after the failed job; the retry answered 503 by the gateway, never recorded as failed; sent again %s later and succeeded; %d reverse calls reached SDRS, 1 failed operation in history; %s",
		groupAfterFailure, ms(gap), reverses, got)
}

// groupStatus is the SDRS group's status and site, as the emulator holds it.
func (s *scenario) groupStatus(groupID string) string {
	s.t.Helper()
	st, err := s.emu.State(s.ctx)
	if err != nil {
		s.t.Fatal(err)
	}
	g := st.Group(groupID)
	if g == nil {
		return "gone"
	}
	return g.Status + " at " + g.PriorityStation
}

// relFailedUnrecorded: the reverse job fails while the manager that sent
// it is dead and never learned its ID; under the pessimistic profile the
// failure restores the group's status, so only the task center shows it.
func relFailedUnrecorded(t *testing.T, profile string) {
	s := newScenario(t, harness.Row{Order: 57, Area: "Failed job",
		Fault:  "the reverse job ends FAIL with SDRS.1029 (under the pessimistic profile the failure restores the group to protected at source, so only the SDRS task center shows it) while its job ID is unknown: the proxy holds the action's answer and the manager is SIGKILLed",
		Assert: "a new manager reports the failure with SDRS's code (Stalled/JobFailed naming SDRS.1029, lastOperation Failed for the intent's requestID), found through the task center; no further action across a refresh and two stalled re-checks; then the dr.sdrs.io/retry annotation gives exactly one more reverse; 0 duplicate, 0 lost"},
		scenarioOptions{proxy: true, profile: profile, emulator: harness.EmulatorOptions{JobDuration: 2 * time.Second}})
	g := s.seed(emutest.Group{Name: "web", Instances: []emutest.Instance{off}})[0]
	m1 := s.manager("m1")
	if err := s.emu.Admin.FailJobs(s.ctx, "reverseProtectionGroupNoCG", 1, "SDRS.1029", "injected by the reliability suite"); err != nil {
		t.Fatal(err)
	}
	pg := s.adopt("web", g.ID, manual)
	s.waitFor(pg, relOpTimeout, harness.ReadyAt(drv1alpha1.SiteSource))
	hold := s.proxy.Add(&harness.Rule{Match: harness.MatchAction("reverse-server-group"), HoldAfter: true, Times: 1})
	s.update(pg, func(p *drv1alpha1.ProtectionGroup) { p.Spec.DesiredActiveSite = drv1alpha1.SiteTarget })
	s.waitHit(hold, "the reverse call to reach SDRS")
	s.waitFor(pg, 10*time.Second, harness.OperationRunning(drv1alpha1.OperationPlannedFailover, drv1alpha1.StepSDRSAction, false))
	requestID := pg.Status.CurrentOperation.RequestID
	if err := m1.Kill(); err != nil {
		t.Fatal(err)
	}
	killed := time.Now()
	m2 := s.manager("m2")
	jobs := s.groupJobs(g.ID, "reverseProtectionGroupNoCG")
	if len(jobs) != 1 {
		t.Fatalf("%d reverse jobs in SDRS, want 1", len(jobs))
	}
	s.waitJob(jobs[0].ID, "FAIL", relOpTimeout)
	groupAfterFailure := s.groupStatus(g.ID)
	s.waitFor(pg, relOpTimeout, harness.HasCondition(drv1alpha1.StalledCondition, metav1.ConditionTrue, drv1alpha1.JobFailedReason))
	reported := time.Since(killed)
	msg := findCondition(pg, drv1alpha1.StalledCondition).Message
	if !strings.Contains(msg, "SDRS.1029") {
		t.Errorf("Stalled message %q should name SDRS.1029", msg)
	}
	if last := pg.Status.LastOperation; last == nil || last.Result != drv1alpha1.OperationFailed || last.ErrorCode != "SDRS.1029" || last.RequestID != requestID {
		t.Errorf("lastOperation %+v, want the intent %s Failed with SDRS.1029", last, requestID)
	}
	v := verdicts(m2)
	if !slicesContainPrefix(v, "failed") {
		t.Errorf("the new manager logged no failed verdict from the task center: %v", v)
	}
	poked := s.poke(pg)
	reads := s.waitReads(g.ID, poked, 3)
	if n, _ := s.emu.Admin.Calls(s.ctx, "StartReverseProtectionGroup", g.ID); len(n) != 1 {
		t.Errorf("%d reverse calls before the retry annotation, want 1", len(n))
	}
	window := time.Since(poked)
	s.annotate(pg, drv1alpha1.RetryAnnotation, "1")
	retried := time.Now()
	s.waitFor(pg, relOpTimeout, harness.ReadyAt(drv1alpha1.SiteTarget))
	recovered := time.Since(retried)
	got := s.exactlyOnce(g.ID, harness.Expect{Actions: map[string]int{"StartReverseProtectionGroup": 2}, Site: "target"})
	s.result("the job failed after the kill (group then %s); the new manager reported Stalled/JobFailed %s after the kill: %q; verdict: %s; %d group reads over %s after a refresh with no new call; recovered %s after the retry annotation; %s",
		groupAfterFailure, ms(reported), msg, strings.Join(v, "; "), reads, ms(window), ms(recovered), got)
}

func slicesContainPrefix(list []string, prefix string) bool {
	for _, s := range list {
		if strings.HasPrefix(s, prefix) {
			return true
		}
	}
	return false
}
