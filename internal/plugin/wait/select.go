package wait

import (
	"context"
	"fmt"

	"k8s.io/apimachinery/pkg/types"
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
	keys := make([]types.NamespacedName, len(pgs))
	for i := range pgs {
		keys[i] = client.ObjectKeyFromObject(&pgs[i])
	}
	return Run(ctx, env, keys, o)
}
