// Package status implements `kubectl sdrs status`: a table of groups with
// what a DR runbook needs at a glance.
package status

import (
	"context"
	"fmt"
	"io"
	"strings"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	drv1alpha1 "github.com/sdrs-operator/sdrs-operator/api/v1alpha1"
	"github.com/sdrs-operator/sdrs-operator/internal/plugin/cli"
)

// Options are the status flags.
type Options struct {
	cli.Selection
	Output string
}

// Run prints the selected groups; with no names or selector, all groups
// in the namespace, as kubectl get does.
func Run(ctx context.Context, env *cli.Env, o Options) error {
	if err := cli.ValidateOutput(o.Output); err != nil {
		return err
	}
	if err := o.Validate(false); err != nil {
		return err
	}
	pgs, err := cli.Select(ctx, env, o.Selection)
	if err != nil {
		return err
	}
	if o.Output != cli.OutputTable {
		list := drv1alpha1.ProtectionGroupList{Items: pgs}
		list.APIVersion, list.Kind = "v1", "List"
		for i := range list.Items {
			list.Items[i].APIVersion = drv1alpha1.GroupVersion.String()
			list.Items[i].Kind = "ProtectionGroup"
			list.Items[i].ManagedFields = nil // noise, as kubectl get hides it
		}
		return cli.PrintObject(env.Out, o.Output, &list)
	}
	if len(pgs) == 0 {
		fmt.Fprintf(env.ErrOut, "No ProtectionGroups found %s.\n", o.Where(env))
		return nil
	}
	if err := Render(env.Out, pgs, o.AllNamespaces); err != nil {
		return err
	}
	for i := range pgs {
		for _, w := range Warnings(&pgs[i]) {
			fmt.Fprintf(env.ErrOut, "Warning: %s: %s\n", cli.Ref(&pgs[i], o.AllNamespaces), w)
		}
	}
	return nil
}

// Warnings are what makes a group less safe than its row looks: a Forced
// failover mode left behind, which makes the next change of
// desiredActiveSite another forced failover, and a pause.
func Warnings(pg *drv1alpha1.ProtectionGroup) []string {
	var out []string
	if pg.Spec.FailoverMode == drv1alpha1.FailoverForced {
		out = append(out, fmt.Sprintf("failoverMode is Forced: the next change of desiredActiveSite is another forced failover, which may lose data. "+
			"Once no forced failover is meant any more: kubectl patch pg %s -n %s --type merge -p '%s'", pg.Name, pg.Namespace, plannedPatch))
	}
	if pg.IsPaused() {
		out = append(out, "paused: the operator starts no SDRS action until it is resumed: "+cli.ResumeCommand(pg))
	}
	if c := meta.FindStatusCondition(pg.Status.Conditions, drv1alpha1.ServersRunningCondition); c != nil && c.Status == metav1.ConditionFalse {
		out = append(out, c.Message)
	}
	if l := pg.Status.LastOperation; l != nil && l.Result == drv1alpha1.OperationFailed && pg.Status.CurrentOperation == nil {
		out = append(out, "the last operation failed: "+l.Message)
	}
	return out
}

// plannedPatch puts a group back to planned failovers without data loss.
const plannedPatch = `{"spec":{"failoverMode":"Planned","allowDataLoss":false}}`

// Render writes the status table.
func Render(w io.Writer, pgs []drv1alpha1.ProtectionGroup, withNamespace bool) error {
	t := cli.NewTable(w)
	head := []string{"NAME", "DESIRED", "ACTIVE", "MODE", "PRODUCTION", "DR", "REPLICATION", "SERVERS", "OPERATION", "LAST", "READY"}
	if withNamespace {
		head = append([]string{"NAMESPACE"}, head...)
	}
	cli.Row(t, head...)
	for i := range pgs {
		row := columns(&pgs[i])
		if withNamespace {
			row = append([]string{pgs[i].Namespace}, row...)
		}
		cli.Row(t, row...)
	}
	return t.Flush()
}

func columns(pg *drv1alpha1.ProtectionGroup) []string {
	st := pg.Status
	var prod, dr string
	if st.Sites != nil {
		prod, dr = st.Sites.Production, st.Sites.DisasterRecovery
	}
	return []string{pg.Name, string(pg.Spec.DesiredActiveSite), string(st.ActiveSite), string(pg.Spec.FailoverMode), prod, dr,
		replication(st.Replication), servers(pg), operation(st.CurrentOperation), last(st.LastOperation), ready(pg)}
}

// servers says whether the servers at the active site run: "running",
// "2/3 stopped", or empty when they were not read.
func servers(pg *drv1alpha1.ProtectionGroup) string {
	c := meta.FindStatusCondition(pg.Status.Conditions, drv1alpha1.ServersRunningCondition)
	if c == nil || c.Status == metav1.ConditionUnknown {
		return ""
	}
	if c.Status == metav1.ConditionTrue {
		return "running"
	}
	off := 0
	for _, in := range pg.Status.Instances {
		srv := in.SourceServer
		if in.ServingSite == drv1alpha1.SiteTarget {
			srv = in.TargetServer
		}
		if srv.Power != "" && srv.Power != "ACTIVE" {
			off++
		}
	}
	return fmt.Sprintf("%d/%d stopped", off, len(pg.Status.Instances))
}

func replication(r *drv1alpha1.ReplicationObservation) string {
	if r == nil || r.Status == "" {
		return ""
	}
	return fmt.Sprintf("%s %d%%", r.Status, r.Progress)
}

func operation(op *drv1alpha1.Operation) string {
	if op == nil {
		return ""
	}
	if op.Step == "" {
		return string(op.Type)
	}
	return fmt.Sprintf("%s/%s", op.Type, op.Step)
}

func last(op *drv1alpha1.Operation) string {
	if op == nil {
		return ""
	}
	return fmt.Sprintf("%s %s", op.Result, op.Type)
}

// ready shows Ready as status/reason and marks it stale when it was set for
// an older generation, and paused while the paused annotation is set: a
// stale or paused True must not read as done or as free to move.
func ready(pg *drv1alpha1.ProtectionGroup) string {
	var s string
	if c := meta.FindStatusCondition(pg.Status.Conditions, drv1alpha1.ReadyCondition); c != nil {
		s = fmt.Sprintf("%s/%s", c.Status, c.Reason)
		if c.ObservedGeneration != pg.Generation {
			s += " (stale)"
		}
	}
	if pg.IsPaused() {
		s = strings.TrimSpace(s + " (paused)")
	}
	return s
}
