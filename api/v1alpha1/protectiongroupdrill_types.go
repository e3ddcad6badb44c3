package v1alpha1

import (
	batchv1 "k8s.io/api/batch/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// DrillPhase is where a drill is in its life.
// +kubebuilder:validation:Enum=Pending;Creating;Available;Verifying;Releasing;Released;Failed
type DrillPhase string

const (
	// DrillPending: not yet asked of SDRS (a precondition is not met yet).
	DrillPending DrillPhase = "Pending"
	// DrillCreating: SDRS creates the drill servers.
	DrillCreating DrillPhase = "Creating"
	// DrillAvailable: the drill servers run in the drill VPC.
	DrillAvailable DrillPhase = "Available"
	// DrillVerifying: the verification Job runs against the drill servers.
	DrillVerifying DrillPhase = "Verifying"
	// DrillReleasing: SDRS deletes the drill and its servers.
	DrillReleasing DrillPhase = "Releasing"
	// DrillReleased: the drill and its servers are gone (the VPC stays).
	DrillReleased DrillPhase = "Released"
	// DrillFailed: SDRS could not create the drill; nothing runs.
	DrillFailed DrillPhase = "Failed"
)

// DrillResult is a drill's verdict.
// +kubebuilder:validation:Enum=Passed;Failed
type DrillResult string

const (
	DrillPassed       DrillResult = "Passed"
	DrillResultFailed DrillResult = "Failed"
)

// LocalObjectReference names an object in the same namespace.
type LocalObjectReference struct {
	// Name of the object.
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=253
	Name string `json:"name"`
}

// DrillVerifySpec describes the Job that checks the drill servers.
type DrillVerifySpec struct {
	// Template of the Job the operator runs once the drill is available.
	// Every container gets the drill in environment variables
	// (SDRS_DRILL_ID, SDRS_DRILL_NAME, SDRS_DRILL_VPC_ID, and
	// SDRS_DRILL_SERVERS: the drill servers with their addresses and login
	// guidance, as JSON). Its success or failure is the drill's automatic
	// verdict.
	// +required
	// +kubebuilder:validation:Schemaless
	// +kubebuilder:pruning:PreserveUnknownFields
	// +kubebuilder:validation:Type=object
	Template batchv1.JobTemplateSpec `json:"template"`
	// Timeout of the Job; a Job still running then fails the verification.
	// +optional
	// +kubebuilder:default="30m"
	Timeout *metav1.Duration `json:"timeout,omitempty"`
}

// DrillOutcomeSpec is a person's verdict, recorded with the drill.
type DrillOutcomeSpec struct {
	// Result: Passed or Failed. It overrides the verification Job's.
	// +required
	Result DrillResult `json:"result"`
	// Notes for the audit.
	// +optional
	// +kubebuilder:validation:MaxLength=2048
	Notes string `json:"notes,omitempty"`
	// By names who judged.
	// +optional
	// +kubebuilder:validation:MaxLength=253
	By string `json:"by,omitempty"`
}

// ProtectionGroupDrillSpec asks for one SDRS DR drill of a ProtectionGroup:
// drill servers made from the DR-site disks in an isolated VPC, while
// production keeps running and replicating.
// +kubebuilder:validation:XValidation:rule="self.protectionGroupRef == oldSelf.protectionGroupRef",message="protectionGroupRef is immutable: a drill belongs to one group; create another drill"
// +kubebuilder:validation:XValidation:rule="has(self.drillVpcID) == has(oldSelf.drillVpcID) && (!has(self.drillVpcID) || self.drillVpcID == oldSelf.drillVpcID)",message="drillVpcID is immutable: SDRS creates the drill servers in one VPC; create another drill"
// +kubebuilder:validation:XValidation:rule="!has(oldSelf.release) || !oldSelf.release || (has(self.release) && self.release)",message="release cannot be undone: the drill is being deleted; create another drill"
type ProtectionGroupDrillSpec struct {
	// ProtectionGroupRef names the ProtectionGroup, in this namespace, to drill.
	// +required
	ProtectionGroupRef LocalObjectReference `json:"protectionGroupRef"`

	// DrillVpcID is an isolated VPC with the same CIDR as the production
	// VPC (an SDRS rule). Without it SDRS creates one, and keeps it after
	// the drill (status.drill.vpcAutoCreated says so).
	// +optional
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=64
	DrillVpcID string `json:"drillVpcID,omitempty"`

	// TTL: the drill servers are deleted this long after they became
	// available. Editing it moves the end. Bounded by the manager's
	// --max-drill-ttl.
	// +optional
	// +kubebuilder:default="4h"
	TTL *metav1.Duration `json:"ttl,omitempty"`

	// Release ends the drill now: the SDRS drill and its servers are deleted.
	// +optional
	Release bool `json:"release,omitempty"`

	// Verify runs a Job against the drill servers once they are available.
	// +optional
	Verify *DrillVerifySpec `json:"verify,omitempty"`

	// Outcome is a person's verdict; it overrides the Job's.
	// +optional
	Outcome *DrillOutcomeSpec `json:"outcome,omitempty"`

	// DeletionPolicy: Delete (default) deletes the SDRS drill when this
	// object is deleted; Orphan leaves it (and its servers, which cost
	// money) in SDRS.
	// +optional
	// +kubebuilder:default=Delete
	DeletionPolicy DeletionPolicy `json:"deletionPolicy,omitempty"`
}

// DrillObservation is the SDRS drill as last read.
type DrillObservation struct {
	// ID of the SDRS drill, once found.
	// +optional
	ID string `json:"id,omitempty"`
	// Name of the SDRS drill: deterministic, so that after a crash the
	// operator finds its drill instead of creating a second one.
	// +optional
	Name string `json:"name,omitempty"`
	// Status as SDRS reports it: creating, available, deleting,
	// error-deleting, error.
	// +optional
	Status string `json:"status,omitempty"`
	// VpcID the drill servers run in.
	// +optional
	VpcID string `json:"vpcID,omitempty"`
	// VpcAutoCreated: SDRS created the VPC; it stays after the drill.
	// +optional
	VpcAutoCreated bool `json:"vpcAutoCreated,omitempty"`
}

// DrillServer is one drill server.
type DrillServer struct {
	// ProtectedInstance the server was made from.
	// +required
	ProtectedInstance string `json:"protectedInstance"`
	// ServerID of the ECS drill server.
	// +optional
	ServerID string `json:"serverID,omitempty"`
	// Name of the ECS drill server.
	// +optional
	Name string `json:"name,omitempty"`
	// Addresses the drill server has in the drill VPC.
	// +optional
	// +listType=atomic
	// +kubebuilder:validation:MaxItems=8
	Addresses []string `json:"addresses,omitempty"`
	// Login says which credentials open it: drill servers follow the
	// rules of DR-site servers.
	// +optional
	Login *ServerLogin `json:"login,omitempty"`
}

// DrillVerification is the verification Job's state.
type DrillVerification struct {
	// JobName of the verification Job (deterministic).
	// +optional
	JobName string `json:"jobName,omitempty"`
	// Result: Passed or Failed once the Job ended.
	// +optional
	Result DrillResult `json:"result,omitempty"`
	// Message says what the Job reported.
	// +optional
	Message string `json:"message,omitempty"`
	// StartedAt is when the Job was created.
	// +optional
	StartedAt *metav1.Time `json:"startedAt,omitempty"`
	// FinishedAt is when the Job ended.
	// +optional
	FinishedAt *metav1.Time `json:"finishedAt,omitempty"`
}

// DrillOutcome is the drill's recorded verdict.
type DrillOutcome struct {
	// Result: Passed or Failed.
	// +required
	Result DrillResult `json:"result"`
	// Source: Person (spec.outcome) or Job (the verification).
	// +required
	// +kubebuilder:validation:Enum=Person;Job
	Source string `json:"source"`
	// Notes from the person or the Job.
	// +optional
	Notes string `json:"notes,omitempty"`
	// By names the person.
	// +optional
	By string `json:"by,omitempty"`
	// At is when the verdict was recorded.
	// +optional
	At *metav1.Time `json:"at,omitempty"`
}

// DrillOperationType names an SDRS drill action.
// +kubebuilder:validation:Enum=CreateDrill;DeleteDrill
type DrillOperationType string

const (
	DrillOperationCreate DrillOperationType = "CreateDrill"
	DrillOperationDelete DrillOperationType = "DeleteDrill"
)

// DrillOperation records an SDRS drill action from intent to job, as
// Operation does for a group: written before the call, the job ID right
// after, so a restarted operator resumes instead of acting twice.
type DrillOperation struct {
	// Type of the action.
	// +required
	Type DrillOperationType `json:"type"`
	// Attempt counts the calls sent; written before each one.
	// +optional
	Attempt int32 `json:"attempt,omitempty"`
	// AttemptedAt is when the last call was about to be sent.
	// +optional
	AttemptedAt *metav1.Time `json:"attemptedAt,omitempty"`
	// JobID of the SDRS job, once SDRS accepted the action.
	// +optional
	JobID string `json:"jobID,omitempty"`
	// StartedAt is when the intent was recorded.
	// +required
	StartedAt metav1.Time `json:"startedAt"`
}

// ProtectionGroupDrillStatus is what the operator last saw and did.
type ProtectionGroupDrillStatus struct {
	// ObservedGeneration is the spec generation the status describes.
	// +optional
	ObservedGeneration int64 `json:"observedGeneration,omitempty"`
	// Phase of the drill.
	// +optional
	Phase DrillPhase `json:"phase,omitempty"`
	// Drill is the SDRS drill.
	// +optional
	Drill *DrillObservation `json:"drill,omitempty"`
	// Servers are the drill servers.
	// +optional
	// +listType=atomic
	// +kubebuilder:validation:MaxItems=200
	Servers []DrillServer `json:"servers,omitempty"`
	// CurrentOperation is the SDRS drill action in flight, if any.
	// +optional
	CurrentOperation *DrillOperation `json:"currentOperation,omitempty"`
	// AvailableAt is when the drill servers became available.
	// +optional
	AvailableAt *metav1.Time `json:"availableAt,omitempty"`
	// ExpiresAt is when the drill servers are deleted (availableAt + ttl).
	// +optional
	ExpiresAt *metav1.Time `json:"expiresAt,omitempty"`
	// ReleasedAt is when SDRS finished deleting the drill.
	// +optional
	ReleasedAt *metav1.Time `json:"releasedAt,omitempty"`
	// Verification is the verification Job's state.
	// +optional
	Verification *DrillVerification `json:"verification,omitempty"`
	// Outcome is the drill's verdict: a person's, else the Job's.
	// +optional
	Outcome *DrillOutcome `json:"outcome,omitempty"`
	// Conditions: Ready (True while the drill servers are available),
	// Reconciling, Stalled (kstatus).
	// +optional
	// +listType=map
	// +listMapKey=type
	Conditions []metav1.Condition `json:"conditions,omitempty"`
}

// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:shortName=pgdrill;drill,categories=sdrs
// +kubebuilder:printcolumn:name="GROUP",type=string,JSONPath=`.spec.protectionGroupRef.name`
// +kubebuilder:printcolumn:name="PHASE",type=string,JSONPath=`.status.phase`
// +kubebuilder:printcolumn:name="READY",type=string,JSONPath=`.status.conditions[?(@.type=="Ready")].status`
// +kubebuilder:printcolumn:name="EXPIRES",type=string,JSONPath=`.status.expiresAt`
// +kubebuilder:printcolumn:name="RESULT",type=string,JSONPath=`.status.outcome.result`
// +kubebuilder:printcolumn:name="AGE",type=date,JSONPath=`.metadata.creationTimestamp`

// ProtectionGroupDrill is one SDRS DR drill of a ProtectionGroup: drill
// servers from the DR-site disks in an isolated VPC, checked, judged and
// deleted after a TTL, while production keeps running.
type ProtectionGroupDrill struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	// +required
	Spec ProtectionGroupDrillSpec `json:"spec"`
	// The default makes a new object carry observedGeneration 0, so that
	// kstatus reports InProgress before the first reconcile.
	// +optional
	// +kubebuilder:default={observedGeneration: 0}
	Status ProtectionGroupDrillStatus `json:"status,omitempty"`
}

// +kubebuilder:object:root=true

// ProtectionGroupDrillList contains a list of ProtectionGroupDrill.
type ProtectionGroupDrillList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []ProtectionGroupDrill `json:"items"`
}

func init() {
	SchemeBuilder.Register(&ProtectionGroupDrill{}, &ProtectionGroupDrillList{})
}

// GetConditions returns the conditions, for condition helpers.
func (d *ProtectionGroupDrill) GetConditions() []metav1.Condition { return d.Status.Conditions }

// SetConditions replaces the conditions, for condition helpers.
func (d *ProtectionGroupDrill) SetConditions(c []metav1.Condition) { d.Status.Conditions = c }
