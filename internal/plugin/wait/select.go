package wait

import (
	"context"
	"fmt"

	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/sdrs-operator/sdrs-operator/internal/plugin/cli"
)

// Select waits for the groups a selection names.
func Select(ctx context.Context, env *cli.Env, sel cli.Selection, o Options) error {
	if o.Timeout <= 0 {
		return cli.Usagef("--timeout must be positive")
	}
	pgs, err := cli.Select(ctx, env, sel)
	if err != nil {
		return err
	}
	if len(pgs) == 0 {
		return fmt.Errorf("no ProtectionGroups found %s", sel.Where(env))
	}
	// No generation: the wait verb follows each group's current spec.
	targets := make([]cli.Target, len(pgs))
	for i := range pgs {
		targets[i] = cli.Target{Key: client.ObjectKeyFromObject(&pgs[i])}
	}
	return Run(ctx, env, targets, o)
}
