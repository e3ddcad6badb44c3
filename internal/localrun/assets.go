package localrun

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
)

// AssetsDir finds the directory with the pinned etcd and kube-apiserver:
// $KUBEBUILDER_ASSETS when it holds them, else bin/k8s/<version> under
// root (the last in name order when there are several), else bin/k8s itself. The
// Makefile's `control-plane` target builds them there.
func AssetsDir(root string) (string, error) {
	var candidates []string
	if env := os.Getenv("KUBEBUILDER_ASSETS"); env != "" {
		candidates = append(candidates, env)
	}
	versioned, _ := filepath.Glob(filepath.Join(root, "bin", "k8s", "*", "kube-apiserver"))
	sort.Sort(sort.Reverse(sort.StringSlice(versioned)))
	for _, p := range versioned {
		candidates = append(candidates, filepath.Dir(p))
	}
	candidates = append(candidates, filepath.Join(root, "bin", "k8s"))
	for _, dir := range candidates {
		if hasControlPlane(dir) {
			return dir, nil
		}
	}
	return "", fmt.Errorf("no etcd and kube-apiserver found in %v: run `make control-plane` "+
		"(the first build takes 12-15 minutes) or set KUBEBUILDER_ASSETS", candidates)
}

func hasControlPlane(dir string) bool {
	for _, name := range []string{"etcd", "kube-apiserver"} {
		// Stat follows the symlinks into the per-user cache, so a link to a
		// deleted cache entry does not count.
		fi, err := os.Stat(filepath.Join(dir, name))
		if err != nil || fi.IsDir() || fi.Mode()&0o111 == 0 {
			return false
		}
	}
	return true
}
