// Command kubectl-sdrs is the kubectl plugin for sdrs-operator: put it on
// PATH and run `kubectl sdrs`. It is only the cobra root with the usual
// kubeconfig flags; the verbs live in internal/plugin.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"k8s.io/cli-runtime/pkg/genericclioptions"
	"k8s.io/cli-runtime/pkg/genericiooptions"

	"github.com/sdrs-operator/sdrs-operator/internal/plugin"
)

func main() {
	streams := genericiooptions.IOStreams{In: os.Stdin, Out: os.Stdout, ErrOut: os.Stderr}
	root := plugin.NewRootCommand(genericclioptions.NewConfigFlags(true), streams)
	// Ctrl-C stops a wait cleanly (exit 1); the patch already sent stays.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := plugin.Execute(ctx, root, os.Stderr)
	stop()
	os.Exit(code)
}
