package localrun

import (
	"errors"
	"os"
	"path/filepath"
	"sync"
)

var (
	rootOnce sync.Once
	root     string
	rootErr  error
)

// RepoRoot is the repository root: the first directory holding go.mod at
// or above the working directory when it is first called. hack/run-local
// runs from the root (hack/run-local.sh cds there), go test runs in the
// package's directory, go run ./test/bench in the root; all find it. The
// answer is kept, so a later chdir does not change it.
func RepoRoot() (string, error) {
	rootOnce.Do(func() {
		dir, err := os.Getwd()
		if err != nil {
			rootErr = err
			return
		}
		for {
			if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
				root = dir
				return
			}
			parent := filepath.Dir(dir)
			if parent == dir {
				rootErr = errors.New("no go.mod at or above the working directory")
				return
			}
			dir = parent
		}
	})
	return root, rootErr
}
