package emulator

import (
	"net/http"
	"strings"
)

const (
	groupQuota       = 100
	replicationQuota = 1000
	// drillPeriod is how far back query_type=period_no_dr_drill looks.
	drillPeriodDays = 90
)

// Query types of the group list; the SDK's STOP_PROTECTED constant carries
// a leading space (" stop_protected"), so values are trimmed first.
const (
	queryStatusAbnormal = "status_abnormal"
	queryStopProtected  = "stop_protected"
	queryNoDrill        = "period_no_dr_drill"
	queryGeneral        = "general"
)

type jobIDReply struct {
	JobID string `json:"job_id"`
}

type groupReply struct {
	ServerGroup groupView `json:"server_group"`
}

// group looks a group up and notes it for the call log.
func (e *Emulator) group(c *call, id string) (*Group, error) {
	c.groupID = id
	g := e.st.Groups[id]
	if g == nil {
		return nil, badRequest(codeGroupNotFound, "protection group %s not found", id)
	}
	return g, nil
}

// createGroupParams is the body of CreateProtectionGroup under
// "server_group".
type createGroupParams struct {
	Name                   *string `json:"name"`
	Description            *string `json:"description"`
	SourceAvailabilityZone *string `json:"source_availability_zone"`
	TargetAvailabilityZone *string `json:"target_availability_zone"`
	DomainID               *string `json:"domain_id"`
	SourceVpcID            *string `json:"source_vpc_id"`
	DrType                 *string `json:"dr_type"`
}

func (e *Emulator) createGroup(c *call) error {
	sg, err := decodeWrapped[createGroupParams](c.body, "server_group")
	if err != nil {
		return err
	}
	name, err := requireName("server_group.name", sg.Name)
	if err != nil {
		return err
	}
	if err := checkDescription(sg.Description); err != nil {
		return err
	}
	vals, err := requireStrings("server_group",
		strField{"source_availability_zone", sg.SourceAvailabilityZone},
		strField{"target_availability_zone", sg.TargetAvailabilityZone},
		strField{"domain_id", sg.DomainID}, strField{"source_vpc_id", sg.SourceVpcID})
	if err != nil {
		return err
	}
	src, dst, domainID, vpc := vals[0], vals[1], vals[2], vals[3]
	if sg.DrType != nil && *sg.DrType != "migration" {
		return invalidParam("server_group.dr_type must be \"migration\"")
	}
	if src == dst {
		return badRequest(codeInvalidAZ, "source and target availability zones must differ")
	}
	d := e.st.Domains[domainID]
	if d == nil {
		return badRequest(codeInvalidDomain, "active-active domain %s not found", domainID)
	}
	if !d.pairs(src, dst) {
		return badRequest(codeInvalidAZ, "active-active domain %s spans %s and %s, not %s and %s", domainID, d.LocalAZ, d.RemoteAZ, src, dst)
	}
	if len(e.st.Groups) >= groupQuota {
		return badRequest(codeGroupQuota, "Insufficient protection group quota (%d)", groupQuota)
	}
	now := e.clock.Now()
	g := &Group{
		ID:              newUUID(),
		Seq:             e.st.nextSeq(),
		Name:            name,
		Description:     sg.Description,
		Status:          statusCreating,
		SourceAZ:        src,
		TargetAZ:        dst,
		DomainID:        domainID,
		SourceVpcID:     vpc,
		PriorityStation: stationSource,
		CreatedAt:       now,
		UpdatedAt:       now,
	}
	c.groupID = g.ID
	j := e.newGroupJob(jobCreateGroup, JobEntities{ServerGroupID: g.ID}, JobParams{GroupID: g.ID})
	if j.Deferred {
		// Pessimistic profile: the group appears when the job leaves INIT.
		j.Params.Group = g
	} else {
		e.st.Groups[g.ID] = g
	}
	return c.accepted(j)
}

func (e *Emulator) endCreateGroup(j *Job, f *JobFault) *JobFault {
	g := e.st.Groups[j.Params.GroupID]
	if g == nil {
		return f
	}
	g.Status = statusAvailable
	if f != nil {
		g.Status = statusError
	}
	g.UpdatedAt = e.clock.Now()
	return f
}

func (e *Emulator) listGroups(c *call) error {
	p, err := parsePaging(c.query)
	if err != nil {
		return err
	}
	queryType := strings.TrimSpace(c.query.Get("query_type"))
	switch queryType {
	case "", queryGeneral, queryStatusAbnormal, queryStopProtected, queryNoDrill:
	default:
		return invalidParam("query_type must be one of status_abnormal, stop_protected, period_no_dr_drill, general")
	}
	status, name, az := c.query.Get("status"), c.query.Get("name"), c.query.Get("availability_zone")
	var out []*Group
	for _, g := range e.st.Groups {
		if status != "" && !statusFilter(g.Status, status) {
			continue
		}
		if name != "" && !fuzzy(g.Name, name) {
			continue
		}
		if az != "" && g.productionAZ() != az {
			continue
		}
		if !e.groupQueryType(g, queryType) {
			continue
		}
		out = append(out, g)
	}
	views := sortedPage(out, p, e.groupView)
	return c.ok(http.StatusOK, struct {
		ServerGroups []groupView `json:"server_groups"`
		Count        int         `json:"count"`
	}{views, len(out)})
}

func (e *Emulator) groupQueryType(g *Group, queryType string) bool {
	switch queryType {
	case queryStatusAbnormal:
		return isErrorStatus(g.Status) || e.health(g) == healthAbnormal
	case queryStopProtected:
		return g.Status == statusAvailable || g.ProtectedStatus == protectedStopped
	case queryNoDrill:
		since := e.clock.Now().AddDate(0, 0, -drillPeriodDays)
		return g.LastDrillAt.Before(since)
	}
	return true
}

func (e *Emulator) showGroup(c *call) error {
	g, err := e.group(c, c.params["server_group_id"])
	if err != nil {
		return err
	}
	return c.ok(http.StatusOK, groupReply{e.groupView(g)})
}

type renameBody struct {
	Name *string `json:"name"`
}

// rename validates a {"<wrapper>":{"name":...}} body and returns the name.
func rename(body []byte, wrapper string) (string, error) {
	var b map[string]*renameBody
	if err := decodeJSON(body, &b); err != nil {
		return "", err
	}
	inner := b[wrapper]
	if inner == nil {
		return "", invalidParam("field %q is required", wrapper)
	}
	return requireName(wrapper+".name", inner.Name)
}

func (e *Emulator) renameGroup(c *call) error {
	g, err := e.group(c, c.params["server_group_id"])
	if err != nil {
		return err
	}
	name, err := rename(c.body, "server_group")
	if err != nil {
		return err
	}
	g.Name = name
	g.UpdatedAt = e.clock.Now()
	return c.ok(http.StatusOK, groupReply{e.groupView(g)})
}

func (e *Emulator) deleteGroup(c *call) error {
	g, err := e.group(c, c.params["server_group_id"])
	if err != nil {
		return err
	}
	if err := e.checkDeleteGroup(g); err != nil {
		return err
	}
	j := e.newGroupJob(jobDeleteGroup, JobEntities{ServerGroupID: g.ID}, JobParams{GroupID: g.ID})
	if !j.Deferred {
		e.recordPrior(j, g)
		g.Status = statusDeleting
		g.UpdatedAt = e.clock.Now()
	}
	return c.accepted(j)
}

// checkDeleteGroup applies the preconditions of a group delete.
func (e *Emulator) checkDeleteGroup(g *Group) error {
	if transitional(g.Status) {
		return badRequest(codeGroupState, "Operation not allowed for the protection group in the current state (%s)", g.Status)
	}
	if n := len(e.st.instancesOf(g.ID)); n > 0 {
		return badRequest(codeGroupHasInstances, "the protection group still has %d protected instance(s)", n)
	}
	if n := len(e.st.replicationsOf(g.ID)); n > 0 {
		return badRequest(codeGroupHasReplication, "the protection group still has %d replication pair(s)", n)
	}
	if n := len(e.st.drillsOf(g.ID)); n > 0 {
		return badRequest(codeGroupHasDrills, "the protection group still has %d DR drill(s)", n)
	}
	return nil
}

func (e *Emulator) endDeleteGroup(j *Job, f *JobFault) *JobFault {
	g := e.st.Groups[j.Params.GroupID]
	if g == nil {
		return f
	}
	if f != nil {
		if j.Profile == ProfilePessimistic {
			e.restorePrior(g, j.Params)
		} else {
			g.Status = statusErrorDeleting
			g.UpdatedAt = e.clock.Now()
		}
		return f
	}
	e.cancel("sync/" + g.ID)
	delete(e.st.Groups, g.ID)
	return nil
}
