//go:build e2e

package e2e

import (
	"context"
	"fmt"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/util/wait"
	"sigs.k8s.io/controller-runtime/pkg/client"

	drv1alpha1 "github.com/sdrs-operator/sdrs-operator/api/v1alpha1"
	"github.com/sdrs-operator/sdrs-operator/internal/emutest"
	"github.com/sdrs-operator/sdrs-operator/test/e2e/harness"
)

// judgedRequest matches a verdict line and its operation's requestID.
var judgedRequest = regexp.MustCompile(`"msg":"judged an attempt without a job".*"requestID":"([^"]+)"`)

// countLines counts a manager's log lines containing substr.
func countLines(m *harness.Manager, substr string) int {
	n := 0
	for _, l := range m.Lines() {
		if strings.Contains(l, substr) {
			n++
		}
	}
	return n
}

// waitAll polls the ProtectionGroups of the scenario's namespace until cond
// holds for every one in names, and returns how many held at the end.
func (s *scenario) waitAll(names map[string]bool, timeout time.Duration, cond harness.Condition) (int, string) {
	s.t.Helper()
	held, last := 0, ""
	_ = wait.PollUntilContextTimeout(s.ctx, 500*time.Millisecond, timeout, true, func(ctx context.Context) (bool, error) {
		var list drv1alpha1.ProtectionGroupList
		if err := s.cp.Client.List(ctx, &list, client.InNamespace(s.ns)); err != nil {
			return false, nil
		}
		held, last = 0, ""
		for i := range list.Items {
			if !names[list.Items[i].Name] {
				continue
			}
			if ok, why := cond(&list.Items[i]); ok {
				held++
			} else if last == "" {
				last = list.Items[i].Name + ": " + why
			}
		}
		return held == len(names), nil
	})
	return held, last
}

// relRollingWave: a rolling update of the operator in the middle of a
// fleet-wide failover wave.
func relRollingWave(t *testing.T, profile string) {
	const (
		n   = 200
		job = 5 * time.Second
	)
	s := newScenario(t, harness.Row{Order: 22, Area: "Handover",
		Fault: fmt.Sprintf("a rolling update in the middle of a %d-group failover wave: %d ProtectionGroups (serverPower Manual, servers off; ProviderConfig rateLimit 200/s, burst 400) flipped to target at once; "+
			"a new replica is started meanwhile (leader election on: it waits for the lease), and once SDRS accepted half of the reverses the old one gets SIGTERM (graceful: it releases the lease) while the %s jobs run and the other flips are still being acted on", n, n, job),
		Assert: "the old replica exits by itself; the new one leads well within the lease duration (the lease was released) and acts on nothing before; every group ends protected at target, exactly one reverse per group: 0 duplicate, 0 lost over the whole wave"},
		scenarioOptions{profile: profile,
			emulator: harness.EmulatorOptions{JobDuration: job, ExtraArgs: []string{"--max-calls", "200000"}},
			mutatePC: func(pc *drv1alpha1.ProviderConfig) {
				pc.Spec.RateLimit = drv1alpha1.RateLimit{CallsPerSecond: 200, Burst: 400}
			}})
	groups := make([]emutest.Group, n)
	for i := range groups {
		groups[i] = emutest.Group{Name: fmt.Sprintf("wave-%03d", i), Instances: []emutest.Instance{off}}
	}
	seeded := s.seed(groups...)
	oldOpts := s.managerOptions("old", true)
	old := s.managerWith(oldOpts)
	if _, err := old.WaitLog(s.ctx, harness.LeaderLine); err != nil {
		t.Fatal(err)
	}
	names := map[string]bool{}
	ids := make([]string, 0, n)
	for _, g := range seeded {
		s.adopt(g.Name, g.ID, manual)
		names[g.Name] = true
		ids = append(ids, g.ID)
	}
	if held, last := s.waitAll(names, 3*relOpTimeout, harness.ReadyAt(drv1alpha1.SiteSource)); held != n {
		t.Fatalf("%d of %d groups Ready at source; first not: %s", held, n, last)
	}

	// Flip every group at once (16 writers, in the background); the new
	// replica starts meanwhile and waits for the lease.
	flip := time.Now()
	var wg sync.WaitGroup
	work := make(chan string, n)
	errs := make(chan error, n)
	var flipped time.Duration
	for name := range names {
		work <- name
	}
	close(work)
	for range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for name := range work {
				pg := &drv1alpha1.ProtectionGroup{}
				pg.Namespace, pg.Name = s.ns, name
				if err := s.cp.Update(s.ctx, pg, func(p *drv1alpha1.ProtectionGroup) { p.Spec.DesiredActiveSite = drv1alpha1.SiteTarget }); err != nil {
					errs <- err
				}
			}
		}()
	}
	flipsDone := make(chan struct{})
	go func() {
		wg.Wait()
		flipped = time.Since(flip)
		close(flipsDone)
	}()
	newOpts := s.managerOptions("new", true)
	standby := s.managerWith(newOpts)
	if _, err := standby.WaitLog(s.ctx, standbyLine); err != nil {
		t.Fatal(err)
	}

	// Half the wave accepted: the old replica is terminated.
	accepted := 0
	if err := wait.PollUntilContextTimeout(s.ctx, 100*time.Millisecond, 2*relOpTimeout, true, func(ctx context.Context) (bool, error) {
		c, err := s.emu.Admin.CountCalls(ctx, "StartReverseProtectionGroup", "")
		accepted = c
		return err == nil && c >= n/2, nil
	}); err != nil {
		t.Fatalf("SDRS accepted only %d reverses of %d", accepted, n)
	}
	atTerm, _ := s.emu.Admin.CountCalls(s.ctx, "StartReverseProtectionGroup", "")
	if err := old.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	termed := time.Now()
	oldExit := time.Duration(0)
	select {
	case <-old.Done():
		oldExit = time.Since(termed)
	case <-time.After(60 * time.Second):
		t.Error("the old replica still runs 60s after SIGTERM")
	}
	if _, err := standby.WaitLog(s.ctx, harness.LeaderLine); err != nil {
		t.Fatal(err)
	}
	takeover := time.Since(termed)
	if takeover >= newOpts.LeaseDuration+2*time.Second && oldExit < newOpts.LeaseDuration {
		t.Errorf("the new replica led %s after SIGTERM although the old one exited after %s: the lease (%s) was not released", ms(takeover), ms(oldExit), newOpts.LeaseDuration)
	}
	<-flipsDone
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	if held, last := s.waitAll(names, 3*relOpTimeout, harness.ReadyAt(drv1alpha1.SiteTarget)); held != n {
		t.Errorf("%d of %d groups Ready at target; first not: %s", held, n, last)
	}
	took := time.Since(flip)
	if acted := actedBeforeLeading(standby); len(acted) > 0 {
		t.Errorf("the new replica acted before it led: %v", acted[:min(3, len(acted))])
	}
	tally := s.tally(ids, func(string) harness.Expect { return harness.Expect{Actions: reverseOnce, Site: "target"} })
	attempts, answered := countLines(old, `"msg":"attempt recorded"`), countLines(old, `"msg":"SDRS action accepted"`)
	judged := map[string]bool{}
	for _, l := range standby.Lines() {
		if m := judgedRequest.FindStringSubmatch(l); m != nil {
			judged[m[1]] = true
		}
	}
	var problems string
	if len(tally.Problems) > 0 {
		problems = " (" + strings.Join(tally.Problems[:min(3, len(tally.Problems))], "; ") + ")"
	}
	s.result("%d flips written in %s; SIGTERM after %d of %d reverses were accepted; the old replica recorded %d attempts and got %d answers, exited %s after SIGTERM; the new one led %s after it and judged %d attempts without their job ID; all %d groups at target %s after the flip; %s over %d groups%s",
		n, ms(flipped), atTerm, n, attempts, answered, ms(oldExit), ms(takeover), len(judged), n, ms(took), fmtCounts(tally.Actions)+"; "+tally.String(), tally.Groups, problems)
}
