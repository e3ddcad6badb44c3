// Package pause implements `kubectl sdrs pause` and `resume`: the
// dr.sdrs.io/paused annotation, which stops new SDRS actions while a job
// already in flight is still followed.
package pause

import (
	"context"

	drv1alpha1 "github.com/sdrs-operator/sdrs-operator/api/v1alpha1"
	"github.com/sdrs-operator/sdrs-operator/internal/plugin/cli"
	"github.com/sdrs-operator/sdrs-operator/internal/plugin/wait"
)

// Plan sets (pause) or removes (resume) the paused annotation. Resume
// removes it rather than writing "false", so that the object looks as
// it did before the pause.
func Plan(paused bool) cli.PlanFunc {
	return func(pg *drv1alpha1.ProtectionGroup) (cli.Plan, error) {
		var p cli.Plan
		p.SetAnnotation(pg, drv1alpha1.PausedAnnotation, "true", !paused)
		return p, nil
	}
}

// Run patches the selected groups and, with --wait, waits until the
// operator reports Paused=True (pause), or Paused=False and Ready (resume).
func Run(ctx context.Context, env *cli.Env, mo cli.MutateOptions, paused bool) error {
	exp := wait.Expect{Pause: wait.PauseOff}
	if paused {
		exp.Pause = wait.PauseOn
	}
	return wait.Apply(ctx, env, mo, Plan(paused), exp)
}
