package harness

import (
	"context"
	"fmt"
	"sort"
	"strings"

	"github.com/sdrs-operator/sdrs-operator/internal/emutest"
)

// Exactly once, counted from the outside. A row that injects a crash, a
// handover or a failed job says which actions each operation it asked for
// should have carried out, and where the group must end; the ledger then
// counts, from the emulator's call log and state alone:
//
//   - duplicate actions: carried-out SDRS and ECS actions (Accepted: 2xx
//     answers and actions answered 5xx after they happened) beyond the ones
//     expected, of any operation;
//   - lost actions: expected actions that were never carried out, plus
//     outcomes not in effect at the end: the group not at the site and in
//     the status asked for, a server at its production site not running
//     when serverPower Managed should have started it.

// Expect is what one group's operations should have done.
type Expect struct {
	// Actions are the carried-out actions expected, by operation, exactly.
	Actions map[string]int
	// Site is where the group must end ("source" or "target"), in Status
	// ("protected" when empty). No site: the end state is not checked.
	Site   string
	Status string
	// ServersOn asks every server at the group's production site to be
	// ACTIVE at the end (serverPower Managed started them).
	ServersOn bool
}

// Tally is the count for one group, or the sum over many.
type Tally struct {
	Groups     int
	Actions    map[string]int
	Duplicates int
	Lost       int
	// Problems says what each duplicate or lost action was (the first few).
	Problems []string
}

// Add sums another group's tally into t.
func (t *Tally) Add(o Tally) {
	if t.Actions == nil {
		t.Actions = map[string]int{}
	}
	t.Groups += o.Groups
	for k, v := range o.Actions {
		t.Actions[k] += v
	}
	t.Duplicates += o.Duplicates
	t.Lost += o.Lost
	if len(t.Problems) < 20 {
		t.Problems = append(t.Problems, o.Problems...)
	}
}

// OK reports no duplicate and no lost action.
func (t Tally) OK() bool { return t.Duplicates == 0 && t.Lost == 0 }

// String is the row text, e.g. "0 duplicate, 0 lost actions".
func (t Tally) String() string {
	return fmt.Sprintf("%d duplicate, %d lost actions", t.Duplicates, t.Lost)
}

// LedgerGroup is one group as the emulator holds it now.
type LedgerGroup struct {
	Status, PriorityStation string
	// ProductionPower is the power of each server at the group's current
	// production site, by server ID.
	ProductionPower map[string]string
}

// Ledger is the part of the emulator's state an exactly-once count reads.
type Ledger struct {
	Groups map[string]LedgerGroup
}

// Ledger reads every group's site, status and production servers' power.
func (e *Emulator) Ledger(ctx context.Context) (*Ledger, error) {
	raw, err := e.AdminClient().State(ctx)
	if err != nil {
		return nil, err
	}
	str := func(m map[string]any, k string) string { v, _ := m[k].(string); return v }
	power := map[string]string{}
	for _, s := range asList(raw["servers"]) {
		power[str(s, "id")] = str(s, "status")
	}
	l := &Ledger{Groups: map[string]LedgerGroup{}}
	for _, g := range asList(raw["groups"]) {
		l.Groups[str(g, "id")] = LedgerGroup{Status: str(g, "status"), PriorityStation: str(g, "priority_station"),
			ProductionPower: map[string]string{}}
	}
	for _, in := range asList(raw["instances"]) {
		g, ok := l.Groups[str(in, "server_group_id")]
		if !ok {
			continue
		}
		srv := str(in, "source_server")
		if g.PriorityStation == "target" {
			srv = str(in, "target_server")
		}
		if srv != "" {
			g.ProductionPower[srv] = power[srv]
		}
	}
	return l, nil
}

// Count tallies one group: calls is its call log (other groups' calls are
// ignored), l the emulator's state at the end.
func Count(groupID string, calls []emutest.Call, l *Ledger, want Expect) Tally {
	var mine []emutest.Call
	for _, c := range calls {
		if c.GroupID == groupID {
			mine = append(mine, c)
		}
	}
	got := ActionCounts(mine)
	t := Tally{Groups: 1, Actions: got}
	short := groupID
	if len(short) > 8 {
		short = short[:8]
	}
	for _, op := range Actions {
		switch g, w := got[op], want.Actions[op]; {
		case g > w:
			t.Duplicates += g - w
			t.Problems = append(t.Problems, fmt.Sprintf("group %s: %s carried out %d times, expected %d", short, op, g, w))
		case g < w:
			t.Lost += w - g
			t.Problems = append(t.Problems, fmt.Sprintf("group %s: %s carried out %d times, expected %d", short, op, g, w))
		}
	}
	if want.Site == "" {
		return t
	}
	status := want.Status
	if status == "" {
		status = "protected"
	}
	g, ok := l.Groups[groupID]
	switch {
	case !ok:
		t.Lost++
		t.Problems = append(t.Problems, fmt.Sprintf("group %s: gone from SDRS, expected %s at %s", short, status, want.Site))
	case g.PriorityStation != want.Site || g.Status != status:
		t.Lost++
		t.Problems = append(t.Problems, fmt.Sprintf("group %s: %s at %s, expected %s at %s", short, g.Status, g.PriorityStation, status, want.Site))
	}
	if want.ServersOn && ok {
		ids := make([]string, 0, len(g.ProductionPower))
		for id := range g.ProductionPower {
			ids = append(ids, id)
		}
		sort.Strings(ids)
		var off []string
		for _, id := range ids {
			if g.ProductionPower[id] != "ACTIVE" {
				off = append(off, id+" "+g.ProductionPower[id])
			}
		}
		if len(off) > 0 {
			t.Lost += len(off)
			t.Problems = append(t.Problems, fmt.Sprintf("group %s: production servers not started: %s", short, strings.Join(off, ", ")))
		}
	}
	return t
}
