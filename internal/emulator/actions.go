package emulator

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
)

// groupActionSpec describes one protection-group action (sdrs-api.md §3.5,
// §6.2): the statuses it starts from, its job, and its statuses while
// running and after failing.
type groupActionSpec struct {
	from       []string
	jobType    string
	running    string
	failed     string
	failCode   string
	subJobType string
}

// newActionSpec builds an action's spec; its per-pair sub-jobs are typed
// like the job with "RepNoCG" for "NoCG".
func newActionSpec(jobType, running, failed, failCode string, from ...string) groupActionSpec {
	return groupActionSpec{
		from: from, jobType: jobType, running: running, failed: failed, failCode: failCode,
		subJobType: strings.Replace(jobType, "NoCG", "RepNoCG", 1),
	}
}

var (
	startSpec = newActionSpec(jobStartGroup, statusStarting, statusErrorStarting, codeEnableFailed,
		statusAvailable, statusErrorStarting)
	reprotectSpec = newActionSpec(jobReprotectGroup, statusReprotecting, statusErrorReprotecting, codeReprotectFailed,
		statusFailedOver, statusErrorReprotecting)
	stopSpec = newActionSpec(jobStopGroup, statusStopping, statusErrorStopping, codeDisableFailed,
		statusProtected, statusErrorStopping)
	reverseSpec = newActionSpec(jobReverseGroup, statusReversing, statusErrorReversing, codeReverseFailed,
		statusProtected, statusErrorReversing)
	failoverSpec = newActionSpec(jobFailoverGroup, statusFailingOver, statusErrorFailingOver, codeFailoverFailed,
		statusProtected, statusErrorFailingOver, statusErrorReversing)
	actionSpecs = map[string]groupActionSpec{
		jobStartGroup: startSpec, jobReprotectGroup: reprotectSpec, jobStopGroup: stopSpec,
		jobReverseGroup: reverseSpec, jobFailoverGroup: failoverSpec,
	}
)

// parseGroupAction finds the action in the body by key. The SDK sends
// {"start-server-group": {}} or, when the caller leaves the pointer nil,
// {"start-server-group": null}; both are accepted.
func parseGroupAction(body []byte) (action string, station string, err error) {
	var m map[string]json.RawMessage
	if err := decodeJSON(body, &m); err != nil {
		return "", "", err
	}
	var found []string
	for _, k := range []string{actionStart, actionStop, actionReverse, actionFailover} {
		if _, ok := m[k]; ok {
			found = append(found, k)
		}
	}
	switch len(found) {
	case 0:
		return "", "", badRequest(codeInvalidAction, "Invalid action: the body must hold one of %s, %s, %s, %s", actionStart, actionStop, actionReverse, actionFailover)
	case 1:
	default:
		return "", "", badRequest(codeInvalidAction, "Invalid action: the body holds several actions %v", found)
	}
	action = found[0]
	raw := bytes.TrimSpace(m[action])
	if action != actionReverse {
		if !bytes.Equal(raw, []byte("null")) && (len(raw) == 0 || raw[0] != '{') {
			return "", "", invalidParam("field %q must be an object or null", action)
		}
		return action, "", nil
	}
	var params *struct {
		PriorityStation *string `json:"priority_station"`
	}
	if err := json.Unmarshal(raw, &params); err != nil {
		return "", "", invalidParam("field %q must be an object holding priority_station", action)
	}
	if params == nil || params.PriorityStation == nil {
		return "", "", invalidParam("field %q requires priority_station (source or target)", action+".priority_station")
	}
	station = *params.PriorityStation
	if station != stationSource && station != stationTarget {
		return "", "", invalidParam("priority_station must be \"source\" or \"target\", not %q", station)
	}
	return action, station, nil
}

func (e *Emulator) groupAction(c *call) error {
	g, err := e.group(c, c.params["server_group_id"])
	if err != nil {
		return err
	}
	action, station, err := parseGroupAction(c.body)
	if err != nil {
		return err
	}
	spec, err := e.checkGroupAction(g, action, station)
	if err != nil {
		return err
	}
	params := JobParams{GroupID: g.ID, Station: station, ProductionAZ: g.productionAZ()}
	j := e.newGroupJob(spec.jobType, JobEntities{ServerGroupID: g.ID}, params)
	for _, r := range e.st.replicationsOf(g.ID) {
		j.addSubJob(spec.subJobType, JobEntities{ServerGroupID: g.ID, ReplicationPairID: r.ID, ProtectedInstanceID: r.InstanceID})
	}
	// A deferred job (pessimistic profile) leaves the group as it is
	// until it leaves INIT.
	if !j.Deferred {
		e.recordPrior(j, g)
		e.cascade(g, spec.running)
	}
	return c.accepted(j)
}

// checkGroupAction applies the documented preconditions in a fixed order:
// group status, busy members, replication pairs, sync state, server power.
func (e *Emulator) checkGroupAction(g *Group, action, station string) (groupActionSpec, error) {
	var spec groupActionSpec
	switch action {
	case actionStart:
		spec = startSpec
		if slices.Contains(reprotectSpec.from, g.Status) {
			spec = reprotectSpec
		}
	case actionStop:
		spec = stopSpec
	case actionReverse:
		spec = reverseSpec
	case actionFailover:
		spec = failoverSpec
	}
	if !slices.Contains(spec.from, g.Status) {
		allowed := spec.from
		if action == actionStart {
			allowed = append(slices.Clone(startSpec.from), reprotectSpec.from...)
		}
		return spec, badRequest(codeGroupState, "Operation not allowed for the protection group in the current state: %s is %s, %s needs one of %v", g.ID, g.Status, action, allowed)
	}
	if busy := e.st.groupBusy(g); busy != "" {
		return spec, badRequest(codeGroupState, "Operation not allowed for the protection group in the current state: %s", busy)
	}
	needsPairs := spec.jobType != jobStopGroup
	if needsPairs && len(e.st.replicationsOf(g.ID)) == 0 {
		return spec, badRequest(codeGroupState, "Operation not allowed for the protection group in the current state: the group has no replication pairs")
	}
	switch spec.jobType {
	case jobReverseGroup:
		if station == g.PriorityStation {
			return spec, badRequest(codeGroupState, "Operation not allowed for the protection group in the current state: priority_station is already %s", station)
		}
		if g.Replication.Status == replCopying {
			return spec, badRequest(codeStillSyncing, "The replication pairs are still synchronizing (progress %d%%)", e.progress(g))
		}
		if running := e.runningServers(g, true); len(running) > 0 {
			return spec, badRequest(codeProductionRunning, "The production site servers are not stopped: %v", running)
		}
	case jobReprotectGroup:
		if running := e.runningServers(g, false); len(running) > 0 {
			return spec, badRequest(codeDRServerRunning, "The DR site servers are not stopped: %v", running)
		}
	}
	return spec, nil
}

// runningServers lists the group's ACTIVE servers at the production site
// (production=true) or at the DR site.
func (e *Emulator) runningServers(g *Group, production bool) []string {
	var out []string
	for _, in := range e.st.instancesOf(g.ID) {
		id := in.drServer(g)
		if production {
			id = in.productionServer(g)
		}
		if s := e.st.Servers[id]; s != nil && s.Status == powerActive {
			out = append(out, id)
		}
	}
	return out
}

// cascade gives the group's instances and replication pairs the group's
// status, as SDRS does during and after group actions.
func (e *Emulator) cascade(g *Group, status string) {
	now := e.clock.Now()
	g.Status = status
	g.UpdatedAt = now
	for _, in := range e.st.instancesOf(g.ID) {
		in.Status, in.UpdatedAt = status, now
	}
	for _, r := range e.st.replicationsOf(g.ID) {
		r.Status, r.UpdatedAt = status, now
	}
}

// endGroupAction applies the outcome of start, reprotect, stop, reverse
// and failover jobs.
func (e *Emulator) endGroupAction(j *Job, f *JobFault) *JobFault {
	g := e.st.Groups[j.Params.GroupID]
	if g == nil {
		return f
	}
	spec := actionSpecs[j.Type]
	// A planned failover needs a working production site to flush and
	// stop replication; a forced failover does not.
	if f == nil && j.Type == jobReverseGroup && e.st.ZonesDown[j.Params.ProductionAZ] {
		f = failure(nil, codeReverseFailed, fmt.Sprintf("planned failover failed: availability zone %s is unavailable", j.Params.ProductionAZ))
	}
	// Protection replicates into the DR site, which must be reachable.
	if f == nil && (j.Type == jobStartGroup || j.Type == jobReprotectGroup) && e.st.ZonesDown[g.drAZ()] {
		f = failure(nil, spec.failCode, fmt.Sprintf("cannot replicate into availability zone %s: it is unavailable", g.drAZ()))
	}
	if f != nil {
		// The pessimistic profile promises no error-* status: the group
		// goes back to where it was.
		if j.Profile == ProfilePessimistic {
			e.restorePrior(g, j.Params)
		} else {
			e.cascade(g, spec.failed)
		}
		return f
	}
	switch j.Type {
	case jobStartGroup, jobReprotectGroup:
		e.cascade(g, statusProtected)
		g.ProtectedStatus = protectedStarted
		e.startSync(g, 0)
	case jobStopGroup:
		e.cascade(g, statusAvailable)
		g.ProtectedStatus = protectedStopped
		e.stopSync(g)
	case jobReverseGroup:
		// Replication keeps running, now from the new production site.
		g.PriorityStation = j.Params.Station
		e.cascade(g, statusProtected)
		e.powerOffProduction(g)
	case jobFailoverGroup:
		// The old production servers are forcibly stopped; the new ones
		// are left stopped for people to start; replication stops until
		// the group is re-protected.
		e.powerOffProduction(g)
		g.PriorityStation = otherStation(g.PriorityStation)
		e.cascade(g, statusFailedOver)
		g.ProtectedStatus = protectedStopped
		e.stopSync(g)
		e.powerOffProduction(g)
	}
	return nil
}

func otherStation(s string) string {
	if s == stationTarget {
		return stationSource
	}
	return stationTarget
}

// powerOffProduction stops the servers at the group's production site.
func (e *Emulator) powerOffProduction(g *Group) {
	now := e.clock.Now()
	for _, in := range e.st.instancesOf(g.ID) {
		if s := e.st.Servers[in.productionServer(g)]; s != nil {
			s.Status, s.TaskState, s.UpdatedAt = powerShutoff, "", now
		}
	}
}
