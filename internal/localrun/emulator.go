package localrun

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"sync"
	"time"

	"github.com/sdrs-operator/sdrs-operator/internal/emutest"
)

// Defaults of EmulatorOptions.
const (
	DefaultProjectID = "0123456789abcdef0123456789abcdef"
	// emulatorListenTimeout bounds the wait for the listen lines.
	emulatorListenTimeout = 30 * time.Second
)

var (
	sdrsListening = regexp.MustCompile(`msg="SDRS API listening".*\baddr=(\S+)`)
	ecsListening  = regexp.MustCompile(`msg="ECS API listening".*\baddr=(\S+)`)
)

// EmulatorOptions configure StartEmulator. Bin and one of Dir and LogFile
// are required; every other field has a default.
type EmulatorOptions struct {
	// Bin is the sdrs-emulator binary.
	Bin string
	// Name names the process and its log file; default "emulator".
	Name string
	// Dir receives a fresh log file per start (Name-*.log) unless LogFile
	// is set, and the state file of Persist.
	Dir string
	// LogFile, when set, is the log file of every start (truncated).
	LogFile string
	// Output receives the output lines, each prefixed with Prefix (the
	// console of hack/run-local); default nowhere.
	Output io.Writer
	Prefix string
	// ProjectID defaults to DefaultProjectID. AccessKey and SecretKey
	// default to fresh random keys (RandomKey); the secret key is passed
	// in the environment, never as a flag.
	ProjectID, AccessKey, SecretKey string
	// JobDuration defaults to 1s, SyncDuration to JobDuration.
	JobDuration, SyncDuration time.Duration
	// StateFile persists the emulator's state so that Restart resumes it.
	// Persist picks a file in Dir when StateFile is empty.
	StateFile string
	Persist   bool
	// SDRSAddr and ECSAddr are the listen addresses; default 127.0.0.1:0.
	// Restart reuses the ports chosen at the first start.
	SDRSAddr, ECSAddr string
	// TLSCert and TLSKey (PEM files) make both listeners serve HTTPS;
	// CACert (PEM bytes) is then trusted by Admin.
	TLSCert, TLSKey string
	CACert          []byte
	// LogLevel is the emulator's --log-level; "" leaves its default.
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

	mu      sync.Mutex
	opts    EmulatorOptions
	proc    *Process
	logPath string
	starts  int
}

// StartEmulator starts the emulator and waits until both listeners are up;
// their addresses come from its log, so port 0 works.
func StartEmulator(opts EmulatorOptions) (*Emulator, error) {
	if opts.Bin == "" {
		return nil, fmt.Errorf("EmulatorOptions.Bin is required")
	}
	if opts.Dir == "" && opts.LogFile == "" {
		return nil, fmt.Errorf("EmulatorOptions needs Dir or LogFile")
	}
	if opts.Name == "" {
		opts.Name = "emulator"
	}
	if opts.ProjectID == "" {
		opts.ProjectID = DefaultProjectID
	}
	if opts.AccessKey == "" {
		opts.AccessKey = RandomKey(20)
	}
	if opts.SecretKey == "" {
		opts.SecretKey = RandomKey(40)
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
	if opts.StateFile == "" && opts.Persist {
		if opts.Dir == "" {
			return nil, fmt.Errorf("EmulatorOptions.Persist needs Dir or StateFile")
		}
		f, err := os.CreateTemp(opts.Dir, SafeName(opts.Name)+"-state-*.json")
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

func (e *Emulator) start() error {
	e.mu.Lock()
	o := e.opts
	e.mu.Unlock()
	logPath := o.LogFile
	if logPath == "" {
		var err error
		if logPath, err = UniqueLogFile(o.Dir, o.Name); err != nil {
			return err
		}
	}
	args := []string{
		"--listen", o.SDRSAddr, "--ecs-listen", o.ECSAddr,
		"--project-id", o.ProjectID, "--access-key", o.AccessKey,
		"--job-duration", o.JobDuration.String(), "--sync-duration", o.SyncDuration.String(),
	}
	if o.LogLevel != "" {
		args = append(args, "--log-level", o.LogLevel)
	}
	if o.StateFile != "" {
		args = append(args, "--state-file", o.StateFile)
	}
	if o.Profile != "" {
		args = append(args, "--profile", o.Profile)
	}
	if d := o.AcceptLag; d != 0 {
		args = append(args, "--accept-lag", max(d, 0).String())
	}
	if d := o.JobNotFoundFor; d != 0 {
		args = append(args, "--job-not-found-for", max(d, 0).String())
	}
	scheme := "http"
	if o.TLSCert != "" {
		args = append(args, "--tls-cert", o.TLSCert, "--tls-key", o.TLSKey)
		scheme = "https"
	}
	args = append(args, o.ExtraArgs...)
	p, err := Start(Options{
		Name: o.Name, Path: o.Bin, Args: args,
		Env:    []string{"SDRS_SECRET_KEY=" + o.SecretKey},
		Prefix: o.Prefix, Output: o.Output, LogFile: logPath,
	})
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), emulatorListenTimeout)
	defer cancel()
	var addrs [2]string
	for i, re := range []*regexp.Regexp{sdrsListening, ecsListening} {
		m, err := p.Lines().Wait(ctx, re)
		if err != nil {
			_ = p.Stop(time.Second)
			return fmt.Errorf("%s did not report its listen addresses (see %s): %w", o.Name, logPath, err)
		}
		addrs[i] = m[1]
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	e.proc, e.logPath = p, logPath
	e.starts++
	e.SDRSURL = scheme + "://" + addrs[0]
	e.ECSURL = scheme + "://" + addrs[1]
	// A restart must come back on the same ports.
	e.opts.SDRSAddr, e.opts.ECSAddr = addrs[0], addrs[1]
	e.Admin = emutest.New(e.SDRSURL)
	if len(o.CACert) > 0 {
		pool := x509.NewCertPool()
		pool.AppendCertsFromPEM(o.CACert)
		e.Admin.HTTP = &http.Client{Timeout: 30 * time.Second,
			Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}}}
	}
	return nil
}

func (e *Emulator) current() *Process {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.proc
}

// Process is the current emulator process (a new one after Restart).
func (e *Emulator) Process() *Process { return e.current() }

// LogPath is the current process's log file.
func (e *Emulator) LogPath() string {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.logPath
}

// Kill sends SIGKILL: nothing is flushed beyond what the emulator already
// wrote (its state file is written before every answer).
func (e *Emulator) Kill() error { return Killed(e.current().Stop(0)) }

// Stop stops the emulator gracefully: SIGTERM, SIGKILL after 5s.
func (e *Emulator) Stop() error { return e.current().Stop(5 * time.Second) }

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
	select {
	case <-e.current().Done():
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
// answered 500 instead of the job ID. The call log marks them applied.
func (e *Emulator) AcceptThenError(ctx context.Context, operation, groupID string, count int) error {
	return e.AdminClient().AcceptThenError(ctx, operation, groupID, count, 0)
}

// AdminClient is Admin, read under the lock Restart takes to replace it.
func (e *Emulator) AdminClient() *emutest.Admin {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.Admin
}

// RandomKey makes a throwaway AK/SK-shaped credential of n characters.
func RandomKey(n int) string {
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
	b := make([]byte, n)
	_, _ = rand.Read(b)
	for i := range b {
		b[i] = alphabet[int(b[i])%len(alphabet)]
	}
	return string(b)
}

// UniqueLogFile creates a fresh, empty dir/name-*.log and returns its path.
func UniqueLogFile(dir, name string) (string, error) {
	f, err := os.CreateTemp(dir, SafeName(name)+"-*.log")
	if err != nil {
		return "", err
	}
	f.Close()
	return filepath.Clean(f.Name()), nil
}
