package v1alpha1

// Condition types. Ready, Reconciling and Stalled follow kstatus, so kubectl
// wait, kstatus and Argo CD read them; Protected and Paused are domain
// conditions. Every Event the operator records uses the reason of the
// condition it sets, so there is one vocabulary.
const (
	// ReadyCondition is True when the SDRS group is at the desired active
	// site with the desired protection and nothing is in flight.
	ReadyCondition = "Ready"
	// ReconcilingCondition is True while the operator is making progress
	// (an operation in flight, a transient error being retried).
	ReconcilingCondition = "Reconciling"
	// StalledCondition is True when progress needs a person: a failed job,
	// bad credentials, a precondition that will not resolve by itself.
	StalledCondition = "Stalled"
	// ProtectedCondition is True when replication runs (protection started
	// and the group protected).
	ProtectedCondition = "Protected"
	// PausedCondition is True while the paused annotation is set.
	PausedCondition = "Paused"
	// ServersRunningCondition says whether the servers at the active site
	// run: False names those that do not and who starts them (after a
	// planned failover with serverPower Manual, a person does).
	ServersRunningCondition = "ServersRunning"
	// FailoverReadyCondition is True when a planned failover to the other
	// site would run now; False says why, and whether a forced failover
	// would (reason ForcedFailoverOnly). It changes nothing by itself.
	FailoverReadyCondition = "FailoverReady"
	// DrillUpToDateCondition is True while the group's last passed DR
	// drill is younger than spec.drillInterval.
	DrillUpToDateCondition = "DrillUpToDate"
)

// Reasons for Ready, Reconciling and Stalled. An Event carries the same string.
const (
	// ReconciledReason surfaces when the group is where the spec says.
	ReconciledReason = "Reconciled"
	// ProgressingReason surfaces in the first reconcile of a new generation,
	// before anything was read, so that a stale Ready never passes a wait.
	ProgressingReason = "Progressing"
	// CreatingReason surfaces while SDRS creates the group.
	CreatingReason = "Creating"
	// EnablingProtectionReason surfaces while SDRS starts protection.
	EnablingProtectionReason = "EnablingProtection"
	// ReprotectingReason surfaces while SDRS re-protects after a failover.
	ReprotectingReason = "Reprotecting"
	// DisablingProtectionReason surfaces while SDRS stops protection.
	DisablingProtectionReason = "DisablingProtection"
	// PlannedFailoverInProgressReason surfaces while reverse-server-group runs.
	PlannedFailoverInProgressReason = "PlannedFailoverInProgress"
	// FailoverInProgressReason surfaces while failover-server-group runs.
	FailoverInProgressReason = "FailoverInProgress"
	// DeletingReason surfaces while SDRS deletes the group.
	DeletingReason = "Deleting"
	// StoppingServersReason surfaces while the operator stops the
	// production servers before a planned failover.
	StoppingServersReason = "StoppingServers"
	// StartingServersReason surfaces while the operator starts the servers
	// at the new production site.
	StartingServersReason = "StartingServers"
	// WaitingForServersStoppedReason surfaces with serverPower Manual while
	// production servers still run; the message names them.
	WaitingForServersStoppedReason = "WaitingForServersStopped"
	// GroupBusyReason surfaces while the group is in a transitional status
	// the operator did not start (console, Terraform, a lost job ID).
	GroupBusyReason = "GroupBusy"
	// OperationSucceededReason surfaces in the Event when an operation ends well.
	OperationSucceededReason = "OperationSucceeded"
	// OperationCancelledReason: the desired site changed before SDRS was
	// asked to act, so the operation ended without touching SDRS (servers
	// it had stopped are started again).
	OperationCancelledReason = "OperationCancelled"
	// OutcomeUnknownReason: an SDRS action may or may not have been taken
	// (its answer was lost) and SDRS does not show which; the operator
	// waits and does not act.
	OutcomeUnknownReason = "OutcomeUnknown"
	// ReplicationLinkBrokenReason: a replication pair reports fault level 5
	// (the link to the DR site is broken, e.g. its zone is down), so SDRS
	// cannot replicate into it; protection waits until it is repaired.
	ReplicationLinkBrokenReason = "ReplicationLinkBroken"
	// ServersRunningReason: every server at the active site runs.
	ServersRunningReason = "ServersRunning"
	// ServersStoppedReason: some servers at the active site do not run.
	ServersStoppedReason = "ServersStopped"
	// ServersUnknownReason: the servers' power has not been read.
	ServersUnknownReason = "ServersUnknown"

	// ReplicationNotSynchronizedReason surfaces when a planned failover
	// waits for replication to become active.
	ReplicationNotSynchronizedReason = "ReplicationNotSynchronized"
	// ProductionSiteUnhealthyReason surfaces when a planned failover cannot
	// run because the production site is down; Forced or Auto can.
	ProductionSiteUnhealthyReason = "ProductionSiteUnhealthy"
	// ProtectionRequiredReason surfaces when a planned failover needs
	// protection, but spec.protection is Disabled.
	ProtectionRequiredReason = "ProtectionRequired"
	// PreconditionNotMetReason surfaces when SDRS refuses an action in the
	// group's current state.
	PreconditionNotMetReason = "PreconditionNotMet"
	// JobFailedReason surfaces when an SDRS or ECS job ended FAIL; the
	// message carries the SDRS error code. Retry with the retry annotation.
	JobFailedReason = "JobFailed"
	// GroupErrorReason surfaces when the group is in an error-* status that
	// the operator did not cause.
	GroupErrorReason = "GroupError"
	// GroupNotFoundReason surfaces when the adopted SDRS group does not exist.
	GroupNotFoundReason = "GroupNotFound"
	// GroupConflictReason surfaces when another ProtectionGroup already
	// manages the same SDRS group.
	GroupConflictReason = "GroupConflict"
	// NoReplicationPairsReason: the SDRS group has no protected instances
	// (so no replication pairs) and SDRS cannot protect it; members are
	// added with the SDRS console or API.
	NoReplicationPairsReason = "NoReplicationPairs"
	// FailoverNotAllowedReason: a replication pair reports fault level 5,
	// in which SDRS allows no failover of either kind.
	FailoverNotAllowedReason = "FailoverNotAllowed"
	// DeletionBlockedReason surfaces when deletionPolicy Delete cannot
	// delete the group yet; the message says why.
	DeletionBlockedReason = "DeletionBlocked"

	// ProviderConfigNotFoundReason surfaces when the ProviderConfig is missing.
	ProviderConfigNotFoundReason = "ProviderConfigNotFound"
	// NamespaceNotAllowedReason surfaces when the ProviderConfig's
	// namespaceSelector does not select the ProtectionGroup's namespace;
	// nothing is sent to SDRS until it does.
	NamespaceNotAllowedReason = "NamespaceNotAllowed"
	// SecretNotFoundReason surfaces when the credentials Secret or a key is missing.
	SecretNotFoundReason = "SecretNotFound"
	// CredentialsInvalidReason surfaces when SDRS rejects the AK/SK.
	CredentialsInvalidReason = "CredentialsInvalid"
	// SDRSUnavailableReason surfaces on transient errors (5xx, network); retried.
	SDRSUnavailableReason = "SDRSUnavailable"
	// ThrottledReason surfaces when SDRS answered 429; retried after Retry-After.
	ThrottledReason = "Throttled"
	// ReconciliationPausedReason surfaces while the paused annotation is set.
	ReconciliationPausedReason = "ReconciliationPaused"
	// InvalidRequestReason surfaces when SDRS rejects a request as malformed
	// or the ProviderConfig cannot be used (unknown region, bad CA bundle).
	InvalidRequestReason = "InvalidRequest"
	// ReconcileErrorReason surfaces for unexpected errors; retried.
	ReconcileErrorReason = "ReconcileError"
)

// Reasons for Protected.
const (
	// ProtectionStartedReason surfaces when replication runs and is synchronised.
	ProtectionStartedReason = "ProtectionStarted"
	// ReplicationCopyingReason surfaces while replication catches up.
	ReplicationCopyingReason = "ReplicationCopying"
	// ProtectionStoppedReason surfaces when protection is off.
	ProtectionStoppedReason = "ProtectionStopped"
	// FailedOverReason surfaces after a forced failover, before re-protect.
	FailedOverReason = "FailedOver"
	// ProtectionUnknownReason surfaces before the group was read.
	ProtectionUnknownReason = "ProtectionUnknown"
)

// Reasons for FailoverReady, and for the planned and forced checks in
// status.readiness.
const (
	// PlannedFailoverReadyReason: a planned failover would run now.
	PlannedFailoverReadyReason = "PlannedFailoverReady"
	// ForcedFailoverOnlyReason: only a forced failover (data loss up to the
	// RPO) would run now; the message says what stops the planned one.
	ForcedFailoverOnlyReason = "ForcedFailoverOnly"
	// NotFailoverReadyReason: neither would run now; the message says why.
	NotFailoverReadyReason = "NotFailoverReady"
	// OperationInProgressReason: an operation is in flight.
	OperationInProgressReason = "OperationInProgress"
	// ReadinessUnknownReason: the group or its pairs have not been read.
	ReadinessUnknownReason = "ReadinessUnknown"
	// FailoverAdvisedReason: a pair reports fault level 2 (the production
	// disk is unusable); SDRS advises a forced failover.
	FailoverAdvisedReason = "FailoverAdvised"
	// InstancesUnhealthyReason: protected instances are invalid or fault.
	InstancesUnhealthyReason = "InstancesUnhealthy"
)

// Reasons for DrillUpToDate.
const (
	// DrillPassedRecentlyReason: a drill passed within spec.drillInterval.
	DrillPassedRecentlyReason = "DrillPassedRecently"
	// DrillOverdueReason: the last passed drill is older than the interval.
	DrillOverdueReason = "DrillOverdue"
	// NoDrillPassedReason: no drill of this group has passed yet.
	NoDrillPassedReason = "NoDrillPassed"
)

// Event reasons that belong to no condition.
const (
	// LoginChangedReason: a swap changed which credentials open the
	// servers; the Event says what to use now.
	LoginChangedReason = "LoginChanged"
)

// Reasons for Paused.
const (
	// PausedReason surfaces while the paused annotation is "true".
	PausedReason = "Paused"
	// NotPausedReason surfaces otherwise.
	NotPausedReason = "NotPaused"
)

// Reasons for ProviderConfig Ready.
const (
	// CredentialsValidReason surfaces when SDRS accepted the credentials.
	CredentialsValidReason = "CredentialsValid"
	// ProviderConfigInUseReason surfaces while a ProviderConfig being
	// deleted waits for the ProtectionGroups that still use it.
	ProviderConfigInUseReason = "InUse"
)

// DRPlan condition types beside Ready, Reconciling and Stalled.
const (
	// WaitingForApprovalCondition is True while a run waits for an
	// Approve decision; the message names the step.
	WaitingForApprovalCondition = "WaitingForApproval"
	// ValidCondition is False when the plan's members cannot be placed
	// (a member in two waves or in none, a decision naming an unknown run,
	// step or member); no run starts while it is False.
	ValidCondition = "Valid"
)

// DRPlan reasons. Events carry the same strings.
const (
	// PlanArmedReason: no desiredActiveSite; the plan is evaluated, nothing moves.
	PlanArmedReason = "Armed"
	// PlanAtDesiredSiteReason: every member is at the desired site and no run is live.
	PlanAtDesiredSiteReason = "AtDesiredSite"
	// PlanMembersNotAtSiteReason: the last run ended, yet members are not
	// at the desired site (failed, skipped or moved since); a Retry
	// decision for the run starts a new one.
	PlanMembersNotAtSiteReason = "MembersNotAtSite"
	// PlanSuspendedReason: spec.suspend holds new steps and members.
	PlanSuspendedReason = "Suspended"
	// PlanInvalidReason: the Valid condition is False.
	PlanInvalidReason = "InvalidPlan"
	// PlanValidReason: every member is in exactly one wave.
	PlanValidReason = "Evaluated"
	// PlanNoMembersReason: the selector selects no ProtectionGroup.
	PlanNoMembersReason = "NoMembers"
	// RunStartedReason: a run was recorded.
	RunStartedReason = "RunStarted"
	// WaveStartedReason: a wave began (its pre-steps, then its members).
	WaveStartedReason = "WaveStarted"
	// WaveRunningReason: a wave's members are moving.
	WaveRunningReason = "WaveRunning"
	// WaveSucceededReason: a wave's members are done and its post-steps passed.
	WaveSucceededReason = "WaveSucceeded"
	// MemberMovedReason: the plan set a member's desiredActiveSite.
	MemberMovedReason = "MemberMoved"
	// MemberDrillCreatedReason: the plan created a member's drill.
	MemberDrillCreatedReason = "MemberDrillCreated"
	// MemberFailedReason: a member stalled or timed out.
	MemberFailedReason = "MemberFailed"
	// MemberTimeoutReason: a member was not done within memberTimeout.
	MemberTimeoutReason = "MemberTimeout"
	// MemberDivergedReason: someone else set a member the run moved to
	// another site; the plan reports it and does not fight it.
	MemberDivergedReason = "MemberDiverged"
	// MemberClaimedElsewhereReason: another plan's live run holds a member.
	MemberClaimedElsewhereReason = "MemberClaimedElsewhere"
	// ApprovalRequiredReason: an approval step waits for a decision.
	ApprovalRequiredReason = "ApprovalRequired"
	// ApprovedReason: an approval step was approved.
	ApprovedReason = "Approved"
	// ApprovalExpiredReason: an approval step's timeout passed.
	ApprovalExpiredReason = "ApprovalExpired"
	// StepStartedReason: a wait or job step began.
	StepStartedReason = "StepStarted"
	// StepSucceededReason: a step passed.
	StepSucceededReason = "StepSucceeded"
	// StepFailedReason: a job step failed or timed out.
	StepFailedReason = "StepFailed"
	// RunBlockedReason: the run waits for a decision (Retry, Skip, Abort).
	RunBlockedReason = "RunBlocked"
	// DecisionAppliedReason: a decision was used.
	DecisionAppliedReason = "DecisionApplied"
	// RunSucceededReason: every wave succeeded.
	RunSucceededReason = "RunSucceeded"
	// RunFailedReason: the run ended with failed members.
	RunFailedReason = "RunFailed"
	// RunAbortedReason: a decision aborted the run.
	RunAbortedReason = "RunAborted"
	// RunSupersededReason: desiredActiveSite changed; the run ended after
	// its wave in flight and a new run follows.
	RunSupersededReason = "RunSuperseded"
	// RTOExceededReason: a run took longer than spec.rto.
	RTOExceededReason = "RTOExceeded"
)
