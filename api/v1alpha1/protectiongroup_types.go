package v1alpha1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// Site names one side of a protection group in the SDRS priority_station
// vocabulary: source is the availability zone the group was created with as
// production, target the one created as disaster recovery.
// +kubebuilder:validation:Enum=source;target
type Site string

const (
	SiteSource Site = "source"
	SiteTarget Site = "target"
)

// Other returns the opposite site.
func (s Site) Other() Site {
	if s == SiteSource {
		return SiteTarget
	}
	return SiteSource
}

// FailoverMode says how the operator may move the active site.
// +kubebuilder:validation:Enum=Planned;Forced;Auto
type FailoverMode string

const (
	// FailoverPlanned uses reverse-server-group: no data loss, needs a
	// protected, synchronised and healthy group.
	FailoverPlanned FailoverMode = "Planned"
	// FailoverForced uses failover-server-group: may lose data up to the RPO.
	FailoverForced FailoverMode = "Forced"
	// FailoverAuto is planned when possible and forced only when the
	// production site is unhealthy.
	FailoverAuto FailoverMode = "Auto"
)

// ProtectionMode says whether replication should run.
// +kubebuilder:validation:Enum=Enabled;Disabled
type ProtectionMode string

const (
	ProtectionEnabled  ProtectionMode = "Enabled"
	ProtectionDisabled ProtectionMode = "Disabled"
)

// ServerPowerPolicy says whether the operator may stop and start servers.
// +kubebuilder:validation:Enum=Managed;Manual
type ServerPowerPolicy string

const (
	// ServerPowerManaged: a planned failover stops the production servers,
	// reverses, then starts the servers at the new production site; a
	// forced failover starts the new production servers.
	ServerPowerManaged ServerPowerPolicy = "Managed"
	// ServerPowerManual: the operator never touches servers and waits,
	// naming the servers a person must stop.
	ServerPowerManual ServerPowerPolicy = "Manual"
)

// DeletionPolicy says what deleting the ProtectionGroup does in the cloud.
// +kubebuilder:validation:Enum=Orphan;Delete
type DeletionPolicy string

const (
	DeletionOrphan DeletionPolicy = "Orphan"
	DeletionDelete DeletionPolicy = "Delete"
)

// ProviderConfigReference names a cluster-scoped ProviderConfig.
type ProviderConfigReference struct {
	// Name of the ProviderConfig.
	// +optional
	// +kubebuilder:default=default
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=253
	Name string `json:"name,omitempty"`
}

// GroupParameters describe an SDRS protection group the operator creates.
// +kubebuilder:validation:XValidation:rule="self.sourceAvailabilityZone != self.targetAvailabilityZone",message="sourceAvailabilityZone and targetAvailabilityZone must differ: SDRS replicates from one availability zone to another"
type GroupParameters struct {
	// Name of the SDRS protection group: letters, digits, '.', '_' and '-'.
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=64
	// +kubebuilder:validation:Pattern=`^[A-Za-z0-9._-]+$`
	Name string `json:"name"`

	// Description of the group: at most 64 bytes in UTF-8, without '<' or '>'.
	// +optional
	// +kubebuilder:validation:MaxLength=64
	// +kubebuilder:validation:Pattern=`^[^<>]*$`
	// +kubebuilder:validation:XValidation:rule="size(bytes(self)) <= 64",message="description must be at most 64 bytes in UTF-8: SDRS counts bytes, not characters"
	Description string `json:"description,omitempty"`

	// SourceAvailabilityZone is the production availability zone at creation.
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=64
	SourceAvailabilityZone string `json:"sourceAvailabilityZone"`

	// TargetAvailabilityZone is the disaster-recovery availability zone at creation.
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=64
	TargetAvailabilityZone string `json:"targetAvailabilityZone"`

	// DomainID is the active-active domain that joins the two zones.
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=64
	DomainID string `json:"domainID"`

	// SourceVpcID is the VPC of the production servers.
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=64
	SourceVpcID string `json:"sourceVpcID"`
}

// ProtectionGroupSpec declares which site of an SDRS protection group should
// be active and how the operator may get it there.
// +kubebuilder:validation:XValidation:rule="has(self.protectionGroupID) != has(self.forProvider)",message="set exactly one of protectionGroupID (adopt an existing SDRS group) or forProvider (create one)"
// +kubebuilder:validation:XValidation:rule="!(self.failoverMode in ['Forced', 'Auto']) || (has(self.allowDataLoss) && self.allowDataLoss)",message="failoverMode Forced and Auto may lose data written since the last replication (up to the RPO): set allowDataLoss: true to accept that"
// +kubebuilder:validation:XValidation:rule="!has(oldSelf.protectionGroupID) || (has(self.protectionGroupID) && self.protectionGroupID == oldSelf.protectionGroupID)",message="protectionGroupID is immutable once set: create a new ProtectionGroup to manage another SDRS group"
// +kubebuilder:validation:XValidation:rule="!has(oldSelf.forProvider) || (has(self.forProvider) && self.forProvider == oldSelf.forProvider)",message="forProvider is immutable: SDRS cannot change a group's zones, domain or VPC; create a new ProtectionGroup instead"
type ProtectionGroupSpec struct {
	// ProviderConfigRef names the ProviderConfig to use.
	// +optional
	// +kubebuilder:default={name: default}
	ProviderConfigRef ProviderConfigReference `json:"providerConfigRef,omitempty"`

	// ProtectionGroupID adopts an existing SDRS protection group.
	// +optional
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=64
	// +kubebuilder:validation:Pattern=`^[A-Za-z0-9-]+$`
	ProtectionGroupID string `json:"protectionGroupID,omitempty"`

	// ForProvider creates a new SDRS protection group; its ID goes to
	// status.group.id.
	// +optional
	ForProvider *GroupParameters `json:"forProvider,omitempty"`

	// DesiredActiveSite is the site that should serve production: source or
	// target, as SDRS priority_station.
	// +required
	DesiredActiveSite Site `json:"desiredActiveSite"`

	// FailoverMode: Planned (default, reverse-server-group, no data loss),
	// Forced (failover-server-group) or Auto (forced only when the
	// production site is unhealthy).
	// +optional
	// +kubebuilder:default=Planned
	FailoverMode FailoverMode `json:"failoverMode,omitempty"`

	// AllowDataLoss accepts that a forced failover loses data up to the RPO.
	// Required for Forced and Auto.
	// +optional
	AllowDataLoss bool `json:"allowDataLoss,omitempty"`

	// Protection: Enabled (default) keeps replication running and
	// re-protects after a forced failover; Disabled stops it.
	// +optional
	// +kubebuilder:default=Enabled
	Protection ProtectionMode `json:"protection,omitempty"`

	// ServerPower: Managed (default) lets the operator stop and start the
	// servers a failover needs; Manual never touches servers.
	// +optional
	// +kubebuilder:default=Managed
	ServerPower ServerPowerPolicy `json:"serverPower,omitempty"`

	// DeletionPolicy: Orphan (default) leaves the SDRS group alone when this
	// object is deleted; Delete deletes it when that is safe.
	// +optional
	// +kubebuilder:default=Orphan
	DeletionPolicy DeletionPolicy `json:"deletionPolicy,omitempty"`

	// DrillInterval is how young the group's last passed DR drill must be;
	// older, DrillUpToDate turns False (SDRS's own "no drill in 3 months"
	// filter uses 90 days).
	// +optional
	// +kubebuilder:default="2160h"
	DrillInterval *metav1.Duration `json:"drillInterval,omitempty"`

	// Login describes what the operator cannot read from the cloud but
	// needs to say which credentials open the servers after a swap.
	// +optional
	Login *LoginSpec `json:"login,omitempty"`
}

// GuestInitAgent says whether a server's image runs Cloud-Init (Linux) or
// Cloudbase-Init (Windows). Only with it do credentials change at the first
// swap; ECS exposes no field that says so.
// +kubebuilder:validation:Enum=Installed;NotInstalled
type GuestInitAgent string

const (
	GuestInitInstalled    GuestInitAgent = "Installed"
	GuestInitNotInstalled GuestInitAgent = "NotInstalled"
)

// LoginSpec holds the login facts a person must state.
type LoginSpec struct {
	// GuestInitAgent for every server of the group: Installed (the default,
	// as on the cloud's public images) or NotInstalled.
	// +optional
	// +kubebuilder:default=Installed
	GuestInitAgent GuestInitAgent `json:"guestInitAgent,omitempty"`
	// Instances overrides guestInitAgent per protected instance.
	// +optional
	// +listType=map
	// +listMapKey=instance
	// +kubebuilder:validation:MaxItems=200
	Instances []InstanceLoginSpec `json:"instances,omitempty"`
}

// InstanceLoginSpec overrides the group's login facts for one instance.
type InstanceLoginSpec struct {
	// Instance is the protected instance's name or ID.
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=64
	Instance string `json:"instance"`
	// GuestInitAgent of this instance's servers.
	// +required
	GuestInitAgent GuestInitAgent `json:"guestInitAgent"`
}

// SiteRoles names the availability zone in each role now.
type SiteRoles struct {
	// Production is the availability zone that serves now.
	// +optional
	Production string `json:"production,omitempty"`
	// DisasterRecovery is the availability zone that receives replication.
	// +optional
	DisasterRecovery string `json:"disasterRecovery,omitempty"`
}

// GroupObservation is the SDRS group as last read.
type GroupObservation struct {
	// ID of the SDRS protection group.
	// +optional
	ID string `json:"id,omitempty"`
	// Name in SDRS.
	// +optional
	Name string `json:"name,omitempty"`
	// Status as SDRS reports it, e.g. protected, reversing, failed-over.
	// +optional
	Status string `json:"status,omitempty"`
	// ProtectedStatus: started or stopped (empty when SDRS reports none).
	// +optional
	ProtectedStatus string `json:"protectedStatus,omitempty"`
	// HealthStatus: normal or abnormal (empty when SDRS reports none).
	// +optional
	HealthStatus string `json:"healthStatus,omitempty"`
	// PriorityStation as SDRS reports it: source or target.
	// +optional
	PriorityStation Site `json:"priorityStation,omitempty"`
	// ObservedAt is when the group was last read from SDRS and found
	// changed; while it reads the same, this moves at most once an hour, so
	// that idle syncs do not rewrite the object.
	// +optional
	ObservedAt *metav1.Time `json:"observedAt,omitempty"`
}

// ReplicationObservation is the replication state as last read.
type ReplicationObservation struct {
	// Status: active (synchronised), copying, inactive or active-stopped.
	// +optional
	Status string `json:"status,omitempty"`
	// Progress of the initial synchronisation, in percent.
	// +optional
	Progress int32 `json:"progress,omitempty"`
}

// OperationType names an SDRS action the operator takes.
// +kubebuilder:validation:Enum=Create;EnableProtection;Reprotect;DisableProtection;PlannedFailover;Failover;Delete
type OperationType string

const (
	OperationCreate            OperationType = "Create"
	OperationEnableProtection  OperationType = "EnableProtection"
	OperationReprotect         OperationType = "Reprotect"
	OperationDisableProtection OperationType = "DisableProtection"
	OperationPlannedFailover   OperationType = "PlannedFailover"
	OperationFailover          OperationType = "Failover"
	OperationDelete            OperationType = "Delete"
)

// OperationStep is the resumable step an operation is in.
// +kubebuilder:validation:Enum=StopServers;WaitServersStopped;SDRSAction;StartServers;RestoreServers;Done
type OperationStep string

const (
	// StepStopServers: stopping the production servers (Managed) before a
	// planned failover.
	StepStopServers OperationStep = "StopServers"
	// StepWaitServersStopped: waiting for a person to stop the production
	// servers (Manual).
	StepWaitServersStopped OperationStep = "WaitServersStopped"
	// StepSDRSAction: the SDRS action itself.
	StepSDRSAction OperationStep = "SDRSAction"
	// StepStartServers: starting the servers at the new production site.
	StepStartServers OperationStep = "StartServers"
	// StepRestoreServers: starting again the servers an operation stopped
	// before it was cancelled (the desired site changed before SDRS acted).
	StepRestoreServers OperationStep = "RestoreServers"
	// StepDone: finished; only seen in lastOperation and history.
	StepDone OperationStep = "Done"
)

// OperationResult is how an operation ended.
// +kubebuilder:validation:Enum=Succeeded;Failed;Cancelled
type OperationResult string

const (
	OperationSucceeded OperationResult = "Succeeded"
	OperationFailed    OperationResult = "Failed"
	// OperationCancelled: the spec moved on before SDRS was asked to act;
	// nothing happened in SDRS.
	OperationCancelled OperationResult = "Cancelled"
)

// Operation records one SDRS action from intent to result. The intent
// (type, requestID) is written before the cloud is called and the job ID
// right after, so a restarted operator resumes instead of acting twice.
type Operation struct {
	// Type of the operation.
	// +required
	Type OperationType `json:"type"`
	// RequestID identifies this intent; it never changes once written.
	// +required
	RequestID string `json:"requestID"`
	// Step the operation is in.
	// +optional
	Step OperationStep `json:"step,omitempty"`
	// JobID of the SDRS job, once SDRS accepted the action.
	// +optional
	JobID string `json:"jobID,omitempty"`
	// ServerJobID of the ECS job that stops or starts servers in this step.
	// +optional
	ServerJobID string `json:"serverJobID,omitempty"`
	// Servers the current step stops or starts (ECS server IDs).
	// +optional
	// +listType=atomic
	Servers []string `json:"servers,omitempty"`
	// Attempt counts the calls sent for the current step's action. It is
	// written, with attemptedAt, before every SDRS or ECS call, in a
	// resourceVersion-checked write, so that no call follows a stale copy
	// and a restarted operator knows a call may have been sent.
	// +optional
	Attempt int32 `json:"attempt,omitempty"`
	// AttemptedAt is when the current step's last call was about to be sent.
	// +optional
	AttemptedAt *metav1.Time `json:"attemptedAt,omitempty"`
	// GroupStatusBefore is the SDRS group's status when the SDRS action was
	// last attempted: finding the group still in it says nothing happened
	// yet, and only after a grace that the action was not taken.
	// +optional
	GroupStatusBefore string `json:"groupStatusBefore,omitempty"`
	// RefusedCode is the SDRS code that refused a repeated attempt. The
	// action may have been taken by an earlier attempt whose answer was
	// lost, so it is not sent again unless a person asks (dr.sdrs.io/retry).
	// +optional
	RefusedCode string `json:"refusedCode,omitempty"`
	// StoppedServers are the servers this operation stopped; they are
	// started again if the operation is cancelled before SDRS acts.
	// +optional
	// +listType=atomic
	StoppedServers []string `json:"stoppedServers,omitempty"`
	// From is the active site when the operation began.
	// +optional
	From Site `json:"from,omitempty"`
	// To is the site the operation makes active.
	// +optional
	To Site `json:"to,omitempty"`
	// Generation of the spec that asked for the operation.
	// +optional
	Generation int64 `json:"generation,omitempty"`
	// StartedAt is when the intent was recorded.
	// +required
	StartedAt metav1.Time `json:"startedAt"`
	// FinishedAt is when the operation ended.
	// +optional
	FinishedAt *metav1.Time `json:"finishedAt,omitempty"`
	// Result of a finished operation.
	// +optional
	Result OperationResult `json:"result,omitempty"`
	// ErrorCode is the SDRS or ECS error code of a failed operation.
	// +optional
	ErrorCode string `json:"errorCode,omitempty"`
	// Message says what happened, for people.
	// +optional
	Message string `json:"message,omitempty"`
}

// ServerObservation is one ECS server of a protected instance.
type ServerObservation struct {
	// ID of the ECS server.
	// +optional
	ID string `json:"id,omitempty"`
	// AvailabilityZone the server is in.
	// +optional
	AvailabilityZone string `json:"availabilityZone,omitempty"`
	// Power state as ECS reports it: ACTIVE, SHUTOFF, ...
	// +optional
	Power string `json:"power,omitempty"`
}

// InstanceObservation tells, per protected instance, which server serves
// now and which credentials apply there.
type InstanceObservation struct {
	// ID of the SDRS protected instance.
	// +required
	ID string `json:"id"`
	// Name of the protected instance.
	// +optional
	Name string `json:"name,omitempty"`
	// Status of the protected instance as SDRS reports it (protected,
	// invalid when a server was deleted, fault when replication is
	// abnormal, ...), as of the last fleet read.
	// +optional
	Status string `json:"status,omitempty"`
	// OSType is the family of the server image: Linux, Windows or CoreOS
	// (ECS says Linux or Windows; CoreOS is read from the image name).
	// +optional
	OSType string `json:"osType,omitempty"`
	// KeyName is the key pair the servers were created with; empty when
	// they log in with a password.
	// +optional
	KeyName string `json:"keyName,omitempty"`
	// SourceServer is the server in the source availability zone.
	// +optional
	SourceServer ServerObservation `json:"sourceServer,omitempty"`
	// TargetServer is the server in the target availability zone.
	// +optional
	TargetServer ServerObservation `json:"targetServer,omitempty"`
	// ServingSite is the site whose server serves now.
	// +optional
	ServingSite Site `json:"servingSite,omitempty"`
	// ServingServerID is the server to log in to now.
	// +optional
	ServingServerID string `json:"servingServerID,omitempty"`
	// Login says which credentials open each server now, by the SDRS
	// login rules: server A is the source-site server (production before
	// the first swap), server B the target-site one.
	// +optional
	Login *InstanceLogin `json:"login,omitempty"`
}

// LoginMethod is how a server was created for login.
// +kubebuilder:validation:Enum=Password;KeyPair
type LoginMethod string

const (
	LoginPassword LoginMethod = "Password"
	LoginKeyPair  LoginMethod = "KeyPair"
)

// FirstSwapState says whether the group's first planned failover,
// failover or DR drill has happened; the login rules change with it.
// +kubebuilder:validation:Enum=NotYet;Done;Unknown
type FirstSwapState string

const (
	// FirstSwapNotYet: the operator created the group (or saw its whole
	// past) and no swap has run.
	FirstSwapNotYet FirstSwapState = "NotYet"
	// FirstSwapDone: a swap ran (the operator ran it, or the group was
	// found serving from its target site).
	FirstSwapDone FirstSwapState = "Done"
	// FirstSwapUnknown: an adopted group serving from its source site; its
	// past cannot be known, so both cases are shown.
	FirstSwapUnknown FirstSwapState = "Unknown"
)

// Credential names which credentials open a server, by the SDRS rules.
// +kubebuilder:validation:Enum=OwnCredentials;ServerAPassword;ServerAObtainedPassword;ServerACreationPassword;ServerAKeyPair;ServerBPasswordUntilInit;ServerBObtainedPasswordUntilInit;ServerBResetPassword;ServerBObtainedPasswordAgain;Unknown
type Credential string

const (
	// CredentialOwn: nothing changed yet; the server's own credentials.
	CredentialOwn Credential = "OwnCredentials"
	// CredentialAPassword: server A's password (its latest one).
	CredentialAPassword Credential = "ServerAPassword"
	// CredentialAObtainedPassword: the password obtained for server A
	// with its key pair (Windows).
	CredentialAObtainedPassword Credential = "ServerAObtainedPassword"
	// CredentialACreationPassword: the password server A was created with
	// (CoreOS reverts to it at the first swap).
	CredentialACreationPassword Credential = "ServerACreationPassword"
	// CredentialAKeyPair: server A's SSH key pair (Linux).
	CredentialAKeyPair Credential = "ServerAKeyPair"
	// CredentialBPasswordUntilInit: server B's own password, only until
	// Cloudbase-Init starts (windowClosesAt).
	CredentialBPasswordUntilInit Credential = "ServerBPasswordUntilInit"
	// CredentialBObtainedPasswordUntilInit: the password obtained for
	// server B, only until Cloudbase-Init starts.
	CredentialBObtainedPasswordUntilInit Credential = "ServerBObtainedPasswordUntilInit"
	// CredentialBResetPassword: the password a person reset on server B
	// after Cloudbase-Init started; it stays valid for later swaps.
	CredentialBResetPassword Credential = "ServerBResetPassword"
	// CredentialBObtainedPasswordAgain: the password obtained again for
	// server B after Cloudbase-Init started; it stays valid.
	CredentialBObtainedPasswordAgain Credential = "ServerBObtainedPasswordAgain"
	// CredentialUnknown: the OS or login method could not be read.
	CredentialUnknown Credential = "Unknown"
)

// InstanceLogin is the login guidance for one protected instance.
type InstanceLogin struct {
	// Method: Password or KeyPair (ECS key_name).
	// +optional
	Method LoginMethod `json:"method,omitempty"`
	// GuestInitAgent in effect for this instance (spec.login).
	// +optional
	GuestInitAgent GuestInitAgent `json:"guestInitAgent,omitempty"`
	// FirstSwap as for the group (status.firstSwap).
	// +optional
	FirstSwap FirstSwapState `json:"firstSwap,omitempty"`
	// Servers: what opens server A and server B now.
	// +optional
	// +listType=atomic
	// +kubebuilder:validation:MaxItems=4
	Servers []ServerLogin `json:"servers,omitempty"`
}

// ServerLogin says what opens one server now.
type ServerLogin struct {
	// Server is A (the source-site server) or B (the target-site server).
	// +required
	// +kubebuilder:validation:Enum=A;B
	Server string `json:"server"`
	// ID of the ECS server.
	// +optional
	ID string `json:"id,omitempty"`
	// Role of the server now: Production or DisasterRecovery.
	// +optional
	Role string `json:"role,omitempty"`
	// Case says which history the row assumes when firstSwap is Unknown:
	// IfNoSwapYet or IfSwapped; empty otherwise.
	// +optional
	Case string `json:"case,omitempty"`
	// Credential to use.
	// +required
	Credential Credential `json:"credential"`
	// Use says the same for a person.
	// +optional
	Use string `json:"use,omitempty"`
	// Until is when the credential is expected to stop working
	// (Cloudbase-Init normally starts 3 minutes after the server, up to 5).
	// +optional
	Until *metav1.Time `json:"until,omitempty"`
}

// DrillRecord names a drill and its verdict.
type DrillRecord struct {
	// Name of the ProtectionGroupDrill.
	// +required
	Name string `json:"name"`
	// Result: Passed or Failed; empty when the drill ended without one.
	// +optional
	Result DrillResult `json:"result,omitempty"`
	// At is when the drill servers became available (when the drill ran).
	// +optional
	At *metav1.Time `json:"at,omitempty"`
}

// FirstSwap records what the operator knows of the group's first swap.
type FirstSwap struct {
	// State: NotYet, Done or Unknown.
	// +required
	State FirstSwapState `json:"state"`
	// At is when the first swap the operator ran finished; empty when it
	// did not see it.
	// +optional
	At *metav1.Time `json:"at,omitempty"`
	// ProductionStartedAt is when the operator saw the servers at the new
	// production site started after that swap (the Cloudbase-Init window
	// starts then).
	// +optional
	ProductionStartedAt *metav1.Time `json:"productionStartedAt,omitempty"`
}

// FailoverCheck says whether one kind of failover would run now.
type FailoverCheck struct {
	// Ready is true when the operator and SDRS would run it now.
	// +required
	Ready bool `json:"ready"`
	// Reason, a CamelCase word, when not ready.
	// +optional
	Reason string `json:"reason,omitempty"`
	// Message says why not and what to do.
	// +optional
	Message string `json:"message,omitempty"`
}

// Readiness holds the facts behind FailoverReady.
type Readiness struct {
	// Planned: would a planned failover (reverse-server-group) run now.
	// +optional
	Planned FailoverCheck `json:"planned"`
	// Forced: would a failover (failover-server-group) run now.
	// +optional
	Forced FailoverCheck `json:"forced"`
	// WorstFaultLevel of the group's replication pairs: 0 none, 2 failover
	// advised, 5 failover not allowed; -1 when not read.
	// +optional
	WorstFaultLevel int32 `json:"worstFaultLevel"`
	// ReplicationPairs counts the group's replication pairs.
	// +optional
	ReplicationPairs int32 `json:"replicationPairs,omitempty"`
	// UnhealthyInstances names protected instances SDRS reports invalid or
	// fault (at most 10).
	// +optional
	// +listType=atomic
	// +kubebuilder:validation:MaxItems=10
	UnhealthyInstances []string `json:"unhealthyInstances,omitempty"`
	// RPOExceededPairs is the number of replication pairs of the whole
	// project above their RPO target at the latest SDRS statistics point
	// (ListRpoStatistics counts per project, not per group); -1 when
	// unknown.
	// +optional
	RPOExceededPairs int32 `json:"rpoExceededPairs"`
	// CheckedAt is when the pairs and instances were last read.
	// +optional
	CheckedAt *metav1.Time `json:"checkedAt,omitempty"`
}

// ProtectionGroupStatus is what the operator last saw and did.
type ProtectionGroupStatus struct {
	// ObservedGeneration is the spec generation the status describes.
	// +optional
	ObservedGeneration int64 `json:"observedGeneration,omitempty"`

	// ActiveSite is the site that serves production now.
	// +optional
	ActiveSite Site `json:"activeSite,omitempty"`

	// Sites names the availability zone in each role now; they swap after
	// a planned failover or failover.
	// +optional
	Sites *SiteRoles `json:"sites,omitempty"`

	// Group is the SDRS protection group as last read.
	// +optional
	Group *GroupObservation `json:"group,omitempty"`

	// Replication is the replication state as last read.
	// +optional
	Replication *ReplicationObservation `json:"replication,omitempty"`

	// CurrentOperation is the operation in flight, if any. At most one.
	// +optional
	CurrentOperation *Operation `json:"currentOperation,omitempty"`

	// LastOperation is the last finished operation.
	// +optional
	LastOperation *Operation `json:"lastOperation,omitempty"`

	// History lists finished operations, newest first, at most 20.
	// +optional
	// +listType=atomic
	// +kubebuilder:validation:MaxItems=20
	History []Operation `json:"history,omitempty"`

	// Instances lists the protected instances and the server serving each.
	// +optional
	// +listType=map
	// +listMapKey=id
	Instances []InstanceObservation `json:"instances,omitempty"`

	// FirstSwap says whether the group's first swap has happened, which
	// decides the login rules (status.instances[].login).
	// +optional
	FirstSwap *FirstSwap `json:"firstSwap,omitempty"`

	// LastDrill is the group's last finished ProtectionGroupDrill.
	// +optional
	LastDrill *DrillRecord `json:"lastDrill,omitempty"`

	// LastPassedDrill is the group's last drill that passed.
	// +optional
	LastPassedDrill *DrillRecord `json:"lastPassedDrill,omitempty"`

	// Readiness says whether a planned and a forced failover would run
	// now, and the SDRS facts behind it (the FailoverReady condition).
	// +optional
	Readiness *Readiness `json:"readiness,omitempty"`

	// LastHandledRetry is the value of the dr.sdrs.io/retry annotation the
	// operator last acted on.
	// +optional
	LastHandledRetry string `json:"lastHandledRetry,omitempty"`

	// Conditions: Ready, Reconciling, Stalled (kstatus), Protected, Paused,
	// ServersRunning, FailoverReady.
	// +optional
	// +listType=map
	// +listMapKey=type
	Conditions []metav1.Condition `json:"conditions,omitempty"`
}

// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:shortName=pg,categories=sdrs
// +kubebuilder:printcolumn:name="DESIRED",type=string,JSONPath=`.spec.desiredActiveSite`
// +kubebuilder:printcolumn:name="ACTIVE",type=string,JSONPath=`.status.activeSite`
// +kubebuilder:printcolumn:name="READY",type=string,JSONPath=`.status.conditions[?(@.type=="Ready")].status`
// +kubebuilder:printcolumn:name="REASON",type=string,JSONPath=`.status.conditions[?(@.type=="Ready")].reason`
// +kubebuilder:printcolumn:name="PAUSED",type=string,JSONPath=`.status.conditions[?(@.type=="Paused")].status`
// +kubebuilder:printcolumn:name="REPLICATION",type=string,JSONPath=`.status.replication.status`
// +kubebuilder:printcolumn:name="FAILOVER-READY",type=string,priority=1,JSONPath=`.status.conditions[?(@.type=="FailoverReady")].reason`
// +kubebuilder:printcolumn:name="PRODUCTION",type=string,priority=1,JSONPath=`.status.sites.production`
// +kubebuilder:printcolumn:name="GROUP",type=string,priority=1,JSONPath=`.status.group.id`
// +kubebuilder:printcolumn:name="AGE",type=date,JSONPath=`.metadata.creationTimestamp`
// The SDRS group ID is selectable on the server (kubectl get pg -A
// --field-selector spec.protectionGroupID=ID): a manager that watches only
// some namespaces asks the API server for the other owners of a group
// before it acts, without listing the fleet. An adopted group names it in
// spec; a created one only in status, hence both.
// +kubebuilder:selectablefield:JSONPath=`.spec.protectionGroupID`
// +kubebuilder:selectablefield:JSONPath=`.status.group.id`

// ProtectionGroup declares which site of a Huawei Cloud SDRS protection
// group is active. The operator moves the group there with a planned
// failover, failover or re-protect, and reports every step in status.
type ProtectionGroup struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	// +required
	Spec ProtectionGroupSpec `json:"spec"`
	// The default makes a new object carry observedGeneration 0, so that
	// kstatus reports InProgress (not Current) before the first reconcile.
	// +optional
	// +kubebuilder:default={observedGeneration: 0}
	Status ProtectionGroupStatus `json:"status,omitempty"`
}

// +kubebuilder:object:root=true

// ProtectionGroupList contains a list of ProtectionGroup.
type ProtectionGroupList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []ProtectionGroup `json:"items"`
}

func init() {
	SchemeBuilder.Register(&ProtectionGroup{}, &ProtectionGroupList{})
}

// GetConditions returns the conditions, for condition helpers.
func (p *ProtectionGroup) GetConditions() []metav1.Condition { return p.Status.Conditions }

// SetConditions replaces the conditions, for condition helpers.
func (p *ProtectionGroup) SetConditions(c []metav1.Condition) { p.Status.Conditions = c }

// IsPaused reports whether the paused annotation is set to "true".
func (p *ProtectionGroup) IsPaused() bool { return p.GetAnnotations()[PausedAnnotation] == "true" }

// GroupID returns the SDRS group ID: the adopted one, or the created one.
func (p *ProtectionGroup) GroupID() string {
	if p.Spec.ProtectionGroupID != "" {
		return p.Spec.ProtectionGroupID
	}
	if p.Status.Group != nil {
		return p.Status.Group.ID
	}
	return ""
}
