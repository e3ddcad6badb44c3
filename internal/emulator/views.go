package emulator

import (
	"strings"
	"time"
)

// Wire shapes of SDRS objects. Field names follow the SDK models in
// services/sdrs/v1/model; pointers are fields the service sends as null.

type groupView struct {
	ID                       string  `json:"id"`
	Name                     string  `json:"name"`
	Description              *string `json:"description"`
	Status                   string  `json:"status"`
	Progress                 int     `json:"progress"`
	SourceAvailabilityZone   string  `json:"source_availability_zone"`
	TargetAvailabilityZone   string  `json:"target_availability_zone"`
	DomainID                 string  `json:"domain_id"`
	DomainName               string  `json:"domain_name"`
	PriorityStation          string  `json:"priority_station"`
	ProtectedInstanceNum     int     `json:"protected_instance_num"`
	ReplicationNum           int     `json:"replication_num"`
	DisasterRecoveryDrillNum int     `json:"disaster_recovery_drill_num"`
	ProtectedStatus          *string `json:"protected_status"`
	ReplicationStatus        *string `json:"replication_status"`
	HealthStatus             *string `json:"health_status"`
	SourceVpcID              string  `json:"source_vpc_id"`
	TargetVpcID              string  `json:"target_vpc_id"`
	TestVpcID                *string `json:"test_vpc_id"`
	DrType                   string  `json:"dr_type"`
	ServerType               string  `json:"server_type"`
	CreatedAt                string  `json:"created_at"`
	UpdatedAt                string  `json:"updated_at"`
	ProtectionType           string  `json:"protection_type"`
	ReplicationModel         *string `json:"replication_model"`
}

func nullable(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

func resourceTime(t time.Time) string { return t.UTC().Format(resourceTimeFormat) }

// progress is the group's replication progress now: it rises linearly
// while copying and stays below 100 until the sync timer marks it active.
func (e *Emulator) progress(g *Group) int {
	s := g.Replication
	if s.Status != replCopying {
		return s.Progress
	}
	if s.Duration <= 0 {
		return 99
	}
	elapsed := e.clock.Now().Sub(s.Start)
	p := s.From + int(float64(100-s.From)*float64(elapsed)/float64(s.Duration))
	return min(max(p, s.From), 99)
}

// health is null until the group was first protected, then abnormal while
// the current production AZ is down.
func (e *Emulator) health(g *Group) string {
	if g.ProtectedStatus == "" {
		return ""
	}
	if e.st.ZonesDown[g.productionAZ()] {
		return healthAbnormal
	}
	return healthNormal
}

func (e *Emulator) groupView(g *Group) groupView {
	v := groupView{
		ID:                       g.ID,
		Name:                     g.Name,
		Description:              g.Description,
		Status:                   g.Status,
		Progress:                 e.progress(g),
		SourceAvailabilityZone:   g.SourceAZ,
		TargetAvailabilityZone:   g.TargetAZ,
		DomainID:                 g.DomainID,
		PriorityStation:          g.PriorityStation,
		ProtectedInstanceNum:     len(e.st.instancesOf(g.ID)),
		ReplicationNum:           len(e.st.replicationsOf(g.ID)),
		DisasterRecoveryDrillNum: len(e.st.drillsOf(g.ID)),
		ProtectedStatus:          nullable(g.ProtectedStatus),
		ReplicationStatus:        nullable(g.Replication.Status),
		HealthStatus:             nullable(e.health(g)),
		SourceVpcID:              g.SourceVpcID,
		TargetVpcID:              g.SourceVpcID,
		DrType:                   "migration",
		ServerType:               "ECS",
		CreatedAt:                resourceTime(g.CreatedAt),
		UpdatedAt:                resourceTime(g.UpdatedAt),
		ProtectionType:           "replication-pair",
	}
	if d := e.st.Domains[g.DomainID]; d != nil {
		v.DomainName = d.Name
	}
	return v
}

type instanceView struct {
	ID              string           `json:"id"`
	Name            string           `json:"name"`
	Description     string           `json:"description"`
	Status          string           `json:"status"`
	SourceServer    string           `json:"source_server"`
	TargetServer    string           `json:"target_server"`
	ServerGroupID   string           `json:"server_group_id"`
	CreatedAt       string           `json:"created_at"`
	UpdatedAt       string           `json:"updated_at"`
	Metadata        map[string]any   `json:"metadata"`
	Attachment      []attachmentView `json:"attachment"`
	Tags            []Tag            `json:"tags"`
	Progress        int              `json:"progress"`
	PriorityStation string           `json:"priority_station"`
}

type attachmentView struct {
	Replication string `json:"replication"`
	Device      string `json:"device"`
}

func (e *Emulator) instanceView(in *Instance) instanceView {
	v := instanceView{
		ID:            in.ID,
		Name:          in.Name,
		Description:   in.Description,
		Status:        in.Status,
		SourceServer:  in.SourceServer,
		TargetServer:  in.TargetServer,
		ServerGroupID: in.GroupID,
		CreatedAt:     resourceTime(in.CreatedAt),
		UpdatedAt:     resourceTime(in.UpdatedAt),
		Metadata:      map[string]any{},
		Attachment:    []attachmentView{},
		Tags:          append([]Tag{}, in.Tags...),
	}
	if g := e.st.Groups[in.GroupID]; g != nil {
		for _, r := range e.st.replicationsOf(g.ID) {
			if r.InstanceID == in.ID {
				v.Attachment = append(v.Attachment, attachmentView{Replication: r.ID, Device: r.Device})
			}
		}
		v.Progress = e.progress(g)
		v.PriorityStation = g.PriorityStation
	}
	return v
}

type replicationView struct {
	ID                string                    `json:"id"`
	Name              string                    `json:"name"`
	Description       string                    `json:"description"`
	Status            string                    `json:"status"`
	VolumeIDs         string                    `json:"volume_ids"`
	Attachment        []replicationAttachment   `json:"attachment"`
	CreatedAt         string                    `json:"created_at"`
	UpdatedAt         string                    `json:"updated_at"`
	ReplicationModel  string                    `json:"replication_model"`
	Progress          int                       `json:"progress"`
	FailureDetail     string                    `json:"failure_detail"`
	RecordMetadata    replicationRecordMetadata `json:"record_metadata"`
	FaultLevel        string                    `json:"fault_level"`
	ServerGroupID     string                    `json:"server_group_id"`
	PriorityStation   string                    `json:"priority_station"`
	ReplicationStatus *string                   `json:"replication_status"`
}

type replicationAttachment struct {
	ProtectedInstance string `json:"protected_instance"`
	Device            string `json:"device"`
}

type replicationRecordMetadata struct {
	Multiattach bool   `json:"multiattach"`
	Bootable    bool   `json:"bootable"`
	VolumeSize  int    `json:"volume_size"`
	VolumeType  string `json:"volume_type"`
}

func (e *Emulator) replicationView(r *Replication) replicationView {
	v := replicationView{
		ID:               r.ID,
		Name:             r.Name,
		Description:      r.Description,
		Status:           r.Status,
		VolumeIDs:        r.VolumeID + "," + r.DRVolumeID,
		Attachment:       []replicationAttachment{},
		CreatedAt:        r.CreatedAt.UTC().Format(replicationTimeFormat),
		UpdatedAt:        r.UpdatedAt.UTC().Format(replicationTimeFormat),
		ReplicationModel: "hypermetro",
		FailureDetail:    r.FailureDetail,
		RecordMetadata: replicationRecordMetadata{
			Bootable: r.Bootable, VolumeSize: r.Size, VolumeType: r.VolumeType,
		},
		FaultLevel:    "0",
		ServerGroupID: r.GroupID,
	}
	if r.InstanceID != "" {
		v.Attachment = append(v.Attachment, replicationAttachment{ProtectedInstance: r.InstanceID, Device: r.Device})
	}
	if g := e.st.Groups[r.GroupID]; g != nil {
		v.Progress = e.progress(g)
		v.PriorityStation = g.PriorityStation
		v.ReplicationStatus = nullable(g.Replication.Status)
		// A broken production site is fault level 2: production disk
		// unusable, failover advised.
		if e.st.ZonesDown[g.productionAZ()] && g.Replication.Status != "" {
			v.FaultLevel = "2"
		}
		// A DR site that is down breaks the replication link: level 5,
		// failover not allowed (and no re-protect into it).
		if e.st.ZonesDown[g.drAZ()] {
			v.FaultLevel = "5"
		}
	}
	if r.FaultLevel != "" {
		v.FaultLevel = r.FaultLevel
	}
	return v
}

type drillView struct {
	ID            string             `json:"id"`
	Name          string             `json:"name"`
	Status        string             `json:"status"`
	DrillVpcID    string             `json:"drill_vpc_id"`
	CreatedAt     string             `json:"created_at"`
	UpdatedAt     string             `json:"updated_at"`
	ServerGroupID string             `json:"server_group_id"`
	DrillServers  []drillServerEntry `json:"drill_servers"`
}

type drillServerEntry struct {
	ProtectedInstance string `json:"protected_instance"`
	DrillServerID     string `json:"drill_server_id"`
}

func (e *Emulator) drillView(d *Drill) drillView {
	v := drillView{
		ID:            d.ID,
		Name:          d.Name,
		Status:        d.Status,
		DrillVpcID:    d.VpcID,
		CreatedAt:     resourceTime(d.CreatedAt),
		UpdatedAt:     resourceTime(d.UpdatedAt),
		ServerGroupID: d.GroupID,
		DrillServers:  []drillServerEntry{},
	}
	for _, s := range d.Servers {
		v.DrillServers = append(v.DrillServers, drillServerEntry{ProtectedInstance: s.InstanceID, DrillServerID: s.ServerID})
	}
	return v
}

// jobView is the job shape both APIs share (SDK ShowJobStatusResponse,
// ECS ShowJobResponse, and their sub-jobs); only the entities differ.
type jobView[E any] struct {
	Status     string  `json:"status"`
	Entities   E       `json:"entities"`
	JobID      string  `json:"job_id"`
	JobType    string  `json:"job_type"`
	BeginTime  string  `json:"begin_time"`
	EndTime    *string `json:"end_time"`
	ErrorCode  *string `json:"error_code"`
	FailReason *string `json:"fail_reason"`
}

type sdrsJobEntities struct {
	JobEntities
	SubJobs []jobView[JobEntities] `json:"sub_jobs,omitempty"`
}

func jobTime(t time.Time) string { return t.UTC().Format(jobTimeFormat) }

func (j *Job) endTime() *string {
	if j.End.IsZero() {
		return nil
	}
	s := jobTime(j.End)
	return &s
}

// jobViewOf shows the job with the given entities.
func jobViewOf[E any](j *Job, entities E) jobView[E] {
	return jobView[E]{
		Status:     j.Status,
		Entities:   entities,
		JobID:      j.ID,
		JobType:    j.Type,
		BeginTime:  jobTime(j.Begin),
		EndTime:    j.endTime(),
		ErrorCode:  nullable(j.ErrorCode),
		FailReason: nullable(j.FailReason),
	}
}

// subJobViewOf shows one sub-job: its parent's status and times until it
// has a status of its own.
func subJobViewOf[E any](j *Job, s SubJob, entities E) jobView[E] {
	v := jobView[E]{
		Status:    j.Status,
		Entities:  entities,
		JobID:     s.ID,
		JobType:   s.Type,
		BeginTime: jobTime(j.Begin),
		EndTime:   j.endTime(),
	}
	if s.Status != "" {
		v.Status, v.ErrorCode, v.FailReason = s.Status, nullable(s.ErrorCode), nullable(s.FailReason)
	}
	return v
}

func sdrsJobViewOf(j *Job) jobView[sdrsJobEntities] {
	v := jobViewOf(j, sdrsJobEntities{JobEntities: j.Entities})
	for _, s := range j.SubJobs {
		v.Entities.SubJobs = append(v.Entities.SubJobs, subJobViewOf(j, s, s.Entities))
	}
	return v
}

// failureStatus names the task-center failure_status of a failed job.
func failureStatus(jobType string) string {
	switch {
	case strings.HasPrefix(jobType, "create"), strings.HasPrefix(jobType, "batchCreate"):
		return "createFail"
	case strings.HasPrefix(jobType, "delete"), strings.HasPrefix(jobType, "batchDelete"):
		return "deleteFail"
	case strings.HasPrefix(jobType, "attach"), jobType == jobAddNIC:
		return "attachFail"
	case strings.HasPrefix(jobType, "detach"), jobType == jobDeleteNIC:
		return "detachFail"
	case strings.HasPrefix(jobType, "expand"):
		return "expandFail"
	case strings.HasPrefix(jobType, "resize"):
		return "resizeFail"
	case strings.HasPrefix(jobType, "start"):
		return "startFail"
	case strings.HasPrefix(jobType, "stop"):
		return "stopFail"
	case strings.HasPrefix(jobType, "reverse"):
		return "reverseFail"
	case strings.HasPrefix(jobType, "failover"):
		return "failoverFail"
	case strings.HasPrefix(jobType, "reprotect"):
		return "reprotectFail"
	}
	return "createFail"
}

type failureJobView struct {
	JobType       string `json:"job_type"`
	JobStatus     string `json:"job_status"`
	BeginTime     string `json:"begin_time"`
	JobID         string `json:"job_id"`
	FailureStatus string `json:"failure_status"`
	ResourceID    string `json:"resource_id"`
	ResourceName  string `json:"resource_name"`
	ErrorCode     string `json:"error_code"`
	FailReason    string `json:"fail_reason"`
	ResourceType  string `json:"resource_type"`
}

func failureJobViewOf(j *Job) failureJobView {
	v := failureJobView{
		JobType:       j.Type,
		JobStatus:     jobFail,
		BeginTime:     jobTime(j.Begin),
		JobID:         j.ID,
		FailureStatus: failureStatus(j.Type),
		ErrorCode:     j.ErrorCode,
		FailReason:    j.FailReason,
	}
	if j.Resource != nil {
		v.ResourceID, v.ResourceName, v.ResourceType = j.Resource.ID, j.Resource.Name, j.Resource.Type
	}
	return v
}
