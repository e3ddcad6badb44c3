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
	fs.BoolVar(&o.Wait, "wait", false, "after patching, wait until each group is Ready for the generation this command wrote (at the site it asked for, if any); exit 5 if the spec changes again meanwhile, 6 if the group is paused")
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

// BindMutate adds the shared flags to cmd and sets its RunE, the same for
// every verb that changes a group: take the group names from args, check
// the verb's own flags (check, nil when it has none) and then the shared
// ones, connect, and call run.
func BindMutate(cmd *cobra.Command, mo *MutateOptions, newEnv func() (*Env, error),
	check func() error, run func(ctx context.Context, env *Env) error) {
	cmd.RunE = func(cmd *cobra.Command, args []string) error {
		mo.Names = args
		if check != nil {
			if err := check(); err != nil {
				return err
			}
		}
		if err := mo.Validate(); err != nil {
			return err
		}
		env, err := newEnv()
		if err != nil {
			return err
		}
		return run(cmd.Context(), env)
	}
	mo.AddFlags(cmd)
}

// PlanFunc decides what to change on one group. It returns a refusal
// (Usagef) when the verb must not act on that group.
type PlanFunc func(pg *drv1alpha1.ProtectionGroup) (Plan, error)

// Target is a group a verb changed, or found already as asked, and what
// its --wait has to see there.
type Target struct {
	Key types.NamespacedName
	// Generation is the group's generation with the verb's change in it.
	// A newer one means someone changed the spec again while waiting.
	Generation int64
	// Site is the active site the verb asked for, "" if it moves nothing.
	Site drv1alpha1.Site
	// Restore is what to put back once the group is active at Site.
	Restore *Restore
}

// Mutate plans and patches every selected group and returns the ones to
// wait for (all selected groups, changed or not, unless it was a dry run).
// One group's failure does not stop the fleet: in a DR runbook the other
// groups still need to move. The first failure's exit code is returned.
func Mutate(ctx context.Context, env *Env, o MutateOptions, plan PlanFunc) ([]Target, error) {
	pgs, err := Select(ctx, env, o.Selection)
	if err != nil {
		return nil, err
	}
	if len(pgs) == 0 {
		return nil, fmt.Errorf("no ProtectionGroups found %s", o.Where(env))
	}
	var (
		targets []Target
		failed  []error
	)
	for i := range pgs {
		pg := &pgs[i]
		t, err := mutateOne(ctx, env, o, pg, plan)
		if err != nil {
			fmt.Fprintf(env.ErrOut, "error: %s: %v\n", Ref(pg, o.AllNamespaces), err)
			failed = append(failed, err)
			continue
		}
		targets = append(targets, t)
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

func mutateOne(ctx context.Context, env *Env, o MutateOptions, pg *drv1alpha1.ProtectionGroup, planFn PlanFunc) (Target, error) {
	p, err := planFn(pg)
	if err != nil {
		return Target{}, err
	}
	ref := Ref(pg, o.AllNamespaces)
	for _, w := range warnings(pg, &p) {
		fmt.Fprintf(env.ErrOut, "Warning: %s: %s\n", ref, w)
	}
	data, err := p.Patch()
	if err != nil {
		return Target{}, err
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
				return Target{}, fmt.Errorf("the API server refused the patch (dry run): %w", err)
			}
		}
		fmt.Fprintf(env.Out, "%s would be patched (dry run: %s)\n", ref, o.DryRun)
		printChanges(env, p)
		fmt.Fprintf(env.Out, "  patch: %s\n", data)
	default:
		// The answer is the object with our change: its generation is
		// the one --wait waits for.
		if err := env.Client.Patch(ctx, pg, patch); err != nil {
			return Target{}, fmt.Errorf("cannot patch: %w", err)
		}
		fmt.Fprintf(env.Out, "%s patched\n", ref)
		printChanges(env, p)
	}
	for _, n := range p.Notes {
		fmt.Fprintf(env.Out, "  %s\n", n)
	}
	if len(p.Changes) == 0 {
		p.Restore = nil // nothing was changed, so nothing is put back
	}
	if p.Restore != nil {
		printRestoreNote(env, o, pg, p)
	}
	return Target{Key: client.ObjectKeyFromObject(pg), Generation: pg.Generation, Site: p.Site, Restore: p.Restore}, nil
}

// warnings are what a person should know before a change lands: Argo CD
// reverting it, an operation already in flight (perhaps someone else's
// runbook), or a pause that keeps the operator from acting on it.
func warnings(pg *drv1alpha1.ProtectionGroup, p *Plan) []string {
	var out []string
	fields := p.ChangedSpecFields()
	if len(fields) > 0 && ManagedByArgoCD(pg) {
		out = append(out, argoWarning(fields))
	}
	if op := pg.Status.CurrentOperation; op != nil && len(fields) > 0 {
		started := ""
		if !op.StartedAt.IsZero() {
			started = ", started " + op.StartedAt.UTC().Format(time.RFC3339)
		}
		out = append(out, fmt.Sprintf("an operation is in flight: %s%s; the operator finishes it before it acts on this change. If it is someone else's, agree with them first (kubectl sdrs status %s -n %s)",
			DescribeOperation(op), started, pg.Name, pg.Namespace))
	}
	if pg.IsPaused() && len(p.Changes) > 0 && !p.changesAnnotation(drv1alpha1.PausedAnnotation) {
		out = append(out, fmt.Sprintf("paused (annotation %s=\"true\"): the operator starts no SDRS action for this change until the group is resumed: %s",
			drv1alpha1.PausedAnnotation, ResumeCommand(pg)))
	}
	return out
}

// printRestoreNote says how a field set for this move only goes back.
func printRestoreNote(env *Env, o MutateOptions, pg *drv1alpha1.ProtectionGroup, p Plan) {
	if o.dryRun() {
		fmt.Fprintf(env.Out, "  for this move only: once %s is Ready at %s, --wait would put back %s\n", pg.Name, p.Site, p.Restore.Words())
		return
	}
	if o.Wait {
		fmt.Fprintf(env.Out, "  for this move only: once %s is Ready at %s, --wait puts back %s\n", pg.Name, p.Site, p.Restore.Words())
		return
	}
	fmt.Fprintf(env.Out, "  for this move only, but without --wait nothing puts it back, and the next change of desiredActiveSite would be forced too.\n"+
		"  Once %s is Ready at %s (kubectl sdrs wait %s -n %s), put back %s:\n    %s\n",
		pg.Name, p.Site, pg.Name, pg.Namespace, p.Restore.Words(), p.Restore.Command(pg))
}

func printChanges(env *Env, p Plan) {
	for _, c := range p.Changes {
		fmt.Fprintf(env.Out, "  %s: %s -> %s\n", c.Path, c.From, c.To)
	}
}
