package emulator

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/huaweicloud/huaweicloud-sdk-go-v3/services/sdrs/v1/model"

	"github.com/sdrs-operator/sdrs-operator/internal/emutest"
)

// The facts the operator reads for login guidance and failover readiness
// (issue 14), each read back through the official SDK.

// TestServerLoginFacts seeds the four login cases through emutest and
// reads them with ECS ShowServer: os_type is only Linux or Windows (CoreOS
// is in the image name), key_name names the key pair or is empty.
func TestServerLoginFacts(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	a := emutest.New(e.srv.URL)
	seeded, err := a.Seed(ctx, emutest.Group{Name: "login", Instances: []emutest.Instance{
		{Name: "win-key", OSType: osWindows, KeyName: "kp-windows"},
		{Name: "win-password", OSType: osWindows},
		{Name: "linux", OSType: osLinux, KeyName: "kp-linux"},
		{Name: "coreos", OSType: osCoreOS},
		{Name: "custom", OSType: osLinux, ImageName: "Ubuntu 22.04 server 64bit"},
	}})
	if err != nil {
		t.Fatal(err)
	}
	want := []struct{ osType, image, key string }{
		{osWindows, imageNames[osWindows], "kp-windows"},
		{osWindows, imageNames[osWindows], ""},
		{osLinux, imageNames[osLinux], "kp-linux"},
		{osLinux, "CoreOS 2303.3.0 64bit", ""},
		{osLinux, "Ubuntu 22.04 server 64bit", ""},
	}
	for i, in := range seeded[0].Instances {
		// The DR server is a copy of the production one.
		for _, id := range []string{in.ProductionServer, in.DRServer} {
			s := e.server(id)
			if s.Metadata["os_type"] != want[i].osType || s.Metadata["image_name"] != want[i].image || s.KeyName != want[i].key {
				t.Errorf("instance %d server %s: os_type %q image_name %q key_name %q, want %+v",
					i, id, s.Metadata["os_type"], s.Metadata["image_name"], s.KeyName, want[i])
			}
		}
	}

	// POST /admin/servers takes the same fields.
	var out struct {
		ID string `json:"id"`
	}
	e.admin(http.MethodPost, "/admin/servers", map[string]any{"os_type": osCoreOS, "key_name": "kp-core"}, http.StatusOK, &out)
	if s := e.server(out.ID); s.Metadata["os_type"] != osLinux || !strings.Contains(s.Metadata["image_name"], "CoreOS") || s.KeyName != "kp-core" {
		t.Fatalf("admin CoreOS server: %+v %q", s.Metadata, s.KeyName)
	}
	e.admin(http.MethodPost, "/admin/servers", map[string]any{"key_name": strings.Repeat("k", maxKeyNameLen+1)}, http.StatusBadRequest, nil)

	// A server created from a protected instance's DR site (a new
	// instance through the SDK) keeps the production server's facts.
	e.admin(http.MethodPost, "/admin/servers", map[string]any{"os_type": osWindows, "key_name": "kp-2"}, http.StatusOK, &out)
	g := e.seedOne(0)
	resp := ok(e.sdrs.CreateProtectedInstance(&model.CreateProtectedInstanceRequest{Body: &model.CreateProtectedInstanceRequestBody{
		ProtectedInstance: &model.CreateProtectedInstanceRequestParams{ServerGroupId: g.ID, ServerId: out.ID, Name: "win"}}})).must(t)
	job := e.waitSuccess(resp.JobId)
	pi := e.instance(*job.Entities.ProtectedInstanceId)
	if s := e.server(pi.TargetServer); s.Metadata["os_type"] != osWindows || s.KeyName != "kp-2" {
		t.Fatalf("DR server of a new instance: %+v %q", s.Metadata, s.KeyName)
	}
}

// TestInstanceAndPairFaults sets instance statuses invalid/fault and pair
// fault levels through the admin API (and emutest) and reads them back.
func TestInstanceAndPairFaults(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	a := emutest.New(e.srv.URL)
	g := e.seedOne(1)
	in, pair := g.Instances[0].ID, g.Instances[0].ReplicationID

	for _, status := range []string{statusInvalid, statusFault, statusProtected} {
		if err := a.SetInstanceStatus(ctx, in, status); err != nil {
			t.Fatal(err)
		}
		if got := e.instance(in).Status; got != status {
			t.Fatalf("instance status %s, want %s", got, status)
		}
	}
	e.admin(http.MethodPut, "/admin/instances/"+in, map[string]string{"status": "broken"}, http.StatusBadRequest, nil)
	e.admin(http.MethodPut, "/admin/instances/missing", map[string]string{"status": statusFault}, http.StatusBadRequest, nil)

	showPair := func() model.ShowReplicationParams {
		t.Helper()
		return *ok(e.sdrs.ShowReplication(&model.ShowReplicationRequest{ReplicationId: pair})).must(t).Replication
	}
	if r := showPair(); r.FaultLevel != "0" {
		t.Fatalf("initial fault level %s", r.FaultLevel)
	}
	for _, level := range []string{"2", "5", "0"} {
		if err := a.SetPair(ctx, pair, emutest.PairFacts{FaultLevel: ptr(level)}); err != nil {
			t.Fatal(err)
		}
		if r := showPair(); r.FaultLevel != level {
			t.Fatalf("fault level %s, want %s", r.FaultLevel, level)
		}
	}
	// An explicit level wins over the zones; "" returns to them.
	e.zone(DefaultTargetAZ, true)
	if r := showPair(); r.FaultLevel != "0" {
		t.Fatalf("forced level 0 with the DR zone down: %s", r.FaultLevel)
	}
	if err := a.SetPair(ctx, pair, emutest.PairFacts{FaultLevel: ptr("")}); err != nil {
		t.Fatal(err)
	}
	if r := showPair(); r.FaultLevel != "5" {
		t.Fatalf("computed level with the DR zone down: %s", r.FaultLevel)
	}
	if err := a.SetPair(ctx, pair, emutest.PairFacts{Status: ptr(statusFault)}); err != nil {
		t.Fatal(err)
	}
	if r := showPair(); r.Status != statusFault {
		t.Fatalf("pair status %s", r.Status)
	}
	e.admin(http.MethodPut, "/admin/replications/"+pair, map[string]string{"fault_level": "3"}, http.StatusBadRequest, nil)
	e.admin(http.MethodPut, "/admin/replications/"+pair, map[string]string{"status": "nic-creating"}, http.StatusBadRequest, nil)
	e.admin(http.MethodPut, "/admin/replications/missing", map[string]string{"fault_level": "2"}, http.StatusBadRequest, nil)
}

// TestRPOStatisticsFollowAdmin: resource_num counts the pairs over their
// RPO, which the admin API can force.
func TestRPOStatisticsFollowAdmin(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	a := emutest.New(e.srv.URL)
	g := e.seedOne(2)
	latest := func() model.RpoStattisticsParams {
		t.Helper()
		r := ok(e.sdrs.ListRpoStatistics(&model.ListRpoStatisticsRequest{})).must(t)
		points := *r.ResourceRpoStatistics
		return points[len(points)-1]
	}
	p := latest()
	if p.ResourceNum != 0 || p.ResourceType.Value() != "replication" {
		t.Fatalf("in sync: %+v", p)
	}
	if _, err := time.Parse(rpoPointFormat, p.PointTime); err != nil {
		t.Fatalf("point_time %q: %v", p.PointTime, err)
	}
	if err := a.SetPair(ctx, g.Instances[1].ReplicationID, emutest.PairFacts{RPOExceeded: ptr(true)}); err != nil {
		t.Fatal(err)
	}
	if p := latest(); p.ResourceNum != 1 {
		t.Fatalf("one pair forced over its RPO: %d", p.ResourceNum)
	}
	// A copy in progress counts every pair of the group, unless forced.
	e.forceGroup(g.ID, map[string]any{"replication_status": replActiveStopped})
	e.admin(http.MethodPut, "/admin/replications/"+g.Instances[0].ReplicationID, map[string]any{"rpo_exceeded": false}, http.StatusOK, nil)
	if p := latest(); p.ResourceNum != 1 {
		t.Fatalf("stopped group, one pair forced under: %d", p.ResourceNum)
	}
	e.admin(http.MethodPut, "/admin/replications/"+g.Instances[0].ReplicationID, map[string]any{"rpo_exceeded": nil}, http.StatusOK, nil)
	if p := latest(); p.ResourceNum != 2 {
		t.Fatalf("stopped group: %d", p.ResourceNum)
	}
	e.admin(http.MethodPut, "/admin/replications/"+g.Instances[0].ReplicationID, map[string]any{"rpo_exceeded": "yes"}, http.StatusBadRequest, nil)
}

// TestFailedJobInTaskCenter: a failed enable-protection job is listed with
// its error_code and fail_reason.
func TestFailedJobInTaskCenter(t *testing.T) {
	e := newEnv(t)
	g := e.seedOne(1, func(g *SeedGroup) { g.Protected = ptr(false) })
	e.admin(http.MethodPost, "/admin/faults/jobs", JobFault{JobType: jobStartGroup, ErrorCode: codeEnableFailed, FailReason: "array busy"}, http.StatusOK, nil)
	job := e.waitJob(e.startGroup(g.ID))
	if job.Status.Value() != jobFail || *job.ErrorCode != codeEnableFailed || *job.FailReason != "array busy" {
		t.Fatalf("job %+v", job)
	}
	fails := e.failureJobs(model.ListFailureJobsRequest{})
	if len(fails) != 1 || fails[0].ErrorCode != codeEnableFailed || fails[0].FailReason != "array busy" ||
		fails[0].FailureStatus.Value() != "startFail" || fails[0].ResourceId != g.ID {
		t.Fatalf("failure jobs %+v", fails)
	}
}

// TestEmptyGroupCannotBeProtected: enabling protection on a group without
// replication pairs is refused (SDRS.1002, the documented generic code;
// the exact code is unconfirmed).
func TestEmptyGroupCannotBeProtected(t *testing.T) {
	e := newEnv(t)
	id := e.createGroup("empty")
	_, err := e.sdrs.StartProtectionGroup(&model.StartProtectionGroupRequest{ServerGroupId: id,
		Body: &model.StartProtectionGroupRequestBody{StartServerGroup: emptyAction()}})
	wantError(t, err, http.StatusBadRequest, codeGroupState)
	if s := e.group(id).Status; s != statusAvailable {
		t.Fatalf("group after the refusal: %s", s)
	}
}
