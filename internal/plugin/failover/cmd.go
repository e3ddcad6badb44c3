package failover

import (
	"context"

	"github.com/spf13/cobra"

	drv1alpha1 "github.com/sdrs-operator/sdrs-operator/api/v1alpha1"
	"github.com/sdrs-operator/sdrs-operator/internal/plugin/cli"
)

// NewCmd returns the failover verb.
func NewCmd(newEnv func() (*cli.Env, error)) *cobra.Command {
	var (
		mo cli.MutateOptions
		o  Options
		to string
	)
	cmd := &cobra.Command{
		Use:   "failover PG... | -l SELECTOR | --all --to source|target --allow-data-loss",
		Short: "Forced failover to the named site; may lose data up to the RPO",
		Long: `Set spec.desiredActiveSite to --to, with spec.failoverMode Forced and
spec.allowDataLoss true for this move only. The operator runs SDRS
failover-server-group, which works while the production site is down, then
starts the servers at the new production site and, with protection
Enabled, re-protects in the new direction.

--to is required, so the command is safe to run twice: a group already
active at --to (and desired there) is left alone. Refused (exit 2) without
--allow-data-loss.

The Forced mode is for this move only: left behind, it would make the next
change of desiredActiveSite another forced failover. With --wait, once the
group is Ready at --to, the command puts back the mode (and allowDataLoss)
it had before; if the wait ends otherwise (timeout, stall, Ctrl-C), it
prints the kubectl patch that does it. Without --wait it prints that patch
at once: run it when the group is Ready at --to.`,
		Example: `  kubectl sdrs failover app1 --to target --allow-data-loss --wait
  kubectl sdrs failover -l tier=app --to target --allow-data-loss --dry-run`,
	}
	cli.BindMutate(cmd, &mo, newEnv, func() error {
		o.To = drv1alpha1.Site(to)
		return o.Validate()
	}, func(ctx context.Context, env *cli.Env) error {
		return Run(ctx, env, mo, o)
	})
	cmd.Flags().BoolVar(&o.AllowDataLoss, "allow-data-loss", false, "accept losing data written since the last replication (required)")
	cmd.Flags().StringVar(&to, "to", "", "the site to fail over to: source or target (required)")
	return cmd
}
