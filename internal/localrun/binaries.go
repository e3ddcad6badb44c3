package localrun

import (
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"
)

// Binary names in a bin directory (`make build` writes them to bin/).
const (
	ManagerBinary  = "manager"
	EmulatorBinary = "sdrs-emulator"
)

// FreshBinaries returns root/bin when bin/manager and bin/sdrs-emulator
// exist and are newer than every Go source file, go.mod and go.sum of the
// module (tests and the hack/ tools aside); otherwise it builds both into
// buildDir/bin and returns that.
func FreshBinaries(root, buildDir string) (string, error) {
	bin := filepath.Join(root, "bin")
	if fresh(root, filepath.Join(bin, ManagerBinary), filepath.Join(bin, EmulatorBinary)) {
		return bin, nil
	}
	out := filepath.Join(buildDir, "bin")
	for _, b := range []struct{ name, pkg string }{{ManagerBinary, "."}, {EmulatorBinary, "./cmd/sdrs-emulator"}} {
		cmd := exec.Command("go", "build", "-o", filepath.Join(out, b.name), b.pkg)
		cmd.Dir = root
		if msg, err := cmd.CombinedOutput(); err != nil {
			return "", fmt.Errorf("go build %s: %w\n%s", b.pkg, err, msg)
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
