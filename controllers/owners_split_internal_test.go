package controllers

import (
	"context"
	"errors"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"

	drv1alpha1 "github.com/sdrs-operator/sdrs-operator/api/v1alpha1"
)

// countingReader counts the lists sent to the API server, and fails them
// when told.
type countingReader struct {
	client.Reader
	lists int
	err   error
}

func (c *countingReader) List(ctx context.Context, list client.ObjectList, opts ...client.ListOption) error {
	c.lists++
	if c.err != nil {
		return c.err
	}
	return c.Reader.List(ctx, list, opts...)
}

// The cluster-wide owner check, with PartialCache, before an action: the
// API server's copies decide, with one filtered read when anyone already
// manages the group and two for a group nobody manages yet; a failed read
// is an error (wait), never a go-ahead.
func TestOwnersClusterWideReads(t *testing.T) {
	const id = "group-1"
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	pg := func(ns, uid string, age time.Duration, managing bool) *drv1alpha1.ProtectionGroup {
		p := &drv1alpha1.ProtectionGroup{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "pg", UID: types.UID(uid),
			CreationTimestamp: metav1.NewTime(t0.Add(-age))}}
		p.Spec.ProtectionGroupID = id
		if managing {
			p.Status.Group = &drv1alpha1.GroupObservation{ID: id, Status: "protected"}
		}
		return p
	}
	for _, tc := range []struct {
		name      string
		self      *drv1alpha1.ProtectionGroup
		others    []*drv1alpha1.ProtectionGroup
		failRead  bool
		wantLists int
		wantStall bool
		wantErr   bool
	}{
		{name: "sole owner, managing", self: pg("a", "a", time.Hour, true), wantLists: 1},
		{name: "managing, a younger adopter elsewhere", self: pg("a", "a", time.Hour, true),
			others: []*drv1alpha1.ProtectionGroup{pg("b", "b", time.Minute, false)}, wantLists: 1},
		{name: "adopter, an owner elsewhere manages", self: pg("b", "b", 2*time.Hour, false),
			others: []*drv1alpha1.ProtectionGroup{pg("a", "a", time.Hour, true)}, wantLists: 1, wantStall: true},
		{name: "both manage, the other is older", self: pg("b", "b", time.Minute, true),
			others: []*drv1alpha1.ProtectionGroup{pg("a", "a", time.Hour, true)}, wantLists: 1, wantStall: true},
		{name: "two adopters, self older", self: pg("a", "a", time.Hour, false),
			others: []*drv1alpha1.ProtectionGroup{pg("b", "b", time.Minute, false)}, wantLists: 2},
		{name: "two adopters, self younger", self: pg("b", "b", time.Minute, false),
			others: []*drv1alpha1.ProtectionGroup{pg("a", "a", time.Hour, false)}, wantLists: 2, wantStall: true},
		{name: "same second, lower UID wins", self: pg("b", "b", time.Minute, false),
			others: []*drv1alpha1.ProtectionGroup{pg("a", "a", time.Minute, false)}, wantLists: 2, wantStall: true},
		{name: "the API server does not answer", self: pg("a", "a", time.Hour, true), failRead: true, wantLists: 1, wantErr: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			scheme := runtime.NewScheme()
			if err := drv1alpha1.AddToScheme(scheme); err != nil {
				t.Fatal(err)
			}
			objs := []client.Object{tc.self.DeepCopy()}
			for _, o := range tc.others {
				objs = append(objs, o)
			}
			kube := fake.NewClientBuilder().WithScheme(scheme).WithObjects(objs...).
				WithStatusSubresource(&drv1alpha1.ProtectionGroup{}).
				WithIndex(&drv1alpha1.ProtectionGroup{}, fieldSpecGroupID, func(o client.Object) []string {
					return []string{o.(*drv1alpha1.ProtectionGroup).Spec.ProtectionGroupID}
				}).
				WithIndex(&drv1alpha1.ProtectionGroup{}, fieldStatusGroupID, func(o client.Object) []string {
					if g := o.(*drv1alpha1.ProtectionGroup).Status.Group; g != nil {
						return []string{g.ID}
					}
					return []string{""}
				}).
				Build()
			api := &countingReader{Reader: kube}
			if tc.failRead {
				api.err = errors.New("connection refused")
			}
			r := &ProtectionGroupReconciler{APIReader: api, PartialCache: true}
			err := r.checkOwnersClusterWide(context.Background(), newScope(tc.self))
			var se *stallError
			switch {
			case tc.wantErr:
				if err == nil || errors.As(err, &se) {
					t.Errorf("got %v, want a plain error (wait)", err)
				}
			case tc.wantStall:
				if !errors.As(err, &se) || se.reason != drv1alpha1.GroupConflictReason {
					t.Errorf("got %v, want Stalled/GroupConflict", err)
				}
			case err != nil:
				t.Errorf("got %v, want the go-ahead", err)
			}
			if api.lists != tc.wantLists {
				t.Errorf("%d reads of the API server, want %d", api.lists, tc.wantLists)
			}
		})
	}
}
