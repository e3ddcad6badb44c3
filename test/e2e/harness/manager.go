package harness

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/sdrs-operator/sdrs-operator/internal/localrun"
)

// ManagerOptions configure StartManager.
type ManagerOptions struct {
	// Name prefixes the log file; default "manager".
	Name string
	// Kubeconfig is the kubeconfig file the manager uses (required).
	Kubeconfig string
	// WatchNamespace limits the manager to one namespace, so managers of
	// independent scenarios can share a control plane.
	WatchNamespace string
	// LeaderElect turns leader election on, with the Lease in
	// LeaderElectionNamespace (default WatchNamespace, then "default").
	LeaderElect             bool
	LeaderElectionNamespace string
	// Lease timings; defaults 4s, 3s and 500ms keep handovers short.
	LeaseDuration, RenewDeadline, RetryPeriod time.Duration
	// StalledRecheck is --stalled-recheck-interval; default 3s.
	StalledRecheck time.Duration
	// SDRSTimeout and NotStartedGrace are --sdrs-timeout and
	// --not-started-grace; defaults 3s and 8s: a call to the local
	// emulator answers in milliseconds, and a grace that covers the
	// pessimistic profile's 2s accept lag keeps crash tests short.
	SDRSTimeout, NotStartedGrace time.Duration
	// LogLevel is --zap-log-level; default info.
	LogLevel string
	// ExtraArgs are appended last.
	ExtraArgs []string
}

// Manager is one running bin/manager process.
type Manager struct {
	Name    string
	LogPath string
	opts    ManagerOptions
	proc    *localrun.Process
}

// Log lines the manager writes (zap JSON).
var (
	// LeaderLine is logged when this process became the leader.
	LeaderLine = regexp.MustCompile(`(?i)successfully acquired lease`)
	// WorkersLine is logged when the ProtectionGroup controller runs.
	WorkersLine = regexp.MustCompile(`"msg":"Starting workers".*"controller":"protectiongroup"`)
)

// StartManager starts bin/manager. It returns once the process runs; use
// WaitReady or WaitLog to wait for leadership and the workers.
func StartManager(opts ManagerOptions) (*Manager, error) {
	if opts.Kubeconfig == "" {
		return nil, fmt.Errorf("ManagerOptions.Kubeconfig is required")
	}
	if opts.Name == "" {
		opts.Name = "manager"
	}
	if opts.LeaderElectionNamespace == "" {
		opts.LeaderElectionNamespace = opts.WatchNamespace
	}
	if opts.LeaderElectionNamespace == "" {
		opts.LeaderElectionNamespace = "default"
	}
	if opts.LeaseDuration == 0 {
		opts.LeaseDuration = 4 * time.Second
	}
	if opts.RenewDeadline == 0 {
		opts.RenewDeadline = 3 * time.Second
	}
	if opts.RetryPeriod == 0 {
		opts.RetryPeriod = 500 * time.Millisecond
	}
	if opts.StalledRecheck == 0 {
		opts.StalledRecheck = 3 * time.Second
	}
	if opts.LogLevel == "" {
		opts.LogLevel = "info"
	}
	if opts.SDRSTimeout == 0 {
		opts.SDRSTimeout = 3 * time.Second
	}
	if opts.NotStartedGrace == 0 {
		opts.NotStartedGrace = 8 * time.Second
	}
	bin, _, err := Binaries()
	if err != nil {
		return nil, err
	}
	logPath, err := uniqueLogPath(opts.Name)
	if err != nil {
		return nil, err
	}
	args := []string{
		"--kubeconfig", opts.Kubeconfig,
		"--leader-elect=" + strconv.FormatBool(opts.LeaderElect),
		"--leader-election-namespace", opts.LeaderElectionNamespace,
		"--leader-election-lease-duration", opts.LeaseDuration.String(),
		"--leader-election-renew-deadline", opts.RenewDeadline.String(),
		"--leader-election-retry-period", opts.RetryPeriod.String(),
		"--metrics-bind-address", "0",
		"--health-probe-bind-address", "0",
		"--stalled-recheck-interval", opts.StalledRecheck.String(),
		"--sdrs-timeout", opts.SDRSTimeout.String(),
		"--not-started-grace", opts.NotStartedGrace.String(),
		"--zap-log-level", opts.LogLevel,
	}
	if opts.WatchNamespace != "" {
		args = append(args, "--watch-namespace", opts.WatchNamespace)
	}
	args = append(args, opts.ExtraArgs...)
	p, err := localrun.Start(localrun.Options{Name: opts.Name, Path: bin, Args: args, LogFile: logPath})
	if err != nil {
		return nil, err
	}
	return &Manager{Name: opts.Name, LogPath: logPath, opts: opts, proc: p}, nil
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

// WaitReady waits until the ProtectionGroup controller's workers run
// (for a leader-elected manager: until it leads).
func (m *Manager) WaitReady(ctx context.Context) error {
	_, err := m.WaitLog(ctx, WorkersLine)
	return err
}

// WaitLog waits for a log line matching re, old or new, and returns its
// submatches.
func (m *Manager) WaitLog(ctx context.Context, re *regexp.Regexp) ([]string, error) {
	got, err := m.proc.Lines().Wait(ctx, re)
	if err != nil {
		return nil, fmt.Errorf("%s: waiting for log line %q (log %s): %w", m.Name, re, m.LogPath, err)
	}
	return got, nil
}

// HasLogged reports whether a line matching re was logged so far.
func (m *Manager) HasLogged(re *regexp.Regexp) bool {
	for _, l := range m.Lines() {
		if re.MatchString(l) {
			return true
		}
	}
	return false
}

// Lines returns every line the manager wrote so far, read from its log
// file (the in-memory history is bounded, the file is not).
func (m *Manager) Lines() []string {
	return ReadLines(m.LogPath)
}

// Kill sends SIGKILL to the manager's process group and waits for it.
func (m *Manager) Kill() error { return killed(m.proc.Stop(0)) }

// killed treats "was killed" as the success it is for a deliberate kill.
func killed(err error) error {
	if errors.Is(err, localrun.ErrKilled) {
		return nil
	}
	return err
}

// Stop sends SIGTERM, then SIGKILL after 10s.
func (m *Manager) Stop() error { return m.proc.Stop(10 * time.Second) }

// Signal sends sig to the manager process only (not its group), e.g.
// SIGSTOP and SIGCONT to freeze it like a paused VM or a long GC pause.
func (m *Manager) Signal(sig syscall.Signal) error { return syscall.Kill(m.proc.Pid(), sig) }

// Alive reports whether the process still runs.
func (m *Manager) Alive() bool {
	select {
	case <-m.proc.Done():
		return false
	default:
		return true
	}
}

// Done is closed when the process has exited.
func (m *Manager) Done() <-chan struct{} { return m.proc.Done() }

// Pid is the process ID.
func (m *Manager) Pid() int { return m.proc.Pid() }

// Options returns the options the manager was started with.
func (m *Manager) Options() ManagerOptions { return m.opts }

// ReadLines returns the lines of a file (nil when it cannot be read).
func ReadLines(path string) []string {
	f, err := os.Open(path)
	if err != nil {
		return nil
	}
	defer f.Close()
	var out []string
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), 16<<20)
	for sc.Scan() {
		out = append(out, sc.Text())
	}
	return out
}

// Panicked reports log lines that show a recovered or fatal panic.
func Panicked(lines []string) []string {
	var out []string
	for _, l := range lines {
		if strings.Contains(l, "Observed a panic") || strings.HasPrefix(l, "panic:") ||
			strings.Contains(l, "goroutine ") && strings.Contains(l, "[running]") {
			out = append(out, l)
		}
	}
	return out
}
