package v1alpha1

const (
	// PausedAnnotation, set to "true" on a ProtectionGroup, stops the
	// operator from starting new SDRS actions. A job already in flight is
	// still followed to its end, so pausing never orphans an operation.
	PausedAnnotation = "dr.sdrs.io/paused"

	// RetryAnnotation asks the operator to retry an operation that ended
	// Stalled (for example a failed SDRS job). Any new value counts as one
	// request; the operator records the value it acted on in
	// status.lastHandledRetry, so the same value never retries twice.
	RetryAnnotation = "dr.sdrs.io/retry"

	// RefreshAnnotation: any new value makes the operator look at the
	// group now instead of at its next scheduled look. Only annotations
	// under AnnotationPrefix wake the operator; other metadata changes do
	// not, so a tool that touches labels cannot make it call SDRS.
	RefreshAnnotation = "dr.sdrs.io/refresh"

	// AnnotationPrefix is the prefix of the annotations the operator reads.
	AnnotationPrefix = "dr.sdrs.io/"

	// ProtectionGroupFinalizer lets the operator apply spec.deletionPolicy
	// before a ProtectionGroup disappears.
	ProtectionGroupFinalizer = "dr.sdrs.io/protection-group"

	// ProviderConfigInUseFinalizer keeps a ProviderConfig while
	// ProtectionGroups still use it.
	ProviderConfigInUseFinalizer = "dr.sdrs.io/in-use"
)

const (
	// PlanRunAnnotation is the run stamp a DRPlan puts on each member it
	// moves, in the same server-side apply as the member's site:
	// <plan>/<run>/<wave>. A restarted plan controller rebuilds its run from
	// these stamps, and a member stamped by another plan's live run is
	// claimed by it.
	PlanRunAnnotation = "dr.sdrs.io/run"
	// PlanMovedAtAnnotation is when the plan moved the member (RFC 3339),
	// written with the stamp; a wave's memberTimeout counts from it.
	PlanMovedAtAnnotation = "dr.sdrs.io/moved-at"
	// PlanFieldManager is the server-side apply field manager the plan
	// controller sets members' sites with. Argo CD's ignoreDifferences
	// names it in managedFieldsManagers.
	PlanFieldManager = "sdrs-drplan"
)
