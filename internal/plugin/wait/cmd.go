package wait

import (
	"time"

	"github.com/spf13/cobra"

	"github.com/sdrs-operator/sdrs-operator/internal/plugin/cli"
)

// NewCmd returns the wait verb.
func NewCmd(newEnv func() (*cli.Env, error)) *cobra.Command {
	var (
		sel     cli.Selection
		timeout time.Duration
	)
	cmd := &cobra.Command{
		Use:   "wait PG... | -l SELECTOR | --all",
		Short: "Wait until ProtectionGroups are Ready for their current generation",
		Long: `Wait until the operator has observed each group's current generation and
reports Ready=True for it, printing a line whenever the Ready reason or
message or the current operation's step changes.

Exits 0 when every group is Ready, 3 when --timeout passes first, 4 when
a group is Stalled for its current generation (a person must act; see the
message, then fix the cause, change the spec or run "kubectl sdrs retry"),
and 6 when a group is paused with a change to act on (the operator starts
nothing until "kubectl sdrs resume").

The wait follows each group's current generation, so a spec changed while
waiting is waited for. The --wait of the verbs that change a group does not:
it waits only for the generation it wrote, and exits 5 if it is replaced.`,
		Example: `  kubectl sdrs wait app1
  kubectl sdrs wait -l tier=app --timeout 45m`,
		RunE: func(cmd *cobra.Command, args []string) error {
			sel.Names = args
			if err := sel.Validate(true); err != nil {
				return err
			}
			if timeout <= 0 {
				return cli.Usagef("--timeout must be positive")
			}
			env, err := newEnv()
			if err != nil {
				return err
			}
			return Select(cmd.Context(), env, sel, Options{Timeout: timeout, AllNamespaces: sel.AllNamespaces})
		},
	}
	sel.AddFlags(cmd.Flags(), true)
	cmd.Flags().DurationVar(&timeout, "timeout", cli.DefaultTimeout, "how long to wait")
	return cmd
}
