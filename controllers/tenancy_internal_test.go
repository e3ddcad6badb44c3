package controllers

import (
	"context"
	"errors"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"

	drv1alpha1 "github.com/sdrs-operator/sdrs-operator/api/v1alpha1"
)

func tenancyScheme(t *testing.T) *runtime.Scheme {
	t.Helper()
	s := runtime.NewScheme()
	if err := clientgoscheme.AddToScheme(s); err != nil {
		t.Fatal(err)
	}
	if err := drv1alpha1.AddToScheme(s); err != nil {
		t.Fatal(err)
	}
	return s
}

// The decision table of checkNamespaceAllowed, on a fake API.
func TestCheckNamespaceAllowed(t *testing.T) {
	ns := func(name string, labels map[string]string) *corev1.Namespace {
		return &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name, Labels: labels}}
	}
	deleting := metav1.Now()
	cases := map[string]struct {
		reason   string
		sel      *metav1.LabelSelector
		ns       string
		policy   drv1alpha1.DeletionPolicy
		deleting bool
		allowed  bool
		want     []string // in the Stalled message
	}{
		"Unset": {reason: "no selector keeps existing setups working", ns: "plain", allowed: true},
		"Empty": {reason: "{} selects everything, as in Kubernetes", sel: &metav1.LabelSelector{}, ns: "plain", allowed: true},
		"Matches": {reason: "a labelled namespace is selected",
			sel: &metav1.LabelSelector{MatchLabels: map[string]string{"team": "a"}}, ns: "team-a", allowed: true},
		"Expression": {reason: "expressions select too",
			sel: &metav1.LabelSelector{MatchExpressions: []metav1.LabelSelectorRequirement{{Key: "env", Operator: metav1.LabelSelectorOpIn, Values: []string{"prod"}}}},
			ns:  "team-a", allowed: true},
		"NoLabels": {reason: "a namespace without labels is not selected",
			sel: &metav1.LabelSelector{MatchLabels: map[string]string{"team": "a"}}, ns: "plain",
			want: []string{`ProviderConfig "pc"`, `"team=a"`, `namespace "plain"`, "spec.providerConfigRef.name"}},
		"OtherValue": {reason: "another tenant's label value is not selected",
			sel: &metav1.LabelSelector{MatchLabels: map[string]string{"team": "b"}}, ns: "team-a",
			want: []string{`"team=b"`, `namespace "team-a"`}},
		"NotIn": {reason: "NotIn excludes",
			sel: &metav1.LabelSelector{MatchExpressions: []metav1.LabelSelectorRequirement{{Key: "env", Operator: metav1.LabelSelectorOpNotIn, Values: []string{"prod"}}}},
			ns:  "team-a", want: []string{"env notin (prod)"}},
		"MissingNamespace": {reason: "a namespace the cache does not know is refused, not waited for",
			sel: &metav1.LabelSelector{MatchLabels: map[string]string{"team": "a"}}, ns: "gone",
			want: []string{`namespace "gone"`}},
		"Invalid": {reason: "an invalid selector admits nobody",
			sel: &metav1.LabelSelector{MatchExpressions: []metav1.LabelSelectorRequirement{{Key: "env", Operator: "Maybe"}}}, ns: "team-a",
			want: []string{"invalid spec.namespaceSelector", "Maybe"}},
		"DeletingWithDelete": {reason: "a group being deleted with Delete is told how to let go",
			sel: &metav1.LabelSelector{MatchLabels: map[string]string{"team": "b"}}, ns: "team-a",
			policy: drv1alpha1.DeletionDelete, deleting: true, want: []string{"deletionPolicy to Orphan"}},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			kube := fake.NewClientBuilder().WithScheme(tenancyScheme(t)).WithObjects(
				ns("plain", nil), ns("team-a", map[string]string{"team": "a", "env": "prod"})).Build()
			r := &ProtectionGroupReconciler{Client: kube}
			pg := &drv1alpha1.ProtectionGroup{ObjectMeta: metav1.ObjectMeta{Namespace: tc.ns, Name: "web"}}
			pg.Spec.DeletionPolicy = tc.policy
			if tc.deleting {
				pg.DeletionTimestamp = &deleting
			}
			pc := &drv1alpha1.ProviderConfig{ObjectMeta: metav1.ObjectMeta{Name: "pc"}}
			pc.Spec.NamespaceSelector = tc.sel
			err := r.checkNamespaceAllowed(context.Background(), pg, pc)
			if tc.allowed {
				if err != nil {
					t.Fatalf("%s: refused: %v", tc.reason, err)
				}
				return
			}
			var se *stallError
			if !errors.As(err, &se) || se.reason != drv1alpha1.NamespaceNotAllowedReason {
				t.Fatalf("%s: got %v, want a NamespaceNotAllowed stall", tc.reason, err)
			}
			for _, w := range tc.want {
				if !strings.Contains(se.message, w) {
					t.Errorf("message %q does not say %s", se.message, w)
				}
			}
			if !tc.deleting && strings.Contains(se.message, "deletionPolicy") {
				t.Errorf("message %q talks about deletion of a group not being deleted", se.message)
			}
		})
	}
}

// A relabelled namespace wakes exactly its own groups.
func TestGroupsForNamespace(t *testing.T) {
	pg := func(ns, name string) *drv1alpha1.ProtectionGroup {
		return &drv1alpha1.ProtectionGroup{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name}}
	}
	kube := fake.NewClientBuilder().WithScheme(tenancyScheme(t)).WithObjects(pg("a", "web"), pg("a", "erp"), pg("b", "files")).Build()
	r := &ProtectionGroupReconciler{Client: kube}
	reqs := r.groupsForNamespace(context.Background(), &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "a"}})
	var got []string
	for _, q := range reqs {
		got = append(got, q.String())
	}
	if strings.Join(got, ",") != "a/erp,a/web" {
		t.Errorf("woke %v, want a/erp and a/web", got)
	}
}
