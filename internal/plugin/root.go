// Package plugin assembles the kubectl-sdrs command: a cobra root with the
// usual kubeconfig flags and one subcommand per runbook verb. Each verb
// lives in its own package with a cmd.go (flags) and its logic, which takes
// a controller-runtime client so that it is testable with a fake client.
package plugin

import (
	"context"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"
	"k8s.io/cli-runtime/pkg/genericclioptions"
	"k8s.io/cli-runtime/pkg/genericiooptions"

	"github.com/sdrs-operator/sdrs-operator/internal/plugin/check"
	"github.com/sdrs-operator/sdrs-operator/internal/plugin/cli"
	"github.com/sdrs-operator/sdrs-operator/internal/plugin/drill"
	"github.com/sdrs-operator/sdrs-operator/internal/plugin/failover"
	"github.com/sdrs-operator/sdrs-operator/internal/plugin/history"
	"github.com/sdrs-operator/sdrs-operator/internal/plugin/login"
	"github.com/sdrs-operator/sdrs-operator/internal/plugin/pause"
	"github.com/sdrs-operator/sdrs-operator/internal/plugin/plan"
	"github.com/sdrs-operator/sdrs-operator/internal/plugin/reprotect"
	"github.com/sdrs-operator/sdrs-operator/internal/plugin/retry"
	"github.com/sdrs-operator/sdrs-operator/internal/plugin/status"
	"github.com/sdrs-operator/sdrs-operator/internal/plugin/switchover"
	"github.com/sdrs-operator/sdrs-operator/internal/plugin/wait"
)

// NewRootCommand returns `kubectl sdrs` with flags bound to configFlags.
// The client is built only when a verb runs, so --help and usage errors
// need no kubeconfig.
func NewRootCommand(configFlags *genericclioptions.ConfigFlags, streams genericiooptions.IOStreams) *cobra.Command {
	root := &cobra.Command{
		Use:   "kubectl-sdrs",
		Short: "Runbook verbs for SDRS ProtectionGroups",
		Long: `Runbook verbs for Huawei Cloud SDRS ProtectionGroups managed by sdrs-operator.

Every verb that changes something only merge-patches spec.desiredActiveSite,
spec.failoverMode, spec.allowDataLoss or spec.protection, or the
dr.sdrs.io/paused and dr.sdrs.io/retry annotations (plan: a DRPlan's
spec.desiredActiveSite, failoverMode, allowDataLoss or spec.decisions); the
operator does the rest. Status is never written. With Argo CD, change the same fields in Git.

Exit codes: 0 ok, 1 error, 2 usage error or refused, 3 wait timed out,
4 operation stalled or failed, 5 the spec changed again while waiting (this
command's request was replaced), 6 the group is paused (kubectl sdrs resume),
7 check: some group would run only a forced failover, 8 check: some group
would run no failover (or its readiness is unknown), 9 drill list: some
group has no passed drill within its drill interval, or none at all, 10 plan
--wait: the plan waits for an approval (kubectl sdrs plan approve).`,
		Annotations:   map[string]string{cobra.CommandDisplayNameAnnotation: "kubectl sdrs"},
		SilenceUsage:  true, // a runbook wants the error, not a page of flags
		SilenceErrors: true, // Execute prints errors once, with the exit code
	}
	configFlags.AddFlags(root.PersistentFlags())
	root.SetIn(streams.In)
	root.SetOut(streams.Out)
	root.SetErr(streams.ErrOut)
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error {
		return cli.WithCode(cli.ExitUsage, err)
	})
	newEnv := func() (*cli.Env, error) { return cli.NewEnv(configFlags, streams) }
	root.AddCommand(
		status.NewCmd(newEnv),
		switchover.NewCmd(newEnv),
		failover.NewCmd(newEnv),
		reprotect.NewCmd(newEnv),
		pause.NewPauseCmd(newEnv),
		pause.NewResumeCmd(newEnv),
		retry.NewCmd(newEnv),
		wait.NewCmd(newEnv),
		history.NewCmd(newEnv),
		login.NewCmd(newEnv),
		check.NewCmd(newEnv),
		drill.NewCmd(newEnv),
		plan.NewCmd(newEnv, plan.KubeconfigUser(configFlags)),
	)
	return root
}

// Execute runs root, prints any error to errOut and returns the exit code.
func Execute(ctx context.Context, root *cobra.Command, errOut io.Writer) int {
	err := root.ExecuteContext(ctx)
	if err == nil {
		return cli.ExitOK
	}
	fmt.Fprintf(errOut, "error: %v\n", err)
	code := cli.Code(err)
	// cobra reports an unknown verb as a plain error; it is a usage error.
	if code == cli.ExitError && strings.HasPrefix(err.Error(), "unknown command") {
		code = cli.ExitUsage
	}
	return code
}
