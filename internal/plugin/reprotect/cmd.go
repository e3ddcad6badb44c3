package reprotect

import (
	"context"

	"github.com/spf13/cobra"

	"github.com/sdrs-operator/sdrs-operator/internal/plugin/cli"
)

// NewCmd returns the reprotect verb.
func NewCmd(newEnv func() (*cli.Env, error)) *cobra.Command {
	var mo cli.MutateOptions
	cmd := &cobra.Command{
		Use:   "reprotect PG... | -l SELECTOR | --all",
		Short: "Make replication run again (protection Enabled, or retry a stalled re-protect)",
		Long: `Set spec.protection to Enabled when it is Disabled. When it is already
Enabled (the operator re-protects by itself after a forced failover), set the
dr.sdrs.io/retry annotation instead, so that a re-protect that stalled on a
failed SDRS job is tried once more.`,
		Example: `  kubectl sdrs reprotect app1 --wait`,
	}
	cli.BindMutate(cmd, &mo, newEnv, nil, func(ctx context.Context, env *cli.Env) error {
		return Run(ctx, env, mo)
	})
	return cmd
}
