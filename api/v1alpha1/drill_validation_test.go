package v1alpha1_test

import (
	"context"
	"testing"
	"time"

	"sigs.k8s.io/controller-runtime/pkg/client"

	drv1alpha1 "github.com/sdrs-operator/sdrs-operator/api/v1alpha1"
)

func drillSpec() map[string]any {
	return map[string]any{"protectionGroupRef": map[string]any{"name": "erp"}}
}

func TestProtectionGroupDrillAdmission(t *testing.T) {
	needAPIServer(t)
	ctx := context.Background()
	ns := newNamespace(t, ctx)

	t.Run("minimal drill gets every default", func(t *testing.T) {
		obj := newObject(drillGVK, ns, "minimal", drillSpec())
		if err := k8s.Create(ctx, obj); err != nil {
			t.Fatalf("a minimal drill was refused: %v", err)
		}
		d := &drv1alpha1.ProtectionGroupDrill{}
		if err := k8s.Get(ctx, client.ObjectKeyFromObject(obj), d); err != nil {
			t.Fatal(err)
		}
		if d.Spec.TTL.Duration != 4*time.Hour || d.Spec.DeletionPolicy != drv1alpha1.DeletionDelete || d.Spec.Release {
			t.Errorf("defaults: %+v", d.Spec)
		}
	})

	cases := []admissionCase{
		{
			name: "protectionGroupRef missing", reason: "a drill belongs to one group",
			spec: drillSpec, mutate: []mutation{del("protectionGroupRef")},
			want: []string{"spec.protectionGroupRef", "Required value"},
		},
		{
			name: "protectionGroupRef changed", reason: "the SDRS drill was made from one group's disks",
			spec: drillSpec, update: true, mutate: []mutation{set("protectionGroupRef.name", "other")},
			want: []string{"protectionGroupRef is immutable"},
		},
		{
			name: "drillVpcID changed", reason: "SDRS creates the drill servers in one VPC",
			spec: func() map[string]any { s := drillSpec(); s["drillVpcID"] = "vpc-a"; return s }, update: true,
			mutate: []mutation{set("drillVpcID", "vpc-b")},
			want:   []string{"drillVpcID is immutable"},
		},
		{
			name: "drillVpcID added later", reason: "the VPC is chosen when the drill is created",
			spec: drillSpec, update: true, mutate: []mutation{set("drillVpcID", "vpc-b")},
			want: []string{"drillVpcID is immutable"},
		},
		{
			name: "release undone", reason: "a drill being deleted cannot come back",
			spec: func() map[string]any { s := drillSpec(); s["release"] = true; return s }, update: true,
			mutate: []mutation{set("release", false)},
			want:   []string{"release cannot be undone"},
		},
		{
			name: "outcome result unknown", reason: "an audit records Passed or Failed",
			spec: drillSpec, mutate: []mutation{set("outcome", map[string]any{"result": "OK"})},
			want: []string{"spec.outcome.result", `Unsupported value: "OK"`},
		},
		{
			name: "deletionPolicy unknown", reason: "Delete or Orphan only",
			spec: drillSpec, mutate: []mutation{set("deletionPolicy", "Keep")},
			want: []string{"spec.deletionPolicy", `Unsupported value: "Keep"`},
		},
	}
	runAdmissionCases(t, ctx, drillGVK, ns, "drill", cases)
}
