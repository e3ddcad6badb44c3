package controllers

import (
	"math/rand/v2"
	"sync"
	"time"
)

const (
	minPoll = 500 * time.Millisecond
	maxPoll = 30 * time.Second
	// learnWeight is the weight of the newest duration in the running
	// average of each job type's duration.
	learnWeight = 0.3
)

// PollSchedule decides when to look at a running job again. It learns how
// long each job type usually takes, polls just after that, and backs off
// (capped, jittered) once a job is overdue. This spends few calls on long
// jobs yet notices the end of a job soon after it happens.
type PollSchedule struct {
	mu      sync.Mutex
	typical map[string]time.Duration
}

// NewPollSchedule returns a schedule that knows nothing yet.
func NewPollSchedule() *PollSchedule {
	return &PollSchedule{typical: map[string]time.Duration{}}
}

// Next returns the delay before the next poll of a job of jobType that has
// run for age.
func (p *PollSchedule) Next(jobType string, age time.Duration) time.Duration {
	p.mu.Lock()
	expected, known := p.typical[jobType]
	p.mu.Unlock()
	var d time.Duration
	switch {
	case !known:
		// Nothing learned: grow with the job's age, like an exponential
		// backoff that restarts with every job.
		d = age / 2
	case age < expected:
		// Look just after the job usually ends.
		d = expected - age + expected/20
	default:
		// Overdue: look often at first, then less.
		d = (age - expected) / 4
	}
	return jitter(clamp(d, minPoll, maxPoll))
}

// Observe records how long a finished job of jobType took.
func (p *PollSchedule) Observe(jobType string, took time.Duration) {
	if jobType == "" || took <= 0 {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if old, ok := p.typical[jobType]; ok {
		took = time.Duration(learnWeight*float64(took) + (1-learnWeight)*float64(old))
	}
	p.typical[jobType] = took
}

func clamp(d, lo, hi time.Duration) time.Duration {
	return min(max(d, lo), hi)
}

// jitter spreads polls by ±10% so that many groups flipped at once do not
// poll in lockstep.
func jitter(d time.Duration) time.Duration {
	return time.Duration(float64(d) * (0.9 + 0.2*rand.Float64()))
}
