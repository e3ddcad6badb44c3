// Package retry implements `kubectl sdrs retry`: ask the operator to try a
// failed (Stalled) operation once more.
package retry

import (
	"context"

	drv1alpha1 "github.com/sdrs-operator/sdrs-operator/api/v1alpha1"
	"github.com/sdrs-operator/sdrs-operator/internal/plugin/cli"
	"github.com/sdrs-operator/sdrs-operator/internal/plugin/wait"
)

// Plan sets the retry annotation to token. The operator records the value
// it acted on in status.lastHandledRetry, so each token retries once.
func Plan(token string) cli.PlanFunc {
	return func(pg *drv1alpha1.ProtectionGroup) (cli.Plan, error) {
		var p cli.Plan
		p.SetAnnotation(pg, drv1alpha1.RetryAnnotation, token, false)
		return p, nil
	}
}

// Run patches the selected groups and, with --wait, waits for the retried
// operation's outcome (not the old failure).
func Run(ctx context.Context, env *cli.Env, mo cli.MutateOptions) error {
	return RunPlan(ctx, env, mo, Plan)
}

// RunPlan is Run with the plan for a fresh retry token made by planFor:
// with --wait it waits for the outcome of what that token retries.
// reprotect shares it.
func RunPlan(ctx context.Context, env *cli.Env, mo cli.MutateOptions, planFor func(token string) cli.PlanFunc) error {
	token := cli.RetryToken(env)
	return wait.Apply(ctx, env, mo, planFor(token), wait.Expect{RetryToken: token})
}
