package emulator

import (
	"encoding/json"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/huaweicloud/huaweicloud-sdk-go-v3/services/sdrs/v1/model"
)

func TestReplicationOperations(t *testing.T) {
	e := newEnv(t)
	g := e.seedOne(1)
	_, vol := e.newServer("data-host", DefaultSourceAZ)

	create := ok(e.sdrs.CreateReplication(&model.CreateReplicationRequest{Body: &model.CreateReplicationRequestBody{
		Replication: &model.CreateReplicationRequestParams{ServerGroupId: g.ID, VolumeId: vol, Name: "data", Description: ptr("data disk")}}})).must(t)
	job := e.waitSuccess(create.JobId)
	repID := *job.Entities.ReplicationPairId
	rep := ok(e.sdrs.ShowReplication(&model.ShowReplicationRequest{ReplicationId: repID})).must(t).Replication
	ids := strings.Split(rep.VolumeIds, ",")
	if len(ids) != 2 || ids[0] != vol || rep.Status != statusProtected || rep.ReplicationModel != "hypermetro" || rep.RecordMetadata.VolumeSize != defaultVolumeSize {
		t.Fatalf("replication: %+v", rep)
	}
	// A pair added to a protected group starts a new copy.
	if s := e.group(g.ID).ReplicationStatus.Value(); s != replCopying {
		t.Fatalf("group replication after adding a pair: %s", s)
	}
	_, err := e.sdrs.CreateReplication(&model.CreateReplicationRequest{Body: &model.CreateReplicationRequestBody{
		Replication: &model.CreateReplicationRequestParams{ServerGroupId: g.ID, VolumeId: vol, Name: "again"}}})
	wantError(t, err, http.StatusBadRequest, codeDiskInUse)
	_, err = e.sdrs.CreateReplication(&model.CreateReplicationRequest{Body: &model.CreateReplicationRequestBody{
		Replication: &model.CreateReplicationRequestParams{ServerGroupId: g.ID, VolumeId: "nope", Name: "x"}}})
	wantError(t, err, http.StatusBadRequest, codeInvalidDisk)

	renamed := ok(e.sdrs.UpdateReplicationName(&model.UpdateReplicationNameRequest{ReplicationId: repID,
		Body: &model.UpdateReplicationNameRequestBody{Replication: &model.UpdateReplicationNameRequestParams{Name: "data-2"}}})).must(t)
	if renamed.Replication.Name != "data-2" {
		t.Fatalf("rename: %+v", renamed.Replication)
	}

	_, err = e.sdrs.ExpandReplication(&model.ExpandReplicationRequest{ReplicationId: repID,
		Body: &model.ExtendReplicationRequestBody{ExtendReplication: &model.ExtendReplicationRequestParams{NewSize: 10}}})
	wantError(t, err, http.StatusBadRequest, codeInvalidParams)
	exp := ok(e.sdrs.ExpandReplication(&model.ExpandReplicationRequest{ReplicationId: repID,
		Body: &model.ExtendReplicationRequestBody{ExtendReplication: &model.ExtendReplicationRequestParams{NewSize: 100}}})).must(t)
	if s := ok(e.sdrs.ShowReplication(&model.ShowReplicationRequest{ReplicationId: repID})).must(t).Replication.Status; s != statusExtending {
		t.Fatalf("status during expand %s", s)
	}
	e.waitSuccess(exp.JobId)
	if size := ok(e.sdrs.ShowReplication(&model.ShowReplicationRequest{ReplicationId: repID})).must(t).Replication.RecordMetadata.VolumeSize; size != 100 {
		t.Fatalf("size %d", size)
	}

	list := ok(e.sdrs.ListReplications(&model.ListReplicationsRequest{ServerGroupId: ptr(g.ID)})).must(t)
	if *list.Count != 2 {
		t.Fatalf("replications %d", *list.Count)
	}
	byInstance := ok(e.sdrs.ListReplications(&model.ListReplicationsRequest{ProtectedInstanceId: ptr(g.Instances[0].ID)})).must(t)
	if *byInstance.Count != 1 || (*byInstance.Replications)[0].Id != g.Instances[0].ReplicationID {
		t.Fatalf("by instance: %+v", byInstance)
	}
	byName := ok(e.sdrs.ListReplications(&model.ListReplicationsRequest{Name: ptr("DATA"), Limit: ptr(int32(1))})).must(t)
	if *byName.Count != 1 || len(*byName.Replications) != 1 {
		t.Fatalf("by name: %+v", byName)
	}

	e.waitReplication(g.ID, replActive)
	del := ok(e.sdrs.DeleteReplication(&model.DeleteReplicationRequest{ReplicationId: repID,
		Body: &model.DeleteReplicationRequestBody{Replication: &model.DeleteReplicationRequestParams{ServerGroupId: ptr(g.ID)}}})).must(t)
	e.waitSuccess(del.JobId)
	_, err = e.sdrs.ShowReplication(&model.ShowReplicationRequest{ReplicationId: repID})
	wantError(t, err, http.StatusBadRequest, codeReplicationNotFound)
}

func TestDrills(t *testing.T) {
	e := newEnv(t)
	g := e.seedOne(2)
	resp := ok(e.sdrs.CreateDisasterRecoveryDrill(&model.CreateDisasterRecoveryDrillRequest{Body: &model.CreateDisasterRecoveryDrillRequestBody{
		DisasterRecoveryDrill: &model.CreateDisasterRecoveryDrillRequestParams{ServerGroupId: g.ID, Name: "drill-1", DrillVpcId: ptr("vpc-drill")}}})).must(t)
	list := ok(e.sdrs.ListDisasterRecoveryDrills(&model.ListDisasterRecoveryDrillsRequest{ServerGroupId: ptr(g.ID)})).must(t)
	if *list.Count != 1 || (*list.DisasterRecoveryDrills)[0].Status != statusCreating {
		t.Fatalf("drills: %+v", list)
	}
	drillID := (*list.DisasterRecoveryDrills)[0].Id
	_, err := e.sdrs.DeleteDisasterRecoveryDrill(&model.DeleteDisasterRecoveryDrillRequest{DisasterRecoveryDrillId: drillID})
	wantError(t, err, http.StatusBadRequest, codeDrillDeleteState)
	e.waitSuccess(resp.JobId)
	// The SDK's JobEntities has no drill field; the raw job has it.
	status, _, body := e.do(e.srv.URL, rawRequest{method: http.MethodGet, path: "/v1/" + testProject + "/jobs/" + *resp.JobId})
	if status != http.StatusOK || !strings.Contains(string(body), `"disaster_recovery_drill_id":"`+drillID+`"`) {
		t.Fatalf("raw drill job: %d %s", status, body)
	}
	d := ok(e.sdrs.ShowDisasterRecoveryDrill(&model.ShowDisasterRecoveryDrillRequest{DisasterRecoveryDrillId: drillID})).must(t).DisasterRecoveryDrill
	if d.Status != statusAvailable || len(d.DrillServers) != 2 || d.DrillVpcId != "vpc-drill" {
		t.Fatalf("drill: %+v", d)
	}
	if s := e.server(d.DrillServers[0].DrillServerId); s.Status != powerActive || s.OSEXTAZavailabilityZone != DefaultTargetAZ {
		t.Fatalf("drill server: %+v", s)
	}
	if n := e.group(g.ID).DisasterRecoveryDrillNum; n != 1 {
		t.Fatalf("drill count %d", n)
	}
	_, err = e.sdrs.CreateDisasterRecoveryDrill(&model.CreateDisasterRecoveryDrillRequest{Body: &model.CreateDisasterRecoveryDrillRequestBody{
		DisasterRecoveryDrill: &model.CreateDisasterRecoveryDrillRequestParams{ServerGroupId: g.ID, Name: "drill-2", DrillVpcId: ptr("vpc-drill")}}})
	wantError(t, err, http.StatusBadRequest, codeDrillVPCUsed)
	r := ok(e.sdrs.UpdateDisasterRecoveryDrillName(&model.UpdateDisasterRecoveryDrillNameRequest{DisasterRecoveryDrillId: drillID,
		Body: &model.UpdateDisasterRecoveryDrillNameRequestBody{DisasterRecoveryDrill: &model.UpdateDisasterRecoveryDrillNameRequestParams{Name: "renamed"}}})).must(t)
	if r.DisasterRecoveryDrill.Name != "renamed" {
		t.Fatalf("rename %+v", r)
	}
	del := ok(e.sdrs.DeleteDisasterRecoveryDrill(&model.DeleteDisasterRecoveryDrillRequest{DisasterRecoveryDrillId: drillID})).must(t)
	e.waitSuccess(del.JobId)
	_, err = e.sdrs.ShowDisasterRecoveryDrill(&model.ShowDisasterRecoveryDrillRequest{DisasterRecoveryDrillId: drillID})
	wantError(t, err, http.StatusBadRequest, codeDrillNotFound)
}

func TestGroupListFiltersAndPaging(t *testing.T) {
	e := newEnv(t)
	notProtected := false
	res := e.seed(SeedSpec{Groups: []SeedGroup{
		{Name: "alpha-web"},
		{Name: "alpha-db", PriorityStation: stationTarget},
		{Name: "beta", Protected: &notProtected},
		{Name: "gamma"},
	}})
	e.forceGroup(res.Groups[3].ID, map[string]any{"status": statusErrorReversing})
	list := func(req model.ListProtectionGroupsRequest) []string {
		t.Helper()
		r := ok(e.sdrs.ListProtectionGroups(&req)).must(t)
		var names []string
		for _, g := range *r.ServerGroups {
			names = append(names, g.Name)
		}
		if int(*r.Count) < len(names) {
			t.Fatalf("count %d < page %d", *r.Count, len(names))
		}
		return names
	}
	check := func(what string, got []string, want ...string) {
		t.Helper()
		if strings.Join(got, ",") != strings.Join(want, ",") {
			t.Errorf("%s: got %v, want %v", what, got, want)
		}
	}
	qt := model.GetListProtectionGroupsRequestQueryTypeEnum()
	check("all", list(model.ListProtectionGroupsRequest{}), "alpha-web", "alpha-db", "beta", "gamma")
	check("name is fuzzy", list(model.ListProtectionGroupsRequest{Name: ptr("ALPHA")}), "alpha-web", "alpha-db")
	check("status", list(model.ListProtectionGroupsRequest{Status: ptr(statusAvailable)}), "beta")
	check("availability_zone is the production AZ", list(model.ListProtectionGroupsRequest{AvailabilityZone: ptr(DefaultTargetAZ)}), "alpha-db")
	check("status_abnormal", list(model.ListProtectionGroupsRequest{QueryType: &qt.STATUS_ABNORMAL}), "gamma")
	check("stop_protected with the SDK's leading space", list(model.ListProtectionGroupsRequest{QueryType: &qt.STOP_PROTECTED}), "beta")
	check("period_no_dr_drill", list(model.ListProtectionGroupsRequest{QueryType: &qt.PERIOD_NO_DR_DRILL}), "alpha-web", "alpha-db", "beta", "gamma")
	check("page 2", list(model.ListProtectionGroupsRequest{Limit: ptr(int32(2)), Offset: ptr(int32(2))}), "beta", "gamma")
	check("offset past the end", list(model.ListProtectionGroupsRequest{Offset: ptr(int32(10))}))
	check("limit 0", list(model.ListProtectionGroupsRequest{Limit: ptr(int32(0))}))

	_, err := e.sdrs.ListProtectionGroups(&model.ListProtectionGroupsRequest{Limit: ptr(int32(1001))})
	wantError(t, err, http.StatusBadRequest, codeInvalidLimit)
	_, err = e.sdrs.ListProtectionGroups(&model.ListProtectionGroupsRequest{Offset: ptr(int32(-1))})
	wantError(t, err, http.StatusBadRequest, codeInvalidOffset)
	status, _, body := e.do(e.srv.URL, rawRequest{method: http.MethodGet, path: "/v1/" + testProject + "/server-groups",
		query: map[string][]string{"limit": {"ten"}}})
	if status != http.StatusBadRequest || errorCode(t, body) != codeInvalidLimit {
		t.Fatalf("limit=ten: %d %s", status, body)
	}

	// Instance list filters.
	var many []string
	for i := 0; i < 31; i++ {
		many = append(many, `"id`+string(rune('a'+i%26))+`"`)
	}
	_, err = e.sdrs.ListProtectedInstances(&model.ListProtectedInstancesRequest{ProtectedInstanceIds: ptr("[" + strings.Join(many, ",") + "]")})
	wantError(t, err, http.StatusBadRequest, codeTooManyIDs)
	ins := ok(e.sdrs.ListProtectedInstances(&model.ListProtectedInstancesRequest{ServerGroupIds: ptr(res.Groups[0].ID + "," + res.Groups[1].ID)})).must(t)
	if *ins.Count != 0 {
		t.Fatalf("seeded groups have no instances: %d", *ins.Count)
	}
}

func TestServiceInformation(t *testing.T) {
	e := newEnv(t)
	g := e.seedOne(1)
	domains := ok(e.sdrs.ListActiveActiveDomains(&model.ListActiveActiveDomainsRequest{})).must(t)
	if len(*domains.Domains) != 1 || (*domains.Domains)[0].Id != e.group(g.ID).DomainId {
		t.Fatalf("domains %+v", domains)
	}
	quota := ok(e.sdrs.ShowQuota(&model.ShowQuotaRequest{})).must(t)
	used := map[string]int32{}
	for _, r := range quota.Quotas.Resources {
		used[r.Type] = r.Used
	}
	if used["server_groups"] != 1 || used["replications"] != 1 {
		t.Fatalf("quota %+v", quota.Quotas)
	}
	rpo := ok(e.sdrs.ListRpoStatistics(&model.ListRpoStatisticsRequest{Limit: ptr(int32(5))})).must(t)
	if *rpo.Count != 24 || len(*rpo.ResourceRpoStatistics) != 5 || (*rpo.ResourceRpoStatistics)[0].ResourceType.Value() != "replication" {
		t.Fatalf("rpo %+v", rpo)
	}
	_, err := e.sdrs.ListRpoStatistics(&model.ListRpoStatisticsRequest{StartTime: ptr("yesterday")})
	wantError(t, err, http.StatusBadRequest, codeInvalidParams)
	_, err = e.sdrs.ShowJobStatus(&model.ShowJobStatusRequest{JobId: "ffffffffffffffffffffffffffffffff"})
	wantError(t, err, http.StatusBadRequest, codeInvalidParams)
}

// TestWireShapes checks the raw JSON the SDK models hide (nulls of a new
// group, time formats, job fields) and, on a fake clock, the job's
// INIT -> RUNNING -> SUCCESS steps.
func TestWireShapes(t *testing.T) {
	clock := NewFakeClock(time.Now())
	e := newEnv(t, func(c *Config) { c.Clock = clock; c.JobDuration = 10 * time.Second })
	notProtected := false
	gid := e.seedOne(0, func(g *SeedGroup) { g.Protected = &notProtected }).ID
	status, header, body := e.do(e.srv.URL, rawRequest{method: http.MethodGet, path: "/v1/" + testProject + "/server-groups/" + gid})
	if status != http.StatusOK || header.Get("X-Request-Id") == "" || !strings.HasPrefix(header.Get("Content-Type"), "application/json") {
		t.Fatalf("show: %d %v", status, header)
	}
	var raw struct {
		ServerGroup map[string]any `json:"server_group"`
	}
	if err := json.Unmarshal(body, &raw); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"description", "protected_status", "replication_status", "health_status", "test_vpc_id", "replication_model"} {
		if v, ok := raw.ServerGroup[k]; !ok || v != nil {
			t.Errorf("%s = %v, want null", k, v)
		}
	}
	created, _ := raw.ServerGroup["created_at"].(string)
	if !regexp.MustCompile(`^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3}$`).MatchString(created) {
		t.Errorf("created_at %q", created)
	}

	resp := ok(e.sdrs.DeleteProtectionGroup(&model.DeleteProtectionGroupRequest{ServerGroupId: gid})).must(t)
	if resp.HttpStatusCode != http.StatusOK {
		t.Fatalf("async call answered %d, want 200", resp.HttpStatusCode)
	}
	if !regexp.MustCompile(`^[0-9a-f]{32}$`).MatchString(*resp.JobId) {
		t.Errorf("job id %s", *resp.JobId)
	}
	_, _, body = e.do(e.srv.URL, rawRequest{method: http.MethodGet, path: "/v1/" + testProject + "/jobs/" + *resp.JobId})
	var job map[string]any
	if err := json.Unmarshal(body, &job); err != nil {
		t.Fatal(err)
	}
	if job["status"] != jobInit || job["end_time"] != nil || job["error_code"] != nil || job["fail_reason"] != nil || job["job_type"] != jobDeleteGroup {
		t.Fatalf("fresh job: %s", body)
	}
	if !regexp.MustCompile(`^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$`).MatchString(job["begin_time"].(string)) {
		t.Errorf("begin_time %v", job["begin_time"])
	}
	jobStatus := func() *model.ShowJobStatusResponse {
		return ok(e.sdrs.ShowJobStatus(&model.ShowJobStatusRequest{JobId: *resp.JobId})).must(t)
	}
	clock.Advance(time.Second)
	if s := jobStatus().Status.Value(); s != jobRunning {
		t.Fatalf("after 1s of 10s: %s", s)
	}
	clock.Advance(8 * time.Second)
	if s := jobStatus().Status.Value(); s != jobRunning {
		t.Fatalf("after 9s of 10s: %s", s)
	}
	clock.Advance(time.Second)
	done := jobStatus()
	if done.Status.Value() != jobSuccess || done.EndTime == nil || *done.Entities.ServerGroupId != gid {
		t.Fatalf("done job %+v", done)
	}
	_, err := e.sdrs.ShowProtectionGroup(&model.ShowProtectionGroupRequest{ServerGroupId: gid})
	wantError(t, err, http.StatusBadRequest, codeGroupNotFound)
}
