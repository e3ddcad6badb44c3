package pause

import (
	"context"

	"github.com/spf13/cobra"

	"github.com/sdrs-operator/sdrs-operator/internal/plugin/cli"
)

// NewPauseCmd returns the pause verb.
func NewPauseCmd(newEnv func() (*cli.Env, error)) *cobra.Command {
	return newCmd(newEnv, true, &cobra.Command{
		Use:   "pause PG... | -l SELECTOR | --all",
		Short: "Stop the operator from starting new SDRS actions on the groups",
		Long: `Set the dr.sdrs.io/paused annotation to "true". The operator starts no new SDRS
action while it is set; a job already in flight is still followed to its end.
With --wait, waits until the operator reports Paused=True.`,
		Example: `  kubectl sdrs pause app1
  kubectl sdrs pause --all -A`,
	})
}

// NewResumeCmd returns the resume verb.
func NewResumeCmd(newEnv func() (*cli.Env, error)) *cobra.Command {
	return newCmd(newEnv, false, &cobra.Command{
		Use:   "resume PG... | -l SELECTOR | --all",
		Short: "Let the operator act on the groups again",
		Long: `Remove the dr.sdrs.io/paused annotation. With --wait, waits until the operator
reports Paused=False and the group is Ready.`,
		Example: `  kubectl sdrs resume app1 --wait`,
	})
}

// Pause and resume change an annotation, not the spec, so their --wait
// waits for the Paused condition rather than for a new generation.
const (
	pauseWaitUsage  = "after patching, wait until the operator reports Paused=True for each group (no new SDRS action starts from then on)"
	resumeWaitUsage = "after patching, wait until the operator reports Paused=False and each group is Ready"
)

func newCmd(newEnv func() (*cli.Env, error), paused bool, cmd *cobra.Command) *cobra.Command {
	var mo cli.MutateOptions
	cli.BindMutate(cmd, &mo, newEnv, nil, func(ctx context.Context, env *cli.Env) error {
		return Run(ctx, env, mo, paused)
	})
	wait := cmd.Flags().Lookup("wait")
	wait.Usage = resumeWaitUsage
	if paused {
		wait.Usage = pauseWaitUsage
	}
	return cmd
}
