package controllers

import (
	"sync"
	"time"
)

// unwrittenJobs remembers the SDRS job ID of each action this process issued,
// by the operation's requestID, until the status records it.
//
// The attempt is written before the SDRS call, always, and by default the
// job ID right after it, in the same reconcile. The memory bridges a status
// write that failed after the call (the API server down): the job is still
// followed by its ID. With RecordJobIDAfter above 0 (a trade some choose:
// one status write fewer per short job) it also holds the ID until then; a
// restart inside that window leaves the attempt to the verdict
// (verdict.go), which waits out the grace before it concludes anything.
type unwrittenJobs struct {
	mu   sync.Mutex
	jobs map[string]unwrittenJob
	// added counts remember calls, to sweep forgotten entries now and then.
	added int
}

type unwrittenJob struct {
	id string
	at time.Time
}

// forgetIssuedAfter bounds the memory of operations whose object vanished
// mid-job.
const forgetIssuedAfter = 24 * time.Hour

func newUnwrittenJobs() *unwrittenJobs { return &unwrittenJobs{jobs: map[string]unwrittenJob{}} }

// remember records that the action of requestID started job jobID at now.
func (m *unwrittenJobs) remember(requestID, jobID string, now time.Time) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.added++; m.added%1000 == 0 {
		for k, j := range m.jobs {
			if now.Sub(j.at) > forgetIssuedAfter {
				delete(m.jobs, k)
			}
		}
	}
	m.jobs[requestID] = unwrittenJob{id: jobID, at: now}
}

// recall returns the job the action of requestID started, if this process
// issued it.
func (m *unwrittenJobs) recall(requestID string) (unwrittenJob, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	j, ok := m.jobs[requestID]
	return j, ok
}

// forget drops requestID once its operation ended.
func (m *unwrittenJobs) forget(requestID string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.jobs, requestID)
}

func (m *unwrittenJobs) len() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.jobs)
}
