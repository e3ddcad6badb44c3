// Package plan implements `kubectl sdrs plan`: the runbook verbs of a
// DRPlan. status only reads; failover and failback merge-patch
// spec.desiredActiveSite (with spec.failoverMode and spec.allowDataLoss
// when asked); approve, retry, skip and abort append one entry to
// spec.decisions. Nothing writes status: the plan controller runs the
// waves and reports them there, and --wait reads that.
package plan

import (
	"context"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/cli-runtime/pkg/genericclioptions"

	drv1alpha1 "github.com/sdrs-operator/sdrs-operator/api/v1alpha1"
	"github.com/sdrs-operator/sdrs-operator/internal/plugin/cli"
)

// Resource is how kubectl names the plan resource in its messages.
const Resource = "drplan.dr.sdrs.io"

// ExitWaitingForApproval is what --wait returns when the run it follows
// stops at an approval step: a person must approve it (the output names
// the command). It extends the exit codes of package cli.
const ExitWaitingForApproval = 10

// MaxDecisions is the CRD's bound on spec.decisions.
const MaxDecisions = 200

// Common are the flags every verb that changes a plan shares.
type Common struct {
	Name    string
	DryRun  string
	Wait    bool
	Timeout time.Duration
	// PollInterval is how often --wait reads the plan; zero means the
	// wait package's default. Tests shorten it.
	PollInterval time.Duration
}

// validate checks the shared flags, as the verbs that patch a group do.
func (o *Common) validate(verb string) error {
	if o.Name == "" {
		return cli.Usagef("plan %s takes exactly one DRPlan name", verb)
	}
	if o.DryRun == "" {
		o.DryRun = cli.DryRunNone
	}
	switch o.DryRun {
	case cli.DryRunNone, cli.DryRunServer, cli.DryRunClient:
	default:
		return cli.Usagef("--dry-run must be none, server or client, not %q", o.DryRun)
	}
	if o.Wait && o.DryRun != cli.DryRunNone {
		return cli.Usagef("--wait and --dry-run do not go together: a dry run changes nothing to wait for")
	}
	if o.Timeout <= 0 {
		return cli.Usagef("--timeout must be positive")
	}
	return nil
}

func (o *Common) dryRun() bool { return o.DryRun != cli.DryRunNone }

// Ref names a plan the way kubectl prints it.
func Ref(name string) string { return Resource + "/" + name }

// getPlan reads the plan; a missing plan is an error (exit 1), as a
// missing group is for the other verbs.
func getPlan(ctx context.Context, env *cli.Env, name string) (*drv1alpha1.DRPlan, error) {
	var p drv1alpha1.DRPlan
	if err := env.Client.Get(ctx, types.NamespacedName{Namespace: env.Namespace, Name: name}, &p); err != nil {
		return nil, fmt.Errorf("cannot get DRPlan %s/%s: %w", env.Namespace, name, err)
	}
	return &p, nil
}

// managedByArgoCD reports whether Argo CD tracks the plan, as
// cli.ManagedByArgoCD does for groups.
func managedByArgoCD(p *drv1alpha1.DRPlan) bool {
	if _, ok := p.GetAnnotations()["argocd.argoproj.io/tracking-id"]; ok {
		return true
	}
	l := p.GetLabels()
	_, std := l["app.kubernetes.io/instance"]
	_, argo := l["argocd.argoproj.io/instance"]
	return std || argo
}

// current returns the condition of type t if it was set for generation gen.
func current(conds []metav1.Condition, t string, gen int64) *metav1.Condition {
	c := meta.FindStatusCondition(conds, t)
	if c == nil || c.ObservedGeneration != gen {
		return nil
	}
	return c
}

// trueCondition returns the condition of type t when it is True, whatever
// generation it was set for.
func trueCondition(p *drv1alpha1.DRPlan, t string) *metav1.Condition {
	c := meta.FindStatusCondition(p.Status.Conditions, t)
	if c == nil || c.Status != metav1.ConditionTrue {
		return nil
	}
	return c
}

var (
	runPattern  = regexp.MustCompile(`^r-[0-9]{4,}$`)
	namePattern = `[a-z0-9]([-a-z0-9]*[a-z0-9])?`
	stepPattern = regexp.MustCompile(`^` + namePattern + `/` + namePattern + `$`)
)

// runNumber is the number of a run id (r-0003 is 3), -1 if it has none.
func runNumber(id string) int {
	n, err := strconv.Atoi(strings.TrimPrefix(id, "r-"))
	if err != nil || !strings.HasPrefix(id, "r-") {
		return -1
	}
	return n
}

// stepRef is <wave>/<step>, as decisions name steps.
func stepRef(wave, step string) string { return wave + "/" + step }

// approveCommand is the command that approves step of plan p.
func approveCommand(p *drv1alpha1.DRPlan, step string) string {
	return fmt.Sprintf("kubectl sdrs plan approve %s --step %s -n %s", p.Name, step, p.Namespace)
}

// KubeconfigUser returns a function naming the user the kubeconfig
// flags connect as (--as, else --user, else the context's user), or ""
// when it cannot tell. The decision verbs put it in their default note.
func KubeconfigUser(flags *genericclioptions.ConfigFlags) func() string {
	return func() string {
		if flags.Impersonate != nil && *flags.Impersonate != "" {
			return *flags.Impersonate
		}
		if flags.AuthInfoName != nil && *flags.AuthInfoName != "" {
			return *flags.AuthInfoName
		}
		raw, err := flags.ToRawKubeConfigLoader().RawConfig()
		if err != nil {
			return ""
		}
		name := raw.CurrentContext
		if flags.Context != nil && *flags.Context != "" {
			name = *flags.Context
		}
		if c, ok := raw.Contexts[name]; ok && c != nil {
			return c.AuthInfo
		}
		return ""
	}
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
