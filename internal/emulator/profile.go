package emulator

import (
	"errors"
	"fmt"
)

// The pessimistic profile (docs/emulator.md, "Profiles"): SDRS documents
// that a group action answers 200 with a job ID and that the job goes INIT
// -> RUNNING -> SUCCESS | FAIL (sdrs-api.md §3.5, §4). It does not document
// that the group is already transitional when the 200 arrives, that a
// failed job leaves it error-*, or that a new job is readable at once
// (§4, §13). This file holds what the pessimistic profile does instead.

// Job-level failure codes of group create and delete (sdrs-api.md §6.4).
const (
	codeCreateGroupFailed = "SDRS.1014"
	codeDeleteGroupFailed = "SDRS.1016"
)

// startDeferred applies a deferred group job's action when the job leaves
// INIT: the preconditions are checked again against the group as it is
// now (another job accepted during the lag may have changed it). A
// failure means the job ends FAIL at once and the group is left as it is.
// Caller holds e.mu.
func (e *Emulator) startDeferred(j *Job) *JobFault {
	now := e.clock.Now()
	switch j.Type {
	case jobCreateGroup:
		g := j.Params.Group
		if g == nil {
			return failure(nil, codeCreateGroupFailed, "create protection group failed: the group's parameters were lost")
		}
		if len(e.st.Groups) >= groupQuota {
			return failure(nil, codeCreateGroupFailed, fmt.Sprintf("create protection group failed: insufficient protection group quota (%d)", groupQuota))
		}
		g.CreatedAt, g.UpdatedAt = now, now
		e.st.Groups[g.ID] = g
		j.Params.Group = nil
		return nil
	case jobDeleteGroup:
		g := e.st.Groups[j.Params.GroupID]
		if g == nil {
			return failure(nil, codeDeleteGroupFailed, fmt.Sprintf("delete protection group failed: protection group %s not found", j.Params.GroupID))
		}
		if err := e.checkDeleteGroup(g); err != nil {
			return failure(nil, codeDeleteGroupFailed, "delete protection group failed: "+reason(err))
		}
		e.recordPrior(j, g)
		g.Status = statusDeleting
		g.UpdatedAt = now
		return nil
	}
	spec, ok := actionSpecs[j.Type]
	if !ok {
		return nil
	}
	g := e.st.Groups[j.Params.GroupID]
	if g == nil {
		return failure(nil, spec.failCode, fmt.Sprintf("protection group %s not found", j.Params.GroupID))
	}
	current, err := e.checkGroupAction(g, actionOfJob(j.Type), j.Params.Station)
	if err == nil && current.jobType != j.Type {
		err = badRequest(codeGroupState, "the protection group is now %s: %s would be %s", g.Status, j.Type, current.jobType)
	}
	if err != nil {
		return failure(nil, spec.failCode, "the action is no longer allowed when its job starts: "+reason(err))
	}
	j.Params.ProductionAZ = g.productionAZ()
	e.recordPrior(j, g)
	e.cascade(g, spec.running)
	return nil
}

// actionOfJob is the body key of a group action job type.
func actionOfJob(jobType string) string {
	switch jobType {
	case jobStartGroup, jobReprotectGroup:
		return actionStart
	case jobStopGroup:
		return actionStop
	case jobReverseGroup:
		return actionReverse
	}
	return actionFailover
}

func reason(err error) string {
	var ae *apiError
	if errors.As(err, &ae) {
		return ae.Message + " (" + ae.Code + ")"
	}
	return err.Error()
}

// recordPrior remembers, for a pessimistic-profile job, the statuses of the
// group and its members just before the job changes them. Caller holds
// e.mu.
func (e *Emulator) recordPrior(j *Job, g *Group) {
	if j.Profile != ProfilePessimistic {
		return
	}
	j.Params.PriorStatus = g.Status
	j.Params.PriorMembers = map[string]string{}
	for _, in := range e.st.instancesOf(g.ID) {
		j.Params.PriorMembers[in.ID] = in.Status
	}
	for _, r := range e.st.replicationsOf(g.ID) {
		j.Params.PriorMembers[r.ID] = r.Status
	}
}

// restorePrior puts the group and its members back to the statuses
// recordPrior saw: a failed job in the pessimistic profile. Caller holds
// e.mu.
func (e *Emulator) restorePrior(g *Group, p JobParams) {
	now := e.clock.Now()
	if p.PriorStatus != "" {
		g.Status = p.PriorStatus
	}
	g.UpdatedAt = now
	for _, in := range e.st.instancesOf(g.ID) {
		if s, ok := p.PriorMembers[in.ID]; ok {
			in.Status, in.UpdatedAt = s, now
		}
	}
	for _, r := range e.st.replicationsOf(g.ID) {
		if s, ok := p.PriorMembers[r.ID]; ok {
			r.Status, r.UpdatedAt = s, now
		}
	}
}
