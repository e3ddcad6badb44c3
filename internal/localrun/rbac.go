package localrun

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/yaml"
)

// GeneratedRolesFile is where `make manifests` writes the manager's roles,
// relative to the repository root.
const GeneratedRolesFile = "config/rbac/role.yaml"

// GeneratedRoles are the documents of config/rbac/role.yaml: the
// ClusterRoles (the operator's kinds, Events, Leases, Namespaces) and the
// namespaced Roles (Secrets get in the credentials namespace), in file
// order.
type GeneratedRoles struct {
	ClusterRoles []*rbacv1.ClusterRole
	Roles        []*rbacv1.Role
}

// LoadGeneratedRoles reads and parses root/config/rbac/role.yaml.
func LoadGeneratedRoles(root string) (*GeneratedRoles, error) {
	path := filepath.Join(root, GeneratedRolesFile)
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("cannot read the generated manager role (run `make manifests`, or use --manager-rbac=admin): %w", err)
	}
	g, err := ParseGeneratedRoles(b)
	if err != nil {
		return nil, fmt.Errorf("cannot parse %s: %w", path, err)
	}
	return g, nil
}

// ParseGeneratedRoles parses every document of a role.yaml. A document of
// any kind but ClusterRole and Role, a Role without a namespace or a field
// the type does not know is an error, so a change in what controller-gen
// writes is noticed rather than ignored.
func ParseGeneratedRoles(b []byte) (*GeneratedRoles, error) {
	g := &GeneratedRoles{}
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
			role := &rbacv1.ClusterRole{}
			if err := yaml.UnmarshalStrict(doc, role); err != nil {
				return nil, fmt.Errorf("document %d: %w", i, err)
			}
			g.ClusterRoles = append(g.ClusterRoles, role)
		case "Role":
			role := &rbacv1.Role{}
			if err := yaml.UnmarshalStrict(doc, role); err != nil {
				return nil, fmt.Errorf("document %d: %w", i, err)
			}
			if role.Namespace == "" {
				return nil, fmt.Errorf("document %d: Role %s has no namespace", i, role.Name)
			}
			g.Roles = append(g.Roles, role)
		default:
			return nil, fmt.Errorf("document %d: unexpected kind %q", i, tm.Kind)
		}
	}
	if len(g.ClusterRoles)+len(g.Roles) == 0 {
		return nil, fmt.Errorf("no ClusterRole or Role")
	}
	return g, nil
}

// Objects returns, for each ClusterRole and then each Role, a copy of the
// role followed by a binding of it to user, named after the role plus
// bindingSuffix, as config/rbac binds them in a cluster: the ClusterRole
// through a ClusterRoleBinding, each Role through a RoleBinding in the
// Role's namespace. ControlPlane.CreateAll creates them (and the Roles'
// namespaces).
func (g *GeneratedRoles) Objects(user, bindingSuffix string) []client.Object {
	subjects := []rbacv1.Subject{{APIGroup: rbacv1.GroupName, Kind: rbacv1.UserKind, Name: user}}
	var out []client.Object
	for _, role := range g.ClusterRoles {
		out = append(out, role.DeepCopy(), &rbacv1.ClusterRoleBinding{
			ObjectMeta: metav1.ObjectMeta{Name: role.Name + bindingSuffix},
			RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: role.Name},
			Subjects:   subjects,
		})
	}
	for _, role := range g.Roles {
		out = append(out, role.DeepCopy(), &rbacv1.RoleBinding{
			ObjectMeta: metav1.ObjectMeta{Namespace: role.Namespace, Name: role.Name + bindingSuffix},
			RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "Role", Name: role.Name},
			Subjects:   subjects,
		})
	}
	return out
}
