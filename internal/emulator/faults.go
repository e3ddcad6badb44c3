package emulator

import (
	"fmt"
	"math/rand/v2"
	"net/http"
	"time"
)

// JobFault makes the next Count jobs of JobType end FAIL with ErrorCode.
type JobFault struct {
	JobType    string `json:"job_type"`
	Count      int    `json:"count"`
	ErrorCode  string `json:"error_code"`
	FailReason string `json:"fail_reason"`
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
	for i := range e.st.JobFaults {
		f := &e.st.JobFaults[i]
		if f.JobType != jobType || f.Count <= 0 {
			continue
		}
		f.Count--
		taken := *f
		taken.Count = 1
		if f.Count == 0 {
			e.st.JobFaults = append(e.st.JobFaults[:i], e.st.JobFaults[i+1:]...)
		}
		return &taken
	}
	return nil
}
