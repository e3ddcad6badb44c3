package retry

import (
	"context"

	"github.com/spf13/cobra"

	"github.com/sdrs-operator/sdrs-operator/internal/plugin/cli"
)

// NewCmd returns the retry verb.
func NewCmd(newEnv func() (*cli.Env, error)) *cobra.Command {
	var mo cli.MutateOptions
	cmd := &cobra.Command{
		Use:   "retry PG... | -l SELECTOR | --all",
		Short: "Retry an operation that stalled on a failed SDRS job, once",
		Long: `Set the dr.sdrs.io/retry annotation to the current time. The operator does not
repeat a failed SDRS job for the same spec by itself (no retry storms); a new
annotation value lets it try exactly once more. With --wait, waits for the
outcome of that new attempt.`,
		Example: `  kubectl sdrs retry app1 --wait`,
	}
	cli.BindMutate(cmd, &mo, newEnv, nil, func(ctx context.Context, env *cli.Env) error {
		return Run(ctx, env, mo)
	})
	return cmd
}
