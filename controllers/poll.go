package controllers

import (
	"math/rand/v2"
	"sync"
	"time"

	"k8s.io/apimachinery/pkg/types"
)

const (
	minPoll = 500 * time.Millisecond
	maxPoll = 30 * time.Second
	// learnWeight is the weight of the newest duration in the running
	// average of each job type's duration.
	learnWeight = 0.3
	// scoutsPerType is how many jobs of a type whose duration is not
	// known yet poll for everyone: when a whole fleet fails over at once,
	// the others wait until the scouts learned how long such a job takes.
	scoutsPerType = 2
	// scoutStep: a scout looks again after 1/scoutStep of its job's age
	// (at least minPoll), so it sees the end within an eighth of the
	// duration.
	scoutStep = 8
	// parkedWait is how long a job that is not a scout waits if nothing
	// wakes it (a scout vanished with its object); learning the duration
	// wakes it at once.
	parkedWait = maxPoll
	// scoutGrace: a scout that has not looked for this long past its
	// planned look has gone (its object was deleted), and frees its place.
	scoutGrace = 10 * time.Second
	// forgetAfter bounds the memory of jobs whose end was never seen.
	forgetAfter = 24 * time.Hour
)

// PollSchedule decides when to look at a running job again, for every
// ProtectionGroup of the manager together. It learns how long each job
// type usually takes and looks just after that; a reconcile that comes
// earlier (a wake-up, an unrelated event) waits without a call. While a
// type's duration is not known, a few scouts poll with a fine backoff and
// the other jobs of that type wait until a scout learned it: a thousand
// groups flipped at once cost about one poll each, not one per backoff
// step. Once overdue, a job is polled with a capped backoff.
type PollSchedule struct {
	mu      sync.Mutex
	typical map[string]time.Duration
	jobs    map[string]*trackedJob // by job ID
	// wake is called, outside the lock, with the objects whose jobs wait
	// for a type's duration once it is learned, and when each is due.
	wake func([]ParkedJob)
	// issued counts Issued calls, to sweep forgotten jobs now and then.
	issued int
}

type trackedJob struct {
	typ   string
	key   types.NamespacedName
	begin time.Time
	// scout jobs poll for the others until the type's duration is known;
	// scoutUntil is when a scout that has not looked again counts as gone.
	scout      bool
	scoutUntil time.Time
	parked     bool
}

// NewPollSchedule returns a schedule that knows nothing yet.
func NewPollSchedule() *PollSchedule {
	return &PollSchedule{typical: map[string]time.Duration{}, jobs: map[string]*trackedJob{}}
}

// ParkedJob is a job that waited for its type's duration: its object, and
// when the job should end by what was learned.
type ParkedJob struct {
	Key types.NamespacedName
	Due time.Time
}

// OnLearned sets the function that wakes parked jobs once their type's
// duration is known. The reconciler enqueues each for its due time: woken
// at once, a job that has not ended yet would cost a reconcile that only
// schedules the next.
func (p *PollSchedule) OnLearned(wake func([]ParkedJob)) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.wake = wake
}

// Issued records a job that was just started for key and returns how long
// to wait before looking at it.
func (p *PollSchedule) Issued(key types.NamespacedName, jobID, jobType string, now time.Time) time.Duration {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.issued++
	if p.issued%1000 == 0 {
		p.sweepLocked(now)
	}
	j := &trackedJob{typ: jobType, key: key, begin: now}
	p.jobs[jobID] = j
	return p.waitLocked(j, jobID, now)
}

// PollNow says whether a reconcile that finds the job in flight should ask
// SDRS now, and if not, how long to wait. A job this process does not know
// (it restarted) is looked at once to learn when it began.
func (p *PollSchedule) PollNow(key types.NamespacedName, jobID, jobType string, now time.Time) (bool, time.Duration) {
	p.mu.Lock()
	defer p.mu.Unlock()
	j := p.jobs[jobID]
	if j == nil {
		return true, 0
	}
	if e, ok := p.typical[jobType]; ok {
		if due := j.begin.Add(e + margin(e)); now.Before(due.Add(-10 * time.Millisecond)) {
			return false, jitterUp(due.Sub(now))
		}
		return true, 0
	}
	if j.scout || p.scoutsLocked(jobType, now) < scoutsPerType {
		j.scout, j.parked, j.scoutUntil = true, false, now.Add(scoutGrace)
		return true, 0
	}
	j.parked = true
	return false, parkedWait
}

// Running records that a poll found the job still running (begin as SDRS
// reports it, zero if unknown) and returns how long to wait before the
// next look.
func (p *PollSchedule) Running(key types.NamespacedName, jobID, jobType string, begin, now time.Time) time.Duration {
	p.mu.Lock()
	defer p.mu.Unlock()
	j := p.jobs[jobID]
	if j == nil {
		j = &trackedJob{typ: jobType, key: key, begin: now}
		p.jobs[jobID] = j
	}
	if !begin.IsZero() && !begin.After(now) {
		j.begin = begin
	}
	return p.waitLocked(j, jobID, now)
}

// Finished records that a job of jobType ended after took (0 when not
// known) and forgets its ID (jobID may be empty for jobs that were not
// tracked, such as ECS jobs). Its duration, failed or not, says when the
// other jobs of its type end: when that type was not known before, the
// jobs parked for it are woken. (A failure counts too: when a whole zone
// is down, every job of the wave fails after about the same time.)
func (p *PollSchedule) Finished(jobID, jobType string, took time.Duration) {
	p.mu.Lock()
	if jobID != "" {
		delete(p.jobs, jobID)
	}
	if jobType == "" || took <= 0 {
		p.mu.Unlock()
		return
	}
	_, knew := p.typical[jobType]
	p.observeLocked(jobType, took)
	var parked []ParkedJob
	if !knew {
		e := p.typical[jobType]
		for _, j := range p.jobs {
			if j.typ == jobType && j.parked {
				j.parked = false
				parked = append(parked, ParkedJob{Key: j.key, Due: j.begin.Add(e + margin(e))})
			}
		}
	}
	wake := p.wake
	p.mu.Unlock()
	if wake != nil && len(parked) > 0 {
		wake(parked)
	}
}

// waitLocked is the delay before the next look at j.
func (p *PollSchedule) waitLocked(j *trackedJob, jobID string, now time.Time) time.Duration {
	age := now.Sub(j.begin)
	if e, ok := p.typical[j.typ]; ok {
		j.scout, j.parked = false, false
		if age < e {
			// Look just after such a job usually ends.
			return jitterUp(e - age + margin(e))
		}
		// Overdue: look often at first, then less.
		return jitterUp(clamp((age-e)/4, minPoll, maxPoll))
	}
	if j.scout || p.scoutsLocked(j.typ, now) < scoutsPerType {
		d := clamp(age/scoutStep, minPoll, maxPoll)
		j.scout, j.parked, j.scoutUntil = true, false, now.Add(d+scoutGrace)
		return d
	}
	j.parked = true
	return parkedWait
}

// scoutsLocked counts the live scouts of a type.
func (p *PollSchedule) scoutsLocked(jobType string, now time.Time) int {
	n := 0
	for _, j := range p.jobs {
		if j.scout && j.typ == jobType && now.Before(j.scoutUntil) {
			n++
		}
	}
	return n
}

func (p *PollSchedule) sweepLocked(now time.Time) {
	for id, j := range p.jobs {
		if now.Sub(j.begin) > forgetAfter {
			delete(p.jobs, id)
		}
	}
}

// Next returns the delay before the next poll of a job of jobType that has
// run for age, for jobs polled on every look (ECS server jobs).
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
		d = expected - age + margin(expected)
	default:
		// Overdue: look often at first, then less.
		d = (age - expected) / 4
	}
	return jitterUp(clamp(d, minPoll, maxPoll))
}

func (p *PollSchedule) observeLocked(jobType string, took time.Duration) {
	if old, ok := p.typical[jobType]; ok {
		took = time.Duration(learnWeight*float64(took) + (1-learnWeight)*float64(old))
	}
	p.typical[jobType] = took
}

// margin is how long after a job's usual end it is looked at: a twentieth
// of the duration, at least 100ms.
func margin(expected time.Duration) time.Duration {
	return max(expected/20, 100*time.Millisecond)
}

func clamp(d, lo, hi time.Duration) time.Duration {
	return min(max(d, lo), hi)
}

// jitterUp spreads looks by up to 10% later (never earlier, which would
// cost a call that finds the job still running), so that many groups
// flipped at once do not poll in lockstep.
func jitterUp(d time.Duration) time.Duration {
	return time.Duration(float64(d) * (1 + 0.1*rand.Float64()))
}
