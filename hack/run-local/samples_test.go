package main

import (
	"slices"
	"sort"
	"testing"

	"github.com/google/go-cmp/cmp"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"

	drv1alpha1 "github.com/sdrs-operator/sdrs-operator/api/v1alpha1"
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

// TestSamplePlanCoversSampleGroups keeps the sample DRPlan and the sample
// ProtectionGroups' labels in step: the plan selects every labelled group,
// each of its waves selects at least one, and the waves together select
// every member exactly once, as the plan controller requires. run-local
// applies the plan, so it must also be armed (no desiredActiveSite) and in
// the groups' namespace.
func TestSamplePlanCoversSampleGroups(t *testing.T) {
	s, err := loadSamples("../../config/samples")
	if err != nil {
		t.Fatal(err)
	}
	plans := s.plansInNamespace()
	if len(plans) != 1 {
		t.Fatalf("want one sample DRPlan, got %d", len(plans))
	}
	if s.plans[0].GetNamespace() != "" {
		t.Errorf("the sample plan names namespace %q; without one it goes wherever its groups are applied", s.plans[0].GetNamespace())
	}
	var plan drv1alpha1.DRPlan
	if err := runtime.DefaultUnstructuredConverter.FromUnstructuredWithValidation(plans[0].Object, &plan, true); err != nil {
		t.Fatalf("the sample plan does not decode strictly: %v", err)
	}
	if plan.Namespace != samplesNamespace {
		t.Errorf("plan namespace: want %s, got %q", samplesNamespace, plan.Namespace)
	}
	if plan.Spec.DesiredActiveSite != "" {
		t.Errorf("run-local applies the sample plan, so it must be armed (no desiredActiveSite), got %q", plan.Spec.DesiredActiveSite)
	}
	ids := map[string]string{}
	for name := range demoGroups {
		ids[name] = "id-" + name
	}
	groups, err := s.withGroupIDs(ids)
	if err != nil {
		t.Fatal(err)
	}
	selector := func(what string, ls metav1.LabelSelector) labels.Selector {
		t.Helper()
		sel, err := metav1.LabelSelectorAsSelector(&ls)
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		return sel
	}
	planSel := selector("plan selector", plan.Spec.Selector)
	inWaves := map[string][]string{} // member -> the waves that select it
	var members []string
	for _, g := range groups {
		if g.GetNamespace() != plan.Namespace {
			t.Errorf("%s is in %s, the plan in %s: a plan selects only in its own namespace", g.GetName(), g.GetNamespace(), plan.Namespace)
		}
		l := labels.Set(g.GetLabels())
		if !planSel.Matches(l) {
			if l["app.kubernetes.io/part-of"] != "" || l["dr.sdrs.io/tier"] != "" {
				t.Errorf("%s carries the plan's labels %v but the plan selector %s does not select it", g.GetName(), g.GetLabels(), planSel)
			}
			continue
		}
		members = append(members, g.GetName())
		inWaves[g.GetName()] = nil
	}
	if len(members) != len(groups) {
		t.Errorf("the plan selects %v of the %d sample groups; label them all", members, len(groups))
	}
	for _, w := range plan.Spec.Waves {
		sel := selector("wave "+w.Name, w.Selector)
		n := 0
		for _, g := range groups {
			if _, member := inWaves[g.GetName()]; member && sel.Matches(labels.Set(g.GetLabels())) {
				inWaves[g.GetName()] = append(inWaves[g.GetName()], w.Name)
				n++
			}
		}
		if n == 0 {
			t.Errorf("wave %s (%s) selects no sample group", w.Name, sel)
		}
	}
	for m, ws := range inWaves {
		if len(ws) != 1 {
			t.Errorf("member %s is in waves %v; every member must be in exactly one", m, ws)
		}
	}
	var names []string
	for _, w := range plan.Spec.Waves {
		names = append(names, w.Name)
	}
	if diff := cmp.Diff([]string{"databases", "apps", "web"}, names); diff != "" {
		t.Errorf("waves: -want, +got:\n%s", diff)
	}
}
