package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
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
	// generated it gets exactly the generated roles of role.yaml, so a
	// missing RBAC marker shows up here rather than in a real cluster.
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
// "generated" the user gets only config/rbac/role.yaml: its ClusterRole
// through a ClusterRoleBinding and its Role (Secrets, in the credentials
// namespace) through a RoleBinding; with "admin" it is in system:masters.
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

// bindGeneratedRole creates every role that `make manifests` generated into
// role.yaml and binds the manager's user to each, as config/rbac does in a
// cluster: the ClusterRole through a ClusterRoleBinding, and each namespaced
// Role (Secrets get in the credentials namespace) through a RoleBinding in
// the Role's namespace, which is created first if it does not exist.
func bindGeneratedRole(ctx context.Context, cl client.Client, path string) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("cannot read the generated manager role (run `make manifests`, or use --manager-rbac=admin): %w", err)
	}
	objs, err := generatedRBAC(b, managerUser)
	if err != nil {
		return fmt.Errorf("cannot parse %s: %w", path, err)
	}
	for _, o := range objs {
		if ns := o.GetNamespace(); ns != "" {
			err := cl.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}})
			if err != nil && !apierrors.IsAlreadyExists(err) {
				return fmt.Errorf("cannot create namespace %s: %w", ns, err)
			}
		}
		if err := cl.Create(ctx, o); err != nil {
			return fmt.Errorf("cannot create %T %s: %w", o, describeObject(o), err)
		}
	}
	return nil
}

// generatedRBAC parses every document of the generated role.yaml and
// returns, for each ClusterRole and Role, the role followed by a binding of
// it to user. A document of any other kind is an error, so a change in
// what controller-gen writes is noticed here rather than ignored.
func generatedRBAC(b []byte, user string) ([]client.Object, error) {
	subjects := []rbacv1.Subject{{APIGroup: rbacv1.GroupName, Kind: rbacv1.UserKind, Name: user}}
	var out []client.Object
	r := utilyaml.NewYAMLReader(bufio.NewReader(bytes.NewReader(b)))
	for i := 0; ; i++ {
		doc, err := r.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("document %d: %w", i, err)
		}
		var tm metav1.TypeMeta
		if err := yaml.Unmarshal(doc, &tm); err != nil {
			return nil, fmt.Errorf("document %d: %w", i, err)
		}
		switch tm.Kind {
		case "": // an empty document, as before the first ---
			continue
		case "ClusterRole":
			var role rbacv1.ClusterRole
			if err := yaml.UnmarshalStrict(doc, &role); err != nil {
				return nil, fmt.Errorf("document %d: %w", i, err)
			}
			out = append(out, &role, &rbacv1.ClusterRoleBinding{
				ObjectMeta: metav1.ObjectMeta{Name: role.Name + "-run-local"},
				RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: role.Name},
				Subjects:   subjects,
			})
		case "Role":
			var role rbacv1.Role
			if err := yaml.UnmarshalStrict(doc, &role); err != nil {
				return nil, fmt.Errorf("document %d: %w", i, err)
			}
			if role.Namespace == "" {
				return nil, fmt.Errorf("document %d: Role %s has no namespace", i, role.Name)
			}
			out = append(out, &role, &rbacv1.RoleBinding{
				ObjectMeta: metav1.ObjectMeta{Namespace: role.Namespace, Name: role.Name + "-run-local"},
				RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "Role", Name: role.Name},
				Subjects:   subjects,
			})
		default:
			return nil, fmt.Errorf("document %d: unexpected kind %q", i, tm.Kind)
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("no ClusterRole or Role")
	}
	return out, nil
}

func describeObject(o client.Object) string {
	if o.GetNamespace() == "" {
		return o.GetName()
	}
	return o.GetNamespace() + "/" + o.GetName()
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
