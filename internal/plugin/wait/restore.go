package wait

import (
	"context"
	"fmt"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	drv1alpha1 "github.com/sdrs-operator/sdrs-operator/api/v1alpha1"
	"github.com/sdrs-operator/sdrs-operator/internal/plugin/cli"
)

// restoreAttempts bounds the conflicts restore retries: the operator
// writes status often, and each write changes the resourceVersion.
const restoreAttempts = 5

// restore puts back what the verb set for its move only (failover's Forced
// mode), now that pg is Ready at the site asked for. It patches only the
// spec the verb wrote (same generation), with the resourceVersion as a
// precondition, so a change someone made in the meantime is never
// overwritten: then it fails, and Run prints the patch for a person.
func restore(ctx context.Context, env *cli.Env, t cli.Target, pg *drv1alpha1.ProtectionGroup, o Options) error {
	for attempt := 1; ; attempt++ {
		if pg.Generation != t.Generation {
			return fmt.Errorf("the spec changed (generation %d, this command wrote %d) before %s could be put back",
				pg.Generation, t.Generation, t.Restore.Words())
		}
		data, err := t.Restore.Patch(pg.ResourceVersion)
		if err != nil {
			return err
		}
		err = env.Client.Patch(ctx, pg, client.RawPatch(types.MergePatchType, data))
		if err == nil {
			fmt.Fprintf(env.Out, "%s patched: the move is done, so what was set for it only is put back\n", cli.Ref(pg, o.AllNamespaces))
			for _, c := range t.Restore.Changes {
				fmt.Fprintf(env.Out, "  %s: %s -> %s\n", c.Path, c.From, c.To)
			}
			return nil
		}
		if !apierrors.IsConflict(err) || attempt == restoreAttempts {
			return fmt.Errorf("cannot put back %s: %w", t.Restore.Words(), err)
		}
		if err := env.Client.Get(ctx, t.Key, pg); err != nil {
			return fmt.Errorf("cannot read the group to put back %s: %w", t.Restore.Words(), err)
		}
	}
}
