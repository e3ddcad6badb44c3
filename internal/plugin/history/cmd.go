package history

import (
	"github.com/spf13/cobra"

	"github.com/sdrs-operator/sdrs-operator/internal/plugin/cli"
)

// NewCmd returns the history verb.
func NewCmd(newEnv func() (*cli.Env, error)) *cobra.Command {
	var o Options
	cmd := &cobra.Command{
		Use:   "history PG",
		Short: "Show the operations a ProtectionGroup went through, newest first",
		Long: `Show the operation in flight (RESULT Running), then status.history, newest
first (the operator keeps the last 20): when each started, how long it took,
its type, the sites it moved between, its result, and for failures the SDRS
or ECS error code and message.`,
		Example: `  kubectl sdrs history app1
  kubectl sdrs history app1 -o json`,
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) != 1 {
				return cli.Usagef("history takes exactly one ProtectionGroup name")
			}
			o.Name = args[0]
			if err := cli.ValidateOutput(o.Output); err != nil {
				return err
			}
			env, err := newEnv()
			if err != nil {
				return err
			}
			return Run(cmd.Context(), env, o)
		},
	}
	cmd.Flags().StringVarP(&o.Output, "output", "o", "", "json or yaml instead of the table")
	return cmd
}
