// Package testenv finds what the envtest suites need in the repository:
// its root and the pinned etcd and kube-apiserver that hack/ builds.
package testenv

import (
	"os"
	"path/filepath"
	"testing"

	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/envtest"

	"github.com/sdrs-operator/sdrs-operator/internal/localrun"
)

// RepoRoot is the repository's root directory (localrun.RepoRoot), or
// "." when it cannot be found, so that a missing file names its path.
func RepoRoot() string {
	root, err := localrun.RepoRoot()
	if err != nil {
		return "."
	}
	return root
}

// AssetsDir is where envtest finds etcd and kube-apiserver:
// $KUBEBUILDER_ASSETS when it holds them, else bin/k8s/<version>.
func AssetsDir() string {
	dir, _ := localrun.AssetsDir(RepoRoot())
	return dir
}

// Environment is an envtest control plane with the repository's CRDs
// (config/crd/bases) and the pinned binaries; Start runs it.
func Environment() *envtest.Environment {
	return &envtest.Environment{
		CRDDirectoryPaths:     []string{filepath.Join(RepoRoot(), "config", "crd", "bases")},
		ErrorIfCRDPathMissing: true,
		BinaryAssetsDirectory: AssetsDir(),
	}
}

// StartAPIServer starts Environment for one test and stops it when the
// test ends. It returns the admin config and the path of a kubeconfig for
// a system:masters user "runbook", which kubectl and the plugin are given.
func StartAPIServer(t *testing.T) (*rest.Config, string) {
	t.Helper()
	env := Environment()
	cfg, err := env.Start()
	if err != nil {
		t.Fatalf("cannot start envtest (run `make control-plane` first): %v", err)
	}
	t.Cleanup(func() { _ = env.Stop() })
	user, err := env.AddUser(envtest.User{Name: "runbook", Groups: []string{"system:masters"}}, cfg)
	if err != nil {
		t.Fatal(err)
	}
	kc, err := user.KubeConfig()
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "kubeconfig")
	if err := os.WriteFile(path, kc, 0o600); err != nil {
		t.Fatal(err)
	}
	return cfg, path
}
