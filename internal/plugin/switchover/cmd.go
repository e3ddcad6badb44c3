package switchover

import (
	"context"

	"github.com/spf13/cobra"

	drv1alpha1 "github.com/sdrs-operator/sdrs-operator/api/v1alpha1"
	"github.com/sdrs-operator/sdrs-operator/internal/plugin/cli"
)

// NewCmd returns the switchover verb.
func NewCmd(newEnv func() (*cli.Env, error)) *cobra.Command {
	var (
		mo cli.MutateOptions
		o  Options
		to string
	)
	cmd := &cobra.Command{
		Use:   "switchover PG... | -l SELECTOR | --all --to source|target",
		Short: "Planned failover without data loss: make the given site active",
		Long: `Set spec.desiredActiveSite to --to and spec.failoverMode to Planned (unless
--keep-mode). The operator then stops the production servers (serverPower
Managed), runs SDRS reverse-server-group, and starts the servers at the new
production site. SDRS needs a protected, synchronised, healthy group; when
the production site is down, use failover instead.`,
		Example: `  kubectl sdrs switchover app1 --to target --wait
  kubectl sdrs switchover -l tier=web --to target --dry-run
  kubectl sdrs switchover --all -A --to source`,
	}
	cli.BindMutate(cmd, &mo, newEnv, func() error {
		o.To = drv1alpha1.Site(to)
		return o.Validate()
	}, func(ctx context.Context, env *cli.Env) error {
		return Run(ctx, env, mo, o)
	})
	cmd.Flags().StringVar(&to, "to", "", "the site to make active: source or target (required)")
	cmd.Flags().BoolVar(&o.KeepMode, "keep-mode", false, "leave spec.failoverMode as it is instead of setting Planned")
	return cmd
}
