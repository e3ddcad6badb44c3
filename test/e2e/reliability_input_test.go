//go:build e2e

package e2e

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"reflect"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"

	drv1alpha1 "github.com/sdrs-operator/sdrs-operator/api/v1alpha1"
	"github.com/sdrs-operator/sdrs-operator/internal/emutest"
	"github.com/sdrs-operator/sdrs-operator/test/e2e/harness"
)

// relBadInput: objects that pass admission but are wrong in the cloud.
func relBadInput(t *testing.T) {
	relReport.Add(harness.Row{Order: 84, Area: "Bad input", Passed: true, Test: "api/v1alpha1: TestProtectionGroupAdmissionRefusesInvalidObjects, TestProviderConfigAdmissionRefusesInvalidObjects",
		Fault:  "invalid ProtectionGroups and ProviderConfigs (both or neither of protectionGroupID/forProvider, Forced without allowDataLoss, equal zones, bad names, endpoints, immutable fields, ...)",
		Assert: "rejected at admission by the CRD's OpenAPI and CEL rules with the message a person needs (envtest, table-driven; not repeated here)",
		Result: "covered by the api package's envtest suite, run by `make test`"})
	s := newScenario(t, harness.Row{Order: 85, Area: "Bad input",
		Fault:  "objects that pass admission but are wrong in the cloud: an unknown SDRS group ID; forProvider with an availability zone SDRS does not have; two ProtectionGroups adopting one SDRS group, both asking for a switchover",
		Assert: "Stalled with GroupNotFound naming the ID and project; a Stalled condition naming the refused zone and no group created; exactly one of the two acts (one reverse accepted), the other Stalled/GroupConflict naming the owner"},
		scenarioOptions{emulator: harness.EmulatorOptions{JobDuration: time.Second}})
	g := s.seed(emutest.Group{Name: "shared", Instances: []emutest.Instance{off}})[0]
	s.manager("m")

	const unknownID = "00000000-0000-4000-8000-000000000000"
	unknown := s.adopt("unknown", unknownID, manual)

	raw, err := s.emu.Admin.State(s.ctx)
	if err != nil {
		t.Fatal(err)
	}
	domainID := ""
	for _, d := range asMaps(raw["domains"]) {
		domainID, _ = d["id"].(string)
	}
	badZone := &drv1alpha1.ProtectionGroup{
		ObjectMeta: metav1.ObjectMeta{Namespace: s.ns, Name: "badzone"},
		Spec: drv1alpha1.ProtectionGroupSpec{
			ProviderConfigRef: drv1alpha1.ProviderConfigReference{Name: s.pc},
			DesiredActiveSite: drv1alpha1.SiteSource,
			ForProvider: &drv1alpha1.GroupParameters{Name: "badzone", SourceAvailabilityZone: "cn-north-9z",
				TargetAvailabilityZone: "cn-north-4b", DomainID: domainID, SourceVpcID: "0f8b7e2c-1d4a-4b6e-9c3f-5a7d8e9f0a1b"},
		},
	}
	if err := s.cp.Client.Create(s.ctx, badZone); err != nil {
		t.Fatal(err)
	}
	first := s.adopt("first", g.ID, func(p *drv1alpha1.ProtectionGroup) {
		manual(p)
		p.Spec.DesiredActiveSite = drv1alpha1.SiteTarget
	})
	second := s.adopt("second", g.ID, func(p *drv1alpha1.ProtectionGroup) {
		manual(p)
		p.Spec.DesiredActiveSite = drv1alpha1.SiteTarget
	})

	s.waitFor(unknown, relOpTimeout, harness.HasCondition(drv1alpha1.StalledCondition, metav1.ConditionTrue, drv1alpha1.GroupNotFoundReason))
	unknownMsg := findCondition(unknown, drv1alpha1.StalledCondition).Message
	if !strings.Contains(unknownMsg, unknownID) {
		t.Errorf("GroupNotFound message %q should name the ID", unknownMsg)
	}
	s.waitFor(badZone, relOpTimeout, harness.HasCondition(drv1alpha1.StalledCondition, metav1.ConditionTrue, ""))
	zone := findCondition(badZone, drv1alpha1.StalledCondition)
	if !strings.Contains(zone.Message, "cn-north-9z") && !strings.Contains(strings.ToLower(zone.Message), "availability zone") {
		t.Errorf("Stalled message %q should say the zone is the problem", zone.Message)
	}
	creates, _ := s.emu.Admin.CountCalls(s.ctx, "CreateProtectionGroup", "")
	if creates != 0 {
		t.Errorf("%d groups were created for a bad zone", creates)
	}

	// One of the two owners switches the group over; the other stalls.
	var winner, loser *drv1alpha1.ProtectionGroup
	_ = wait.PollUntilContextTimeout(s.ctx, harness.PollInterval, relOpTimeout, true, func(context.Context) (bool, error) {
		for _, p := range []*drv1alpha1.ProtectionGroup{first, second} {
			if ok, _ := harness.ReadyAt(drv1alpha1.SiteTarget)(s.get(p)); ok {
				winner = p
			}
		}
		return winner != nil, nil
	})
	if winner == nil {
		t.Fatalf("neither owner switched the group over: first %s; second %s", harness.Describe(s.get(first)), harness.Describe(s.get(second)))
	}
	loser = first
	if winner == first {
		loser = second
	}
	s.waitFor(loser, relOpTimeout, harness.HasCondition(drv1alpha1.StalledCondition, metav1.ConditionTrue, drv1alpha1.GroupConflictReason))
	conflict := findCondition(loser, drv1alpha1.StalledCondition).Message
	if !strings.Contains(conflict, winner.Name) {
		t.Errorf("GroupConflict message %q should name the owner %s", conflict, winner.Name)
	}
	poked := s.poke(loser)
	s.waitReads(g.ID, poked, 2)
	got := s.expectActions(g.ID, map[string]int{"StartReverseProtectionGroup": 1})
	s.result("unknown ID: Stalled/GroupNotFound %q; bad zone: Stalled/%s %q, no group created; two owners: %s acted, %s Stalled/GroupConflict %q; %s",
		unknownMsg, zone.Reason, zone.Message, winner.Name, loser.Name, conflict, fmtCounts(got))
}

func asMaps(v any) []map[string]any {
	var out []map[string]any
	if l, ok := v.([]any); ok {
		for _, x := range l {
			if m, ok := x.(map[string]any); ok {
				out = append(out, m)
			}
		}
	}
	return out
}

// hostile is one malformed or hostile SDRS answer to a group read.
type hostile struct {
	name    string
	respond http.HandlerFunc
	rewrite func(int, []byte) (int, []byte)
}

var hostileAnswers = []hostile{
	{name: "truncated JSON", rewrite: func(st int, b []byte) (int, []byte) { return 200, b[:len(b)/2] }},
	{name: "unknown status value", rewrite: func(st int, b []byte) (int, []byte) {
		return st, bytes.ReplaceAll(b, []byte(`"status":"protected"`), []byte(`"status":"quantum-entangled"`))
	}},
	{name: "unknown priority_station", rewrite: func(st int, b []byte) (int, []byte) {
		return st, bytes.ReplaceAll(b, []byte(`"priority_station":"source"`), []byte(`"priority_station":"moon"`))
	}},
	{name: "no priority_station", rewrite: func(st int, b []byte) (int, []byte) {
		return st, bytes.ReplaceAll(b, []byte(`"priority_station":"source",`), nil)
	}},
	{name: "missing fields ({})", rewrite: func(int, []byte) (int, []byte) { return 200, []byte(`{}`) }},
	{name: "null group", rewrite: func(int, []byte) (int, []byte) { return 200, []byte(`{"server_group":null}`) }},
	{name: "wrong types", rewrite: func(int, []byte) (int, []byte) {
		return 200, []byte(`{"server_group":{"id":42,"status":["protected"],"priority_station":{},"progress":"x"}}`)
	}},
	{name: "20 MB body", respond: func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusOK)
		_, _ = w.Write([]byte(`{"server_group":{"name":"`))
		chunk := bytes.Repeat([]byte("A"), 1<<20)
		for range 20 {
			if _, err := w.Write(chunk); err != nil {
				return
			}
		}
		_, _ = w.Write([]byte(`"}}`))
	}},
	{name: "HTML 502 from a gateway", respond: func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		w.WriteHeader(http.StatusBadGateway)
		_, _ = w.Write([]byte("<html><body><h1>502 Bad Gateway</h1></body></html>"))
	}},
}

// relHostileAnswers: the SDRS endpoint answers garbage; the manager must
// neither crash nor write a wrong picture into status.
func relHostileAnswers(t *testing.T) {
	s := newScenario(t, harness.Row{Order: 86, Area: "Bad input",
		Fault: "malformed and hostile SDRS answers from a proxy: to group reads (truncated JSON, unknown status, unknown site, {}, null, wrong types, 20 MB body, HTML 502), " +
			"to the reverse action (200 without job_id), to job polls (unknown job status, truncated)",
		Assert: "the manager process survives with no panic; activeSite, sites, currentOperation and history never change on garbage; each shows a Reconciling or Stalled reason; after the answers heal it converges, and the switchover under hostile answers acts exactly once. Fuzzing: FuzzGroupMapping (internal/sdrs) feeds arbitrary bodies and statuses through every mapping"},
		scenarioOptions{proxy: true, emulator: harness.EmulatorOptions{JobDuration: 2 * time.Second}})
	g := s.seed(emutest.Group{Name: "web", Instances: []emutest.Instance{off}})[0]
	m := s.manager("m")
	pg := s.adopt("web", g.ID, manual)
	s.waitFor(pg, relOpTimeout, harness.ReadyAt(drv1alpha1.SiteSource))
	base := s.get(pg).Status
	groupPath := harness.MatchPath(http.MethodGet, `/server-groups/`+g.ID+`$`)

	var seen []string
	for _, h := range hostileAnswers {
		rule := s.proxy.Add(&harness.Rule{Match: groupPath, Respond: h.respond, Rewrite: h.rewrite})
		s.poke(pg)
		s.waitHit(rule, h.name)
		// The garbage must show: Ready leaves True/Reconciled.
		if err := s.cp.WaitFor(s.ctx, pg, 30*time.Second, func(p *drv1alpha1.ProtectionGroup) (bool, string) {
			r := findCondition(p, drv1alpha1.ReadyCondition)
			return r.Status != metav1.ConditionTrue, harness.Describe(p)
		}); err != nil {
			t.Errorf("%s went unnoticed: %v", h.name, err)
		}
		cur := s.get(pg)
		if !m.Alive() {
			t.Fatalf("the manager died on %s", h.name)
		}
		if cur.Status.ActiveSite != base.ActiveSite || !reflect.DeepEqual(cur.Status.Sites, base.Sites) ||
			cur.Status.CurrentOperation != nil || len(cur.Status.History) != len(base.History) {
			t.Errorf("%s changed the status: %s (sites %+v, was %+v)", h.name, harness.Describe(cur), cur.Status.Sites, base.Sites)
		}
		ready := findCondition(cur, drv1alpha1.ReadyCondition)
		seen = append(seen, fmt.Sprintf("%s → Ready=%s/%s", h.name, ready.Status, ready.Reason))
		t.Logf("%s: %s %q", h.name, harness.Describe(cur), ready.Message)
		s.proxy.Remove(rule)
		s.poke(pg)
		s.waitFor(pg, relOpTimeout, harness.ReadyAt(drv1alpha1.SiteSource))
	}
	s.expectActions(g.ID, map[string]int{})

	// A switchover through hostile answers: the action's answer lacks the
	// job ID, then job polls answer nonsense for a while.
	noJob := s.proxy.Add(&harness.Rule{Match: harness.MatchAction("reverse-server-group"), Times: 1,
		Rewrite: func(int, []byte) (int, []byte) { return 200, []byte(`{}`) }})
	weirdJob := s.proxy.Add(&harness.Rule{Match: harness.MatchPath(http.MethodGet, harness.PathJob), Times: 3,
		Rewrite: func(st int, b []byte) (int, []byte) {
			return st, bytes.Replace(bytes.Replace(b, []byte(`"status":"RUNNING"`), []byte(`"status":"WEIRD"`), 1), []byte(`"status":"SUCCESS"`), []byte(`"status":"WEIRD"`), 1)
		}})
	cutJob := s.proxy.Add(&harness.Rule{Match: harness.MatchPath(http.MethodGet, harness.PathJob), Times: 2,
		Rewrite: func(st int, b []byte) (int, []byte) { return 200, b[:len(b)/3] }})
	start := time.Now()
	s.update(pg, func(p *drv1alpha1.ProtectionGroup) { p.Spec.DesiredActiveSite = drv1alpha1.SiteTarget })
	s.waitHit(noJob, "the reverse answer without job_id")
	s.waitFor(pg, 3*relOpTimeout, harness.ReadyAt(drv1alpha1.SiteTarget))
	took := time.Since(start)
	_, _ = weirdJob, cutJob
	if !m.Alive() {
		t.Fatal("the manager died")
	}
	got := s.expectActions(g.ID, map[string]int{"StartReverseProtectionGroup": 1})
	s.result("%s; no panic, process alive, status unchanged on every one; switchover with a job-less action answer and garbled job polls: %s, converged in %s",
		strings.Join(seen, "; "), fmtCounts(got), ms(took))
}
