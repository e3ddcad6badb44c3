package v1alpha1

import (
	batchv1 "k8s.io/api/batch/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
)

// PlanPhase is where a plan's run, or one of its waves, is.
// +kubebuilder:validation:Enum=Pending;Running;WaitingForApproval;Blocked;Succeeded;Failed;Aborted
type PlanPhase string

const (
	// PlanPending: recorded, nothing started yet.
	PlanPending PlanPhase = "Pending"
	// PlanRunning: steps or members are moving.
	PlanRunning PlanPhase = "Running"
	// PlanWaitingForApproval: an approval step waits for a decision.
	PlanWaitingForApproval PlanPhase = "WaitingForApproval"
	// PlanBlocked: a failed member (onMemberFailure Stop), a failed step or
	// an expired approval waits for a decision: Retry, Skip or Abort.
	PlanBlocked PlanPhase = "Blocked"
	// PlanSucceeded: every member reached the site (or was skipped) and
	// every step passed.
	PlanSucceeded PlanPhase = "Succeeded"
	// PlanFailed: the run ended with failed members (onMemberFailure
	// Continue).
	PlanFailed PlanPhase = "Failed"
	// PlanAborted: a person aborted the run, or a new desiredActiveSite
	// superseded it; members already moved stay where they are.
	PlanAborted PlanPhase = "Aborted"
)

// Finished says whether a run in this phase is over.
func (p PlanPhase) Finished() bool {
	return p == PlanSucceeded || p == PlanFailed || p == PlanAborted
}

// PlanRunMode says what a run does to its members.
// +kubebuilder:validation:Enum=Failover;Drill
type PlanRunMode string

const (
	// PlanModeFailover moves members' spec.desiredActiveSite.
	PlanModeFailover PlanRunMode = "Failover"
	// PlanModeDrill creates one ProtectionGroupDrill per member; nothing moves.
	PlanModeDrill PlanRunMode = "Drill"
)

// MemberFailurePolicy says what a failed member does to its run.
// +kubebuilder:validation:Enum=Stop;Continue
type MemberFailurePolicy string

const (
	// MemberFailureStop blocks the run until a decision (Retry, Skip, Abort).
	MemberFailureStop MemberFailurePolicy = "Stop"
	// MemberFailureContinue counts the failure and goes on; the run ends Failed.
	MemberFailureContinue MemberFailurePolicy = "Continue"
)

// DecisionAction is what a person decided.
// +kubebuilder:validation:Enum=Approve;Retry;Skip;Abort
type DecisionAction string

const (
	// DecisionApprove passes an approval step.
	DecisionApprove DecisionAction = "Approve"
	// DecisionRetry runs a failed step or member again; with neither, it
	// starts a new run after a finished one.
	DecisionRetry DecisionAction = "Retry"
	// DecisionSkip passes a failed or waiting step or member.
	DecisionSkip DecisionAction = "Skip"
	// DecisionAbort ends the run; moved members stay moved (SDRS has no undo).
	DecisionAbort DecisionAction = "Abort"
)

// StepPhase is where a pre- or post-step is.
// +kubebuilder:validation:Enum=Pending;Running;WaitingForApproval;Succeeded;Failed;Skipped
type StepPhase string

const (
	StepPending            StepPhase = "Pending"
	StepRunning            StepPhase = "Running"
	StepWaitingForApproval StepPhase = "WaitingForApproval"
	StepSucceeded          StepPhase = "Succeeded"
	StepFailed             StepPhase = "Failed"
	StepSkipped            StepPhase = "Skipped"
)

// ApprovalStep waits for an Approve decision.
type ApprovalStep struct {
	// Message tells the approver what to confirm.
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=1024
	Message string `json:"message"`
	// Timeout: an approval not given by then blocks the run (Stalled)
	// until a Retry (wait again), Skip or Abort. Unset waits for ever.
	// +optional
	Timeout *metav1.Duration `json:"timeout,omitempty"`
}

// WaitStep pauses the run.
type WaitStep struct {
	// Duration to wait.
	// +required
	Duration metav1.Duration `json:"duration"`
}

// JobStep runs a Kubernetes Job and waits for it to succeed.
type JobStep struct {
	// Template of the Job. It is named after the plan, run, wave, step
	// and attempt, so a restarted operator never creates two. Every
	// container gets SDRS_PLAN, SDRS_RUN_ID, SDRS_RUN_MODE, SDRS_TO_SITE and
	// SDRS_WAVE in its environment.
	// +required
	// +kubebuilder:validation:Schemaless
	// +kubebuilder:pruning:PreserveUnknownFields
	// +kubebuilder:validation:Type=object
	Template batchv1.JobTemplateSpec `json:"template"`
	// Timeout of the Job; a Job still running then fails the step.
	// +optional
	// +kubebuilder:default="30m"
	Timeout *metav1.Duration `json:"timeout,omitempty"`
}

// PlanStep is one gate before or after a wave's members move: exactly one
// of approval, wait or job.
// +kubebuilder:validation:XValidation:rule="[has(self.approval), has(self.wait), has(self.job)].filter(x, x).size() == 1",message="a step is exactly one of approval, wait or job"
type PlanStep struct {
	// Name of the step, unique in its wave; decisions name it as
	// <wave>/<step>.
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=40
	// +kubebuilder:validation:Pattern=`^[a-z0-9]([-a-z0-9]*[a-z0-9])?$`
	Name string `json:"name"`
	// Approval waits for an Approve decision.
	// +optional
	Approval *ApprovalStep `json:"approval,omitempty"`
	// Wait pauses for a duration.
	// +optional
	Wait *WaitStep `json:"wait,omitempty"`
	// Job runs a Job to completion.
	// +optional
	Job *JobStep `json:"job,omitempty"`
}

// PlanWave is one ordered step of a plan: its members move together,
// between its pre- and post-steps.
// +kubebuilder:validation:XValidation:rule="(!has(self.preSteps) || self.preSteps.all(p, self.preSteps.exists_one(q, q.name == p.name) && (!has(self.postSteps) || !self.postSteps.exists(q, q.name == p.name)))) && (!has(self.postSteps) || self.postSteps.all(p, self.postSteps.exists_one(q, q.name == p.name)))",message="step names must be unique in a wave (preSteps and postSteps together): decisions name steps as <wave>/<step>"
type PlanWave struct {
	// Name of the wave, unique in the plan.
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=40
	// +kubebuilder:validation:Pattern=`^[a-z0-9]([-a-z0-9]*[a-z0-9])?$`
	Name string `json:"name"`
	// Selector picks this wave's members among the plan's. Every member
	// of the plan must be in exactly one wave.
	// +required
	Selector metav1.LabelSelector `json:"selector"`
	// MaxConcurrent bounds the members moving at once: a number, or a
	// percentage of the wave's members (rounded up). Default: all.
	// +optional
	// +kubebuilder:validation:XIntOrString
	// +kubebuilder:validation:MaxLength=4
	// +kubebuilder:validation:XValidation:rule="type(self) == int ? self >= 1 : self.matches('^([1-9][0-9]?|100)%$')",message="maxConcurrent is a number of at least 1 or a percentage from 1% to 100%"
	MaxConcurrent *intstr.IntOrString `json:"maxConcurrent,omitempty"`
	// MemberTimeout: a member not done this long after the plan moved it
	// counts as failed. Default 1h.
	// +optional
	// +kubebuilder:default="1h"
	MemberTimeout *metav1.Duration `json:"memberTimeout,omitempty"`
	// OnMemberFailure: Stop (default) blocks the run until a decision;
	// Continue counts the failure and goes on.
	// +optional
	// +kubebuilder:default=Stop
	OnMemberFailure MemberFailurePolicy `json:"onMemberFailure,omitempty"`
	// PreSteps run in order before the wave's members move.
	// +optional
	// +listType=atomic
	// +kubebuilder:validation:MaxItems=10
	PreSteps []PlanStep `json:"preSteps,omitempty"`
	// PostSteps run in order once every member of the wave is done.
	// +optional
	// +listType=atomic
	// +kubebuilder:validation:MaxItems=10
	PostSteps []PlanStep `json:"postSteps,omitempty"`
}

// PlanDecision is a person's answer to a run: an approval, a retry, a
// skip or an abort. Each is used once in its run; the record of its use
// is in status.run.decisions.
// +kubebuilder:validation:XValidation:rule="!(has(self.step) && has(self.member))",message="a decision names a step or a member, not both"
// +kubebuilder:validation:XValidation:rule="self.action != 'Approve' || has(self.step)",message="Approve names the approval step as <wave>/<step>"
// +kubebuilder:validation:XValidation:rule="self.action != 'Skip' || has(self.step) || has(self.member)",message="Skip names a step (<wave>/<step>) or a member"
// +kubebuilder:validation:XValidation:rule="self.action != 'Abort' || (!has(self.step) && !has(self.member))",message="Abort ends the whole run: name neither a step nor a member"
type PlanDecision struct {
	// Run the decision is for (status.run.id, e.g. r-0003).
	// +required
	// +kubebuilder:validation:Pattern=`^r-[0-9]{4,}$`
	Run string `json:"run"`
	// Step the decision is for, as <wave>/<step>.
	// +optional
	// +kubebuilder:validation:Pattern=`^[a-z0-9]([-a-z0-9]*[a-z0-9])?/[a-z0-9]([-a-z0-9]*[a-z0-9])?$`
	// +kubebuilder:validation:MaxLength=81
	Step string `json:"step,omitempty"`
	// Member (a ProtectionGroup's name) the decision is for.
	// +optional
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=253
	Member string `json:"member,omitempty"`
	// Action: Approve, Retry, Skip or Abort.
	// +required
	Action DecisionAction `json:"action"`
	// Note for the audit: who decided and why.
	// +optional
	// +kubebuilder:validation:MaxLength=1024
	Note string `json:"note,omitempty"`
}

// PlanDrill asks for a drill run: the same waves create one
// ProtectionGroupDrill per member instead of moving it.
type PlanDrill struct {
	// Request is a token; a new value starts a drill run, the same value
	// does nothing.
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=63
	Request string `json:"request"`
	// TTL of each member's drill (spec.ttl of the drills). Default 4h.
	// +optional
	TTL *metav1.Duration `json:"ttl,omitempty"`
	// DrillVpcID of every member's drill (spec.drillVpcID).
	// +optional
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=64
	DrillVpcID string `json:"drillVpcID,omitempty"`
}

// DRPlanSpec declares where a fleet of ProtectionGroups should run, and in
// which order, with which gates, they get there.
// +kubebuilder:validation:XValidation:rule="!has(self.failoverMode) || !(self.failoverMode in ['Forced', 'Auto']) || (has(self.allowDataLoss) && self.allowDataLoss)",message="failoverMode Forced and Auto may lose data written since the last replication (up to the RPO): set allowDataLoss: true to accept that"
type DRPlanSpec struct {
	// Selector picks the plan's members: ProtectionGroups in this namespace.
	// +required
	Selector metav1.LabelSelector `json:"selector"`

	// DesiredActiveSite is where every member should run: source or
	// target. Unset, the plan is armed: it is evaluated, nothing moves.
	// +optional
	DesiredActiveSite Site `json:"desiredActiveSite,omitempty"`

	// FailoverMode, when set, is written to each member with its site.
	// +optional
	FailoverMode FailoverMode `json:"failoverMode,omitempty"`

	// AllowDataLoss, with failoverMode, is written to each member; Forced
	// and Auto need it.
	// +optional
	AllowDataLoss bool `json:"allowDataLoss,omitempty"`

	// Waves move the members in order: wave k+1 starts when wave k's
	// members are done and its post-steps passed.
	// +required
	// +listType=map
	// +listMapKey=name
	// +kubebuilder:validation:MinItems=1
	// +kubebuilder:validation:MaxItems=20
	Waves []PlanWave `json:"waves"`

	// Decisions are people's answers to runs (approve, retry, skip,
	// abort); each is used once. They can come from Git or from
	// kubectl sdrs plan.
	// +optional
	// +listType=atomic
	// +kubebuilder:validation:MaxItems=200
	Decisions []PlanDecision `json:"decisions,omitempty"`

	// Suspend starts nothing new; what is in flight finishes.
	// +optional
	Suspend bool `json:"suspend,omitempty"`

	// RTO is the target duration of a run; each run's measured duration
	// is reported against it.
	// +optional
	RTO *metav1.Duration `json:"rto,omitempty"`

	// Drill, with a new request token, runs the waves as a drill.
	// +optional
	Drill *PlanDrill `json:"drill,omitempty"`
}

// PlanCounts counts a wave's members by state.
type PlanCounts struct {
	// Total members in the wave.
	Total int32 `json:"total"`
	// Pending: not started yet (includes members claimed by another plan's run).
	Pending int32 `json:"pending"`
	// InProgress: moved (or drilled) by this run, not done yet.
	InProgress int32 `json:"inProgress"`
	// Succeeded: done in this run.
	Succeeded int32 `json:"succeeded"`
	// Failed: failed in this run and not skipped.
	Failed int32 `json:"failed"`
	// Skipped: already at the site when the wave started, or skipped by a decision.
	Skipped int32 `json:"skipped"`
}

// MemberFailure is one failed member of a wave.
type MemberFailure struct {
	// Member is the ProtectionGroup.
	// +required
	Member string `json:"member"`
	// Reason: the member's Stalled reason, or MemberTimeout.
	// +required
	Reason string `json:"reason"`
	// Message from the member.
	// +optional
	// +kubebuilder:validation:MaxLength=1024
	Message string `json:"message,omitempty"`
	// At is when the plan saw the failure.
	// +optional
	At *metav1.Time `json:"at,omitempty"`
}

// PlanStepStatus is one step's state in a run.
type PlanStepStatus struct {
	// Name of the step.
	// +required
	Name string `json:"name"`
	// Stage: Pre or Post.
	// +required
	// +kubebuilder:validation:Enum=Pre;Post
	Stage string `json:"stage"`
	// Type: approval, wait or job.
	// +required
	// +kubebuilder:validation:Enum=approval;wait;job
	Type string `json:"type"`
	// Phase of the step.
	// +required
	Phase StepPhase `json:"phase"`
	// Attempt counts the step's starts (a Retry adds one).
	// +optional
	Attempt int32 `json:"attempt,omitempty"`
	// JobName of the step's Job.
	// +optional
	JobName string `json:"jobName,omitempty"`
	// StartedAt is when the current attempt began.
	// +optional
	StartedAt *metav1.Time `json:"startedAt,omitempty"`
	// FinishedAt is when the step ended.
	// +optional
	FinishedAt *metav1.Time `json:"finishedAt,omitempty"`
	// Message says why it waits or failed, or who approved.
	// +optional
	Message string `json:"message,omitempty"`
}

// PlanWaveStatus is one wave's state in a run.
type PlanWaveStatus struct {
	// Name of the wave.
	// +required
	Name string `json:"name"`
	// Phase of the wave.
	// +required
	Phase PlanPhase `json:"phase"`
	// StartedAt is when the wave's first step or member started.
	// +optional
	StartedAt *metav1.Time `json:"startedAt,omitempty"`
	// FinishedAt is when the wave ended.
	// +optional
	FinishedAt *metav1.Time `json:"finishedAt,omitempty"`
	// Counts of the wave's members by state.
	// +optional
	Counts PlanCounts `json:"counts"`
	// Done lists the members counted done while the wave runs, so a member
	// whose Ready flaps afterwards stays counted; cleared when the wave ends.
	// +optional
	// +listType=atomic
	Done []string `json:"done,omitempty"`
	// Failures lists failed members, at most 20 (the counts hold all).
	// +optional
	// +listType=atomic
	// +kubebuilder:validation:MaxItems=20
	Failures []MemberFailure `json:"failures,omitempty"`
	// Steps are the wave's pre- and post-steps.
	// +optional
	// +listType=atomic
	// +kubebuilder:validation:MaxItems=20
	Steps []PlanStepStatus `json:"steps,omitempty"`
}

// AppliedDecision records a decision the run used.
type AppliedDecision struct {
	// Step or member the decision named.
	// +optional
	Step string `json:"step,omitempty"`
	// +optional
	Member string `json:"member,omitempty"`
	// Action taken.
	// +required
	Action DecisionAction `json:"action"`
	// Note from the decision.
	// +optional
	Note string `json:"note,omitempty"`
	// At is when the plan used it.
	// +required
	At metav1.Time `json:"at"`
}

// PlanRun is one run of a plan: one move of its members to a site (or one
// drill), wave by wave.
type PlanRun struct {
	// ID of the run, r-0001 upward; members moved by it carry it in their
	// dr.sdrs.io/run annotation.
	// +required
	ID string `json:"id"`
	// Mode: Failover or Drill.
	// +required
	Mode PlanRunMode `json:"mode"`
	// ToSite is the site the run moves members to.
	// +optional
	ToSite Site `json:"toSite,omitempty"`
	// DrillRequest is the spec.drill.request the drill run answers.
	// +optional
	DrillRequest string `json:"drillRequest,omitempty"`
	// Phase of the run.
	// +required
	Phase PlanPhase `json:"phase"`
	// Reason is why the run is in its phase, as a condition reason.
	// +optional
	Reason string `json:"reason,omitempty"`
	// Message says the same for a person.
	// +optional
	Message string `json:"message,omitempty"`
	// PlanGeneration is the plan generation the run started from.
	// +optional
	PlanGeneration int64 `json:"planGeneration,omitempty"`
	// StartedAt is when the run was recorded.
	// +required
	StartedAt metav1.Time `json:"startedAt"`
	// FinishedAt is when the run ended.
	// +optional
	FinishedAt *metav1.Time `json:"finishedAt,omitempty"`
	// CurrentWave is the wave in flight (or the last one).
	// +optional
	CurrentWave string `json:"currentWave,omitempty"`
	// Duration of the run: its measured RTO once finished, elapsed so far
	// before.
	// +optional
	Duration *metav1.Duration `json:"duration,omitempty"`
	// RTOMet says whether the finished run was within spec.rto.
	// +optional
	RTOMet *bool `json:"rtoMet,omitempty"`
	// Superseded: desiredActiveSite changed during the run; the wave in
	// flight finishes, then a new run starts.
	// +optional
	Superseded bool `json:"superseded,omitempty"`
	// Waves in plan order.
	// +optional
	// +listType=atomic
	// +kubebuilder:validation:MaxItems=20
	Waves []PlanWaveStatus `json:"waves,omitempty"`
	// Decisions the run used, in order.
	// +optional
	// +listType=atomic
	// +kubebuilder:validation:MaxItems=200
	Decisions []AppliedDecision `json:"decisions,omitempty"`
}

// PlanRunRecord is a finished run in the history.
type PlanRunRecord struct {
	// +required
	ID string `json:"id"`
	// +required
	Mode PlanRunMode `json:"mode"`
	// +optional
	ToSite Site `json:"toSite,omitempty"`
	// +optional
	DrillRequest string `json:"drillRequest,omitempty"`
	// +required
	Phase PlanPhase `json:"phase"`
	// +required
	StartedAt metav1.Time `json:"startedAt"`
	// +optional
	FinishedAt *metav1.Time `json:"finishedAt,omitempty"`
	// Duration is the run's measured RTO.
	// +optional
	Duration *metav1.Duration `json:"duration,omitempty"`
	// +optional
	RTOMet *bool `json:"rtoMet,omitempty"`
	// Counts over all waves.
	// +optional
	Counts PlanCounts `json:"counts"`
}

// PlanMembers summarises the members as they are now.
type PlanMembers struct {
	// Total members selected.
	Total int32 `json:"total"`
	// AtSource and AtTarget count members by status.activeSite.
	AtSource int32 `json:"atSource"`
	AtTarget int32 `json:"atTarget"`
	// Unassigned: selected by the plan, in no wave.
	Unassigned int32 `json:"unassigned"`
	// ClaimedElsewhere: held by another plan's live run.
	ClaimedElsewhere int32 `json:"claimedElsewhere"`
	// Diverged: moved by this plan, then set to another site by someone else.
	Diverged int32 `json:"diverged"`
}

// DRPlanStatus is what the plan controller last saw and did.
type DRPlanStatus struct {
	// ObservedGeneration is the spec generation the status describes.
	// +optional
	ObservedGeneration int64 `json:"observedGeneration,omitempty"`
	// Members summarises the members now.
	// +optional
	Members *PlanMembers `json:"members,omitempty"`
	// Run is the live run, or the last one.
	// +optional
	Run *PlanRun `json:"run,omitempty"`
	// History of finished runs, newest first, at most 10.
	// +optional
	// +listType=atomic
	// +kubebuilder:validation:MaxItems=10
	History []PlanRunRecord `json:"history,omitempty"`
	// Conditions: Ready, Reconciling, Stalled (kstatus), WaitingForApproval,
	// Valid.
	// +optional
	// +listType=map
	// +listMapKey=type
	Conditions []metav1.Condition `json:"conditions,omitempty"`
}

// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:shortName=plan;drplan,categories=sdrs
// +kubebuilder:printcolumn:name="DESIRED",type=string,JSONPath=`.spec.desiredActiveSite`
// +kubebuilder:printcolumn:name="RUN",type=string,JSONPath=`.status.run.id`
// +kubebuilder:printcolumn:name="PHASE",type=string,JSONPath=`.status.run.phase`
// +kubebuilder:printcolumn:name="WAVE",type=string,JSONPath=`.status.run.currentWave`
// +kubebuilder:printcolumn:name="READY",type=string,JSONPath=`.status.conditions[?(@.type=="Ready")].status`
// +kubebuilder:printcolumn:name="AGE",type=date,JSONPath=`.metadata.creationTimestamp`

// DRPlan moves a fleet of ProtectionGroups to a site in ordered waves,
// with approvals, waits and Jobs between them. It only sets its members'
// spec; the ProtectionGroup controller does the SDRS work.
type DRPlan struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	// +required
	Spec DRPlanSpec `json:"spec"`
	// The default makes a new object carry observedGeneration 0, so that
	// kstatus reports InProgress before the first reconcile.
	// +optional
	// +kubebuilder:default={observedGeneration: 0}
	Status DRPlanStatus `json:"status,omitempty"`
}

// +kubebuilder:object:root=true

// DRPlanList contains a list of DRPlan.
type DRPlanList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []DRPlan `json:"items"`
}

func init() {
	SchemeBuilder.Register(&DRPlan{}, &DRPlanList{})
}

// GetConditions returns the conditions, for condition helpers.
func (p *DRPlan) GetConditions() []metav1.Condition { return p.Status.Conditions }

// SetConditions replaces the conditions, for condition helpers.
func (p *DRPlan) SetConditions(c []metav1.Condition) { p.Status.Conditions = c }
