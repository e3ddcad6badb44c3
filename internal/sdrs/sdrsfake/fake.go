// Package sdrsfake is an in-memory, scriptable sdrs.Client for controller
// unit tests. It keeps groups, protected instances, servers and jobs in
// maps, follows the SDRS status rules (sdrs-api.md sections 3.5 and 6),
// records every call in order, fails calls on demand, and moves jobs
// forward only when the test says so. It is deterministic and safe for
// concurrent use.
package sdrsfake

import (
	"context"
	"fmt"
	"sort"
	"sync"
	"time"

	"github.com/sdrs-operator/sdrs-operator/internal/sdrs"
)

// Operation names, as recorded in Call.Op and accepted by FailNext: the
// sdrs.Client method names.
const (
	OpValidate                   = "Validate"
	OpGetProtectionGroup         = "GetProtectionGroup"
	OpFindProtectionGroupsByName = "FindProtectionGroupsByName"
	OpListProtectedInstances     = "ListProtectedInstances"
	OpGetJob                     = "GetJob"
	OpListFailedJobs             = "ListFailedJobs"
	OpListReplicationPairs       = "ListReplicationPairs"
	OpCreateProtectionGroup      = "CreateProtectionGroup"
	OpDeleteProtectionGroup      = "DeleteProtectionGroup"
	OpStartProtection            = "StartProtection"
	OpStopProtection             = "StopProtection"
	OpStartPlannedFailover       = "StartPlannedFailover"
	OpStartFailover              = "StartFailover"
	OpGetServer                  = "GetServer"
	OpStopServers                = "StopServers"
	OpStartServers               = "StartServers"
	OpGetServerJob               = "GetServerJob"
)

// SDRS job types the fake creates (sdrs-api.md section 4).
const (
	JobTypeCreate    = "createProtectionGroupNoCG"
	JobTypeDelete    = "deleteProtectionGroupNoCG"
	JobTypeStart     = "startProtectionGroupNoCG"
	JobTypeReprotect = "reprotectProtectionGroupNoCG"
	JobTypeStop      = "stopProtectionGroupNoCG"
	JobTypeReverse   = "reverseProtectionGroupNoCG"
	JobTypeFailover  = "failoverProtectionGroupNoCG"
	JobTypeStopECS   = "batchStopServers"
	JobTypeStartECS  = "batchStartServers"
)

// Error codes the fake returns, as SDRS and ECS do.
const (
	CodeGroupNotFound     = "SDRS.1013"
	CodeWrongState        = "SDRS.1002"
	CodeHasInstances      = "SDRS.1001"
	CodeProductionRunning = "SDRS.1319"
	CodeDRRunning         = "SDRS.1342"
	CodeServerNotFound    = "Ecs.0114"
	protectedStarted      = "started"
	protectedStopped      = "stopped"
	failReason            = "job failed"
)

// Call is one recorded call: the operation and its arguments as strings
// (IDs, the site, server IDs in order; for CreateProtectionGroup the name,
// description, source and target zones, domain and VPC).
type Call struct {
	Op   string
	Args []string
}

// Fake implements sdrs.Client in memory. The zero value is not usable; call
// New.
type Fake struct {
	mu         sync.Mutex
	groups     map[string]*sdrs.ProtectionGroup
	instances  map[string]*sdrs.ProtectedInstance
	servers    map[string]*sdrs.Server
	jobs       map[string]*job
	jobOrder   []string
	calls      []Call
	failNext   map[string][]error
	failAlways map[string]error
	seq        int
	now        time.Time
}

// job is a job and what completing it does.
type job struct {
	sdrs.Job
	ecs    bool
	finish func(success bool) // runs under f.mu
}

var _ sdrs.Client = (*Fake)(nil)

// New returns an empty fake whose clock stands at 2026-01-01T00:00:00Z.
func New() *Fake {
	return &Fake{
		groups:     map[string]*sdrs.ProtectionGroup{},
		instances:  map[string]*sdrs.ProtectedInstance{},
		servers:    map[string]*sdrs.Server{},
		jobs:       map[string]*job{},
		failNext:   map[string][]error{},
		failAlways: map[string]error{},
		now:        time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC),
	}
}

// SetNow sets the time stamped on jobs.
func (f *Fake) SetNow(t time.Time) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.now = t
}

// AddGroup adds or replaces a group. An empty PriorityStation is source.
func (f *Fake) AddGroup(g sdrs.ProtectionGroup) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if g.PriorityStation == "" {
		g.PriorityStation = sdrs.SiteSource
	}
	f.groups[g.ID] = &g
	f.recountLocked(g.ID)
}

// UpdateGroup changes a group in place; it reports whether the group
// exists.
func (f *Fake) UpdateGroup(id string, fn func(*sdrs.ProtectionGroup)) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	g, ok := f.groups[id]
	if ok {
		fn(g)
	}
	return ok
}

// Group returns a copy of a group.
func (f *Fake) Group(id string) (sdrs.ProtectionGroup, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	g, ok := f.groups[id]
	if !ok {
		return sdrs.ProtectionGroup{}, false
	}
	return *g, true
}

// AddInstance adds or replaces a protected instance; its group's instance
// count follows.
func (f *Fake) AddInstance(pi sdrs.ProtectedInstance) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if pi.PriorityStation == "" {
		pi.PriorityStation = sdrs.SiteSource
		if g, ok := f.groups[pi.GroupID]; ok {
			pi.PriorityStation = g.PriorityStation
		}
	}
	f.instances[pi.ID] = &pi
	f.recountLocked(pi.GroupID)
}

// AddServer adds or replaces an ECS server.
func (f *Fake) AddServer(s sdrs.Server) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.servers[s.ID] = &s
}

// Server returns a copy of a server.
func (f *Fake) Server(id string) (sdrs.Server, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	s, ok := f.servers[id]
	if !ok {
		return sdrs.Server{}, false
	}
	return *s, true
}

// Job returns a copy of a job, SDRS or ECS.
func (f *Fake) Job(id string) (sdrs.Job, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	j, ok := f.jobs[id]
	if !ok {
		return sdrs.Job{}, false
	}
	return j.Job, true
}

// PendingJobs lists the IDs of jobs not yet completed, oldest first.
func (f *Fake) PendingJobs() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []string
	for _, id := range f.jobOrder {
		if !f.jobs[id].Status.Done() {
			out = append(out, id)
		}
	}
	return out
}

// CompleteJob ends a running job. Success applies the action's final state
// (e.g. reverse swaps priority_station); failure leaves the group in the
// matching error-* status and the job FAIL with code.
func (f *Fake) CompleteJob(id string, success bool, code string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	j, ok := f.jobs[id]
	if !ok {
		return fmt.Errorf("sdrsfake: no job %q", id)
	}
	if j.Status.Done() {
		return fmt.Errorf("sdrsfake: job %q already %s", id, j.Status)
	}
	j.EndTime = f.now
	if success {
		j.Status = sdrs.JobSuccess
	} else {
		j.Status, j.ErrorCode, j.FailReason = sdrs.JobFail, code, failReason
	}
	if j.finish != nil {
		j.finish(success)
	}
	return nil
}

// FailNext makes the next call of op return err, before any effect. Errors
// queue up: each call takes one.
func (f *Fake) FailNext(op string, err error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.failNext[op] = append(f.failNext[op], err)
}

// FailAlways makes every call of op return err until FailAlways(op, nil).
func (f *Fake) FailAlways(op string, err error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err == nil {
		delete(f.failAlways, op)
		return
	}
	f.failAlways[op] = err
}

// Calls returns every call so far, in order.
func (f *Fake) Calls() []Call {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := make([]Call, len(f.calls))
	for i, c := range f.calls {
		out[i] = Call{Op: c.Op, Args: append([]string(nil), c.Args...)}
	}
	return out
}

// Ops returns the operation of every call so far, in order.
func (f *Fake) Ops() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := make([]string, len(f.calls))
	for i, c := range f.calls {
		out[i] = c.Op
	}
	return out
}

// ResetCalls forgets the recorded calls.
func (f *Fake) ResetCalls() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = nil
}

// begin records a call and returns a scripted or context error, if any.
// Callers hold f.mu.
func (f *Fake) beginLocked(ctx context.Context, op string, args ...string) error {
	f.calls = append(f.calls, Call{Op: op, Args: args})
	if q := f.failNext[op]; len(q) > 0 {
		f.failNext[op] = q[1:]
		return q[0]
	}
	if err := f.failAlways[op]; err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return &sdrs.TransientError{Message: "context done", Err: err}
	}
	return nil
}

func (f *Fake) newJobLocked(jobType string, ecs bool, finish func(bool)) string {
	f.seq++
	prefix := "job"
	if ecs {
		prefix = "ecs-job"
	}
	id := fmt.Sprintf("%s-%04d", prefix, f.seq)
	f.jobs[id] = &job{Job: sdrs.Job{ID: id, Type: jobType, Status: sdrs.JobRunning, BeginTime: f.now}, ecs: ecs, finish: finish}
	f.jobOrder = append(f.jobOrder, id)
	return id
}

func (f *Fake) recountLocked(groupID string) {
	g, ok := f.groups[groupID]
	if !ok {
		return
	}
	var n int32
	for _, pi := range f.instances {
		if pi.GroupID == groupID {
			n++
		}
	}
	g.ProtectedInstanceCount = n
}

func (f *Fake) groupLocked(id string) (*sdrs.ProtectionGroup, error) {
	g, ok := f.groups[id]
	if !ok {
		return nil, &sdrs.NotFoundError{Resource: sdrs.ResourceProtectionGroup, ID: id, Code: CodeGroupNotFound}
	}
	return g, nil
}

// instancesLocked returns a group's instances sorted by ID.
func (f *Fake) instancesLocked(groupID string) []*sdrs.ProtectedInstance {
	var out []*sdrs.ProtectedInstance
	for _, pi := range f.instances {
		if pi.GroupID == groupID {
			out = append(out, pi)
		}
	}
	sort.Slice(out, func(i, k int) bool { return out[i].ID < out[k].ID })
	return out
}

func wrongState(g *sdrs.ProtectionGroup, action string) error {
	return &sdrs.PreconditionError{Code: CodeWrongState, Message: fmt.Sprintf("cannot %s protection group %s in status %s", action, g.ID, g.Status)}
}

func in(s string, set ...string) bool {
	for _, v := range set {
		if s == v {
			return true
		}
	}
	return false
}
