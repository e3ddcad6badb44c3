package harness

import (
	"context"
	"fmt"
	"strings"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/util/wait"
	"sigs.k8s.io/controller-runtime/pkg/client"

	drv1alpha1 "github.com/sdrs-operator/sdrs-operator/api/v1alpha1"
	"github.com/sdrs-operator/sdrs-operator/internal/emutest"
)

// DR drills, counted from the outside like the group actions (ledger.go):
// the drill calls that change something, the drills SDRS holds, and a
// waiter for ProtectionGroupDrill objects.

// PathDrills matches POST .../disaster-recovery-drills (CreateDisasterRecoveryDrill)
// and its list; PathDrill one drill (show, rename, delete).
const (
	PathDrills = `/v1/[^/]+/disaster-recovery-drills$`
	PathDrill  = `/v1/[^/]+/disaster-recovery-drills/[^/]+$`
)

// Drill operations that change something, as the call log names them.
const (
	OpCreateDrill = "CreateDisasterRecoveryDrill"
	OpDeleteDrill = "DeleteDisasterRecoveryDrill"
)

// DrillState is one DR drill as the emulator's /admin/state shows it.
type DrillState struct {
	ID, Name, GroupID, Status, VpcID string
}

// Drills reads the drills SDRS holds now, of every group.
func (e *Emulator) Drills(ctx context.Context) ([]DrillState, error) {
	raw, err := e.Admin.State(ctx)
	if err != nil {
		return nil, err
	}
	str := func(m map[string]any, k string) string { v, _ := m[k].(string); return v }
	var out []DrillState
	for _, d := range asList(raw["drills"]) {
		out = append(out, DrillState{ID: str(d, "id"), Name: str(d, "name"), GroupID: str(d, "server_group_id"),
			Status: str(d, "status"), VpcID: str(d, "drill_vpc_id")})
	}
	return out, nil
}

// GroupMembers counts the protected instances and replication pairs SDRS
// holds in a group now.
func (e *Emulator) GroupMembers(ctx context.Context, groupID string) (instances, pairs int, err error) {
	raw, err := e.Admin.State(ctx)
	if err != nil {
		return 0, 0, err
	}
	for _, in := range asList(raw["instances"]) {
		if g, _ := in["server_group_id"].(string); g == groupID {
			instances++
		}
	}
	for _, r := range asList(raw["replications"]) {
		if g, _ := r["server_group_id"].(string); g == groupID {
			pairs++
		}
	}
	return instances, pairs, nil
}

// DrillExpect is what one group's drills should have done: the drill
// creates and deletes carried out, exactly, and how many drills SDRS
// holds at the end.
type DrillExpect struct {
	Creates, Deletes int
	Left             int
}

// CountDrills tallies one group's drills: duplicates are carried-out drill
// creates or deletes beyond the expected ones, and drills SDRS holds beyond
// Left (a second drill of the same operation); lost are expected creates
// or deletes never carried out, and fewer drills left than expected.
func CountDrills(groupID string, calls []emutest.Call, drills []DrillState, want DrillExpect) Tally {
	var mine []emutest.Call
	for _, c := range calls {
		if c.GroupID == groupID {
			mine = append(mine, c)
		}
	}
	t := Tally{Groups: 1, Actions: map[string]int{}}
	short := groupID
	if len(short) > 8 {
		short = short[:8]
	}
	for _, x := range []struct {
		op   string
		want int
	}{{OpCreateDrill, want.Creates}, {OpDeleteDrill, want.Deletes}} {
		got := Accepted(mine, x.op)
		if got > 0 {
			t.Actions[x.op] = got
		}
		switch {
		case got > x.want:
			t.Duplicates += got - x.want
			t.Problems = append(t.Problems, fmt.Sprintf("group %s: %s carried out %d times, expected %d", short, x.op, got, x.want))
		case got < x.want:
			t.Lost += x.want - got
			t.Problems = append(t.Problems, fmt.Sprintf("group %s: %s carried out %d times, expected %d", short, x.op, got, x.want))
		}
	}
	held := 0
	for _, d := range drills {
		if d.GroupID == groupID {
			held++
		}
	}
	switch {
	case held > want.Left:
		t.Duplicates += held - want.Left
		t.Problems = append(t.Problems, fmt.Sprintf("group %s: SDRS holds %d drills, expected %d", short, held, want.Left))
	case held < want.Left:
		t.Lost += want.Left - held
		t.Problems = append(t.Problems, fmt.Sprintf("group %s: SDRS holds %d drills, expected %d", short, held, want.Left))
	}
	return t
}

// FmtDrillCounts renders drill action counts, e.g.
// "CreateDisasterRecoveryDrill×1, DeleteDisasterRecoveryDrill×1".
func FmtDrillCounts(m map[string]int) string {
	var parts []string
	for _, op := range []string{OpCreateDrill, OpDeleteDrill} {
		if m[op] > 0 {
			parts = append(parts, fmt.Sprintf("%s×%d", op, m[op]))
		}
	}
	if len(parts) == 0 {
		return "no drill actions"
	}
	return strings.Join(parts, ", ")
}

// DrillCondition is a predicate on a ProtectionGroupDrill, like Condition.
type DrillCondition func(d *drv1alpha1.ProtectionGroupDrill) (bool, string)

// DescribeDrill summarises a drill's status in one line.
func DescribeDrill(d *drv1alpha1.ProtectionGroupDrill) string {
	var b strings.Builder
	fmt.Fprintf(&b, "gen=%d observed=%d phase=%s", d.Generation, d.Status.ObservedGeneration, d.Status.Phase)
	if o := d.Status.Drill; o != nil {
		fmt.Fprintf(&b, " drill=%q/%s", o.ID, o.Status)
	}
	if op := d.Status.CurrentOperation; op != nil {
		fmt.Fprintf(&b, " current=%s attempt=%d job=%q", op.Type, op.Attempt, op.JobID)
	}
	for _, c := range d.Status.Conditions {
		fmt.Fprintf(&b, " %s=%s/%s", c.Type, c.Status, c.Reason)
	}
	if r := meta.FindStatusCondition(d.Status.Conditions, drv1alpha1.ReadyCondition); r != nil {
		fmt.Fprintf(&b, " msg=%q", r.Message)
	}
	return b.String()
}

// DrillPhaseIs holds when the drill is in phase.
func DrillPhaseIs(phase drv1alpha1.DrillPhase) DrillCondition {
	return func(d *drv1alpha1.ProtectionGroupDrill) (bool, string) {
		return d.Status.Phase == phase, DescribeDrill(d)
	}
}

// DrillReadyReason holds when the drill's Ready condition has the reason.
func DrillReadyReason(reason string) DrillCondition {
	return func(d *drv1alpha1.ProtectionGroupDrill) (bool, string) {
		c := meta.FindStatusCondition(d.Status.Conditions, drv1alpha1.ReadyCondition)
		return c != nil && c.Reason == reason, DescribeDrill(d)
	}
}

// DrillCreateSent holds once the drill's create intent is on record
// (status.currentOperation of type Create with an attempt).
func DrillCreateSent(d *drv1alpha1.ProtectionGroupDrill) (bool, string) {
	op := d.Status.CurrentOperation
	return op != nil && op.Type == drv1alpha1.DrillOperationCreate && op.Attempt > 0 && op.AttemptedAt != nil, DescribeDrill(d)
}

// WaitDrill polls a ProtectionGroupDrill until cond holds, copying the
// last one read into d.
func (cp *ControlPlane) WaitDrill(ctx context.Context, d *drv1alpha1.ProtectionGroupDrill, timeout time.Duration, cond DrillCondition) error {
	var last string
	key := client.ObjectKeyFromObject(d)
	err := wait.PollUntilContextTimeout(ctx, PollInterval, timeout, true, func(ctx context.Context) (bool, error) {
		cur := &drv1alpha1.ProtectionGroupDrill{}
		if err := cp.Client.Get(ctx, key, cur); err != nil {
			last = err.Error()
			if apierrors.IsNotFound(err) {
				last = "gone"
			}
			return false, nil
		}
		cur.DeepCopyInto(d)
		ok, why := cond(cur)
		last = why
		return ok, nil
	})
	if err != nil {
		return fmt.Errorf("ProtectionGroupDrill %s: condition not met within %s; last seen: %s", key, timeout, last)
	}
	return nil
}
