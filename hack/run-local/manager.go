package main

import (
	"context"
	"fmt"
	"io"
	"strconv"
	"time"

	"github.com/sdrs-operator/sdrs-operator/internal/localrun"
)

// managerReadyTimeout bounds the wait for /readyz: cache sync against a
// local API server takes seconds.
const managerReadyTimeout = 90 * time.Second

// startManager starts bin/manager against the local API server, without
// leader election (one replica) and on free local ports, and waits until
// its /readyz answers. It returns the URL of its metrics endpoint too.
func startManager(ctx context.Context, bin, kubeconfig, logFile string, extra []string, console io.Writer) (*localrun.Process, string, error) {
	metricsPort, err := localrun.FreePort("127.0.0.1")
	if err != nil {
		return nil, "", err
	}
	metricsURL := "http://127.0.0.1:" + strconv.Itoa(metricsPort) + "/metrics"
	probePort, err := localrun.FreePort("127.0.0.1")
	if err != nil {
		return nil, "", err
	}
	probe := "127.0.0.1:" + strconv.Itoa(probePort)
	args := append([]string{
		"--kubeconfig", kubeconfig,
		"--leader-elect=false",
		"--metrics-bind-address=127.0.0.1:" + strconv.Itoa(metricsPort),
		"--health-probe-bind-address=" + probe,
		"--zap-devel",
	}, extra...)
	p, err := localrun.Start(localrun.Options{
		Name:    "manager",
		Path:    bin,
		Args:    args,
		Prefix:  "[manager] ",
		Output:  console,
		LogFile: logFile,
	})
	if err != nil {
		return nil, "", err
	}
	// Stop waiting as soon as the manager dies: its log says why.
	wctx, cancel := context.WithTimeout(ctx, managerReadyTimeout)
	defer cancel()
	go func() {
		select {
		case <-p.Done():
			cancel()
		case <-wctx.Done():
		}
	}()
	if err := localrun.WaitHTTPOK(wctx, "http://"+probe+"/readyz", 250*time.Millisecond); err != nil {
		select {
		case <-p.Done():
			return p, "", fmt.Errorf("the manager exited during start (%v); see its log above or %s", p.Err(), logFile)
		default:
			return p, "", fmt.Errorf("the manager did not become ready: %w", err)
		}
	}
	return p, metricsURL, nil
}
