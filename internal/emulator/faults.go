package emulator

import (
	"fmt"
	"math/rand/v2"
	"net/http"
	"slices"
	"time"
)

// JobFault makes the next Count jobs of JobType end FAIL with ErrorCode.
type JobFault struct {
	JobType    string `json:"job_type"`
	Count      int    `json:"count"`
	ErrorCode  string `json:"error_code"`
	FailReason string `json:"fail_reason"`
}

// AcceptError makes the next Count group actions that SDRS accepts be
// carried out in full (job created, state changed per the profile) and
// then answered Status (5xx) with the injected-error body instead of the
// job ID: the client cannot tell that its action happened.
type AcceptError struct {
	// Operation is the SDK operation name as the call log shows it
	// (CreateProtectionGroup, DeleteProtectionGroup, StartProtectionGroup,
	// StopProtectionGroup, StartReverseProtectionGroup,
	// StartFailoverProtectionGroup) or "any" of them.
	Operation string `json:"operation"`
	// GroupID, when set, limits the fault to actions on that group.
	GroupID string `json:"group_id,omitempty"`
	Count   int    `json:"count"`
	Status  int    `json:"status"`
}

// acceptErrorAny matches every group action.
const acceptErrorAny = "any"

// groupActionOps are the operations AcceptError applies to.
var groupActionOps = []string{
	"CreateProtectionGroup", "DeleteProtectionGroup",
	opStartGroup, opStopGroup, opReverseGroup, opFailoverGroup,
	"CreateDisasterRecoveryDrill", "DeleteDisasterRecoveryDrill",
}

func (f *AcceptError) validate() error {
	if f.Operation == "" {
		f.Operation = acceptErrorAny
	}
	if f.Operation != acceptErrorAny && !slices.Contains(groupActionOps, f.Operation) {
		return fmt.Errorf("operation must be %q or one of %v", acceptErrorAny, groupActionOps)
	}
	if f.Count <= 0 {
		f.Count = 1
	}
	if f.Status == 0 {
		f.Status = http.StatusInternalServerError
	}
	if f.Status < 500 || f.Status > 599 {
		return fmt.Errorf("status must be a 5xx status")
	}
	return nil
}

// takeAcceptError consumes one accept-then-error fault matching a group
// action the handler accepted. Caller holds e.mu.
func (e *Emulator) takeAcceptError(operation, groupID string) *AcceptError {
	if !slices.Contains(groupActionOps, operation) {
		return nil
	}
	return takeOne(&e.st.AcceptErrors, func(f *AcceptError) *int {
		if (f.Operation != acceptErrorAny && f.Operation != operation) || (f.GroupID != "" && f.GroupID != groupID) {
			return nil
		}
		return &f.Count
	})
}

// takeOne consumes one use of the first fault in the list that matches
// (count returns its Count, or nil when it does not match) and has uses
// left. It returns a copy with Count 1, and drops a used-up fault.
func takeOne[F any](list *[]F, count func(*F) *int) *F {
	for i := range *list {
		f := &(*list)[i]
		n := count(f)
		if n == nil || *n <= 0 {
			continue
		}
		*n--
		taken := *f
		*count(&taken) = 1
		if *n == 0 {
			*list = append((*list)[:i], (*list)[i+1:]...)
		}
		return &taken
	}
	return nil
}

// HTTPFaults disturbs a fraction of SDRS and ECS API calls. Decisions come
// from a PRNG seeded with Seed, so a run is reproducible.
type HTTPFaults struct {
	ThrottleFraction  float64 `json:"throttle_fraction"`
	RetryAfterSeconds int     `json:"retry_after_seconds"`
	ErrorFraction     float64 `json:"error_fraction"`
	ErrorStatus       int     `json:"error_status"`
	Latency           string  `json:"latency,omitempty"`
	Seed              int64   `json:"seed"`
	// Draws counts decisions taken so far; a restarted emulator skips as
	// many to continue the same sequence.
	Draws int64 `json:"draws"`

	latency time.Duration
}

func (f *HTTPFaults) validate() error {
	if f.ThrottleFraction < 0 || f.ThrottleFraction > 1 {
		return fmt.Errorf("throttle_fraction must be within 0..1")
	}
	if f.ErrorFraction < 0 || f.ErrorFraction > 1 {
		return fmt.Errorf("error_fraction must be within 0..1")
	}
	if f.RetryAfterSeconds < 0 {
		return fmt.Errorf("retry_after_seconds must not be negative")
	}
	if f.ErrorStatus == 0 {
		f.ErrorStatus = http.StatusInternalServerError
	}
	if f.ErrorStatus < 500 || f.ErrorStatus > 599 {
		return fmt.Errorf("error_status must be a 5xx status")
	}
	if f.Latency != "" {
		d, err := time.ParseDuration(f.Latency)
		if err != nil || d < 0 {
			return fmt.Errorf("latency must be a non-negative Go duration such as \"100ms\"")
		}
		f.latency = d
	}
	return nil
}

// faultDecision is what the HTTP fault injector does to one call.
type faultDecision struct {
	latency time.Duration
	reply   *apiError
	// retryAfter is the Retry-After header value in seconds, for 429s.
	retryAfter int
}

// decideFault draws the fate of one API call. Caller holds e.mu.
func (e *Emulator) decideFault(ecs bool) faultDecision {
	f := e.st.HTTPFaults
	if f == nil {
		return faultDecision{}
	}
	if e.faultRNG == nil {
		e.faultRNG = rand.New(rand.NewPCG(uint64(f.Seed), uint64(f.Seed)>>1|1))
		for range f.Draws {
			e.faultRNG.Float64()
		}
	}
	u := e.faultRNG.Float64()
	f.Draws++
	d := faultDecision{latency: f.latency}
	switch {
	case u < f.ThrottleFraction:
		d.reply = errorf(http.StatusTooManyRequests, codeThrottled, "The throttling threshold has been reached")
		d.retryAfter = f.RetryAfterSeconds
	case u < f.ThrottleFraction+f.ErrorFraction:
		code := codeInternal
		if ecs {
			code = codeECSFailure
		}
		d.reply = errorf(f.ErrorStatus, code, "injected server error")
	}
	return d
}

// takeJobFault consumes one planned failure for a new job of the type.
// Caller holds e.mu.
func (e *Emulator) takeJobFault(jobType string) *JobFault {
	return takeOne(&e.st.JobFaults, func(f *JobFault) *int {
		if f.JobType != jobType {
			return nil
		}
		return &f.Count
	})
}
