package localrun

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// ManagerOptions configure StartManager. Bin, Kubeconfig and one of Dir and
// LogFile are required. A zero field passes no flag, so the manager's own
// default applies; callers set what they need.
type ManagerOptions struct {
	// Bin is the manager binary; Kubeconfig the kubeconfig file it uses.
	Bin, Kubeconfig string
	// Name names the process and its log file; default "manager".
	Name string
	// Dir receives a fresh log file (Name-*.log) unless LogFile is set.
	Dir, LogFile string
	// Output receives the output lines, each prefixed with Prefix.
	Output io.Writer
	Prefix string
	// WatchNamespace limits the manager to one namespace, so managers of
	// independent scenarios can share a control plane.
	WatchNamespace string
	// AllNamespaces keeps a stack's manager watching every namespace, as
	// the default deployment does (Stack.StartManager otherwise limits it
	// to the stack's namespace).
	AllNamespaces bool
	// LeaderElect is --leader-elect (always passed).
	LeaderElect bool
	// LeaderElectionNamespace and the lease timings.
	LeaderElectionNamespace                   string
	LeaseDuration, RenewDeadline, RetryPeriod time.Duration
	// StalledRecheck is --stalled-recheck-interval.
	StalledRecheck time.Duration
	// SDRSTimeout and NotStartedGrace are --sdrs-timeout and
	// --not-started-grace.
	SDRSTimeout, NotStartedGrace time.Duration
	// ServeMetrics, ServeProbes and ServePprof bind the metrics, health
	// probe and pprof endpoints to free ports on 127.0.0.1 (MetricsURL,
	// ProbeAddr and PprofURL say where); otherwise metrics and probes are
	// off ("0") and pprof is not served.
	ServeMetrics, ServeProbes, ServePprof bool
	// LogLevel is --zap-log-level; Devel is --zap-devel (readable text).
	LogLevel string
	Devel    bool
	// ExtraArgs are appended last, so they win over the flags above.
	ExtraArgs []string
}

// Manager is one running manager process.
type Manager struct {
	Name    string
	LogPath string
	// MetricsURL (…/metrics), ProbeAddr (host:port of /readyz) and
	// PprofURL (…/debug/pprof/profile) are set when served.
	MetricsURL, ProbeAddr, PprofURL string
	opts                            ManagerOptions
	proc                            *Process
}

// Log lines the manager writes (zap JSON).
var (
	// LeaderLine is logged when this process became the leader.
	LeaderLine = regexp.MustCompile(`(?i)successfully acquired lease`)
	// WorkersLine is logged when the ProtectionGroup controller runs.
	WorkersLine = regexp.MustCompile(`"msg":"Starting workers".*"controller":"protectiongroup"`)
)

// StartManager starts the manager. It returns once the process runs; use
// WaitHealthy (with ServeProbes), WaitReady or WaitLog to wait for more.
func StartManager(opts ManagerOptions) (*Manager, error) {
	if opts.Bin == "" || opts.Kubeconfig == "" {
		return nil, fmt.Errorf("ManagerOptions.Bin and Kubeconfig are required")
	}
	if opts.Name == "" {
		opts.Name = "manager"
	}
	m := &Manager{Name: opts.Name, LogPath: opts.LogFile, opts: opts}
	if m.LogPath == "" {
		if opts.Dir == "" {
			return nil, fmt.Errorf("ManagerOptions needs Dir or LogFile")
		}
		var err error
		if m.LogPath, err = UniqueLogFile(opts.Dir, opts.Name); err != nil {
			return nil, err
		}
	}
	freeAddr := func() (string, error) {
		port, err := FreePort("127.0.0.1")
		return "127.0.0.1:" + strconv.Itoa(port), err
	}
	args := []string{"--kubeconfig", opts.Kubeconfig, "--leader-elect=" + strconv.FormatBool(opts.LeaderElect)}
	flag := func(name, value string) { args = append(args, "--"+name+"="+value) }
	dur := func(name string, d time.Duration) {
		if d != 0 {
			flag(name, d.String())
		}
	}
	if opts.LeaderElectionNamespace != "" {
		flag("leader-election-namespace", opts.LeaderElectionNamespace)
	}
	dur("leader-election-lease-duration", opts.LeaseDuration)
	dur("leader-election-renew-deadline", opts.RenewDeadline)
	dur("leader-election-retry-period", opts.RetryPeriod)
	metrics, probe := "0", "0"
	var err error
	if opts.ServeMetrics {
		if metrics, err = freeAddr(); err != nil {
			return nil, err
		}
		m.MetricsURL = "http://" + metrics + "/metrics"
	}
	if opts.ServeProbes {
		if probe, err = freeAddr(); err != nil {
			return nil, err
		}
		m.ProbeAddr = probe
	}
	flag("metrics-bind-address", metrics)
	flag("health-probe-bind-address", probe)
	if opts.ServePprof {
		pprof, err := freeAddr()
		if err != nil {
			return nil, err
		}
		flag("pprof-bind-address", pprof)
		m.PprofURL = "http://" + pprof + "/debug/pprof/profile"
	}
	dur("stalled-recheck-interval", opts.StalledRecheck)
	dur("sdrs-timeout", opts.SDRSTimeout)
	dur("not-started-grace", opts.NotStartedGrace)
	if opts.WatchNamespace != "" {
		flag("watch-namespace", opts.WatchNamespace)
	}
	if opts.LogLevel != "" {
		flag("zap-log-level", opts.LogLevel)
	}
	if opts.Devel {
		args = append(args, "--zap-devel")
	}
	args = append(args, opts.ExtraArgs...)
	if m.proc, err = Start(Options{Name: opts.Name, Path: opts.Bin, Args: args,
		Prefix: opts.Prefix, Output: opts.Output, LogFile: m.LogPath}); err != nil {
		return nil, err
	}
	return m, nil
}

// WaitHealthy waits until /readyz answers (ServeProbes) and returns as soon
// as the manager exits, with an error that says so.
func (m *Manager) WaitHealthy(ctx context.Context) error {
	if m.ProbeAddr == "" {
		return fmt.Errorf("%s was started without ServeProbes", m.Name)
	}
	wctx, cancel := context.WithCancel(ctx)
	defer cancel()
	go func() {
		select {
		case <-m.proc.Done():
			cancel()
		case <-wctx.Done():
		}
	}()
	if err := WaitHTTPOK(wctx, "http://"+m.ProbeAddr+"/readyz", 250*time.Millisecond); err != nil {
		select {
		case <-m.proc.Done():
			return fmt.Errorf("the %s exited during start (%w); see its log above or %s", m.Name, m.proc.Err(), m.LogPath)
		default:
			return fmt.Errorf("the %s did not become ready: %w", m.Name, err)
		}
	}
	return nil
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
func (m *Manager) Lines() []string { return ReadLines(m.LogPath) }

// Kill sends SIGKILL to the manager's process group and waits for it.
func (m *Manager) Kill() error { return Killed(m.proc.Stop(0)) }

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

// Process is the manager's process.
func (m *Manager) Process() *Process { return m.proc }

// Options returns the options the manager was started with.
func (m *Manager) Options() ManagerOptions { return m.opts }

// Killed treats "was killed" as the success it is for a deliberate kill.
func Killed(err error) error {
	if errors.Is(err, ErrKilled) {
		return nil
	}
	return err
}

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
