package plan

import (
	"context"
	"fmt"
	"io"
	"sort"
	"strconv"
	"time"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	drv1alpha1 "github.com/sdrs-operator/sdrs-operator/api/v1alpha1"
	"github.com/sdrs-operator/sdrs-operator/internal/plugin/cli"
)

// StatusOptions are the status flags.
type StatusOptions struct {
	// Name of the plan; empty lists the plans of the namespace.
	Name   string
	Output string
}

// Status prints one plan in full, or a line per plan of the namespace.
func Status(ctx context.Context, env *cli.Env, o StatusOptions) error {
	if err := cli.ValidateOutput(o.Output); err != nil {
		return err
	}
	if o.Name == "" {
		return list(ctx, env, o)
	}
	p, err := getPlan(ctx, env, o.Name)
	if err != nil {
		return err
	}
	if o.Output != cli.OutputTable {
		p.APIVersion, p.Kind = drv1alpha1.GroupVersion.String(), "DRPlan"
		p.ManagedFields = nil // noise, as kubectl get hides it
		return cli.PrintObject(env.Out, o.Output, p)
	}
	return Render(env.Out, p, env.Now())
}

// list prints the plans of the namespace, as the CRD's printer columns.
func list(ctx context.Context, env *cli.Env, o StatusOptions) error {
	var plans drv1alpha1.DRPlanList
	if err := env.Client.List(ctx, &plans, client.InNamespace(env.Namespace)); err != nil {
		return fmt.Errorf("cannot list DRPlans: %w", err)
	}
	sort.Slice(plans.Items, func(i, j int) bool { return plans.Items[i].Name < plans.Items[j].Name })
	if o.Output != cli.OutputTable {
		plans.APIVersion, plans.Kind = "v1", "List"
		for i := range plans.Items {
			plans.Items[i].APIVersion, plans.Items[i].Kind = drv1alpha1.GroupVersion.String(), "DRPlan"
			plans.Items[i].ManagedFields = nil
		}
		return cli.PrintObject(env.Out, o.Output, &plans)
	}
	if len(plans.Items) == 0 {
		fmt.Fprintf(env.ErrOut, "No DRPlans found in namespace %s.\n", env.Namespace)
		return nil
	}
	t := cli.NewTable(env.Out)
	cli.Row(t, "NAME", "DESIRED", "RUN", "TO", "PHASE", "WAVE", "READY")
	for i := range plans.Items {
		p := &plans.Items[i]
		var id, to, phase, wave string
		if r := p.Status.Run; r != nil {
			id, phase, wave = r.ID, string(r.Phase), r.CurrentWave
			to = string(r.ToSite)
			if r.Mode == drv1alpha1.PlanModeDrill {
				to = "(drill)"
			}
		}
		cli.Row(t, p.Name, string(p.Spec.DesiredActiveSite), id, to, phase, wave, ready(p))
	}
	return t.Flush()
}

// ready is the Ready condition as status/reason, "(stale)" when set for
// an older generation.
func ready(p *drv1alpha1.DRPlan) string {
	c := meta.FindStatusCondition(p.Status.Conditions, drv1alpha1.ReadyCondition)
	if c == nil {
		return ""
	}
	s := fmt.Sprintf("%s/%s", c.Status, c.Reason)
	if c.ObservedGeneration != p.Generation {
		s += " (stale)"
	}
	return s
}

// Render writes what a runbook needs to know about one plan: where it
// should be, its run wave by wave with steps and failures, what waits
// for a person, its members and its history. Times are absolute UTC, as
// in kubectl sdrs history.
func Render(w io.Writer, p *drv1alpha1.DRPlan, now time.Time) error {
	st := p.Status
	fmt.Fprintf(w, "Plan:       %s -n %s\n", Ref(p.Name), p.Namespace)
	desired := string(p.Spec.DesiredActiveSite)
	if desired == "" {
		desired = "(unset: armed, nothing moves)"
	}
	mode := string(p.Spec.FailoverMode)
	if mode == "" {
		mode = "not set: each member keeps its own"
	}
	if p.Spec.AllowDataLoss {
		mode += ", allowDataLoss"
	}
	fmt.Fprintf(w, "Desired:    %s (failoverMode %s)\n", desired, mode)
	if p.Spec.Suspend {
		fmt.Fprintf(w, "Suspended:  spec.suspend is true: nothing new starts\n")
	}
	if st.ObservedGeneration < p.Generation {
		fmt.Fprintf(w, "Observed:   generation %d of %d: the status below is older than the spec\n", st.ObservedGeneration, p.Generation)
	}
	if m := st.Members; m != nil {
		fmt.Fprintf(w, "Members:    %d: %d at source, %d at target; %d unassigned, %d claimed elsewhere, %d diverged\n",
			m.Total, m.AtSource, m.AtTarget, m.Unassigned, m.ClaimedElsewhere, m.Diverged)
	}
	for _, t := range []struct{ typ, label string }{
		{drv1alpha1.WaitingForApprovalCondition, "Waiting:    "},
		{drv1alpha1.StalledCondition, "Stalled:    "},
	} {
		if c := trueCondition(p, t.typ); c != nil {
			fmt.Fprintf(w, "%s%s: %s\n", t.label, c.Reason, c.Message)
		}
	}
	if c := meta.FindStatusCondition(st.Conditions, drv1alpha1.ValidCondition); c != nil && c.Status == metav1.ConditionFalse {
		fmt.Fprintf(w, "Not valid:  %s: %s\n", c.Reason, c.Message)
	}
	if run := st.Run; run != nil {
		if err := renderRun(w, p, run, now); err != nil {
			return err
		}
	} else {
		fmt.Fprintf(w, "Run:        none yet\n")
	}
	if len(st.History) > 0 {
		fmt.Fprintf(w, "\nHistory:\n")
		t := cli.NewTable(w)
		cli.Row(t, "RUN", "MODE", "TO", "PHASE", "STARTED", "FINISHED", "DURATION", "RTO MET", "TOTAL", "SUCCEEDED", "FAILED", "SKIPPED")
		for _, h := range st.History {
			cli.Row(t, h.ID, string(h.Mode), string(h.ToSite), string(h.Phase), stamp(&h.StartedAt.Time), stampPtr(h.FinishedAt),
				durationWords(h.Duration), boolWords(h.RTOMet), itoa(h.Counts.Total), itoa(h.Counts.Succeeded), itoa(h.Counts.Failed), itoa(h.Counts.Skipped))
		}
		if err := t.Flush(); err != nil {
			return err
		}
	}
	return nil
}

func renderRun(w io.Writer, p *drv1alpha1.DRPlan, run *drv1alpha1.PlanRun, now time.Time) error {
	what := string(run.Mode)
	if run.ToSite != "" {
		what += " to " + string(run.ToSite)
	}
	if run.DrillRequest != "" {
		what += " (drill request " + run.DrillRequest + ")"
	}
	fmt.Fprintf(w, "Run:        %s, %s: %s%s\n", run.ID, what, orDash(string(run.Phase)), reasonWords(run))
	if run.Superseded {
		fmt.Fprintf(w, "            superseded: desiredActiveSite changed; the wave in flight finishes, then a new run starts\n")
	}
	fmt.Fprintf(w, "Started:    %s\n", stamp(&run.StartedAt.Time))
	if run.FinishedAt != nil {
		fmt.Fprintf(w, "Finished:   %s\n", stamp(&run.FinishedAt.Time))
	}
	d := run.Duration
	if d == nil && !run.StartedAt.IsZero() && run.FinishedAt == nil {
		d = &metav1.Duration{Duration: now.Sub(run.StartedAt.Time).Round(time.Second)}
	}
	dur := durationWords(d)
	if p.Spec.RTO != nil {
		dur += " of RTO " + p.Spec.RTO.Duration.String()
		if run.RTOMet != nil {
			dur += map[bool]string{true: " (met)", false: " (exceeded)"}[*run.RTOMet]
		}
	}
	fmt.Fprintf(w, "Duration:   %s\n", dur)
	fmt.Fprintf(w, "Wave:       %s\n", orDash(run.CurrentWave))
	if len(run.Waves) > 0 {
		fmt.Fprintln(w)
		t := cli.NewTable(w)
		cli.Row(t, "WAVE", "PHASE", "TOTAL", "PENDING", "INPROGRESS", "SUCCEEDED", "FAILED", "SKIPPED")
		for _, wv := range run.Waves {
			c := wv.Counts
			cli.Row(t, wv.Name, string(wv.Phase), itoa(c.Total), itoa(c.Pending), itoa(c.InProgress), itoa(c.Succeeded), itoa(c.Failed), itoa(c.Skipped))
		}
		if err := t.Flush(); err != nil {
			return err
		}
	}
	var steps, failures bool
	for _, wv := range run.Waves {
		steps = steps || len(wv.Steps) > 0
		failures = failures || len(wv.Failures) > 0
	}
	if steps {
		fmt.Fprintf(w, "\nSteps:\n")
		t := cli.NewTable(w)
		cli.Row(t, "STEP", "STAGE", "TYPE", "PHASE", "ATTEMPT", "JOB", "MESSAGE")
		for _, wv := range run.Waves {
			for _, s := range wv.Steps {
				cli.Row(t, stepRef(wv.Name, s.Name), s.Stage, s.Type, string(s.Phase), itoa(s.Attempt), s.JobName, s.Message)
			}
		}
		if err := t.Flush(); err != nil {
			return err
		}
	}
	if failures {
		fmt.Fprintf(w, "\nFailures:\n")
		t := cli.NewTable(w)
		cli.Row(t, "WAVE", "MEMBER", "REASON", "MESSAGE")
		for _, wv := range run.Waves {
			for _, f := range wv.Failures {
				cli.Row(t, wv.Name, f.Member, f.Reason, f.Message)
			}
		}
		if err := t.Flush(); err != nil {
			return err
		}
	}
	for _, s := range waitingSteps(run) {
		fmt.Fprintf(w, "\nStep %s waits for approval: %s\n  approve it: %s\n", s.ref, orDash(s.status.Message), approveCommand(p, s.ref))
	}
	if run.Phase == drv1alpha1.PlanBlocked {
		fmt.Fprintln(w)
		for _, h := range decideHints(p, run) {
			fmt.Fprintf(w, "Blocked: %s\n", h)
		}
	}
	if pending := pendingDecisions(p, run); len(pending) > 0 {
		fmt.Fprintf(w, "\nDecisions for %s not used yet:\n", run.ID)
		for _, d := range pending {
			fmt.Fprintf(w, "  %s (note %q)\n", decisionWords(d), d.Note)
		}
	}
	return nil
}

// pendingDecisions are the decisions in spec for run that it has not
// used yet (by count: the run records each use).
func pendingDecisions(p *drv1alpha1.DRPlan, run *drv1alpha1.PlanRun) []drv1alpha1.PlanDecision {
	seen := map[drv1alpha1.PlanDecision]int{}
	var out []drv1alpha1.PlanDecision
	for _, d := range p.Spec.Decisions {
		if d.Run != run.ID {
			continue
		}
		key := drv1alpha1.PlanDecision{Run: d.Run, Step: d.Step, Member: d.Member, Action: d.Action}
		seen[key]++
		if seen[key] > appliedCount(run, d) {
			out = append(out, d)
		}
	}
	return out
}

func stamp(t *time.Time) string {
	if t == nil || t.IsZero() {
		return "-"
	}
	return t.UTC().Format(time.RFC3339)
}

func stampPtr(t *metav1.Time) string {
	if t == nil {
		return "-"
	}
	return stamp(&t.Time)
}

func durationWords(d *metav1.Duration) string {
	if d == nil {
		return "-"
	}
	return d.Duration.String()
}

func boolWords(b *bool) string {
	switch {
	case b == nil:
		return "-"
	case *b:
		return "yes"
	}
	return "no"
}

func itoa[T ~int32](n T) string { return strconv.Itoa(int(n)) }
