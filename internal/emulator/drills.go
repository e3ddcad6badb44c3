package emulator

import (
	"net/http"
	"slices"
)

// drillFrom are the group statuses a drill may be created in
// (OTC-API creating_a_dr_drill.rst).
var drillFrom = []string{
	statusAvailable, statusProtected, statusFailedOver, statusErrorStarting, statusErrorStopping,
	statusErrorReversing, statusErrorReprotecting, statusErrorFailingOver,
}

type drillReply struct {
	DisasterRecoveryDrill drillView `json:"disaster_recovery_drill"`
}

func (e *Emulator) drill(c *call, id string) (*Drill, error) {
	d := e.st.Drills[id]
	if d == nil {
		return nil, badRequest(codeDrillNotFound, "DR drill %s not found", id)
	}
	c.groupID = d.GroupID
	return d, nil
}

// createDrillParams is the body of CreateDisasterRecoveryDrill under
// "disaster_recovery_drill".
type createDrillParams struct {
	ServerGroupID *string `json:"server_group_id"`
	DrillVpcID    *string `json:"drill_vpc_id"`
	Name          *string `json:"name"`
}

func (e *Emulator) createDrill(c *call) error {
	p, err := decodeWrapped[createDrillParams](c.body, "disaster_recovery_drill")
	if err != nil {
		return err
	}
	groupID, err := requireString("disaster_recovery_drill.server_group_id", p.ServerGroupID)
	if err != nil {
		return err
	}
	name, err := requireName("disaster_recovery_drill.name", p.Name)
	if err != nil {
		return err
	}
	g, err := e.group(c, groupID)
	if err != nil {
		return err
	}
	if !slices.Contains(drillFrom, g.Status) {
		return badRequest(codeGroupState, "Operation not allowed for the protection group in the current state (%s)", g.Status)
	}
	if busy := e.st.groupBusy(g); busy != "" {
		return badRequest(codeGroupState, "Operation not allowed for the protection group in the current state: %s", busy)
	}
	// Without a drill VPC, SDRS creates one.
	vpc := deref(p.DrillVpcID)
	if vpc == "" {
		vpc = newUUID()
	}
	for _, other := range e.st.Drills {
		if other.VpcID == vpc {
			return badRequest(codeDrillVPCUsed, "drill VPC %s is already used by drill %s", vpc, other.ID)
		}
	}
	now := e.clock.Now()
	d := &Drill{
		ID: newUUID(), Seq: e.st.nextSeq(), Name: name, Status: statusCreating,
		GroupID: g.ID, VpcID: vpc, CreatedAt: now, UpdatedAt: now,
	}
	e.st.putDrill(d)
	g.LastDrillAt = now
	return e.acceptJob(c, jobCreateDrill,
		JobEntities{ServerGroupID: g.ID, DrillID: d.ID},
		JobParams{GroupID: g.ID, DrillID: d.ID})
}

// endCreateDrill starts one drill server per protected instance, in the
// DR site, from the DR disks.
func (e *Emulator) endCreateDrill(j *Job, f *JobFault) *JobFault {
	d := e.st.Drills[j.Params.DrillID]
	g, ok := jobEnd(e, j, f, d, func(d *Drill) { d.Status = statusError })
	if !ok {
		return f
	}
	for _, in := range e.st.instancesOf(g.ID) {
		s := e.addServer("", in.Name+"-drill", g.drAZ(), osOf(e.st.Servers[in.productionServer(g)]), powerActive, "")
		d.Servers = append(d.Servers, DrillServer{InstanceID: in.ID, ServerID: s.ID})
	}
	d.Status = statusAvailable
	return nil
}

func (e *Emulator) listDrills(c *call) error {
	p, err := parsePaging(c.query)
	if err != nil {
		return err
	}
	q := c.query
	var out []*Drill
	for _, d := range e.st.Drills {
		switch {
		case q.Get("server_group_id") != "" && d.GroupID != q.Get("server_group_id"),
			q.Get("name") != "" && !fuzzy(d.Name, q.Get("name")),
			q.Get("status") != "" && !statusFilter(d.Status, q.Get("status")),
			q.Get("drill_vpc_id") != "" && d.VpcID != q.Get("drill_vpc_id"):
			continue
		}
		out = append(out, d)
	}
	views := sortedPage(out, p, e.drillView)
	return c.ok(http.StatusOK, struct {
		DisasterRecoveryDrills []drillView `json:"disaster_recovery_drills"`
		Count                  int         `json:"count"`
	}{views, len(out)})
}

func (e *Emulator) showDrill(c *call) error {
	d, err := e.drill(c, c.params["disaster_recovery_drill_id"])
	if err != nil {
		return err
	}
	return c.ok(http.StatusOK, drillReply{e.drillView(d)})
}

func (e *Emulator) renameDrill(c *call) error {
	d, err := e.drill(c, c.params["disaster_recovery_drill_id"])
	if err != nil {
		return err
	}
	name, err := rename(c.body, "disaster_recovery_drill")
	if err != nil {
		return err
	}
	d.Name, d.UpdatedAt = name, e.clock.Now()
	return c.ok(http.StatusOK, drillReply{e.drillView(d)})
}

func (e *Emulator) deleteDrill(c *call) error {
	d, err := e.drill(c, c.params["disaster_recovery_drill_id"])
	if err != nil {
		return err
	}
	if d.Status != statusAvailable && d.Status != statusError && d.Status != statusErrorDeleting {
		return badRequest(codeDrillDeleteState, "DR drill %s cannot be deleted while %s", d.ID, d.Status)
	}
	d.Status, d.UpdatedAt = statusDeleting, e.clock.Now()
	return e.acceptJob(c, jobDeleteDrill,
		JobEntities{ServerGroupID: d.GroupID, DrillID: d.ID},
		JobParams{GroupID: d.GroupID, DrillID: d.ID})
}

// endDeleteDrill removes the drill and its servers; the drill VPC stays.
func (e *Emulator) endDeleteDrill(j *Job, f *JobFault) *JobFault {
	d := e.st.Drills[j.Params.DrillID]
	if d == nil {
		return f
	}
	if f != nil {
		d.Status, d.UpdatedAt = statusErrorDeleting, e.clock.Now()
		return f
	}
	for _, s := range d.Servers {
		delete(e.st.Servers, s.ServerID)
	}
	e.st.removeDrill(d)
	return nil
}
