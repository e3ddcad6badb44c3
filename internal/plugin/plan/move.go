package plan

import (
	"context"
	"fmt"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	drv1alpha1 "github.com/sdrs-operator/sdrs-operator/api/v1alpha1"
	"github.com/sdrs-operator/sdrs-operator/internal/plugin/cli"
)

// MoveOptions are the flags of failover and failback.
type MoveOptions struct {
	Common
	// To is the site: target for failover, source for failback.
	To drv1alpha1.Site
	// Mode, when set, is written to spec.failoverMode.
	Mode drv1alpha1.FailoverMode
	// AllowDataLoss writes spec.allowDataLoss: true; Forced and Auto need it.
	AllowDataLoss bool
}

// errDataLoss is the refusal of a Forced or Auto move without
// --allow-data-loss, as the group failover verb refuses.
const errDataLoss = "failoverMode %s may fail members over forced (SDRS failover-server-group), which may lose data written since the last replication, up to the RPO: " +
	"pass --allow-data-loss to accept that, or --mode Planned for a planned failover without data loss"

// Validate checks the flags before anything is read.
func (o *MoveOptions) Validate(verb string) error {
	if err := o.validate(verb); err != nil {
		return err
	}
	if err := cli.ValidateSite("the site", o.To, true); err != nil {
		return err
	}
	switch o.Mode {
	case "", drv1alpha1.FailoverPlanned:
	case drv1alpha1.FailoverForced, drv1alpha1.FailoverAuto:
		if !o.AllowDataLoss {
			return cli.Usagef(errDataLoss, o.Mode)
		}
	default:
		return cli.Usagef("--mode must be Planned, Forced or Auto, not %q", o.Mode)
	}
	return nil
}

// Move sets spec.desiredActiveSite of the plan to o.To (and the mode
// fields asked for) and, with --wait, follows the run the controller
// starts for it.
func Move(ctx context.Context, env *cli.Env, o MoveOptions) error {
	verb := "failover"
	if o.To == drv1alpha1.SiteSource {
		verb = "failback"
	}
	if err := o.Validate(verb); err != nil {
		return err
	}
	p, err := getPlan(ctx, env, o.Name)
	if err != nil {
		return err
	}
	ref := Ref(p.Name)
	if p.Spec.DesiredActiveSite == o.To {
		fmt.Fprintf(env.Out, "%s unchanged: spec.desiredActiveSite is already %s\n", ref, o.To)
		if o.Mode != "" && o.Mode != p.Spec.FailoverMode || o.AllowDataLoss && !p.Spec.AllowDataLoss {
			fmt.Fprintf(env.Out, "  --mode and --allow-data-loss are not applied: the plan is not moving\n")
		}
		if !o.Wait {
			return nil
		}
		// Follow the run to the site, whichever it is.
		return waitPlan(ctx, env, p.Name, o.Common, decideMove(o.To, ""))
	}
	mode := p.Spec.FailoverMode
	if o.Mode != "" {
		mode = o.Mode
	}
	if (mode == drv1alpha1.FailoverForced || mode == drv1alpha1.FailoverAuto) && !o.AllowDataLoss {
		return cli.Usagef("spec.failoverMode is "+string(mode)+": "+errDataLoss, mode)
	}
	var change cli.Plan
	change.SetSpec("desiredActiveSite", p.Spec.DesiredActiveSite, o.To)
	if o.Mode != "" {
		change.SetSpec("failoverMode", p.Spec.FailoverMode, o.Mode)
	}
	if o.AllowDataLoss {
		change.SetSpec("allowDataLoss", p.Spec.AllowDataLoss, true)
	}
	for _, w := range moveWarnings(p, o.To) {
		fmt.Fprintf(env.ErrOut, "Warning: %s: %s\n", ref, w)
	}
	data, err := change.Patch()
	if err != nil {
		return err
	}
	prior := ""
	if p.Status.Run != nil {
		prior = p.Status.Run.ID
	}
	patch := client.RawPatch(types.MergePatchType, data)
	switch {
	case o.dryRun():
		if o.DryRun == cli.DryRunServer {
			// The API server runs admission (the Forced/Auto rule
			// included) and persists nothing.
			if err := env.Client.Patch(ctx, p.DeepCopy(), patch, client.DryRunAll); err != nil {
				return fmt.Errorf("the API server refused the patch (dry run): %w", err)
			}
		}
		fmt.Fprintf(env.Out, "%s would be patched (dry run: %s)\n", ref, o.DryRun)
		printChanges(env, change.Changes)
		fmt.Fprintf(env.Out, "  patch: %s\n", data)
		return nil
	default:
		if err := env.Client.Patch(ctx, p, patch); err != nil {
			return fmt.Errorf("cannot patch: %w", err)
		}
		fmt.Fprintf(env.Out, "%s patched\n", ref)
		printChanges(env, change.Changes)
	}
	if !o.Wait {
		fmt.Fprintf(env.Out, "  follow the run: kubectl sdrs plan status %s -n %s\n", p.Name, p.Namespace)
		return nil
	}
	return waitPlan(ctx, env, p.Name, o.Common, decideMove(o.To, prior))
}

// moveWarnings are what a person should know before the plan moves: Argo
// CD reverting the change, a run in flight that this change supersedes, a
// suspended or invalid plan that starts nothing.
func moveWarnings(p *drv1alpha1.DRPlan, to drv1alpha1.Site) []string {
	var out []string
	if managedByArgoCD(p) {
		out = append(out, "managed by Argo CD: change desiredActiveSite in Git too, or Argo CD will revert it")
	}
	if run := p.Status.Run; run != nil && !run.Phase.Finished() {
		out = append(out, fmt.Sprintf("%s is %s: this change supersedes it; its wave in flight finishes, then a run to %s starts (members already moved stay moved until then)",
			runName(run), run.Phase, to))
	}
	if p.Spec.Suspend {
		out = append(out, "spec.suspend is true: the plan starts no new step or member until it is resumed")
	}
	if c := meta.FindStatusCondition(p.Status.Conditions, drv1alpha1.ValidCondition); c != nil && c.Status == metav1.ConditionFalse {
		out = append(out, fmt.Sprintf("the plan is not valid (%s: %s): no run starts until that is fixed", c.Reason, c.Message))
	}
	return out
}

// decideMove is the --wait of failover and failback: follow the first
// run to site other than prior (or, with prior empty, any run to site)
// until it stops.
func decideMove(site drv1alpha1.Site, prior string) decider {
	return func(p *drv1alpha1.DRPlan) verdict {
		if p.Spec.DesiredActiveSite != site {
			return siteChanged(p, site)
		}
		run := p.Status.Run
		if run == nil || run.Mode == drv1alpha1.PlanModeDrill || run.ToSite != site || (prior != "" && run.ID == prior) {
			gen := p.Generation
			if c := current(p.Status.Conditions, drv1alpha1.ValidCondition, gen); c != nil && c.Status == metav1.ConditionFalse {
				return verdict{outcome: stopped, line: fmt.Sprintf("the plan is not valid, no run starts: %s: %s", c.Reason, c.Message)}
			}
			if c := current(p.Status.Conditions, drv1alpha1.StalledCondition, gen); c != nil && c.Status == metav1.ConditionTrue {
				return verdict{outcome: stopped, line: fmt.Sprintf("Stalled %s: %s", c.Reason, c.Message)}
			}
			return verdict{outcome: waiting, line: startWords(p, site)}
		}
		return runVerdict(p, run, false)
	}
}

// startWords words a plan whose run to site has not started yet.
func startWords(p *drv1alpha1.DRPlan, site drv1alpha1.Site) string {
	s := "waiting for the controller to start a run to " + string(site)
	if p.Status.ObservedGeneration < p.Generation {
		s += fmt.Sprintf(" (it has observed generation %d of %d)", p.Status.ObservedGeneration, p.Generation)
	}
	if run := p.Status.Run; run != nil {
		s += fmt.Sprintf("; the last run is %s, %s", runName(run), orDash(string(run.Phase)))
	}
	if p.Spec.Suspend {
		s += "; spec.suspend is true"
	}
	return s
}

// runName is "r-0004 (to target)" or "r-0004 (drill)".
func runName(run *drv1alpha1.PlanRun) string {
	if run.Mode == drv1alpha1.PlanModeDrill {
		return run.ID + " (drill)"
	}
	return fmt.Sprintf("%s (to %s)", run.ID, orDash(string(run.ToSite)))
}

func printChanges(env *cli.Env, changes []cli.FieldChange) {
	for _, c := range changes {
		fmt.Fprintf(env.Out, "  %s: %s -> %s\n", c.Path, c.From, c.To)
	}
}
