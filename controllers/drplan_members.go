package controllers

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"sort"
	"strings"
	"time"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"

	drv1alpha1 "github.com/sdrs-operator/sdrs-operator/api/v1alpha1"
)

// memberState is what a run makes of one member now.
type memberState string

const (
	memberPending          memberState = "pending"
	memberClaimedElsewhere memberState = "claimedElsewhere"
	memberInProgress       memberState = "inProgress"
	memberSucceeded        memberState = "succeeded"
	memberFailed           memberState = "failed"
	memberSkipped          memberState = "skipped"
)

// memberView is one member as the run sees it.
type memberView struct {
	pg    *drv1alpha1.ProtectionGroup
	drill *drv1alpha1.ProtectionGroupDrill
	state memberState
	// reason and message explain a failure or a claim.
	reason, message string
}

// stalledGrace: a member still Stalled this long after the plan moved it
// failed, even if its Stalled condition predates the move (it was stalled
// before, and the move did not clear it).
const stalledGrace = time.Minute

// runStamp is the dr.sdrs.io/run value of a member moved by a plan's run.
func runStamp(plan, run, wave string) string { return plan + "/" + run + "/" + wave }

// parseStamp splits a run stamp; ok is false for anything else.
func parseStamp(v string) (plan, run, wave string, ok bool) {
	parts := strings.Split(v, "/")
	if len(parts) != 3 || parts[0] == "" || parts[1] == "" {
		return "", "", "", false
	}
	return parts[0], parts[1], parts[2], true
}

// placement assigns the plan's members to waves. A member in no wave or
// in two is a problem the Valid condition names; such a member is not
// placed.
type placement struct {
	waves      map[string][]*drv1alpha1.ProtectionGroup
	unassigned []string
	overlaps   []string
}

func placeMembers(plan *drv1alpha1.DRPlan, members []drv1alpha1.ProtectionGroup) (placement, error) {
	p := placement{waves: map[string][]*drv1alpha1.ProtectionGroup{}}
	sels := make([]labels.Selector, len(plan.Spec.Waves))
	for i := range plan.Spec.Waves {
		sel, err := metav1.LabelSelectorAsSelector(&plan.Spec.Waves[i].Selector)
		if err != nil {
			return p, fmt.Errorf("wave %s: %w", plan.Spec.Waves[i].Name, err)
		}
		sels[i] = sel
	}
	for i := range members {
		m := &members[i]
		var in []string
		for w, sel := range sels {
			if sel.Matches(labels.Set(m.Labels)) {
				in = append(in, plan.Spec.Waves[w].Name)
			}
		}
		switch len(in) {
		case 0:
			p.unassigned = append(p.unassigned, m.Name)
		case 1:
			p.waves[in[0]] = append(p.waves[in[0]], m)
		default:
			p.overlaps = append(p.overlaps, fmt.Sprintf("%s (%s)", m.Name, strings.Join(in, ", ")))
		}
	}
	for _, ms := range p.waves {
		sort.Slice(ms, func(i, j int) bool { return ms[i].Name < ms[j].Name })
	}
	sort.Strings(p.unassigned)
	sort.Strings(p.overlaps)
	return p, nil
}

// planProblems lists what keeps a plan from running: members placed in no
// wave or in two, decisions naming a run, step or member that does not exist.
func planProblems(plan *drv1alpha1.DRPlan, p placement, members []drv1alpha1.ProtectionGroup) []string {
	var out []string
	if len(p.overlaps) > 0 {
		out = append(out, "members in more than one wave: "+capList(p.overlaps, 10))
	}
	if len(p.unassigned) > 0 {
		out = append(out, "members in no wave: "+capList(p.unassigned, 10))
	}
	steps := map[string]bool{}
	for _, w := range plan.Spec.Waves {
		for _, st := range append(append([]drv1alpha1.PlanStep{}, w.PreSteps...), w.PostSteps...) {
			steps[w.Name+"/"+st.Name] = true
		}
	}
	names := map[string]bool{}
	for i := range members {
		names[members[i].Name] = true
	}
	next := nextRunID(plan)
	var bad []string
	for i, d := range plan.Spec.Decisions {
		switch {
		case runNumber(d.Run) > runNumber(next):
			bad = append(bad, fmt.Sprintf("decisions[%d] names run %s, which does not exist (the next run is %s)", i, d.Run, next))
		case d.Step != "" && !steps[d.Step]:
			bad = append(bad, fmt.Sprintf("decisions[%d] names step %s, which no wave has", i, d.Step))
		case d.Member != "" && !names[d.Member] && isCurrentRun(plan, d.Run):
			bad = append(bad, fmt.Sprintf("decisions[%d] names member %s, which the plan does not select", i, d.Member))
		}
	}
	if len(bad) > 0 {
		out = append(out, capList(bad, 5))
	}
	return out
}

func isCurrentRun(plan *drv1alpha1.DRPlan, id string) bool {
	return plan.Status.Run != nil && plan.Status.Run.ID == id
}

// runNumber is the sequence number of a run ID (r-0007 is 7); 0 for none.
func runNumber(id string) int {
	var n int
	if _, err := fmt.Sscanf(id, "r-%d", &n); err != nil {
		return 0
	}
	return n
}

// nextRunID is the ID the plan's next run takes.
func nextRunID(plan *drv1alpha1.DRPlan) string {
	n := 0
	if plan.Status.Run != nil {
		n = runNumber(plan.Status.Run.ID)
	}
	for _, h := range plan.Status.History {
		n = max(n, runNumber(h.ID))
	}
	return fmt.Sprintf("r-%04d", n+1)
}

func capList(items []string, n int) string {
	if len(items) <= n {
		return strings.Join(items, ", ")
	}
	return fmt.Sprintf("%s and %d more", strings.Join(items[:n], ", "), len(items)-n)
}

// memberDone: the member's Ready condition is True for its current
// generation and it runs at the site.
func memberDone(pg *drv1alpha1.ProtectionGroup, site drv1alpha1.Site) bool {
	c := meta.FindStatusCondition(pg.Status.Conditions, drv1alpha1.ReadyCondition)
	return c != nil && c.Status == metav1.ConditionTrue && c.ObservedGeneration == pg.Generation &&
		pg.Status.ObservedGeneration == pg.Generation && pg.Status.ActiveSite == site && pg.Spec.DesiredActiveSite == site
}

// memberStall returns the member's Stalled condition if it failed after
// the plan moved it at movedAt.
func memberStall(pg *drv1alpha1.ProtectionGroup, movedAt, now time.Time) *metav1.Condition {
	c := meta.FindStatusCondition(pg.Status.Conditions, drv1alpha1.StalledCondition)
	if c == nil || c.Status != metav1.ConditionTrue || c.ObservedGeneration != pg.Generation {
		return nil
	}
	if !c.LastTransitionTime.Time.Before(movedAt.Truncate(time.Second)) || now.Sub(movedAt) > stalledGrace {
		return c
	}
	return nil
}

// movedAt reads when the plan moved the member; zero if unknown.
func movedAt(pg *drv1alpha1.ProtectionGroup) time.Time {
	t, err := time.Parse(time.RFC3339, pg.Annotations[drv1alpha1.PlanMovedAtAnnotation])
	if err != nil {
		return time.Time{}
	}
	return t
}

// drillObjectName is the deterministic name of the ProtectionGroupDrill a
// drill run creates for a member, so that a restart finds it.
func drillObjectName(plan, run, member string) string {
	name := plan + "-" + run + "-" + member
	if len(name) <= 63 {
		return name
	}
	sum := sha256.Sum256([]byte(name))
	return strings.TrimRight(name[:54], "-.") + "-" + hex.EncodeToString(sum[:])[:8]
}

// concurrency is how many of a wave's members may move at once.
func concurrency(w *drv1alpha1.PlanWave, total int) int {
	if w.MaxConcurrent == nil || total == 0 {
		return max(total, 1)
	}
	if w.MaxConcurrent.Type == 0 { // int
		return max(w.MaxConcurrent.IntValue(), 1)
	}
	var pct int
	if _, err := fmt.Sscanf(w.MaxConcurrent.StrVal, "%d%%", &pct); err != nil || pct <= 0 {
		return 1
	}
	return max((total*pct+99)/100, 1)
}

// counts adds up member states.
func countStates(views []memberView) drv1alpha1.PlanCounts {
	c := drv1alpha1.PlanCounts{Total: int32(len(views))}
	for _, v := range views {
		switch v.state {
		case memberPending, memberClaimedElsewhere:
			c.Pending++
		case memberInProgress:
			c.InProgress++
		case memberSucceeded:
			c.Succeeded++
		case memberFailed:
			c.Failed++
		case memberSkipped:
			c.Skipped++
		}
	}
	return c
}

func addCounts(a, b drv1alpha1.PlanCounts) drv1alpha1.PlanCounts {
	return drv1alpha1.PlanCounts{Total: a.Total + b.Total, Pending: a.Pending + b.Pending, InProgress: a.InProgress + b.InProgress,
		Succeeded: a.Succeeded + b.Succeeded, Failed: a.Failed + b.Failed, Skipped: a.Skipped + b.Skipped}
}
