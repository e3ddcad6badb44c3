package emulator

import (
	"net/http"
	"slices"
	"strings"
)

// Task center: every failed SDRS job is listed until deleted.

// Resource types of the task center (SDK FailureJobParamsResourceType).
const (
	resourceGroups       = "server_groups"
	resourceInstances    = "protected_instances"
	resourceReplications = "replications"
	resourceDrills       = "disaster_recovery_drills"
)

// failedResource names the resource a failed job was about, while it still
// exists, so the task center can show its name later.
func (e *Emulator) failedResource(j *Job) *FailedResource {
	ent := j.Entities
	fr := &FailedResource{GroupID: ent.ServerGroupID}
	switch {
	case strings.Contains(j.Type, "Drill"):
		fr.Type, fr.ID = resourceDrills, ent.DrillID
		if d := e.st.Drills[fr.ID]; d != nil {
			fr.Name = d.Name
		}
	case strings.Contains(j.Type, "Replication"):
		fr.Type, fr.ID = resourceReplications, ent.ReplicationPairID
		if r := e.st.Replications[fr.ID]; r != nil {
			fr.Name = r.Name
		}
	case strings.Contains(j.Type, "ProtectedInstance"), j.Type == jobAddNIC, j.Type == jobDeleteNIC:
		fr.Type, fr.ID = resourceInstances, ent.ProtectedInstanceID
		if fr.ID == "" && len(j.Params.InstanceIDs) > 0 {
			fr.ID = j.Params.InstanceIDs[0]
		}
		if in := e.st.Instances[fr.ID]; in != nil {
			fr.Name = in.Name
		}
	default:
		fr.Type, fr.ID = resourceGroups, ent.ServerGroupID
		if g := e.st.Groups[fr.ID]; g != nil {
			fr.Name = g.Name
		} else if g := j.Params.Group; g != nil {
			fr.Name = g.Name // a create that failed before the group appeared
		}
	}
	return fr
}

func (e *Emulator) listFailureJobs(c *call) error {
	p, err := parsePaging(c.query)
	if err != nil {
		return err
	}
	q := c.query
	groupID := q.Get("server_group_id")
	var out []failureJobView
	for _, id := range e.st.FailureJobs {
		j := e.st.Jobs[id]
		if j == nil || j.Resource == nil {
			continue
		}
		v := failureJobViewOf(j)
		// Without server_group_id only group-level failures are listed.
		if groupID == "" && v.ResourceType != resourceGroups {
			continue
		}
		switch {
		case groupID != "" && j.Resource.GroupID != groupID,
			q.Get("failure_status") != "" && v.FailureStatus != q.Get("failure_status"),
			q.Get("resource_type") != "" && v.ResourceType != q.Get("resource_type"),
			q.Get("resource_name") != "" && !fuzzy(v.ResourceName, q.Get("resource_name")):
			continue
		}
		out = append(out, v)
	}
	return c.ok(http.StatusOK, struct {
		FailureJobs []failureJobView `json:"failure_jobs"`
		Count       int              `json:"count"`
	}{append([]failureJobView{}, page(out, p)...), len(out)})
}

// deleteFailureJob removes one entry; an unknown ID is 400 SDRS.0201.
func (e *Emulator) deleteFailureJob(c *call) error {
	id := c.params["failure_job_id"]
	i := slices.Index(e.st.FailureJobs, id)
	if i < 0 {
		return invalidParam("failure job %s not found", id)
	}
	if j := e.st.Jobs[id]; j != nil && j.Resource != nil {
		c.groupID = j.Resource.GroupID
	}
	e.st.FailureJobs = slices.Delete(e.st.FailureJobs, i, i+1)
	return c.noContent()
}

func (e *Emulator) deleteGroupFailureJobs(c *call) error {
	groupID := c.params["server_group_id"]
	e.st.FailureJobs = slices.DeleteFunc(e.st.FailureJobs, func(id string) bool {
		j := e.st.Jobs[id]
		return j != nil && j.Resource != nil && j.Resource.GroupID == groupID
	})
	return c.noContent()
}

func (e *Emulator) deleteAllFailureJobs(c *call) error {
	e.st.FailureJobs = nil
	return c.noContent()
}
