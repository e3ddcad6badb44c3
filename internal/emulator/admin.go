package emulator

import (
	"cmp"
	"encoding/json"
	"errors"
	"io"
	"maps"
	"net/http"
	"slices"
	"time"
)

// The admin API is for tests and demos only: unauthenticated, JSON, under
// /admin on the SDRS listener. docs/emulator.md describes every endpoint.

// adminFunc serves an admin request under e.mu; a returned *apiError
// becomes the error answer and any success saves the state.
type adminFunc func(e *Emulator, r *http.Request, body []byte) (status int, reply any, err error)

func (e *Emulator) adminHandler() http.Handler {
	mux := http.NewServeMux()
	handle := func(pattern string, f adminFunc) {
		mux.HandleFunc(pattern, func(w http.ResponseWriter, r *http.Request) { e.serveAdmin(w, r, f) })
	}
	handle("POST /admin/seed", (*Emulator).adminSeed)
	handle("GET /admin/state", (*Emulator).adminState)
	handle("GET /admin/calls", (*Emulator).adminCalls)
	handle("DELETE /admin/calls", (*Emulator).adminClearCalls)
	handle("GET /admin/calls/summary", (*Emulator).adminCallSummary)
	handle("PUT /admin/zones/{az}", (*Emulator).adminZone)
	handle("GET /admin/faults", (*Emulator).adminFaults)
	handle("POST /admin/faults/jobs", (*Emulator).adminAddJobFault)
	handle("DELETE /admin/faults/jobs", (*Emulator).adminClearJobFaults)
	handle("PUT /admin/faults/http", (*Emulator).adminSetHTTPFaults)
	handle("DELETE /admin/faults/http", (*Emulator).adminClearHTTPFaults)
	handle("POST /admin/faults/accept-errors", (*Emulator).adminAddAcceptError)
	handle("DELETE /admin/faults/accept-errors", (*Emulator).adminClearAcceptErrors)
	handle("GET /admin/config", (*Emulator).adminConfig)
	handle("PUT /admin/config", (*Emulator).adminSetConfig)
	handle("POST /admin/servers", (*Emulator).adminAddServer)
	handle("PUT /admin/servers/{id}", (*Emulator).adminSetServer)
	handle("POST /admin/volumes", (*Emulator).adminAddVolume)
	handle("PUT /admin/groups/{id}", (*Emulator).adminSetGroup)
	handle("PUT /admin/instances/{id}", (*Emulator).adminSetInstance)
	handle("PUT /admin/replications/{id}", (*Emulator).adminSetReplication)
	handle("GET /admin/vpcs", (*Emulator).adminVPCs)
	mux.HandleFunc("/admin/", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Request-Id", newJobID())
		writeJSON(w, http.StatusNotFound, errorBody{Error: errorDetail{Code: codeNoSuchAPI, Message: "no such admin endpoint: " + r.Method + " " + r.URL.Path}})
	})
	return mux
}

func (e *Emulator) serveAdmin(w http.ResponseWriter, r *http.Request, f adminFunc) {
	w.Header().Set("X-Request-Id", newJobID())
	body, err := readBody(r)
	if err != nil {
		writeJSON(w, http.StatusBadRequest, errorBody{Error: errorDetail{Code: codeInvalidParams, Message: err.Error()}})
		return
	}
	e.mu.Lock()
	status, reply, err := f(e, r, body)
	if err == nil && r.Method != http.MethodGet {
		err = e.saveLocked()
	}
	e.mu.Unlock()
	if err != nil {
		var ae *apiError
		if !errors.As(err, &ae) {
			ae = errorf(http.StatusInternalServerError, codeInternal, "%v", err)
		}
		writeJSON(w, ae.Status, errorBody{Error: errorDetail{Code: ae.Code, Message: ae.Message}})
		return
	}
	writeJSON(w, status, reply)
}

func readBody(r *http.Request) ([]byte, error) {
	buf, err := io.ReadAll(io.LimitReader(r.Body, maxBodyBytes+1))
	if err != nil {
		return nil, invalidParam("cannot read the request body: %v", err)
	}
	if len(buf) > maxBodyBytes {
		return nil, invalidParam("the request body exceeds %d bytes", maxBodyBytes)
	}
	return buf, nil
}

func (e *Emulator) adminSeed(_ *http.Request, body []byte) (int, any, error) {
	var s SeedSpec
	if err := decodeJSON(body, &s); err != nil {
		return 0, nil, err
	}
	res, err := e.seedLocked(s)
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, res, nil
}

// stateDump is GET /admin/state: the raw objects, each list in creation
// order.
type stateDump struct {
	Groups       []*Group        `json:"groups"`
	Instances    []*Instance     `json:"instances"`
	Servers      []*Server       `json:"servers"`
	Volumes      []*Volume       `json:"volumes"`
	Replications []*Replication  `json:"replications"`
	Drills       []*Drill        `json:"drills"`
	Domains      []*Domain       `json:"domains"`
	VPCs         []*VPC          `json:"vpcs"`
	Jobs         []*Job          `json:"jobs"`
	FailureJobs  []string        `json:"failure_jobs"`
	ZonesDown    map[string]bool `json:"zones_down"`
	JobFaults    []JobFault      `json:"job_faults"`
	HTTPFaults   *HTTPFaults     `json:"http_faults"`
	AcceptErrors []AcceptError   `json:"accept_errors"`
}

func sortedBySeq[T sequenced](m map[string]T) []T {
	out := slices.Collect(maps.Values(m))
	slices.SortFunc(out, bySeq[T])
	return out
}

func (e *Emulator) adminState(_ *http.Request, _ []byte) (int, any, error) {
	domains := make([]*Domain, 0, len(e.st.Domains))
	for _, d := range e.st.Domains {
		domains = append(domains, d)
	}
	slices.SortFunc(domains, func(a, b *Domain) int { return cmp.Compare(a.ID, b.ID) })
	return http.StatusOK, stateDump{
		Groups:       sortedBySeq(e.st.Groups),
		Instances:    sortedBySeq(e.st.Instances),
		Servers:      sortedBySeq(e.st.Servers),
		Volumes:      sortedBySeq(e.st.Volumes),
		Replications: sortedBySeq(e.st.Replications),
		Drills:       sortedBySeq(e.st.Drills),
		Domains:      domains,
		VPCs:         sortedBySeq(e.st.VPCs),
		Jobs:         sortedBySeq(e.st.Jobs),
		FailureJobs:  append([]string{}, e.st.FailureJobs...),
		ZonesDown:    e.st.ZonesDown,
		JobFaults:    append([]JobFault{}, e.st.JobFaults...),
		HTTPFaults:   e.st.HTTPFaults,
		AcceptErrors: append([]AcceptError{}, e.st.AcceptErrors...),
	}, nil
}

// filteredCalls applies the ?operation=, ?group_id= and ?applied=
// filters.
func (e *Emulator) filteredCalls(r *http.Request) ([]Call, error) {
	q := r.URL.Query()
	op, group := q.Get("operation"), q.Get("group_id")
	var applied *bool
	switch q.Get("applied") {
	case "":
	case "true":
		applied = ptrTo(true)
	case "false":
		applied = ptrTo(false)
	default:
		return nil, invalidParam("applied must be true or false")
	}
	out := []Call{}
	for _, c := range e.recentCalls() {
		if (op == "" || c.Operation == op) && (group == "" || c.GroupID == group) && (applied == nil || c.Applied == *applied) {
			out = append(out, c)
		}
	}
	return out, nil
}

func ptrTo[T any](v T) *T { return &v }

func (e *Emulator) adminCalls(r *http.Request, _ []byte) (int, any, error) {
	calls, err := e.filteredCalls(r)
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, calls, nil
}

func (e *Emulator) adminCallSummary(r *http.Request, _ []byte) (int, any, error) {
	calls, err := e.filteredCalls(r)
	if err != nil {
		return 0, nil, err
	}
	counts := map[string]int{}
	for _, c := range calls {
		counts[c.Operation]++
	}
	return http.StatusOK, counts, nil
}

func (e *Emulator) adminClearCalls(_ *http.Request, _ []byte) (int, any, error) {
	e.st.Calls = nil
	return http.StatusNoContent, nil, nil
}

func (e *Emulator) adminZone(r *http.Request, body []byte) (int, any, error) {
	var b struct {
		Down *bool `json:"down"`
	}
	if err := decodeJSON(body, &b); err != nil {
		return 0, nil, err
	}
	if b.Down == nil {
		return 0, nil, invalidParam("field %q is required", "down")
	}
	az := r.PathValue("az")
	if *b.Down {
		e.st.ZonesDown[az] = true
	} else {
		delete(e.st.ZonesDown, az)
	}
	e.log.Info("availability zone changed", "az", az, "down", *b.Down)
	return http.StatusOK, map[string]any{"availability_zone": az, "down": *b.Down}, nil
}

func (e *Emulator) adminFaults(_ *http.Request, _ []byte) (int, any, error) {
	return http.StatusOK, map[string]any{"jobs": append([]JobFault{}, e.st.JobFaults...), "http": e.st.HTTPFaults,
		"accept_errors": append([]AcceptError{}, e.st.AcceptErrors...)}, nil
}

// defaultFailCode is the error code an injected job failure gets when the
// request names none: the job type's documented failure code.
func defaultFailCode(jobType string) string {
	if spec, ok := actionSpecs[jobType]; ok {
		return spec.failCode
	}
	switch jobType {
	case jobCreateGroup:
		return "SDRS.1014"
	case jobDeleteGroup:
		return "SDRS.1016"
	case jobECSStopServers, jobECSStartServers:
		return codeECSFailure
	}
	return "SDRS.0405"
}

func (e *Emulator) adminAddJobFault(_ *http.Request, body []byte) (int, any, error) {
	var f JobFault
	if err := decodeJSON(body, &f); err != nil {
		return 0, nil, err
	}
	if f.JobType == "" {
		return 0, nil, invalidParam("field %q is required", "job_type")
	}
	if f.Count <= 0 {
		f.Count = 1
	}
	if f.ErrorCode == "" {
		f.ErrorCode = defaultFailCode(f.JobType)
	}
	if f.FailReason == "" {
		f.FailReason = "injected failure of " + f.JobType
	}
	e.st.JobFaults = append(e.st.JobFaults, f)
	return http.StatusOK, e.st.JobFaults, nil
}

func (e *Emulator) adminClearJobFaults(_ *http.Request, _ []byte) (int, any, error) {
	e.st.JobFaults = nil
	return http.StatusNoContent, nil, nil
}

func (e *Emulator) adminSetHTTPFaults(_ *http.Request, body []byte) (int, any, error) {
	var f HTTPFaults
	if err := decodeJSON(body, &f); err != nil {
		return 0, nil, err
	}
	f.Draws = 0
	if err := f.validate(); err != nil {
		return 0, nil, invalidParam("%v", err)
	}
	e.st.HTTPFaults = &f
	e.faultRNG = nil
	return http.StatusOK, f, nil
}

func (e *Emulator) adminClearHTTPFaults(_ *http.Request, _ []byte) (int, any, error) {
	e.st.HTTPFaults = nil
	e.faultRNG = nil
	return http.StatusNoContent, nil, nil
}

func (e *Emulator) adminAddAcceptError(_ *http.Request, body []byte) (int, any, error) {
	var f AcceptError
	if err := decodeJSON(body, &f); err != nil {
		return 0, nil, err
	}
	if err := f.validate(); err != nil {
		return 0, nil, invalidParam("%v", err)
	}
	e.st.AcceptErrors = append(e.st.AcceptErrors, f)
	return http.StatusOK, e.st.AcceptErrors, nil
}

func (e *Emulator) adminClearAcceptErrors(_ *http.Request, _ []byte) (int, any, error) {
	e.st.AcceptErrors = nil
	return http.StatusNoContent, nil, nil
}

// configView is GET and PUT /admin/config. accept_lag and
// job_not_found_for are shown in both profiles but apply only in the
// pessimistic one.
type configView struct {
	JobDuration    string `json:"job_duration"`
	SyncDuration   string `json:"sync_duration"`
	Profile        string `json:"profile"`
	AcceptLag      string `json:"accept_lag"`
	JobNotFoundFor string `json:"job_not_found_for"`
}

func (e *Emulator) configView() configView {
	return configView{e.jobDuration.String(), e.syncDuration.String(), e.profile, e.acceptLag.String(), e.jobNotFoundFor.String()}
}

func (e *Emulator) adminConfig(_ *http.Request, _ []byte) (int, any, error) {
	return http.StatusOK, e.configView(), nil
}

// adminSetConfig changes durations and the profile for jobs and syncs that
// start later; running jobs keep what they started with.
func (e *Emulator) adminSetConfig(_ *http.Request, body []byte) (int, any, error) {
	var b struct {
		JobDuration    *string `json:"job_duration"`
		SyncDuration   *string `json:"sync_duration"`
		Profile        *string `json:"profile"`
		AcceptLag      *string `json:"accept_lag"`
		JobNotFoundFor *string `json:"job_not_found_for"`
	}
	if err := decodeJSON(body, &b); err != nil {
		return 0, nil, err
	}
	parse := func(field string, v *string, dst *time.Duration) error {
		if v == nil {
			return nil
		}
		d, err := time.ParseDuration(*v)
		if err != nil || d < 0 {
			return invalidParam("%s must be a non-negative Go duration such as \"2s\"", field)
		}
		*dst = d
		return nil
	}
	jobD, syncD := e.jobDuration, e.syncDuration
	if err := parse("job_duration", b.JobDuration, &jobD); err != nil {
		return 0, nil, err
	}
	if err := parse("sync_duration", b.SyncDuration, &syncD); err != nil {
		return 0, nil, err
	}
	lag, notFound := e.acceptLag, e.jobNotFoundFor
	if err := parse("accept_lag", b.AcceptLag, &lag); err != nil {
		return 0, nil, err
	}
	if err := parse("job_not_found_for", b.JobNotFoundFor, &notFound); err != nil {
		return 0, nil, err
	}
	profile := e.profile
	if b.Profile != nil {
		profile = *b.Profile
		if err := checkProfile(profile); err != nil {
			return 0, nil, invalidParam("%v", err)
		}
	}
	e.jobDuration, e.syncDuration = jobD, syncD
	e.profile, e.acceptLag, e.jobNotFoundFor = profile, lag, notFound
	e.log.Info("configuration changed", "profile", profile, "job_duration", jobD, "sync_duration", syncD,
		"accept_lag", lag, "job_not_found_for", notFound)
	return http.StatusOK, e.configView(), nil
}

func (e *Emulator) adminAddServer(_ *http.Request, body []byte) (int, any, error) {
	var b struct {
		Name             string `json:"name"`
		AvailabilityZone string `json:"availability_zone"`
		OSType           string `json:"os_type"`
		ImageName        string `json:"image_name"`
		KeyName          string `json:"key_name"`
		Status           string `json:"status"`
		Flavor           string `json:"flavor"`
		VolumeSize       int    `json:"volume_size"`
	}
	if err := decodeJSON(body, &b); err != nil {
		return 0, nil, err
	}
	if b.Name == "" {
		b.Name = "server-" + newJobID()[:8]
	}
	if b.AvailabilityZone == "" {
		b.AvailabilityZone = DefaultSourceAZ
	}
	if b.Status == "" {
		b.Status = powerActive
	}
	os, err := newServerOS(b.OSType, b.ImageName, b.KeyName)
	if err != nil {
		return 0, nil, invalidParam("%v", err)
	}
	if err := checkPower("status", b.Status); err != nil {
		return 0, nil, invalidParam("%v", err)
	}
	s := e.addServer("", b.Name, b.AvailabilityZone, os, b.Status, b.Flavor)
	v := e.addVolume("", b.Name+"-sys", b.AvailabilityZone, b.VolumeSize, defaultVolumeType, true)
	return http.StatusOK, map[string]any{"id": s.ID, "volume_id": v.ID, "server": s}, nil
}

func (e *Emulator) adminSetServer(r *http.Request, body []byte) (int, any, error) {
	s := e.st.Servers[r.PathValue("id")]
	if s == nil {
		return 0, nil, ecsNotFound(r.PathValue("id"))
	}
	var b struct {
		Status *string `json:"status"`
	}
	if err := decodeJSON(body, &b); err != nil {
		return 0, nil, err
	}
	if b.Status == nil {
		return 0, nil, invalidParam("field %q is required", "status")
	}
	if err := checkPower("status", *b.Status); err != nil {
		return 0, nil, invalidParam("%v", err)
	}
	s.Status, s.TaskState, s.UpdatedAt = *b.Status, "", e.clock.Now()
	return http.StatusOK, s, nil
}

func (e *Emulator) adminAddVolume(_ *http.Request, body []byte) (int, any, error) {
	var b struct {
		Name             string `json:"name"`
		AvailabilityZone string `json:"availability_zone"`
		Size             int    `json:"size"`
		VolumeType       string `json:"volume_type"`
		Bootable         bool   `json:"bootable"`
	}
	if err := decodeJSON(body, &b); err != nil {
		return 0, nil, err
	}
	if b.AvailabilityZone == "" {
		b.AvailabilityZone = DefaultSourceAZ
	}
	if b.Name == "" {
		b.Name = "volume-" + newJobID()[:8]
	}
	v := e.addVolume("", b.Name, b.AvailabilityZone, b.Size, b.VolumeType, b.Bootable)
	return http.StatusOK, v, nil
}

// adminSetGroup forces a group's replication state (it then syncs again)
// and, for tests of odd states, its status, protected_status or
// priority_station.
func (e *Emulator) adminSetGroup(r *http.Request, body []byte) (int, any, error) {
	g := e.st.Groups[r.PathValue("id")]
	if g == nil {
		return 0, nil, badRequest(codeGroupNotFound, "protection group %s not found", r.PathValue("id"))
	}
	var b struct {
		ReplicationStatus *string `json:"replication_status"`
		Progress          *int    `json:"progress"`
		Status            *string `json:"status"`
		ProtectedStatus   *string `json:"protected_status"`
		PriorityStation   *string `json:"priority_station"`
	}
	if err := decodeJSON(body, &b); err != nil {
		return 0, nil, err
	}
	if b.Progress != nil && (*b.Progress < 0 || *b.Progress > 100) {
		return 0, nil, invalidParam("progress must be within 0..100")
	}
	if b.PriorityStation != nil && *b.PriorityStation != stationSource && *b.PriorityStation != stationTarget {
		return 0, nil, invalidParam("priority_station must be source or target")
	}
	if b.ProtectedStatus != nil && *b.ProtectedStatus != protectedStarted && *b.ProtectedStatus != protectedStopped && *b.ProtectedStatus != "" {
		return 0, nil, invalidParam("protected_status must be started, stopped or empty (null)")
	}
	if b.Status != nil && !slices.Contains(groupStatuses, *b.Status) {
		return 0, nil, invalidParam("status must be one of %v", groupStatuses)
	}
	if b.ReplicationStatus != nil {
		progress := e.progress(g)
		if b.Progress != nil {
			progress = *b.Progress
		}
		switch *b.ReplicationStatus {
		case replCopying:
			e.startSync(g, min(progress, 99))
		case replActive:
			e.setSync(g, replActive, 100)
		case replActiveStopped, "inactive":
			e.setSync(g, *b.ReplicationStatus, progress)
		case "":
			e.setSync(g, "", 0)
		default:
			return 0, nil, invalidParam("replication_status must be copying, active, active-stopped, inactive or empty (null)")
		}
	}
	if b.Status != nil {
		e.cascade(g, *b.Status)
	}
	if b.ProtectedStatus != nil {
		g.ProtectedStatus = *b.ProtectedStatus
	}
	if b.PriorityStation != nil {
		g.PriorityStation = *b.PriorityStation
	}
	g.UpdatedAt = e.clock.Now()
	return http.StatusOK, e.groupView(g), nil
}

// groupStatuses is every protection-group status (sdrs-api.md §6.1).
var groupStatuses = []string{
	statusCreating, statusAvailable, statusProtected, statusDeleting, statusErrorDeleting, statusError,
	statusStarting, statusErrorStarting, statusReprotecting, statusErrorReprotecting, statusStopping,
	statusErrorStopping, statusReversing, statusErrorReversing, statusFailingOver, statusFailedOver,
	statusErrorFailingOver,
}

// instanceStatuses is every protected-instance status (sdrs-api.md §6.3).
var instanceStatuses = []string{
	statusCreating, statusAvailable, statusDeleting, statusErrorDeleting, statusError, statusNICCreating,
	statusNICDeleting, statusStarting, statusErrorStarting, statusProtected, statusReversing,
	statusFailingOver, statusFailedOver, statusReprotecting, statusStopping, statusErrorStopping,
	statusErrorReversing, statusErrorFailingOver, statusErrorReprotecting, statusResizing,
	statusErrorResizing, statusInvalid, statusFault,
}

// replicationStatuses is every replication-pair status (sdrs-api.md §6.3).
var replicationStatuses = []string{
	statusCreating, statusAvailable, statusDeleting, statusErrorDeleting, statusError, statusExtending,
	statusErrorExtending, statusStarting, statusErrorStarting, statusProtected, statusReversing,
	statusFailingOver, statusFailedOver, statusReprotecting, statusStopping, statusErrorStopping,
	statusErrorReversing, statusErrorFailingOver, statusErrorReprotecting, statusInvalid, statusFault,
	statusAttaching, statusDetaching, statusErrorAttaching, statusErrorDetaching,
}

// faultLevels are the replication-pair fault levels (sdrs-api.md §6.3):
// "0" none, "2" production disk unusable (failover advised), "5"
// replication link broken (failover not allowed).
var faultLevels = []string{"0", "2", "5"}

// adminSetInstance forces a protected instance's status, e.g. invalid (a
// server was deleted) or fault (replication abnormal); it stays until a
// group action cascades over it or it is set again.
func (e *Emulator) adminSetInstance(r *http.Request, body []byte) (int, any, error) {
	in := e.st.Instances[r.PathValue("id")]
	if in == nil {
		return 0, nil, badRequest(codeInstanceNotFound, "Invalid protected instance ID: %s not found", r.PathValue("id"))
	}
	var b struct {
		Status *string `json:"status"`
	}
	if err := decodeJSON(body, &b); err != nil {
		return 0, nil, err
	}
	if b.Status == nil || !slices.Contains(instanceStatuses, *b.Status) {
		return 0, nil, invalidParam("status must be one of %v", instanceStatuses)
	}
	in.Status, in.UpdatedAt = *b.Status, e.clock.Now()
	return http.StatusOK, e.instanceView(in), nil
}

// adminSetReplication forces a replication pair's status, its fault_level
// (an empty string returns it to the value the zones give) and whether it
// counts in ListRpoStatistics as over its RPO (null: only while its
// group's copy is not current).
func (e *Emulator) adminSetReplication(r *http.Request, body []byte) (int, any, error) {
	rep := e.st.Replications[r.PathValue("id")]
	if rep == nil {
		return 0, nil, badRequest(codeReplicationNotFound, "replication pair %s not found", r.PathValue("id"))
	}
	var b struct {
		Status      *string         `json:"status"`
		FaultLevel  *string         `json:"fault_level"`
		RPOExceeded json.RawMessage `json:"rpo_exceeded"`
	}
	if err := decodeJSON(body, &b); err != nil {
		return 0, nil, err
	}
	if b.Status != nil && !slices.Contains(replicationStatuses, *b.Status) {
		return 0, nil, invalidParam("status must be one of %v", replicationStatuses)
	}
	if b.FaultLevel != nil && *b.FaultLevel != "" && !slices.Contains(faultLevels, *b.FaultLevel) {
		return 0, nil, invalidParam("fault_level must be one of %v or \"\" (computed)", faultLevels)
	}
	var rpo *bool
	if len(b.RPOExceeded) > 0 && string(b.RPOExceeded) != "null" {
		if err := json.Unmarshal(b.RPOExceeded, &rpo); err != nil {
			return 0, nil, invalidParam("rpo_exceeded must be true, false or null")
		}
	}
	if b.Status != nil {
		rep.Status = *b.Status
	}
	if b.FaultLevel != nil {
		rep.FaultLevel = *b.FaultLevel
	}
	if b.RPOExceeded != nil {
		rep.RPOExceeded = rpo
	}
	rep.UpdatedAt = e.clock.Now()
	return http.StatusOK, e.replicationView(rep), nil
}

// adminVPCs lists the drill VPCs, those SDRS created and those drills
// named, in creation order; they stay after their drills are deleted.
func (e *Emulator) adminVPCs(_ *http.Request, _ []byte) (int, any, error) {
	return http.StatusOK, sortedBySeq(e.st.VPCs), nil
}
