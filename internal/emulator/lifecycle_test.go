package emulator

import (
	"net/http"
	"testing"

	ecsmodel "github.com/huaweicloud/huaweicloud-sdk-go-v3/services/ecs/v2/model"
	"github.com/huaweicloud/huaweicloud-sdk-go-v3/services/sdrs/v1/model"
)

// emptyAction is what a careful caller puts in the *interface{} action
// bodies of the SDK.
func emptyAction() *interface{} {
	var v interface{} = map[string]interface{}{}
	return &v
}

// newServer creates a standalone server (and its system disk) through the
// admin API, as a person would in the console.
func (e *env) newServer(name, az string) (serverID, volumeID string) {
	e.t.Helper()
	var out struct {
		ID       string `json:"id"`
		VolumeID string `json:"volume_id"`
	}
	e.admin(http.MethodPost, "/admin/servers", map[string]any{"name": name, "availability_zone": az}, http.StatusOK, &out)
	return out.ID, out.VolumeID
}

// createGroup creates a group through the SDK and waits for it.
func (e *env) createGroup(name string) string {
	e.t.Helper()
	domains := ok(e.sdrs.ListActiveActiveDomains(&model.ListActiveActiveDomainsRequest{})).must(e.t)
	var domainID string
	for _, d := range *domains.Domains {
		if d.LocalReplicationCluster.AvailabilityZone == DefaultSourceAZ && d.RemoteReplicationCluster.AvailabilityZone == DefaultTargetAZ {
			domainID = d.Id
		}
	}
	if domainID == "" {
		e.t.Fatalf("no active-active domain for %s/%s in %+v", DefaultSourceAZ, DefaultTargetAZ, *domains.Domains)
	}
	resp := ok(e.sdrs.CreateProtectionGroup(&model.CreateProtectionGroupRequest{
		Body: &model.CreateProtectionGroupRequestBody{ServerGroup: &model.CreateProtectionGroupRequestParams{
			Name:                   name,
			Description:            ptr("created by a test"),
			SourceAvailabilityZone: DefaultSourceAZ,
			TargetAvailabilityZone: DefaultTargetAZ,
			DomainId:               domainID,
			SourceVpcId:            "046852ef-c49d-409b-8389-546aaaa5701f",
			DrType:                 ptr(model.GetCreateProtectionGroupRequestParamsDrTypeEnum().MIGRATION),
		}},
	})).must(e.t)
	job := e.waitSuccess(resp.JobId)
	if job.Entities == nil || job.Entities.ServerGroupId == nil {
		e.t.Fatalf("create job without entities.server_group_id: %+v", job)
	}
	return *job.Entities.ServerGroupId
}

func (e *env) startGroup(id string) *string {
	e.t.Helper()
	resp := ok(e.sdrs.StartProtectionGroup(&model.StartProtectionGroupRequest{
		ServerGroupId: id, Body: &model.StartProtectionGroupRequestBody{StartServerGroup: emptyAction()}})).must(e.t)
	return resp.JobId
}

func (e *env) reverseGroup(id, station string) (*string, error) {
	e.t.Helper()
	ps := model.GetReverseProtectionGroupRequestParamsPriorityStationEnum().TARGET
	if station == stationSource {
		ps = model.GetReverseProtectionGroupRequestParamsPriorityStationEnum().SOURCE
	}
	resp, err := e.sdrs.StartReverseProtectionGroup(&model.StartReverseProtectionGroupRequest{
		ServerGroupId: id,
		Body: &model.ReverseProtectionGroupRequestBody{
			ReverseServerGroup: &model.ReverseProtectionGroupRequestParams{PriorityStation: ps}},
	})
	if err != nil {
		return nil, err
	}
	return resp.JobId, nil
}

func (e *env) failoverGroup(id string) (*string, error) {
	resp, err := e.sdrs.StartFailoverProtectionGroup(&model.StartFailoverProtectionGroupRequest{
		ServerGroupId: id, Body: &model.FailoverProtectionGroupRequestBody{FailoverServerGroup: emptyAction()}})
	if err != nil {
		return nil, err
	}
	return resp.JobId, nil
}

func (e *env) stopServers(ids ...string) {
	e.t.Helper()
	var servers []ecsmodel.ServerId
	for _, id := range ids {
		servers = append(servers, ecsmodel.ServerId{Id: id})
	}
	resp := ok(e.ecs.BatchStopServers(&ecsmodel.BatchStopServersRequest{Body: &ecsmodel.BatchStopServersRequestBody{
		OsStop: &ecsmodel.BatchStopServersOption{Servers: servers, Type: ptr(ecsmodel.GetBatchStopServersOptionTypeEnum().SOFT)}}})).must(e.t)
	if job := e.waitECSJob(resp.JobId); job.Status.Value() != jobSuccess {
		e.t.Fatalf("stop job ended %s", job.Status.Value())
	}
}

func (e *env) startServers(ids ...string) *ecsmodel.ShowJobResponse {
	e.t.Helper()
	var servers []ecsmodel.ServerId
	for _, id := range ids {
		servers = append(servers, ecsmodel.ServerId{Id: id})
	}
	resp := ok(e.ecs.BatchStartServers(&ecsmodel.BatchStartServersRequest{Body: &ecsmodel.BatchStartServersRequestBody{
		OsStart: &ecsmodel.BatchStartServersOption{Servers: servers}}})).must(e.t)
	return e.waitECSJob(resp.JobId)
}

// TestGroupLifecycle drives one group through its whole life with the
// official SDK: create, add an instance and a replication pair, protect,
// planned failover there and back, failover, re-protect, disable, clean up.
func TestGroupLifecycle(t *testing.T) {
	e := newEnv(t)

	// Create.
	gid := e.createGroup("lifecycle")
	g := e.group(gid)
	if g.Status != statusAvailable || g.PriorityStation != stationSource || g.ProtectedStatus.Value() != "null" ||
		g.ReplicationStatus.Value() != "null" || g.HealthStatus.Value() != "null" {
		t.Fatalf("new group: %+v", g)
	}
	if g.TargetVpcId != g.SourceVpcId || g.DrType != "migration" || g.ServerType != "ECS" || g.ProtectionType.Value() != "replication-pair" {
		t.Fatalf("new group fields: %+v", g)
	}

	renamed := ok(e.sdrs.UpdateProtectionGroupName(&model.UpdateProtectionGroupNameRequest{ServerGroupId: gid,
		Body: &model.UpdateProtectionGroupNameRequestBody{ServerGroup: &model.UpdateProtectionGroupNameRequestParams{Name: "lifecycle-2"}}})).must(t)
	if renamed.ServerGroup.Name != "lifecycle-2" || e.group(gid).Name != "lifecycle-2" {
		t.Fatalf("rename: %+v", renamed.ServerGroup)
	}

	// Add an instance: the DR server appears in the target AZ, stopped.
	prodID, volID := e.newServer("web-1", DefaultSourceAZ)
	piResp := ok(e.sdrs.CreateProtectedInstance(&model.CreateProtectedInstanceRequest{
		Body: &model.CreateProtectedInstanceRequestBody{ProtectedInstance: &model.CreateProtectedInstanceRequestParams{
			ServerGroupId: gid, ServerId: prodID, Name: "web-1",
		}}})).must(t)
	if pi := ok(e.sdrs.ShowProtectedInstance(&model.ShowProtectedInstanceRequest{ProtectedInstanceId: e.emuInstanceOf(gid)})).must(t); pi.ProtectedInstance.Status != statusCreating {
		t.Fatalf("instance right after create: %s", pi.ProtectedInstance.Status)
	}
	job := e.waitSuccess(piResp.JobId)
	piID := *job.Entities.ProtectedInstanceId
	pi := ok(e.sdrs.ShowProtectedInstance(&model.ShowProtectedInstanceRequest{ProtectedInstanceId: piID})).must(t).ProtectedInstance
	if pi.Status != statusAvailable || pi.SourceServer != prodID || pi.TargetServer == "" {
		t.Fatalf("instance: %+v", pi)
	}
	drID := pi.TargetServer
	if s := e.server(drID); s.Status != powerShutoff || s.OSEXTAZavailabilityZone != DefaultTargetAZ || s.Metadata["os_type"] != osLinux {
		t.Fatalf("DR server: %+v", s)
	}

	// Add a replication pair and attach it.
	repResp := ok(e.sdrs.CreateReplication(&model.CreateReplicationRequest{
		Body: &model.CreateReplicationRequestBody{Replication: &model.CreateReplicationRequestParams{
			ServerGroupId: gid, VolumeId: volID, Name: "web-1-vda",
		}}})).must(t)
	repID := *e.waitSuccess(repResp.JobId).Entities.ReplicationPairId
	att := ok(e.sdrs.AttachProtectedInstanceReplication(&model.AttachProtectedInstanceReplicationRequest{
		ProtectedInstanceId: piID,
		Body: &model.ProtectedInstanceAttachReplicationRequestBody{ReplicationAttachment: &model.ProtectedInstanceAttachReplicationRequestParams{
			ReplicationId: repID, Device: "/dev/vda",
		}}})).must(t)
	e.waitSuccess(att.JobId)

	// Enable protection: starting at once, then protected and copying,
	// then active at 100%.
	jobID := e.startGroup(gid)
	if g := e.group(gid); g.Status != statusStarting {
		t.Fatalf("status right after start: %s", g.Status)
	}
	if j := e.waitSuccess(jobID); *j.JobType != jobStartGroup || j.Entities.SubJobs == nil || len(*j.Entities.SubJobs) != 1 {
		t.Fatalf("start job: %+v", j)
	}
	g = e.group(gid)
	if g.Status != statusProtected || g.ProtectedStatus.Value() != protectedStarted || g.HealthStatus.Value() != healthNormal {
		t.Fatalf("protected group: %+v", g)
	}
	g = e.waitReplication(gid, replActive)
	if g.Progress != 100 {
		t.Fatalf("active replication at %d%%", g.Progress)
	}

	// Planned failover needs the production servers stopped.
	_, err := e.reverseGroup(gid, stationTarget)
	wantError(t, err, http.StatusBadRequest, codeProductionRunning)
	e.stopServers(prodID)
	if s := e.server(prodID); s.Status != powerShutoff {
		t.Fatalf("production server after stop: %s", s.Status)
	}
	jobID = ok(e.reverseGroup(gid, stationTarget)).must(t)
	if g := e.group(gid); g.Status != statusReversing {
		t.Fatalf("status right after reverse: %s", g.Status)
	}
	if pi := ok(e.sdrs.ShowProtectedInstance(&model.ShowProtectedInstanceRequest{ProtectedInstanceId: piID})).must(t); pi.ProtectedInstance.Status != statusReversing {
		t.Fatalf("instance status during reverse: %s", pi.ProtectedInstance.Status)
	}
	e.waitSuccess(jobID)
	g = e.group(gid)
	if g.Status != statusProtected || g.PriorityStation != stationTarget || g.ReplicationStatus.Value() != replActive {
		t.Fatalf("after planned failover: %+v", g)
	}
	if s := e.server(drID); s.Status != powerShutoff {
		t.Fatalf("new production server after reverse: %s", s.Status)
	}

	// And back: the current production site (target) is already stopped.
	e.waitSuccess(ok(e.reverseGroup(gid, stationSource)).must(t))
	if g := e.group(gid); g.PriorityStation != stationSource || g.Status != statusProtected {
		t.Fatalf("after failback: %+v", g)
	}

	// Failover from a running production site.
	if job := e.startServers(prodID); job.Status.Value() != jobSuccess {
		t.Fatalf("start job: %s", job.Status.Value())
	}
	jobID = ok(e.failoverGroup(gid)).must(t)
	if g := e.group(gid); g.Status != statusFailingOver {
		t.Fatalf("status right after failover: %s", g.Status)
	}
	e.waitSuccess(jobID)
	g = e.group(gid)
	if g.Status != statusFailedOver || g.PriorityStation != stationTarget ||
		g.ReplicationStatus.Value() != replActiveStopped || g.ProtectedStatus.Value() != protectedStopped {
		t.Fatalf("after failover: %+v", g)
	}
	for _, id := range []string{prodID, drID} {
		if s := e.server(id); s.Status != powerShutoff {
			t.Fatalf("server %s after failover: %s", id, s.Status)
		}
	}

	// Re-protect: the same start action, another job type.
	jobID = e.startGroup(gid)
	if g := e.group(gid); g.Status != statusReprotecting {
		t.Fatalf("status right after re-protect: %s", g.Status)
	}
	if j := e.waitSuccess(jobID); *j.JobType != jobReprotectGroup {
		t.Fatalf("re-protect job type %s", *j.JobType)
	}
	g = e.waitReplication(gid, replActive)
	if g.Status != statusProtected || g.PriorityStation != stationTarget || g.ProtectedStatus.Value() != protectedStarted {
		t.Fatalf("after re-protect: %+v", g)
	}

	// Disable protection.
	stop := ok(e.sdrs.StopProtectionGroup(&model.StopProtectionGroupRequest{
		ServerGroupId: gid, Body: &model.StopProtectionGroupRequestBody{StopServerGroup: emptyAction()}})).must(t)
	if g := e.group(gid); g.Status != statusStopping {
		t.Fatalf("status right after stop: %s", g.Status)
	}
	e.waitSuccess(stop.JobId)
	if g := e.group(gid); g.Status != statusAvailable || g.ProtectedStatus.Value() != protectedStopped {
		t.Fatalf("after disable: %+v", g)
	}

	// Clean up: detach, delete the pair, the instance (and its DR server),
	// the group.
	det := ok(e.sdrs.DetachProtectedInstanceReplication(&model.DetachProtectedInstanceReplicationRequest{
		ProtectedInstanceId: piID, ReplicationId: repID})).must(t)
	e.waitSuccess(det.JobId)
	delRep := ok(e.sdrs.DeleteReplication(&model.DeleteReplicationRequest{ReplicationId: repID,
		Body: &model.DeleteReplicationRequestBody{Replication: &model.DeleteReplicationRequestParams{ServerGroupId: ptr(gid), DeleteTargetVolume: ptr(true)}}})).must(t)
	e.waitSuccess(delRep.JobId)
	delPI := ok(e.sdrs.DeleteProtectedInstance(&model.DeleteProtectedInstanceRequest{ProtectedInstanceId: piID,
		Body: &model.DeleteProtectedInstanceRequestBody{DeleteTargetServer: ptr(true)}})).must(t)
	e.waitSuccess(delPI.JobId)
	// After the failover the production site is the target AZ, so the
	// server deleted as "DR" is the one in the source AZ.
	_, err = e.ecs.ShowServer(&ecsmodel.ShowServerRequest{ServerId: prodID})
	wantError(t, err, http.StatusNotFound, codeECSServerNotFound)
	delGroup := ok(e.sdrs.DeleteProtectionGroup(&model.DeleteProtectionGroupRequest{ServerGroupId: gid})).must(t)
	if g := e.group(gid); g.Status != statusDeleting {
		t.Fatalf("status right after delete: %s", g.Status)
	}
	e.waitSuccess(delGroup.JobId)
	_, err = e.sdrs.ShowProtectionGroup(&model.ShowProtectionGroupRequest{ServerGroupId: gid})
	wantError(t, err, http.StatusBadRequest, codeGroupNotFound)

	// The call log saw each action exactly as often as it was accepted.
	summary := map[string]int{}
	e.admin(http.MethodGet, "/admin/calls/summary?group_id="+gid, nil, http.StatusOK, &summary)
	if summary[opReverseGroup] != 3 || summary[opFailoverGroup] != 1 || summary[opStartGroup] != 2 || summary[opStopGroup] != 1 {
		t.Fatalf("call summary: %v", summary)
	}
	if calls := e.calls("operation=StartReverseProtectionGroup&group_id=" + gid); len(calls) != 3 || calls[0].StatusCode != http.StatusBadRequest {
		t.Fatalf("reverse calls: %+v", calls)
	}
}

// emuInstanceOf returns the (single) instance of a group straight from
// the emulator's state.
func (e *env) emuInstanceOf(groupID string) string {
	e.t.Helper()
	e.emu.mu.Lock()
	defer e.emu.mu.Unlock()
	ins := e.emu.st.instancesOf(groupID)
	if len(ins) == 0 {
		e.t.Fatalf("group %s has no instance", groupID)
	}
	return ins[0].ID
}
