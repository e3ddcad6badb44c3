package emulator

import (
	"fmt"
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
	for _, other := range e.st.Drills {
		if vpc != "" && other.VpcID == vpc {
			return badRequest(codeDrillVPCUsed, "drill VPC %s is already used by drill %s", vpc, other.ID)
		}
	}
	now := e.clock.Now()
	d := &Drill{
		ID: newUUID(), Seq: e.st.nextSeq(), Name: name, Status: statusCreating,
		GroupID: g.ID, CreatedAt: now, UpdatedAt: now,
	}
	d.VpcID = e.drillVPC(vpc, d).ID
	e.st.putDrill(d)
	g.LastDrillAt = now
	return e.acceptJob(c, jobCreateDrill,
		JobEntities{ServerGroupID: g.ID, DrillID: d.ID},
		JobParams{GroupID: g.ID, DrillID: d.ID})
}

// drillVPCCIDR is the CIDR of a drill VPC SDRS creates.
const drillVPCCIDR = "192.168.0.0/16"

// drillVPC records the drill's VPC: the one named (id), or a new one
// SDRS creates when id is empty. Either outlives the drill.
func (e *Emulator) drillVPC(id string, d *Drill) *VPC {
	if v := e.st.VPCs[id]; v != nil {
		return v
	}
	v := &VPC{ID: id, Seq: e.st.nextSeq(), Name: id, DrillID: d.ID, CreatedAt: e.clock.Now()}
	if id == "" {
		v.ID = newUUID()
		v.Name, v.CIDR, v.AutoCreated = "sdrs-drill-vpc-"+v.ID[:8], drillVPCCIDR, true
	}
	e.st.VPCs[v.ID] = v
	return v
}

// drillIP is a drill server's address: the production instance's primary
// IP when known (the drill VPC has the production CIDR), else the i-th
// address of the drill VPC.
func drillIP(in *Instance, i int) string {
	for _, n := range in.NICs {
		if n.Primary && n.IPAddress != "" {
			return n.IPAddress
		}
	}
	return fmt.Sprintf("192.168.%d.%d", i/250, 2+i%250)
}

// endCreateDrill starts one drill server per protected instance, in the
// DR site, from the DR disks.
func (e *Emulator) endCreateDrill(j *Job, f *JobFault) *JobFault {
	d := e.st.Drills[j.Params.DrillID]
	g, ok := jobEnd(e, j, f, d, func(d *Drill) { d.Status = statusError })
	if !ok {
		return f
	}
	for i, in := range e.st.instancesOf(g.ID) {
		s := e.addServer("", in.Name+"-drill", g.drAZ(), osOf(e.st.Servers[in.productionServer(g)]), powerActive, "")
		s.VpcID, s.IPAddress = d.VpcID, drillIP(in, i)
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
