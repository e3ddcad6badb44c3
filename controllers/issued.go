package controllers

import (
	"sync"
	"time"
)

// DefaultRecordJobIDAfter is how long an SDRS job may run before its ID is
// written to status on its own (ProtectionGroupReconciler.RecordJobIDAfter).
const DefaultRecordJobIDAfter = 10 * time.Second

// issuedJobs remembers the SDRS job ID of each action this process issued,
// by the operation's requestID, until the status records it.
//
// The intent is written before the SDRS call, always. The job ID is not
// written on its own right after the call: a job that ends within
// RecordJobIDAfter has its ID written with its result, which saves one
// status write per failover (a quarter of a fleet failover's writes); a
// longer job has it written once it has run that long. Losing the memory
// (a restart, a new leader) loses nothing that matters: an SDRS step
// whose job ID is unknown is judged by the group's own status, which SDRS
// moves to reversing, failing-over, ... synchronously when it accepts an
// action, and to error-* when the job fails, so nothing is issued twice.
type issuedJobs struct {
	mu   sync.Mutex
	jobs map[string]issuedJob
	// added counts remember calls, to sweep forgotten entries now and then.
	added int
}

type issuedJob struct {
	id string
	at time.Time
}

// forgetIssuedAfter bounds the memory of operations whose object vanished
// mid-job.
const forgetIssuedAfter = 24 * time.Hour

func newIssuedJobs() *issuedJobs { return &issuedJobs{jobs: map[string]issuedJob{}} }

// remember records that the action of requestID started job jobID at now.
func (m *issuedJobs) remember(requestID, jobID string, now time.Time) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.added++; m.added%1000 == 0 {
		for k, j := range m.jobs {
			if now.Sub(j.at) > forgetIssuedAfter {
				delete(m.jobs, k)
			}
		}
	}
	m.jobs[requestID] = issuedJob{id: jobID, at: now}
}

// recall returns the job the action of requestID started, if this process
// issued it.
func (m *issuedJobs) recall(requestID string) (issuedJob, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	j, ok := m.jobs[requestID]
	return j, ok
}

// forget drops requestID once its operation ended.
func (m *issuedJobs) forget(requestID string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.jobs, requestID)
}

func (m *issuedJobs) len() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.jobs)
}
