package cli

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/spf13/cobra"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	drv1alpha1 "github.com/sdrs-operator/sdrs-operator/api/v1alpha1"
)

// Dry-run modes, as kubectl names them.
const (
	DryRunNone   = "none"
	DryRunServer = "server"
	DryRunClient = "client"
)

// DefaultTimeout bounds --wait and the wait verb: longer than any planned
// failover with server stop and start, short enough to notice a hang.
const DefaultTimeout = 30 * time.Minute

// MutateOptions are the flags every verb that changes a group shares.
type MutateOptions struct {
	Selection
	DryRun  string
	Wait    bool
	Timeout time.Duration
	// PollInterval is how often --wait reads the groups; zero means the
	// wait package's default. Tests shorten it.
	PollInterval time.Duration
}

// AddFlags adds --dry-run, --wait, --timeout and the fleet selection.
func (o *MutateOptions) AddFlags(cmd *cobra.Command) {
	fs := cmd.Flags()
	o.Selection.AddFlags(fs, true)
	fs.StringVar(&o.DryRun, "dry-run", DryRunNone,
		`print the patch and what it would change, and patch nothing: "server" (the API server validates it, the default for a bare --dry-run) or "client" (no request)`)
	fs.Lookup("dry-run").NoOptDefVal = DryRunServer
	fs.BoolVar(&o.Wait, "wait", false, "after patching, wait until each group is Ready for the new generation (like the wait verb)")
	fs.DurationVar(&o.Timeout, "timeout", DefaultTimeout, "how long --wait waits")
}

// Validate checks the shared flags, with Names already filled from args.
func (o *MutateOptions) Validate() error {
	switch o.DryRun {
	case DryRunNone, DryRunServer, DryRunClient:
	default:
		return Usagef("--dry-run must be none, server or client, not %q", o.DryRun)
	}
	if o.Wait && o.dryRun() {
		return Usagef("--wait and --dry-run do not go together: a dry run changes nothing to wait for")
	}
	if o.Timeout <= 0 {
		return Usagef("--timeout must be positive")
	}
	return o.Selection.Validate(true)
}

func (o *MutateOptions) dryRun() bool { return o.DryRun != DryRunNone }

// PlanFunc decides what to change on one group. It returns a refusal
// (Usagef) when the verb must not act on that group.
type PlanFunc func(pg *drv1alpha1.ProtectionGroup) (Plan, error)

// Mutate plans and patches every selected group and returns the ones to
// wait for (all selected groups, changed or not, unless it was a dry run).
// One group's failure does not stop the fleet: in a DR runbook the other
// groups still need to move. The first failure's exit code is returned.
func Mutate(ctx context.Context, env *Env, o MutateOptions, plan PlanFunc) ([]types.NamespacedName, error) {
	pgs, err := Select(ctx, env, o.Selection)
	if err != nil {
		return nil, err
	}
	if len(pgs) == 0 {
		return nil, fmt.Errorf("no ProtectionGroups found %s", o.Where(env))
	}
	var (
		targets []types.NamespacedName
		failed  []error
	)
	for i := range pgs {
		pg := &pgs[i]
		if err := mutateOne(ctx, env, o, pg, plan); err != nil {
			fmt.Fprintf(env.ErrOut, "error: %s: %v\n", Ref(pg, o.AllNamespaces), err)
			failed = append(failed, err)
			continue
		}
		targets = append(targets, client.ObjectKeyFromObject(pg))
	}
	if len(failed) > 0 {
		err := fmt.Errorf("%d of %d ProtectionGroups not changed", len(failed), len(pgs))
		if len(pgs) == 1 {
			err = errors.New("ProtectionGroup not changed")
		}
		return targets, WithCode(Code(failed[0]), err)
	}
	if o.dryRun() {
		return nil, nil
	}
	return targets, nil
}

func mutateOne(ctx context.Context, env *Env, o MutateOptions, pg *drv1alpha1.ProtectionGroup, planFn PlanFunc) error {
	p, err := planFn(pg)
	if err != nil {
		return err
	}
	ref := Ref(pg, o.AllNamespaces)
	if fields := p.ChangedSpecFields(); len(fields) > 0 && ManagedByArgoCD(pg) {
		fmt.Fprintf(env.ErrOut, "Warning: %s: %s\n", ref, argoWarning(fields))
	}
	data, err := p.Patch()
	if err != nil {
		return err
	}
	patch := client.RawPatch(types.MergePatchType, data)
	switch {
	case len(p.Changes) == 0:
		fmt.Fprintf(env.Out, "%s unchanged\n", ref)
	case o.dryRun():
		if o.DryRun == DryRunServer {
			// The API server runs admission (CEL rules included) and
			// persists nothing, so a refused change shows up here.
			if err := env.Client.Patch(ctx, pg.DeepCopy(), patch, client.DryRunAll); err != nil {
				return fmt.Errorf("the API server refused the patch (dry run): %w", err)
			}
		}
		fmt.Fprintf(env.Out, "%s would be patched (dry run: %s)\n", ref, o.DryRun)
		printChanges(env, p)
		fmt.Fprintf(env.Out, "  patch: %s\n", data)
	default:
		if err := env.Client.Patch(ctx, pg, patch); err != nil {
			return fmt.Errorf("cannot patch: %w", err)
		}
		fmt.Fprintf(env.Out, "%s patched\n", ref)
		printChanges(env, p)
	}
	for _, n := range p.Notes {
		fmt.Fprintf(env.Out, "  %s\n", n)
	}
	return nil
}

func printChanges(env *Env, p Plan) {
	for _, c := range p.Changes {
		fmt.Fprintf(env.Out, "  %s: %s -> %s\n", c.Path, c.From, c.To)
	}
}
