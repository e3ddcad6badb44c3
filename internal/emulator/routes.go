package emulator

import "net/http"

// SDK operation names of the group action URL, chosen by body key.
const (
	opStartGroup    = "StartProtectionGroup"
	opStopGroup     = "StopProtectionGroup"
	opReverseGroup  = "StartReverseProtectionGroup"
	opFailoverGroup = "StartFailoverProtectionGroup"
	opGroupAction   = "ProtectionGroupAction" // body names no known action

	actionStart    = "start-server-group"
	actionStop     = "stop-server-group"
	actionReverse  = "reverse-server-group"
	actionFailover = "failover-server-group"
)

// sdrsRoutes is every SDRS v1 operation of the SDK (services/sdrs/v1/sdrs_meta.go),
// named as the SDK names it.
func sdrsRoutes() []route {
	const p = "/v1/{project_id}"
	groupAction := newRoute(http.MethodPost, p+"/server-groups/{server_group_id}/action", opGroupAction, (*Emulator).groupAction)
	groupAction.classify = classifyByKey(opGroupAction,
		[]string{actionStart, actionStop, actionReverse, actionFailover},
		[]string{opStartGroup, opStopGroup, opReverseGroup, opFailoverGroup})
	tagAction := newRoute(http.MethodPost, p+"/protected-instances/{protected_instance_id}/tags/action", "BatchAddTags", (*Emulator).batchTags)
	tagAction.classify = classifyByField("action", "BatchAddTags", map[string]string{"create": "BatchAddTags", "delete": "BatchDeleteTags"})
	versions := newRoute(http.MethodGet, "/", "ListApiVersions", (*Emulator).listVersions)
	versions.public = true
	version := newRoute(http.MethodGet, "/{api_version}", "ShowSpecifiedApiVersion", (*Emulator).showVersion)
	version.public = true

	return []route{
		versions,
		version,
		newRoute(http.MethodPost, p+"/server-groups", "CreateProtectionGroup", (*Emulator).createGroup),
		newRoute(http.MethodGet, p+"/server-groups", "ListProtectionGroups", (*Emulator).listGroups),
		newRoute(http.MethodGet, p+"/server-groups/{server_group_id}", "ShowProtectionGroup", (*Emulator).showGroup),
		newRoute(http.MethodPut, p+"/server-groups/{server_group_id}", "UpdateProtectionGroupName", (*Emulator).renameGroup),
		newRoute(http.MethodDelete, p+"/server-groups/{server_group_id}", "DeleteProtectionGroup", (*Emulator).deleteGroup),
		groupAction,

		newRoute(http.MethodPost, p+"/protected-instances", "CreateProtectedInstance", (*Emulator).createInstance),
		newRoute(http.MethodPost, p+"/protected-instances/batch", "BatchCreateProtectedInstances", (*Emulator).batchCreateInstances),
		newRoute(http.MethodGet, p+"/protected-instances", "ListProtectedInstances", (*Emulator).listInstances),
		newRoute(http.MethodGet, p+"/protected-instances/{protected_instance_id}", "ShowProtectedInstance", (*Emulator).showInstance),
		newRoute(http.MethodPut, p+"/protected-instances/{protected_instance_id}", "UpdateProtectedInstanceName", (*Emulator).renameInstance),
		newRoute(http.MethodDelete, p+"/protected-instances/{protected_instance_id}", "DeleteProtectedInstance", (*Emulator).deleteInstance),
		newRoute(http.MethodPost, p+"/protected-instances/delete", "BatchDeleteProtectedInstances", (*Emulator).batchDeleteInstances),
		newRoute(http.MethodPost, p+"/protected-instances/{protected_instance_id}/attachreplication", "AttachProtectedInstanceReplication", (*Emulator).attachReplication),
		newRoute(http.MethodDelete, p+"/protected-instances/{protected_instance_id}/detachreplication/{replication_id}", "DetachProtectedInstanceReplication", (*Emulator).detachReplication),
		newRoute(http.MethodPost, p+"/protected-instances/{protected_instance_id}/nic", "AddProtectedInstanceNic", (*Emulator).addNIC),
		newRoute(http.MethodPost, p+"/protected-instances/{protected_instance_id}/nic/delete", "DeleteProtectedInstanceNic", (*Emulator).deleteNIC),
		newRoute(http.MethodPost, p+"/protected-instances/{protected_instance_id}/resize", "ResizeProtectedInstance", (*Emulator).resizeInstance),

		newRoute(http.MethodPost, p+"/protected-instances/{protected_instance_id}/tags", "AddProtectedInstanceTags", (*Emulator).addTag),
		tagAction,
		newRoute(http.MethodDelete, p+"/protected-instances/{protected_instance_id}/tags/{key}", "DeleteProtectedInstanceTag", (*Emulator).deleteTag),
		newRoute(http.MethodGet, p+"/protected-instances/{protected_instance_id}/tags", "ListProtectedInstanceTags", (*Emulator).listTags),
		newRoute(http.MethodGet, p+"/protected-instances/tags", "ListProtectedInstancesProjectTags", (*Emulator).projectTags),
		newRoute(http.MethodPost, p+"/protected-instances/resource_instances/action", "ListProtectedInstancesByTags", (*Emulator).instancesByTags),

		newRoute(http.MethodPost, p+"/replications", "CreateReplication", (*Emulator).createReplication),
		newRoute(http.MethodGet, p+"/replications", "ListReplications", (*Emulator).listReplications),
		newRoute(http.MethodGet, p+"/replications/{replication_id}", "ShowReplication", (*Emulator).showReplication),
		newRoute(http.MethodPut, p+"/replications/{replication_id}", "UpdateReplicationName", (*Emulator).renameReplication),
		newRoute(http.MethodDelete, p+"/replications/{replication_id}", "DeleteReplication", (*Emulator).deleteReplication),
		newRoute(http.MethodPost, p+"/replications/{replication_id}/action", "ExpandReplication", (*Emulator).expandReplication),

		newRoute(http.MethodPost, p+"/disaster-recovery-drills", "CreateDisasterRecoveryDrill", (*Emulator).createDrill),
		newRoute(http.MethodGet, p+"/disaster-recovery-drills", "ListDisasterRecoveryDrills", (*Emulator).listDrills),
		newRoute(http.MethodGet, p+"/disaster-recovery-drills/{disaster_recovery_drill_id}", "ShowDisasterRecoveryDrill", (*Emulator).showDrill),
		newRoute(http.MethodPut, p+"/disaster-recovery-drills/{disaster_recovery_drill_id}", "UpdateDisasterRecoveryDrillName", (*Emulator).renameDrill),
		newRoute(http.MethodDelete, p+"/disaster-recovery-drills/{disaster_recovery_drill_id}", "DeleteDisasterRecoveryDrill", (*Emulator).deleteDrill),

		newRoute(http.MethodGet, p+"/active-domains", "ListActiveActiveDomains", (*Emulator).listDomains),
		newRoute(http.MethodGet, p+"/sdrs/quotas", "ShowQuota", (*Emulator).showQuota),
		newRoute(http.MethodGet, p+"/jobs/{job_id}", "ShowJobStatus", (*Emulator).showJob),
		newRoute(http.MethodGet, p+"/resource/rpo-statistics", "ListRpoStatistics", (*Emulator).listRPOStatistics),

		newRoute(http.MethodGet, p+"/task-center/failure-jobs", "ListFailureJobs", (*Emulator).listFailureJobs),
		newRoute(http.MethodDelete, p+"/task-center/failure-jobs/{failure_job_id}", "DeleteFailureJob", (*Emulator).deleteFailureJob),
		newRoute(http.MethodDelete, p+"/task-center/{server_group_id}/failure-jobs/batch", "DeleteServerGroupFailureJobs", (*Emulator).deleteGroupFailureJobs),
		newRoute(http.MethodDelete, p+"/task-center/failure-jobs/batch", "DeleteAllServerGroupFailureJobs", (*Emulator).deleteAllFailureJobs),
	}
}

// ecsRoutes is the ECS v2 subset the operator uses (services/ecs/v2/ecs_meta.go).
func ecsRoutes() []route {
	const p = "/v1/{project_id}"
	action := newRoute(http.MethodPost, p+"/cloudservers/action", "ServerAction", (*Emulator).serverAction)
	action.classify = classifyByKey("ServerAction",
		[]string{"os-stop", "os-start"},
		[]string{"BatchStopServers", "BatchStartServers"})
	return []route{
		newRoute(http.MethodGet, p+"/cloudservers/{server_id}", "ShowServer", (*Emulator).showServer),
		action,
		newRoute(http.MethodGet, p+"/jobs/{job_id}", "ShowJob", (*Emulator).showECSJob),
	}
}
