// Package sdrs is the operator's only door to Huawei Cloud SDRS and ECS. It
// offers a small interface in the operator's own vocabulary, implemented on
// the official SDK, and turns every SDK and SDRS error into one of a few
// typed errors (errors.go). No SDK type crosses this package's API.
package sdrs

import (
	"context"

	drv1alpha1 "github.com/sdrs-operator/sdrs-operator/api/v1alpha1"
)

// Client reads and acts on SDRS protection groups and the ECS servers behind
// them. Action calls return the ID of an asynchronous job and never wait for
// it; the caller polls GetJob / GetServerJob. Every method honours the
// ProviderConfig's rate limit and ctx cancellation.
type Client interface {
	// Validate checks that the endpoint answers and the credentials work,
	// with one cheap read call.
	Validate(ctx context.Context) error

	// GetProtectionGroup reads a group. A missing group is a NotFound error.
	GetProtectionGroup(ctx context.Context, id string) (*ProtectionGroup, error)
	// FindProtectionGroupsByName lists groups whose name equals name
	// exactly (SDRS filters by substring; this filters again).
	FindProtectionGroupsByName(ctx context.Context, name string) ([]ProtectionGroup, error)
	// ListProtectedInstances lists every protected instance of a group,
	// following pagination.
	ListProtectedInstances(ctx context.Context, groupID string) ([]ProtectedInstance, error)
	// GetJob reads an SDRS job, drill jobs' DrillID included.
	GetJob(ctx context.Context, jobID string) (*Job, error)
	// ListReplicationPairs lists the replication pairs of a group (every
	// page), with their fault level.
	ListReplicationPairs(ctx context.Context, groupID string) ([]ReplicationPair, error)
	// ListAllReplicationPairs lists every replication pair of the project
	// (every page, 1000 a call), so that one read serves the readiness of a
	// whole fleet. A repeat only reads again.
	ListAllReplicationPairs(ctx context.Context) ([]ReplicationPair, error)
	// ListAllProtectedInstances lists every protected instance of the
	// project (every page, 1000 a call).
	ListAllProtectedInstances(ctx context.Context) ([]ProtectedInstance, error)
	// RPOExceededPairs returns how many replication pairs of the project
	// were above their RPO target at SDRS's latest statistics point of the
	// last hour, or -1 when there is none. SDRS counts per project, not per
	// group.
	RPOExceededPairs(ctx context.Context) (int, error)
	// ListFailedJobs lists the task center's failed jobs of a group (every
	// page). SDRS keeps a failed job there until someone deletes it, also
	// when the job left no mark on the group's status.
	ListFailedJobs(ctx context.Context, groupID string) ([]Job, error)

	// CreateProtectionGroup starts creating a group. Repeating it creates
	// another group: callers record their intent first and look the group
	// up by name before repeating (FindProtectionGroupsByName).
	CreateProtectionGroup(ctx context.Context, in CreateGroupInput) (jobID string, err error)
	// DeleteProtectionGroup starts deleting a group. A group already gone
	// is a NotFound error, which callers treat as done.
	DeleteProtectionGroup(ctx context.Context, id string) (jobID string, err error)
	// StartProtection sends start-server-group: enable protection on an
	// available group, or re-protect a failed-over one. SDRS refuses it
	// (Precondition error) while another action runs, so a repeat never
	// starts a second job.
	StartProtection(ctx context.Context, id string) (jobID string, err error)
	// StopProtection sends stop-server-group. Same repeat rule.
	StopProtection(ctx context.Context, id string) (jobID string, err error)
	// StartPlannedFailover sends reverse-server-group with the site that
	// becomes production. Same repeat rule.
	StartPlannedFailover(ctx context.Context, id string, to Site) (jobID string, err error)
	// StartFailover sends failover-server-group. Same repeat rule.
	StartFailover(ctx context.Context, id string) (jobID string, err error)

	// CreateDrill starts creating a DR drill: drill servers made from the
	// group's DR-site disks in the drill VPC (one SDRS creates when
	// in.VpcID is empty). A name longer than MaxDrillNameBytes is an
	// InvalidRequest error without a call. The job's DrillID names the new
	// drill. Repeating the call creates a second drill: callers record
	// their intent (with a deterministic name) first and, after a crash or
	// a lost answer, look the drill up by group and name (FindDrills)
	// before repeating. SDRS refusals: SDRS.1002 (group state) and the
	// drill VPC codes (SDRS.1907-1911, 1921) are Precondition errors whose
	// message names the VPC; a missing group is a NotFound error.
	CreateDrill(ctx context.Context, in CreateDrillInput) (jobID string, err error)
	// FindDrills lists the drills of a group whose name equals name
	// exactly (SDRS's name filter is fuzzy; this filters again), every
	// page. A repeat only reads again.
	FindDrills(ctx context.Context, groupID, name string) ([]Drill, error)
	// ListDrills lists every drill of a group (every page), for the checks
	// before a group is deleted (SDRS refuses to delete a group with
	// drills: SDRS.1003). A repeat only reads again.
	ListDrills(ctx context.Context, groupID string) ([]Drill, error)
	// GetDrill reads a drill. A missing drill (SDRS.1902) is a NotFound
	// error.
	GetDrill(ctx context.Context, id string) (*Drill, error)
	// DeleteDrill starts deleting a drill, its drill servers, disks and
	// NICs (the drill VPC stays). SDRS accepts it from available, error
	// and error-deleting. A drill already gone is a NotFound error, which
	// callers treat as done: SDRS.1902, and SDRS.1913 when a read confirms
	// the drill is gone. A repeat while the first delete runs (deleting),
	// or a delete while the drill is creating, is refused with a
	// Precondition error (SDRS.1913) naming the drill's status, so a
	// repeat never starts a second job; callers then poll the job or the
	// drill.
	DeleteDrill(ctx context.Context, id string) (jobID string, err error)

	// GetServer reads an ECS server, with its addresses (drill servers
	// have a fixed address in the drill VPC).
	GetServer(ctx context.Context, id string) (*Server, error)
	// StopServers stops servers (ECS os-stop). Stopping a stopped server is
	// harmless, so a repeat has no further effect.
	StopServers(ctx context.Context, ids []string) (jobID string, err error)
	// StartServers starts servers (ECS os-start). Starting a running
	// server is harmless.
	StartServers(ctx context.Context, ids []string) (jobID string, err error)
	// GetServerJob reads an ECS job.
	GetServerJob(ctx context.Context, jobID string) (*Job, error)
}

// Connector builds an authenticated Client from a ProviderConfig and the
// Secret it names.
type Connector interface {
	// Connect returns a Client for the ProviderConfig. Implementations cache
	// clients per ProviderConfig (UID, generation and Secret
	// resourceVersion), so a rotated Secret is picked up on the next call
	// without a restart, and the rate limit is shared by every caller.
	Connect(ctx context.Context, pc *drv1alpha1.ProviderConfig) (Client, error)
}
