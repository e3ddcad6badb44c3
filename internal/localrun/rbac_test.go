package localrun

import (
	"testing"

	rbacv1 "k8s.io/api/rbac/v1"
)

// TestGeneratedRolesObjects binds what `make manifests` generated: the
// ClusterRole cluster-wide (with no Secrets rule) and each Role in its
// namespace, each role followed by its binding to the user.
func TestGeneratedRolesObjects(t *testing.T) {
	g, err := LoadGeneratedRoles("../..")
	if err != nil {
		t.Fatal(err)
	}
	if len(g.ClusterRoles) != 1 || len(g.Roles) == 0 {
		t.Errorf("want one ClusterRole and at least one Role, got %d and %d", len(g.ClusterRoles), len(g.Roles))
	}
	objs := g.Objects(ManagerUser, "-x")
	if len(objs) != 2*(len(g.ClusterRoles)+len(g.Roles)) {
		t.Fatalf("want a binding per role, got %d objects", len(objs))
	}
	for i := 0; i < len(objs); i += 2 {
		switch r := objs[i].(type) {
		case *rbacv1.ClusterRole:
			crb, ok := objs[i+1].(*rbacv1.ClusterRoleBinding)
			if !ok || crb.RoleRef.Kind != "ClusterRole" || crb.RoleRef.Name != r.Name || crb.Name != r.Name+"-x" || crb.Subjects[0].Name != ManagerUser {
				t.Errorf("ClusterRole %s is not followed by its ClusterRoleBinding: %+v", r.Name, objs[i+1])
			}
			for _, rule := range r.Rules {
				for _, res := range rule.Resources {
					if res == "secrets" {
						t.Errorf("the ClusterRole grants %v on Secrets in every namespace", rule.Verbs)
					}
				}
			}
		case *rbacv1.Role:
			rb, ok := objs[i+1].(*rbacv1.RoleBinding)
			if !ok || rb.Namespace != r.Namespace || rb.RoleRef.Kind != "Role" || rb.RoleRef.Name != r.Name || rb.Subjects[0].Name != ManagerUser {
				t.Errorf("Role %s/%s is not followed by its RoleBinding in the same namespace: %+v", r.Namespace, r.Name, objs[i+1])
			}
		default:
			t.Errorf("unexpected %T at %d", objs[i], i)
		}
	}
}

func TestParseGeneratedRolesRejectsUnknownKinds(t *testing.T) {
	for name, doc := range map[string]string{
		"a ClusterRoleBinding":     "apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRoleBinding\nmetadata:\n  name: x\n",
		"a Role without namespace": "apiVersion: rbac.authorization.k8s.io/v1\nkind: Role\nmetadata:\n  name: x\n",
		"an unknown field":         "apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\nmetadata:\n  name: x\nrulez: []\n",
		"nothing":                  "---\n",
	} {
		if _, err := ParseGeneratedRoles([]byte(doc)); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}
