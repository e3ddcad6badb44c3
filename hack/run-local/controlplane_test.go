package main

import (
	"os"
	"testing"

	rbacv1 "k8s.io/api/rbac/v1"
)

// TestGeneratedRBAC binds what `make manifests` generated: the ClusterRole
// cluster-wide and the Secrets Role in its namespace, which must be where
// the sample ProviderConfig puts its Secret, or the sample groups could
// never become Ready with --manager-rbac=generated.
func TestGeneratedRBAC(t *testing.T) {
	b, err := os.ReadFile("../../config/rbac/role.yaml")
	if err != nil {
		t.Fatal(err)
	}
	objs, err := generatedRBAC(b, managerUser)
	if err != nil {
		t.Fatal(err)
	}
	s, err := loadSamples("../../config/samples")
	if err != nil {
		t.Fatal(err)
	}
	p, err := s.providerSettings()
	if err != nil {
		t.Fatal(err)
	}
	var clusterRoles, roles int
	secretsIn := map[string]bool{}
	for i, o := range objs {
		switch r := o.(type) {
		case *rbacv1.ClusterRole:
			clusterRoles++
			crb, ok := objs[i+1].(*rbacv1.ClusterRoleBinding)
			if !ok || crb.RoleRef.Kind != "ClusterRole" || crb.RoleRef.Name != r.Name {
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
			roles++
			rb, ok := objs[i+1].(*rbacv1.RoleBinding)
			if !ok || rb.Namespace != r.Namespace || rb.RoleRef.Kind != "Role" || rb.RoleRef.Name != r.Name {
				t.Errorf("Role %s/%s is not followed by its RoleBinding in the same namespace: %+v", r.Namespace, r.Name, objs[i+1])
			}
			for _, rule := range r.Rules {
				for _, res := range rule.Resources {
					if res == "secrets" {
						secretsIn[r.Namespace] = true
					}
				}
			}
		case *rbacv1.ClusterRoleBinding, *rbacv1.RoleBinding: // checked with their role
		default:
			t.Errorf("unexpected %T", o)
		}
	}
	if clusterRoles != 1 || roles == 0 {
		t.Errorf("want one ClusterRole and at least one Role, got %d and %d", clusterRoles, roles)
	}
	if !secretsIn[p.secretNamespace] {
		t.Errorf("the sample ProviderConfig's Secret is in %s, but the generated Roles grant Secrets only in %v", p.secretNamespace, secretsIn)
	}
}

func TestGeneratedRBACRejectsUnknownKinds(t *testing.T) {
	for name, doc := range map[string]string{
		"a ClusterRoleBinding":     "apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRoleBinding\nmetadata:\n  name: x\n",
		"a Role without namespace": "apiVersion: rbac.authorization.k8s.io/v1\nkind: Role\nmetadata:\n  name: x\n",
		"nothing":                  "---\n",
	} {
		if _, err := generatedRBAC([]byte(doc), managerUser); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}
