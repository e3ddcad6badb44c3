package main

import (
	"context"
	"io"
	"time"

	"github.com/sdrs-operator/sdrs-operator/internal/localrun"
)

// managerReadyTimeout bounds the wait for /readyz: cache sync against a
// local API server takes seconds.
const managerReadyTimeout = 90 * time.Second

// startManager starts bin/manager against the local API server, without
// leader election (one replica), with its metrics and probes on free local
// ports and readable logs. It returns as soon as the process runs; the
// caller registers it for teardown and then waits with waitManager.
func startManager(bin, kubeconfig, logFile string, extra []string, console io.Writer) (*localrun.Manager, error) {
	return localrun.StartManager(localrun.ManagerOptions{
		Bin: bin, Kubeconfig: kubeconfig, LogFile: logFile, Output: console, Prefix: "[manager] ",
		ServeMetrics: true, ServeProbes: true, Devel: true, ExtraArgs: extra,
	})
}

// waitManager waits until the manager's /readyz answers, and stops waiting
// as soon as the manager dies: its log says why.
func waitManager(ctx context.Context, m *localrun.Manager) error {
	wctx, cancel := context.WithTimeout(ctx, managerReadyTimeout)
	defer cancel()
	return m.WaitHealthy(wctx)
}
