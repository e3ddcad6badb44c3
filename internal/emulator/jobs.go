package emulator

import (
	"net/http"
	"time"
)

// Job statuses (SDK ShowJobStatusResponseStatusEnum and ECS ShowJobResponseStatusEnum).
const (
	jobInit    = "INIT"
	jobRunning = "RUNNING"
	jobSuccess = "SUCCESS"
	jobFail    = "FAIL"
)

// Which API a job belongs to: SDRS and ECS serve the same /jobs/{id} path on
// different listeners and must not see each other's jobs.
const (
	jobKindSDRS = "sdrs"
	jobKindECS  = "ecs"
)

// Job types (sdrs-api.md §4; ECS types and the batch PI types are the
// emulator's choice, see docs/emulator.md).
const (
	jobCreateGroup          = "createProtectionGroupNoCG"
	jobDeleteGroup          = "deleteProtectionGroupNoCG"
	jobStartGroup           = "startProtectionGroupNoCG"
	jobReprotectGroup       = "reprotectProtectionGroupNoCG"
	jobStopGroup            = "stopProtectionGroupNoCG"
	jobFailoverGroup        = "failoverProtectionGroupNoCG"
	jobReverseGroup         = "reverseProtectionGroupNoCG"
	jobCreateInstance       = "createProtectedInstanceNoCG"
	jobDeleteInstance       = "deleteProtectedInstanceNoCG"
	jobBatchCreateInstances = "batchCreateProtectedInstancesNoCG"
	jobBatchDeleteInstances = "batchDeleteProtectedInstancesNoCG"
	jobAttachReplication    = "attachReplicationPairNew"
	jobDetachReplication    = "detachReplicationPairNew"
	jobAddNIC               = "addNicNew"
	jobDeleteNIC            = "deleteNicNew"
	jobResizeInstance       = "resizeProtectedInstanceNew"
	jobCreateReplication    = "createReplicationPairNoCG"
	jobDeleteReplication    = "deleteReplicationPairNoCG"
	jobExpandReplication    = "expandReplicationPairNew"
	jobCreateDrill          = "createDisasterRecoveryDrill"
	jobDeleteDrill          = "deleteDisasterRecoveryDrill"
	jobECSStopServers       = "batchStopServers"
	jobECSStartServers      = "batchStartServers"
	jobECSStopServer        = "stopServer"
	jobECSStartServer       = "startServer"
)

// Job is an asynchronous SDRS or ECS operation. It is INIT for the first
// tenth of Duration, then RUNNING, and SUCCESS or FAIL at Begin+Duration,
// when its effect is applied. A deferred job (a group action in the
// pessimistic profile) is INIT for AcceptLag without touching the group,
// then takes effect (or fails, if its preconditions no longer hold), runs
// for Duration and ends at Begin+AcceptLag+Duration.
type Job struct {
	ID         string        `json:"id"`
	Seq        int64         `json:"seq"`
	Kind       string        `json:"kind"`
	Type       string        `json:"type"`
	Status     string        `json:"status"`
	Begin      time.Time     `json:"begin"`
	Duration   time.Duration `json:"duration"`
	End        time.Time     `json:"end,omitzero"`
	ErrorCode  string        `json:"error_code,omitempty"`
	FailReason string        `json:"fail_reason,omitempty"`
	Entities   JobEntities   `json:"entities"`
	SubJobs    []SubJob      `json:"sub_jobs,omitempty"`
	Params     JobParams     `json:"params"`
	// Planned is an injected failure taken from the job faults at creation.
	Planned *JobFault `json:"planned,omitempty"`
	// Resource names what a failed job was about, for the task center.
	Resource *FailedResource `json:"resource,omitempty"`

	// Profile is the profile the job was created under ("" is default);
	// it decides what a failure does to the group, so a job resumed by an
	// emulator started with another profile ends as it began.
	Profile string `json:"profile,omitempty"`
	// AcceptLag is how long the job stays INIT before it takes effect.
	AcceptLag time.Duration `json:"accept_lag,omitempty"`
	// Deferred is true while the job has accepted but not yet applied its
	// action: it re-checks the action's preconditions when it leaves INIT.
	Deferred bool `json:"deferred,omitempty"`
	// NotFoundFor is how long after Begin GET /jobs/{id} answers as for
	// an unknown job.
	NotFoundFor time.Duration `json:"not_found_for,omitempty"`
}

// JobEntities are the resource IDs a job reports.
type JobEntities struct {
	ServerGroupID       string `json:"server_group_id,omitempty"`
	ProtectedInstanceID string `json:"protected_instance_id,omitempty"`
	ReplicationPairID   string `json:"replication_pair_id,omitempty"`
	DrillID             string `json:"disaster_recovery_drill_id,omitempty"`
	VolumeIDs           string `json:"volume_ids,omitempty"`
	NativeServerID      string `json:"native_server_id,omitempty"`
	NICID               string `json:"nic_id,omitempty"`
	ServerID            string `json:"server_id,omitempty"`
}

// SubJob is one part of a job (one replication pair, one server). It shows
// its parent's status until the parent ends.
type SubJob struct {
	ID         string      `json:"id"`
	Type       string      `json:"type"`
	Entities   JobEntities `json:"entities"`
	Status     string      `json:"status,omitempty"`
	ErrorCode  string      `json:"error_code,omitempty"`
	FailReason string      `json:"fail_reason,omitempty"`
}

// JobParams carries what the job does when it ends.
type JobParams struct {
	GroupID          string   `json:"group_id,omitempty"`
	InstanceIDs      []string `json:"instance_ids,omitempty"`
	ReplicationID    string   `json:"replication_id,omitempty"`
	DrillID          string   `json:"drill_id,omitempty"`
	ServerIDs        []string `json:"server_ids,omitempty"`
	Station          string   `json:"station,omitempty"`
	NICID            string   `json:"nic_id,omitempty"`
	SubnetID         string   `json:"subnet_id,omitempty"`
	IPAddress        string   `json:"ip_address,omitempty"`
	DeleteTarget     bool     `json:"delete_target,omitempty"`
	ProductionFlavor string   `json:"production_flavor,omitempty"`
	DRFlavor         string   `json:"dr_flavor,omitempty"`
	NewSize          int      `json:"new_size,omitempty"`
	// DRFlavors maps new instances to the flavor of their DR server.
	DRFlavors map[string]string `json:"dr_flavors,omitempty"`
	Device    string            `json:"device,omitempty"`
	// ProductionAZ is where production ran when a planned failover started.
	ProductionAZ string `json:"production_az,omitempty"`
	// Group is the group a deferred create adds when it leaves INIT.
	Group *Group `json:"group,omitempty"`
	// PriorStatus and PriorMembers (instance and replication pair IDs)
	// are the statuses before a pessimistic-profile group job took effect;
	// a failure restores them.
	PriorStatus  string            `json:"prior_status,omitempty"`
	PriorMembers map[string]string `json:"prior_members,omitempty"`
}

// FailedResource is the task-center view of what a failed job touched.
type FailedResource struct {
	ID      string `json:"id"`
	Name    string `json:"name"`
	Type    string `json:"type"`
	GroupID string `json:"group_id,omitempty"`
}

// jobEffect applies a job's outcome to the state. failure is the job's
// failure or nil; an effect may itself decide the job fails (a stopped AZ)
// by returning a failure.
type jobEffect func(e *Emulator, j *Job, failure *JobFault) *JobFault

// jobEffects maps each job type to its effect; each resource file supplies
// its own.
var jobEffects map[string]jobEffect

func init() {
	jobEffects = map[string]jobEffect{
		jobCreateGroup:          (*Emulator).endCreateGroup,
		jobDeleteGroup:          (*Emulator).endDeleteGroup,
		jobStartGroup:           (*Emulator).endGroupAction,
		jobReprotectGroup:       (*Emulator).endGroupAction,
		jobStopGroup:            (*Emulator).endGroupAction,
		jobReverseGroup:         (*Emulator).endGroupAction,
		jobFailoverGroup:        (*Emulator).endGroupAction,
		jobCreateInstance:       (*Emulator).endCreateInstances,
		jobBatchCreateInstances: (*Emulator).endCreateInstances,
		jobDeleteInstance:       (*Emulator).endDeleteInstances,
		jobBatchDeleteInstances: (*Emulator).endDeleteInstances,
		jobAttachReplication:    (*Emulator).endAttach,
		jobDetachReplication:    (*Emulator).endDetach,
		jobAddNIC:               (*Emulator).endAddNIC,
		jobDeleteNIC:            (*Emulator).endDeleteNIC,
		jobResizeInstance:       (*Emulator).endResize,
		jobCreateReplication:    (*Emulator).endCreateReplication,
		jobDeleteReplication:    (*Emulator).endDeleteReplication,
		jobExpandReplication:    (*Emulator).endExpandReplication,
		jobCreateDrill:          (*Emulator).endCreateDrill,
		jobDeleteDrill:          (*Emulator).endDeleteDrill,
		jobECSStopServers:       (*Emulator).endServerPower,
		jobECSStartServers:      (*Emulator).endServerPower,
	}
}

// newJob registers and schedules a job. Caller holds e.mu and fills
// SubJobs before releasing it.
func (e *Emulator) newJob(kind, jobType string, entities JobEntities, params JobParams) *Job {
	return e.addJob(kind, jobType, entities, params, false)
}

// acceptJob starts an SDRS job and answers the call with its ID.
func (e *Emulator) acceptJob(c *call, jobType string, entities JobEntities, params JobParams) error {
	return c.accepted(e.newJob(jobKindSDRS, jobType, entities, params))
}

// acceptBatchJob starts an SDRS job with one sub-job of subType per
// entry of subs and answers the call with its ID.
func (e *Emulator) acceptBatchJob(c *call, jobType string, entities JobEntities, params JobParams, subType string, subs []JobEntities) error {
	j := e.newJob(jobKindSDRS, jobType, entities, params)
	for _, s := range subs {
		j.addSubJob(subType, s)
	}
	return c.accepted(j)
}

// accepted answers an asynchronous call with its job's ID.
func (c *call) accepted(j *Job) error {
	return c.ok(http.StatusOK, jobIDReply{JobID: j.ID})
}

// newGroupJob registers and schedules the job of a group create, delete or
// action. In the pessimistic profile with an accept lag it is Deferred:
// the caller must then leave the group as it is (startDeferred applies the
// action when the job leaves INIT); otherwise the caller applies it at
// once, as it always did.
func (e *Emulator) newGroupJob(jobType string, entities JobEntities, params JobParams) *Job {
	return e.addJob(jobKindSDRS, jobType, entities, params, true)
}

func (e *Emulator) addJob(kind, jobType string, entities JobEntities, params JobParams, groupJob bool) *Job {
	j := &Job{
		ID:       newJobID(),
		Seq:      e.st.nextSeq(),
		Kind:     kind,
		Type:     jobType,
		Status:   jobInit,
		Begin:    e.clock.Now(),
		Duration: e.jobDuration,
		Entities: entities,
		Params:   params,
		Planned:  e.takeJobFault(jobType),
	}
	if kind == jobKindSDRS && e.profile == ProfilePessimistic {
		j.Profile = ProfilePessimistic
		j.NotFoundFor = e.jobNotFoundFor
		if groupJob && e.acceptLag > 0 {
			j.AcceptLag, j.Deferred = e.acceptLag, true
		}
	}
	e.st.Jobs[j.ID] = j
	e.scheduleJob(j)
	return j
}

// addSubJob appends a sub-job of the given type and entities.
func (j *Job) addSubJob(jobType string, entities JobEntities) {
	j.SubJobs = append(j.SubJobs, SubJob{ID: newJobID(), Type: jobType, Entities: entities})
}

func (j *Job) done() bool { return j.Status == jobSuccess || j.Status == jobFail }

// scheduleJob arms the timers that move the job to RUNNING and to its end,
// measured from its begin time so a reloaded job resumes where it was (or
// ends at once if overdue).
func (e *Emulator) scheduleJob(j *Job) {
	if j.done() {
		return
	}
	now := e.clock.Now()
	runningAt := j.Begin.Add(j.Duration / 10)
	if j.AcceptLag > 0 {
		runningAt = j.Begin.Add(j.AcceptLag)
	}
	if j.Status == jobInit {
		if now.Before(runningAt) {
			e.after("job-run/"+j.ID, runningAt.Sub(now), func() { e.runJob(j) })
		} else {
			e.runJob(j)
		}
	}
	if j.done() {
		return
	}
	e.after("job-end/"+j.ID, max(j.Begin.Add(j.AcceptLag+j.Duration).Sub(now), 0), func() { e.finishJob(j) })
}

// runJob moves a job from INIT to RUNNING; a deferred job takes effect
// now, or ends FAIL at once when its action is no longer allowed.
// Caller holds e.mu.
func (e *Emulator) runJob(j *Job) {
	if j.Status != jobInit {
		return
	}
	if j.Deferred {
		j.Deferred = false
		if f := e.startDeferred(j); f != nil {
			e.cancel("job-end/" + j.ID)
			e.endJob(j, f)
			return
		}
	}
	j.Status = jobRunning
}

// finishJob ends a job: applies its effect and records the outcome.
// Caller holds e.mu.
func (e *Emulator) finishJob(j *Job) {
	if j.done() {
		return
	}
	if j.Deferred {
		// Both timers fell due together (a zero job duration) and the
		// end came first: take effect now.
		e.runJob(j)
		if j.done() {
			return
		}
	}
	failure := j.Planned
	if effect := jobEffects[j.Type]; effect != nil {
		failure = effect(e, j, failure)
	}
	e.endJob(j, failure)
}

// endJob records a job's outcome (SUCCESS when failure is nil); a failed
// SDRS job goes to the task center. Caller holds e.mu.
func (e *Emulator) endJob(j *Job, failure *JobFault) {
	j.End = e.clock.Now()
	if failure == nil {
		j.Status = jobSuccess
		for i := range j.SubJobs {
			if j.SubJobs[i].Status == "" {
				j.SubJobs[i].Status = jobSuccess
			}
		}
		return
	}
	j.Status = jobFail
	j.ErrorCode = failure.ErrorCode
	j.FailReason = failure.FailReason
	for i := range j.SubJobs {
		if j.SubJobs[i].Status == "" {
			j.SubJobs[i].Status = jobFail
			j.SubJobs[i].ErrorCode = failure.ErrorCode
			j.SubJobs[i].FailReason = failure.FailReason
		}
	}
	if j.Kind == jobKindSDRS {
		j.Resource = e.failedResource(j)
		e.st.FailureJobs = append(e.st.FailureJobs, j.ID)
	}
	e.log.Info("job failed", "job_id", j.ID, "job_type", j.Type, "error_code", j.ErrorCode)
}

// hidden reports whether GET /jobs/{id} still answers as for an unknown
// job (the pessimistic profile's first seconds of a job).
func (e *Emulator) hidden(j *Job) bool {
	return j.NotFoundFor > 0 && e.clock.Now().Before(j.Begin.Add(j.NotFoundFor))
}

// failure returns the planned failure or, if none, a failure with the
// job type's own code, used when the emulated world makes a job fail.
func failure(planned *JobFault, code, reason string) *JobFault {
	if planned != nil {
		return planned
	}
	return &JobFault{ErrorCode: code, FailReason: reason, Count: 1}
}

// after arms a named timer whose callback runs under e.mu and is followed by
// a state save. Caller holds e.mu.
func (e *Emulator) after(name string, d time.Duration, f func()) {
	if old, ok := e.timers[name]; ok {
		old.Stop()
	}
	var t Timer
	t = e.clock.AfterFunc(d, func() {
		e.mu.Lock()
		defer e.mu.Unlock()
		if e.closed || e.timers[name] != t {
			return
		}
		delete(e.timers, name)
		f()
		_ = e.saveLocked() // logged inside; a timer has no caller to tell
	})
	e.timers[name] = t
}

// cancel stops a named timer. Caller holds e.mu.
func (e *Emulator) cancel(name string) {
	if t, ok := e.timers[name]; ok {
		t.Stop()
		delete(e.timers, name)
	}
}

// showJob answers GET /jobs/{id}. An unknown ID is HTTP 400 SDRS.0201,
// like every other SDRS lookup failure (the service's answer is not
// documented); so is a job younger than its NotFoundFor.
func (e *Emulator) showJob(c *call) error {
	j := e.st.Jobs[c.params["job_id"]]
	if j == nil || j.Kind != jobKindSDRS {
		return invalidParam("job %s not found", c.params["job_id"])
	}
	if e.hidden(j) {
		// Pessimistic profile: a new job is not readable yet. The answer
		// is the unknown job's; only the call log knows the group.
		c.groupID = j.Entities.ServerGroupID
		return invalidParam("job %s not found", c.params["job_id"])
	}
	c.groupID = j.Entities.ServerGroupID
	return c.ok(http.StatusOK, sdrsJobViewOf(j))
}
