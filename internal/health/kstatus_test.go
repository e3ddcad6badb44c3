package health_test

import (
	"testing"

	kstatus "sigs.k8s.io/cli-utils/pkg/kstatus/status"
)

// These tests compute kstatus (what kubectl-style waiters such as kpt,
// Flux health checks and cli-utils' apply/wait use) for the same objects
// the Argo CD tests use.

func TestKstatusOnEveryState(t *testing.T) {
	for _, s := range states() {
		t.Run(s.name, func(t *testing.T) {
			res, err := kstatus.Compute(s.obj())
			if err != nil {
				t.Fatalf("kstatus.Compute: %v", err)
			}
			if res.Status != s.kstatus {
				t.Errorf("want %s, got %s (%q): %s", s.kstatus, res.Status, res.Message, s.reason)
			}
		})
	}
}

func TestKstatusJustCreated(t *testing.T) {
	// kstatus cannot tell a new object from one that needs no controller:
	// without status.observedGeneration and without conditions it answers
	// Current. A CRD default of status: {observedGeneration: 0} turns that
	// into InProgress ("generation is 1, but latest observed generation is
	// 0") until the operator's first status write. This test pins both so
	// that adding the default (or kstatus changing) is noticed.
	all := states()
	bare, defaulted := all[0], all[1]

	res, err := kstatus.Compute(bare.obj())
	if err != nil {
		t.Fatal(err)
	}
	if res.Status != kstatus.CurrentStatus || res.Message != "Resource is current" {
		t.Errorf("no status: want Current by kstatus' fallback, got %s %q", res.Status, res.Message)
	}
	res, err = kstatus.Compute(defaulted.obj())
	if err != nil {
		t.Fatal(err)
	}
	if res.Status != kstatus.InProgressStatus {
		t.Errorf("status.observedGeneration 0: want InProgress, got %s %q", res.Status, res.Message)
	}
}

func TestKstatusCurrentNeedsEveryConditionSettled(t *testing.T) {
	// Current only when nothing is in flight and nothing is stalled:
	// removing Ready=True from a converged object, or flipping Reconciling
	// or Stalled, must each leave Current.
	base := object(converged(3))
	res, err := kstatus.Compute(base)
	if err != nil || res.Status != kstatus.CurrentStatus {
		t.Fatalf("converged object: want Current, got %+v, %v", res, err)
	}
	for _, tc := range []struct {
		name, typ, status string
		want              kstatus.Status
	}{
		{"Ready False", "Ready", "False", kstatus.InProgressStatus},
		{"Ready Unknown", "Ready", "Unknown", kstatus.InProgressStatus},
		{"Reconciling True", "Reconciling", "True", kstatus.InProgressStatus},
		{"Stalled True", "Stalled", "True", kstatus.FailedStatus},
	} {
		u := base.DeepCopy()
		conds := u.Object["status"].(map[string]any)["conditions"].([]any)
		for _, c := range conds {
			if m := c.(map[string]any); m["type"] == tc.typ {
				m["status"] = tc.status
			}
		}
		res, err := kstatus.Compute(u)
		if err != nil || res.Status != tc.want {
			t.Errorf("%s: want %s, got %+v, %v", tc.name, tc.want, res, err)
		}
	}
}
