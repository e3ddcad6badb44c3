package main

import (
	"slices"
	"sort"
	"testing"

	"github.com/google/go-cmp/cmp"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/sdrs-operator/sdrs-operator/internal/localrun"
)

// TestSamplesMatchDemoGroups keeps config/samples, config/rbac and the
// seeded demo groups in step: every sample ProtectionGroup adopts one demo group and every demo
// group is adopted, so run-local never applies a placeholder ID.
func TestSamplesMatchDemoGroups(t *testing.T) {
	s, err := loadSamples("../../config/samples")
	if err != nil {
		t.Fatal(err)
	}
	p, err := s.providerSettings()
	if err != nil {
		t.Fatal(err)
	}
	if p.secretNamespace == "" || p.secretName == "" || p.projectID == "" {
		t.Errorf("provider settings incomplete: %+v", p)
	}
	// With --manager-rbac=generated the manager gets exactly role.yaml,
	// whose Secrets Role must be where the sample ProviderConfig puts its
	// Secret, or the sample groups could never become Ready.
	roles, err := localrun.LoadGeneratedRoles("../..")
	if err != nil {
		t.Fatal(err)
	}
	secretsIn := map[string]bool{}
	for _, r := range roles.Roles {
		for _, rule := range r.Rules {
			if slices.Contains(rule.Resources, "secrets") {
				secretsIn[r.Namespace] = true
			}
		}
	}
	if !secretsIn[p.secretNamespace] {
		t.Errorf("the sample ProviderConfig's Secret is in %s, but the generated Roles grant Secrets only in %v", p.secretNamespace, secretsIn)
	}
	ids := map[string]string{}
	var want []string
	for name := range demoGroups {
		ids[name] = "id-" + name
		want = append(want, name+"=id-"+name)
	}
	groups, err := s.withGroupIDs(ids)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, g := range groups {
		id, _, _ := unstructured.NestedString(g.Object, "spec", "protectionGroupID")
		got = append(got, g.GetName()+"="+id)
		if g.GetNamespace() != samplesNamespace {
			t.Errorf("%s: want namespace %s, got %q", g.GetName(), samplesNamespace, g.GetNamespace())
		}
	}
	sort.Strings(want)
	sort.Strings(got)
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("sample ProtectionGroup -> demo group ID: -want, +got:\n%s", diff)
	}

	pc := s.withEndpoints("http://127.0.0.1:1", "http://127.0.0.1:2")
	if ep, _, _ := unstructured.NestedString(pc.Object, "spec", "endpoint"); ep != "http://127.0.0.1:1" {
		t.Errorf("endpoint not substituted: %q", ep)
	}
	if ep, _, _ := unstructured.NestedString(s.providerConfig.Object, "spec", "endpoint"); ep != "http://127.0.0.1:8780" {
		t.Errorf("withEndpoints must not change the loaded sample, got %q", ep)
	}
	if ok, _, _ := unstructured.NestedBool(pc.Object, "spec", "allowInsecureHTTP"); !ok {
		t.Error("the emulator is plain http: withEndpoints must set allowInsecureHTTP, or admission refuses the ProviderConfig")
	}
}
