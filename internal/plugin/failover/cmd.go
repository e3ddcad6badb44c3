package failover

import (
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
		Use:   "failover PG... | -l SELECTOR | --all --allow-data-loss [--to source|target]",
		Short: "Forced failover to the other site; may lose data up to the RPO",
		Long: `Set spec.failoverMode to Forced, spec.allowDataLoss to true and
spec.desiredActiveSite to the site that is not active now (or --to). The
operator runs SDRS failover-server-group, which works while the production
site is down, then starts the servers at the new production site and, with
protection Enabled, re-protects in the new direction.

Refused (exit 2) without --allow-data-loss. failoverMode stays Forced
afterwards; the next "kubectl sdrs switchover" sets it back to Planned.`,
		Example: `  kubectl sdrs failover app1 --allow-data-loss --wait
  kubectl sdrs failover -l site=az1 --allow-data-loss --dry-run`,
		RunE: func(cmd *cobra.Command, args []string) error {
			mo.Names, o.To = args, drv1alpha1.Site(to)
			if err := o.Validate(); err != nil {
				return err
			}
			if err := mo.Validate(); err != nil {
				return err
			}
			env, err := newEnv()
			if err != nil {
				return err
			}
			return Run(cmd.Context(), env, mo, o)
		},
	}
	mo.AddFlags(cmd)
	cmd.Flags().BoolVar(&o.AllowDataLoss, "allow-data-loss", false, "accept losing data written since the last replication (required)")
	cmd.Flags().StringVar(&to, "to", "", "the site to make active (default: the one not active now)")
	return cmd
}
