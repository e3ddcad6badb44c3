package harness

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	authenticationv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/kubernetes"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/envtest"

	drv1alpha1 "github.com/sdrs-operator/sdrs-operator/api/v1alpha1"
	"github.com/sdrs-operator/sdrs-operator/internal/localrun"
)

// ControlPlaneOptions configure StartControlPlane. The zero value works.
type ControlPlaneOptions struct {
	// StartTimeout bounds kube-apiserver's start; default 2 minutes (the
	// envtest default of 60s is tight on a busy 2-core machine).
	StartTimeout time.Duration
}

// ControlPlane is envtest's etcd and kube-apiserver with the CRDs from
// config/crd/bases installed.
type ControlPlane struct {
	Env *envtest.Environment
	// Config is an admin (system:masters) REST config.
	Config *rest.Config
	// Client is an admin controller-runtime client that knows the
	// operator's types; Clientset is the typed admin client.
	Client    client.Client
	Clientset kubernetes.Interface
	// Kubeconfig is the path of an admin kubeconfig file.
	Kubeconfig string
	// Dir holds the kubeconfigs, certificates and the control plane's logs.
	Dir string
}

// Scheme knows the built-in kinds and the operator's kinds.
var Scheme = func() *runtime.Scheme {
	s := runtime.NewScheme()
	if err := clientgoscheme.AddToScheme(s); err != nil {
		panic(err)
	}
	if err := drv1alpha1.AddToScheme(s); err != nil {
		panic(err)
	}
	return s
}()

// StartControlPlane starts etcd and kube-apiserver from the pinned binaries
// (KUBEBUILDER_ASSETS or bin/k8s/<version>), installs the CRDs and writes
// an admin kubeconfig. The API server's certificates live in a fixed
// directory, so RestartAPIServer keeps the serving CA, the client CA and
// the service-account signing key: kubeconfigs and tokens stay valid.
func StartControlPlane(opts ControlPlaneOptions) (*ControlPlane, error) {
	root, err := RepoRoot()
	if err != nil {
		return nil, err
	}
	assets, err := localrun.AssetsDir(root)
	if err != nil {
		return nil, err
	}
	run, err := RunDir()
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp(run, "controlplane-")
	if err != nil {
		return nil, err
	}
	if opts.StartTimeout == 0 {
		opts.StartTimeout = 2 * time.Minute
	}
	env := &envtest.Environment{
		BinaryAssetsDirectory:    assets,
		CRDDirectoryPaths:        []string{filepath.Join(root, "config", "crd", "bases")},
		ErrorIfCRDPathMissing:    true,
		ControlPlaneStartTimeout: opts.StartTimeout,
		// Also the grace period of StopAPIServer.
		ControlPlaneStopTimeout: 5 * time.Second,
	}
	etcdLog, err := os.Create(filepath.Join(dir, "etcd.log"))
	if err != nil {
		return nil, err
	}
	apiLog, err := os.Create(filepath.Join(dir, "kube-apiserver.log"))
	if err != nil {
		return nil, err
	}
	env.ControlPlane.Etcd = &envtest.Etcd{Out: etcdLog, Err: etcdLog}
	api := env.ControlPlane.GetAPIServer()
	api.Out, api.Err = apiLog, apiLog
	api.CertDir = filepath.Join(dir, "apiserver-certs")
	if err := os.MkdirAll(api.CertDir, 0o700); err != nil {
		return nil, err
	}
	cfg, err := env.Start()
	if err != nil {
		_ = env.Stop()
		return nil, fmt.Errorf("cannot start the control plane from %s (logs in %s): %w", assets, dir, err)
	}
	cp := &ControlPlane{Env: env, Config: cfg, Dir: dir}
	if cp.Client, err = client.New(cfg, client.Options{Scheme: Scheme}); err != nil {
		_ = env.Stop()
		return nil, err
	}
	if cp.Clientset, err = kubernetes.NewForConfig(cfg); err != nil {
		_ = env.Stop()
		return nil, err
	}
	if cp.Kubeconfig, err = cp.writeKubeconfig("admin", cfg); err != nil {
		_ = env.Stop()
		return nil, err
	}
	return cp, nil
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

// Stop stops kube-apiserver and etcd.
func (cp *ControlPlane) Stop() error { return cp.Env.Stop() }

// StopAPIServer stops kube-apiserver: SIGTERM, then SIGKILL after 5s
// (kube-apiserver stops listening at once but may take a minute to exit
// while clients hold watches). etcd keeps running and keeps the data.
func (cp *ControlPlane) StopAPIServer() error {
	err := cp.Env.ControlPlane.APIServer.Stop()
	if err != nil && strings.Contains(err.Error(), "timeout waiting for process") && !strings.Contains(err.Error(), "unable to kill") {
		return nil // killed after the grace period: stopped all the same
	}
	return err
}

// StartAPIServer starts a stopped kube-apiserver again on the same port
// with the same certificates, and waits until it is healthy.
func (cp *ControlPlane) StartAPIServer() error {
	return cp.Env.ControlPlane.APIServer.Start()
}

// UserKubeconfig writes a kubeconfig for a client-certificate user with the
// given groups and returns its path. Without groups the user has no
// permission until something binds it.
func (cp *ControlPlane) UserKubeconfig(name string, groups ...string) (string, error) {
	u, err := cp.Env.AddUser(envtest.User{Name: name, Groups: groups}, nil)
	if err != nil {
		return "", fmt.Errorf("cannot add user %s: %w", name, err)
	}
	return cp.writeKubeconfig("user-"+name, u.Config())
}

// ServiceAccountKubeconfig writes a kubeconfig that authenticates as the
// ServiceAccount namespace/name with a token from the TokenRequest API, as
// a pod's projected token would. The ServiceAccount must exist.
func (cp *ControlPlane) ServiceAccountKubeconfig(ctx context.Context, namespace, name string) (string, error) {
	exp := int64(3600)
	tr, err := cp.Clientset.CoreV1().ServiceAccounts(namespace).CreateToken(ctx, name,
		&authenticationv1.TokenRequest{Spec: authenticationv1.TokenRequestSpec{ExpirationSeconds: &exp}}, metav1.CreateOptions{})
	if err != nil {
		return "", fmt.Errorf("cannot get a token for ServiceAccount %s/%s: %w", namespace, name, err)
	}
	cfg := rest.AnonymousClientConfig(cp.Config)
	cfg.BearerToken = tr.Status.Token
	return cp.writeKubeconfig("sa-"+namespace+"-"+name, cfg)
}

func (cp *ControlPlane) writeKubeconfig(name string, cfg *rest.Config) (string, error) {
	const ctxName = "e2e"
	kc := clientcmdapi.NewConfig()
	kc.Clusters[ctxName] = &clientcmdapi.Cluster{Server: cfg.Host, CertificateAuthorityData: cfg.CAData}
	kc.AuthInfos[ctxName] = &clientcmdapi.AuthInfo{ClientCertificateData: cfg.CertData, ClientKeyData: cfg.KeyData, Token: cfg.BearerToken}
	kc.Contexts[ctxName] = &clientcmdapi.Context{Cluster: ctxName, AuthInfo: ctxName}
	kc.CurrentContext = ctxName
	b, err := clientcmd.Write(*kc)
	if err != nil {
		return "", err
	}
	path := filepath.Join(cp.Dir, sanitizeName(name)+".kubeconfig")
	return path, os.WriteFile(path, b, 0o600)
}

// Namespace creates a namespace named prefix plus a random suffix.
func (cp *ControlPlane) Namespace(ctx context.Context, prefix string) (string, error) {
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{GenerateName: prefix}}
	if err := cp.Client.Create(ctx, ns); err != nil {
		return "", err
	}
	return ns.Name, nil
}

// MustNamespace is Namespace for tests.
func (cp *ControlPlane) MustNamespace(tb testing.TB, prefix string) string {
	tb.Helper()
	ns, err := cp.Namespace(context.Background(), prefix)
	if err != nil {
		tb.Fatal(err)
	}
	return ns
}
