package emulator

import (
	"net"
	"regexp"
	"slices"
)

// Operations on one protected instance: attach/detach a replication pair,
// add/delete a NIC, resize.

const maxNICs = 12

var deviceName = regexp.MustCompile(`^/dev/[a-z]+[0-9]*$`)

// groupSteady fails unless the group is available or protected, the
// states in which instance-level changes are allowed.
func groupSteady(g *Group) error {
	if g == nil || (g.Status != statusAvailable && g.Status != statusProtected) {
		status := "gone"
		if g != nil {
			status = g.Status
		}
		return badRequest(codeGroupState, "Operation not allowed for the protection group in the current state (%s)", status)
	}
	return nil
}

// attachParams is the body of AttachProtectedInstanceReplication under
// "replicationAttachment".
type attachParams struct {
	ReplicationID *string `json:"replication_id"`
	Device        *string `json:"device"`
}

// instanceRequest looks up the path's protected instance and decodes the
// body into b.
func (e *Emulator) instanceRequest(c *call, b any) (*Instance, *Group, error) {
	in, g, err := e.instance(c, c.params["protected_instance_id"])
	if err != nil {
		return nil, nil, err
	}
	if err := decodeJSON(c.body, b); err != nil {
		return nil, nil, err
	}
	return in, g, nil
}

// nicChangeAllowed fails unless the group and the instance are steady.
func nicChangeAllowed(g *Group, in *Instance) error {
	if err := groupSteady(g); err != nil {
		return err
	}
	if in.Status != statusAvailable && in.Status != statusProtected {
		return badRequest(codeNICState, "NICs cannot be changed while protected instance %s is %s", in.ID, in.Status)
	}
	return nil
}

func (e *Emulator) attachReplication(c *call) error {
	in, g, err := e.instance(c, c.params["protected_instance_id"])
	if err != nil {
		return err
	}
	a, err := decodeWrapped[attachParams](c.body, "replicationAttachment")
	if err != nil {
		return err
	}
	vals, err := requireStrings("replicationAttachment",
		strField{"replication_id", a.ReplicationID}, strField{"device", a.Device})
	if err != nil {
		return err
	}
	repID, device := vals[0], vals[1]
	if !deviceName.MatchString(device) {
		return invalidParam("replicationAttachment.device must look like /dev/vdb, not %q", device)
	}
	r, err := e.replication(c, repID)
	if err != nil {
		return err
	}
	if r.GroupID != in.GroupID {
		return badRequest(codeNotInGroup, "replication pair %s is not in protection group %s", r.ID, in.GroupID)
	}
	if err := groupSteady(g); err != nil {
		return err
	}
	if in.Status != statusAvailable && in.Status != statusProtected {
		return badRequest(codeInstanceNotReady, "protected instance %s is %s", in.ID, in.Status)
	}
	if r.InstanceID != "" {
		return badRequest(codeAlreadyAttached, "replication pair %s is already attached to %s", r.ID, r.InstanceID)
	}
	if r.Status != statusAvailable && r.Status != statusProtected {
		return badRequest(codeReplicationNotReady, "replication pair %s is %s", r.ID, r.Status)
	}
	for _, other := range e.st.replicationsOf(g.ID) {
		if other.InstanceID == in.ID && other.Device == device {
			return badRequest(codeDeviceInUse, "device %s of protected instance %s is used by %s", device, in.ID, other.ID)
		}
	}
	// The attachment shows at once so a second attach cannot take the
	// same device; a failed job removes it again.
	r.InstanceID, r.Device = in.ID, device
	r.Status, r.UpdatedAt = statusAttaching, e.clock.Now()
	return e.acceptJob(c, jobAttachReplication,
		JobEntities{ServerGroupID: g.ID, ProtectedInstanceID: in.ID, ReplicationPairID: r.ID},
		JobParams{GroupID: g.ID, InstanceIDs: []string{in.ID}, ReplicationID: r.ID, Device: device})
}

func (e *Emulator) endAttach(j *Job, f *JobFault) *JobFault {
	r := e.st.Replications[j.Params.ReplicationID]
	g, ok := jobEnd(e, j, f, r, func(r *Replication) { r.InstanceID, r.Device, r.Status = "", "", statusErrorAttaching })
	if !ok {
		return f
	}
	r.Status = g.Status
	return nil
}

// detachableFrom are the group statuses a pair may be detached in.
var detachableFrom = []string{
	statusAvailable, statusProtected, statusFailedOver, statusErrorStarting,
	statusErrorStopping, statusErrorReversing, statusErrorFailingOver,
}

func (e *Emulator) detachReplication(c *call) error {
	in, g, err := e.instance(c, c.params["protected_instance_id"])
	if err != nil {
		return err
	}
	r, err := e.replication(c, c.params["replication_id"])
	if err != nil {
		return err
	}
	if r.InstanceID != in.ID {
		return badRequest(codeNotAttached, "replication pair %s is not attached to protected instance %s", r.ID, in.ID)
	}
	if g == nil {
		return badRequest(codeGroupNotFound, "protection group %s not found", in.GroupID)
	}
	if !slices.Contains(detachableFrom, g.Status) {
		return badRequest(codeGroupState, "Operation not allowed for the protection group in the current state (%s)", g.Status)
	}
	if transitional(r.Status) {
		return badRequest(codeReplicationStatus, "replication pair %s is %s", r.ID, r.Status)
	}
	r.Status, r.UpdatedAt = statusDetaching, e.clock.Now()
	return e.acceptJob(c, jobDetachReplication,
		JobEntities{ServerGroupID: g.ID, ProtectedInstanceID: in.ID, ReplicationPairID: r.ID},
		JobParams{GroupID: g.ID, InstanceIDs: []string{in.ID}, ReplicationID: r.ID})
}

func (e *Emulator) endDetach(j *Job, f *JobFault) *JobFault {
	r := e.st.Replications[j.Params.ReplicationID]
	g, ok := jobEnd(e, j, f, r, func(r *Replication) { r.Status = statusErrorDetaching })
	if !ok {
		return f
	}
	r.InstanceID, r.Device, r.Status = "", "", g.Status
	return nil
}

type addNICBody struct {
	SubnetID       *string `json:"subnet_id"`
	SecurityGroups *[]struct {
		ID *string `json:"id"`
	} `json:"security_groups"`
	IPAddress *string `json:"ip_address"`
}

func (e *Emulator) addNIC(c *call) error {
	var b addNICBody
	in, g, err := e.instanceRequest(c, &b)
	if err != nil {
		return err
	}
	subnet, err := requireString("subnet_id", b.SubnetID)
	if err != nil {
		return err
	}
	if b.SecurityGroups != nil {
		for _, sg := range *b.SecurityGroups {
			if _, err := requireString("security_groups[].id", sg.ID); err != nil {
				return err
			}
		}
	}
	ip := deref(b.IPAddress)
	if ip != "" && net.ParseIP(ip).To4() == nil {
		return badRequest(codeInvalidIP, "ip_address %q is not an IPv4 address", ip)
	}
	if err := nicChangeAllowed(g, in); err != nil {
		return err
	}
	if len(in.NICs) >= maxNICs {
		return badRequest(codeNICLimit, "protected instance %s already has %d NICs", in.ID, maxNICs)
	}
	nicID := newUUID()
	in.Status, in.UpdatedAt = statusNICCreating, e.clock.Now()
	return e.acceptJob(c, jobAddNIC,
		JobEntities{ServerGroupID: g.ID, ProtectedInstanceID: in.ID, NICID: nicID},
		JobParams{GroupID: g.ID, InstanceIDs: []string{in.ID}, NICID: nicID, SubnetID: subnet, IPAddress: ip})
}

// endAddNIC adds the NIC; a failed NIC job leaves the instance as it was.
func (e *Emulator) endAddNIC(j *Job, f *JobFault) *JobFault {
	in, g := e.jobInstance(j)
	if in == nil {
		return f
	}
	if f == nil {
		in.NICs = append(in.NICs, NIC{ID: j.Params.NICID, SubnetID: j.Params.SubnetID, IPAddress: j.Params.IPAddress})
	}
	in.Status, in.UpdatedAt = g.Status, e.clock.Now()
	return f
}

type deleteNICBody struct {
	NICID *string `json:"nic_id"`
}

func (e *Emulator) deleteNIC(c *call) error {
	var b deleteNICBody
	in, g, err := e.instanceRequest(c, &b)
	if err != nil {
		return err
	}
	nicID, err := requireString("nic_id", b.NICID)
	if err != nil {
		return err
	}
	i := slices.IndexFunc(in.NICs, func(n NIC) bool { return n.ID == nicID })
	if i < 0 {
		return badRequest(codeNICNotFound, "NIC %s not found on protected instance %s", nicID, in.ID)
	}
	if in.NICs[i].Primary {
		return badRequest(codePrimaryNIC, "the primary NIC %s cannot be deleted", nicID)
	}
	if err := nicChangeAllowed(g, in); err != nil {
		return err
	}
	in.Status, in.UpdatedAt = statusNICDeleting, e.clock.Now()
	return e.acceptJob(c, jobDeleteNIC,
		JobEntities{ServerGroupID: g.ID, ProtectedInstanceID: in.ID, NICID: nicID},
		JobParams{GroupID: g.ID, InstanceIDs: []string{in.ID}, NICID: nicID})
}

func (e *Emulator) endDeleteNIC(j *Job, f *JobFault) *JobFault {
	in, g := e.jobInstance(j)
	if in == nil {
		return f
	}
	if f == nil {
		in.NICs = slices.DeleteFunc(in.NICs, func(n NIC) bool { return n.ID == j.Params.NICID })
	}
	in.Status, in.UpdatedAt = g.Status, e.clock.Now()
	return f
}

// jobInstance returns the single instance of an instance job and its group.
func (e *Emulator) jobInstance(j *Job) (*Instance, *Group) {
	if len(j.Params.InstanceIDs) != 1 {
		return nil, nil
	}
	in := e.st.Instances[j.Params.InstanceIDs[0]]
	if in == nil {
		return nil, nil
	}
	g := e.st.Groups[in.GroupID]
	if g == nil {
		return nil, nil
	}
	return in, g
}

type resizeBody struct {
	Resize *struct {
		FlavorRef                 *string `json:"flavorRef"`
		ProductionFlavorRef       *string `json:"production_flavorRef"`
		DrFlavorRef               *string `json:"dr_flavorRef"`
		ProductionDedicatedHostID *string `json:"production_dedicated_host_id"`
		DrDedicatedHostID         *string `json:"dr_dedicated_host_id"`
	} `json:"resize"`
}

func (e *Emulator) resizeInstance(c *call) error {
	var b resizeBody
	in, g, err := e.instanceRequest(c, &b)
	if err != nil {
		return err
	}
	if b.Resize == nil {
		return invalidParam("field %q is required", "resize")
	}
	// flavorRef, when set, wins over the per-site flavors.
	prodFlavor, drFlavor := deref(b.Resize.ProductionFlavorRef), deref(b.Resize.DrFlavorRef)
	if f := deref(b.Resize.FlavorRef); f != "" {
		prodFlavor, drFlavor = f, f
	}
	if prodFlavor == "" && drFlavor == "" {
		return invalidParam("resize needs flavorRef, production_flavorRef or dr_flavorRef")
	}
	if err := groupSteady(g); err != nil {
		return err
	}
	if in.Status != statusAvailable && in.Status != statusProtected && in.Status != statusErrorResizing {
		return badRequest(codeInstanceNotReady, "protected instance %s is %s", in.ID, in.Status)
	}
	changes := 0
	for _, t := range []struct{ id, flavor string }{{in.productionServer(g), prodFlavor}, {in.drServer(g), drFlavor}} {
		s := e.st.Servers[t.id]
		if t.flavor == "" || s == nil {
			continue
		}
		if s.Status != powerShutoff {
			return badRequest(codeServerNotStopped, "server %s must be stopped before it is resized", s.ID)
		}
		if s.Flavor != t.flavor {
			changes++
		}
	}
	if changes == 0 {
		return badRequest(codeSameFlavor, "the servers already have the requested flavor")
	}
	in.Status, in.UpdatedAt = statusResizing, e.clock.Now()
	return e.acceptJob(c, jobResizeInstance,
		JobEntities{ServerGroupID: g.ID, ProtectedInstanceID: in.ID},
		JobParams{GroupID: g.ID, InstanceIDs: []string{in.ID}, ProductionFlavor: prodFlavor, DRFlavor: drFlavor})
}

func (e *Emulator) endResize(j *Job, f *JobFault) *JobFault {
	in, g := e.jobInstance(j)
	if in == nil {
		return f
	}
	now := e.clock.Now()
	in.UpdatedAt = now
	if f != nil {
		in.Status = statusErrorResizing
		return f
	}
	for _, t := range []struct{ id, flavor string }{{in.productionServer(g), j.Params.ProductionFlavor}, {in.drServer(g), j.Params.DRFlavor}} {
		if s := e.st.Servers[t.id]; s != nil && t.flavor != "" {
			s.Flavor, s.UpdatedAt = t.flavor, now
		}
	}
	in.Status = g.Status
	return nil
}
