package sdrsfake

import (
	"context"
	"fmt"
	"sort"

	"github.com/sdrs-operator/sdrs-operator/internal/sdrs"
)

// The sdrs.Client methods. Reads return copies; actions check the SDRS
// preconditions, move the group to its transitional status at once (as
// SDRS does on acceptance) and return a job that CompleteJob finishes.

func (f *Fake) Validate(ctx context.Context) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.beginLocked(ctx, OpValidate)
}

func (f *Fake) GetProtectionGroup(ctx context.Context, id string) (*sdrs.ProtectionGroup, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.beginLocked(ctx, OpGetProtectionGroup, id); err != nil {
		return nil, err
	}
	g, err := f.groupLocked(id)
	if err != nil {
		return nil, err
	}
	cp := *g
	return &cp, nil
}

func (f *Fake) FindProtectionGroupsByName(ctx context.Context, name string) ([]sdrs.ProtectionGroup, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.beginLocked(ctx, OpFindProtectionGroupsByName, name); err != nil {
		return nil, err
	}
	var out []sdrs.ProtectionGroup
	for _, g := range f.groups {
		if g.Name == name {
			out = append(out, *g)
		}
	}
	sort.Slice(out, func(i, k int) bool { return out[i].ID < out[k].ID })
	return out, nil
}

func (f *Fake) ListProtectedInstances(ctx context.Context, groupID string) ([]sdrs.ProtectedInstance, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.beginLocked(ctx, OpListProtectedInstances, groupID); err != nil {
		return nil, err
	}
	if _, err := f.groupLocked(groupID); err != nil {
		return nil, err
	}
	var out []sdrs.ProtectedInstance
	for _, pi := range f.instancesLocked(groupID) {
		out = append(out, *pi)
	}
	return out, nil
}

func (f *Fake) GetJob(ctx context.Context, jobID string) (*sdrs.Job, error) {
	return f.getJob(ctx, OpGetJob, jobID, false)
}

func (f *Fake) GetServerJob(ctx context.Context, jobID string) (*sdrs.Job, error) {
	return f.getJob(ctx, OpGetServerJob, jobID, true)
}

func (f *Fake) getJob(ctx context.Context, op, jobID string, ecs bool) (*sdrs.Job, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.beginLocked(ctx, op, jobID); err != nil {
		return nil, err
	}
	// SDRS and ECS keep separate job stores.
	j, ok := f.jobs[jobID]
	if !ok || j.ecs != ecs {
		return nil, &sdrs.NotFoundError{Resource: sdrs.ResourceJob, ID: jobID}
	}
	cp := j.Job
	return &cp, nil
}

func (f *Fake) CreateProtectionGroup(ctx context.Context, in sdrs.CreateGroupInput) (string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.beginLocked(ctx, OpCreateProtectionGroup, in.Name, in.Description, in.SourceAvailabilityZone, in.TargetAvailabilityZone, in.DomainID, in.SourceVpcID); err != nil {
		return "", err
	}
	if in.Name == "" || in.SourceAvailabilityZone == "" || in.TargetAvailabilityZone == "" || in.DomainID == "" || in.SourceVpcID == "" {
		return "", &sdrs.InvalidRequestError{Code: "SDRS.0201", Message: "missing required field"}
	}
	f.seq++
	id := groupIDFor(f.seq)
	g := &sdrs.ProtectionGroup{
		ID: id, Name: in.Name, Description: in.Description, Status: sdrs.StatusCreating,
		PriorityStation:        sdrs.SiteSource,
		SourceAvailabilityZone: in.SourceAvailabilityZone, TargetAvailabilityZone: in.TargetAvailabilityZone,
		DomainID: in.DomainID, SourceVpcID: in.SourceVpcID,
	}
	f.groups[id] = g
	var jobID string
	jobID = f.newJobLocked(JobTypeCreate, false, func(ok bool) {
		if ok {
			g.Status = sdrs.StatusAvailable
			// Like SDRS, the new ID is in the job only once it succeeded.
			f.jobs[jobID].GroupID = id
			return
		}
		g.Status = sdrs.StatusError
	})
	return jobID, nil
}

func groupIDFor(n int) string { return fmt.Sprintf("pg-%04d", n) }

func (f *Fake) DeleteProtectionGroup(ctx context.Context, id string) (string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.beginLocked(ctx, OpDeleteProtectionGroup, id); err != nil {
		return "", err
	}
	g, err := f.groupLocked(id)
	if err != nil {
		return "", err
	}
	if len(f.instancesLocked(id)) > 0 {
		return "", &sdrs.PreconditionError{Code: CodeHasInstances, Message: "protection group has protected instances"}
	}
	if !in(g.Status, sdrs.StatusAvailable, sdrs.StatusProtected, sdrs.StatusFailedOver, sdrs.StatusError,
		sdrs.StatusErrorDeleting, sdrs.StatusErrorStarting, sdrs.StatusErrorStopping, sdrs.StatusErrorReversing,
		sdrs.StatusErrorFailingOver, sdrs.StatusErrorReprotecting) {
		return "", wrongState(g, "delete")
	}
	g.Status = sdrs.StatusDeleting
	return f.newJobLocked(JobTypeDelete, false, func(ok bool) {
		if ok {
			delete(f.groups, id)
			return
		}
		g.Status = sdrs.StatusErrorDeleting
	}), nil
}

func (f *Fake) StartProtection(ctx context.Context, id string) (string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.beginLocked(ctx, OpStartProtection, id); err != nil {
		return "", err
	}
	g, err := f.groupLocked(id)
	if err != nil {
		return "", err
	}
	switch g.Status {
	case sdrs.StatusAvailable, sdrs.StatusErrorStarting:
		return f.transitionLocked(g, sdrs.StatusStarting, JobTypeStart, sdrs.StatusErrorStarting, f.protect(g)), nil
	case sdrs.StatusFailedOver, sdrs.StatusErrorReprotecting:
		// Reprotect: the DR-site servers (the old production) must be
		// stopped; replication resumes from the current production site.
		if err := f.requireStoppedLocked(g, drSite(g.PriorityStation), CodeDRRunning); err != nil {
			return "", err
		}
		return f.transitionLocked(g, sdrs.StatusReprotecting, JobTypeReprotect, sdrs.StatusErrorReprotecting, f.protect(g)), nil
	}
	return "", wrongState(g, "start protection of")
}

func (f *Fake) StopProtection(ctx context.Context, id string) (string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.beginLocked(ctx, OpStopProtection, id); err != nil {
		return "", err
	}
	g, err := f.groupLocked(id)
	if err != nil {
		return "", err
	}
	if !in(g.Status, sdrs.StatusProtected, sdrs.StatusErrorStopping) {
		return "", wrongState(g, "stop protection of")
	}
	return f.transitionLocked(g, sdrs.StatusStopping, JobTypeStop, sdrs.StatusErrorStopping, func() {
		f.setGroupLocked(g, sdrs.StatusAvailable, g.PriorityStation)
		g.ProtectedStatus, g.ReplicationStatus = protectedStopped, sdrs.ReplicationActiveStopped
	}), nil
}

func (f *Fake) StartPlannedFailover(ctx context.Context, id string, to sdrs.Site) (string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.beginLocked(ctx, OpStartPlannedFailover, id, string(to)); err != nil {
		return "", err
	}
	if to != sdrs.SiteSource && to != sdrs.SiteTarget {
		return "", &sdrs.InvalidRequestError{Code: "SDRS.0201", Message: "invalid priority_station"}
	}
	g, err := f.groupLocked(id)
	if err != nil {
		return "", err
	}
	if !in(g.Status, sdrs.StatusProtected, sdrs.StatusErrorReversing) || to == g.PriorityStation {
		return "", wrongState(g, "reverse")
	}
	// SDRS refuses a planned failover while production servers run.
	if err := f.requireStoppedLocked(g, g.PriorityStation, CodeProductionRunning); err != nil {
		return "", err
	}
	return f.transitionLocked(g, sdrs.StatusReversing, JobTypeReverse, sdrs.StatusErrorReversing, func() {
		f.setGroupLocked(g, sdrs.StatusProtected, to)
		// The new production servers stay stopped until started.
		f.powerOffLocked(g, to)
	}), nil
}

func (f *Fake) StartFailover(ctx context.Context, id string) (string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.beginLocked(ctx, OpStartFailover, id); err != nil {
		return "", err
	}
	g, err := f.groupLocked(id)
	if err != nil {
		return "", err
	}
	if !in(g.Status, sdrs.StatusProtected, sdrs.StatusErrorFailingOver, sdrs.StatusErrorReversing) {
		return "", wrongState(g, "fail over")
	}
	return f.transitionLocked(g, sdrs.StatusFailingOver, JobTypeFailover, sdrs.StatusErrorFailingOver, func() {
		// The old production servers are forcibly stopped, the new
		// ones left stopped; the DR site becomes production; replication
		// stops until reprotect.
		f.powerOffLocked(g, sdrs.SiteSource)
		f.powerOffLocked(g, sdrs.SiteTarget)
		f.setGroupLocked(g, sdrs.StatusFailedOver, drSite(g.PriorityStation))
		g.ProtectedStatus, g.ReplicationStatus = protectedStopped, sdrs.ReplicationActiveStopped
	}), nil
}

// protect is the success of start and reprotect.
func (f *Fake) protect(g *sdrs.ProtectionGroup) func() {
	return func() {
		f.setGroupLocked(g, sdrs.StatusProtected, g.PriorityStation)
		g.ProtectedStatus, g.ReplicationStatus, g.HealthStatus, g.Progress = protectedStarted, sdrs.ReplicationActive, sdrs.HealthNormal, 100
	}
}

// transitionLocked moves g to its transitional status now and returns a
// job whose success runs onSuccess and whose failure sets failStatus. The
// group's instances follow its status.
func (f *Fake) transitionLocked(g *sdrs.ProtectionGroup, transitional, jobType, failStatus string, onSuccess func()) string {
	f.setGroupLocked(g, transitional, g.PriorityStation)
	id := f.newJobLocked(jobType, false, func(ok bool) {
		if ok {
			onSuccess()
			return
		}
		f.setGroupLocked(g, failStatus, g.PriorityStation)
	})
	f.jobs[id].GroupID = g.ID
	return id
}

// setGroupLocked sets a group's status and priority station and cascades
// both to its instances, as SDRS does.
func (f *Fake) setGroupLocked(g *sdrs.ProtectionGroup, status string, station sdrs.Site) {
	g.Status, g.PriorityStation = status, station
	for _, pi := range f.instancesLocked(g.ID) {
		pi.Status, pi.PriorityStation = status, station
	}
}

// requireStoppedLocked checks that the group's servers at site are not
// running. Servers the fake does not know are taken as stopped.
func (f *Fake) requireStoppedLocked(g *sdrs.ProtectionGroup, site sdrs.Site, code string) error {
	for _, pi := range f.instancesLocked(g.ID) {
		id := pi.SourceServerID
		if site == sdrs.SiteTarget {
			id = pi.TargetServerID
		}
		if s, ok := f.servers[id]; ok && s.Status != sdrs.PowerShutoff {
			return &sdrs.PreconditionError{Code: code, Message: "server " + id + " is not stopped"}
		}
	}
	return nil
}

// powerOffLocked stops the group's known servers at site.
func (f *Fake) powerOffLocked(g *sdrs.ProtectionGroup, site sdrs.Site) {
	for _, pi := range f.instancesLocked(g.ID) {
		id := pi.SourceServerID
		if site == sdrs.SiteTarget {
			id = pi.TargetServerID
		}
		if s, ok := f.servers[id]; ok {
			s.Status = sdrs.PowerShutoff
		}
	}
}

func drSite(production sdrs.Site) sdrs.Site {
	if production == sdrs.SiteTarget {
		return sdrs.SiteSource
	}
	return sdrs.SiteTarget
}

func (f *Fake) GetServer(ctx context.Context, id string) (*sdrs.Server, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.beginLocked(ctx, OpGetServer, id); err != nil {
		return nil, err
	}
	s, ok := f.servers[id]
	if !ok {
		return nil, &sdrs.NotFoundError{Resource: sdrs.ResourceServer, ID: id, Code: CodeServerNotFound}
	}
	cp := *s
	return &cp, nil
}

func (f *Fake) StopServers(ctx context.Context, ids []string) (string, error) {
	return f.power(ctx, OpStopServers, JobTypeStopECS, sdrs.PowerShutoff, ids)
}

func (f *Fake) StartServers(ctx context.Context, ids []string) (string, error) {
	return f.power(ctx, OpStartServers, JobTypeStartECS, sdrs.PowerActive, ids)
}

// power starts an ECS job that sets the servers' status on success.
func (f *Fake) power(ctx context.Context, op, jobType, status string, ids []string) (string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.beginLocked(ctx, op, append([]string(nil), ids...)...); err != nil {
		return "", err
	}
	if len(ids) == 0 {
		return "", &sdrs.InvalidRequestError{Message: "no server IDs"}
	}
	servers := make([]*sdrs.Server, 0, len(ids))
	for _, id := range ids {
		s, ok := f.servers[id]
		if !ok {
			return "", &sdrs.NotFoundError{Resource: sdrs.ResourceServer, ID: id, Code: CodeServerNotFound}
		}
		servers = append(servers, s)
	}
	return f.newJobLocked(jobType, true, func(ok bool) {
		if !ok {
			return
		}
		for _, s := range servers {
			s.Status = status
		}
	}), nil
}

// ListFailedJobs lists the failed SDRS jobs that name the group.
func (f *Fake) ListFailedJobs(ctx context.Context, groupID string) ([]sdrs.Job, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.beginLocked(ctx, OpListFailedJobs, groupID); err != nil {
		return nil, err
	}
	var out []sdrs.Job
	for _, id := range f.jobOrder {
		if j := f.jobs[id]; !j.ecs && j.Status == sdrs.JobFail && j.GroupID == groupID {
			out = append(out, j.Job)
		}
	}
	return out, nil
}

// ListReplicationPairs lists one healthy pair per protected instance.
func (f *Fake) ListReplicationPairs(ctx context.Context, groupID string) ([]sdrs.ReplicationPair, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.beginLocked(ctx, OpListReplicationPairs, groupID); err != nil {
		return nil, err
	}
	var out []sdrs.ReplicationPair
	for _, pi := range f.instancesLocked(groupID) {
		out = append(out, sdrs.ReplicationPair{ID: "rep-" + pi.ID, Status: pi.Status, FaultLevel: sdrs.FaultNone})
	}
	return out, nil
}
