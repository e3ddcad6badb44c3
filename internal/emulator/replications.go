package emulator

import (
	"net/http"
	"slices"
)

// replicationDeletable are the pair statuses a delete is accepted in.
var replicationDeletable = []string{
	statusAvailable, statusProtected, statusFailedOver, statusError, statusErrorDeleting,
	statusErrorAttaching, statusErrorDetaching, statusErrorExtending, statusErrorStarting,
	statusErrorStopping, statusErrorReversing, statusErrorFailingOver, statusErrorReprotecting,
}

type replicationReply struct {
	Replication replicationView `json:"replication"`
}

// replication looks a pair up and notes its group for the call log.
func (e *Emulator) replication(c *call, id string) (*Replication, error) {
	r := e.st.Replications[id]
	if r == nil {
		return nil, badRequest(codeReplicationNotFound, "replication pair %s not found", id)
	}
	c.groupID = r.GroupID
	return r, nil
}

// createReplicationParams is the body of CreateReplication under
// "replication".
type createReplicationParams struct {
	ServerGroupID *string `json:"server_group_id"`
	VolumeID      *string `json:"volume_id"`
	Name          *string `json:"name"`
	Description   *string `json:"description"`
	ClusterID     *string `json:"cluster_id"`
}

func (e *Emulator) createReplication(c *call) error {
	p, err := decodeWrapped[createReplicationParams](c.body, "replication")
	if err != nil {
		return err
	}
	groupID, volumeID, name, err := requireMemberFields("replication", p.ServerGroupID,
		strField{"volume_id", p.VolumeID}, p.Name, p.Description)
	if err != nil {
		return err
	}
	g, err := e.group(c, groupID)
	if err != nil {
		return err
	}
	if err := groupSteady(g); err != nil {
		return err
	}
	vol := e.st.Volumes[volumeID]
	if vol == nil {
		return badRequest(codeInvalidDisk, "disk %s not found", volumeID)
	}
	if vol.AZ != g.productionAZ() {
		return badRequest(codeInvalidAZ, "disk %s is in %s, the group's production site is %s", vol.ID, vol.AZ, g.productionAZ())
	}
	if other := e.st.volumeReplicatedBy(vol.ID); other != nil {
		return badRequest(codeDiskInUse, "disk %s is already used by replication pair %s", vol.ID, other.ID)
	}
	if len(e.st.Replications) >= replicationQuota {
		return badRequest(codeReplicationQuota, "Insufficient replication pair quota (%d)", replicationQuota)
	}
	now := e.clock.Now()
	r := &Replication{
		ID:          newUUID(),
		Seq:         e.st.nextSeq(),
		Name:        name,
		Description: deref(p.Description),
		GroupID:     g.ID,
		Status:      statusCreating,
		VolumeID:    vol.ID,
		DRVolumeID:  newUUID(),
		Size:        vol.Size,
		VolumeType:  vol.VolumeType,
		Bootable:    vol.Bootable,
		CreatedAt:   now,
		UpdatedAt:   now,
	}
	e.st.putReplication(r)
	return e.acceptJob(c, jobCreateReplication,
		JobEntities{ServerGroupID: g.ID, ReplicationPairID: r.ID, VolumeIDs: r.VolumeID + "," + r.DRVolumeID},
		JobParams{GroupID: g.ID, ReplicationID: r.ID})
}

// endCreateReplication creates the DR disk. A pair added to a protected
// group starts a new full copy for the group.
func (e *Emulator) endCreateReplication(j *Job, f *JobFault) *JobFault {
	r := e.st.Replications[j.Params.ReplicationID]
	g, ok := jobEnd(e, j, f, r, func(r *Replication) { r.Status, r.FailureDetail = statusError, f.ErrorCode })
	if !ok {
		return f
	}
	if src := e.st.Volumes[r.VolumeID]; src != nil {
		e.addVolume(r.DRVolumeID, src.Name, g.drAZ(), src.Size, src.VolumeType, src.Bootable)
	}
	r.Status = g.Status
	if g.Status == statusProtected {
		e.startSync(g, 0)
	}
	return nil
}

func (e *Emulator) listReplications(c *call) error {
	mq, p, err := parseMemberQuery(c.query)
	if err != nil {
		return err
	}
	pi := c.query.Get("protected_instance_id")
	var out []*Replication
	for _, r := range e.st.Replications {
		if (pi == "" || r.InstanceID == pi) && mq.matches(e, r.GroupID, r.InstanceID, r.Status, r.Name) {
			out = append(out, r)
		}
	}
	views := sortedPage(out, p, e.replicationView)
	return c.ok(http.StatusOK, struct {
		Replications []replicationView `json:"replications"`
		Count        int               `json:"count"`
	}{views, len(out)})
}

func (e *Emulator) showReplication(c *call) error {
	r, err := e.replication(c, c.params["replication_id"])
	if err != nil {
		return err
	}
	return c.ok(http.StatusOK, replicationReply{e.replicationView(r)})
}

func (e *Emulator) renameReplication(c *call) error {
	r, err := e.replication(c, c.params["replication_id"])
	if err != nil {
		return err
	}
	name, err := rename(c.body, "replication")
	if err != nil {
		return err
	}
	r.Name, r.UpdatedAt = name, e.clock.Now()
	return c.ok(http.StatusOK, replicationReply{e.replicationView(r)})
}

type deleteReplicationBody struct {
	Replication *struct {
		ServerGroupID      *string `json:"server_group_id"`
		DeleteTargetVolume *bool   `json:"delete_target_volume"`
	} `json:"replication"`
}

func (e *Emulator) deleteReplication(c *call) error {
	r, err := e.replication(c, c.params["replication_id"])
	if err != nil {
		return err
	}
	var b deleteReplicationBody
	if err := decodeOptionalJSON(c.body, &b); err != nil {
		return err
	}
	deleteTarget := false
	if p := b.Replication; p != nil {
		if p.ServerGroupID != nil && *p.ServerGroupID != r.GroupID {
			return badRequest(codeNotInGroup, "replication pair %s is not in protection group %s", r.ID, *p.ServerGroupID)
		}
		deleteTarget = p.DeleteTargetVolume != nil && *p.DeleteTargetVolume
	}
	if r.InstanceID != "" {
		return badRequest(codeAlreadyAttached, "replication pair %s is attached to protected instance %s; detach it first", r.ID, r.InstanceID)
	}
	if g := e.st.Groups[r.GroupID]; g != nil && transitional(g.Status) {
		return badRequest(codeGroupState, "Operation not allowed for the protection group in the current state (%s)", g.Status)
	}
	if !slices.Contains(replicationDeletable, r.Status) {
		return badRequest(codeReplicationStatus, "replication pair %s cannot be deleted while %s", r.ID, r.Status)
	}
	r.Status, r.UpdatedAt = statusDeleting, e.clock.Now()
	return e.acceptJob(c, jobDeleteReplication,
		JobEntities{ServerGroupID: r.GroupID, ReplicationPairID: r.ID},
		JobParams{GroupID: r.GroupID, ReplicationID: r.ID, DeleteTarget: deleteTarget})
}

func (e *Emulator) endDeleteReplication(j *Job, f *JobFault) *JobFault {
	r := e.st.Replications[j.Params.ReplicationID]
	if r == nil {
		return f
	}
	if f != nil {
		r.Status, r.UpdatedAt = statusErrorDeleting, e.clock.Now()
		return f
	}
	if j.Params.DeleteTarget {
		delete(e.st.Volumes, r.DRVolumeID)
	}
	e.st.removeReplication(r)
	return nil
}

type expandBody struct {
	ExtendReplication *struct {
		NewSize *int `json:"new_size"`
	} `json:"extend-replication"`
}

func (e *Emulator) expandReplication(c *call) error {
	r, err := e.replication(c, c.params["replication_id"])
	if err != nil {
		return err
	}
	var b expandBody
	if err := decodeJSON(c.body, &b); err != nil {
		return err
	}
	if b.ExtendReplication == nil {
		return badRequest(codeInvalidAction, "Invalid action: the body must hold extend-replication")
	}
	if b.ExtendReplication.NewSize == nil {
		return invalidParam("field %q is required", "extend-replication.new_size")
	}
	size := *b.ExtendReplication.NewSize
	if size <= r.Size {
		return invalidParam("new_size (%d GB) must be larger than the current size (%d GB)", size, r.Size)
	}
	if g := e.st.Groups[r.GroupID]; g != nil && transitional(g.Status) {
		return badRequest(codeGroupState, "Operation not allowed for the protection group in the current state (%s)", g.Status)
	}
	if r.Status != statusAvailable && r.Status != statusProtected && r.Status != statusErrorExtending {
		return badRequest(codeReplicationStatus, "replication pair %s cannot be expanded while %s", r.ID, r.Status)
	}
	r.Status, r.UpdatedAt = statusExtending, e.clock.Now()
	return e.acceptJob(c, jobExpandReplication,
		JobEntities{ServerGroupID: r.GroupID, ReplicationPairID: r.ID},
		JobParams{GroupID: r.GroupID, ReplicationID: r.ID, NewSize: size})
}

func (e *Emulator) endExpandReplication(j *Job, f *JobFault) *JobFault {
	r := e.st.Replications[j.Params.ReplicationID]
	g, ok := jobEnd(e, j, f, r, func(r *Replication) { r.Status = statusErrorExtending })
	if !ok {
		return f
	}
	r.Size = j.Params.NewSize
	for _, id := range []string{r.VolumeID, r.DRVolumeID} {
		if v := e.st.Volumes[id]; v != nil {
			v.Size = r.Size
		}
	}
	r.Status = g.Status
	return nil
}
