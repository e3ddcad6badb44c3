package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"time"

	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/envtest"
	"sigs.k8s.io/yaml"
)

const (
	// controlPlaneStartTimeout covers kube-apiserver's start on a busy
	// 2-core machine; envtest's default of 60s is too tight there.
	controlPlaneStartTimeout = 2 * time.Minute
	// managerUser is who the manager authenticates as. With --manager-rbac
	// generated it gets exactly the generated ClusterRole, so a missing
	// RBAC marker shows up here rather than in a real cluster.
	managerUser = "sdrs-operator-manager"
	// contextName names the cluster, user and context in the kubeconfigs.
	contextName = "sdrs-local"
)

type controlPlane struct {
	env   *envtest.Environment
	admin *rest.Config
}

// startControlPlane starts etcd and kube-apiserver from assets and installs
// the CRDs from config/crd/bases. Their output goes to files in logDir.
func startControlPlane(root, assets, logDir string) (*controlPlane, error) {
	if err := os.MkdirAll(logDir, 0o755); err != nil {
		return nil, err
	}
	env := &envtest.Environment{
		BinaryAssetsDirectory:    assets,
		CRDDirectoryPaths:        []string{filepath.Join(root, "config", "crd", "bases")},
		ErrorIfCRDPathMissing:    true,
		ControlPlaneStartTimeout: controlPlaneStartTimeout,
		ControlPlaneStopTimeout:  time.Minute,
	}
	etcdLog, err := os.Create(filepath.Join(logDir, "etcd.log"))
	if err != nil {
		return nil, err
	}
	apiLog, err := os.Create(filepath.Join(logDir, "kube-apiserver.log"))
	if err != nil {
		return nil, err
	}
	env.ControlPlane.Etcd = &envtest.Etcd{Out: etcdLog, Err: etcdLog}
	api := env.ControlPlane.GetAPIServer()
	api.Out, api.Err = apiLog, apiLog
	admin, err := env.Start()
	if err != nil {
		_ = env.Stop()
		return nil, fmt.Errorf("cannot start the control plane from %s (see %s): %w", assets, logDir, err)
	}
	return &controlPlane{env: env, admin: admin}, nil
}

func (c *controlPlane) stop() error { return c.env.Stop() }

// adminKubeconfig is the kubeconfig handed to people: system:masters, with
// the namespace of the sample ProtectionGroups as the default.
func (c *controlPlane) adminKubeconfig() ([]byte, error) {
	u, err := c.env.AddUser(envtest.User{Name: "sdrs-local-admin", Groups: []string{"system:masters"}}, nil)
	if err != nil {
		return nil, fmt.Errorf("cannot add the admin user: %w", err)
	}
	return kubeconfig(u.Config(), samplesNamespace)
}

// managerKubeconfig returns the manager's kubeconfig. With rbacMode
// "generated" the user gets only config/rbac/role.yaml through a
// ClusterRoleBinding; with "admin" it is in system:masters.
func (c *controlPlane) managerKubeconfig(ctx context.Context, cl client.Client, root, rbacMode string, log *logger) ([]byte, error) {
	var groups []string
	switch rbacMode {
	case "admin":
		groups = []string{"system:masters"}
	case "generated":
		if err := bindGeneratedRole(ctx, cl, filepath.Join(root, "config", "rbac", "role.yaml")); err != nil {
			return nil, err
		}
	default:
		return nil, fmt.Errorf("--manager-rbac must be generated or admin, not %q", rbacMode)
	}
	u, err := c.env.AddUser(envtest.User{Name: managerUser, Groups: groups}, nil)
	if err != nil {
		return nil, fmt.Errorf("cannot add the manager user: %w", err)
	}
	log.Printf("manager runs as %s with %s permissions", managerUser, rbacMode)
	return kubeconfig(u.Config(), "")
}

// bindGeneratedRole creates the ClusterRole that `make manifests` generated
// and binds the manager's user to it, as config/rbac does in a cluster.
func bindGeneratedRole(ctx context.Context, cl client.Client, path string) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("cannot read the generated manager role (run `make manifests`, or use --manager-rbac=admin): %w", err)
	}
	var role rbacv1.ClusterRole
	if err := yaml.UnmarshalStrict(b, &role); err != nil {
		return fmt.Errorf("cannot parse %s: %w", path, err)
	}
	if err := cl.Create(ctx, &role); err != nil {
		return fmt.Errorf("cannot create ClusterRole %s: %w", role.Name, err)
	}
	binding := &rbacv1.ClusterRoleBinding{
		ObjectMeta: metav1.ObjectMeta{Name: role.Name + "-run-local"},
		RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: role.Name},
		Subjects:   []rbacv1.Subject{{APIGroup: rbacv1.GroupName, Kind: rbacv1.UserKind, Name: managerUser}},
	}
	if err := cl.Create(ctx, binding); err != nil {
		return fmt.Errorf("cannot bind ClusterRole %s: %w", role.Name, err)
	}
	return nil
}

// kubeconfig renders a client certificate config as a kubeconfig file.
func kubeconfig(cfg *rest.Config, namespace string) ([]byte, error) {
	kc := clientcmdapi.NewConfig()
	kc.Clusters[contextName] = &clientcmdapi.Cluster{Server: cfg.Host, CertificateAuthorityData: cfg.CAData}
	kc.AuthInfos[contextName] = &clientcmdapi.AuthInfo{ClientCertificateData: cfg.CertData, ClientKeyData: cfg.KeyData}
	kc.Contexts[contextName] = &clientcmdapi.Context{Cluster: contextName, AuthInfo: contextName, Namespace: namespace}
	kc.CurrentContext = contextName
	return clientcmd.Write(*kc)
}
