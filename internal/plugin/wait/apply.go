package wait

import (
	"context"

	"github.com/sdrs-operator/sdrs-operator/internal/plugin/cli"
)

// Apply is what every verb that changes a group does: patch each selected
// group, then, with --wait, wait for them like the wait verb. It lives here
// rather than in cli so that cli stays free of the waiting logic.
func Apply(ctx context.Context, env *cli.Env, mo cli.MutateOptions, plan cli.PlanFunc, exp Expect) error {
	keys, err := cli.Mutate(ctx, env, mo, plan)
	if err != nil || !mo.Wait {
		return err
	}
	return Run(ctx, env, keys, Options{Timeout: mo.Timeout, Interval: mo.PollInterval, Expect: exp, AllNamespaces: mo.AllNamespaces})
}
