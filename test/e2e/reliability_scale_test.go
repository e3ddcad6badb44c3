//go:build e2e

package e2e

import (
	"context"
	"fmt"
	"regexp"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/apimachinery/pkg/watch"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"

	drv1alpha1 "github.com/sdrs-operator/sdrs-operator/api/v1alpha1"
	"github.com/sdrs-operator/sdrs-operator/internal/emutest"
	"github.com/sdrs-operator/sdrs-operator/test/e2e/harness"
)

// leaseName is main.go's LeaderElectionID: the same in every manager, so
// managers that must both act need their Leases in different namespaces.
const leaseName = "sdrs-operator.dr.sdrs.io"

var (
	// actedLine: the log lines of a manager acting on a group, which carry
	// the group's key (ns/name) as protectionGroup.
	actedLine = regexp.MustCompile(`"msg":"(attempt recorded|SDRS action accepted)"`)
	groupKey  = regexp.MustCompile(`"protectionGroup":"([^"]+)"`)
)

// actedOn returns, by group key (ns/name), how many "attempt recorded" and
// "SDRS action accepted" lines a manager logged.
func actedOn(m *harness.Manager) map[string]int {
	out := map[string]int{}
	for _, l := range m.Lines() {
		if !actedLine.MatchString(l) {
			continue
		}
		if k := groupKey.FindStringSubmatch(l); k != nil {
			out[k[1]]++
		}
	}
	return out
}

// outside returns the keys not in namespace ns, sorted.
func outside(keys map[string]int, ns string) []string {
	var out []string
	for k := range keys {
		if !strings.HasPrefix(k, ns+"/") {
			out = append(out, k)
		}
	}
	sort.Strings(out)
	return out
}

// waitAllIn is waitAll for any namespace.
func (s *scenario) waitAllIn(ns string, names map[string]bool, timeout time.Duration, cond harness.Condition) (int, string) {
	s.t.Helper()
	held, last := 0, ""
	_ = wait.PollUntilContextTimeout(s.ctx, 500*time.Millisecond, timeout, true, func(ctx context.Context) (bool, error) {
		var list drv1alpha1.ProtectionGroupList
		if err := s.cp.Client.List(ctx, &list, client.InNamespace(ns)); err != nil {
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

// countIn counts the groups of ns in names for which cond holds now.
func (s *scenario) countIn(ns string, names map[string]bool, cond harness.Condition) int {
	s.t.Helper()
	var list drv1alpha1.ProtectionGroupList
	if err := s.cp.Client.List(s.ctx, &list, client.InNamespace(ns)); err != nil {
		s.t.Fatal(err)
	}
	n := 0
	for i := range list.Items {
		if ok, _ := cond(&list.Items[i]); ok && names[list.Items[i].Name] {
			n++
		}
	}
	return n
}

// relTwoManagersSplitFleet: two managers split a fleet by namespace, one
// emulator (one SDRS project) and one ProviderConfig shared; a fleet-wide
// flip; one of them SIGKILLed mid-flip. Like every crash row it runs under
// both emulator profiles.
func relTwoManagersSplitFleet(t *testing.T, profile string) {
	const (
		n   = 8
		job = 3 * time.Second
	)
	s := newScenario(t, harness.Row{Order: 50, Area: "Scale",
		Fault:  fmt.Sprintf("two managers split a fleet by namespace: --watch-namespace=<A> and <B>, leader election on, each its Lease (%s) in its own namespace (--leader-election-namespace); %d ProtectionGroups in each namespace (serverPower Manual), one SDRS project and one ProviderConfig shared; all %d flipped to target at once, the manager of B SIGKILLed once it got its first SDRS answer (%s jobs running) and restarted after A's groups converged", leaseName, n, 2*n, job),
		Assert: "both managers lead at once (two Leases, two holders); every group Ready at target, exactly one reverse per group: 0 duplicate, 0 lost; each manager's attempt and accepted-action log lines name only groups of its namespace; A's namespace converges while B's manager is down; the shared ProviderConfig stays Ready, with a handful of writes at most during the flip (no status fight); across the two managers, a second ProtectionGroup in B adopting an SDRS group A's manages (asking for the other site) is Stalled with GroupConflict and sends SDRS nothing, and the owner's next flip is exactly one reverse; a ProviderConfig only B's groups use keeps its in-use finalizer"},
		scenarioOptions{profile: profile, emulator: harness.EmulatorOptions{JobDuration: job}})
	nsA, nsB := s.ns, s.cp.MustNamespace(t, "rel-")

	specs := make([]emutest.Group, 0, 2*n+1)
	for _, p := range []string{"a", "b"} {
		for i := range n {
			specs = append(specs, emutest.Group{Name: fmt.Sprintf("%s-%02d", p, i), Instances: []emutest.Instance{off}})
		}
	}
	specs = append(specs, emutest.Group{Name: "b-own-pc", Instances: []emutest.Instance{off}})
	seeded := s.seed(specs...)
	groupsA, groupsB, ownPC := seeded[:n], seeded[n:2*n], seeded[2*n]

	optsA := s.managerOptions("a", true)
	optsA.LeaderElectionNamespace = nsA
	optsB := harness.ManagerOptions{Name: "b-" + nsB, Kubeconfig: s.cp.Kubeconfig, WatchNamespace: nsB,
		LeaderElect: true, LeaderElectionNamespace: nsB}
	mA, mB := s.managerWith(optsA), s.managerWith(optsB)
	for _, m := range []*harness.Manager{mA, mB} {
		if _, err := m.WaitLog(s.ctx, harness.LeaderLine); err != nil {
			t.Fatal(err)
		}
	}
	holders := map[string]string{}
	for _, ns := range []string{nsA, nsB} {
		l, err := s.cp.Clientset.CoordinationV1().Leases(ns).Get(s.ctx, leaseName, metav1.GetOptions{})
		if err != nil {
			t.Fatalf("Lease %s/%s: %v", ns, leaseName, err)
		}
		if l.Spec.HolderIdentity == nil || *l.Spec.HolderIdentity == "" {
			t.Fatalf("Lease %s/%s has no holder", ns, leaseName)
		}
		holders[ns] = *l.Spec.HolderIdentity
	}
	if holders[nsA] == holders[nsB] {
		t.Errorf("both Leases are held by %s", holders[nsA])
	}

	namesA, namesB := map[string]bool{}, map[string]bool{}
	var ids []string
	for _, g := range groupsA {
		s.adopt(g.Name, g.ID, manual)
		namesA[g.Name] = true
		ids = append(ids, g.ID)
	}
	for _, g := range groupsB {
		pg := harness.AdoptingGroup(nsB, g.Name, s.pc, g.ID)
		manual(pg)
		if err := s.cp.Client.Create(s.ctx, pg); err != nil {
			t.Fatal(err)
		}
		namesB[g.Name] = true
		ids = append(ids, g.ID)
	}
	for ns, names := range map[string]map[string]bool{nsA: namesA, nsB: namesB} {
		if held, last := s.waitAllIn(ns, names, 2*relOpTimeout, harness.ReadyAt(drv1alpha1.SiteSource)); held != n {
			t.Fatalf("%s: %d of %d groups Ready at source; first not: %s", ns, held, n, last)
		}
	}

	// Every write to the shared ProviderConfig from here to the end of the
	// flip, counted from a watch.
	wc, err := client.NewWithWatch(s.cp.Config, client.Options{Scheme: harness.Scheme})
	if err != nil {
		t.Fatal(err)
	}
	w, err := wc.Watch(s.ctx, &drv1alpha1.ProviderConfigList{}, client.MatchingFields{"metadata.name": s.pc})
	if err != nil {
		t.Fatal(err)
	}
	var pcWrites atomic.Int64
	watched := make(chan struct{})
	go func() {
		defer close(watched)
		for ev := range w.ResultChan() {
			if ev.Type == watch.Modified {
				pcWrites.Add(1)
			}
		}
	}()

	flip := time.Now()
	var wg sync.WaitGroup
	errs := make(chan error, 2*n)
	for ns, names := range map[string]map[string]bool{nsA: namesA, nsB: namesB} {
		for name := range names {
			wg.Add(1)
			go func() {
				defer wg.Done()
				pg := &drv1alpha1.ProtectionGroup{}
				pg.Namespace, pg.Name = ns, name
				if err := s.cp.Update(s.ctx, pg, func(p *drv1alpha1.ProtectionGroup) { p.Spec.DesiredActiveSite = drv1alpha1.SiteTarget }); err != nil {
					errs <- err
				}
			}()
		}
	}

	// B's manager dies as soon as SDRS answered it once: its other flips
	// are in flight or not yet acted on, its accepted jobs run.
	if _, err := mB.WaitLog(s.ctx, regexp.MustCompile(`"msg":"SDRS action accepted"`)); err != nil {
		t.Fatal(err)
	}
	if err := mB.Kill(); err != nil {
		t.Fatal(err)
	}
	killed := time.Now()
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	acceptedAtKill := 0
	for _, g := range groupsB {
		acceptedAtKill += harness.Accepted(s.calls(g.ID), "StartReverseProtectionGroup")
	}

	if held, last := s.waitAllIn(nsA, namesA, 2*relOpTimeout, harness.ReadyAt(drv1alpha1.SiteTarget)); held != n {
		t.Errorf("%s (its manager alive): %d of %d groups Ready at target while B's manager was down; first not: %s", nsA, held, n, last)
	}
	tookA := time.Since(flip)
	bWhileDown := s.countIn(nsB, namesB, harness.ReadyAt(drv1alpha1.SiteTarget))

	optsB2 := optsB
	optsB2.Name = "b2-" + nsB
	mB2 := s.managerWith(optsB2)
	restarted := time.Now()
	if _, err := mB2.WaitLog(s.ctx, harness.LeaderLine); err != nil {
		t.Fatal(err)
	}
	if held, last := s.waitAllIn(nsB, namesB, 2*relOpTimeout, harness.ReadyAt(drv1alpha1.SiteTarget)); held != n {
		t.Errorf("%s: %d of %d groups Ready at target after its manager restarted; first not: %s", nsB, held, n, last)
	}
	tookB := time.Since(restarted)
	w.Stop()
	<-watched
	writes := pcWrites.Load()

	tally := s.tally(ids, func(string) harness.Expect { return harness.Expect{Actions: reverseOnce, Site: "target"} })

	// Which groups each manager acted on, from its own log.
	actA, actB, actB2 := actedOn(mA), actedOn(mB), actedOn(mB2)
	for _, c := range []struct {
		m   *harness.Manager
		ns  string
		act map[string]int
	}{{mA, nsA, actA}, {mB, nsB, actB}, {mB2, nsB, actB2}} {
		if o := outside(c.act, c.ns); len(o) > 0 {
			t.Errorf("%s (watching %s) acted on groups of another namespace: %v", c.m.Name, c.ns, o)
		}
	}
	if len(actA) != n {
		t.Errorf("%s acted on %d groups, want the %d of %s", mA.Name, len(actA), n, nsA)
	}
	bActed := map[string]bool{}
	for k := range actB {
		bActed[k] = true
	}
	for k := range actB2 {
		bActed[k] = true
	}

	// The shared ProviderConfig: Ready, finalizer kept, and not fought over.
	pc := &drv1alpha1.ProviderConfig{}
	if err := s.cp.Client.Get(s.ctx, client.ObjectKey{Name: s.pc}, pc); err != nil {
		t.Fatal(err)
	}
	if !meta.IsStatusConditionTrue(pc.Status.Conditions, drv1alpha1.ReadyCondition) {
		t.Errorf("the shared ProviderConfig is not Ready: %+v", pc.Status.Conditions)
	}
	if writes > 5 {
		t.Errorf("the shared ProviderConfig was written %d times during the flip: the managers fight over it", writes)
	}

	// The guards that look at every namespace's ProtectionGroups read
	// around the managers' namespaced caches.
	owner := &drv1alpha1.ProtectionGroup{}
	owner.Namespace, owner.Name = nsA, groupsA[0].Name
	conflict := s.crossNamespaceDuplicate(nsB, owner, groupsA[0])
	pcKept := s.deleteProviderConfigInUse(nsB, ownPC)

	s.result("both led at once (Leases %s/%s and %s/%s, two holders); flips of %d groups in %s (A) and %d in %s (B); B's manager SIGKILLed %s after the flip, when SDRS had accepted %d of B's reverses; A: all %d Ready at target %s after the flip while B's manager was down (%d of B's groups at target meanwhile); B's new manager led and all %d of B's groups were Ready at target %s after its start; %s over %d groups; "+
		"groups named in attempt and accepted-action log lines: manager A %d, all in A; B's killed manager %d and its successor %d, all in B (%d distinct); shared ProviderConfig Ready, written %d times during the flip; "+
		"across the split: a second ProtectionGroup in B adopting A's SDRS group %s; the in-use finalizer of a ProviderConfig only B's groups use, on its deletion: %s",
		nsA, leaseName, nsB, leaseName, n, nsA, n, nsB, ms(killed.Sub(flip)), acceptedAtKill, n, ms(tookA), bWhileDown, n, ms(tookB),
		fmtCounts(tally.Actions)+"; "+tally.String(), tally.Groups,
		len(actA), len(actB), len(actB2), len(bActed), writes, conflict, pcKept)
}

// crossNamespaceDuplicate creates, in ns, a ProtectionGroup adopting the
// SDRS group g that owner, a ProtectionGroup of another namespace (under
// another manager), manages, asking for the other site (so that it would
// act at once). It must be Stalled with GroupConflict, found through the
// API server since its manager's cache holds only ns, and send SDRS
// nothing; a flip of the owner afterwards must be done by exactly one
// reverse, with the duplicate still stalled. It says what it saw.
func (s *scenario) crossNamespaceDuplicate(ns string, owner *drv1alpha1.ProtectionGroup, g emutest.SeededGroup) string {
	s.t.Helper()
	pg := harness.AdoptingGroup(ns, "dup-"+g.Name, s.pc, g.ID)
	manual(pg)
	pg.Spec.DesiredActiveSite = drv1alpha1.SiteSource // the owner holds it at target
	created := time.Now()
	if err := s.cp.Client.Create(s.ctx, pg); err != nil {
		s.t.Fatal(err)
	}
	stalled := harness.HasCondition(drv1alpha1.StalledCondition, metav1.ConditionTrue, drv1alpha1.GroupConflictReason)
	if err := s.cp.WaitFor(s.ctx, pg, 30*time.Second, stalled); err != nil {
		s.t.Errorf("a second ProtectionGroup in %s adopting SDRS group %s, which %s/%s manages, was not Stalled with GroupConflict: %v",
			ns, g.ID, owner.Namespace, owner.Name, err)
		return "NOT detected: " + harness.Describe(s.get(pg))
	}
	cur := s.get(pg)
	if c := meta.FindStatusCondition(cur.Status.Conditions, drv1alpha1.StalledCondition); !strings.Contains(c.Message, owner.Namespace+"/"+owner.Name) {
		s.t.Errorf("the GroupConflict message does not name the owner %s/%s: %q", owner.Namespace, owner.Name, c.Message)
	}
	stalledAfter := time.Since(created)
	// Its rechecks (StalledRecheck) stay silent too.
	time.Sleep(3 * time.Second)
	if n := harness.ActionCounts(harness.Since(s.calls(g.ID), created)); len(n) > 0 {
		s.t.Errorf("SDRS actions on group %s after the duplicate adoption, before the owner moved: %v, want none", g.ID, n)
	}

	// The owner still acts, and only it.
	flip := time.Now()
	s.update(owner, func(p *drv1alpha1.ProtectionGroup) { p.Spec.DesiredActiveSite = drv1alpha1.SiteSource })
	s.waitFor(owner, relOpTimeout, harness.ReadyAt(drv1alpha1.SiteSource))
	acts := harness.ActionCounts(harness.Since(s.calls(g.ID), flip))
	if !equalCounts(acts, reverseOnce) {
		s.t.Errorf("the owner's flip back to source: actions on group %s %v, want exactly %v", g.ID, acts, reverseOnce)
	}
	if ok, why := stalled(s.get(pg)); !ok {
		s.t.Errorf("the duplicate is no longer Stalled with GroupConflict after the owner's flip: %s", why)
	}
	seen := fmt.Sprintf("Stalled with GroupConflict %s after its creation, naming %s/%s, and sent SDRS nothing; the owner's flip back to source afterwards: %s",
		ms(stalledAfter), owner.Namespace, owner.Name, fmtCounts(acts))
	s.t.Logf("cross-namespace duplicate adoption: %s", seen)
	return seen
}

// deleteProviderConfigInUse creates a ProviderConfig used only by one
// ProtectionGroup in ns, deletes the ProviderConfig, and says whether its
// in-use finalizer kept it (as one manager does) or a manager that does
// not watch ns let it go.
func (s *scenario) deleteProviderConfigInUse(ns string, g emutest.SeededGroup) string {
	s.t.Helper()
	pc := harness.ProviderConfigFor("pc2-"+ns, ns, s.emu, "")
	s.cp.MustProviderConfig(s.t, pc, s.emu)
	pg := harness.AdoptingGroup(ns, g.Name, pc.Name, g.ID)
	manual(pg)
	if err := s.cp.Client.Create(s.ctx, pg); err != nil {
		s.t.Fatal(err)
	}
	s.waitFor(pg, relOpTimeout, harness.ReadyAt(drv1alpha1.SiteSource))
	if err := wait.PollUntilContextTimeout(s.ctx, 250*time.Millisecond, 30*time.Second, true, func(ctx context.Context) (bool, error) {
		cur := &drv1alpha1.ProviderConfig{}
		return s.cp.Client.Get(ctx, client.ObjectKeyFromObject(pc), cur) == nil &&
			controllerutil.ContainsFinalizer(cur, drv1alpha1.ProviderConfigInUseFinalizer), nil
	}); err != nil {
		s.t.Fatalf("ProviderConfig %s never got its in-use finalizer", pc.Name)
	}
	if err := s.cp.Client.Delete(s.ctx, pc); err != nil {
		s.t.Fatal(err)
	}
	var seen string
	_ = wait.PollUntilContextTimeout(s.ctx, 250*time.Millisecond, 20*time.Second, true, func(ctx context.Context) (bool, error) {
		cur := &drv1alpha1.ProviderConfig{}
		err := s.cp.Client.Get(ctx, client.ObjectKeyFromObject(pc), cur)
		if apierrors.IsNotFound(err) {
			seen = "NOT kept: the ProviderConfig was deleted while B's group used it (a manager that does not watch B found no users in its namespace and removed the finalizer)"
			return true, nil
		}
		return false, nil
	})
	if seen == "" {
		seen = "kept for 20s while B's group uses it"
	} else {
		// Each manager lists the users in every namespace from the API
		// server, so none may let it go.
		s.t.Errorf("in-use ProviderConfig deletion: %s", seen)
	}
	s.t.Logf("in-use ProviderConfig deletion: %s", seen)
	return seen
}
