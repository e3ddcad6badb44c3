package v1alpha1_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/controller-runtime/pkg/client"

	drv1alpha1 "github.com/sdrs-operator/sdrs-operator/api/v1alpha1"
)

var planGVK = schema.GroupVersionKind{Group: "dr.sdrs.io", Version: "v1alpha1", Kind: "DRPlan"}

// planSpec is the smallest valid DRPlan spec: one wave, no desired site
// (armed), no steps, no decisions.
func planSpec() map[string]any {
	return map[string]any{
		"selector": map[string]any{"matchLabels": map[string]any{"app.kubernetes.io/part-of": "demo"}},
		"waves":    []any{planWave("databases")},
	}
}

// planWave is a wave named name that picks the members of tier name.
func planWave(name string) map[string]any {
	return map[string]any{
		"name":     name,
		"selector": map[string]any{"matchLabels": map[string]any{"dr.sdrs.io/tier": name}},
	}
}

// planStep is a step named name with one field per kind given (approval,
// wait, job): one kind makes a valid step, zero or two an invalid one.
func planStep(name string, kinds ...string) map[string]any {
	s := map[string]any{"name": name}
	for _, k := range kinds {
		switch k {
		case "approval":
			s[k] = map[string]any{"message": "continue?"}
		case "wait":
			s[k] = map[string]any{"duration": "5s"}
		case "job":
			s[k] = map[string]any{"template": map[string]any{"spec": map[string]any{"template": map[string]any{"spec": map[string]any{
				"restartPolicy": "Never",
				"containers":    []any{map[string]any{"name": "check", "image": "busybox:1.37", "command": []any{"true"}}},
			}}}}}
		default:
			panic("unknown step kind " + k)
		}
	}
	return s
}

// setWave sets a field of the spec's first wave.
func setWave(field string, value any) mutation {
	return func(spec map[string]any) {
		spec["waves"].([]any)[0].(map[string]any)[field] = value
	}
}

// waves replaces the spec's waves with the ones named.
func waves(names ...string) mutation {
	return func(spec map[string]any) {
		w := make([]any, len(names))
		for i, n := range names {
			w[i] = planWave(n)
		}
		spec["waves"] = w
	}
}

// decisions replaces the spec's decisions.
func decisions(d ...map[string]any) mutation {
	return func(spec map[string]any) {
		l := make([]any, len(d))
		for i := range d {
			l[i] = d[i]
		}
		spec["decisions"] = l
	}
}

// manyWaveNames returns n distinct wave names.
func manyWaveNames(n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("wave-%d", i)
	}
	return out
}

// manyDecisions returns n Retry decisions, which may name nothing.
func manyDecisions(n int) []map[string]any {
	out := make([]map[string]any, n)
	for i := range out {
		out[i] = map[string]any{"run": fmt.Sprintf("r-%04d", i+1), "action": "Retry"}
	}
	return out
}

func TestDRPlanAdmissionAcceptsValidObjectsAndDefaults(t *testing.T) {
	needAPIServer(t)
	ctx := context.Background()
	ns := newNamespace(t, ctx)

	t.Run("minimal plan gets every default", func(t *testing.T) {
		// A job step is there for its timeout default; the wave has no
		// maxConcurrent, which means all of its members at once.
		spec := planSpec()
		spec["waves"].([]any)[0].(map[string]any)["postSteps"] = []any{planStep("smoke", "job")}
		obj := newObject(planGVK, ns, "minimal", spec)
		if err := k8s.Create(ctx, obj); err != nil {
			t.Fatalf("a minimal plan was refused: %v", err)
		}
		p := &drv1alpha1.DRPlan{}
		if err := k8s.Get(ctx, client.ObjectKeyFromObject(obj), p); err != nil {
			t.Fatal(err)
		}
		if p.Spec.DesiredActiveSite != "" || p.Spec.FailoverMode != "" || p.Spec.AllowDataLoss || p.Spec.Suspend || p.Spec.RTO != nil {
			t.Errorf("a plan must stay armed, with no mode, no data loss and no RTO, unless told: %+v", p.Spec)
		}
		if len(p.Spec.Waves) != 1 {
			t.Fatalf("waves: %+v", p.Spec.Waves)
		}
		w := p.Spec.Waves[0]
		if w.MemberTimeout == nil || w.MemberTimeout.Duration != time.Hour {
			t.Errorf("memberTimeout: want 1h, got %v", w.MemberTimeout)
		}
		if w.OnMemberFailure != drv1alpha1.MemberFailureStop {
			t.Errorf("onMemberFailure: want Stop, got %q", w.OnMemberFailure)
		}
		if w.MaxConcurrent != nil {
			t.Errorf("maxConcurrent: want unset (all members), got %v", w.MaxConcurrent)
		}
		if len(w.PostSteps) != 1 || w.PostSteps[0].Job == nil {
			t.Fatalf("postSteps: %+v", w.PostSteps)
		}
		if jt := w.PostSteps[0].Job.Timeout; jt == nil || jt.Duration != 30*time.Minute {
			t.Errorf("job timeout: want 30m, got %v", jt)
		}
		if c := w.PostSteps[0].Job.Template.Spec.Template.Spec.Containers; len(c) != 1 || c[0].Image != "busybox:1.37" {
			t.Errorf("the Job template must survive admission as written: %+v", w.PostSteps[0].Job.Template)
		}
	})

	valid := []struct {
		name, reason string
		mutate       []mutation
	}{
		{
			name:   "maxConcurrent a number",
			reason: "five members at once",
			mutate: []mutation{setWave("maxConcurrent", 5)},
		},
		{
			name:   "maxConcurrent 1",
			reason: "one member at a time is the slowest, safest wave",
			mutate: []mutation{setWave("maxConcurrent", 1)},
		},
		{
			name:   "maxConcurrent 25%",
			reason: "a quarter of the wave's members at once",
			mutate: []mutation{setWave("maxConcurrent", "25%")},
		},
		{
			name:   "maxConcurrent 100%",
			reason: "100% is the upper bound, inclusive",
			mutate: []mutation{setWave("maxConcurrent", "100%")},
		},
		{
			name:   "maxConcurrent 1%",
			reason: "1% is the lower bound, inclusive",
			mutate: []mutation{setWave("maxConcurrent", "1%")},
		},
		{
			name:   "Forced with allowDataLoss",
			reason: "consent given: the data-loss rule must let it through",
			mutate: []mutation{set("desiredActiveSite", "target"), set("failoverMode", "Forced"), set("allowDataLoss", true)},
		},
		{
			name:   "Auto with allowDataLoss",
			reason: "consent given for Auto too",
			mutate: []mutation{set("failoverMode", "Auto"), set("allowDataLoss", true)},
		},
		{
			name:   "Planned without allowDataLoss",
			reason: "a planned failover loses nothing, so it needs no consent",
			mutate: []mutation{set("desiredActiveSite", "target"), set("failoverMode", "Planned")},
		},
		{
			name:   "allowDataLoss without failoverMode",
			reason: "consent given in advance is not a contradiction",
			mutate: []mutation{set("allowDataLoss", true)},
		},
		{
			name:   "20 waves",
			reason: "20 is the limit, inclusive",
			mutate: []mutation{waves(manyWaveNames(20)...)},
		},
		{
			name:   "every step kind, with distinct names in pre and post",
			reason: "the one-kind and unique-name rules must let ordinary steps through",
			mutate: []mutation{
				setWave("preSteps", []any{planStep("go", "approval"), planStep("settle", "wait"), planStep("check", "job")}),
				setWave("postSteps", []any{planStep("smoke", "job"), planStep("confirm", "approval")}),
			},
		},
		{
			name:   "names of 40 characters",
			reason: "40 is the limit of wave and step names, inclusive, and <wave>/<step> then fits the 81 of a decision's step",
			mutate: []mutation{
				setWave("name", strings.Repeat("w", 40)),
				setWave("preSteps", []any{planStep(strings.Repeat("s", 40), "approval")}),
				decisions(map[string]any{"run": "r-0001", "action": "Approve", "step": strings.Repeat("w", 40) + "/" + strings.Repeat("s", 40)}),
			},
		},
		{
			name:   "one decision of each kind, as the plugin writes them",
			reason: "approve a step, retry a step or a member or the whole run, skip a step or a member, abort the run",
			mutate: []mutation{decisions(
				map[string]any{"run": "r-0001", "action": "Approve", "step": "apps/go", "note": "jane: databases checked"},
				map[string]any{"run": "r-0001", "action": "Retry", "step": "databases/settle"},
				map[string]any{"run": "r-0001", "action": "Retry", "member": "erp"},
				map[string]any{"run": "r-0001", "action": "Retry"},
				map[string]any{"run": "r-0001", "action": "Skip", "step": "web/smoke"},
				map[string]any{"run": "r-0001", "action": "Skip", "member": "files"},
				map[string]any{"run": "r-12345", "action": "Abort"},
			)},
		},
		{
			name:   "200 decisions",
			reason: "200 is the limit, inclusive",
			mutate: []mutation{decisions(manyDecisions(200)...)},
		},
		{
			name:   "rto, suspend and drill",
			reason: "the remaining optional fields",
			mutate: []mutation{set("rto", "30m"), set("suspend", true), set("drill", map[string]any{"request": "q1", "ttl": "2h"})},
		},
	}
	for i, tc := range valid {
		t.Run(tc.name, func(t *testing.T) {
			obj := newObject(planGVK, ns, fmt.Sprintf("valid-%d", i), planSpec())
			for _, m := range tc.mutate {
				m(obj.Object["spec"].(map[string]any))
			}
			if err := k8s.Create(ctx, obj); err != nil {
				t.Fatalf("refused (%s): %v", tc.reason, err)
			}
		})
	}
}

func TestDRPlanAdmissionRefusesInvalidObjects(t *testing.T) {
	needAPIServer(t)
	ctx := context.Background()
	ns := newNamespace(t, ctx)

	const (
		oneKind     = "a step is exactly one of approval, wait or job"
		maxConc     = "maxConcurrent is a number of at least 1 or a percentage from 1% to 100%"
		dataLoss    = "failoverMode Forced and Auto may lose data written since the last replication (up to the RPO): set allowDataLoss: true to accept that"
		stepOrMem   = "a decision names a step or a member, not both"
		approveStep = "Approve names the approval step as <wave>/<step>"
		skipTarget  = "Skip names a step (<wave>/<step>) or a member"
		abortAll    = "Abort ends the whole run: name neither a step nor a member"
	)

	cases := []admissionCase{
		// waves
		{
			name: "waves missing", reason: "a plan without waves moves nothing and says nothing",
			spec: planSpec, mutate: []mutation{del("waves")},
			want: []string{"spec.waves", "Required value"},
		},
		{
			name: "waves empty", reason: "an empty list is no waves either",
			spec: planSpec, mutate: []mutation{waves()},
			want: []string{"spec.waves", "should have at least 1 items"},
		},
		{
			name: "21 waves", reason: "status holds at most 20 waves, and CEL costs are estimated from the bound",
			spec: planSpec, mutate: []mutation{waves(manyWaveNames(21)...)},
			want: []string{"spec.waves", "Too many: 21", "must have at most 20 items"},
		},
		{
			name: "two waves with the same name", reason: "status, decisions (<wave>/<step>) and metrics name waves; two of one name are ambiguous",
			spec: planSpec, mutate: []mutation{waves("databases", "apps", "databases")},
			want: []string{"spec.waves[2]", "Duplicate value", `"name":"databases"`},
		},
		{
			name: "wave name with upper case", reason: "wave names go into Job names and labels, which are lower-case DNS labels",
			spec: planSpec, mutate: []mutation{setWave("name", "Databases")},
			want: []string{"spec.waves[0].name", `Invalid value: "Databases"`, "should match '^[a-z0-9]([-a-z0-9]*[a-z0-9])?$'"},
		},
		{
			name: "wave name of 41 characters", reason: "<wave>/<step> must fit a decision's step (81) and a Job's name",
			spec: planSpec, mutate: []mutation{setWave("name", strings.Repeat("w", 41))},
			want: []string{"spec.waves[0].name", "Too long", "may not be more than 40"},
		},
		{
			name: "wave without selector", reason: "a wave must say which members it moves; none is not all",
			spec: planSpec, mutate: []mutation{func(s map[string]any) { delete(s["waves"].([]any)[0].(map[string]any), "selector") }},
			want: []string{"spec.waves[0].selector", "Required value"},
		},
		{
			name: "onMemberFailure unknown", reason: "Stop or Continue only: a typo must not pick a policy",
			spec: planSpec, mutate: []mutation{setWave("onMemberFailure", "Ignore")},
			want: []string{"spec.waves[0].onMemberFailure", `Unsupported value: "Ignore"`, `"Stop", "Continue"`},
		},

		// steps
		{
			name: "step with approval and wait", reason: "the controller runs one kind per step; two would leave it guessing which",
			spec: planSpec, mutate: []mutation{setWave("preSteps", []any{planStep("gate", "approval", "wait")})},
			want: []string{"spec.waves[0].preSteps[0]", oneKind},
		},
		{
			name: "step with no kind", reason: "a step that is nothing would pass or block for no reason",
			spec: planSpec, mutate: []mutation{setWave("postSteps", []any{planStep("gate")})},
			want: []string{"spec.waves[0].postSteps[0]", oneKind},
		},
		{
			name: "step with all three kinds", reason: "exactly one, not at least one",
			spec: planSpec, mutate: []mutation{setWave("preSteps", []any{planStep("gate", "approval", "wait", "job")})},
			want: []string{"spec.waves[0].preSteps[0]", oneKind},
		},
		{
			name: "the same step name in preSteps and postSteps", reason: "a decision names a step as <wave>/<step>: it could not say which of the two it approves",
			spec: planSpec, mutate: []mutation{
				setWave("preSteps", []any{planStep("check", "approval")}),
				setWave("postSteps", []any{planStep("smoke", "wait"), planStep("check", "job")}),
			},
			want: []string{"spec.waves[0]", "step names must be unique in a wave (preSteps and postSteps together): decisions name steps as <wave>/<step>"},
		},
		{
			name: "the same step name twice in preSteps", reason: "a decision could not say which of the two it approves",
			spec: planSpec, mutate: []mutation{setWave("preSteps", []any{planStep("check", "approval"), planStep("check", "wait")})},
			want: []string{"spec.waves[0]", "step names must be unique in a wave"},
		},
		{
			name: "the same step name twice in postSteps", reason: "a decision could not say which of the two it retries",
			spec: planSpec, mutate: []mutation{setWave("postSteps", []any{planStep("smoke", "job"), planStep("smoke", "wait")})},
			want: []string{"spec.waves[0]", "step names must be unique in a wave"},
		},
		{
			name: "step name with upper case", reason: "step names go into Job names",
			spec: planSpec, mutate: []mutation{setWave("preSteps", []any{planStep("Gate", "approval")})},
			want: []string{"spec.waves[0].preSteps[0].name", "should match"},
		},
		{
			name: "approval without message", reason: "the approver must be told what to confirm",
			spec: planSpec, mutate: []mutation{setWave("preSteps", []any{map[string]any{"name": "gate", "approval": map[string]any{}}})},
			want: []string{"spec.waves[0].preSteps[0].approval.message", "Required value"},
		},

		// maxConcurrent
		{
			name: "maxConcurrent 0", reason: "a wave that may move no member at once never finishes",
			spec: planSpec, mutate: []mutation{setWave("maxConcurrent", 0)},
			want: []string{"spec.waves[0].maxConcurrent", maxConc},
		},
		{
			name: "maxConcurrent negative", reason: "a negative bound means nothing",
			spec: planSpec, mutate: []mutation{setWave("maxConcurrent", -1)},
			want: []string{"spec.waves[0].maxConcurrent", maxConc},
		},
		{
			name: "maxConcurrent 0%", reason: "0% of any wave is no member at once",
			spec: planSpec, mutate: []mutation{setWave("maxConcurrent", "0%")},
			want: []string{"spec.waves[0].maxConcurrent", `Invalid value: "0%"`, maxConc},
		},
		{
			name: "maxConcurrent 150%", reason: "more than all the wave's members is a typo",
			spec: planSpec, mutate: []mutation{setWave("maxConcurrent", "150%")},
			want: []string{"spec.waves[0].maxConcurrent", `Invalid value: "150%"`, maxConc},
		},
		{
			name: "maxConcurrent abc", reason: "neither a number nor a percentage",
			spec: planSpec, mutate: []mutation{setWave("maxConcurrent", "abc")},
			want: []string{"spec.waves[0].maxConcurrent", `Invalid value: "abc"`, maxConc},
		},
		{
			name: "maxConcurrent a number in quotes", reason: `"5" is neither an integer nor a percentage; intstr would not scale it`,
			spec: planSpec, mutate: []mutation{setWave("maxConcurrent", "5")},
			want: []string{"spec.waves[0].maxConcurrent", maxConc},
		},

		// data loss
		{
			name: "Forced without allowDataLoss", reason: "a forced failover may lose data up to the RPO, so the user must accept that in writing",
			spec: planSpec, mutate: []mutation{set("desiredActiveSite", "target"), set("failoverMode", "Forced")},
			want: []string{"spec", dataLoss}, notWant: []string{"no such key", "evaluating rule"},
		},
		{
			name: "Auto without allowDataLoss", reason: "Auto may fall back to a forced failover, so it needs the same consent",
			spec: planSpec, mutate: []mutation{set("failoverMode", "Auto")},
			want: []string{"spec", dataLoss}, notWant: []string{"no such key", "evaluating rule"},
		},
		{
			name: "Forced with allowDataLoss false", reason: "an explicit false is a refusal, not consent",
			spec: planSpec, mutate: []mutation{set("failoverMode", "Forced"), set("allowDataLoss", false)},
			want: []string{"spec", dataLoss},
		},
		{
			name: "failoverMode unknown", reason: "Planned, Forced or Auto only",
			spec: planSpec, mutate: []mutation{set("failoverMode", "planned")},
			want: []string{"spec.failoverMode", `Unsupported value: "planned"`, `"Planned", "Forced", "Auto"`},
		},
		{
			name: "desiredActiveSite primary", reason: "the plan writes desiredActiveSite to its members, which know only source and target",
			spec: planSpec, mutate: []mutation{set("desiredActiveSite", "primary")},
			want: []string{"spec.desiredActiveSite", `Unsupported value: "primary"`, `"source", "target"`},
		},

		// decisions
		{
			name: "decision with both step and member", reason: "one decision answers one thing",
			spec: planSpec, mutate: []mutation{decisions(map[string]any{"run": "r-0001", "action": "Retry", "step": "databases/settle", "member": "erp"})},
			want: []string{"spec.decisions[0]", stepOrMem},
		},
		{
			name: "Approve without step", reason: "an approval passes one approval step; which one must be written down",
			spec: planSpec, mutate: []mutation{decisions(map[string]any{"run": "r-0001", "action": "Approve"})},
			want: []string{"spec.decisions[0]", approveStep},
		},
		{
			name: "Approve naming a member", reason: "members are not approved; steps are",
			spec: planSpec, mutate: []mutation{decisions(map[string]any{"run": "r-0001", "action": "Approve", "member": "erp"})},
			want: []string{"spec.decisions[0]", approveStep},
		},
		{
			name: "Skip with neither step nor member", reason: "skipping the whole run is an Abort; a Skip must say what it passes",
			spec: planSpec, mutate: []mutation{decisions(map[string]any{"run": "r-0001", "action": "Skip"})},
			want: []string{"spec.decisions[0]", skipTarget},
		},
		{
			name: "Abort naming a step", reason: "an Abort ends the whole run; naming a step suggests it would only end that step",
			spec: planSpec, mutate: []mutation{decisions(map[string]any{"run": "r-0001", "action": "Abort", "step": "apps/go"})},
			want: []string{"spec.decisions[0]", abortAll},
		},
		{
			name: "Abort naming a member", reason: "the same for a member",
			spec: planSpec, mutate: []mutation{decisions(map[string]any{"run": "r-0001", "action": "Abort", "member": "erp"})},
			want: []string{"spec.decisions[0]", abortAll},
		},
		{
			name: "decision run 7", reason: "runs are named r-0007 in status.run.id; a decision for run 7 would match none",
			spec: planSpec, mutate: []mutation{decisions(map[string]any{"run": "7", "action": "Retry"})},
			want: []string{"spec.decisions[0].run", `Invalid value: "7"`, "should match '^r-[0-9]{4,}$'"},
		},
		{
			name: "decision run with three digits", reason: "run IDs have at least four digits",
			spec: planSpec, mutate: []mutation{decisions(map[string]any{"run": "r-007", "action": "Retry"})},
			want: []string{"spec.decisions[0].run", "should match '^r-[0-9]{4,}$'"},
		},
		{
			name: "decision action unknown", reason: "Approve, Retry, Skip or Abort only: a typo must not be read as any of them",
			spec: planSpec, mutate: []mutation{decisions(map[string]any{"run": "r-0001", "action": "Continue"})},
			want: []string{"spec.decisions[0].action", `Unsupported value: "Continue"`, `"Approve", "Retry", "Skip", "Abort"`},
		},
		{
			name: "decision step without wave", reason: "a step is named as <wave>/<step>",
			spec: planSpec, mutate: []mutation{decisions(map[string]any{"run": "r-0001", "action": "Approve", "step": "go"})},
			want: []string{"spec.decisions[0].step", `Invalid value: "go"`, "should match"},
		},
		{
			name: "201 decisions", reason: "decisions are bounded so that the object and CEL costs stay small",
			spec: planSpec, mutate: []mutation{decisions(manyDecisions(201)...)},
			want: []string{"spec.decisions", "Too many: 201", "must have at most 200 items"},
		},
	}
	runAdmissionCases(t, ctx, planGVK, ns, "plan", cases)
}
