package controllers

import (
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"

	drv1alpha1 "github.com/sdrs-operator/sdrs-operator/api/v1alpha1"
)

func TestConcurrency(t *testing.T) {
	num := func(n int32) *intstr.IntOrString { v := intstr.FromInt32(n); return &v }
	pct := func(s string) *intstr.IntOrString { v := intstr.FromString(s); return &v }
	for _, c := range []struct {
		max   *intstr.IntOrString
		total int
		want  int
	}{
		{nil, 7, 7}, {nil, 0, 1}, {num(3), 7, 3}, {num(100), 7, 100},
		{pct("50%"), 3, 2}, {pct("25%"), 1000, 250}, {pct("1%"), 10, 1}, {pct("100%"), 9, 9},
	} {
		w := &drv1alpha1.PlanWave{MaxConcurrent: c.max}
		if got := concurrency(w, c.total); got != c.want {
			t.Errorf("maxConcurrent %v of %d: %d, want %d", c.max, c.total, got, c.want)
		}
	}
}

func TestDeterministicNames(t *testing.T) {
	long := strings.Repeat("a", 60)
	for _, n := range []string{drillObjectName(long, "r-0001", "member"), stepJobName(long, "r-0001", "wave/step", 3)} {
		if len(n) > 63 {
			t.Errorf("%q is %d characters", n, len(n))
		}
	}
	if drillObjectName(long, "r-0001", "a") == drillObjectName(long, "r-0001", "b") {
		t.Error("two members' drills share a name")
	}
	if stepJobName("p", "r-0001", "w/s", 1) != "p-r-0001-w-s" || stepJobName("p", "r-0001", "w/s", 2) != "p-r-0001-w-s-2" {
		t.Error("step Job names")
	}
	if p, r, w, ok := parseStamp(runStamp("erp", "r-0002", "db")); !ok || p != "erp" || r != "r-0002" || w != "db" {
		t.Error("run stamp does not round-trip")
	}
	if _, _, _, ok := parseStamp("erp.r-0002"); ok {
		t.Error("a foreign value parsed as a stamp")
	}
}

func TestPlacementProblems(t *testing.T) {
	pg := func(name, tier string) drv1alpha1.ProtectionGroup {
		return drv1alpha1.ProtectionGroup{ObjectMeta: metav1.ObjectMeta{Name: name, Labels: map[string]string{"tier": tier, "app": "x"}}}
	}
	wave := func(name string, labels map[string]string) drv1alpha1.PlanWave {
		return drv1alpha1.PlanWave{Name: name, Selector: metav1.LabelSelector{MatchLabels: labels}}
	}
	plan := &drv1alpha1.DRPlan{Spec: drv1alpha1.DRPlanSpec{
		Waves: []drv1alpha1.PlanWave{wave("db", map[string]string{"tier": "db"}), wave("all", map[string]string{"app": "x", "tier": "web"}), wave("dup", map[string]string{"tier": "web"})},
		Decisions: []drv1alpha1.PlanDecision{
			{Run: "r-0001", Step: "db/nope", Action: drv1alpha1.DecisionApprove},
			{Run: "r-0009", Action: drv1alpha1.DecisionAbort},
		},
	}}
	members := []drv1alpha1.ProtectionGroup{pg("b", "db"), pg("a", "db"), pg("w", "web"), pg("x", "app")}
	p, err := placeMembers(plan, members)
	if err != nil {
		t.Fatal(err)
	}
	if got := p.waves["db"]; len(got) != 2 || got[0].Name != "a" {
		t.Errorf("db wave: %v (sorted by name)", got)
	}
	problems := strings.Join(planProblems(plan, p, members), "; ")
	for _, want := range []string{"w (all, dup)", "members in no wave: x", "step db/nope", "run r-0009"} {
		if !strings.Contains(problems, want) {
			t.Errorf("problems %q lack %q", problems, want)
		}
	}
}

// Identical decisions are used one by one, each once.
func TestTakeDecisionOncePerEntry(t *testing.T) {
	plan := &drv1alpha1.DRPlan{
		Spec: drv1alpha1.DRPlanSpec{Decisions: []drv1alpha1.PlanDecision{
			{Run: "r-0001", Member: "m", Action: drv1alpha1.DecisionRetry},
			{Run: "r-0000", Member: "m", Action: drv1alpha1.DecisionRetry},
			{Run: "r-0001", Member: "m", Action: drv1alpha1.DecisionRetry},
		}},
		Status: drv1alpha1.DRPlanStatus{Run: &drv1alpha1.PlanRun{ID: "r-0001"}},
	}
	r := &DRPlanReconciler{}
	s := &planScope{plan: plan, now: time.Now()}
	for i := 0; i < 2; i++ {
		if r.takeDecision(s, drv1alpha1.DecisionRetry, "", "m") == nil {
			t.Fatalf("retry %d not taken", i+1)
		}
	}
	if r.takeDecision(s, drv1alpha1.DecisionRetry, "", "m") != nil {
		t.Error("a third retry was taken from two entries of this run")
	}
	if n := len(plan.Status.Run.Decisions); n != 2 {
		t.Errorf("%d decisions recorded, want 2", n)
	}
}
