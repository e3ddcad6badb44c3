package controllers

import (
	"errors"
	"testing"
	"time"

	drv1alpha1 "github.com/sdrs-operator/sdrs-operator/api/v1alpha1"
)

func TestUnwrittenJobsRememberRecallForget(t *testing.T) {
	m := newUnwrittenJobs()
	if _, ok := m.recall("req-1"); ok {
		t.Fatal("an empty memory recalls nothing")
	}
	m.remember("req-1", "job-1", now)
	if j, ok := m.recall("req-1"); !ok || j.id != "job-1" || !j.at.Equal(now) {
		t.Fatalf("recall after remember: %+v %v", j, ok)
	}
	m.forget("req-1")
	if _, ok := m.recall("req-1"); ok {
		t.Fatal("a forgotten operation is not recalled")
	}
	// Operations whose object vanished mid-job are swept after a day.
	m.remember("lost", "job-lost", now)
	for i := 0; i < 1000; i++ {
		m.remember("req", "job", now.Add(forgetIssuedAfter+time.Minute))
	}
	if _, ok := m.recall("lost"); ok || m.len() != 1 {
		t.Errorf("after a day the lost entry is swept: len %d", m.len())
	}
}

// jobWait keeps a young job's ID out of status, so that the reconcile that
// issued the action, and looks before the job ends, write nothing; it wakes
// the group to write the ID once the job has run RecordJobIDAfter.
func TestJobWaitRecordsTheJobIDLate(t *testing.T) {
	issuedAt := now
	cases := map[string]struct {
		reason     string
		after      time.Duration // RecordJobIDAfter
		age        time.Duration // the job's age at this look
		unrecorded bool
		pollIn     time.Duration
		wantJobID  string
		wantAfter  time.Duration
	}{
		"YoungJobEndsSoon": {reason: "A job expected to end before RecordJobIDAfter stays out of status until its result.",
			after: 10 * time.Second, age: time.Second, unrecorded: true, pollIn: 4 * time.Second, wantJobID: "", wantAfter: 4 * time.Second},
		"YoungJobRunsLong": {reason: "A job expected to run longer wakes the group when RecordJobIDAfter is reached, to record its ID.",
			after: 10 * time.Second, age: time.Second, unrecorded: true, pollIn: 5 * time.Minute, wantJobID: "", wantAfter: 9 * time.Second},
		"OldEnough": {reason: "A job that has run RecordJobIDAfter has its ID written now.",
			after: 10 * time.Second, age: 10 * time.Second, unrecorded: true, pollIn: time.Minute, wantJobID: "job-1", wantAfter: time.Minute},
		"Recorded": {reason: "A job ID read from status stays there.",
			after: 10 * time.Second, age: time.Second, unrecorded: false, pollIn: time.Minute, wantJobID: "job-1", wantAfter: time.Minute},
		"RecordAtOnce": {reason: "RecordJobIDAfter 0 writes the job ID right after the call, as the design first had it.",
			after: 0, age: 0, unrecorded: true, pollIn: time.Minute, wantJobID: "job-1", wantAfter: time.Minute},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			r := &ProtectionGroupReconciler{RecordJobIDAfter: tc.after, Clock: func() time.Time { return issuedAt.Add(tc.age) }}
			op := &drv1alpha1.Operation{Type: drv1alpha1.OperationPlannedFailover, From: drv1alpha1.SiteSource,
				To: drv1alpha1.SiteTarget, Step: drv1alpha1.StepSDRSAction, JobID: "job-1"}
			var un *unwrittenJob
			if tc.unrecorded {
				un = &unwrittenJob{id: "job-1", at: issuedAt}
			}
			err := r.jobWait(op, un, tc.pollIn)
			var we *waitError
			if !errors.As(err, &we) {
				t.Fatalf("\nReason: %s\nnot a wait: %v", tc.reason, err)
			}
			if op.JobID != tc.wantJobID || we.after != tc.wantAfter || we.reason != drv1alpha1.PlannedFailoverInProgressReason {
				t.Errorf("\nReason: %s\njob ID %q after %s reason %s, want %q after %s", tc.reason, op.JobID, we.after, we.reason, tc.wantJobID, tc.wantAfter)
			}
			if tc.wantJobID == "" && we.message != "planned failover from source to target: in progress" {
				t.Errorf("\nReason: %s\nthe message must be the intent's, so nothing is written: %q", tc.reason, we.message)
			}
		})
	}
}
