// Package switchover implements `kubectl sdrs switchover`: a planned
// failover (SDRS reverse-server-group) without data loss.
package switchover

import (
	"context"

	drv1alpha1 "github.com/sdrs-operator/sdrs-operator/api/v1alpha1"
	"github.com/sdrs-operator/sdrs-operator/internal/plugin/cli"
	"github.com/sdrs-operator/sdrs-operator/internal/plugin/wait"
)

// Options are the switchover-specific flags.
type Options struct {
	To drv1alpha1.Site
	// KeepMode leaves spec.failoverMode alone, e.g. to keep Auto.
	KeepMode bool
}

// Validate checks --to.
func (o Options) Validate() error {
	return cli.ValidateSite("--to", o.To, true)
}

// Plan sets desiredActiveSite and, unless KeepMode, failoverMode Planned:
// a switchover must never turn into a forced failover because an earlier
// failover left the mode Forced.
func Plan(o Options) cli.PlanFunc {
	return func(pg *drv1alpha1.ProtectionGroup) (cli.Plan, error) {
		var p cli.Plan
		p.SetDesiredSite(pg, o.To)
		if !o.KeepMode {
			p.SetSpec("failoverMode", pg.Spec.FailoverMode, drv1alpha1.FailoverPlanned)
		}
		return p, nil
	}
}

// Run patches the selected groups and, with --wait, waits for them.
func Run(ctx context.Context, env *cli.Env, mo cli.MutateOptions, o Options) error {
	if err := o.Validate(); err != nil {
		return err
	}
	return wait.Apply(ctx, env, mo, Plan(o), wait.Expect{})
}
