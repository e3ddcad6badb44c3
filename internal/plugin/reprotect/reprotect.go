// Package reprotect implements `kubectl sdrs reprotect`: make sure
// replication runs again, typically after a forced failover.
package reprotect

import (
	"context"
	"fmt"

	drv1alpha1 "github.com/sdrs-operator/sdrs-operator/api/v1alpha1"
	"github.com/sdrs-operator/sdrs-operator/internal/plugin/cli"
	"github.com/sdrs-operator/sdrs-operator/internal/plugin/retry"
)

// Plan enables protection when it is Disabled. When it already is Enabled
// the operator re-protects by itself, so the only useful thing left is to
// retry a re-protect that stalled: set the retry annotation to token.
func Plan(token string) cli.PlanFunc {
	retryPlan := retry.Plan(token)
	return func(pg *drv1alpha1.ProtectionGroup) (cli.Plan, error) {
		if pg.Spec.Protection == drv1alpha1.ProtectionDisabled {
			var p cli.Plan
			p.SetSpec("protection", pg.Spec.Protection, drv1alpha1.ProtectionEnabled)
			return p, nil
		}
		p, err := retryPlan(pg)
		p.Notes = append(p.Notes, fmt.Sprintf(
			"protection is already Enabled: set %s so that the operator retries a stalled re-protect", drv1alpha1.RetryAnnotation))
		return p, err
	}
}

// Run patches the selected groups and, with --wait, waits for them.
func Run(ctx context.Context, env *cli.Env, mo cli.MutateOptions) error {
	return retry.RunPlan(ctx, env, mo, Plan)
}
