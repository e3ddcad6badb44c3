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
	// GetJob reads an SDRS job.
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

	// GetServer reads an ECS server.
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
