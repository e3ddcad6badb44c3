package sdrs

import "time"

// Site is a side of a protection group in SDRS priority_station vocabulary.
type Site string

const (
	SiteSource Site = "source"
	SiteTarget Site = "target"
)

// Group status values, as SDRS reports them (sdrs-api.md section 6.1).
const (
	StatusCreating          = "creating"
	StatusAvailable         = "available"
	StatusProtected         = "protected"
	StatusDeleting          = "deleting"
	StatusErrorDeleting     = "error-deleting"
	StatusError             = "error"
	StatusStarting          = "starting"
	StatusErrorStarting     = "error-starting"
	StatusReprotecting      = "reprotecting"
	StatusErrorReprotecting = "error-reprotecting"
	StatusStopping          = "stopping"
	StatusErrorStopping     = "error-stopping"
	StatusReversing         = "reversing"
	StatusErrorReversing    = "error-reversing"
	StatusFailingOver       = "failing-over"
	StatusFailedOver        = "failed-over"
	StatusErrorFailingOver  = "error-failing-over"
)

// Replication status values.
const (
	ReplicationActive        = "active"
	ReplicationInactive      = "inactive"
	ReplicationCopying       = "copying"
	ReplicationActiveStopped = "active-stopped"
)

// Health status values.
const (
	HealthNormal   = "normal"
	HealthAbnormal = "abnormal"
)

// Server power states, as ECS reports them.
// Protected instance statuses that stop a failover (sdrs-api.md §6.3).
const (
	// InstanceInvalid: a server of the instance was deleted.
	InstanceInvalid = "invalid"
	// InstanceFault: the instance's replication is abnormal.
	InstanceFault = "fault"
)

const (
	PowerActive  = "ACTIVE"
	PowerShutoff = "SHUTOFF"
)

// ProtectionGroup is an SDRS protection group as read. Fields SDRS reports
// as null are empty strings.
type ProtectionGroup struct {
	ID                     string
	Name                   string
	Description            string
	Status                 string
	ProtectedStatus        string // "started", "stopped" or ""
	ReplicationStatus      string // see Replication* constants, or ""
	HealthStatus           string // "normal", "abnormal" or ""
	Progress               int32
	PriorityStation        Site
	SourceAvailabilityZone string
	TargetAvailabilityZone string
	DomainID               string
	SourceVpcID            string
	ProtectedInstanceCount int32
	ReplicationCount       int32
	DrillCount             int32
}

// ProductionZone is the availability zone that serves now.
func (g *ProtectionGroup) ProductionZone() string {
	if g.PriorityStation == SiteTarget {
		return g.TargetAvailabilityZone
	}
	return g.SourceAvailabilityZone
}

// DisasterRecoveryZone is the availability zone that receives replication.
func (g *ProtectionGroup) DisasterRecoveryZone() string {
	if g.PriorityStation == SiteTarget {
		return g.SourceAvailabilityZone
	}
	return g.TargetAvailabilityZone
}

// ProtectedInstance is a server pair in a protection group.
type ProtectedInstance struct {
	ID              string
	Name            string
	Status          string
	GroupID         string
	SourceServerID  string // the server created in the source availability zone
	TargetServerID  string // the server created in the target availability zone
	PriorityStation Site
}

// ReplicationPair is a replicated disk pair of a protection group.
type ReplicationPair struct {
	ID                string
	Name              string
	GroupID           string
	Status            string
	ReplicationStatus string
	// FaultLevel is SDRS's fault_level: 0 none, 2 the production disk is
	// unusable (failover advised), 5 the replication link is broken
	// (failover not allowed); -1 when SDRS did not say.
	FaultLevel int
}

// Fault levels of a replication pair (sdrs-api.md §6.3).
const (
	FaultNone            = 0
	FaultFailoverAdvised = 2
	FaultLinkBroken      = 5
)

// Server is an ECS server as read.
type Server struct {
	ID               string
	Name             string
	Status           string // PowerActive, PowerShutoff, ...
	AvailabilityZone string
	OSType           string // family from the image metadata: Linux, Windows, CoreOS
	KeyName          string // ECS key_name; empty for password login
	// Addresses are the server's IP addresses as ECS lists them: fixed
	// (private) addresses first, the primary NIC's before the others, then
	// floating ones; each address once.
	Addresses []string
}

// JobStatus is the state of an asynchronous SDRS or ECS job.
type JobStatus string

const (
	JobInit    JobStatus = "INIT"
	JobRunning JobStatus = "RUNNING"
	JobSuccess JobStatus = "SUCCESS"
	JobFail    JobStatus = "FAIL"
)

// Done reports whether the job reached a final status.
func (s JobStatus) Done() bool { return s == JobSuccess || s == JobFail }

// Job is an asynchronous SDRS or ECS job.
type Job struct {
	ID         string
	Type       string
	Status     JobStatus
	BeginTime  time.Time
	EndTime    time.Time
	ErrorCode  string
	FailReason string
	// GroupID is entities.server_group_id, set by create jobs on success.
	GroupID string
	// DrillID is entities.disaster_recovery_drill_id, which drill jobs
	// carry (the SDK's JobEntities model lacks it; see GetJob).
	DrillID string
}

// CreateGroupInput describes a protection group to create.
type CreateGroupInput struct {
	Name                   string
	Description            string
	SourceAvailabilityZone string
	TargetAvailabilityZone string
	DomainID               string
	SourceVpcID            string
}

// DR drill status values, as SDRS reports them (sdrs-api.md section 3.8).
const (
	DrillCreating      = "creating"
	DrillAvailable     = "available"
	DrillDeleting      = "deleting"
	DrillErrorDeleting = "error-deleting"
	DrillError         = "error"
)

// MaxDrillNameBytes is the longest DR drill name SDRS accepts, in bytes
// (UTF-8).
const MaxDrillNameBytes = 64

// Drill is an SDRS DR drill as read: drill servers made from the DR-site
// disks of a protection group, in an isolated drill VPC.
type Drill struct {
	ID      string
	Name    string
	Status  string // see Drill* constants
	GroupID string
	// VpcID is the drill VPC: the one given at creation, or the one SDRS
	// created. SDRS keeps it after the drill is deleted.
	VpcID     string
	CreatedAt time.Time
	// Servers are the drill servers, one per protected instance, once the
	// drill is available.
	Servers []DrillServer
}

// DrillServer is one drill server: an ECS server (GetServer reads it)
// made for a protected instance.
type DrillServer struct {
	ProtectedInstanceID string
	ServerID            string
}

// CreateDrillInput describes a DR drill to create.
type CreateDrillInput struct {
	// Name is at most MaxDrillNameBytes bytes.
	Name    string
	GroupID string
	// VpcID is an existing drill VPC with the CIDR of the group's VPC,
	// used by no other drill. Empty: SDRS creates one and keeps it after
	// the drill.
	VpcID string
}
