// Package failover implements `kubectl sdrs failover`: a forced failover
// (SDRS failover-server-group) that may lose data up to the RPO.
package failover

import (
	"context"

	drv1alpha1 "github.com/sdrs-operator/sdrs-operator/api/v1alpha1"
	"github.com/sdrs-operator/sdrs-operator/internal/plugin/cli"
	"github.com/sdrs-operator/sdrs-operator/internal/plugin/wait"
)

// Options are the failover-specific flags.
type Options struct {
	AllowDataLoss bool
	// To overrides the site to make active; by default the site that is
	// not active now.
	To drv1alpha1.Site
}

// errDataLoss is the refusal without --allow-data-loss. A forced failover
// is the one verb that can lose data, so it never runs by default.
const errDataLoss = "failover is forced (SDRS failover-server-group) and may lose data written since the last replication, up to the RPO: " +
	"pass --allow-data-loss to accept that, or use \"kubectl sdrs switchover\" for a planned failover without data loss"

// Validate refuses without --allow-data-loss (exit 2).
func (o Options) Validate() error {
	if !o.AllowDataLoss {
		return cli.Usagef(errDataLoss)
	}
	return cli.ValidateSite("--to", o.To, false)
}

// Plan sets failoverMode Forced, allowDataLoss true and desiredActiveSite
// to the site that is not active now (status.activeSite), or --to. The
// operator's CEL rule requires allowDataLoss with Forced, so both go in one
// patch.
func Plan(o Options) cli.PlanFunc {
	return func(pg *drv1alpha1.ProtectionGroup) (cli.Plan, error) {
		var p cli.Plan
		to := o.To
		if to == "" {
			if pg.Status.ActiveSite == "" {
				return p, cli.Usagef("status.activeSite is not known yet, so the site to fail over to is not either: pass --to source|target")
			}
			to = pg.Status.ActiveSite.Other()
		}
		p.SetSpec("desiredActiveSite", pg.Spec.DesiredActiveSite, to)
		p.SetSpec("failoverMode", pg.Spec.FailoverMode, drv1alpha1.FailoverForced)
		p.SetSpec("allowDataLoss", pg.Spec.AllowDataLoss, true)
		return p, nil
	}
}

// Run patches the selected groups and, with --wait, waits for them.
func Run(ctx context.Context, env *cli.Env, mo cli.MutateOptions, o Options) error {
	if err := o.Validate(); err != nil {
		return err
	}
	if err := mo.Validate(); err != nil {
		return err
	}
	return wait.Apply(ctx, env, mo, Plan(o), wait.Expect{})
}
