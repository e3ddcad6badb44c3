package harness

import (
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"time"
)

// RepoRoot finds the module root (the directory holding go.mod) from the
// working directory upwards.
func RepoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", fmt.Errorf("no go.mod above the working directory")
		}
		dir = parent
	}
}

var (
	runDirOnce sync.Once
	runDir     string
	runDirErr  error

	logMu    sync.Mutex
	logFiles []string
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

// LogFiles lists the log file of every process the harness started in this
// test process, in start order.
func LogFiles() []string {
	logMu.Lock()
	defer logMu.Unlock()
	return append([]string(nil), logFiles...)
}

func registerLog(path string) {
	logMu.Lock()
	defer logMu.Unlock()
	logFiles = append(logFiles, path)
}

// uniqueLogPath returns a fresh file name in the run directory.
func uniqueLogPath(name string) (string, error) {
	dir, err := RunDir()
	if err != nil {
		return "", err
	}
	f, err := os.CreateTemp(dir, sanitizeName(name)+"-*.log")
	if err != nil {
		return "", err
	}
	path := f.Name()
	f.Close()
	registerLog(path)
	return path, nil
}

func sanitizeName(s string) string {
	return strings.Map(func(r rune) rune {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '-', r == '_':
			return r
		}
		return '-'
	}, s)
}

var (
	binOnce sync.Once
	binDir  string
	binErr  error
)

// Binaries returns the paths of the manager and emulator binaries (see the
// package documentation for how they are chosen).
func Binaries() (manager, emulator string, err error) {
	binOnce.Do(func() { binDir, binErr = findBinaries() })
	if binErr != nil {
		return "", "", binErr
	}
	return filepath.Join(binDir, "manager"), filepath.Join(binDir, "sdrs-emulator"), nil
}

func findBinaries() (string, error) {
	if d := os.Getenv("HARNESS_BIN_DIR"); d != "" {
		return d, nil
	}
	root, err := RepoRoot()
	if err != nil {
		return "", err
	}
	bin := filepath.Join(root, "bin")
	if fresh(root, filepath.Join(bin, "manager"), filepath.Join(bin, "sdrs-emulator")) {
		return bin, nil
	}
	dir, err := RunDir()
	if err != nil {
		return "", err
	}
	out := filepath.Join(dir, "bin")
	for _, b := range []struct{ name, pkg string }{{"manager", "."}, {"sdrs-emulator", "./cmd/sdrs-emulator"}} {
		cmd := exec.Command("go", "build", "-o", filepath.Join(out, b.name), b.pkg)
		cmd.Dir = root
		if msg, err := cmd.CombinedOutput(); err != nil {
			return "", fmt.Errorf("go build %s: %v\n%s", b.pkg, err, msg)
		}
	}
	return out, nil
}

// fresh reports whether every binary exists and is newer than every .go
// file, go.mod and go.sum of the module (tests and the hack/ tools aside).
func fresh(root string, binaries ...string) bool {
	oldest := time.Time{}
	for _, b := range binaries {
		fi, err := os.Stat(b)
		if err != nil {
			return false
		}
		if oldest.IsZero() || fi.ModTime().Before(oldest) {
			oldest = fi.ModTime()
		}
	}
	stale := false
	_ = filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil || stale {
			return filepath.SkipDir
		}
		name := d.Name()
		if d.IsDir() {
			if path != root && (strings.HasPrefix(name, ".") || name == "bin" || name == "hack" || name == "test" || name == "docs" || name == "config") {
				return filepath.SkipDir
			}
			return nil
		}
		if (strings.HasSuffix(name, ".go") && !strings.HasSuffix(name, "_test.go")) || name == "go.mod" || name == "go.sum" {
			if fi, err := d.Info(); err == nil && fi.ModTime().After(oldest) {
				stale = true
			}
		}
		return nil
	})
	return !stale
}
