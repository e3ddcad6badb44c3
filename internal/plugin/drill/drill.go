// Package drill implements `kubectl sdrs drill start|end|list`: DR drills
// of ProtectionGroups, one ProtectionGroupDrill object each. start creates
// the object, end merge-patches its spec.release, list reads groups and
// drills. The plugin never writes status: the operator runs the drill in
// SDRS and reports it there.
package drill

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"

	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/duration"
	"sigs.k8s.io/controller-runtime/pkg/client"

	drv1alpha1 "github.com/sdrs-operator/sdrs-operator/api/v1alpha1"
	"github.com/sdrs-operator/sdrs-operator/internal/plugin/cli"
)

// Resource is how kubectl names the drill resource in its messages.
const Resource = "protectiongroupdrill.dr.sdrs.io"

// Live reports whether a drill may still hold SDRS drill servers: every
// phase but Released and Failed, including none yet (the operator has not
// read it).
func Live(d *drv1alpha1.ProtectionGroupDrill) bool {
	return d.Status.Phase != drv1alpha1.DrillReleased && d.Status.Phase != drv1alpha1.DrillFailed
}

// Ref names a drill the way kubectl prints it; the namespace is shown only
// when the command spans namespaces.
func Ref(d *drv1alpha1.ProtectionGroupDrill, withNamespace bool) string {
	if withNamespace {
		return fmt.Sprintf("%s/%s -n %s", Resource, d.Name, d.Namespace)
	}
	return Resource + "/" + d.Name
}

func refKey(k types.NamespacedName) string { return Resource + "/" + k.Name }

// listDrills lists the drills in the namespace, or in all of them, sorted
// by namespace and name.
func listDrills(ctx context.Context, env *cli.Env, allNamespaces bool) ([]drv1alpha1.ProtectionGroupDrill, error) {
	var opts []client.ListOption
	if !allNamespaces {
		opts = append(opts, client.InNamespace(env.Namespace))
	}
	var list drv1alpha1.ProtectionGroupDrillList
	if err := env.Client.List(ctx, &list, opts...); err != nil {
		return nil, fmt.Errorf("cannot list ProtectionGroupDrills: %w", err)
	}
	sort.Slice(list.Items, func(i, j int) bool {
		a, b := list.Items[i], list.Items[j]
		if a.Namespace != b.Namespace {
			return a.Namespace < b.Namespace
		}
		return a.Name < b.Name
	})
	return list.Items, nil
}

// liveOf returns the live drills of group ns/name among drills.
func liveOf(drills []drv1alpha1.ProtectionGroupDrill, ns, name string) []drv1alpha1.ProtectionGroupDrill {
	var out []drv1alpha1.ProtectionGroupDrill
	for _, d := range drills {
		if d.Namespace == ns && d.Spec.ProtectionGroupRef.Name == name && Live(&d) {
			out = append(out, d)
		}
	}
	return out
}

// liveWords is "name (Phase)" for each drill, for tables and refusals.
func liveWords(drills []drv1alpha1.ProtectionGroupDrill) string {
	words := make([]string, len(drills))
	for i, d := range drills {
		p := string(d.Status.Phase)
		if p == "" {
			p = "new"
		}
		if d.DeletionTimestamp != nil {
			p += ", deleting"
		}
		words[i] = fmt.Sprintf("%s (%s)", d.Name, p)
	}
	return strings.Join(words, ", ")
}

// ago is the age of t as kubectl prints ages, "-" when unknown.
func ago(t *time.Time, now time.Time) string {
	if t == nil || t.IsZero() {
		return "-"
	}
	return duration.HumanDuration(max(now.Sub(*t), 0)) + " ago"
}

// until is how far t is from now, either way.
func until(t *time.Time, now time.Time) string {
	if t == nil || t.IsZero() {
		return "-"
	}
	if d := t.Sub(now); d > 0 {
		return "in " + duration.HumanDuration(d)
	}
	return ago(t, now)
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
