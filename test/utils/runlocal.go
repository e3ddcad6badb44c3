package utils

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"time"

	"github.com/sdrs-operator/sdrs-operator/internal/localrun"
)

// ReadyLine is what run-local prints once everything is up.
const ReadyLine = "run-local: ready"

// ExtraArgsEnv names an environment variable whose words are added to
// run-local's arguments, to debug the e2e tests against other binaries
// (for example "--bin-dir=/tmp/bin --manager-rbac=admin").
const ExtraArgsEnv = "SDRS_E2E_RUNLOCAL_ARGS"

// RunLocal is a run-local started through hack/run-local.sh, as
// `make run-local` starts it.
type RunLocal struct {
	Root string // repository root
	Dir  string // its state directory (--dir)
	proc *localrun.Process
}

// StartRunLocal starts hack/run-local.sh with the state directory dir, free
// emulator ports and args, streaming its output to out with prefix (and in
// full to logFile when set). It does not wait; call WaitReady.
func StartRunLocal(dir string, out io.Writer, prefix, logFile string, args ...string) (*RunLocal, error) {
	root, err := localrun.RepoRoot()
	if err != nil {
		return nil, err
	}
	all := append([]string{"--dir", dir, "--sdrs-port=0", "--ecs-port=0"}, args...)
	all = append(all, strings.Fields(os.Getenv(ExtraArgsEnv))...)
	p, err := localrun.Start(localrun.Options{
		Name:    "run-local",
		Path:    filepath.Join(root, "hack", "run-local.sh"),
		Args:    all,
		Dir:     root,
		Prefix:  prefix,
		Output:  out,
		LogFile: logFile,
	})
	if err != nil {
		return nil, err
	}
	return &RunLocal{Root: root, Dir: dir, proc: p}, nil
}

// Pid is run-local's PID (the script execs it, so it is the script's too).
func (r *RunLocal) Pid() int { return r.proc.Pid() }

// Done is closed when run-local has exited; Err is then its exit error.
func (r *RunLocal) Done() <-chan struct{} { return r.proc.Done() }
func (r *RunLocal) Err() error            { return r.proc.Err() }

// Output is what run-local printed so far.
func (r *RunLocal) Output() string { return strings.Join(r.proc.Lines().Snapshot(), "\n") }

// WaitReady waits for the ready line, failing early if run-local exits.
func (r *RunLocal) WaitReady(ctx context.Context) error {
	_, err := r.proc.Lines().Wait(ctx, regexp.MustCompile("^"+regexp.QuoteMeta(ReadyLine)+"$"))
	if err != nil {
		return fmt.Errorf("run-local did not print %q: %w", ReadyLine, err)
	}
	return nil
}

// WaitExit waits for run-local to exit and returns its exit error; Output
// then holds everything it printed.
func (r *RunLocal) WaitExit(ctx context.Context) error {
	select {
	case <-r.proc.Done():
		return r.proc.Wait()
	case <-ctx.Done():
		return fmt.Errorf("run-local still runs: %w", ctx.Err())
	}
}

// Signal sends sig to run-local alone, as `kill` would.
func (r *RunLocal) Signal(sig syscall.Signal) error { return syscall.Kill(r.Pid(), sig) }

// SignalGroup sends sig to run-local's whole process group, as a
// terminal's Ctrl-C does.
func (r *RunLocal) SignalGroup(sig syscall.Signal) error { return syscall.Kill(-r.Pid(), sig) }

// Stop is the cleanup for a test that failed half way: SIGTERM, and
// SIGKILL only after a grace long enough for run-local to stop the control
// plane, whose processes would otherwise outlive it.
func (r *RunLocal) Stop() { _ = r.proc.Stop(90 * time.Second) }

// Kubeconfig is the path run-local writes once ready.
func (r *RunLocal) Kubeconfig() string { return filepath.Join(r.Dir, "kubeconfig") }

// EmulatorEnv reads emulator.env (SDRS_ENDPOINT, SDRS_PROJECT_ID, ...).
func (r *RunLocal) EmulatorEnv() (map[string]string, error) {
	f, err := os.Open(filepath.Join(r.Dir, "emulator.env"))
	if err != nil {
		return nil, err
	}
	defer f.Close()
	env := map[string]string{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if k, v, ok := strings.Cut(line, "="); ok && !strings.HasPrefix(line, "#") {
			env[k] = v
		}
	}
	return env, sc.Err()
}

// Kubectl runs the real kubectl binary against run-local's API server and
// returns its combined output.
func (r *RunLocal) Kubectl(ctx context.Context, args ...string) (string, error) {
	cmd := exec.CommandContext(ctx, "kubectl", args...)
	cmd.Env = append(os.Environ(), "KUBECONFIG="+r.Kubeconfig())
	out, err := cmd.CombinedOutput()
	if err != nil {
		return string(out), fmt.Errorf("kubectl %s: %w: %s", strings.Join(args, " "), err, out)
	}
	return string(out), nil
}
