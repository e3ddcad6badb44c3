package harness

import (
	"context"
	"testing"
	"time"

	"github.com/sdrs-operator/sdrs-operator/internal/localrun"
)

// ManagerOptions configure StartManager; Kubeconfig is required.
type ManagerOptions = localrun.ManagerOptions

// Manager is one running bin/manager process.
type Manager = localrun.Manager

// Log lines the manager writes (zap JSON).
var (
	LeaderLine  = localrun.LeaderLine
	WorkersLine = localrun.WorkersLine
)

// StartManager starts bin/manager (Binaries) with its log in RunDir. Unset
// options get the end-to-end defaults: the Lease in WatchNamespace (else
// default) with timings 4s, 3s and 500ms that keep handovers short,
// --stalled-recheck-interval 3s, --sdrs-timeout 3s and --not-started-grace
// 8s (a call to the local emulator answers in milliseconds, and a grace
// that covers the pessimistic profile's 2s accept lag keeps crash tests
// short), log level info. It returns once the process runs; use WaitReady
// or WaitLog to wait for leadership and the workers.
func StartManager(opts ManagerOptions) (*Manager, error) {
	var err error
	if opts.Bin == "" {
		if opts.Bin, _, err = Binaries(); err != nil {
			return nil, err
		}
	}
	if opts.Dir == "" && opts.LogFile == "" {
		if opts.Dir, err = RunDir(); err != nil {
			return nil, err
		}
	}
	if opts.LeaderElectionNamespace == "" {
		opts.LeaderElectionNamespace = opts.WatchNamespace
	}
	if opts.LeaderElectionNamespace == "" {
		opts.LeaderElectionNamespace = "default"
	}
	defaultDuration(&opts.LeaseDuration, 4*time.Second)
	defaultDuration(&opts.RenewDeadline, 3*time.Second)
	defaultDuration(&opts.RetryPeriod, 500*time.Millisecond)
	defaultDuration(&opts.StalledRecheck, 3*time.Second)
	defaultDuration(&opts.SDRSTimeout, 3*time.Second)
	defaultDuration(&opts.NotStartedGrace, 8*time.Second)
	if opts.LogLevel == "" {
		opts.LogLevel = "info"
	}
	return localrun.StartManager(opts)
}

func defaultDuration(d *time.Duration, def time.Duration) {
	if *d == 0 {
		*d = def
	}
}

// MustManager starts a manager, waits until its ProtectionGroup workers run
// (without leader election) or until it runs at all (with it), and stops it
// when tb ends.
func MustManager(tb testing.TB, opts ManagerOptions) *Manager {
	tb.Helper()
	m, err := StartManager(opts)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { _ = m.Stop() })
	if !opts.LeaderElect {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		if err := m.WaitReady(ctx); err != nil {
			tb.Fatal(err)
		}
	}
	return m
}
