package cli

import (
	"encoding/json"
	"fmt"
	"strings"

	drv1alpha1 "github.com/sdrs-operator/sdrs-operator/api/v1alpha1"
)

// Restore holds the spec fields a verb changes for one move only, with the
// values to put back once the group is active at the site it asked for:
// failover sets failoverMode Forced for its own move, and a Forced mode
// left behind would make the next plain change of desiredActiveSite
// another forced failover that may lose data.
type Restore struct {
	spec map[string]any // field -> the value to put back; nil removes it (the CRD default applies)
	// Changes are what putting back changes, for people.
	Changes []FieldChange
}

// Patch renders the merge patch that puts the fields back. With a
// resourceVersion, the API server applies it only to that version of the
// object (409 Conflict otherwise), so a change made since is never
// overwritten.
func (r *Restore) Patch(resourceVersion string) ([]byte, error) {
	body := map[string]any{"spec": r.spec}
	if resourceVersion != "" {
		body["metadata"] = map[string]any{"resourceVersion": resourceVersion}
	}
	return json.Marshal(body)
}

// Command is the kubectl command that puts the fields back, for a person
// to run once the move is done.
func (r *Restore) Command(pg *drv1alpha1.ProtectionGroup) string {
	data, err := r.Patch("")
	if err != nil {
		return fmt.Sprintf("(cannot render the patch: %v)", err)
	}
	return fmt.Sprintf("kubectl patch pg %s -n %s --type merge -p '%s'", pg.Name, pg.Namespace, data)
}

// Words lists the changes as "spec.failoverMode Forced -> Planned, ...".
func (r *Restore) Words() string {
	parts := make([]string, len(r.Changes))
	for i, c := range r.Changes {
		parts[i] = fmt.Sprintf("%s %s -> %s", c.Path, c.From, c.To)
	}
	return strings.Join(parts, ", ")
}

// SetSpecForMove sets field to `to` for the move this plan asks for only:
// --wait puts `from` back once the group is active at Site, and without
// --wait the command prints the patch that does it.
func (p *Plan) SetSpecForMove(field string, from, to any) {
	p.SetSpec(field, from, to)
	if show(from) == show(to) {
		return
	}
	if p.Restore == nil {
		p.Restore = &Restore{spec: map[string]any{}}
	}
	back := from
	if fmt.Sprint(from) == "" {
		back = nil // unset before: remove it again, so the CRD default applies
	}
	p.Restore.spec[field] = back
	p.Restore.Changes = append(p.Restore.Changes, FieldChange{Path: "spec." + field, From: show(to), To: show(from)})
}
