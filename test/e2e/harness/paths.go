package harness

import (
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/sdrs-operator/sdrs-operator/internal/localrun"
)

var (
	runDirOnce sync.Once
	runDir     string
	runDirErr  error
)

// RunDir is a directory shared by everything this test process starts: log
// files, state files, kubeconfigs, built binaries. It is created once and
// kept after the run (its path is printed by the first caller's logs), so a
// failure can be investigated. HARNESS_RUN_DIR overrides its location.
func RunDir() (string, error) {
	runDirOnce.Do(func() {
		if d := os.Getenv("HARNESS_RUN_DIR"); d != "" {
			runDir, runDirErr = d, os.MkdirAll(d, 0o755)
			return
		}
		runDir, runDirErr = os.MkdirTemp("", "sdrs-e2e-"+time.Now().Format("150405")+"-")
	})
	return runDir, runDirErr
}

var (
	binOnce sync.Once
	binDir  string
	binErr  error
)

// Binaries returns the paths of the manager and emulator binaries (see the
// package documentation for how they are chosen).
func Binaries() (manager, emulator string, err error) {
	binOnce.Do(func() {
		if binDir = os.Getenv("HARNESS_BIN_DIR"); binDir != "" {
			return
		}
		root, err := localrun.RepoRoot()
		if err != nil {
			binErr = err
			return
		}
		run, err := RunDir()
		if err != nil {
			binErr = err
			return
		}
		binDir, binErr = localrun.FreshBinaries(root, run)
	})
	if binErr != nil {
		return "", "", binErr
	}
	return filepath.Join(binDir, localrun.ManagerBinary), filepath.Join(binDir, localrun.EmulatorBinary), nil
}
