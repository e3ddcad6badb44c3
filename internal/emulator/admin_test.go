package emulator

import (
	"net/http"
	"sync"
	"testing"
	"time"

	ecsmodel "github.com/huaweicloud/huaweicloud-sdk-go-v3/services/ecs/v2/model"
	"github.com/huaweicloud/huaweicloud-sdk-go-v3/services/sdrs/v1/model"
)

func TestSeedDefaultsAndShapes(t *testing.T) {
	e := newEnv(t)
	notProtected := false
	res := e.seed(SeedSpec{Groups: []SeedGroup{
		{Instances: []SeedInstance{{}, {OSType: osWindows, ProductionPower: powerShutoff, DRPower: powerActive}}},
		{Name: "on-target", PriorityStation: stationTarget, Instances: []SeedInstance{{OSType: osCoreOS}}},
		{Name: "cold", Protected: &notProtected, SourceAvailabilityZone: "eu-west-101a", TargetAvailabilityZone: "eu-west-101b"},
	}})
	if len(res.Groups) != 3 || res.Groups[0].Name != "seed-group-1" || len(res.Groups[0].Instances) != 2 {
		t.Fatalf("seed result %+v", res)
	}

	first := res.Groups[0]
	g := e.group(first.ID)
	if g.Status != statusProtected || g.ReplicationStatus.Value() != replActive || g.Progress != 100 ||
		g.SourceAvailabilityZone != DefaultSourceAZ || g.TargetAvailabilityZone != DefaultTargetAZ || g.ProtectedInstanceNum != 2 || g.ReplicationNum != 2 {
		t.Fatalf("default seeded group %+v", g)
	}
	in := first.Instances[0]
	if in.SourceServer != in.ProductionServer || in.TargetServer != in.DRServer {
		t.Fatalf("roles on a source group: %+v", in)
	}
	if s := e.server(in.ProductionServer); s.Status != powerActive || s.OSEXTAZavailabilityZone != DefaultSourceAZ || s.Metadata["os_type"] != osLinux || s.Metadata["image_name"] == "" {
		t.Fatalf("default production server %+v", s)
	}
	if s := e.server(in.DRServer); s.Status != powerShutoff || s.OSEXTAZavailabilityZone != DefaultTargetAZ {
		t.Fatalf("default DR server %+v", s)
	}
	if s := e.server(first.Instances[1].DRServer); s.Status != powerActive || s.Metadata["os_type"] != osWindows {
		t.Fatalf("Windows DR server %+v", s)
	}
	pi := e.instance(in.ID)
	if len(pi.Attachment) != 1 || pi.Attachment[0].Replication != in.ReplicationID || pi.Attachment[0].Device != "/dev/vda" || pi.PriorityStation != stationSource {
		t.Fatalf("seeded instance %+v", pi)
	}

	onTarget := res.Groups[1].Instances[0]
	if onTarget.TargetServer != onTarget.ProductionServer {
		t.Fatalf("roles on a target group: %+v", onTarget)
	}
	if s := e.server(onTarget.ProductionServer); s.OSEXTAZavailabilityZone != DefaultTargetAZ {
		t.Fatalf("production server of a target group in %s", s.OSEXTAZavailabilityZone)
	}

	cold := e.group(res.Groups[2].ID)
	if cold.Status != statusAvailable || cold.ProtectedStatus.Value() != "null" || cold.ReplicationStatus.Value() != "null" {
		t.Fatalf("unprotected seeded group %+v", cold)
	}
	domains := ok(e.sdrs.ListActiveActiveDomains(&model.ListActiveActiveDomainsRequest{})).must(t)
	if len(*domains.Domains) != 2 {
		t.Fatalf("a seeded AZ pair adds a domain: %+v", domains)
	}

	// A bad spec creates nothing.
	before := e.stateDump()
	for _, spec := range []SeedSpec{
		{Groups: []SeedGroup{{}, {PriorityStation: "middle"}}},
		{Groups: []SeedGroup{{Protected: &notProtected, ReplicationStatus: replCopying}}},
		{Groups: []SeedGroup{{Instances: []SeedInstance{{OSType: "Plan9"}}}}},
		{Groups: []SeedGroup{{Instances: []SeedInstance{{ProductionPower: "PAUSED"}}}}},
		{Groups: []SeedGroup{{SourceAvailabilityZone: "a", TargetAvailabilityZone: "a"}}},
	} {
		e.admin(http.MethodPost, "/admin/seed", spec, http.StatusBadRequest, nil)
	}
	if after := e.stateDump(); after != before {
		t.Fatalf("a refused seed changed the state")
	}
	// Go API: the same seeding.
	if res, err := e.emu.Seed(SeedSpec{Groups: []SeedGroup{{Name: "direct"}}}); err != nil || res.Groups[0].Name != "direct" {
		t.Fatalf("Seed: %+v %v", res, err)
	}
}

func TestCallLog(t *testing.T) {
	e := newEnv(t)
	g := e.seedOne(1, func(g *SeedGroup) { g.Instances[0].ProductionPower = powerShutoff })
	e.admin(http.MethodDelete, "/admin/calls", nil, http.StatusNoContent, nil)
	e.group(g.ID)
	e.waitSuccess(ok(e.reverseGroup(g.ID, stationTarget)).must(t))
	e.instance(g.Instances[0].ID)
	e.server(g.Instances[0].ProductionServer)

	all := e.calls("")
	if len(all) < 5 {
		t.Fatalf("calls %+v", all)
	}
	for _, c := range all {
		if c.GroupID != g.ID || c.Time.IsZero() || c.Method == "" || c.Path == "" || c.StatusCode != http.StatusOK {
			t.Fatalf("call %+v", c)
		}
	}
	rev := e.calls("operation=" + opReverseGroup)
	if len(rev) != 1 || rev[0].Method != http.MethodPost || rev[0].ErrorCode != "" {
		t.Fatalf("reverse calls %+v", rev)
	}
	summary := map[string]int{}
	e.admin(http.MethodGet, "/admin/calls/summary", nil, http.StatusOK, &summary)
	if summary["ShowProtectionGroup"] != 1 || summary[opReverseGroup] != 1 || summary["ShowJobStatus"] < 1 ||
		summary["ShowProtectedInstance"] != 1 || summary["ShowServer"] != 1 {
		t.Fatalf("summary %v", summary)
	}
	_, err := e.sdrs.ShowProtectionGroup(&model.ShowProtectionGroupRequest{ServerGroupId: "missing"})
	wantError(t, err, http.StatusBadRequest, codeGroupNotFound)
	if c := e.calls("group_id=missing"); len(c) != 1 || c[0].ErrorCode != codeGroupNotFound || c[0].StatusCode != http.StatusBadRequest {
		t.Fatalf("failed call %+v", c)
	}
	if c := e.calls("group_id=nobody"); len(c) != 0 {
		t.Fatalf("filter by unknown group %+v", c)
	}
	e.admin(http.MethodDelete, "/admin/calls", nil, http.StatusNoContent, nil)
	if c := e.calls(""); len(c) != 0 {
		t.Fatalf("after clear %+v", c)
	}
}

func TestAdminErrors(t *testing.T) {
	e := newEnv(t)
	g := e.seedOne(1)
	e.admin(http.MethodGet, "/admin/nothing", nil, http.StatusNotFound, nil)
	e.admin(http.MethodPut, "/admin/servers/nope", map[string]string{"status": powerActive}, http.StatusNotFound, nil)
	e.admin(http.MethodPut, "/admin/servers/"+g.Instances[0].DRServer, map[string]string{"status": "PAUSED"}, http.StatusBadRequest, nil)
	e.admin(http.MethodPut, "/admin/groups/nope", map[string]any{"progress": 1}, http.StatusBadRequest, nil)
	e.admin(http.MethodPut, "/admin/groups/"+g.ID, map[string]any{"replication_status": "broken"}, http.StatusBadRequest, nil)
	e.admin(http.MethodPut, "/admin/groups/"+g.ID, map[string]any{"progress": 101}, http.StatusBadRequest, nil)
	e.admin(http.MethodPut, "/admin/groups/"+g.ID, map[string]any{"status": "sleeping"}, http.StatusBadRequest, nil)
	e.admin(http.MethodPut, "/admin/zones/"+DefaultSourceAZ, map[string]any{}, http.StatusBadRequest, nil)
	e.admin(http.MethodPost, "/admin/faults/jobs", map[string]any{"count": 1}, http.StatusBadRequest, nil)
	e.admin(http.MethodPost, "/admin/seed", "not a spec", http.StatusBadRequest, nil)
	var faults map[string]any
	e.admin(http.MethodGet, "/admin/faults", nil, http.StatusOK, &faults)
	var vol Volume
	e.admin(http.MethodPost, "/admin/volumes", map[string]any{"size": 80, "availability_zone": DefaultTargetAZ}, http.StatusOK, &vol)
	if vol.ID == "" || vol.Size != 80 || vol.AZ != DefaultTargetAZ {
		t.Fatalf("volume %+v", vol)
	}
}

func TestECSPower(t *testing.T) {
	e := newEnv(t, func(c *Config) { c.JobDuration = 100 * time.Millisecond })
	g := e.seedOne(1)
	prod := g.Instances[0].ProductionServer
	resp := ok(e.ecs.BatchStopServers(&ecsmodel.BatchStopServersRequest{Body: &ecsmodel.BatchStopServersRequestBody{
		OsStop: &ecsmodel.BatchStopServersOption{Servers: []ecsmodel.ServerId{{Id: prod}}, Type: ptr(ecsmodel.GetBatchStopServersOptionTypeEnum().HARD)}}})).must(t)
	if s := e.server(prod); s.Status != powerActive || s.OSEXTSTStaskState != "powering-off" {
		t.Fatalf("server while stopping: %s/%s", s.Status, s.OSEXTSTStaskState)
	}
	job := e.waitECSJob(resp.JobId)
	if job.Status.Value() != jobSuccess || *job.JobType != jobECSStopServers || *job.Entities.SubJobsTotal != 1 ||
		*(*job.Entities.SubJobs)[0].Entities.ServerId != prod || job.EndTime == nil {
		t.Fatalf("ECS job %+v", job)
	}
	s := e.server(prod)
	if s.Status != powerShutoff || s.OSEXTSTStaskState != "" || s.OSEXTSTSvmState != "stopped" || s.OSEXTSTSpowerState != powerStateShutdown {
		t.Fatalf("stopped server %+v", s)
	}
	_, err := e.ecs.ShowServer(&ecsmodel.ShowServerRequest{ServerId: "nope"})
	wantError(t, err, http.StatusNotFound, codeECSServerNotFound)
	_, err = e.ecs.BatchStartServers(&ecsmodel.BatchStartServersRequest{Body: &ecsmodel.BatchStartServersRequestBody{
		OsStart: &ecsmodel.BatchStartServersOption{Servers: []ecsmodel.ServerId{{Id: prod}, {Id: "nope"}}}}})
	wantError(t, err, http.StatusNotFound, codeECSServerNotFound)
	if job := e.startServers(prod); job.Status.Value() != jobSuccess || *job.JobType != jobECSStartServers {
		t.Fatalf("start job %+v", job)
	}
	if s := e.server(prod); s.Status != powerActive || s.OSEXTSTSpowerState != powerStateRunning {
		t.Fatalf("started server %+v", s)
	}
	// ECS jobs fail on injected faults too.
	e.admin(http.MethodPost, "/admin/faults/jobs", JobFault{JobType: jobECSStopServers}, http.StatusOK, nil)
	r := ok(e.ecs.BatchStopServers(&ecsmodel.BatchStopServersRequest{Body: &ecsmodel.BatchStopServersRequestBody{
		OsStop: &ecsmodel.BatchStopServersOption{Servers: []ecsmodel.ServerId{{Id: prod}}}}})).must(t)
	if job := e.waitECSJob(r.JobId); job.Status.Value() != jobFail || *job.ErrorCode != codeECSFailure {
		t.Fatalf("failed stop %+v", job)
	}
	if s := e.server(prod); s.Status != powerActive {
		t.Fatalf("a failed stop stopped the server")
	}
}

// TestConcurrentClients runs SDK clients in parallel against one group:
// the emulator stays consistent (run with -race) and exactly one of the
// concurrent actions is accepted.
func TestConcurrentClients(t *testing.T) {
	e := newEnv(t, func(c *Config) { c.JobDuration = time.Hour })
	g := e.seedOne(2, func(g *SeedGroup) {
		for i := range g.Instances {
			g.Instances[i].ProductionPower = powerShutoff
		}
	})
	var wg sync.WaitGroup
	var mu sync.Mutex
	accepted := 0
	for i := 0; i < 8; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := 0; j < 5; j++ {
				if _, err := e.sdrs.ShowProtectionGroup(&model.ShowProtectionGroupRequest{ServerGroupId: g.ID}); err != nil {
					t.Errorf("show: %v", err)
				}
				if _, err := e.sdrs.ListProtectedInstances(&model.ListProtectedInstancesRequest{ServerGroupId: ptr(g.ID)}); err != nil {
					t.Errorf("list: %v", err)
				}
			}
			if _, err := e.failoverGroup(g.ID); err == nil {
				mu.Lock()
				accepted++
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if accepted != 1 {
		t.Fatalf("%d concurrent failovers accepted", accepted)
	}
	if n := len(e.calls("operation=" + opFailoverGroup)); n != 8 {
		t.Fatalf("call log has %d failovers", n)
	}
}

func TestCallLogKeepsTheLastMaxCalls(t *testing.T) {
	e := newEnv(t, func(c *Config) { c.MaxCalls = 10 })
	g := e.seedOne(1)
	for range 25 {
		e.group(g.ID)
	}
	_, err := e.sdrs.ShowProtectionGroup(&model.ShowProtectionGroupRequest{ServerGroupId: "missing"})
	wantError(t, err, http.StatusBadRequest, codeGroupNotFound)
	all := e.calls("")
	if len(all) != 10 || all[9].GroupID != "missing" || all[0].GroupID != g.ID {
		t.Fatalf("want the last 10 calls, the missing group last; got %d: %+v", len(all), all)
	}
	summary := map[string]int{}
	e.admin(http.MethodGet, "/admin/calls/summary", nil, http.StatusOK, &summary)
	if summary["ShowProtectionGroup"] != 10 {
		t.Fatalf("summary %v", summary)
	}
}
