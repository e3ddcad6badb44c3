package drill

import (
	"context"
	"fmt"
	"strings"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/validation"
	"sigs.k8s.io/controller-runtime/pkg/client"

	drv1alpha1 "github.com/sdrs-operator/sdrs-operator/api/v1alpha1"
	"github.com/sdrs-operator/sdrs-operator/internal/plugin/cli"
)

// DefaultTTL is --ttl's default, the CRD's default spec.ttl. start always
// writes spec.ttl: a Go client sends a zero metav1.Duration as "0s" (the
// field is not a pointer), which the API server does not default.
const DefaultTTL = 4 * time.Hour

// StartOptions are the start flags.
type StartOptions struct {
	Group string
	// Name of the drill; empty means DefaultName.
	Name string
	// TTL is spec.ttl; zero means DefaultTTL.
	TTL     time.Duration
	VpcID   string
	DryRun  string
	Wait    bool
	Timeout time.Duration
	// PollInterval is how often --wait reads the drill; zero means the
	// wait package's default. Tests shorten it.
	PollInterval time.Duration
}

// Validate checks the flags before anything is read.
func (o StartOptions) Validate() error {
	if o.Group == "" {
		return cli.Usagef("drill start takes exactly one ProtectionGroup name")
	}
	if err := validateDryRun(o.DryRun, o.Wait); err != nil {
		return err
	}
	if o.TTL < 0 {
		return cli.Usagef("--ttl must be positive")
	}
	if o.Timeout <= 0 {
		return cli.Usagef("--timeout must be positive")
	}
	if o.Name != "" {
		if errs := validation.IsDNS1123Subdomain(o.Name); len(errs) > 0 {
			return cli.Usagef("invalid --name %q: %s", o.Name, strings.Join(errs, "; "))
		}
	}
	return nil
}

// DefaultName is <group>-drill-<UTC yyyymmdd-hhmm>: unique per minute,
// sorted by time in kubectl get, and telling when the drill was asked for.
func DefaultName(group string, now time.Time) string {
	return group + "-drill-" + now.UTC().Format("20060102-1504")
}

// Start creates a ProtectionGroupDrill for o.Group, after checking that
// the group exists and has no live drill, and with --wait waits until its
// drill servers are available.
func Start(ctx context.Context, env *cli.Env, o StartOptions) error {
	if o.DryRun == "" {
		o.DryRun = cli.DryRunNone
	}
	if o.TTL == 0 {
		o.TTL = DefaultTTL
	}
	if err := o.Validate(); err != nil {
		return err
	}
	var pg drv1alpha1.ProtectionGroup
	if err := env.Client.Get(ctx, types.NamespacedName{Namespace: env.Namespace, Name: o.Group}, &pg); err != nil {
		if apierrors.IsNotFound(err) {
			return cli.Usagef("ProtectionGroup %s/%s not found: there is nothing to drill (kubectl sdrs status -n %s lists the groups)", env.Namespace, o.Group, env.Namespace)
		}
		return fmt.Errorf("cannot get ProtectionGroup %s/%s: %w", env.Namespace, o.Group, err)
	}
	drills, err := listDrills(ctx, env, false)
	if err != nil {
		return err
	}
	if live := liveOf(drills, pg.Namespace, pg.Name); len(live) > 0 {
		return cli.Usagef("%s already has a live drill: %s; end it first: kubectl sdrs drill end %s -n %s --wait",
			cli.Ref(&pg, false), liveWords(live), live[0].Name, pg.Namespace)
	}
	for _, d := range drills {
		// A failed drill is not live, but SDRS may still hold it (status
		// error) until it is released.
		if d.Spec.ProtectionGroupRef.Name == pg.Name && d.Status.Phase == drv1alpha1.DrillFailed && !d.Spec.Release &&
			d.Status.Drill != nil && d.Status.Drill.ID != "" {
			fmt.Fprintf(env.ErrOut, "Warning: %s failed and SDRS still holds its drill %s: delete it with kubectl sdrs drill end %s -n %s\n",
				Ref(&d, false), d.Status.Drill.ID, d.Name, d.Namespace)
		}
	}
	name := o.Name
	if name == "" {
		name = DefaultName(pg.Name, env.Now())
		if errs := validation.IsDNS1123Subdomain(name); len(errs) > 0 {
			return cli.Usagef("the default drill name %q is not valid (%s): give --name", name, strings.Join(errs, "; "))
		}
	}
	d := &drv1alpha1.ProtectionGroupDrill{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: pg.Namespace},
		Spec: drv1alpha1.ProtectionGroupDrillSpec{
			ProtectionGroupRef: drv1alpha1.LocalObjectReference{Name: pg.Name},
			DrillVpcID:         o.VpcID,
			TTL:                &metav1.Duration{Duration: o.TTL},
		},
	}
	ref := Ref(d, false)
	switch o.DryRun {
	case cli.DryRunClient:
		fmt.Fprintf(env.Out, "%s would be created (dry run: client)\n", ref)
	case cli.DryRunServer:
		// The API server defaults and validates it (CEL rules included)
		// and stores nothing.
		if err := env.Client.Create(ctx, d, client.DryRunAll); err != nil {
			return createError(d, err, "the API server refused the drill (dry run)")
		}
		fmt.Fprintf(env.Out, "%s would be created (dry run: server)\n", ref)
	default:
		if err := env.Client.Create(ctx, d); err != nil {
			return createError(d, err, "cannot create the drill")
		}
		fmt.Fprintf(env.Out, "%s created\n", ref)
	}
	describe(env, d)
	if !o.Wait {
		return nil
	}
	return waitDrill(ctx, env, client.ObjectKeyFromObject(d), waitOptions{Timeout: o.Timeout, Interval: o.PollInterval}, decideStarted)
}

// createError keeps a name already taken a refusal (exit 2): the person
// picks another --name; anything else is an API error.
func createError(d *drv1alpha1.ProtectionGroupDrill, err error, what string) error {
	if apierrors.IsAlreadyExists(err) {
		return cli.Usagef("a ProtectionGroupDrill named %s already exists in %s: give another --name", d.Name, d.Namespace)
	}
	return fmt.Errorf("%s: %w", what, err)
}

// describe prints what start asked for.
func describe(env *cli.Env, d *drv1alpha1.ProtectionGroupDrill) {
	vpc := d.Spec.DrillVpcID
	if vpc == "" {
		vpc = "none given: SDRS creates one with the production VPC's CIDR and keeps it after the drill"
	}
	fmt.Fprintf(env.Out, "  group: %s\n", d.Spec.ProtectionGroupRef.Name)
	fmt.Fprintf(env.Out, "  ttl: %s after the drill servers become available\n", d.Spec.TTL.Duration)
	fmt.Fprintf(env.Out, "  drill VPC: %s\n", vpc)
	fmt.Fprintf(env.Out, "  end it early: kubectl sdrs drill end %s -n %s\n", d.Name, d.Namespace)
}

// validateDryRun checks --dry-run, as the verbs that patch a group do.
func validateDryRun(dryRun string, wait bool) error {
	switch dryRun {
	case cli.DryRunNone, cli.DryRunServer, cli.DryRunClient:
	default:
		return cli.Usagef("--dry-run must be none, server or client, not %q", dryRun)
	}
	if wait && dryRun != cli.DryRunNone {
		return cli.Usagef("--wait and --dry-run do not go together: a dry run changes nothing to wait for")
	}
	return nil
}
