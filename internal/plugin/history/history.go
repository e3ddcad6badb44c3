// Package history implements `kubectl sdrs history`: the operations a
// group went through, newest first, from status.history.
package history

import (
	"context"
	"fmt"
	"io"
	"time"

	"k8s.io/apimachinery/pkg/types"

	drv1alpha1 "github.com/sdrs-operator/sdrs-operator/api/v1alpha1"
	"github.com/sdrs-operator/sdrs-operator/internal/plugin/cli"
)

// Options are the history flags.
type Options struct {
	Name   string
	Output string
}

// Run prints one group's history.
func Run(ctx context.Context, env *cli.Env, o Options) error {
	if err := cli.ValidateOutput(o.Output); err != nil {
		return err
	}
	var pg drv1alpha1.ProtectionGroup
	if err := env.Client.Get(ctx, types.NamespacedName{Namespace: env.Namespace, Name: o.Name}, &pg); err != nil {
		return fmt.Errorf("cannot get ProtectionGroup %s/%s: %w", env.Namespace, o.Name, err)
	}
	if o.Output != cli.OutputTable {
		return cli.PrintObject(env.Out, o.Output, Operations(&pg))
	}
	if len(Operations(&pg)) == 0 {
		fmt.Fprintf(env.ErrOut, "No operations recorded for %s.\n", cli.Ref(&pg, false))
		return nil
	}
	return Render(env.Out, &pg, env.Now())
}

// Operations is the operation in flight, if any, then status.history.
func Operations(pg *drv1alpha1.ProtectionGroup) []drv1alpha1.Operation {
	var ops []drv1alpha1.Operation
	if op := pg.Status.CurrentOperation; op != nil {
		ops = append(ops, *op)
	}
	return append(ops, pg.Status.History...)
}

// Render writes the history table. Times are absolute UTC so that they can
// be compared with SDRS job and audit logs in a post-mortem; an operation
// still running shows Running and its duration so far.
func Render(w io.Writer, pg *drv1alpha1.ProtectionGroup, now time.Time) error {
	t := cli.NewTable(w)
	cli.Row(t, "STARTED", "DURATION", "TYPE", "FROM", "TO", "RESULT", "ERROR", "MESSAGE")
	for _, op := range Operations(pg) {
		end, result := now, "Running"
		if op.FinishedAt != nil {
			end, result = op.FinishedAt.Time, string(op.Result)
		}
		cli.Row(t, op.StartedAt.UTC().Format(time.RFC3339), end.Sub(op.StartedAt.Time).Round(time.Second).String(),
			string(op.Type), string(op.From), string(op.To), result, op.ErrorCode, op.Message)
	}
	return t.Flush()
}
