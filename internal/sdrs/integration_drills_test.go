package sdrs_test

import (
	"context"
	"strings"
	"testing"

	"github.com/sdrs-operator/sdrs-operator/internal/emulator"
	"github.com/sdrs-operator/sdrs-operator/internal/sdrs"
)

// TestIntegrationDrillLifecycle drives a DR drill through the official SDK
// against the emulator: create, find by name after a "lost" answer, read
// it and its drill servers, delete, delete again.
func TestIntegrationDrillLifecycle(t *testing.T) {
	ctx := context.Background()
	w := newWorld(t)
	seeded, err := w.emu.Seed(emulator.SeedSpec{Groups: []emulator.SeedGroup{{Name: "orders", Instances: []emulator.SeedInstance{{Name: "orders-db"}}}}})
	if err != nil {
		t.Fatal(err)
	}
	gid := seeded.Groups[0].ID
	piID := seeded.Groups[0].Instances[0].ID
	const name = "orders-drill-2026q4"

	job, err := w.client.CreateDrill(ctx, sdrs.CreateDrillInput{Name: name, GroupID: gid})
	if err != nil {
		t.Fatalf("CreateDrill: %v", err)
	}
	// While creating, the drill is found by name (the way back after a
	// lost answer) and cannot be deleted yet.
	found, err := w.client.FindDrills(ctx, gid, name)
	if err != nil || len(found) != 1 || found[0].Status != sdrs.DrillCreating {
		t.Fatalf("FindDrills while creating = %+v, %v; want one creating drill", found, err)
	}
	if _, err := w.client.DeleteDrill(ctx, found[0].ID); err == nil {
		t.Fatal("deleting a creating drill must be refused")
	} else if code, ok := sdrs.IsPrecondition(err); !ok || code != "SDRS.1913" || !strings.Contains(err.Error(), sdrs.DrillCreating) {
		t.Fatalf("delete while creating = %v, want Precondition SDRS.1913 naming the status", err)
	}

	j := w.finish(t, job, false, sdrs.JobSuccess)
	if j.Type != "createDisasterRecoveryDrill" || j.DrillID != found[0].ID || j.GroupID != gid {
		t.Fatalf("create job = %+v, want DrillID %s from entities.disaster_recovery_drill_id", j, found[0].ID)
	}

	// A similar name does not match: FindDrills wants the exact one.
	other, err := w.client.CreateDrill(ctx, sdrs.CreateDrillInput{Name: name + "-b", GroupID: gid, VpcID: "vpc-drill-b"})
	if err != nil {
		t.Fatalf("second CreateDrill: %v", err)
	}
	w.finish(t, other, false, sdrs.JobSuccess)
	found, err = w.client.FindDrills(ctx, gid, name)
	if err != nil || len(found) != 1 || found[0].ID != j.DrillID {
		t.Fatalf("FindDrills = %+v, %v; want exactly the drill named %s", found, err, name)
	}
	all, err := w.client.ListDrills(ctx, gid)
	if err != nil || len(all) != 2 {
		t.Fatalf("ListDrills = %+v, %v; want both drills", all, err)
	}

	d, err := w.client.GetDrill(ctx, j.DrillID)
	if err != nil {
		t.Fatalf("GetDrill: %v", err)
	}
	if d.Status != sdrs.DrillAvailable || d.Name != name || d.GroupID != gid || d.VpcID == "" || d.CreatedAt.IsZero() ||
		len(d.Servers) != 1 || d.Servers[0].ProtectedInstanceID != piID || d.Servers[0].ServerID == "" {
		t.Fatalf("available drill = %+v", d)
	}
	s, err := w.client.GetServer(ctx, d.Servers[0].ServerID)
	if err != nil {
		t.Fatalf("GetServer on the drill server: %v", err)
	}
	if s.Status != sdrs.PowerActive || s.AvailabilityZone != emulator.DefaultTargetAZ || len(s.Addresses) != 1 || s.Addresses[0] == "" {
		t.Fatalf("drill server = %+v, want a running DR-site server with its drill VPC address", s)
	}

	// A drill VPC already used by a drill is refused, naming the VPC.
	if _, err := w.client.CreateDrill(ctx, sdrs.CreateDrillInput{Name: "again", GroupID: gid, VpcID: "vpc-drill-b"}); err == nil {
		t.Fatal("a drill VPC used by another drill must be refused")
	} else if code, ok := sdrs.IsPrecondition(err); !ok || code != "SDRS.1921" || !strings.Contains(err.Error(), "drill VPC vpc-drill-b") {
		t.Fatalf("VPC in use = %v, want Precondition SDRS.1921 naming the VPC", err)
	}

	del, err := w.client.DeleteDrill(ctx, d.ID)
	if err != nil {
		t.Fatalf("DeleteDrill: %v", err)
	}
	// A repeat while the delete runs starts nothing.
	if _, err := w.client.DeleteDrill(ctx, d.ID); err == nil {
		t.Fatal("a repeated delete while deleting must be refused")
	} else if code, ok := sdrs.IsPrecondition(err); !ok || code != "SDRS.1913" || !strings.Contains(err.Error(), sdrs.DrillDeleting) {
		t.Fatalf("repeat while deleting = %v, want Precondition SDRS.1913 naming the status", err)
	}
	if j := w.finish(t, del, false, sdrs.JobSuccess); j.DrillID != d.ID {
		t.Errorf("delete job = %+v, want DrillID %s", j, d.ID)
	}
	if _, err := w.client.GetDrill(ctx, d.ID); !sdrs.IsNotFound(err) {
		t.Errorf("a deleted drill = %v, want NotFound", err)
	}
	if _, err := w.client.DeleteDrill(ctx, d.ID); !sdrs.IsNotFound(err) {
		t.Errorf("deleting again = %v, want NotFound (callers treat it as done)", err)
	}
	if _, err := w.client.GetServer(ctx, d.Servers[0].ServerID); !sdrs.IsNotFound(err) {
		t.Errorf("the drill server after delete = %v, want NotFound", err)
	}
	if found, err := w.client.FindDrills(ctx, gid, name); err != nil || len(found) != 0 {
		t.Errorf("FindDrills after delete = %+v, %v; want none", found, err)
	}
}

func TestIntegrationDrillRefusals(t *testing.T) {
	ctx := context.Background()
	w := newWorld(t)
	// An empty group: SDRS checks instances before drills on delete.
	job, err := w.client.CreateProtectionGroup(ctx, sdrs.CreateGroupInput{
		Name: "empty", SourceAvailabilityZone: emulator.DefaultSourceAZ, TargetAvailabilityZone: emulator.DefaultTargetAZ,
		DomainID: domainID(t, w), SourceVpcID: "vpc-1",
	})
	if err != nil {
		t.Fatal(err)
	}
	gid := w.finish(t, job, false, sdrs.JobSuccess).GroupID

	if _, err := w.client.CreateDrill(ctx, sdrs.CreateDrillInput{Name: strings.Repeat("n", sdrs.MaxDrillNameBytes+1), GroupID: gid}); !sdrs.IsInvalidRequest(err) {
		t.Errorf("a 65-byte name = %v, want InvalidRequest", err)
	}
	if _, err := w.client.CreateDrill(ctx, sdrs.CreateDrillInput{Name: "d", GroupID: "00000000-0000-0000-0000-000000000000"}); !sdrs.IsNotFound(err) {
		t.Errorf("a drill of a missing group = %v, want NotFound", err)
	}
	if _, err := w.client.GetDrill(ctx, "00000000-0000-0000-0000-00000000d1d1"); !sdrs.IsNotFound(err) {
		t.Errorf("an unknown drill = %v, want NotFound (SDRS.1902)", err)
	}
	if _, err := w.client.DeleteDrill(ctx, "00000000-0000-0000-0000-00000000d1d1"); !sdrs.IsNotFound(err) {
		t.Errorf("deleting an unknown drill = %v, want NotFound", err)
	}

	dj, err := w.client.CreateDrill(ctx, sdrs.CreateDrillInput{Name: strings.Repeat("n", sdrs.MaxDrillNameBytes), GroupID: gid})
	if err != nil {
		t.Fatalf("a 64-byte name: %v", err)
	}
	drillID := w.finish(t, dj, false, sdrs.JobSuccess).DrillID
	if _, err := w.client.DeleteProtectionGroup(ctx, gid); err == nil {
		t.Fatal("deleting a group with a drill must be refused")
	} else if code, ok := sdrs.IsPrecondition(err); !ok || code != "SDRS.1003" {
		t.Fatalf("group delete with a drill = %v, want Precondition SDRS.1003", err)
	}
	del, err := w.client.DeleteDrill(ctx, drillID)
	if err != nil {
		t.Fatal(err)
	}
	w.finish(t, del, false, sdrs.JobSuccess)
	gdel, err := w.client.DeleteProtectionGroup(ctx, gid)
	if err != nil {
		t.Fatalf("group delete once its drill is gone: %v", err)
	}
	w.finish(t, gdel, false, sdrs.JobSuccess)
}
