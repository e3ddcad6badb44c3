package main

import (
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

func TestReadyNow(t *testing.T) {
	pg := func(generation int64, statusGen any, conds ...map[string]any) *unstructured.Unstructured {
		status := map[string]any{}
		if statusGen != nil {
			status["observedGeneration"] = statusGen
		}
		var cs []any
		for _, c := range conds {
			cs = append(cs, c)
		}
		status["conditions"] = cs
		o := &unstructured.Unstructured{Object: map[string]any{"status": status}}
		o.SetGeneration(generation)
		return o
	}
	ready := func(status string, gen any) map[string]any {
		c := map[string]any{"type": "Ready", "status": status, "reason": "Reconciled"}
		if gen != nil {
			c["observedGeneration"] = gen
		}
		return c
	}
	cases := map[string]struct {
		reason string
		obj    *unstructured.Unstructured
		want   bool
	}{
		"ReadyCurrent":        {"Ready True for this generation counts.", pg(2, int64(2), ready("True", int64(2))), true},
		"ReadyStale":          {"Ready True for an older generation must not pass a wait after a patch.", pg(3, int64(2), ready("True", int64(2))), false},
		"StatusGenFallback":   {"Without a condition observedGeneration, status.observedGeneration decides, as in kubectl.", pg(3, int64(2), ready("True", nil)), false},
		"NoGenerationsAtAll":  {"With no observedGeneration anywhere, kubectl trusts the status.", pg(3, nil, ready("True", nil)), true},
		"ReadyFalse":          {"Ready False is not ready.", pg(1, int64(1), ready("False", int64(1))), false},
		"NoReadyCondition":    {"A group the operator has not seen yet is not ready.", pg(1, nil), false},
		"OtherConditionsOnly": {"Only the Ready type counts.", pg(1, nil, map[string]any{"type": "Protected", "status": "True"}), false},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			if got, why := readyNow(tc.obj); got != tc.want {
				t.Errorf("\nReason: %s\nreadyNow: want %v, got %v (%s)", tc.reason, tc.want, got, why)
			}
		})
	}
}
