package emulator

import (
	"net/http"
	"slices"
	"strings"
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

type createReplicationBody struct {
	Replication *struct {
		ServerGroupID *string `json:"server_group_id"`
		VolumeID      *string `json:"volume_id"`
		Name          *string `json:"name"`
		Description   *string `json:"description"`
		ClusterID     *string `json:"cluster_id"`
	} `json:"replication"`
}

func (e *Emulator) createReplication(c *call) error {
	var b createReplicationBody
	if err := decodeJSON(c.body, &b); err != nil {
		return err
	}
	p := b.Replication
	if p == nil {
		return invalidParam("field %q is required", "replication")
	}
	groupID, err := requireString("replication.server_group_id", p.ServerGroupID)
	if err != nil {
		return err
	}
	volumeID, err := requireString("replication.volume_id", p.VolumeID)
	if err != nil {
		return err
	}
	name, err := requireString("replication.name", p.Name)
	if err != nil {
		return err
	}
	if err := checkName("replication.name", name); err != nil {
		return err
	}
	if err := checkDescription(p.Description); err != nil {
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
	j := e.newJob(jobKindSDRS, jobCreateReplication,
		JobEntities{ServerGroupID: g.ID, ReplicationPairID: r.ID, VolumeIDs: r.VolumeID + "," + r.DRVolumeID},
		JobParams{GroupID: g.ID, ReplicationID: r.ID})
	return c.ok(http.StatusOK, jobIDReply{JobID: j.ID})
}

// endCreateReplication creates the DR disk. A pair added to a protected
// group starts a new full copy for the group.
func (e *Emulator) endCreateReplication(j *Job, f *JobFault) *JobFault {
	r := e.st.Replications[j.Params.ReplicationID]
	g := e.st.Groups[j.Params.GroupID]
	if r == nil || g == nil {
		return f
	}
	r.UpdatedAt = e.clock.Now()
	if f != nil {
		r.Status, r.FailureDetail = statusError, f.ErrorCode
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
	p, err := parsePaging(c.query)
	if err != nil {
		return err
	}
	q := c.query
	queryType := strings.TrimSpace(q.Get("query_type"))
	if queryType != "" && queryType != queryGeneral && queryType != queryStatusAbnormal {
		return invalidParam("query_type must be status_abnormal or general")
	}
	groupIDs, err := optionalIDList(q, "server_group_ids")
	if err != nil {
		return err
	}
	instanceIDs, err := optionalIDList(q, "protected_instance_ids")
	if err != nil {
		return err
	}
	var out []*Replication
	for _, r := range e.st.Replications {
		g := e.st.Groups[r.GroupID]
		switch {
		case q.Get("server_group_id") != "" && r.GroupID != q.Get("server_group_id"),
			groupIDs != nil && !slices.Contains(groupIDs, r.GroupID),
			q.Get("protected_instance_id") != "" && r.InstanceID != q.Get("protected_instance_id"),
			instanceIDs != nil && !slices.Contains(instanceIDs, r.InstanceID),
			q.Get("status") != "" && !statusFilter(r.Status, q.Get("status")),
			q.Get("name") != "" && !fuzzy(r.Name, q.Get("name")),
			q.Get("availability_zone") != "" && (g == nil || g.productionAZ() != q.Get("availability_zone")),
			queryType == queryStatusAbnormal && !isErrorStatus(r.Status):
			continue
		}
		out = append(out, r)
	}
	slices.SortFunc(out, func(a, b *Replication) int { return cmpSeq(a.Seq, b.Seq) })
	views := []replicationView{}
	for _, r := range page(out, p) {
		views = append(views, e.replicationView(r))
	}
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
	j := e.newJob(jobKindSDRS, jobDeleteReplication,
		JobEntities{ServerGroupID: r.GroupID, ReplicationPairID: r.ID},
		JobParams{GroupID: r.GroupID, ReplicationID: r.ID, DeleteTarget: deleteTarget})
	return c.ok(http.StatusOK, jobIDReply{JobID: j.ID})
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
	j := e.newJob(jobKindSDRS, jobExpandReplication,
		JobEntities{ServerGroupID: r.GroupID, ReplicationPairID: r.ID},
		JobParams{GroupID: r.GroupID, ReplicationID: r.ID, NewSize: size})
	return c.ok(http.StatusOK, jobIDReply{JobID: j.ID})
}

func (e *Emulator) endExpandReplication(j *Job, f *JobFault) *JobFault {
	r := e.st.Replications[j.Params.ReplicationID]
	g := e.st.Groups[j.Params.GroupID]
	if r == nil || g == nil {
		return f
	}
	r.UpdatedAt = e.clock.Now()
	if f != nil {
		r.Status = statusErrorExtending
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
