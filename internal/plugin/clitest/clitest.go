// Package clitest builds verb environments around controller-runtime's
// fake client for the plugin's unit tests, and records every patch so that
// tests can assert exactly what was sent.
package clitest

import (
	"bytes"
	"context"
	"slices"
	"sync"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"
	"sigs.k8s.io/controller-runtime/pkg/client/interceptor"

	drv1alpha1 "github.com/sdrs-operator/sdrs-operator/api/v1alpha1"
	"github.com/sdrs-operator/sdrs-operator/internal/plugin/cli"
)

// Now is the fixed clock of every test environment.
var Now = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// Patch is one recorded patch request.
type Patch struct {
	Name   string
	Type   string
	Data   string
	DryRun bool
	Status bool // a status subresource patch: the plugin must never send one
}

// Env is a test environment.
type Env struct {
	*cli.Env
	Out, ErrOut *bytes.Buffer

	mu      sync.Mutex
	patches []Patch
}

// Patches returns the patches sent so far.
func (e *Env) Patches() []Patch {
	e.mu.Lock()
	defer e.mu.Unlock()
	return slices.Clone(e.patches)
}

// Option tunes the fake client.
type Option func(*builder)

type builder struct {
	funcs interceptor.Funcs
}

// WithGet replaces Get, e.g. to return a scripted sequence of statuses.
func WithGet(get func(ctx context.Context, c client.WithWatch, key client.ObjectKey, obj client.Object, opts ...client.GetOption) error) Option {
	return func(b *builder) { b.funcs.Get = get }
}

// NewEnv returns an environment in namespace "apps" holding objs.
func NewEnv(objs []client.Object, opts ...Option) *Env {
	e := &Env{Out: &bytes.Buffer{}, ErrOut: &bytes.Buffer{}}
	b := &builder{}
	for _, o := range opts {
		o(b)
	}
	b.funcs.Patch = func(ctx context.Context, c client.WithWatch, obj client.Object, patch client.Patch, po ...client.PatchOption) error {
		e.record(obj, patch, po, false)
		return c.Patch(ctx, obj, patch, po...)
	}
	b.funcs.SubResourcePatch = func(ctx context.Context, c client.Client, sub string, obj client.Object, patch client.Patch, po ...client.SubResourcePatchOption) error {
		e.record(obj, patch, nil, true)
		return c.SubResource(sub).Patch(ctx, obj, patch, po...)
	}
	c := fake.NewClientBuilder().
		WithScheme(cli.Scheme()).
		WithStatusSubresource(&drv1alpha1.ProtectionGroup{}).
		WithObjects(objs...).
		WithInterceptorFuncs(b.funcs).
		Build()
	e.Env = &cli.Env{Client: c, Namespace: "apps", Out: e.Out, ErrOut: e.ErrOut, Now: func() time.Time { return Now }}
	return e
}

func (e *Env) record(obj client.Object, patch client.Patch, po []client.PatchOption, status bool) {
	data, _ := patch.Data(obj)
	o := &client.PatchOptions{}
	o.ApplyOptions(po)
	e.mu.Lock()
	defer e.mu.Unlock()
	e.patches = append(e.patches, Patch{Name: obj.GetNamespace() + "/" + obj.GetName(), Type: string(patch.Type()),
		Data: string(data), DryRun: slices.Contains(o.DryRun, metav1.DryRunAll), Status: status})
}

// PG returns a ProtectionGroup in namespace "apps", active and Ready at
// source for generation 1, changed by mods.
func PG(name string, mods ...func(*drv1alpha1.ProtectionGroup)) *drv1alpha1.ProtectionGroup {
	pg := &drv1alpha1.ProtectionGroup{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "apps", Generation: 1},
		Spec: drv1alpha1.ProtectionGroupSpec{
			ProtectionGroupID: "pg-" + name,
			DesiredActiveSite: drv1alpha1.SiteSource,
			FailoverMode:      drv1alpha1.FailoverPlanned,
			Protection:        drv1alpha1.ProtectionEnabled,
		},
		Status: drv1alpha1.ProtectionGroupStatus{
			ObservedGeneration: 1,
			ActiveSite:         drv1alpha1.SiteSource,
			Sites:              &drv1alpha1.SiteRoles{Production: "az-1", DisasterRecovery: "az-2"},
			Replication:        &drv1alpha1.ReplicationObservation{Status: "active", Progress: 100},
			Conditions: []metav1.Condition{
				Cond(drv1alpha1.ReadyCondition, metav1.ConditionTrue, drv1alpha1.ReconciledReason, "active site source (az-1) as desired", 1),
			},
		},
	}
	for _, m := range mods {
		m(pg)
	}
	return pg
}

// Cond builds a condition for generation gen.
func Cond(typ string, s metav1.ConditionStatus, reason, msg string, gen int64) metav1.Condition {
	return metav1.Condition{Type: typ, Status: s, Reason: reason, Message: msg, ObservedGeneration: gen,
		LastTransitionTime: metav1.NewTime(Now)}
}

// Labels sets labels.
func Labels(kv ...string) func(*drv1alpha1.ProtectionGroup) {
	return func(pg *drv1alpha1.ProtectionGroup) {
		if pg.Labels == nil {
			pg.Labels = map[string]string{}
		}
		for i := 0; i+1 < len(kv); i += 2 {
			pg.Labels[kv[i]] = kv[i+1]
		}
	}
}

// Annotations sets annotations.
func Annotations(kv ...string) func(*drv1alpha1.ProtectionGroup) {
	return func(pg *drv1alpha1.ProtectionGroup) {
		if pg.Annotations == nil {
			pg.Annotations = map[string]string{}
		}
		for i := 0; i+1 < len(kv); i += 2 {
			pg.Annotations[kv[i]] = kv[i+1]
		}
	}
}

// InNamespace moves the group to ns.
func InNamespace(ns string) func(*drv1alpha1.ProtectionGroup) {
	return func(pg *drv1alpha1.ProtectionGroup) { pg.Namespace = ns }
}
