package clitest

import (
	"context"
	"io"
	"sync"

	"github.com/spf13/cobra"
	"sigs.k8s.io/controller-runtime/pkg/client"

	drv1alpha1 "github.com/sdrs-operator/sdrs-operator/api/v1alpha1"
	"github.com/sdrs-operator/sdrs-operator/internal/plugin/cli"
)

// Run builds a verb's command around e and runs it with args, so that a
// test covers flag parsing and validation as a user meets them.
func (e *Env) Run(newCmd func(func() (*cli.Env, error)) *cobra.Command, args ...string) error {
	cmd := newCmd(func() (*cli.Env, error) { return e.Env, nil })
	cmd.SetArgs(args)
	cmd.SetOut(e.Out)
	cmd.SetErr(io.Discard)
	cmd.SilenceUsage, cmd.SilenceErrors = true, true
	cmd.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return cli.WithCode(cli.ExitUsage, err) })
	return cmd.ExecuteContext(context.Background())
}

// Script makes the n-th Get of a ProtectionGroup (counting from 0) return
// the stored object changed by steps[n], or by the last step once the steps
// run out. It stands in for the operator in wait tests without timing.
func Script(steps ...func(*drv1alpha1.ProtectionGroup)) Option {
	var (
		mu sync.Mutex
		n  = map[client.ObjectKey]int{}
	)
	return WithGet(func(ctx context.Context, c client.WithWatch, key client.ObjectKey, obj client.Object, opts ...client.GetOption) error {
		if err := c.Get(ctx, key, obj, opts...); err != nil {
			return err
		}
		pg, ok := obj.(*drv1alpha1.ProtectionGroup)
		if !ok || len(steps) == 0 {
			return nil
		}
		mu.Lock()
		i := min(n[key], len(steps)-1)
		n[key]++
		mu.Unlock()
		steps[i](pg)
		return nil
	})
}
