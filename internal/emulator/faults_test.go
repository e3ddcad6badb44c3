package emulator

import (
	"net/http"
	"strings"
	"testing"
	"time"

	ecsmodel "github.com/huaweicloud/huaweicloud-sdk-go-v3/services/ecs/v2/model"
	"github.com/huaweicloud/huaweicloud-sdk-go-v3/services/sdrs/v1/model"
)

func (e *env) zone(az string, down bool) {
	e.t.Helper()
	e.admin(http.MethodPut, "/admin/zones/"+az, map[string]bool{"down": down}, http.StatusOK, nil)
}

func (e *env) failureJobs(req model.ListFailureJobsRequest) []model.FailureJobParams {
	e.t.Helper()
	r := ok(e.sdrs.ListFailureJobs(&req)).must(e.t)
	return *r.FailureJobs
}

func TestZoneDown(t *testing.T) {
	e := newEnv(t)
	g := e.seedOne(1, func(g *SeedGroup) { g.Instances[0].ProductionPower = powerShutoff })
	e.zone(DefaultSourceAZ, true)

	grp := e.group(g.ID)
	if grp.HealthStatus.Value() != healthAbnormal {
		t.Fatalf("health with production AZ down: %s", grp.HealthStatus.Value())
	}
	abnormal := ok(e.sdrs.ListProtectionGroups(&model.ListProtectionGroupsRequest{
		QueryType: ptr(model.GetListProtectionGroupsRequestQueryTypeEnum().STATUS_ABNORMAL)})).must(t)
	if *abnormal.Count != 1 {
		t.Fatalf("status_abnormal count %d", *abnormal.Count)
	}
	if rep := ok(e.sdrs.ShowReplication(&model.ShowReplicationRequest{ReplicationId: g.Instances[0].ReplicationID})).must(t); rep.Replication.FaultLevel != "2" {
		t.Fatalf("fault level %s", rep.Replication.FaultLevel)
	}

	// A planned failover out of the broken AZ is accepted, then fails.
	job := e.waitJob(ok(e.reverseGroup(g.ID, stationTarget)).must(t))
	if job.Status.Value() != jobFail || *job.ErrorCode != codeReverseFailed || *job.FailReason == "" {
		t.Fatalf("reverse job: %+v", job)
	}
	if s := e.group(g.ID).Status; s != statusErrorReversing {
		t.Fatalf("after failed reverse: %s", s)
	}
	fails := e.failureJobs(model.ListFailureJobsRequest{})
	if len(fails) != 1 || fails[0].FailureStatus.Value() != "reverseFail" || fails[0].ResourceId != g.ID ||
		fails[0].ResourceType.Value() != resourceGroups || fails[0].ErrorCode != codeReverseFailed || fails[0].JobStatus.Value() != jobFail {
		t.Fatalf("failure jobs: %+v", fails)
	}

	// A forced failover succeeds.
	e.waitSuccess(ok(e.failoverGroup(g.ID)).must(t))
	grp = e.group(g.ID)
	if grp.Status != statusFailedOver || grp.PriorityStation != stationTarget || grp.HealthStatus.Value() != healthNormal {
		t.Fatalf("after failover: %+v", grp)
	}

	// The old production AZ is now the DR site: the replication link to
	// it is broken (fault level 5) and re-protecting into it fails.
	if rep := ok(e.sdrs.ShowReplication(&model.ShowReplicationRequest{ReplicationId: g.Instances[0].ReplicationID})).must(t); rep.Replication.FaultLevel != "5" {
		t.Fatalf("fault level with the DR AZ down: %s", rep.Replication.FaultLevel)
	}
	if job := e.waitJob(e.startGroup(g.ID)); job.Status.Value() != jobFail || *job.ErrorCode != codeReprotectFailed {
		t.Fatalf("re-protect into a down AZ: %+v", job)
	}
	if s := e.group(g.ID).Status; s != statusErrorReprotecting {
		t.Fatalf("after the failed re-protect: %s", s)
	}

	// Servers in the broken AZ do not start; the others do.
	job2 := e.startServers(g.Instances[0].ProductionServer)
	if job2.Status.Value() != jobFail || (*job2.Entities.SubJobs)[0].Status.Value() != jobFail {
		t.Fatalf("start in a down AZ: %+v", job2)
	}
	if s := e.server(g.Instances[0].ProductionServer); s.Status != powerShutoff {
		t.Fatalf("server in down AZ is %s", s.Status)
	}
	if job3 := e.startServers(g.Instances[0].DRServer); job3.Status.Value() != jobSuccess {
		t.Fatalf("start in a healthy AZ: %s", job3.Status.Value())
	}
	e.zone(DefaultSourceAZ, false)
	if job4 := e.startServers(g.Instances[0].ProductionServer); job4.Status.Value() != jobSuccess {
		t.Fatalf("start after the AZ is back: %s", job4.Status.Value())
	}
}

func TestInjectedJobFailures(t *testing.T) {
	e := newEnv(t)
	g := e.seedOne(1, func(g *SeedGroup) { g.Instances[0].ProductionPower = powerShutoff })
	e.admin(http.MethodPost, "/admin/faults/jobs", JobFault{JobType: jobReverseGroup, Count: 2, ErrorCode: codeReverseFailed, FailReason: "storage array timeout"}, http.StatusOK, nil)
	e.admin(http.MethodPost, "/admin/faults/jobs", JobFault{JobType: jobStartGroup}, http.StatusOK, nil)

	for i := 0; i < 2; i++ {
		job := e.waitJob(ok(e.reverseGroup(g.ID, stationTarget)).must(t))
		if job.Status.Value() != jobFail || *job.ErrorCode != codeReverseFailed || *job.FailReason != "storage array timeout" {
			t.Fatalf("attempt %d: %+v", i, job)
		}
		if sj := (*job.Entities.SubJobs)[0]; sj.Status.Value() != jobFail || sj.ErrorCode != codeReverseFailed {
			t.Fatalf("sub-job %+v", sj)
		}
		grp := e.group(g.ID)
		if grp.Status != statusErrorReversing || grp.PriorityStation != stationSource {
			t.Fatalf("after failed reverse: %+v", grp)
		}
		if pi := e.instance(g.Instances[0].ID); pi.Status != statusErrorReversing {
			t.Fatalf("instance after failed reverse: %s", pi.Status)
		}
	}
	// The third attempt (a retry from error-reversing) succeeds.
	e.waitSuccess(ok(e.reverseGroup(g.ID, stationTarget)).must(t))
	if grp := e.group(g.ID); grp.Status != statusProtected || grp.PriorityStation != stationTarget {
		t.Fatalf("after retry: %+v", grp)
	}

	fails := e.failureJobs(model.ListFailureJobsRequest{ServerGroupId: ptr(g.ID),
		FailureStatus: ptr(model.GetListFailureJobsRequestFailureStatusEnum().REVERSE_FAIL)})
	if len(fails) != 2 {
		t.Fatalf("failure jobs: %+v", fails)
	}
	ok(e.sdrs.DeleteFailureJob(&model.DeleteFailureJobRequest{FailureJobId: fails[0].JobId})).must(t)
	if n := len(e.failureJobs(model.ListFailureJobsRequest{ServerGroupId: ptr(g.ID)})); n != 1 {
		t.Fatalf("after delete one: %d", n)
	}
	_, err := e.sdrs.DeleteFailureJob(&model.DeleteFailureJobRequest{FailureJobId: fails[0].JobId})
	wantError(t, err, http.StatusBadRequest, codeInvalidParams)
	ok(e.sdrs.DeleteServerGroupFailureJobs(&model.DeleteServerGroupFailureJobsRequest{ServerGroupId: g.ID})).must(t)
	if n := len(e.failureJobs(model.ListFailureJobsRequest{ServerGroupId: ptr(g.ID)})); n != 0 {
		t.Fatalf("after delete per group: %d", n)
	}

	// Enable protection fails once (default code), then succeeds.
	stopped := e.seedOne(1, func(g *SeedGroup) { p := false; g.Protected = &p })
	job := e.waitJob(e.startGroup(stopped.ID))
	if job.Status.Value() != jobFail || *job.ErrorCode != codeEnableFailed {
		t.Fatalf("start job: %+v", job)
	}
	if s := e.group(stopped.ID).Status; s != statusErrorStarting {
		t.Fatalf("after failed start: %s", s)
	}
	e.waitSuccess(e.startGroup(stopped.ID))
	if n := len(e.failureJobs(model.ListFailureJobsRequest{})); n != 1 {
		t.Fatalf("failure jobs before delete all: %d", n)
	}
	ok(e.sdrs.DeleteAllServerGroupFailureJobs(&model.DeleteAllServerGroupFailureJobsRequest{})).must(t)
	if n := len(e.failureJobs(model.ListFailureJobsRequest{})); n != 0 {
		t.Fatalf("after delete all: %d", n)
	}

	// Instance-level failures are listed under their group.
	e.admin(http.MethodPost, "/admin/faults/jobs", JobFault{JobType: jobAddNIC}, http.StatusOK, nil)
	nic := ok(e.sdrs.AddProtectedInstanceNic(&model.AddProtectedInstanceNicRequest{ProtectedInstanceId: g.Instances[0].ID,
		Body: &model.ProtectedInstanceAddNicRequestBody{SubnetId: "subnet-x"}})).must(t)
	e.waitJob(nic.JobId)
	if n := len(e.failureJobs(model.ListFailureJobsRequest{})); n != 0 {
		t.Fatalf("group-level list shows instance failures: %d", n)
	}
	inst := e.failureJobs(model.ListFailureJobsRequest{ServerGroupId: ptr(g.ID),
		ResourceType: ptr(model.GetListFailureJobsRequestResourceTypeEnum().PROTECTED_INSTANCES)})
	if len(inst) != 1 || inst[0].ResourceId != g.Instances[0].ID {
		t.Fatalf("instance failures: %+v", inst)
	}
	e.admin(http.MethodDelete, "/admin/faults/jobs", nil, http.StatusNoContent, nil)
}

func TestHTTPFaults(t *testing.T) {
	e := newEnv(t)
	groupsPath := "/v1/" + testProject + "/server-groups"

	e.admin(http.MethodPut, "/admin/faults/http", map[string]any{"throttle_fraction": 1, "retry_after_seconds": 7}, http.StatusOK, nil)
	_, err := e.sdrs.ListProtectionGroups(&model.ListProtectionGroupsRequest{})
	wantError(t, err, http.StatusTooManyRequests, codeThrottled)
	status, header, _ := e.do(e.srv.URL, rawRequest{method: http.MethodGet, path: groupsPath})
	if status != http.StatusTooManyRequests || header.Get("Retry-After") != "7" {
		t.Fatalf("throttled: %d Retry-After=%q", status, header.Get("Retry-After"))
	}
	_, err = e.ecs.ShowServer(&ecsmodel.ShowServerRequest{ServerId: "x"})
	wantError(t, err, http.StatusTooManyRequests, codeThrottled)

	e.admin(http.MethodPut, "/admin/faults/http", map[string]any{"error_fraction": 1, "error_status": 503}, http.StatusOK, nil)
	_, err = e.sdrs.ListProtectionGroups(&model.ListProtectionGroupsRequest{})
	wantError(t, err, http.StatusServiceUnavailable, codeInternal)

	// A fraction is honoured and reproducible with the same seed.
	sample := func() string {
		e.admin(http.MethodPut, "/admin/faults/http", map[string]any{"throttle_fraction": 0.3, "error_fraction": 0.2, "seed": 42}, http.StatusOK, nil)
		var b strings.Builder
		for i := 0; i < 200; i++ {
			switch status, _, _ := e.do(e.srv.URL, rawRequest{method: http.MethodGet, path: groupsPath}); status {
			case http.StatusTooManyRequests:
				b.WriteByte('T')
			case http.StatusInternalServerError:
				b.WriteByte('E')
			default:
				b.WriteByte('.')
			}
		}
		return b.String()
	}
	first, second := sample(), sample()
	if first != second {
		t.Fatalf("same seed, different outcomes:\n%s\n%s", first, second)
	}
	if th, er := strings.Count(first, "T"), strings.Count(first, "E"); th < 35 || th > 85 || er < 20 || er > 65 {
		t.Fatalf("200 calls at 30%% throttle / 20%% error gave %d / %d", th, er)
	}

	e.admin(http.MethodPut, "/admin/faults/http", map[string]any{"latency": "150ms"}, http.StatusOK, nil)
	start := time.Now()
	ok(e.sdrs.ListProtectionGroups(&model.ListProtectionGroupsRequest{})).must(t)
	if d := time.Since(start); d < 150*time.Millisecond {
		t.Fatalf("latency not applied: %v", d)
	}
	e.admin(http.MethodPut, "/admin/faults/http", map[string]any{"throttle_fraction": 2}, http.StatusBadRequest, nil)
	e.admin(http.MethodDelete, "/admin/faults/http", nil, http.StatusNoContent, nil)
	ok(e.sdrs.ListProtectionGroups(&model.ListProtectionGroupsRequest{})).must(t)

	// Every call, throttled or not, is in the log.
	if n := len(e.calls("operation=ListProtectionGroups")); n < 400 {
		t.Fatalf("call log has %d ListProtectionGroups", n)
	}
}

func TestRuntimeDurations(t *testing.T) {
	e := newEnv(t)
	var cfg configView
	e.admin(http.MethodPut, "/admin/config", map[string]string{"job_duration": "1h", "sync_duration": "2h"}, http.StatusOK, &cfg)
	if cfg.JobDuration != "1h0m0s" || cfg.SyncDuration != "2h0m0s" {
		t.Fatalf("config %+v", cfg)
	}
	g := e.seedOne(1, func(g *SeedGroup) { p := false; g.Protected = &p })
	jobID := e.startGroup(g.ID)
	e.emu.mu.Lock()
	d := e.emu.st.Jobs[*jobID].Duration
	e.emu.mu.Unlock()
	if d != time.Hour {
		t.Fatalf("job duration %v", d)
	}
	e.admin(http.MethodPut, "/admin/config", map[string]string{"job_duration": "soon"}, http.StatusBadRequest, nil)
	e.admin(http.MethodGet, "/admin/config", nil, http.StatusOK, &cfg)
	if cfg.JobDuration != "1h0m0s" {
		t.Fatalf("bad config changed durations: %+v", cfg)
	}
}

// TestReplicationProgress follows a copy on a fake clock: progress rises
// linearly and the group turns active exactly at the end.
func TestReplicationProgress(t *testing.T) {
	clock := NewFakeClock(time.Now())
	e := newEnv(t, func(c *Config) { c.Clock = clock; c.SyncDuration = 100 * time.Second })
	g := e.seedOne(1, func(g *SeedGroup) { g.ReplicationStatus = replCopying })
	for _, step := range []struct {
		advance  time.Duration
		progress int
		status   string
	}{
		{0, 0, replCopying},
		{25 * time.Second, 25, replCopying},
		{50 * time.Second, 75, replCopying},
		{24 * time.Second, 99, replCopying},
		{time.Second, 100, replActive},
	} {
		clock.Advance(step.advance)
		grp := e.group(g.ID)
		if grp.Progress != int32(step.progress) || grp.ReplicationStatus.Value() != step.status {
			t.Fatalf("after +%v: %d%% %s, want %d%% %s", step.advance, grp.Progress, grp.ReplicationStatus.Value(), step.progress, step.status)
		}
		rep := ok(e.sdrs.ShowReplication(&model.ShowReplicationRequest{ReplicationId: g.Instances[0].ReplicationID})).must(t).Replication
		if rep.Progress != int32(step.progress) || rep.ReplicationStatus.Value() != step.status {
			t.Fatalf("replication pair does not mirror the group: %+v", rep)
		}
	}
	// A forced copy restarts from the given progress.
	e.forceGroup(g.ID, map[string]any{"replication_status": replCopying, "progress": 40})
	clock.Advance(50 * time.Second)
	if p := e.group(g.ID).Progress; p != 70 {
		t.Fatalf("forced copy at half time: %d", p)
	}
	if clock.Pending() != 1 {
		t.Fatalf("pending timers %d", clock.Pending())
	}
}
