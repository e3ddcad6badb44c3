// Package testenv finds what the envtest suites need in the repository:
// its root and the pinned etcd and kube-apiserver that hack/ builds.
package testenv

import (
	"path/filepath"
	"runtime"

	"github.com/sdrs-operator/sdrs-operator/internal/localrun"
)

// RepoRoot is the repository's root directory, wherever the test runs from.
func RepoRoot() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..")
}

// AssetsDir is where envtest finds etcd and kube-apiserver:
// $KUBEBUILDER_ASSETS when it holds them, else bin/k8s/<version>.
func AssetsDir() string {
	dir, _ := localrun.AssetsDir(RepoRoot())
	return dir
}
