package emulator

import (
	"net/http"
	"slices"
)

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

	return slices.Concat([]route{versions, version},
		collection(p+"/server-groups", "server_group_id", "ProtectionGroup",
			(*Emulator).createGroup, (*Emulator).listGroups, (*Emulator).showGroup, (*Emulator).renameGroup, (*Emulator).deleteGroup),
		collection(p+"/protected-instances", "protected_instance_id", "ProtectedInstance",
			(*Emulator).createInstance, (*Emulator).listInstances, (*Emulator).showInstance, (*Emulator).renameInstance, (*Emulator).deleteInstance),
		collection(p+"/replications", "replication_id", "Replication",
			(*Emulator).createReplication, (*Emulator).listReplications, (*Emulator).showReplication, (*Emulator).renameReplication, (*Emulator).deleteReplication),
		collection(p+"/disaster-recovery-drills", "disaster_recovery_drill_id", "DisasterRecoveryDrill",
			(*Emulator).createDrill, (*Emulator).listDrills, (*Emulator).showDrill, (*Emulator).renameDrill, (*Emulator).deleteDrill),
		[]route{
			groupAction,
			newRoute(http.MethodPost, p+"/protected-instances/batch", "BatchCreateProtectedInstances", (*Emulator).batchCreateInstances),
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

			newRoute(http.MethodPost, p+"/replications/{replication_id}/action", "ExpandReplication", (*Emulator).expandReplication),

			newRoute(http.MethodGet, p+"/active-domains", "ListActiveActiveDomains", (*Emulator).listDomains),
			newRoute(http.MethodGet, p+"/sdrs/quotas", "ShowQuota", (*Emulator).showQuota),
			newRoute(http.MethodGet, p+"/jobs/{job_id}", "ShowJobStatus", (*Emulator).showJob),
			newRoute(http.MethodGet, p+"/resource/rpo-statistics", "ListRpoStatistics", (*Emulator).listRPOStatistics),

			newRoute(http.MethodGet, p+"/task-center/failure-jobs", "ListFailureJobs", (*Emulator).listFailureJobs),
			newRoute(http.MethodDelete, p+"/task-center/failure-jobs/{failure_job_id}", "DeleteFailureJob", (*Emulator).deleteFailureJob),
			newRoute(http.MethodDelete, p+"/task-center/{server_group_id}/failure-jobs/batch", "DeleteServerGroupFailureJobs", (*Emulator).deleteGroupFailureJobs),
			newRoute(http.MethodDelete, p+"/task-center/failure-jobs/batch", "DeleteAllServerGroupFailureJobs", (*Emulator).deleteAllFailureJobs),
		})
}

// collection is the five routes of an SDRS resource collection: Create<kind>
// and List<kind>s on base; Show<kind>, Update<kind>Name and Delete<kind> on
// one member, base/{idParam}.
func collection(base, idParam, kind string, create, list, show, rename, del handlerFunc) []route {
	one := base + "/{" + idParam + "}"
	return []route{
		newRoute(http.MethodPost, base, "Create"+kind, create),
		newRoute(http.MethodGet, base, "List"+kind+"s", list),
		newRoute(http.MethodGet, one, "Show"+kind, show),
		newRoute(http.MethodPut, one, "Update"+kind+"Name", rename),
		newRoute(http.MethodDelete, one, "Delete"+kind, del),
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
