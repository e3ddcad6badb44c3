//go:build e2e

package e2e

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/huaweicloud/huaweicloud-sdk-go-v3/core/auth/basic"
	"github.com/huaweicloud/huaweicloud-sdk-go-v3/core/config"
	sdrsv1 "github.com/huaweicloud/huaweicloud-sdk-go-v3/services/sdrs/v1"
	sdrsmodel "github.com/huaweicloud/huaweicloud-sdk-go-v3/services/sdrs/v1/model"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/util/retry"
	"sigs.k8s.io/controller-runtime/pkg/client"

	drv1alpha1 "github.com/sdrs-operator/sdrs-operator/api/v1alpha1"
	"github.com/sdrs-operator/sdrs-operator/internal/emutest"
	"github.com/sdrs-operator/sdrs-operator/test/e2e/harness"
)

// DR drills (issue 15): the drill create is sent exactly once across a
// crash with its answer lost, a drill object deleted while SDRS still
// creates the drill waits until SDRS allows the delete, a failed delete
// (error-deleting) is retried after its backoff, and a group deleted with
// deletionPolicy Delete lets its drills go first. Every row counts, from
// the emulator's call log and state, the drill creates and deletes carried
// out and the drills SDRS holds at the end (harness.CountDrills), and
// asserts 0 duplicate and 0 lost.

func init() {
	relParallelScenarios = append(relParallelScenarios,
		relScenario{"DrillKillAnswerLost", underBothProfiles(relDrillKillAnswerLost)},
		relScenario{"DrillKillBeforeCall", underBothProfiles(relDrillKillBeforeCall)},
		relScenario{"DrillDeletedWhileCreating", underBothProfiles(relDrillDeletedWhileCreating)},
		relScenario{"DrillDeleteRetried", underBothProfiles(relDrillDeleteRetried)},
		relScenario{"DrillGroupDeleted", underBothProfiles(relDrillGroupDeleted)},
	)
}

const drillArea = "Drills"

// drillGroup seeds a group with one protected instance, starts a manager
// and adopts the group (serverPower Manual, mutate may change more), ready
// at source.
func (s *scenario) drillGroup(mutate func(*drv1alpha1.ProtectionGroup)) (emutest.SeededGroup, *harness.Manager, *drv1alpha1.ProtectionGroup) {
	s.t.Helper()
	g := s.seed(emutest.Group{Name: "web", Instances: []emutest.Instance{off}})[0]
	m := s.manager("m1")
	pg := s.adopt("web", g.ID, func(p *drv1alpha1.ProtectionGroup) {
		manual(p)
		if mutate != nil {
			mutate(p)
		}
	})
	s.waitFor(pg, relOpTimeout, harness.ReadyAt(drv1alpha1.SiteSource))
	return g, m, pg
}

// newDrill creates a ProtectionGroupDrill of pg.
func (s *scenario) newDrill(name string, pg *drv1alpha1.ProtectionGroup) *drv1alpha1.ProtectionGroupDrill {
	s.t.Helper()
	d := &drv1alpha1.ProtectionGroupDrill{
		ObjectMeta: metav1.ObjectMeta{Namespace: s.ns, Name: name},
		Spec:       drv1alpha1.ProtectionGroupDrillSpec{ProtectionGroupRef: drv1alpha1.LocalObjectReference{Name: pg.Name}},
	}
	if err := s.cp.Client.Create(s.ctx, d); err != nil {
		s.t.Fatal(err)
	}
	return d
}

func (s *scenario) waitDrill(d *drv1alpha1.ProtectionGroupDrill, timeout time.Duration, cond harness.DrillCondition) {
	s.t.Helper()
	if err := s.cp.WaitDrill(s.ctx, d, timeout, cond); err != nil {
		s.t.Fatal(err)
	}
}

func (s *scenario) updateDrill(d *drv1alpha1.ProtectionGroupDrill, mutate func(*drv1alpha1.ProtectionGroupDrill)) {
	s.t.Helper()
	err := retry.RetryOnConflict(retry.DefaultRetry, func() error {
		cur := &drv1alpha1.ProtectionGroupDrill{}
		if err := s.cp.Client.Get(s.ctx, client.ObjectKeyFromObject(d), cur); err != nil {
			return err
		}
		mutate(cur)
		if err := s.cp.Client.Update(s.ctx, cur); err != nil {
			return err
		}
		cur.DeepCopyInto(d)
		return nil
	})
	if err != nil {
		s.t.Fatal(err)
	}
}

// drills returns the drills SDRS holds in a group now.
func (s *scenario) drills(groupID string) []harness.DrillState {
	s.t.Helper()
	all, err := s.emu.Drills(s.ctx)
	if err != nil {
		s.t.Fatal(err)
	}
	var out []harness.DrillState
	for _, d := range all {
		if d.GroupID == groupID {
			out = append(out, d)
		}
	}
	return out
}

// drillsOnce counts the group's drill creates and deletes carried out and
// the drills SDRS holds (harness.CountDrills), fails the test unless 0
// duplicate and 0 lost, and returns the row text.
func (s *scenario) drillsOnce(groupID string, want harness.DrillExpect) string {
	s.t.Helper()
	all, err := s.emu.Drills(s.ctx)
	if err != nil {
		s.t.Fatal(err)
	}
	t := harness.CountDrills(groupID, s.calls(""), all, want)
	if !t.OK() {
		s.t.Errorf("drills of group %s: %s: %s", groupID, t, strings.Join(t.Problems, "; "))
	}
	return fmt.Sprintf("%s; SDRS holds %d drill(s) at the end; %s", harness.FmtDrillCounts(t.Actions), want.Left, t)
}

// callsOf returns the group's logged calls of an operation, whatever
// their answer.
func (s *scenario) callsOf(groupID, operation string) []emutest.Call {
	s.t.Helper()
	var out []emutest.Call
	for _, c := range s.calls(groupID) {
		if c.Operation == operation {
			out = append(out, c)
		}
	}
	return out
}

// relDrillKillAnswerLost: SDRS took the drill create, the manager was
// SIGKILLed before its answer (the job ID) arrived.
func relDrillKillAnswerLost(t *testing.T, profile string) {
	s := newScenario(t, harness.Row{Order: 44, Area: drillArea,
		Fault: "SIGKILL after the drill's create intent is persisted (attempt 1, the deterministic SDRS drill name) and the create call reached SDRS, before its answer (the job ID) arrived (proxy holds the answer)",
		Assert: "a new manager finds the drill by its name in the group and never sends the create again; exactly one CreateDisasterRecoveryDrill carried out and logged, one drill in SDRS, 0 duplicate, 0 lost; " +
			"the object reaches Available with that drill's ID"},
		scenarioOptions{proxy: true, profile: profile, emulator: harness.EmulatorOptions{JobDuration: 4 * time.Second}})
	g, m1, pg := s.drillGroup(nil)

	hold := s.proxy.Add(&harness.Rule{Match: harness.MatchPath("POST", harness.PathDrills), HoldAfter: true, Times: 1})
	d := s.newDrill("kill", pg)
	s.waitHit(hold, "the drill create to reach SDRS")
	s.waitDrill(d, 10*time.Second, harness.DrillCreateSent)
	if op := d.Status.CurrentOperation; op.JobID != "" || d.Status.Drill == nil || d.Status.Drill.ID != "" || d.Status.Drill.Name == "" {
		t.Fatalf("before the kill: want the intent with the drill name and neither job nor drill ID: %s", harness.DescribeDrill(d))
	}
	name := d.Status.Drill.Name
	if err := m1.Kill(); err != nil {
		t.Fatal(err)
	}
	killed := time.Now()
	s.manager("m2")
	s.waitDrill(d, relOpTimeout, harness.DrillPhaseIs(drv1alpha1.DrillAvailable))
	took := time.Since(killed)

	inSDRS := s.drills(g.ID)
	if len(inSDRS) != 1 || inSDRS[0].Name != name || d.Status.Drill.ID != inSDRS[0].ID {
		t.Errorf("SDRS holds %+v; want exactly drill %s with the ID in status (%s)", inSDRS, name, harness.DescribeDrill(d))
	}
	if c := meta.FindStatusCondition(d.Status.Conditions, drv1alpha1.ReadyCondition); c == nil || c.Status != metav1.ConditionTrue {
		t.Errorf("Ready is not True on an available drill: %s", harness.DescribeDrill(d))
	}
	if n := len(s.callsOf(g.ID, harness.OpCreateDrill)); n != 1 {
		t.Errorf("%d CreateDisasterRecoveryDrill calls logged, want the 1 sent before the kill", n)
	}
	got := s.drillsOnce(g.ID, harness.DrillExpect{Creates: 1, Left: 1})
	grp := s.exactlyOnce(g.ID, harness.Expect{Actions: map[string]int{}, Site: "source"})
	s.result("%s; group: %s; drill %s… Available %s after the kill", got, grp, d.Status.Drill.ID[:8], ms(took))
}

// relDrillKillBeforeCall: the create intent is on record, the call never
// reached SDRS (the proxy holds it, the kill drops it).
func relDrillKillBeforeCall(t *testing.T, profile string) {
	s := newScenario(t, harness.Row{Order: 45, Area: drillArea,
		Fault:  "SIGKILL after the drill's create intent is persisted, before the create call arrived (proxy holds the request; the kill drops it)",
		Assert: "a new manager finds no drill by the name, waits out the not-started grace (8s), finds no failed create in the task center, sends the create once more and the drill becomes Available; exactly one CreateDisasterRecoveryDrill logged and carried out, one drill in SDRS, 0 duplicate, 0 lost"},
		scenarioOptions{proxy: true, profile: profile, emulator: harness.EmulatorOptions{JobDuration: 2 * time.Second}})
	g, m1, pg := s.drillGroup(nil)

	hold := s.proxy.Add(&harness.Rule{Match: harness.MatchPath("POST", harness.PathDrills), HoldBefore: true, Times: 1})
	d := s.newDrill("unsent", pg)
	s.waitHit(hold, "the drill create to reach the proxy")
	s.waitDrill(d, 10*time.Second, harness.DrillCreateSent)
	name := d.Status.Drill.Name
	if err := m1.Kill(); err != nil {
		t.Fatal(err)
	}
	killed := time.Now()
	if n := len(s.callsOf(g.ID, harness.OpCreateDrill)); n != 0 {
		t.Fatalf("the held create reached SDRS (%d calls) before the kill", n)
	}
	s.manager("m2")
	s.waitDrill(d, relOpTimeout, harness.DrillPhaseIs(drv1alpha1.DrillAvailable))
	took := time.Since(killed)

	inSDRS := s.drills(g.ID)
	if len(inSDRS) != 1 || inSDRS[0].Name != name || d.Status.Drill.ID != inSDRS[0].ID {
		t.Errorf("SDRS holds %+v; want exactly drill %s with the ID in status (%s)", inSDRS, name, harness.DescribeDrill(d))
	}
	if n := len(s.callsOf(g.ID, harness.OpCreateDrill)); n != 1 {
		t.Errorf("%d CreateDisasterRecoveryDrill calls logged, want 1 (the one sent after the grace)", n)
	}
	got := s.drillsOnce(g.ID, harness.DrillExpect{Creates: 1, Left: 1})
	grp := s.exactlyOnce(g.ID, harness.Expect{Actions: map[string]int{}, Site: "source"})
	s.result("%s; group: %s; drill Available %s after the kill", got, grp, ms(took))
}

// relDrillDeletedWhileCreating: the object is deleted while SDRS creates
// the drill (SDRS refuses a delete then, SDRS.1913).
func relDrillDeletedWhileCreating(t *testing.T, profile string) {
	s := newScenario(t, harness.Row{Order: 46, Area: drillArea,
		Fault:  "the drill object deleted while SDRS still creates the drill (8s create job; SDRS refuses a delete until the drill is available)",
		Assert: "the finalizer holds the object, the manager sends the delete only once SDRS allows it (no refused delete), the object goes with the drill; exactly one CreateDisasterRecoveryDrill and one DeleteDisasterRecoveryDrill carried out, 0 drills left, 0 duplicate, 0 lost"},
		scenarioOptions{profile: profile, emulator: harness.EmulatorOptions{JobDuration: 8 * time.Second}})
	g, _, pg := s.drillGroup(nil)

	d := s.newDrill("early", pg)
	err := wait.PollUntilContextTimeout(s.ctx, 100*time.Millisecond, relOpTimeout, true, func(context.Context) (bool, error) {
		ds, err := s.emu.Drills(s.ctx)
		if err != nil {
			return false, nil
		}
		for _, x := range ds {
			if x.GroupID == g.ID {
				return true, nil
			}
		}
		return false, nil
	})
	if err != nil {
		t.Fatal("SDRS holds no drill of the group")
	}
	if err := s.cp.Client.Delete(s.ctx, d); err != nil {
		t.Fatal(err)
	}
	deleted := time.Now()
	if ds := s.drills(g.ID); len(ds) != 1 || ds[0].Status != "creating" {
		t.Fatalf("the drill is not creating any more when the object was deleted: %+v", ds)
	}
	if err := s.cp.WaitGone(s.ctx, d, relOpTimeout); err != nil {
		t.Fatal(err)
	}
	took := time.Since(deleted)

	deletes := s.callsOf(g.ID, harness.OpDeleteDrill)
	if len(deletes) != 1 {
		t.Errorf("%d DeleteDisasterRecoveryDrill calls logged, want 1 (none refused while creating): %+v", len(deletes), deletes)
	}
	var createEnd time.Time
	for _, j := range s.groupJobs(g.ID, "createDisasterRecoveryDrill") {
		createEnd = j.End
	}
	if len(deletes) > 0 && (createEnd.IsZero() || deletes[0].Time.Before(createEnd)) {
		t.Errorf("the delete (%s) was sent before the create job ended (%s)", deletes[0].Time, createEnd)
	}
	after := time.Duration(0)
	if len(deletes) > 0 {
		after = deletes[0].Time.Sub(createEnd)
	}
	got := s.drillsOnce(g.ID, harness.DrillExpect{Creates: 1, Deletes: 1})
	s.result("%s; the delete sent %s after the create job ended; object gone %s after its deletion",
		got, ms(after), ms(took))
}

// relDrillDeleteRetried: the first delete job fails and leaves the drill
// error-deleting; the manager retries after its backoff (30s, doubling).
func relDrillDeleteRetried(t *testing.T, profile string) {
	s := newScenario(t, harness.Row{Order: 47, Area: drillArea,
		Fault:  "the first drill delete job fails (job fault on deleteDisasterRecoveryDrill), leaving the drill error-deleting; the drill ended early with spec.release",
		Assert: "Ready and Reconciling say DrillDeleteFailed with the retry time (and an Event), the delete is sent again after the 30s backoff, not before, and the drill goes: exactly one CreateDisasterRecoveryDrill and two DeleteDisasterRecoveryDrill carried out, 0 drills left, 0 duplicate, 0 lost; phase Released"},
		scenarioOptions{profile: profile, emulator: harness.EmulatorOptions{JobDuration: 2 * time.Second}})
	g, _, pg := s.drillGroup(nil)

	d := s.newDrill("retry", pg)
	s.waitDrill(d, relOpTimeout, harness.DrillPhaseIs(drv1alpha1.DrillAvailable))
	if err := s.emu.Admin.FailJobs(s.ctx, "deleteDisasterRecoveryDrill", 1, "", "drill servers could not be deleted"); err != nil {
		t.Fatal(err)
	}
	s.updateDrill(d, func(x *drv1alpha1.ProtectionGroupDrill) { x.Spec.Release = true })
	s.waitDrill(d, relOpTimeout, harness.DrillReadyReason("DrillDeleteFailed"))
	ready := meta.FindStatusCondition(d.Status.Conditions, drv1alpha1.ReadyCondition)
	rec := meta.FindStatusCondition(d.Status.Conditions, drv1alpha1.ReconcilingCondition)
	if ready.Status != metav1.ConditionFalse || rec == nil || rec.Status != metav1.ConditionTrue || rec.Reason != "DrillDeleteFailed" ||
		!strings.Contains(ready.Message, "retrying in") || !strings.Contains(ready.Message, "error-deleting") {
		t.Errorf("after the failed delete: %s", harness.DescribeDrill(d))
	}
	if _, err := s.cp.WaitEvent(s.ctx, s.ns, d.Name, "DrillDeleteFailed", "", 10*time.Second); err != nil {
		t.Errorf("no DrillDeleteFailed Event: %v", err)
	}
	s.waitDrill(d, relOpTimeout, harness.DrillPhaseIs(drv1alpha1.DrillReleased))

	deletes := s.callsOf(g.ID, harness.OpDeleteDrill)
	gap := time.Duration(0)
	if len(deletes) != 2 {
		t.Errorf("%d DeleteDisasterRecoveryDrill calls logged, want 2: %+v", len(deletes), deletes)
	} else {
		gap = deletes[1].Time.Sub(deletes[0].Time)
		if gap < 28*time.Second || gap > 45*time.Second { // attemptedAt is stored to the second
			t.Errorf("the retry came %s after the failed delete, want the 30s backoff (at most 45s)", gap)
		}
	}
	if ds := s.drills(g.ID); len(ds) != 0 {
		t.Errorf("SDRS still holds %+v", ds)
	}
	got := s.drillsOnce(g.ID, harness.DrillExpect{Creates: 1, Deletes: 2})
	s.result("%s; retried %s after the failed delete; Released", got, ms(gap))
}

// relDrillGroupDeleted: a ProtectionGroup with deletionPolicy Delete is
// deleted while a drill of it is available. SDRS refuses to delete a group
// with drills (SDRS.1003) and deletes only empty groups, so the test
// empties the SDRS group of its instance and replication pair first
// (through the SDK): the drill is then the only thing in the way.
func relDrillGroupDeleted(t *testing.T, profile string) {
	s := newScenario(t, harness.Row{Order: 48, Area: drillArea,
		Fault:  "a ProtectionGroup with deletionPolicy Delete deleted while its drill is available (the SDRS group otherwise emptied of its instance and pair, so only the drill is in the way)",
		Assert: "the group waits (DeletionBlocked, naming the drill), the drill is released first (phase Released), no DeleteProtectionGroup is sent before the drill's delete job ended (none refused with SDRS.1003), then the group is deleted in SDRS and the object goes; exactly one CreateDisasterRecoveryDrill, one DeleteDisasterRecoveryDrill, one DeleteProtectionGroup carried out, 0 drills left, 0 duplicate, 0 lost"},
		scenarioOptions{profile: profile, emulator: harness.EmulatorOptions{JobDuration: 2 * time.Second}})
	g, _, pg := s.drillGroup(func(p *drv1alpha1.ProtectionGroup) { p.Spec.DeletionPolicy = drv1alpha1.DeletionDelete })

	d := s.newDrill("last", pg)
	s.waitDrill(d, relOpTimeout, harness.DrillPhaseIs(drv1alpha1.DrillAvailable))
	s.emptyGroup(g)

	if err := s.cp.Client.Delete(s.ctx, pg); err != nil {
		t.Fatal(err)
	}
	deleted := time.Now()
	s.waitFor(pg, relOpTimeout, func(p *drv1alpha1.ProtectionGroup) (bool, string) {
		c := meta.FindStatusCondition(p.Status.Conditions, drv1alpha1.ReadyCondition)
		return c != nil && c.Reason == drv1alpha1.DeletionBlockedReason && strings.Contains(c.Message, d.Name), harness.Describe(p)
	})
	s.waitDrill(d, relOpTimeout, harness.DrillPhaseIs(drv1alpha1.DrillReleased))
	released := time.Since(deleted)
	if err := s.cp.WaitGone(s.ctx, pg, relOpTimeout); err != nil {
		t.Fatal(err)
	}
	took := time.Since(deleted)

	var drillGone time.Time
	for _, j := range s.groupJobs(g.ID, "deleteDisasterRecoveryDrill") {
		if j.Status == "SUCCESS" {
			drillGone = j.End
		}
	}
	groupDeletes := s.callsOf(g.ID, "DeleteProtectionGroup")
	if drillGone.IsZero() {
		t.Errorf("no successful drill delete job in SDRS")
	}
	for _, c := range groupDeletes {
		if c.Time.Before(drillGone) || c.ErrorCode == "SDRS.1003" {
			t.Errorf("DeleteProtectionGroup at %s (%d %s) while SDRS still held the drill (its delete job ended %s)", c.Time, c.StatusCode, c.ErrorCode, drillGone)
		}
	}
	st, err := s.emu.State(s.ctx)
	if err != nil {
		t.Fatal(err)
	}
	if sg := st.Group(g.ID); sg != nil {
		t.Errorf("SDRS group still exists: %+v", sg)
	}
	got := s.drillsOnce(g.ID, harness.DrillExpect{Creates: 1, Deletes: 1})
	grp := s.exactlyOnce(g.ID, harness.Expect{Actions: map[string]int{"DeleteProtectionGroup": 1}})
	first := time.Duration(0)
	if len(groupDeletes) > 0 {
		first = groupDeletes[0].Time.Sub(drillGone)
	}
	s.result("%s; group: %s; drill Released %s after the group's deletion, the group delete sent %s after the drill's delete job ended; object gone %s after its deletion",
		got, grp, ms(released), ms(first), ms(took))
}

// emptyGroup deletes the group's protected instances and replication
// pairs in SDRS through the official SDK, as a person would before
// deleting the group, and waits until SDRS holds none.
func (s *scenario) emptyGroup(g emutest.SeededGroup) {
	s.t.Helper()
	o := s.emu.Options()
	cred, err := basic.NewCredentialsBuilder().WithAk(o.AccessKey).WithSk(o.SecretKey).WithProjectId(o.ProjectID).SafeBuild()
	if err != nil {
		s.t.Fatal(err)
	}
	hc, err := sdrsv1.SdrsClientBuilder().WithEndpoints([]string{s.emu.SDRSURL}).WithCredential(cred).
		WithHttpConfig(config.DefaultHttpConfig().WithRetries(0)).SafeBuild()
	if err != nil {
		s.t.Fatal(err)
	}
	c := sdrsv1.NewSdrsClient(hc)
	members := func(wantInstances, wantPairs int) {
		err := wait.PollUntilContextTimeout(s.ctx, 100*time.Millisecond, relOpTimeout, true, func(ctx context.Context) (bool, error) {
			in, pairs, err := s.emu.GroupMembers(ctx, g.ID)
			return err == nil && in == wantInstances && pairs == wantPairs, nil
		})
		if err != nil {
			s.t.Fatalf("SDRS group %s did not get to %d instances and %d pairs", g.ID, wantInstances, wantPairs)
		}
	}
	for _, in := range g.Instances {
		if _, err := c.DeleteProtectedInstance(&sdrsmodel.DeleteProtectedInstanceRequest{ProtectedInstanceId: in.ID}); err != nil {
			s.t.Fatalf("DeleteProtectedInstance %s: %v", in.ID, err)
		}
	}
	members(0, len(g.Instances))
	for _, in := range g.Instances {
		if in.ReplicationID == "" {
			continue
		}
		req := &sdrsmodel.DeleteReplicationRequest{ReplicationId: in.ReplicationID,
			Body: &sdrsmodel.DeleteReplicationRequestBody{Replication: &sdrsmodel.DeleteReplicationRequestParams{ServerGroupId: &g.ID}}}
		if _, err := c.DeleteReplication(req); err != nil {
			s.t.Fatalf("DeleteReplication %s: %v", in.ReplicationID, err)
		}
	}
	members(0, 0)
}
