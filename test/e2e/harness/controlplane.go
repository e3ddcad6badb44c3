package harness

import (
	"context"
	"os"
	"testing"

	"github.com/sdrs-operator/sdrs-operator/internal/localrun"
)

// ControlPlaneOptions configure StartControlPlane. The zero value works:
// Dir defaults to a fresh directory in RunDir.
type ControlPlaneOptions = localrun.ControlPlaneOptions

// ControlPlane is localrun's control plane with the test helpers of this
// package (WaitFor, Update, Events, ...).
type ControlPlane struct {
	*localrun.ControlPlane
}

// Scheme knows the built-in kinds and the operator's kinds.
var Scheme = localrun.Scheme

// StartControlPlane starts etcd and kube-apiserver (localrun) with fixed
// certificates, so StopAPIServer/StartAPIServer keep kubeconfigs and
// tokens valid, an admin kubeconfig, and its files in a fresh directory of
// RunDir.
func StartControlPlane(opts ControlPlaneOptions) (*ControlPlane, error) {
	if opts.Dir == "" {
		run, err := RunDir()
		if err != nil {
			return nil, err
		}
		if opts.Dir, err = os.MkdirTemp(run, "controlplane-"); err != nil {
			return nil, err
		}
	}
	opts.FixedCerts, opts.AdminKubeconfig = true, true
	if opts.ContextName == "" {
		opts.ContextName = "e2e"
	}
	cp, err := localrun.StartControlPlane(opts)
	if err != nil {
		return nil, err
	}
	return &ControlPlane{cp}, nil
}

// MustControlPlane starts a control plane and stops it when tb ends.
func MustControlPlane(tb testing.TB, opts ControlPlaneOptions) *ControlPlane {
	tb.Helper()
	cp, err := StartControlPlane(opts)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { _ = cp.Stop() })
	return cp
}

// MustNamespace creates a namespace named prefix plus a random suffix.
func (cp *ControlPlane) MustNamespace(tb testing.TB, prefix string) string {
	tb.Helper()
	ns, err := cp.Namespace(context.Background(), prefix)
	if err != nil {
		tb.Fatal(err)
	}
	return ns
}
