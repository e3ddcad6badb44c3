package reprotect

import (
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
		RunE: func(cmd *cobra.Command, args []string) error {
			mo.Names = args
			if err := mo.Validate(); err != nil {
				return err
			}
			env, err := newEnv()
			if err != nil {
				return err
			}
			return Run(cmd.Context(), env, mo)
		},
	}
	mo.AddFlags(cmd)
	return cmd
}
