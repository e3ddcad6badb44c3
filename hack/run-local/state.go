package main

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
)

// Files in the state directory. kubeconfig and emulator.env appear only
// once everything is ready and are removed first on the way down, so a
// script that finds them can use them.
const (
	pidFile            = "run-local.pid"
	kubeconfigFile     = "kubeconfig"
	emulatorEnvFile    = "emulator.env"
	managerKubeconfig  = "manager.kubeconfig"
	emulatorStateFile  = "emulator-state.json"
	controlPlaneLogDir = "control-plane"
)

// contextName names the cluster, user and context in the kubeconfigs.
const contextName = "sdrs-local"

// lockDir claims dir for this run through a pid file, refusing when another
// live run-local holds it: two runs would fight over the ports and files.
func lockDir(dir string) (release func(), err error) {
	path := filepath.Join(dir, pidFile)
	if b, err := os.ReadFile(path); err == nil {
		if pid, err := strconv.Atoi(strings.TrimSpace(string(b))); err == nil && pid != os.Getpid() && isRunLocal(pid) {
			return nil, fmt.Errorf("another run-local (pid %d) is using %s: stop it (Ctrl-C in its terminal, or kill %d) or use --dir", pid, dir, pid)
		}
	}
	if err := os.WriteFile(path, []byte(strconv.Itoa(os.Getpid())+"\n"), 0o644); err != nil {
		return nil, fmt.Errorf("cannot write %s: %w", path, err)
	}
	return func() { _ = os.Remove(path) }, nil
}

// isRunLocal says whether pid is alive and is a run-local (not a recycled
// pid of some other program).
func isRunLocal(pid int) bool {
	if err := syscall.Kill(pid, 0); errors.Is(err, syscall.ESRCH) {
		return false
	}
	cmdline, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
	return err == nil && bytes.Contains(cmdline, []byte("run-local"))
}

// cleanDir removes what a previous run left, so every run starts from the
// same state: a fresh control plane needs a fresh kubeconfig, and the demo
// groups are seeded again.
func cleanDir(dir string) error {
	for _, name := range []string{kubeconfigFile, emulatorEnvFile, managerKubeconfig, emulatorStateFile, controlPlaneLogDir} {
		if err := os.RemoveAll(filepath.Join(dir, name)); err != nil {
			return fmt.Errorf("cannot clean %s: %w", dir, err)
		}
	}
	logs, _ := filepath.Glob(filepath.Join(dir, "*.log"))
	for _, l := range logs {
		_ = os.Remove(l)
	}
	return nil
}

// writeFileAtomic writes through a temporary file and a rename, so a reader
// polling for the file never sees it half written.
func writeFileAtomic(path string, data []byte, perm os.FileMode) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Chmod(perm); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}

// envFile renders KEY=value lines, sorted, for `set -a; . emulator.env`.
func envFile(vars map[string]string, path string) []byte {
	keys := make([]string, 0, len(vars))
	for k := range vars {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	fmt.Fprintf(&b, "# Written by run-local; valid while it runs. Load with: set -a; . %s; set +a\n", path)
	for _, k := range keys {
		fmt.Fprintf(&b, "%s=%s\n", k, vars[k])
	}
	return []byte(b.String())
}
