package harness

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net/http"
	"os"
	"regexp"
	"sync"
	"testing"
	"time"

	"github.com/sdrs-operator/sdrs-operator/internal/emutest"
	"github.com/sdrs-operator/sdrs-operator/internal/localrun"
)

// Defaults of EmulatorOptions.
const (
	DefaultProjectID = "0123456789abcdef0123456789abcdef"
	DefaultAccessKey = "AKE2E000000000000001"
	// DefaultSecretKey is a recognisable value so that a leak is easy to
	// find; tests search every log line, Event and status for it.
	DefaultSecretKey = "e2e-secret-key-MUST-NOT-LEAK-0001"
)

// EmulatorOptions configure StartEmulator. The zero value works.
type EmulatorOptions struct {
	// Name prefixes the log file; default "emulator".
	Name                            string
	ProjectID, AccessKey, SecretKey string
	JobDuration, SyncDuration       time.Duration // default 1s each
	// StateFile persists the emulator's state so that Restart resumes it.
	// Persist picks a file in the run directory when StateFile is empty.
	StateFile string
	Persist   bool
	// SDRSAddr and ECSAddr are the listen addresses; default 127.0.0.1:0.
	// Restart reuses the ports chosen at the first start.
	SDRSAddr, ECSAddr string
	// TLSCert and TLSKey (PEM files) make both listeners serve HTTPS;
	// CACert (PEM bytes) is then trusted by Admin.
	TLSCert, TLSKey string
	CACert          []byte
	// LogLevel is the emulator's --log-level; default info.
	LogLevel string
	// Profile is the emulator's --profile: "" or "default", or
	// "pessimistic" (emutest.ProfilePessimistic; docs/emulator.md,
	// Profiles).
	Profile string
	// AcceptLag and JobNotFoundFor are --accept-lag and
	// --job-not-found-for (pessimistic profile only): 0 leaves the
	// emulator's default (2s each), a negative value means none.
	AcceptLag, JobNotFoundFor time.Duration
	// ExtraArgs are appended last (e.g. --max-calls for benchmarks).
	ExtraArgs []string
}

// Emulator is a running sdrs-emulator process.
type Emulator struct {
	// SDRSURL and ECSURL are the base URLs of the two listeners.
	SDRSURL, ECSURL string
	// Admin drives the admin API (seed, call log, faults).
	Admin *emutest.Admin

	mu   sync.Mutex
	opts EmulatorOptions
	proc *localrun.Process
	// Starts counts starts, Restart included.
	starts int
}

// StartEmulator starts bin/sdrs-emulator and waits until both listeners
// are up. The secret key is passed in the environment, never as a flag.
func StartEmulator(opts EmulatorOptions) (*Emulator, error) {
	if opts.Name == "" {
		opts.Name = "emulator"
	}
	if opts.ProjectID == "" {
		opts.ProjectID = DefaultProjectID
	}
	if opts.AccessKey == "" {
		opts.AccessKey = DefaultAccessKey
	}
	if opts.SecretKey == "" {
		opts.SecretKey = DefaultSecretKey
	}
	if opts.JobDuration == 0 {
		opts.JobDuration = time.Second
	}
	if opts.SyncDuration == 0 {
		opts.SyncDuration = opts.JobDuration
	}
	if opts.SDRSAddr == "" {
		opts.SDRSAddr = "127.0.0.1:0"
	}
	if opts.ECSAddr == "" {
		opts.ECSAddr = "127.0.0.1:0"
	}
	if opts.LogLevel == "" {
		opts.LogLevel = "info"
	}
	if opts.StateFile == "" && opts.Persist {
		dir, err := RunDir()
		if err != nil {
			return nil, err
		}
		f, err := os.CreateTemp(dir, sanitizeName(opts.Name)+"-state-*.json")
		if err != nil {
			return nil, err
		}
		f.Close()
		opts.StateFile = f.Name()
	}
	e := &Emulator{opts: opts}
	if err := e.start(); err != nil {
		return nil, err
	}
	return e, nil
}

// MustEmulator starts an emulator and stops it when tb ends.
func MustEmulator(tb testing.TB, opts EmulatorOptions) *Emulator {
	tb.Helper()
	e, err := StartEmulator(opts)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { _ = e.Stop() })
	return e
}

func (e *Emulator) start() error {
	_, bin, err := Binaries()
	if err != nil {
		return err
	}
	logPath, err := uniqueLogPath(e.opts.Name)
	if err != nil {
		return err
	}
	args := []string{
		"--listen", e.opts.SDRSAddr, "--ecs-listen", e.opts.ECSAddr,
		"--project-id", e.opts.ProjectID, "--access-key", e.opts.AccessKey,
		"--job-duration", e.opts.JobDuration.String(), "--sync-duration", e.opts.SyncDuration.String(),
		"--log-level", e.opts.LogLevel,
	}
	if e.opts.StateFile != "" {
		args = append(args, "--state-file", e.opts.StateFile)
	}
	if e.opts.Profile != "" {
		args = append(args, "--profile", e.opts.Profile)
	}
	if d := e.opts.AcceptLag; d != 0 {
		args = append(args, "--accept-lag", max(d, 0).String())
	}
	if d := e.opts.JobNotFoundFor; d != 0 {
		args = append(args, "--job-not-found-for", max(d, 0).String())
	}
	scheme := "http"
	if e.opts.TLSCert != "" {
		args = append(args, "--tls-cert", e.opts.TLSCert, "--tls-key", e.opts.TLSKey)
		scheme = "https"
	}
	args = append(args, e.opts.ExtraArgs...)
	p, err := localrun.Start(localrun.Options{
		Name: e.opts.Name, Path: bin, Args: args,
		Env:     []string{"SDRS_SECRET_KEY=" + e.opts.SecretKey},
		LogFile: logPath,
	})
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	addrs := map[string]string{}
	for _, which := range []string{"SDRS", "ECS"} {
		m, err := p.Lines().Wait(ctx, regexp.MustCompile(`msg="`+which+` API listening" addr=(\S+)`))
		if err != nil {
			_ = p.Stop(time.Second)
			return fmt.Errorf("%s did not start (log %s): %w", e.opts.Name, logPath, err)
		}
		addrs[which] = m[1]
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	e.proc = p
	e.starts++
	e.SDRSURL = scheme + "://" + addrs["SDRS"]
	e.ECSURL = scheme + "://" + addrs["ECS"]
	// A restart must come back on the same ports.
	e.opts.SDRSAddr, e.opts.ECSAddr = addrs["SDRS"], addrs["ECS"]
	e.Admin = emutest.New(e.SDRSURL)
	if len(e.opts.CACert) > 0 {
		pool := x509.NewCertPool()
		pool.AppendCertsFromPEM(e.opts.CACert)
		e.Admin.HTTP = &http.Client{Timeout: 30 * time.Second,
			Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}}}
	}
	return nil
}

// Kill sends SIGKILL: nothing is flushed beyond what the emulator already
// wrote (its state file is written before every answer).
func (e *Emulator) Kill() error {
	e.mu.Lock()
	p := e.proc
	e.mu.Unlock()
	return killed(p.Stop(0))
}

// Stop stops the emulator gracefully.
func (e *Emulator) Stop() error {
	e.mu.Lock()
	p := e.proc
	e.mu.Unlock()
	return p.Stop(5 * time.Second)
}

// Restart starts the emulator again on the same ports with the same state
// file (after Kill or Stop). newSecretKey, when not empty, changes the
// secret key it accepts (a rotated key) and newAccessKey the access key.
func (e *Emulator) Restart(newAccessKey, newSecretKey string) error {
	e.mu.Lock()
	if newAccessKey != "" {
		e.opts.AccessKey = newAccessKey
	}
	if newSecretKey != "" {
		e.opts.SecretKey = newSecretKey
	}
	e.mu.Unlock()
	return e.start()
}

// Alive reports whether the current process is running.
func (e *Emulator) Alive() bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	select {
	case <-e.proc.Done():
		return false
	default:
		return true
	}
}

// Options returns the options in effect (keys and addresses included).
func (e *Emulator) Options() EmulatorOptions {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.opts
}

// Starts counts how often the emulator process was started.
func (e *Emulator) Starts() int {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.starts
}

// StateFile is the state file path ("" without persistence).
func (e *Emulator) StateFile() string { return e.Options().StateFile }

// AcceptThenError makes the next count group actions of operation (the
// SDK operation name, e.g. "StartReverseProtectionGroup", or
// emutest.AnyAction) on groupID ("" for any group) be carried out and then
// answered 500 instead of the job ID. Accepted and ActionCounts count
// them (the call log marks them applied).
func (e *Emulator) AcceptThenError(ctx context.Context, operation, groupID string, count int) error {
	e.mu.Lock()
	admin := e.Admin
	e.mu.Unlock()
	return admin.AcceptThenError(ctx, operation, groupID, count, 0)
}
