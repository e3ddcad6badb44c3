package cli

import (
	"context"
	"fmt"
	"sort"

	"github.com/spf13/pflag"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	drv1alpha1 "github.com/sdrs-operator/sdrs-operator/api/v1alpha1"
)

// Selection says which ProtectionGroups a command acts on: named ones, or a
// fleet by label selector or --all, in one namespace or (-A) all of them.
type Selection struct {
	Names         []string
	Selector      string
	All           bool
	AllNamespaces bool
}

// AddFlags adds -l, -A and, for verbs that change things, --all. Reading
// verbs list everything when no name is given, as kubectl get does, so they
// need no --all.
func (s *Selection) AddFlags(fs *pflag.FlagSet, withAll bool) {
	if !withAll {
		fs.StringVarP(&s.Selector, "selector", "l", "", "only ProtectionGroups matching this label selector (e.g. -l tier=web)")
		fs.BoolVarP(&s.AllNamespaces, "all-namespaces", "A", false, "list ProtectionGroups in all namespaces, not only in the current one")
		return
	}
	fs.StringVarP(&s.Selector, "selector", "l", "", "act on ProtectionGroups matching this label selector (e.g. -l tier=web)")
	fs.BoolVarP(&s.AllNamespaces, "all-namespaces", "A", false, "select in all namespaces (with -l or --all)")
	fs.BoolVar(&s.All, "all", false, "act on every ProtectionGroup in the namespace (all namespaces with -A)")
}

// Validate checks that the selection is unambiguous. A verb that changes
// things needs exactly one of names, -l or --all: acting on a whole
// namespace must never be the default.
func (s Selection) Validate(mutating bool) error {
	n := 0
	for _, set := range []bool{len(s.Names) > 0, s.Selector != "", s.All} {
		if set {
			n++
		}
	}
	switch {
	case n > 1:
		return Usagef("give ProtectionGroup names, -l/--selector or --all, not several of them")
	case mutating && n == 0:
		return Usagef("name a ProtectionGroup, or select a fleet with -l/--selector or --all")
	case s.AllNamespaces && len(s.Names) > 0:
		return Usagef("-A/--all-namespaces selects by -l or --all, not by name: use -n NAMESPACE with names")
	}
	if s.Selector != "" {
		if _, err := labels.Parse(s.Selector); err != nil {
			return Usagef("invalid selector %q: %v", s.Selector, err)
		}
	}
	return nil
}

// Select returns the selected ProtectionGroups sorted by namespace and
// name, so that output and the order of patches are stable. Named groups
// that do not exist are an error; an empty fleet is not (callers decide).
func Select(ctx context.Context, env *Env, s Selection) ([]drv1alpha1.ProtectionGroup, error) {
	if len(s.Names) > 0 {
		out := make([]drv1alpha1.ProtectionGroup, 0, len(s.Names))
		for _, name := range s.Names {
			var pg drv1alpha1.ProtectionGroup
			if err := env.Client.Get(ctx, types.NamespacedName{Namespace: env.Namespace, Name: name}, &pg); err != nil {
				return nil, fmt.Errorf("cannot get ProtectionGroup %s/%s: %w", env.Namespace, name, err)
			}
			out = append(out, pg)
		}
		return out, nil
	}
	var opts []client.ListOption
	if !s.AllNamespaces {
		opts = append(opts, client.InNamespace(env.Namespace))
	}
	if s.Selector != "" {
		sel, err := labels.Parse(s.Selector)
		if err != nil {
			return nil, Usagef("invalid selector %q: %v", s.Selector, err)
		}
		opts = append(opts, client.MatchingLabelsSelector{Selector: sel})
	}
	var list drv1alpha1.ProtectionGroupList
	if err := env.Client.List(ctx, &list, opts...); err != nil {
		return nil, fmt.Errorf("cannot list ProtectionGroups: %w", err)
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

// Where describes the selection's scope for "nothing found" messages.
func (s Selection) Where(env *Env) string {
	where := "in namespace " + env.Namespace
	if s.AllNamespaces {
		where = "in any namespace"
	}
	if s.Selector != "" {
		where += " matching " + s.Selector
	}
	return where
}
