package emulator

import (
	"errors"
	"fmt"
	"net/http"
	"time"
)

// The ECS subset: show a server, stop and start servers in a batch, and
// follow the ECS job. Shapes follow services/ecs/v2/model.

// OpenStack power_state values reported in OS-EXT-STS:power_state.
const (
	powerStateRunning  = 1
	powerStateShutdown = 4
)

type serverReply struct {
	Server serverView `json:"server"`
}

type serverView struct {
	ID                  string                     `json:"id"`
	Name                string                     `json:"name"`
	Status              string                     `json:"status"`
	Created             string                     `json:"created"`
	Updated             string                     `json:"updated"`
	TenantID            string                     `json:"tenant_id"`
	HostID              string                     `json:"hostId"`
	AvailabilityZone    string                     `json:"OS-EXT-AZ:availability_zone"`
	VMState             string                     `json:"OS-EXT-STS:vm_state"`
	TaskState           string                     `json:"OS-EXT-STS:task_state"`
	PowerState          int                        `json:"OS-EXT-STS:power_state"`
	Flavor              serverFlavor               `json:"flavor"`
	Image               serverImage                `json:"image"`
	Metadata            map[string]string          `json:"metadata"`
	Addresses           map[string][]serverAddress `json:"addresses"`
	SecurityGroups      []struct{}                 `json:"security_groups"`
	VolumesAttached     []struct{}                 `json:"os-extended-volumes:volumes_attached"`
	Locked              bool                       `json:"locked"`
	HostStatus          string                     `json:"host_status"`
	ConfigDrive         string                     `json:"config_drive"`
	KeyName             string                     `json:"key_name"`
	AccessIPv4          string                     `json:"accessIPv4"`
	AccessIPv6          string                     `json:"accessIPv6"`
	LaunchedAt          string                     `json:"OS-SRV-USG:launched_at"`
	TerminatedAt        string                     `json:"OS-SRV-USG:terminated_at"`
	EnterpriseProjectID string                     `json:"enterprise_project_id"`
}

// serverAddress is one address of a server (ECS ServerAddress); the
// addresses map is keyed by VPC ID.
type serverAddress struct {
	Version string `json:"version"`
	Addr    string `json:"addr"`
	Type    string `json:"OS-EXT-IPS:type"`
	MAC     string `json:"OS-EXT-IPS-MAC:mac_addr"`
	PortID  string `json:"OS-EXT-IPS:port_id"`
}

type serverFlavor struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

type serverImage struct {
	ID string `json:"id"`
}

func (e *Emulator) serverView(s *Server) serverView {
	v := serverView{
		ID:                  s.ID,
		Name:                s.Name,
		Status:              s.Status,
		Created:             s.CreatedAt.UTC().Format(time.RFC3339),
		Updated:             s.UpdatedAt.UTC().Format(time.RFC3339),
		TenantID:            e.cfg.ProjectID,
		HostID:              stableUUID("host/" + s.AZ),
		AvailabilityZone:    s.AZ,
		TaskState:           s.TaskState,
		Flavor:              serverFlavor{ID: s.Flavor, Name: s.Flavor},
		Image:               serverImage{ID: stableUUID("image/" + s.ImageName)},
		Metadata:            map[string]string{"os_type": wireOSType(s.OSType), "image_name": s.ImageName, "os_bit": "64"},
		KeyName:             s.KeyName,
		Addresses:           map[string][]serverAddress{},
		SecurityGroups:      []struct{}{},
		VolumesAttached:     []struct{}{},
		HostStatus:          "UP",
		LaunchedAt:          s.CreatedAt.UTC().Format("2006-01-02T15:04:05.000000"),
		EnterpriseProjectID: "0",
	}
	if s.VpcID != "" && s.IPAddress != "" {
		port := stableUUID("port/" + s.ID)
		v.Addresses[s.VpcID] = []serverAddress{{Version: "4", Addr: s.IPAddress, Type: "fixed",
			MAC: "fa:16:3e:" + port[0:2] + ":" + port[2:4] + ":" + port[4:6], PortID: port}}
	}
	if s.Status == powerActive {
		v.VMState, v.PowerState = "active", powerStateRunning
	} else {
		v.VMState, v.PowerState = "stopped", powerStateShutdown
	}
	return v
}

// ecsNotFound is ECS's answer for an unknown server: HTTP 404 Ecs.0114.
func ecsNotFound(id string) *apiError {
	return errorf(http.StatusNotFound, codeECSServerNotFound, "Instance[%s] could not be found.", id)
}

// serverGroup returns the protection group a server belongs to, if any,
// for the call log.
func (e *Emulator) serverGroup(serverID string) string {
	if in := e.st.serverProtectedBy(serverID); in != nil {
		return in.GroupID
	}
	return ""
}

func (e *Emulator) showServer(c *call) error {
	s := e.st.Servers[c.params["server_id"]]
	if s == nil {
		return ecsNotFound(c.params["server_id"])
	}
	c.groupID = e.serverGroup(s.ID)
	return c.ok(http.StatusOK, serverReply{e.serverView(s)})
}

type serverActionBody struct {
	OsStop *struct {
		Type    *string     `json:"type"`
		Servers *[]serverID `json:"servers"`
	} `json:"os-stop"`
	OsStart *struct {
		Servers *[]serverID `json:"servers"`
	} `json:"os-start"`
}

type serverID struct {
	ID *string `json:"id"`
}

func ecsBadRequest(format string, args ...any) *apiError {
	return errorf(http.StatusBadRequest, codeECSBadRequest, format, args...)
}

// serverAction serves BatchStopServers and BatchStartServers: the servers
// reach SHUTOFF or ACTIVE when the job ends.
func (e *Emulator) serverAction(c *call) error {
	var b serverActionBody
	if err := decodeJSON(c.body, &b); err != nil {
		var ae *apiError
		if errors.As(err, &ae) {
			return ecsBadRequest("%s", ae.Message)
		}
		return err
	}
	var list *[]serverID
	jobType, subType, task := "", "", ""
	switch {
	case b.OsStop != nil && b.OsStart != nil:
		return ecsBadRequest("the body must hold exactly one of os-stop and os-start")
	case b.OsStop != nil:
		if t := deref(b.OsStop.Type); t != "" && t != "SOFT" && t != "HARD" {
			return ecsBadRequest("os-stop.type must be SOFT or HARD")
		}
		list, jobType, subType, task = b.OsStop.Servers, jobECSStopServers, jobECSStopServer, "powering-off"
	case b.OsStart != nil:
		list, jobType, subType, task = b.OsStart.Servers, jobECSStartServers, jobECSStartServer, "powering-on"
	default:
		return ecsBadRequest("the body must hold os-stop or os-start")
	}
	if list == nil || len(*list) == 0 {
		return ecsBadRequest("servers must list at least one server")
	}
	var ids []string
	for i, s := range *list {
		if s.ID == nil || *s.ID == "" {
			return ecsBadRequest("servers[%d].id is required", i)
		}
		if e.st.Servers[*s.ID] == nil {
			return ecsNotFound(*s.ID)
		}
		ids = append(ids, *s.ID)
	}
	c.groupID = e.serverGroup(ids[0])
	j := e.newJob(jobKindECS, jobType, JobEntities{}, JobParams{ServerIDs: ids})
	now := e.clock.Now()
	for _, id := range ids {
		j.addSubJob(subType, JobEntities{ServerID: id})
		s := e.st.Servers[id]
		s.TaskState, s.UpdatedAt = task, now
	}
	return c.accepted(j)
}

// endServerPower applies a batch stop or start. A server in a down AZ
// cannot start: its sub-job fails, and so does the job.
func (e *Emulator) endServerPower(j *Job, f *JobFault) *JobFault {
	now := e.clock.Now()
	target := powerShutoff
	if j.Type == jobECSStartServers {
		target = powerActive
	}
	for i, id := range j.Params.ServerIDs {
		s := e.st.Servers[id]
		if s == nil {
			continue
		}
		s.TaskState, s.UpdatedAt = "", now
		if f != nil {
			continue
		}
		if target == powerActive && e.st.ZonesDown[s.AZ] {
			reason := fmt.Sprintf("server %s cannot start: availability zone %s is unavailable", id, s.AZ)
			j.SubJobs[i].Status, j.SubJobs[i].ErrorCode, j.SubJobs[i].FailReason = jobFail, codeECSFailure, reason
			if f == nil {
				f = failure(nil, codeECSFailure, reason)
			}
			continue
		}
		s.Status = target
	}
	return f
}

type ecsJobEntities struct {
	SubJobsTotal int                          `json:"sub_jobs_total"`
	SubJobs      []jobView[map[string]string] `json:"sub_jobs"`
}

// ecsJobViewOf is the ECS job shape (ECS ShowJobResponse).
func ecsJobViewOf(j *Job) jobView[ecsJobEntities] {
	v := jobViewOf(j, ecsJobEntities{SubJobsTotal: len(j.SubJobs), SubJobs: []jobView[map[string]string]{}})
	for _, s := range j.SubJobs {
		v.Entities.SubJobs = append(v.Entities.SubJobs, subJobViewOf(j, s, map[string]string{"server_id": s.Entities.ServerID}))
	}
	return v
}

// showECSJob answers ECS ShowJob; an unknown ID is HTTP 404 Ecs.0005.
func (e *Emulator) showECSJob(c *call) error {
	j := e.st.Jobs[c.params["job_id"]]
	if j == nil || j.Kind != jobKindECS {
		return errorf(http.StatusNotFound, codeECSBadRequest, "job %s not found", c.params["job_id"])
	}
	if len(j.Params.ServerIDs) > 0 {
		c.groupID = e.serverGroup(j.Params.ServerIDs[0])
	}
	return c.ok(http.StatusOK, ecsJobViewOf(j))
}
