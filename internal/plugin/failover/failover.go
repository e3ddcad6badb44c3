// Package failover implements `kubectl sdrs failover`: a forced failover
// (SDRS failover-server-group) that may lose data up to the RPO.
package failover

import (
	"context"
	"fmt"

	drv1alpha1 "github.com/sdrs-operator/sdrs-operator/api/v1alpha1"
	"github.com/sdrs-operator/sdrs-operator/internal/plugin/cli"
	"github.com/sdrs-operator/sdrs-operator/internal/plugin/wait"
)

// Options are the failover-specific flags.
type Options struct {
	AllowDataLoss bool
	// To is the site to make active. It is required: "the other site"
	// would flip the group back when the same command is run twice.
	To drv1alpha1.Site
}

// errDataLoss is the refusal without --allow-data-loss. A forced failover
// is the one verb that can lose data, so it never runs by default.
const errDataLoss = "failover is forced (SDRS failover-server-group) and may lose data written since the last replication, up to the RPO: " +
	"pass --allow-data-loss to accept that, or use \"kubectl sdrs switchover\" for a planned failover without data loss"

// Validate refuses without --allow-data-loss or --to (exit 2).
func (o Options) Validate() error {
	if !o.AllowDataLoss {
		return cli.Usagef(errDataLoss)
	}
	if o.To == "" {
		return cli.Usagef("--to is required: the site to fail over to, source or target (kubectl sdrs status shows the active one). " +
			"Naming it makes the command safe to run twice: a second run finds the group there and changes nothing")
	}
	return cli.ValidateSite("--to", o.To, true)
}

// Plan makes --to the active site with failoverMode Forced and
// allowDataLoss true, the mode for this move only: once the group is
// active there, --wait puts the previous mode back (Restore). The
// operator's CEL rule requires allowDataLoss with Forced, so both go in
// one patch. A group already active and desired at --to is left alone,
// mode included, so that running the command again changes nothing.
func Plan(o Options) cli.PlanFunc {
	return func(pg *drv1alpha1.ProtectionGroup) (cli.Plan, error) {
		var p cli.Plan
		p.Site = o.To
		if pg.Status.ActiveSite == o.To && pg.Spec.DesiredActiveSite == o.To {
			p.Notes = append(p.Notes, fmt.Sprintf("already active at %s: nothing to fail over", o.To))
			return p, nil
		}
		p.SetDesiredSite(pg, o.To)
		p.SetSpecForMove("failoverMode", pg.Spec.FailoverMode, drv1alpha1.FailoverForced)
		p.SetSpecForMove("allowDataLoss", pg.Spec.AllowDataLoss, true)
		return p, nil
	}
}

// Run patches the selected groups and, with --wait, waits for them and
// then puts their failover mode back.
func Run(ctx context.Context, env *cli.Env, mo cli.MutateOptions, o Options) error {
	if err := o.Validate(); err != nil {
		return err
	}
	return wait.Apply(ctx, env, mo, Plan(o), wait.Expect{})
}
