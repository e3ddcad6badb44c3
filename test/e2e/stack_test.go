//go:build e2e

package e2e

import (
	"context"
	"testing"
	"time"

	drv1alpha1 "github.com/sdrs-operator/sdrs-operator/api/v1alpha1"
	"github.com/sdrs-operator/sdrs-operator/internal/emutest"
	"github.com/sdrs-operator/sdrs-operator/test/e2e/harness"
)

// TestStack is what a new end-to-end test (a drill, a plan) starts from:
// the whole stack in one call, a group seeded and adopted, a switchover.
func TestStack(t *testing.T) {
	st := harness.MustStack(t, harness.StackOptions{Manager: &harness.ManagerOptions{}})
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	groups, err := st.Emu.Admin.Seed(ctx, emutest.Group{Name: "web", Instances: []emutest.Instance{{}}})
	if err != nil {
		t.Fatal(err)
	}
	pg := st.Adopting("web", groups[0].ID)
	if err := st.CP.Client.Create(ctx, pg); err != nil {
		t.Fatal(err)
	}
	if err := st.CP.WaitFor(ctx, pg, 2*time.Minute, harness.ReadyAt(drv1alpha1.SiteSource)); err != nil {
		t.Fatal(err)
	}
	if err := st.CP.Update(ctx, pg, func(p *drv1alpha1.ProtectionGroup) { p.Spec.DesiredActiveSite = drv1alpha1.SiteTarget }); err != nil {
		t.Fatal(err)
	}
	if err := st.CP.WaitFor(ctx, pg, 2*time.Minute, harness.ReadyAt(drv1alpha1.SiteTarget)); err != nil {
		t.Fatal(err)
	}
	calls, err := st.Emu.Admin.Calls(ctx, "", groups[0].ID)
	if err != nil {
		t.Fatal(err)
	}
	if got := harness.ActionCounts(calls)["StartReverseProtectionGroup"]; got != 1 {
		t.Errorf("want one reverse, got %d: %v", got, harness.ActionCounts(calls))
	}
}
