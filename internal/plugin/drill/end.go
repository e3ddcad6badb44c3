package drill

import (
	"context"
	"fmt"
	"time"

	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	drv1alpha1 "github.com/sdrs-operator/sdrs-operator/api/v1alpha1"
	"github.com/sdrs-operator/sdrs-operator/internal/plugin/cli"
)

// releasePatch is the whole of what end sends: a merge patch of
// spec.release, never status. The CRD refuses to undo it.
const releasePatch = `{"spec":{"release":true}}`

// EndOptions are the end flags.
type EndOptions struct {
	Name         string
	DryRun       string
	Wait         bool
	Timeout      time.Duration
	PollInterval time.Duration
}

// Validate checks the flags before anything is read.
func (o EndOptions) Validate() error {
	if o.Name == "" {
		return cli.Usagef("drill end takes exactly one ProtectionGroupDrill name")
	}
	if err := validateDryRun(o.DryRun, o.Wait); err != nil {
		return err
	}
	if o.Timeout <= 0 {
		return cli.Usagef("--timeout must be positive")
	}
	return nil
}

// End asks the operator to end a drill now (spec.release: true): it
// deletes the SDRS drill and its drill servers. With --wait it waits for
// phase Released.
func End(ctx context.Context, env *cli.Env, o EndOptions) error {
	if o.DryRun == "" {
		o.DryRun = cli.DryRunNone
	}
	if err := o.Validate(); err != nil {
		return err
	}
	key := types.NamespacedName{Namespace: env.Namespace, Name: o.Name}
	var d drv1alpha1.ProtectionGroupDrill
	if err := env.Client.Get(ctx, key, &d); err != nil {
		return fmt.Errorf("cannot get ProtectionGroupDrill %s/%s: %w", key.Namespace, key.Name, err)
	}
	ref := Ref(&d, false)
	patch := client.RawPatch(types.MergePatchType, []byte(releasePatch))
	switch {
	case d.Status.Phase == drv1alpha1.DrillReleased:
		fmt.Fprintf(env.Out, "%s unchanged: already released%s\n", ref, releasedAt(&d))
	case d.Spec.Release:
		fmt.Fprintf(env.Out, "%s unchanged: spec.release is already true (phase %s)\n", ref, phaseWords(d.Status.Phase))
	case o.DryRun == cli.DryRunClient || o.DryRun == cli.DryRunServer:
		if o.DryRun == cli.DryRunServer {
			if err := env.Client.Patch(ctx, d.DeepCopy(), patch, client.DryRunAll); err != nil {
				return fmt.Errorf("the API server refused the patch (dry run): %w", err)
			}
		}
		fmt.Fprintf(env.Out, "%s would be patched (dry run: %s)\n", ref, o.DryRun)
		fmt.Fprintf(env.Out, "  spec.release: false -> true\n  patch: %s\n", releasePatch)
	default:
		if err := env.Client.Patch(ctx, &d, patch); err != nil {
			return fmt.Errorf("cannot patch: %w", err)
		}
		fmt.Fprintf(env.Out, "%s patched\n  spec.release: false -> true\n", ref)
		fmt.Fprintf(env.Out, "  the operator deletes the SDRS drill and its %s%s\n", servers(&d), vpcNote(&d))
	}
	if !o.Wait {
		return nil
	}
	return waitDrill(ctx, env, key, waitOptions{Timeout: o.Timeout, Interval: o.PollInterval}, decideEnded)
}

func servers(d *drv1alpha1.ProtectionGroupDrill) string {
	switch n := len(d.Status.Servers); n {
	case 0:
		return "drill servers"
	case 1:
		return "drill server"
	default:
		return fmt.Sprintf("%d drill servers", n)
	}
}

func releasedAt(d *drv1alpha1.ProtectionGroupDrill) string {
	if d.Status.ReleasedAt == nil {
		return ""
	}
	return " at " + d.Status.ReleasedAt.UTC().Format(time.RFC3339)
}
