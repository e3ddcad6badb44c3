package cli

import (
	"encoding/json"
	"fmt"
	"strings"

	drv1alpha1 "github.com/sdrs-operator/sdrs-operator/api/v1alpha1"
)

// FieldChange is one field a patch changes, in words for people.
type FieldChange struct {
	Path string
	From string
	To   string
}

// Plan is what a verb wants to change on one ProtectionGroup. It becomes a
// JSON merge patch of a few spec fields and annotations: the plugin never
// sends a whole object (which would fight the operator and Argo CD) and
// never touches status.
type Plan struct {
	spec        map[string]any
	annotations map[string]any // a nil value removes the annotation
	Changes     []FieldChange
	// Notes are extra lines for people, e.g. why a retry was requested.
	Notes []string
	// Site is the active site the plan asks for (SetDesiredSite); --wait
	// succeeds only once the group is active there. Empty for verbs that
	// do not move the group.
	Site drv1alpha1.Site
	// Restore is what the plan changes for its move only (SetSpecForMove).
	Restore *Restore
}

// SetDesiredSite asks for `to` as the active site.
func (p *Plan) SetDesiredSite(pg *drv1alpha1.ProtectionGroup, to drv1alpha1.Site) {
	p.SetSpec("desiredActiveSite", pg.Spec.DesiredActiveSite, to)
	p.Site = to
}

// SetSpec puts field=to in the patch and records a change when it differs
// from the current value. The field is always patched, even when equal, so
// that the patch states the verb's whole intent and a concurrent edit of
// that field between our read and our patch is overwritten, not kept.
func (p *Plan) SetSpec(field string, from, to any) {
	if p.spec == nil {
		p.spec = map[string]any{}
	}
	p.spec[field] = to
	if f, t := show(from), show(to); f != t {
		p.Changes = append(p.Changes, FieldChange{Path: "spec." + field, From: f, To: t})
	}
}

// SetAnnotation sets (or, with remove, deletes) an annotation.
func (p *Plan) SetAnnotation(pg *drv1alpha1.ProtectionGroup, key, to string, remove bool) {
	if p.annotations == nil {
		p.annotations = map[string]any{}
	}
	from, had := pg.GetAnnotations()[key]
	if remove {
		p.annotations[key] = nil
		if had {
			p.Changes = append(p.Changes, FieldChange{Path: "metadata.annotations." + key, From: show(from), To: show("")})
		}
		return
	}
	p.annotations[key] = to
	if !had || from != to {
		p.Changes = append(p.Changes, FieldChange{Path: "metadata.annotations." + key, From: show(from), To: show(to)})
	}
}

// Patch renders the merge patch. Keys come out sorted, so the bytes are
// stable for tests and for people comparing two dry runs.
func (p *Plan) Patch() ([]byte, error) {
	body := map[string]any{}
	if len(p.spec) > 0 {
		body["spec"] = p.spec
	}
	if len(p.annotations) > 0 {
		body["metadata"] = map[string]any{"annotations": p.annotations}
	}
	return json.Marshal(body)
}

// changesAnnotation reports whether the plan sets or removes key.
func (p *Plan) changesAnnotation(key string) bool {
	_, ok := p.annotations[key]
	return ok
}

// ChangedSpecFields lists the spec fields whose value the patch changes,
// in the order the verb set them.
func (p *Plan) ChangedSpecFields() []string {
	var out []string
	for _, c := range p.Changes {
		if f, ok := strings.CutPrefix(c.Path, "spec."); ok {
			out = append(out, f)
		}
	}
	return out
}

func show(v any) string {
	s := fmt.Sprint(v)
	if s == "" {
		return "(unset)"
	}
	return s
}

// ArgoCDWarning is the sentence printed when a spec change would be
// reverted by Argo CD's self-heal unless Git changes too.
const ArgoCDWarning = "managed by Argo CD: change desiredActiveSite in Git too, or Argo CD will revert it"

// ManagedByArgoCD reports whether Argo CD tracks the object: by its
// tracking-id annotation (annotation tracking) or its instance label
// (label tracking, with the default or the Argo-specific label key).
func ManagedByArgoCD(pg *drv1alpha1.ProtectionGroup) bool {
	if _, ok := pg.GetAnnotations()["argocd.argoproj.io/tracking-id"]; ok {
		return true
	}
	l := pg.GetLabels()
	_, std := l["app.kubernetes.io/instance"]
	_, argo := l["argocd.argoproj.io/instance"]
	return std || argo
}

// argoWarning words the warning for the spec fields a plan sets. Only spec
// is in Git: annotations the plugin adds are not reverted by a sync.
func argoWarning(fields []string) string {
	var others []string
	hasDesired := false
	for _, f := range fields {
		if f == "desiredActiveSite" {
			hasDesired = true
			continue
		}
		others = append(others, f)
	}
	if hasDesired {
		if len(others) == 0 {
			return ArgoCDWarning
		}
		return ArgoCDWarning + " (also " + strings.Join(others, ", ") + ")"
	}
	return "managed by Argo CD: change " + strings.Join(others, ", ") + " in Git too, or Argo CD will revert it"
}

// ValidateSite checks a --to style flag value.
func ValidateSite(flag string, s drv1alpha1.Site, required bool) error {
	switch {
	case s == "" && !required:
		return nil
	case s == "":
		return Usagef("%s is required: source or target", flag)
	case s != drv1alpha1.SiteSource && s != drv1alpha1.SiteTarget:
		return Usagef("%s must be source or target, not %q", flag, s)
	}
	return nil
}
