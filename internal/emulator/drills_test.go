package emulator

import (
	"net/http"
	"strings"
	"testing"

	ecsmodel "github.com/huaweicloud/huaweicloud-sdk-go-v3/services/ecs/v2/model"
	"github.com/huaweicloud/huaweicloud-sdk-go-v3/services/sdrs/v1/model"
)

// The drill facts issue 15 relies on, through the official SDK.

func (e *env) createDrill(groupID, name string, vpc *string) (*string, error) {
	e.t.Helper()
	r, err := e.sdrs.CreateDisasterRecoveryDrill(&model.CreateDisasterRecoveryDrillRequest{Body: &model.CreateDisasterRecoveryDrillRequestBody{
		DisasterRecoveryDrill: &model.CreateDisasterRecoveryDrillRequestParams{ServerGroupId: groupID, Name: name, DrillVpcId: vpc}}})
	if err != nil {
		return nil, err
	}
	return r.JobId, nil
}

func (e *env) drill(id string) model.ShowDisasterRecoveryDrillParams {
	e.t.Helper()
	return *ok(e.sdrs.ShowDisasterRecoveryDrill(&model.ShowDisasterRecoveryDrillRequest{DisasterRecoveryDrillId: id})).must(e.t).DisasterRecoveryDrill
}

func (e *env) listDrills(req model.ListDisasterRecoveryDrillsRequest) []model.ShowDisasterRecoveryDrillParams {
	e.t.Helper()
	r := ok(e.sdrs.ListDisasterRecoveryDrills(&req)).must(e.t)
	if int(*r.Count) != len(*r.DisasterRecoveryDrills) {
		e.t.Fatalf("count %d for %d drills", *r.Count, len(*r.DisasterRecoveryDrills))
	}
	return *r.DisasterRecoveryDrills
}

// drillIDOfJob reads entities.disaster_recovery_drill_id from the raw job
// (the SDK's JobEntities has no field for it).
func (e *env) drillIDOfJob(jobID *string) string {
	e.t.Helper()
	status, _, body := e.do(e.srv.URL, rawRequest{method: http.MethodGet, path: "/v1/" + testProject + "/jobs/" + *jobID})
	const key = `"disaster_recovery_drill_id":"`
	i := strings.Index(string(body), key)
	if status != http.StatusOK || i < 0 {
		e.t.Fatalf("raw drill job: %d %s", status, body)
	}
	rest := string(body[i+len(key):])
	return rest[:strings.IndexByte(rest, '"')]
}

func (e *env) vpcs() []VPC {
	e.t.Helper()
	var out []VPC
	e.admin(http.MethodGet, "/admin/vpcs", nil, http.StatusOK, &out)
	return out
}

func TestDrillLifecycle(t *testing.T) {
	e := newEnv(t)
	g := e.seed(SeedSpec{Groups: []SeedGroup{{Name: "app", Instances: []SeedInstance{
		{Name: "web", OSType: osWindows, KeyName: "kp-w"}, {Name: "db", OSType: osCoreOS}}}}}).Groups[0]

	// Created without a VPC: SDRS makes one; creating -> available.
	job, err := e.createDrill(g.ID, "drill-a", nil)
	if err != nil {
		t.Fatal(err)
	}
	id := e.drillIDOfJob(job)
	if d := e.drill(id); d.Status != statusCreating || d.DrillVpcId == "" {
		t.Fatalf("new drill %+v", d)
	}
	e.waitSuccess(job)
	d := e.drill(id)
	if d.Status != statusAvailable || len(d.DrillServers) != 2 {
		t.Fatalf("drill %+v", d)
	}
	vpcs := e.vpcs()
	if len(vpcs) != 1 || vpcs[0].ID != d.DrillVpcId || !vpcs[0].AutoCreated || vpcs[0].DrillID != id || vpcs[0].CIDR == "" {
		t.Fatalf("vpcs %+v", vpcs)
	}

	// Drill servers are ECS servers in the DR AZ with an address in the
	// drill VPC and the production server's OS facts.
	wantOS := map[string][2]string{g.Instances[0].ID: {osWindows, "kp-w"}, g.Instances[1].ID: {osLinux, ""}}
	var drillServers []string
	for _, ds := range d.DrillServers {
		s := e.server(ds.DrillServerId)
		drillServers = append(drillServers, s.Id)
		addrs := s.Addresses[d.DrillVpcId]
		if s.Status != powerActive || s.OSEXTAZavailabilityZone != DefaultTargetAZ || len(s.Addresses) != 1 || len(addrs) != 1 ||
			!strings.HasPrefix(addrs[0].Addr, "192.168.") || addrs[0].Version != "4" {
			t.Fatalf("drill server %s: %+v", ds.DrillServerId, s)
		}
		if w := wantOS[ds.ProtectedInstance]; s.Metadata["os_type"] != w[0] || s.KeyName != w[1] {
			t.Fatalf("drill server of %s: os %q key %q, want %v", ds.ProtectedInstance, s.Metadata["os_type"], s.KeyName, w)
		}
	}

	// A second group drills in a VPC it names.
	g2 := e.seedOne(1)
	job2, err := e.createDrill(g2.ID, "other", ptr("vpc-given"))
	if err != nil {
		t.Fatal(err)
	}
	id2 := e.drillIDOfJob(job2)
	e.waitSuccess(job2)
	if _, err := e.createDrill(g2.ID, "again", ptr("vpc-given")); err == nil {
		t.Fatal("a VPC in use by a drill was accepted")
	} else {
		wantError(t, err, http.StatusBadRequest, codeDrillVPCUsed)
	}

	// List filters.
	for _, c := range []struct {
		name string
		req  model.ListDisasterRecoveryDrillsRequest
		want []string
	}{
		{"all", model.ListDisasterRecoveryDrillsRequest{}, []string{id, id2}},
		{"group", model.ListDisasterRecoveryDrillsRequest{ServerGroupId: ptr(g2.ID)}, []string{id2}},
		{"name", model.ListDisasterRecoveryDrillsRequest{Name: ptr("drill")}, []string{id}},
		{"status", model.ListDisasterRecoveryDrillsRequest{Status: ptr(statusAvailable)}, []string{id, id2}},
		{"status none", model.ListDisasterRecoveryDrillsRequest{Status: ptr(statusErrorDeleting)}, nil},
		{"vpc", model.ListDisasterRecoveryDrillsRequest{DrillVpcId: ptr("vpc-given")}, []string{id2}},
		{"paging", model.ListDisasterRecoveryDrillsRequest{Limit: ptr(int32(1)), Offset: ptr(int32(1))}, []string{id2}},
	} {
		r := ok(e.sdrs.ListDisasterRecoveryDrills(&c.req)).must(t)
		var got []string
		for _, d := range *r.DisasterRecoveryDrills {
			got = append(got, d.Id)
		}
		if strings.Join(got, ",") != strings.Join(c.want, ",") {
			t.Errorf("%s: got %v, want %v", c.name, got, c.want)
		}
	}

	// A group with drills (and nothing else) cannot be deleted.
	empty := e.seedOne(0)
	job3, err := e.createDrill(empty.ID, "empty", nil)
	if err != nil {
		t.Fatal(err)
	}
	id3 := e.drillIDOfJob(job3)
	e.waitSuccess(job3)
	_, err = e.sdrs.DeleteProtectionGroup(&model.DeleteProtectionGroupRequest{ServerGroupId: empty.ID})
	wantError(t, err, http.StatusBadRequest, codeGroupHasDrills)
	e.waitSuccess(ok(e.sdrs.DeleteDisasterRecoveryDrill(&model.DeleteDisasterRecoveryDrillRequest{DisasterRecoveryDrillId: id3})).must(t).JobId)
	e.waitSuccess(ok(e.sdrs.DeleteProtectionGroup(&model.DeleteProtectionGroupRequest{ServerGroupId: empty.ID})).must(t).JobId)

	// A failed delete leaves error-deleting; a retry succeeds, removes the
	// drill servers and keeps the VPC.
	e.admin(http.MethodPost, "/admin/faults/jobs", JobFault{JobType: jobDeleteDrill}, http.StatusOK, nil)
	del := ok(e.sdrs.DeleteDisasterRecoveryDrill(&model.DeleteDisasterRecoveryDrillRequest{DisasterRecoveryDrillId: id})).must(t)
	if s := e.drill(id).Status; s != statusDeleting {
		t.Fatalf("while deleting: %s", s)
	}
	if j := e.waitJob(del.JobId); j.Status.Value() != jobFail {
		t.Fatalf("injected delete failure: %+v", j)
	}
	if s := e.drill(id).Status; s != statusErrorDeleting {
		t.Fatalf("after the failed delete: %s", s)
	}
	if got := e.listDrills(model.ListDisasterRecoveryDrillsRequest{Status: ptr(statusErrorDeleting)}); len(got) != 1 || got[0].Id != id {
		t.Fatalf("error-deleting filter: %+v", got)
	}
	del = ok(e.sdrs.DeleteDisasterRecoveryDrill(&model.DeleteDisasterRecoveryDrillRequest{DisasterRecoveryDrillId: id})).must(t)
	e.waitSuccess(del.JobId)
	_, err = e.sdrs.ShowDisasterRecoveryDrill(&model.ShowDisasterRecoveryDrillRequest{DisasterRecoveryDrillId: id})
	wantError(t, err, http.StatusBadRequest, codeDrillNotFound)
	for _, s := range drillServers {
		_, err := e.ecs.ShowServer(&ecsmodel.ShowServerRequest{ServerId: s})
		wantError(t, err, http.StatusNotFound, codeECSServerNotFound)
	}
	if v := e.vpcs(); len(v) != 3 || v[0].ID != d.DrillVpcId || v[1].ID != "vpc-given" || v[1].AutoCreated || !v[2].AutoCreated {
		t.Fatalf("vpcs after the deletes: %+v", v)
	}
}

// TestDrillName: 1 to 64 bytes, counted in bytes.
func TestDrillName(t *testing.T) {
	e := newEnv(t)
	g := e.seedOne(1)
	for _, name := range []string{strings.Repeat("d", 65), strings.Repeat("演", 22), ""} {
		_, err := e.createDrill(g.ID, name, nil)
		code := "SDRS.0202"
		if name == "" {
			code = codeInvalidParams
		}
		wantError(t, err, http.StatusBadRequest, code)
	}
	job, err := e.createDrill(g.ID, strings.Repeat("d", 64), nil)
	if err != nil {
		t.Fatal(err)
	}
	e.waitSuccess(job)
	if len(e.vpcs()) != 1 {
		t.Fatal("a refused drill left a VPC")
	}
}
