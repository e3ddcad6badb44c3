package emulator

import (
	"strings"
	"time"
)

// Status values shared by protection groups, protected instances and
// replication pairs (sdrs-api.md §6.1, §6.3).
const (
	statusCreating          = "creating"
	statusAvailable         = "available"
	statusProtected         = "protected"
	statusDeleting          = "deleting"
	statusError             = "error"
	statusErrorDeleting     = "error-deleting"
	statusStarting          = "starting"
	statusErrorStarting     = "error-starting"
	statusReprotecting      = "reprotecting"
	statusErrorReprotecting = "error-reprotecting"
	statusStopping          = "stopping"
	statusErrorStopping     = "error-stopping"
	statusReversing         = "reversing"
	statusErrorReversing    = "error-reversing"
	statusFailingOver       = "failing-over"
	statusFailedOver        = "failed-over"
	statusErrorFailingOver  = "error-failing-over"

	// Protected-instance and replication-pair only.
	statusNICCreating    = "nic-creating"
	statusNICDeleting    = "nic-deleting"
	statusResizing       = "resizing"
	statusErrorResizing  = "error-resizing"
	statusAttaching      = "attaching"
	statusErrorAttaching = "error-attaching"
	statusDetaching      = "detaching"
	statusErrorDetaching = "error-detaching"
	statusExtending      = "extending"
	statusErrorExtending = "error-extending"
	statusInvalid        = "invalid" // a server of the instance was deleted
	statusFault          = "fault"   // replication abnormal
)

// Group sub-states (sdrs-api.md §5).
const (
	protectedStarted = "started"
	protectedStopped = "stopped"

	replActive        = "active"
	replCopying       = "copying"
	replActiveStopped = "active-stopped"

	healthNormal   = "normal"
	healthAbnormal = "abnormal"

	stationSource = "source"
	stationTarget = "target"
)

// Server power states (ECS).
const (
	powerActive  = "ACTIVE"
	powerShutoff = "SHUTOFF"
)

// Time formats on the wire (sdrs-api.md §1).
const (
	resourceTimeFormat    = "2006-01-02 15:04:05.000"
	replicationTimeFormat = "2006-01-02T15:04:05.000000"
	jobTimeFormat         = "2006-01-02T15:04:05.000Z"
)

// transitional reports whether a status is an in-progress one: such a
// resource accepts no new action until its job ends.
func transitional(status string) bool {
	switch status {
	case statusCreating, statusDeleting, statusStarting, statusReprotecting, statusStopping,
		statusReversing, statusFailingOver, statusNICCreating, statusNICDeleting, statusResizing,
		statusAttaching, statusDetaching, statusExtending:
		return true
	}
	return false
}

func isErrorStatus(status string) bool {
	return status == statusError || strings.HasPrefix(status, "error-")
}

// Group is a protection group.
type Group struct {
	ID              string    `json:"id"`
	Seq             int64     `json:"seq"`
	Name            string    `json:"name"`
	Description     *string   `json:"description"`
	Status          string    `json:"status"`
	SourceAZ        string    `json:"source_availability_zone"`
	TargetAZ        string    `json:"target_availability_zone"`
	DomainID        string    `json:"domain_id"`
	SourceVpcID     string    `json:"source_vpc_id"`
	PriorityStation string    `json:"priority_station"`
	ProtectedStatus string    `json:"protected_status,omitempty"` // "" is JSON null on the wire
	Replication     SyncState `json:"replication"`
	LastDrillAt     time.Time `json:"last_drill_at,omitzero"`
	CreatedAt       time.Time `json:"created_at"`
	UpdatedAt       time.Time `json:"updated_at"`
}

// SyncState is the group-wide replication state; every replication pair of
// the group mirrors it. While Status is copying, progress rises linearly
// from From at Start to 100 at Start+Duration.
type SyncState struct {
	Status   string        `json:"status,omitempty"` // "" is JSON null on the wire
	Progress int           `json:"progress"`
	From     int           `json:"from,omitempty"`
	Start    time.Time     `json:"start,omitzero"`
	Duration time.Duration `json:"duration,omitempty"`
}

// productionAZ is the availability zone of the current production site.
func (g *Group) productionAZ() string {
	if g.PriorityStation == stationTarget {
		return g.TargetAZ
	}
	return g.SourceAZ
}

// drAZ is the availability zone of the current DR site.
func (g *Group) drAZ() string {
	if g.PriorityStation == stationTarget {
		return g.SourceAZ
	}
	return g.TargetAZ
}

// Instance is a protected instance: a production server and its DR twin.
type Instance struct {
	ID           string    `json:"id"`
	Seq          int64     `json:"seq"`
	Name         string    `json:"name"`
	Description  string    `json:"description"`
	GroupID      string    `json:"server_group_id"`
	Status       string    `json:"status"`
	SourceServer string    `json:"source_server"` // the server in the group's source AZ
	TargetServer string    `json:"target_server"` // the server in the group's target AZ
	Tags         []Tag     `json:"tags,omitempty"`
	NICs         []NIC     `json:"nics,omitempty"`
	CreatedAt    time.Time `json:"created_at"`
	UpdatedAt    time.Time `json:"updated_at"`
}

// productionServer is the instance's server at the group's current
// production site.
func (in *Instance) productionServer(g *Group) string {
	if g.PriorityStation == stationTarget {
		return in.TargetServer
	}
	return in.SourceServer
}

func (in *Instance) drServer(g *Group) string {
	if g.PriorityStation == stationTarget {
		return in.SourceServer
	}
	return in.TargetServer
}

// Tag is a protected-instance tag.
type Tag struct {
	Key   string `json:"key"`
	Value string `json:"value"`
}

// NIC is a network interface of a protected instance.
type NIC struct {
	ID        string `json:"id"`
	SubnetID  string `json:"subnet_id"`
	IPAddress string `json:"ip_address,omitempty"`
	Primary   bool   `json:"primary,omitempty"`
}

// Replication is a replication pair: a production disk and its DR copy.
type Replication struct {
	ID          string `json:"id"`
	Seq         int64  `json:"seq"`
	Name        string `json:"name"`
	Description string `json:"description"`
	GroupID     string `json:"server_group_id"`
	Status      string `json:"status"`
	VolumeID    string `json:"volume_id"`    // the disk given at creation
	DRVolumeID  string `json:"dr_volume_id"` // the disk SDRS created at the DR site
	// InstanceID and Device record the attachment to a protected instance.
	InstanceID    string `json:"instance_id,omitempty"`
	Device        string `json:"device,omitempty"`
	Size          int    `json:"size"`
	VolumeType    string `json:"volume_type"`
	Bootable      bool   `json:"bootable"`
	FailureDetail string `json:"failure_detail,omitempty"`
	// FaultLevel, when set (by the admin API), is served instead of the
	// level the zones give.
	FaultLevel string `json:"fault_level,omitempty"`
	// RPOExceeded, when set (by the admin API), decides whether the pair
	// counts in ListRpoStatistics instead of its group's copy state.
	RPOExceeded *bool     `json:"rpo_exceeded,omitempty"`
	CreatedAt   time.Time `json:"created_at"`
	UpdatedAt   time.Time `json:"updated_at"`
}

// Drill is a DR drill.
type Drill struct {
	ID        string        `json:"id"`
	Seq       int64         `json:"seq"`
	Name      string        `json:"name"`
	Status    string        `json:"status"`
	GroupID   string        `json:"server_group_id"`
	VpcID     string        `json:"drill_vpc_id"`
	Servers   []DrillServer `json:"drill_servers,omitempty"`
	CreatedAt time.Time     `json:"created_at"`
	UpdatedAt time.Time     `json:"updated_at"`
}

// VPC is a drill VPC: one SDRS created for a drill that named none, or
// one a drill named. SDRS keeps it when the drill is deleted.
type VPC struct {
	ID          string    `json:"id"`
	Seq         int64     `json:"seq"`
	Name        string    `json:"name"`
	CIDR        string    `json:"cidr,omitempty"`
	AutoCreated bool      `json:"auto_created"`
	DrillID     string    `json:"drill_id"` // the drill it was created for or first named by
	CreatedAt   time.Time `json:"created_at"`
}

// DrillServer is the drill copy of one protected instance.
type DrillServer struct {
	InstanceID string `json:"protected_instance"`
	ServerID   string `json:"drill_server_id"`
}

// Server is an ECS instance.
type Server struct {
	ID        string `json:"id"`
	Seq       int64  `json:"seq"`
	Name      string `json:"name"`
	Status    string `json:"status"`
	TaskState string `json:"task_state,omitempty"`
	AZ        string `json:"availability_zone"`
	OSType    string `json:"os_type"` // Linux or Windows, as ECS reports it
	ImageName string `json:"image_name"`
	KeyName   string `json:"key_name,omitempty"` // the key pair; empty: a password
	// VpcID and IPAddress, when set, are the server's one fixed address
	// (drill servers, in the drill VPC).
	VpcID     string    `json:"vpc_id,omitempty"`
	IPAddress string    `json:"ip_address,omitempty"`
	Flavor    string    `json:"flavor"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
}

// Volume is an EVS disk.
type Volume struct {
	ID         string    `json:"id"`
	Seq        int64     `json:"seq"`
	Name       string    `json:"name"`
	AZ         string    `json:"availability_zone"`
	Size       int       `json:"size"`
	VolumeType string    `json:"volume_type"`
	Bootable   bool      `json:"bootable"`
	CreatedAt  time.Time `json:"created_at"`
}

// Domain is an active-active domain: the pair of AZs a group may span.
type Domain struct {
	ID          string `json:"id"`
	Name        string `json:"name"`
	Description string `json:"description"`
	LocalAZ     string `json:"local_availability_zone"`
	RemoteAZ    string `json:"remote_availability_zone"`
}

// pairs reports whether the domain spans exactly the two zones.
func (d *Domain) pairs(a, b string) bool {
	return (d.LocalAZ == a && d.RemoteAZ == b) || (d.LocalAZ == b && d.RemoteAZ == a)
}
