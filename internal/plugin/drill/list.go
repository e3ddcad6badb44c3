package drill

import (
	"context"
	"fmt"
	"io"
	"strings"
	"time"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	drv1alpha1 "github.com/sdrs-operator/sdrs-operator/api/v1alpha1"
	"github.com/sdrs-operator/sdrs-operator/internal/plugin/cli"
)

// DefaultDrillInterval is the CRD's default spec.drillInterval (90 days),
// used only when the operator has not written DrillUpToDate yet.
const DefaultDrillInterval = 2160 * time.Hour

// ListOptions are the list flags.
type ListOptions struct {
	cli.Selection
	// Drills lists the ProtectionGroupDrill objects instead of the groups.
	Drills bool
}

// UpToDate is whether a group's last passed drill is young enough.
type UpToDate struct {
	// Overdue: no passed drill within the group's drill interval, or none
	// at all (DrillUpToDate False).
	Overdue bool
	Cell    string
	Reason  string
	Message string
}

// Assess reads the DrillUpToDate condition. Before the operator has
// written it, the plugin applies the same rule to status.lastPassedDrill
// and spec.drillInterval, and the cell says "(computed)".
func Assess(pg *drv1alpha1.ProtectionGroup, now time.Time) UpToDate {
	if c := meta.FindStatusCondition(pg.Status.Conditions, drv1alpha1.DrillUpToDateCondition); c != nil {
		u := UpToDate{Reason: c.Reason, Message: c.Message}
		switch c.Status {
		case metav1.ConditionTrue:
			u.Cell = "yes"
		case metav1.ConditionFalse:
			u.Overdue, u.Cell = true, "no"
		default:
			u.Cell = "unknown"
		}
		if c.Status != metav1.ConditionTrue && c.Reason != "" {
			u.Cell += ": " + c.Reason
		}
		return u
	}
	interval := DefaultDrillInterval
	if pg.Spec.DrillInterval != nil {
		interval = pg.Spec.DrillInterval.Duration
	}
	lp := pg.Status.LastPassedDrill
	switch {
	case lp == nil:
		return UpToDate{Overdue: true, Cell: "no: " + drv1alpha1.NoDrillPassedReason + " (computed)", Reason: drv1alpha1.NoDrillPassedReason,
			Message: "no drill of this group has passed (status.lastPassedDrill is empty)"}
	case lp.At == nil:
		return UpToDate{Cell: "unknown (computed)", Message: fmt.Sprintf("drill %s passed, but when is not recorded", lp.Name)}
	case now.Sub(lp.At.Time) > interval:
		return UpToDate{Overdue: true, Cell: "no: " + drv1alpha1.DrillOverdueReason + " (computed)", Reason: drv1alpha1.DrillOverdueReason,
			Message: fmt.Sprintf("the last passed drill, %s, ran %s, longer ago than the drill interval %s", lp.Name, ago(&lp.At.Time, now), interval)}
	}
	return UpToDate{Cell: "yes (computed)", Reason: drv1alpha1.DrillPassedRecentlyReason}
}

// List prints one row per selected group, or with --drills one per drill,
// and returns exit 9 when some listed group is overdue.
func List(ctx context.Context, env *cli.Env, o ListOptions) error {
	if err := o.Validate(false); err != nil {
		return err
	}
	pgs, err := cli.Select(ctx, env, o.Selection)
	if err != nil {
		return err
	}
	drills, err := listDrills(ctx, env, o.AllNamespaces)
	if err != nil {
		return err
	}
	if o.Drills {
		return listDrillObjects(env, o, pgs, drills)
	}
	if len(pgs) == 0 {
		fmt.Fprintf(env.ErrOut, "No ProtectionGroups found %s.\n", o.Where(env))
		return nil
	}
	now := env.Now()
	res := make([]UpToDate, len(pgs))
	for i := range pgs {
		res[i] = Assess(&pgs[i], now)
	}
	if err := RenderGroups(env.Out, pgs, drills, res, o.AllNamespaces, now); err != nil {
		return err
	}
	return overdue(env, pgs, drills, res, o.AllNamespaces)
}

// RenderGroups writes the group table.
func RenderGroups(w io.Writer, pgs []drv1alpha1.ProtectionGroup, drills []drv1alpha1.ProtectionGroupDrill, res []UpToDate, withNamespace bool, now time.Time) error {
	t := cli.NewTable(w)
	head := []string{"GROUP", "LAST DRILL", "RESULT", "WHEN", "LAST PASSED", "UP TO DATE", "LIVE DRILL"}
	if withNamespace {
		head = append([]string{"NAMESPACE"}, head...)
	}
	cli.Row(t, head...)
	for i := range pgs {
		pg := &pgs[i]
		last, result, when, passed := "", "", "-", "-"
		if l := pg.Status.LastDrill; l != nil {
			last, result, when = l.Name, string(l.Result), agoOf(l.At, now)
		}
		if p := pg.Status.LastPassedDrill; p != nil {
			passed = agoOf(p.At, now)
		}
		row := []string{pg.Name, last, result, when, passed, res[i].Cell, liveWords(liveOf(drills, pg.Namespace, pg.Name))}
		if withNamespace {
			row = append([]string{pg.Namespace}, row...)
		}
		cli.Row(t, row...)
	}
	return t.Flush()
}

// overdue prints, below the table, why each overdue group is and how to
// drill it (or the drill already live), and returns exit 9 naming them.
func overdue(env *cli.Env, pgs []drv1alpha1.ProtectionGroup, drills []drv1alpha1.ProtectionGroupDrill, res []UpToDate, withNamespace bool) error {
	var names []string
	for i := range pgs {
		if !res[i].Overdue {
			continue
		}
		pg := &pgs[i]
		name := pg.Name
		if withNamespace {
			name = pg.Namespace + "/" + name
		}
		names = append(names, fmt.Sprintf("%s (%s)", name, orDash(res[i].Reason)))
		fmt.Fprintf(env.Out, "\n%s: %s\n", cli.Ref(pg, withNamespace), orDash(res[i].Message))
		if live := liveOf(drills, pg.Namespace, pg.Name); len(live) > 0 {
			fmt.Fprintf(env.Out, "  a drill is live: %s\n", liveWords(live))
		} else {
			fmt.Fprintf(env.Out, "  drill it: kubectl sdrs drill start %s -n %s --wait\n", pg.Name, pg.Namespace)
		}
	}
	if len(names) == 0 {
		return nil
	}
	return cli.WithCode(cli.ExitDrillOverdue, fmt.Errorf("%d of %d groups have no passed drill within their drill interval: %s",
		len(names), len(pgs), strings.Join(names, ", ")))
}

// listDrillObjects is list --drills: the drills in the namespace (all
// namespaces with -A), or only those of the named or selected groups.
func listDrillObjects(env *cli.Env, o ListOptions, pgs []drv1alpha1.ProtectionGroup, drills []drv1alpha1.ProtectionGroupDrill) error {
	if len(o.Names) > 0 || o.Selector != "" {
		keep := map[string]bool{}
		for _, pg := range pgs {
			keep[pg.Namespace+"/"+pg.Name] = true
		}
		var sel []drv1alpha1.ProtectionGroupDrill
		for _, d := range drills {
			if keep[d.Namespace+"/"+d.Spec.ProtectionGroupRef.Name] {
				sel = append(sel, d)
			}
		}
		drills = sel
	}
	if len(drills) == 0 {
		fmt.Fprintf(env.ErrOut, "No ProtectionGroupDrills found %s.\n", o.Where(env))
		return nil
	}
	return RenderDrills(env.Out, drills, o.AllNamespaces, env.Now())
}

// RenderDrills writes the drill table: the CRD's printer columns, with
// READY as status/reason and EXPIRES relative to now.
func RenderDrills(w io.Writer, drills []drv1alpha1.ProtectionGroupDrill, withNamespace bool, now time.Time) error {
	t := cli.NewTable(w)
	head := []string{"NAME", "GROUP", "PHASE", "READY", "EXPIRES", "RESULT", "AGE"}
	if withNamespace {
		head = append([]string{"NAMESPACE"}, head...)
	}
	cli.Row(t, head...)
	for i := range drills {
		d := &drills[i]
		ready := ""
		if c := meta.FindStatusCondition(d.Status.Conditions, drv1alpha1.ReadyCondition); c != nil {
			ready = string(c.Status) + "/" + c.Reason
			if c.ObservedGeneration != d.Generation {
				ready += " (stale)"
			}
		}
		expires := "-"
		if d.Status.ExpiresAt != nil {
			expires = until(&d.Status.ExpiresAt.Time, now)
		}
		result := ""
		if oc := d.Status.Outcome; oc != nil {
			result = fmt.Sprintf("%s (%s)", oc.Result, oc.Source)
		}
		age := "-"
		if !d.CreationTimestamp.IsZero() {
			age = ago(&d.CreationTimestamp.Time, now)
		}
		row := []string{d.Name, d.Spec.ProtectionGroupRef.Name, string(d.Status.Phase), ready, expires, result, strings.TrimSuffix(age, " ago")}
		if withNamespace {
			row = append([]string{d.Namespace}, row...)
		}
		cli.Row(t, row...)
	}
	return t.Flush()
}

func agoOf(t *metav1.Time, now time.Time) string {
	if t == nil {
		return "-"
	}
	return ago(&t.Time, now)
}
