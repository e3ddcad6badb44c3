package localrun

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	authenticationv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/kubernetes"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/envtest"

	drv1alpha1 "github.com/sdrs-operator/sdrs-operator/api/v1alpha1"
)

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

// ControlPlaneOptions configure StartControlPlane. Only Dir is required.
type ControlPlaneOptions struct {
	// Dir receives etcd.log, kube-apiserver.log, the API server's
	// certificates (with FixedCerts) and the kubeconfigs WriteKubeconfig
	// writes. It is created if missing.
	Dir string
	// Root is the repository root (default RepoRoot()): the CRDs are every
	// file of config/crd/bases, the pinned binaries are found by AssetsDir.
	Root string
	// StartTimeout bounds kube-apiserver's start; default 2 minutes (the
	// envtest default of 60s is tight on a busy 2-core machine).
	StartTimeout time.Duration
	// StopTimeout is each process's grace period on Stop (and
	// StopAPIServer's); default 5 seconds.
	StopTimeout time.Duration
	// FixedCerts keeps the API server's certificates in Dir, so that
	// StartAPIServer after StopAPIServer keeps the serving CA, the client
	// CA and the service-account signing key: kubeconfigs and tokens stay
	// valid.
	FixedCerts bool
	// ContextName names the cluster, user and context in the kubeconfigs
	// WriteKubeconfig writes; default "local".
	ContextName string
	// AdminKubeconfig writes Dir/admin.kubeconfig (ControlPlane.Kubeconfig).
	AdminKubeconfig bool
}

// ControlPlane is envtest's etcd and kube-apiserver from the pinned
// binaries, with every CRD of config/crd/bases installed.
type ControlPlane struct {
	Env *envtest.Environment
	// Config is an admin (system:masters) REST config.
	Config *rest.Config
	// Client is an admin client that knows the operator's types (Scheme);
	// Clientset is the typed admin client.
	Client    client.Client
	Clientset kubernetes.Interface
	// Kubeconfig is the path of an admin kubeconfig file in Dir, written
	// when ControlPlaneOptions.AdminKubeconfig asks for it.
	Kubeconfig string
	// Dir holds the logs, certificates and kubeconfigs.
	Dir string
	// Root is the repository root it was started from.
	Root string

	contextName string
}

// StartControlPlane starts etcd and kube-apiserver from AssetsDir (run
// `make control-plane`) and installs the CRDs.
func StartControlPlane(opts ControlPlaneOptions) (*ControlPlane, error) {
	if opts.Dir == "" {
		return nil, fmt.Errorf("ControlPlaneOptions.Dir is required")
	}
	if opts.Root == "" {
		r, err := RepoRoot()
		if err != nil {
			return nil, err
		}
		opts.Root = r
	}
	if opts.StartTimeout == 0 {
		opts.StartTimeout = 2 * time.Minute
	}
	if opts.StopTimeout == 0 {
		opts.StopTimeout = 5 * time.Second
	}
	if opts.ContextName == "" {
		opts.ContextName = "local"
	}
	assets, err := AssetsDir(opts.Root)
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(opts.Dir, 0o755); err != nil {
		return nil, err
	}
	env := &envtest.Environment{
		BinaryAssetsDirectory:    assets,
		CRDDirectoryPaths:        []string{filepath.Join(opts.Root, "config", "crd", "bases")},
		ErrorIfCRDPathMissing:    true,
		ControlPlaneStartTimeout: opts.StartTimeout,
		ControlPlaneStopTimeout:  opts.StopTimeout,
	}
	etcdLog, err := os.Create(filepath.Join(opts.Dir, "etcd.log"))
	if err != nil {
		return nil, err
	}
	apiLog, err := os.Create(filepath.Join(opts.Dir, "kube-apiserver.log"))
	if err != nil {
		return nil, err
	}
	env.ControlPlane.Etcd = &envtest.Etcd{Out: etcdLog, Err: etcdLog}
	api := env.ControlPlane.GetAPIServer()
	api.Out, api.Err = apiLog, apiLog
	if opts.FixedCerts {
		api.CertDir = filepath.Join(opts.Dir, "apiserver-certs")
		if err := os.MkdirAll(api.CertDir, 0o700); err != nil {
			return nil, err
		}
	}
	cfg, err := env.Start()
	if err != nil {
		_ = env.Stop()
		return nil, fmt.Errorf("cannot start the control plane from %s (logs in %s): %w", assets, opts.Dir, err)
	}
	cp := &ControlPlane{Env: env, Config: cfg, Dir: opts.Dir, Root: opts.Root, contextName: opts.ContextName}
	if cp.Client, err = client.New(cfg, client.Options{Scheme: Scheme}); err != nil {
		_ = env.Stop()
		return nil, err
	}
	if cp.Clientset, err = kubernetes.NewForConfig(cfg); err != nil {
		_ = env.Stop()
		return nil, err
	}
	if opts.AdminKubeconfig {
		if cp.Kubeconfig, err = cp.WriteKubeconfig("admin", cfg, ""); err != nil {
			_ = env.Stop()
			return nil, err
		}
	}
	return cp, nil
}

// Stop stops kube-apiserver and etcd.
func (cp *ControlPlane) Stop() error { return cp.Env.Stop() }

// StopAPIServer stops kube-apiserver: SIGTERM, then SIGKILL after the
// StopTimeout (kube-apiserver stops listening at once but may take a
// minute to exit while clients hold watches). etcd keeps running and keeps
// the data.
func (cp *ControlPlane) StopAPIServer() error {
	err := cp.Env.ControlPlane.APIServer.Stop()
	if err != nil && strings.Contains(err.Error(), "timeout waiting for process") && !strings.Contains(err.Error(), "unable to kill") {
		return nil // killed after the grace period: stopped all the same
	}
	return err
}

// StartAPIServer starts a stopped kube-apiserver again on the same port
// (with FixedCerts, the same certificates) and waits until it is healthy.
func (cp *ControlPlane) StartAPIServer() error {
	return cp.Env.ControlPlane.APIServer.Start()
}

// UserConfig returns a REST config for a client-certificate user with the
// given groups. Without groups the user has no permission until something
// binds it.
func (cp *ControlPlane) UserConfig(name string, groups ...string) (*rest.Config, error) {
	u, err := cp.Env.AddUser(envtest.User{Name: name, Groups: groups}, nil)
	if err != nil {
		return nil, fmt.Errorf("cannot add user %s: %w", name, err)
	}
	return u.Config(), nil
}

// UserKubeconfig writes a kubeconfig for UserConfig(name, groups...) into
// Dir and returns its path.
func (cp *ControlPlane) UserKubeconfig(name string, groups ...string) (string, error) {
	cfg, err := cp.UserConfig(name, groups...)
	if err != nil {
		return "", err
	}
	return cp.WriteKubeconfig("user-"+name, cfg, "")
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
	return cp.WriteKubeconfig("sa-"+namespace+"-"+name, cfg, "")
}

// WriteKubeconfig writes cfg as Dir/<name>.kubeconfig, with namespace as
// the context's default, and returns the path.
func (cp *ControlPlane) WriteKubeconfig(name string, cfg *rest.Config, namespace string) (string, error) {
	b, err := Kubeconfig(cfg, cp.contextName, namespace)
	if err != nil {
		return "", err
	}
	path := filepath.Join(cp.Dir, SafeName(name)+".kubeconfig")
	return path, os.WriteFile(path, b, 0o600)
}

// ManagerUser is who the manager authenticates as in ManagerConfig.
const ManagerUser = "sdrs-operator-manager"

// Manager permissions for ManagerConfig.
const (
	// RBACGenerated binds exactly config/rbac/role.yaml (what a real
	// install grants), so a missing RBAC marker shows up locally.
	RBACGenerated = "generated"
	// RBACAdmin puts the manager in system:masters.
	RBACAdmin = "admin"
)

// ManagerConfig returns the REST config of ManagerUser with the
// permissions rbac names: RBACGenerated creates the roles of
// config/rbac/role.yaml and binds the user to them (see
// GeneratedRoles.Objects), RBACAdmin makes it a system:masters member.
func (cp *ControlPlane) ManagerConfig(ctx context.Context, rbac string) (*rest.Config, error) {
	var groups []string
	switch rbac {
	case RBACAdmin:
		groups = []string{"system:masters"}
	case RBACGenerated:
		roles, err := LoadGeneratedRoles(cp.Root)
		if err != nil {
			return nil, err
		}
		if err := cp.CreateAll(ctx, roles.Objects(ManagerUser, "-run-local")...); err != nil {
			return nil, err
		}
	default:
		return nil, fmt.Errorf("the manager's RBAC must be %s or %s, not %q", RBACGenerated, RBACAdmin, rbac)
	}
	return cp.UserConfig(ManagerUser, groups...)
}

// CreateAll creates the objects in order, and before a namespaced one its
// namespace when that does not exist yet.
func (cp *ControlPlane) CreateAll(ctx context.Context, objs ...client.Object) error {
	for _, o := range objs {
		if ns := o.GetNamespace(); ns != "" {
			if err := cp.EnsureNamespace(ctx, ns); err != nil {
				return err
			}
		}
		if err := cp.Client.Create(ctx, o); err != nil {
			return fmt.Errorf("cannot create %s %s: %w", kindOf(o), objectName(o), err)
		}
	}
	return nil
}

// EnsureNamespace creates the namespace unless it exists.
func (cp *ControlPlane) EnsureNamespace(ctx context.Context, name string) error {
	err := cp.Client.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name}})
	if err != nil && !apierrors.IsAlreadyExists(err) {
		return fmt.Errorf("cannot create namespace %s: %w", name, err)
	}
	return nil
}

// Namespace creates a namespace named prefix plus a random suffix.
func (cp *ControlPlane) Namespace(ctx context.Context, prefix string) (string, error) {
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{GenerateName: prefix}}
	if err := cp.Client.Create(ctx, ns); err != nil {
		return "", err
	}
	return ns.Name, nil
}

func kindOf(o client.Object) string {
	if k := o.GetObjectKind().GroupVersionKind().Kind; k != "" {
		return k
	}
	if gvks, _, err := Scheme.ObjectKinds(o); err == nil && len(gvks) > 0 {
		return gvks[0].Kind
	}
	return fmt.Sprintf("%T", o)
}

func objectName(o client.Object) string {
	if o.GetNamespace() == "" {
		return o.GetName()
	}
	return o.GetNamespace() + "/" + o.GetName()
}
