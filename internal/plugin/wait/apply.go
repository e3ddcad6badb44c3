package wait

import (
	"context"
	"fmt"

	"github.com/sdrs-operator/sdrs-operator/internal/plugin/cli"
)

// Apply is what every verb that changes a group does: patch each selected
// group, then, with --wait, wait for the generation it wrote (and the site
// it asked for) to be Ready. It lives here rather than in cli so that cli
// stays free of the waiting logic. It checks mo first, so that a verb's
// Run refuses bad flags even when it is called without its command.
func Apply(ctx context.Context, env *cli.Env, mo cli.MutateOptions, plan cli.PlanFunc, exp Expect) error {
	if err := mo.Validate(); err != nil {
		return err
	}
	targets, err := cli.Mutate(ctx, env, mo, plan)
	if !mo.Wait || len(targets) == 0 {
		return err
	}
	// Groups that were patched are waited for even when others were
	// refused: they are moving, and what they set for the move only is
	// put back (or its patch printed) at the end of the wait.
	werr := Run(ctx, env, targets, Options{Timeout: mo.Timeout, Interval: mo.PollInterval, Expect: exp, AllNamespaces: mo.AllNamespaces})
	if err == nil {
		return werr
	}
	if werr != nil {
		fmt.Fprintf(env.ErrOut, "error: %v\n", werr)
	}
	return err // the refusal or error of the groups not changed comes first
}
