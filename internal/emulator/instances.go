package emulator

import (
	"fmt"
	"maps"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"
)

// instanceDeletable are the statuses a protected instance may be deleted
// from (OTC-API deleting_a_protected_instance.rst).
var instanceDeletable = []string{
	statusAvailable, statusProtected, statusFailedOver, statusError, statusErrorStarting,
	statusErrorStopping, statusErrorReversing, statusErrorFailingOver, statusErrorDeleting,
	statusErrorReprotecting, statusErrorResizing, statusInvalid, statusFault,
}

const maxNamePrefixLen = 59

type instanceReply struct {
	ProtectedInstance instanceView `json:"protected_instance"`
}

// instance looks an instance up and notes its group for the call log.
func (e *Emulator) instance(c *call, id string) (*Instance, *Group, error) {
	in := e.st.Instances[id]
	if in == nil {
		return nil, nil, badRequest(codeInstanceNotFound, "Invalid protected instance ID: %s not found", id)
	}
	c.groupID = in.GroupID
	return in, e.st.Groups[in.GroupID], nil
}

type tagBody struct {
	Key   *string `json:"key"`
	Value *string `json:"value"`
}

// createInstanceParams is the body of CreateProtectedInstance under
// "protected_instance".
type createInstanceParams struct {
	ServerGroupID    *string    `json:"server_group_id"`
	ServerID         *string    `json:"server_id"`
	Name             *string    `json:"name"`
	Description      *string    `json:"description"`
	ClusterID        *string    `json:"cluster_id"`
	PrimarySubnetID  *string    `json:"primary_subnet_id"`
	PrimaryIPAddress *string    `json:"primary_ip_address"`
	Tags             *[]tagBody `json:"tags"`
	FlavorRef        *string    `json:"flavorRef"`
	Tenancy          *string    `json:"tenancy"`
	DedicatedHostID  *string    `json:"dedicated_host_id"`
}

// newInstanceSpec is a validated request for one new protected instance.
type newInstanceSpec struct {
	name, description, serverID, subnetID, ip, flavor string
	tags                                              []Tag
}

func (e *Emulator) createInstance(c *call) error {
	p, err := decodeWrapped[createInstanceParams](c.body, "protected_instance")
	if err != nil {
		return err
	}
	groupID, serverID, name, err := requireMemberFields("protected_instance", p.ServerGroupID,
		strField{"server_id", p.ServerID}, p.Name, p.Description)
	if err != nil {
		return err
	}
	if err := checkTenancy(p.Tenancy); err != nil {
		return err
	}
	ip := deref(p.PrimaryIPAddress)
	if ip != "" && net.ParseIP(ip).To4() == nil {
		return badRequest(codeInvalidIP, "primary_ip_address %q is not an IPv4 address", ip)
	}
	tags, err := tagsFromBody(p.Tags)
	if err != nil {
		return err
	}
	g, err := e.group(c, groupID)
	if err != nil {
		return err
	}
	spec := newInstanceSpec{
		name: name, description: deref(p.Description), serverID: serverID,
		subnetID: deref(p.PrimarySubnetID), ip: ip, flavor: deref(p.FlavorRef), tags: tags,
	}
	if err := e.checkNewInstances(g, []newInstanceSpec{spec}); err != nil {
		return err
	}
	in := e.addInstance(g, spec)
	return e.acceptJob(c, jobCreateInstance,
		JobEntities{ServerGroupID: g.ID, ProtectedInstanceID: in.ID, NativeServerID: in.drServer(g)},
		JobParams{GroupID: g.ID, InstanceIDs: []string{in.ID}, DRFlavors: map[string]string{in.ID: spec.flavor}})
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

func checkTenancy(t *string) error {
	if t != nil && *t != "shared" && *t != "dedicated" {
		return invalidParam("tenancy must be \"shared\" or \"dedicated\"")
	}
	return nil
}

// checkNewInstances applies the create preconditions to every server of
// a (batch) request before anything is created.
func (e *Emulator) checkNewInstances(g *Group, specs []newInstanceSpec) error {
	if g.Status != statusAvailable && g.Status != statusProtected {
		return badRequest(codeInstanceCreateState, "protected instances can be added only to an available or protected group; %s is %s", g.ID, g.Status)
	}
	seen := map[string]bool{}
	for _, s := range specs {
		srv := e.st.Servers[s.serverID]
		if srv == nil {
			return badRequest(codeServerNotFound, "server %s not found", s.serverID)
		}
		if srv.AZ != g.productionAZ() {
			return badRequest(codeAZMismatch, "server %s is in %s, the group's production site is %s", srv.ID, srv.AZ, g.productionAZ())
		}
		if in := e.st.serverProtectedBy(srv.ID); in != nil || seen[srv.ID] {
			return badRequest(codeServerProtected, "server %s is already protected", srv.ID)
		}
		seen[srv.ID] = true
	}
	return nil
}

// addInstance registers a protected instance in status creating; its DR
// server appears when the job succeeds. Caller holds e.mu.
func (e *Emulator) addInstance(g *Group, s newInstanceSpec) *Instance {
	now := e.clock.Now()
	subnet := s.subnetID
	if subnet == "" {
		subnet = stableUUID("subnet/" + g.SourceVpcID)
	}
	in := &Instance{
		ID:          newUUID(),
		Seq:         e.st.nextSeq(),
		Name:        s.name,
		Description: s.description,
		GroupID:     g.ID,
		Status:      statusCreating,
		Tags:        s.tags,
		NICs:        []NIC{{ID: newUUID(), SubnetID: subnet, IPAddress: s.ip, Primary: true}},
		CreatedAt:   now,
		UpdatedAt:   now,
	}
	drID := newUUID()
	if g.PriorityStation == stationTarget {
		in.TargetServer, in.SourceServer = s.serverID, drID
	} else {
		in.SourceServer, in.TargetServer = s.serverID, drID
	}
	e.st.putInstance(in)
	return in
}

// batchCreateParams is the body of BatchCreateProtectedInstances under
// "protected_instances".
type batchCreateParams struct {
	ServerGroupID   *string `json:"server_group_id"`
	NamePrefix      *string `json:"name_prefix"`
	Description     *string `json:"description"`
	ClusterID       *string `json:"cluster_id"`
	PrimarySubnetID *string `json:"primary_subnet_id"`
	Tenancy         *string `json:"tenancy"`
	DedicatedHostID *string `json:"dedicated_host_id"`
	Servers         *[]struct {
		ServerID  *string `json:"server_id"`
		FlavorRef *string `json:"flavorRef"`
	} `json:"servers"`
	Tags *[]tagBody `json:"tags"`
}

func (e *Emulator) batchCreateInstances(c *call) error {
	p, err := decodeWrapped[batchCreateParams](c.body, "protected_instances")
	if err != nil {
		return err
	}
	vals, err := requireStrings("protected_instances",
		strField{"server_group_id", p.ServerGroupID}, strField{"name_prefix", p.NamePrefix})
	if err != nil {
		return err
	}
	groupID, prefix := vals[0], vals[1]
	if len(prefix) > maxNamePrefixLen {
		return badRequest("SDRS.0202", "name_prefix must be 1 to %d bytes long", maxNamePrefixLen)
	}
	if err := checkName("protected_instances.name_prefix", prefix); err != nil {
		return err
	}
	if err := checkDescription(p.Description); err != nil {
		return err
	}
	if err := checkTenancy(p.Tenancy); err != nil {
		return err
	}
	if p.Servers == nil || len(*p.Servers) == 0 {
		return invalidParam("field %q must list at least one server", "protected_instances.servers")
	}
	tags, err := tagsFromBody(p.Tags)
	if err != nil {
		return err
	}
	g, err := e.group(c, groupID)
	if err != nil {
		return err
	}
	var specs []newInstanceSpec
	for i, s := range *p.Servers {
		id, err := requireString(fmt.Sprintf("protected_instances.servers[%d].server_id", i), s.ServerID)
		if err != nil {
			return err
		}
		specs = append(specs, newInstanceSpec{
			name:        fmt.Sprintf("%s-%04d", prefix, i+1),
			description: deref(p.Description), serverID: id, subnetID: deref(p.PrimarySubnetID),
			flavor: deref(s.FlavorRef), tags: slices.Clone(tags),
		})
	}
	if err := e.checkNewInstances(g, specs); err != nil {
		return err
	}
	params := JobParams{GroupID: g.ID, DRFlavors: map[string]string{}}
	var subs []JobEntities
	for _, s := range specs {
		in := e.addInstance(g, s)
		params.InstanceIDs = append(params.InstanceIDs, in.ID)
		params.DRFlavors[in.ID] = s.flavor
		subs = append(subs, JobEntities{ServerGroupID: g.ID, ProtectedInstanceID: in.ID, NativeServerID: in.drServer(g)})
	}
	return e.acceptBatchJob(c, jobBatchCreateInstances, JobEntities{ServerGroupID: g.ID}, params, jobCreateInstance, subs)
}

// endCreateInstances builds the DR servers of new instances, or leaves the
// instances in error.
func (e *Emulator) endCreateInstances(j *Job, f *JobFault) *JobFault {
	now := e.clock.Now()
	for _, id := range j.Params.InstanceIDs {
		in := e.st.Instances[id]
		if in == nil {
			continue
		}
		g := e.st.Groups[in.GroupID]
		in.UpdatedAt = now
		if f != nil || g == nil {
			in.Status = statusError
			continue
		}
		prod := e.st.Servers[in.productionServer(g)]
		name, flavor := in.Name, j.Params.DRFlavors[in.ID]
		if prod != nil {
			name = prod.Name
			if flavor == "" {
				flavor = prod.Flavor
			}
		}
		e.addServer(in.drServer(g), name, g.drAZ(), osOf(prod), powerShutoff, flavor)
		in.Status = g.Status
	}
	return f
}

func (e *Emulator) listInstances(c *call) error {
	mq, p, err := parseMemberQuery(c.query)
	if err != nil {
		return err
	}
	// One group's instances come from the index, not a scan of all.
	var pool []*Instance
	if id := c.query.Get("server_group_id"); id != "" {
		pool = e.st.instancesOf(id)
	} else {
		pool = slices.Collect(maps.Values(e.st.Instances))
	}
	var out []*Instance
	for _, in := range pool {
		if mq.matches(e, in.GroupID, in.ID, in.Status, in.Name) {
			out = append(out, in)
		}
	}
	views := sortedPage(out, p, e.instanceView)
	return c.ok(http.StatusOK, struct {
		ProtectedInstances []instanceView `json:"protected_instances"`
		Count              int            `json:"count"`
	}{views, len(out)})
}

// memberQuery is the filters the protected-instance and replication-pair
// lists share.
type memberQuery struct {
	q                     url.Values
	queryType             string
	groupIDs, instanceIDs []string
}

// parseMemberQuery reads the paging and the shared filters.
func parseMemberQuery(q url.Values) (memberQuery, paging, error) {
	p, err := parsePaging(q)
	if err != nil {
		return memberQuery{}, p, err
	}
	mq := memberQuery{q: q, queryType: strings.TrimSpace(q.Get("query_type"))}
	if mq.queryType != "" && mq.queryType != queryGeneral && mq.queryType != queryStatusAbnormal {
		return mq, p, invalidParam("query_type must be status_abnormal or general")
	}
	if mq.groupIDs, err = optionalIDList(q, "server_group_ids"); err != nil {
		return mq, p, err
	}
	mq.instanceIDs, err = optionalIDList(q, "protected_instance_ids")
	return mq, p, err
}

// matches applies the shared filters to a member of the group: instanceID
// is the instance itself or the one a pair is attached to.
func (mq memberQuery) matches(e *Emulator, groupID, instanceID, status, name string) bool {
	q := mq.q
	g := e.st.Groups[groupID]
	switch {
	case q.Get("server_group_id") != "" && groupID != q.Get("server_group_id"),
		mq.groupIDs != nil && !slices.Contains(mq.groupIDs, groupID),
		mq.instanceIDs != nil && !slices.Contains(mq.instanceIDs, instanceID),
		q.Get("status") != "" && !statusFilter(status, q.Get("status")),
		q.Get("name") != "" && !fuzzy(name, q.Get("name")),
		q.Get("availability_zone") != "" && (g == nil || g.productionAZ() != q.Get("availability_zone")),
		mq.queryType == queryStatusAbnormal && !isErrorStatus(status):
		return false
	}
	return true
}

// optionalIDList parses an ID-list filter; nil means "not filtered".
func optionalIDList(q map[string][]string, field string) ([]string, error) {
	v, ok := q[field]
	if !ok {
		return nil, nil
	}
	ids, err := parseIDList(field, v[0])
	if err != nil {
		return nil, err
	}
	if ids == nil {
		ids = []string{}
	}
	return ids, nil
}

func (e *Emulator) showInstance(c *call) error {
	in, _, err := e.instance(c, c.params["protected_instance_id"])
	if err != nil {
		return err
	}
	return c.ok(http.StatusOK, instanceReply{e.instanceView(in)})
}

func (e *Emulator) renameInstance(c *call) error {
	in, _, err := e.instance(c, c.params["protected_instance_id"])
	if err != nil {
		return err
	}
	name, err := rename(c.body, "protected_instance")
	if err != nil {
		return err
	}
	in.Name = name
	in.UpdatedAt = e.clock.Now()
	return c.ok(http.StatusOK, instanceReply{e.instanceView(in)})
}

type deleteInstanceBody struct {
	DeleteTargetServer *bool `json:"delete_target_server"`
	DeleteTargetEip    *bool `json:"delete_target_eip"`
}

func (e *Emulator) deleteInstance(c *call) error {
	in, g, err := e.instance(c, c.params["protected_instance_id"])
	if err != nil {
		return err
	}
	var b deleteInstanceBody
	if err := decodeOptionalJSON(c.body, &b); err != nil {
		return err
	}
	if err := e.checkDeletable(in, g); err != nil {
		return err
	}
	in.Status, in.UpdatedAt = statusDeleting, e.clock.Now()
	return e.acceptJob(c, jobDeleteInstance,
		JobEntities{ServerGroupID: in.GroupID, ProtectedInstanceID: in.ID},
		JobParams{GroupID: in.GroupID, InstanceIDs: []string{in.ID}, DeleteTarget: b.DeleteTargetServer != nil && *b.DeleteTargetServer})
}

func (e *Emulator) checkDeletable(in *Instance, g *Group) error {
	if g != nil && transitional(g.Status) {
		return badRequest(codeInstanceDeleteState, "the protection group %s is %s", g.ID, g.Status)
	}
	if !slices.Contains(instanceDeletable, in.Status) {
		return badRequest(codeInstanceDeleteState, "protected instance %s cannot be deleted while %s", in.ID, in.Status)
	}
	return nil
}

type batchDeleteBody struct {
	ProtectedInstances *[]struct {
		ID *string `json:"id"`
	} `json:"protected_instances"`
	DeleteTargetServer *bool `json:"delete_target_server"`
	DeleteTargetEip    *bool `json:"delete_target_eip"`
}

func (e *Emulator) batchDeleteInstances(c *call) error {
	var b batchDeleteBody
	if err := decodeJSON(c.body, &b); err != nil {
		return err
	}
	if b.ProtectedInstances == nil || len(*b.ProtectedInstances) == 0 {
		return invalidParam("field %q must list at least one protected instance", "protected_instances")
	}
	var targets []*Instance
	seen := map[string]bool{}
	for i, ref := range *b.ProtectedInstances {
		id, err := requireString(fmt.Sprintf("protected_instances[%d].id", i), ref.ID)
		if err != nil {
			return err
		}
		in, g, err := e.instance(c, id)
		if err != nil {
			return err
		}
		if seen[id] {
			return invalidParam("protected instance %s is listed twice", id)
		}
		seen[id] = true
		if err := e.checkDeletable(in, g); err != nil {
			return err
		}
		targets = append(targets, in)
	}
	params := JobParams{GroupID: targets[0].GroupID, DeleteTarget: b.DeleteTargetServer != nil && *b.DeleteTargetServer}
	now := e.clock.Now()
	for _, in := range targets {
		in.Status, in.UpdatedAt = statusDeleting, now
		params.InstanceIDs = append(params.InstanceIDs, in.ID)
	}
	c.groupID = targets[0].GroupID
	var subs []JobEntities
	for _, in := range targets {
		subs = append(subs, JobEntities{ServerGroupID: in.GroupID, ProtectedInstanceID: in.ID})
	}
	return e.acceptBatchJob(c, jobBatchDeleteInstances, JobEntities{ServerGroupID: targets[0].GroupID}, params, jobDeleteInstance, subs)
}

// endDeleteInstances removes the instances, detaching their replication
// pairs and, if asked, deleting their DR servers.
func (e *Emulator) endDeleteInstances(j *Job, f *JobFault) *JobFault {
	now := e.clock.Now()
	for _, id := range j.Params.InstanceIDs {
		in := e.st.Instances[id]
		if in == nil {
			continue
		}
		if f != nil {
			in.Status, in.UpdatedAt = statusErrorDeleting, now
			continue
		}
		for _, r := range e.st.Replications {
			if r.InstanceID == in.ID {
				r.InstanceID, r.Device, r.UpdatedAt = "", "", now
			}
		}
		if g := e.st.Groups[in.GroupID]; g != nil && j.Params.DeleteTarget {
			delete(e.st.Servers, in.drServer(g))
		}
		e.st.removeInstance(in)
	}
	return f
}
