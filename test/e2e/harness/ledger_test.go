package harness

import (
	"testing"

	"github.com/sdrs-operator/sdrs-operator/internal/emutest"
)

func TestCount(t *testing.T) {
	ok := func(op, group string) emutest.Call {
		return emutest.Call{Operation: op, GroupID: group, StatusCode: 200, Applied: true}
	}
	refused := func(op, group string) emutest.Call {
		return emutest.Call{Operation: op, GroupID: group, StatusCode: 400, ErrorCode: "SDRS.1002"}
	}
	appliedThen500 := func(op, group string) emutest.Call {
		return emutest.Call{Operation: op, GroupID: group, StatusCode: 500, Applied: true}
	}
	at := func(site, status string, power ...string) *Ledger {
		g := LedgerGroup{PriorityStation: site, Status: status, ProductionPower: map[string]string{}}
		for i, p := range power {
			g.ProductionPower[string(rune('a'+i))] = p
		}
		return &Ledger{Groups: map[string]LedgerGroup{"g": g}}
	}
	managed := map[string]int{"BatchStopServers": 1, "StartReverseProtectionGroup": 1, "BatchStartServers": 1}
	cases := []struct {
		name      string
		calls     []emutest.Call
		ledger    *Ledger
		want      Expect
		dup, lost int
	}{
		{name: "exactly once", ledger: at("target", "protected", "ACTIVE"),
			calls: []emutest.Call{ok("BatchStopServers", "g"), ok("StartReverseProtectionGroup", "g"), ok("BatchStartServers", "g"),
				ok("ShowProtectionGroup", "g"), ok("StartReverseProtectionGroup", "other")},
			want: Expect{Actions: managed, Site: "target", ServersOn: true}},
		{name: "a refused repeat is no duplicate", ledger: at("target", "protected"),
			calls: []emutest.Call{ok("StartReverseProtectionGroup", "g"), refused("StartReverseProtectionGroup", "g")},
			want:  Expect{Actions: map[string]int{"StartReverseProtectionGroup": 1}, Site: "target"}},
		{name: "an action answered 5xx after it happened counts", ledger: at("target", "protected"), dup: 1,
			calls: []emutest.Call{appliedThen500("StartReverseProtectionGroup", "g"), ok("StartReverseProtectionGroup", "g")},
			want:  Expect{Actions: map[string]int{"StartReverseProtectionGroup": 1}, Site: "target"}},
		{name: "an unexpected action is a duplicate", ledger: at("target", "protected"), dup: 1,
			calls: []emutest.Call{ok("StartReverseProtectionGroup", "g"), ok("BatchStopServers", "g")},
			want:  Expect{Actions: map[string]int{"StartReverseProtectionGroup": 1}, Site: "target"}},
		{name: "servers never started", ledger: at("target", "protected", "SHUTOFF", "ACTIVE"), lost: 2,
			calls: []emutest.Call{ok("BatchStopServers", "g"), ok("StartReverseProtectionGroup", "g")},
			want:  Expect{Actions: managed, Site: "target", ServersOn: true}},
		{name: "group left at the old site", ledger: at("source", "protected"), lost: 2,
			calls: nil,
			want:  Expect{Actions: map[string]int{"StartReverseProtectionGroup": 1}, Site: "target"}},
		{name: "group in another status", ledger: at("target", "failed-over"), lost: 1,
			calls: []emutest.Call{ok("StartFailoverProtectionGroup", "g")},
			want:  Expect{Actions: map[string]int{"StartFailoverProtectionGroup": 1}, Site: "target"}},
		{name: "group gone", ledger: &Ledger{Groups: map[string]LedgerGroup{}}, lost: 1,
			want: Expect{Site: "target"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := Count("g", c.calls, c.ledger, c.want)
			if got.Duplicates != c.dup || got.Lost != c.lost {
				t.Errorf("Count: %s (%v), want %d duplicate, %d lost", got, got.Problems, c.dup, c.lost)
			}
		})
	}
	var sum Tally
	sum.Add(Count("g", []emutest.Call{ok("StartReverseProtectionGroup", "g")}, at("target", "protected"), Expect{Actions: map[string]int{"StartReverseProtectionGroup": 1}, Site: "target"}))
	sum.Add(Count("g", nil, at("source", "protected"), Expect{Actions: map[string]int{"StartReverseProtectionGroup": 1}, Site: "target"}))
	if sum.Groups != 2 || sum.Lost != 2 || sum.Duplicates != 0 || sum.Actions["StartReverseProtectionGroup"] != 1 || sum.OK() {
		t.Errorf("sum %+v", sum)
	}
}
