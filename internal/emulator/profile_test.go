package emulator

import (
	"encoding/json"
	"net/http"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/huaweicloud/huaweicloud-sdk-go-v3/services/sdrs/v1/model"
)

// Durations of the profile tests, which run on a fake clock.
const (
	pJob = 10 * time.Second
	pLag = 2 * time.Second // the pessimistic defaults
)

// newProfileEnv starts an emulator in the profile on a fake clock with
// 10s jobs; opts may change the config further.
func newProfileEnv(t *testing.T, profile string, opts ...func(*Config)) (*env, *FakeClock) {
	t.Helper()
	clock := NewFakeClock(time.Now())
	e := newEnv(t, append([]func(*Config){func(c *Config) {
		c.Profile = profile
		c.Clock = clock
		c.JobDuration = pJob
		c.SyncDuration = pJob
	}}, opts...)...)
	return e, clock
}

// job reads a job from the emulator's state (the SDK may not see it yet).
func (e *env) job(id *string) Job {
	e.t.Helper()
	if id == nil {
		e.t.Fatal("no job id")
	}
	e.emu.mu.Lock()
	defer e.emu.mu.Unlock()
	j := e.emu.st.Jobs[*id]
	if j == nil {
		e.t.Fatalf("job %s not in the state", *id)
	}
	return *j
}

// jobOf returns the only job of a type on a group from the state.
func (e *env) jobOf(groupID, jobType string) Job {
	e.t.Helper()
	e.emu.mu.Lock()
	defer e.emu.mu.Unlock()
	var found []Job
	for _, j := range e.emu.st.Jobs {
		if j.Entities.ServerGroupID == groupID && j.Type == jobType {
			found = append(found, *j)
		}
	}
	if len(found) != 1 {
		e.t.Fatalf("want one %s job on %s, got %d", jobType, groupID, len(found))
	}
	return found[0]
}

// wantStatuses checks the group, its instance and its replication pair
// (seedOne(1)) through the SDK, and that list and show agree.
func (e *env) wantStatuses(g SeedGroupResult, status string) model.ShowProtectionGroupParams {
	e.t.Helper()
	grp := e.agreeingGroup(g.ID)
	pi := e.instance(g.Instances[0].ID)
	rep := ok(e.sdrs.ShowReplication(&model.ShowReplicationRequest{ReplicationId: g.Instances[0].ReplicationID})).must(e.t)
	if grp.Status != status || pi.Status != status || rep.Replication.Status != status {
		e.t.Fatalf("want %s everywhere, got group %s, instance %s, replication %s", status, grp.Status, pi.Status, rep.Replication.Status)
	}
	return grp
}

// agreeingGroup shows a group and fails unless the list shows the same.
func (e *env) agreeingGroup(id string) model.ShowProtectionGroupParams {
	e.t.Helper()
	shown := e.group(id)
	listed := ok(e.sdrs.ListProtectionGroups(&model.ListProtectionGroupsRequest{})).must(e.t)
	for _, g := range *listed.ServerGroups {
		if g.Id == id {
			if !reflect.DeepEqual(g, shown) {
				e.t.Fatalf("list and show disagree:\nlist %+v\nshow %+v", g, shown)
			}
			return shown
		}
	}
	e.t.Fatalf("group %s shown but not listed", id)
	return shown
}

// wantNotFound asserts that GET /jobs/{id} answers exactly as for an
// unknown job ID.
func (e *env) wantNotFound(id string) {
	e.t.Helper()
	_, err := e.sdrs.ShowJobStatus(&model.ShowJobStatusRequest{JobId: id})
	wantError(e.t, err, http.StatusBadRequest, codeInvalidParams)
	unknown := newJobID()
	status, _, body := e.do(e.srv.URL, rawRequest{method: http.MethodGet, path: "/v1/" + testProject + "/jobs/" + id})
	ustatus, _, ubody := e.do(e.srv.URL, rawRequest{method: http.MethodGet, path: "/v1/" + testProject + "/jobs/" + unknown})
	if status != ustatus || strings.ReplaceAll(string(body), id, "ID") != strings.ReplaceAll(string(ubody), unknown, "ID") {
		e.t.Fatalf("new job answers %d %s, an unknown job %d %s", status, body, ustatus, ubody)
	}
}

func (e *env) showJob(id *string) *model.ShowJobStatusResponse {
	e.t.Helper()
	return ok(e.sdrs.ShowJobStatus(&model.ShowJobStatusRequest{JobId: *id})).must(e.t)
}

// TestPessimisticAcceptLag: an accepted action leaves the group as it is
// while its job is INIT; a second action is accepted meanwhile and, when
// it leaves INIT, fails with its job code because the group moved on.
func TestPessimisticAcceptLag(t *testing.T) {
	e, clock := newProfileEnv(t, ProfilePessimistic)
	g := e.seedOne(1, func(g *SeedGroup) { g.Instances[0].ProductionPower = powerShutoff })

	first := ok(e.reverseGroup(g.ID, stationTarget)).must(t)
	if j := e.job(first); j.Status != jobInit || !j.Deferred {
		t.Fatalf("new job %+v", j)
	}
	e.wantStatuses(g, statusProtected)
	clock.Advance(pLag / 2)
	e.wantStatuses(g, statusProtected)

	// SDRS has not marked the group busy: the duplicate is accepted.
	second := ok(e.reverseGroup(g.ID, stationTarget)).must(t)
	if *second == *first {
		t.Fatal("the second action got the first job's ID")
	}
	if calls := e.calls("operation=" + opReverseGroup + "&applied=true"); len(calls) != 2 || calls[1].StatusCode != http.StatusOK || !calls[1].Applied {
		t.Fatalf("call log: %+v", calls)
	}

	clock.Advance(pLag / 2) // the first job leaves INIT
	if j := e.job(first); j.Status != jobRunning {
		t.Fatalf("first job after the lag: %s", j.Status)
	}
	e.wantStatuses(g, statusReversing)
	if j := e.showJob(first); j.Status.Value() != jobRunning {
		t.Fatalf("first job through the SDK: %s", j.Status.Value())
	}
	// While it runs the group is busy: a third action is refused.
	_, err := e.reverseGroup(g.ID, stationTarget)
	wantError(t, err, http.StatusBadRequest, codeGroupState)

	clock.Advance(pLag / 2) // the second job leaves INIT: the group is reversing
	j2 := e.showJob(second)
	if j2.Status.Value() != jobFail || str(j2.ErrorCode) != codeReverseFailed || !strings.Contains(str(j2.FailReason), "reversing") || j2.EndTime == nil {
		t.Fatalf("second job: %+v", j2)
	}
	if sub := (*j2.Entities.SubJobs)[0]; sub.Status.Value() != jobFail || sub.ErrorCode != codeReverseFailed {
		t.Fatalf("second job's sub-job: %+v", sub)
	}
	e.wantStatuses(g, statusReversing)
	fails := e.failureJobs(model.ListFailureJobsRequest{ServerGroupId: ptr(g.ID)})
	if len(fails) != 1 || fails[0].JobId != *second || fails[0].JobType != jobReverseGroup || fails[0].BeginTime != *j2.BeginTime ||
		fails[0].ErrorCode != codeReverseFailed || fails[0].FailReason != str(j2.FailReason) || fails[0].ResourceId != g.ID ||
		fails[0].FailureStatus.Value() != "reverseFail" || fails[0].JobStatus.Value() != jobFail {
		t.Fatalf("failure jobs: %+v", fails)
	}

	clock.Advance(pJob)
	if j := e.showJob(first); j.Status.Value() != jobSuccess {
		t.Fatalf("first job: %s", j.Status.Value())
	}
	if grp := e.wantStatuses(g, statusProtected); grp.PriorityStation != stationTarget {
		t.Fatalf("after the reverse: %+v", grp)
	}
}

// TestPessimisticRecheck: a job that leaves INIT re-checks its action
// against the group as it is then, for several pairs of actions accepted
// during one lag.
func TestPessimisticRecheck(t *testing.T) {
	rows := []struct {
		name           string
		from           string
		first, second  string
		shortJobs      bool // the first job ends before the second leaves INIT
		wantCode       string
		wantAfterFirst string
	}{
		{"failover during a reverse's lag", statusProtected, actionReverse, actionFailover, false, codeFailoverFailed, statusProtected},
		{"stop during a failover's lag", statusProtected, actionFailover, actionStop, false, codeDisableFailed, statusFailedOver},
		{"start twice", statusAvailable, actionStart, actionStart, false, codeEnableFailed, statusProtected},
		{"reprotect twice", statusFailedOver, actionStart, actionStart, false, codeReprotectFailed, statusProtected},
		// The first reverse is over when the second leaves INIT: the
		// group is protected again but priority_station is target now.
		{"reverse after the priority changed", statusProtected, actionReverse, actionReverse, true, codeReverseFailed, statusProtected},
	}
	for _, r := range rows {
		t.Run(r.name, func(t *testing.T) {
			e, clock := newProfileEnv(t, ProfilePessimistic, func(c *Config) {
				if r.shortJobs {
					c.JobDuration = pLag / 4
				}
			})
			g := e.seedOne(1, func(g *SeedGroup) {
				g.Instances[0].ProductionPower, g.Instances[0].DRPower = powerShutoff, powerShutoff
			})
			if r.from != statusProtected {
				e.forceGroup(g.ID, map[string]any{"status": r.from})
			}
			first := ok(e.act(g.ID, r.first)).must(t)
			clock.Advance(pLag * 3 / 4)
			second := ok(e.act(g.ID, r.second)).must(t)
			e.wantStatuses(g, r.from)
			clock.Advance(pLag)
			if j := e.job(second); j.Status != jobFail || j.ErrorCode != r.wantCode {
				t.Fatalf("second job %s %s (%s)", j.Status, j.ErrorCode, j.FailReason)
			}
			clock.Advance(pJob)
			if j := e.job(first); j.Status != jobSuccess {
				t.Fatalf("first job %s %s", j.Status, j.FailReason)
			}
			e.wantStatuses(g, r.wantAfterFirst)
			if n := len(e.failureJobs(model.ListFailureJobsRequest{ServerGroupId: ptr(g.ID)})); n != 1 {
				t.Fatalf("%d failure jobs", n)
			}
		})
	}
}

// TestFailedJobStatus: a failed group job leaves error-* in the default
// profile and the status from before the action in the pessimistic one;
// both list it in the task center.
func TestFailedJobStatus(t *testing.T) {
	rows := []struct {
		action, jobType, from string
		defaultAfter          string
	}{
		{actionReverse, jobReverseGroup, statusProtected, statusErrorReversing},
		{actionReverse, jobReverseGroup, statusErrorReversing, statusErrorReversing},
		{actionFailover, jobFailoverGroup, statusErrorReversing, statusErrorFailingOver},
		{actionStart, jobStartGroup, statusAvailable, statusErrorStarting},
		{actionStart, jobReprotectGroup, statusFailedOver, statusErrorReprotecting},
		{actionStop, jobStopGroup, statusProtected, statusErrorStopping},
	}
	for _, profile := range Profiles {
		for _, r := range rows {
			t.Run(profile+" "+r.jobType+" from "+r.from, func(t *testing.T) {
				e, clock := newProfileEnv(t, profile)
				g := e.seedOne(1, func(g *SeedGroup) {
					g.Instances[0].ProductionPower, g.Instances[0].DRPower = powerShutoff, powerShutoff
				})
				if r.from != statusProtected {
					e.forceGroup(g.ID, map[string]any{"status": r.from})
				}
				e.admin(http.MethodPost, "/admin/faults/jobs", JobFault{JobType: r.jobType, FailReason: "array timeout"}, http.StatusOK, nil)
				id := ok(e.act(g.ID, r.action)).must(t)
				clock.Advance(pLag + pJob)
				job := e.showJob(id)
				if job.Status.Value() != jobFail || str(job.ErrorCode) != defaultFailCode(r.jobType) || str(job.FailReason) != "array timeout" {
					t.Fatalf("job %+v", job)
				}
				want := r.defaultAfter
				if profile == ProfilePessimistic {
					want = r.from
				}
				if grp := e.wantStatuses(g, want); grp.PriorityStation != stationSource {
					t.Fatalf("priority_station changed: %+v", grp)
				}
				fails := e.failureJobs(model.ListFailureJobsRequest{ServerGroupId: ptr(g.ID)})
				if len(fails) != 1 || fails[0].JobId != *id || fails[0].JobType != r.jobType || fails[0].BeginTime != *job.BeginTime ||
					fails[0].ErrorCode != defaultFailCode(r.jobType) || fails[0].FailReason != "array timeout" || fails[0].ResourceId != g.ID {
					t.Fatalf("failure jobs %+v", fails)
				}
			})
		}
	}

	// A reverse out of a down zone fails the same way.
	t.Run("pessimistic zone down", func(t *testing.T) {
		e, clock := newProfileEnv(t, ProfilePessimistic)
		g := e.seedOne(1, func(g *SeedGroup) { g.Instances[0].ProductionPower = powerShutoff })
		e.zone(DefaultSourceAZ, true)
		id := ok(e.reverseGroup(g.ID, stationTarget)).must(t)
		clock.Advance(pLag)
		e.wantStatuses(g, statusReversing)
		clock.Advance(pJob)
		if j := e.showJob(id); j.Status.Value() != jobFail || str(j.ErrorCode) != codeReverseFailed {
			t.Fatalf("job %+v", j)
		}
		e.wantStatuses(g, statusProtected)
	})
}

// TestPessimisticCreateAndDelete: a created group appears when its job
// leaves INIT; a deleted one stays as it is until then; a failed delete
// goes back to its status.
func TestPessimisticCreateAndDelete(t *testing.T) {
	e, clock := newProfileEnv(t, ProfilePessimistic)
	resp := ok(e.sdrs.CreateProtectionGroup(&model.CreateProtectionGroupRequest{
		Body: &model.CreateProtectionGroupRequestBody{ServerGroup: &model.CreateProtectionGroupRequestParams{
			Name: "late", SourceAvailabilityZone: DefaultSourceAZ, TargetAvailabilityZone: DefaultTargetAZ,
			DomainId: stableUUID("domain/" + DefaultSourceAZ + "/" + DefaultTargetAZ), SourceVpcId: "vpc-1",
		}}})).must(t)
	id := e.job(resp.JobId).Entities.ServerGroupID
	e.wantNotFound(*resp.JobId)
	if n := *ok(e.sdrs.ListProtectionGroups(&model.ListProtectionGroupsRequest{})).must(t).Count; n != 0 {
		t.Fatalf("%d groups listed during the lag", n)
	}
	_, err := e.sdrs.ShowProtectionGroup(&model.ShowProtectionGroupRequest{ServerGroupId: id})
	wantError(t, err, http.StatusBadRequest, codeGroupNotFound)
	clock.Advance(pLag)
	if grp := e.agreeingGroup(id); grp.Status != statusCreating || grp.Name != "late" {
		t.Fatalf("after the lag: %+v", grp)
	}
	clock.Advance(pJob)
	job := e.showJob(resp.JobId)
	if job.Status.Value() != jobSuccess || *job.Entities.ServerGroupId != id || e.agreeingGroup(id).Status != statusAvailable {
		t.Fatalf("create job %+v", job)
	}

	// A failing delete: unchanged during the lag, then deleting, then
	// available again (the default profile says error-deleting).
	e.admin(http.MethodPost, "/admin/faults/jobs", JobFault{JobType: jobDeleteGroup}, http.StatusOK, nil)
	del := ok(e.sdrs.DeleteProtectionGroup(&model.DeleteProtectionGroupRequest{ServerGroupId: id})).must(t)
	if s := e.agreeingGroup(id).Status; s != statusAvailable {
		t.Fatalf("during the lag: %s", s)
	}
	clock.Advance(pLag)
	if s := e.agreeingGroup(id).Status; s != statusDeleting {
		t.Fatalf("after the lag: %s", s)
	}
	clock.Advance(pJob)
	if j := e.showJob(del.JobId); j.Status.Value() != jobFail || str(j.ErrorCode) != codeDeleteGroupFailed {
		t.Fatalf("delete job %+v", j)
	}
	if s := e.agreeingGroup(id).Status; s != statusAvailable {
		t.Fatalf("after the failed delete: %s", s)
	}
	// Two deletes in one lag: the second finds the group deleting.
	first := ok(e.sdrs.DeleteProtectionGroup(&model.DeleteProtectionGroupRequest{ServerGroupId: id})).must(t)
	second := ok(e.sdrs.DeleteProtectionGroup(&model.DeleteProtectionGroupRequest{ServerGroupId: id})).must(t)
	clock.Advance(pLag)
	if j := e.job(second.JobId); j.Status != jobFail || j.ErrorCode != codeDeleteGroupFailed {
		t.Fatalf("second delete %s %s", j.Status, j.ErrorCode)
	}
	clock.Advance(pJob)
	if j := e.showJob(first.JobId); j.Status.Value() != jobSuccess {
		t.Fatalf("first delete %s", j.Status.Value())
	}
	_, err = e.sdrs.ShowProtectionGroup(&model.ShowProtectionGroupRequest{ServerGroupId: id})
	wantError(t, err, http.StatusBadRequest, codeGroupNotFound)
}

// TestJobNotFoundAtFirst: in the pessimistic profile a new SDRS job
// answers as an unknown one for job_not_found_for, independently of the
// accept lag; ECS jobs and the default profile are readable at once.
func TestJobNotFoundAtFirst(t *testing.T) {
	t.Run("pessimistic", func(t *testing.T) {
		e, clock := newProfileEnv(t, ProfilePessimistic, func(c *Config) { c.AcceptLag = -1; c.JobNotFoundFor = 3 * time.Second })
		g := e.seedOne(1, func(g *SeedGroup) { g.Instances[0].ProductionPower = powerShutoff })
		id := ok(e.reverseGroup(g.ID, stationTarget)).must(t)
		// No accept lag: the group is reversing at once.
		e.wantStatuses(g, statusReversing)
		e.wantNotFound(*id)
		clock.Advance(3*time.Second - time.Millisecond)
		e.wantNotFound(*id)
		clock.Advance(time.Millisecond)
		if j := e.showJob(id); j.Status.Value() != jobRunning {
			t.Fatalf("job %s", j.Status.Value())
		}
		// Two wantNotFound (SDK and raw, each twice) and one read.
		if c := e.calls("operation=ShowJobStatus&group_id=" + g.ID); len(c) != 5 || c[0].ErrorCode != codeInvalidParams || c[0].Applied || !c[4].Applied {
			t.Fatalf("ShowJobStatus calls %+v", c)
		}
		// Instance jobs too; ECS jobs are readable at once.
		srv, _ := e.newServer("extra", DefaultSourceAZ)
		other := e.seedOne(0, func(g *SeedGroup) { p := false; g.Protected = &p })
		pi := ok(e.sdrs.CreateProtectedInstance(&model.CreateProtectedInstanceRequest{Body: &model.CreateProtectedInstanceRequestBody{
			ProtectedInstance: &model.CreateProtectedInstanceRequestParams{ServerGroupId: other.ID, ServerId: srv, Name: "pi"}}})).must(t)
		e.wantNotFound(*pi.JobId)
		e.stopServersNoWait(t, srv)
	})
	t.Run("default", func(t *testing.T) {
		e, _ := newProfileEnv(t, ProfileDefault)
		g := e.seedOne(1, func(g *SeedGroup) { g.Instances[0].ProductionPower = powerShutoff })
		id := ok(e.reverseGroup(g.ID, stationTarget)).must(t)
		e.wantStatuses(g, statusReversing)
		if j := e.showJob(id); j.Status.Value() != jobInit {
			t.Fatalf("job %s", j.Status.Value())
		}
	})
}

// stopServersNoWait sends an ECS stop and reads its job at once.
func (e *env) stopServersNoWait(t *testing.T, id string) {
	t.Helper()
	status, _, body := e.do(e.ecsSrv.URL, rawRequest{method: http.MethodPost, path: "/v1/" + testProject + "/cloudservers/action",
		body: `{"os-stop":{"type":"SOFT","servers":[{"id":"` + id + `"}]}}`})
	var r jobIDReply
	if status != http.StatusOK || json.Unmarshal(body, &r) != nil {
		t.Fatalf("ECS stop: %d %s", status, body)
	}
	status, _, body = e.do(e.ecsSrv.URL, rawRequest{method: http.MethodGet, path: "/v1/" + testProject + "/jobs/" + r.JobID})
	if status != http.StatusOK {
		t.Fatalf("new ECS job: %d %s", status, body)
	}
}

// TestListAndShowAgree walks a group through accepted, running, failed
// and finished actions in both profiles, comparing list and show at every
// step (agreeingGroup).
func TestListAndShowAgree(t *testing.T) {
	for _, profile := range Profiles {
		t.Run(profile, func(t *testing.T) {
			e, clock := newProfileEnv(t, profile)
			g := e.seedOne(2, func(g *SeedGroup) {
				g.Instances[0].ProductionPower, g.Instances[1].ProductionPower = powerShutoff, powerShutoff
				g.ReplicationStatus = replCopying
			})
			e.seedOne(1) // another group in the list
			step := func() { e.agreeingGroup(g.ID); clock.Advance(pLag / 2) }
			for range 2 * (pJob / pLag) {
				step() // copying
			}
			e.admin(http.MethodPost, "/admin/faults/jobs", JobFault{JobType: jobReverseGroup}, http.StatusOK, nil)
			ok(e.reverseGroup(g.ID, stationTarget)).must(t)
			for range 2 * (pLag + pJob) / pLag {
				step()
			}
			ok(e.failoverGroup(g.ID)).must(t)
			for range 2 * (pLag + pJob) / pLag {
				step()
			}
			if grp := e.agreeingGroup(g.ID); grp.Status != statusFailedOver {
				t.Fatalf("after the failover: %s", grp.Status)
			}
		})
	}
}

// TestAcceptThenError: the fault carries a group action out and answers
// 5xx; the call log marks it applied. Both profiles.
func TestAcceptThenError(t *testing.T) {
	for _, profile := range Profiles {
		t.Run(profile, func(t *testing.T) {
			e, clock := newProfileEnv(t, profile)
			g := e.seedOne(1, func(g *SeedGroup) { g.Instances[0].ProductionPower = powerShutoff })
			other := e.seedOne(1, func(g *SeedGroup) { g.Instances[0].ProductionPower = powerShutoff })
			e.admin(http.MethodPost, "/admin/faults/accept-errors", AcceptError{Operation: opReverseGroup, GroupID: g.ID}, http.StatusOK, nil)

			// Another group is not affected.
			ok(e.reverseGroup(other.ID, stationTarget)).must(t)
			_, err := e.reverseGroup(g.ID, stationTarget)
			wantError(t, err, http.StatusInternalServerError, codeInternal)
			job := e.jobOf(g.ID, jobReverseGroup)
			calls := e.calls("operation=" + opReverseGroup + "&group_id=" + g.ID)
			if len(calls) != 1 || calls[0].StatusCode != http.StatusInternalServerError || calls[0].ErrorCode != codeInternal || !calls[0].Applied {
				t.Fatalf("call log %+v", calls)
			}
			if c := e.calls("applied=false"); len(c) != 0 {
				t.Fatalf("calls not applied: %+v", c)
			}
			var summary map[string]int
			e.admin(http.MethodGet, "/admin/calls/summary?applied=true&group_id="+g.ID, nil, http.StatusOK, &summary)
			if summary[opReverseGroup] != 1 {
				t.Fatalf("summary %v", summary)
			}
			if profile == ProfileDefault {
				e.wantStatuses(g, statusReversing)
			} else {
				e.wantStatuses(g, statusProtected)
				clock.Advance(pLag)
				e.wantStatuses(g, statusReversing)
			}
			clock.Advance(pLag + pJob)
			if grp := e.wantStatuses(g, statusProtected); grp.PriorityStation != stationTarget || e.job(&job.ID).Status != jobSuccess {
				t.Fatalf("the answered-500 reverse did not happen: %+v", grp)
			}
			// The fault was used up.
			var faults struct {
				AcceptErrors []AcceptError `json:"accept_errors"`
			}
			e.admin(http.MethodGet, "/admin/faults", nil, http.StatusOK, &faults)
			if len(faults.AcceptErrors) != 0 {
				t.Fatalf("faults left %+v", faults)
			}
			ok(e.reverseGroup(g.ID, stationSource)).must(t)
			clock.Advance(pLag + pJob)

			// "any", a count, another status, create; a refused call
			// does not use the fault up.
			e.admin(http.MethodPost, "/admin/faults/accept-errors", AcceptError{Operation: "any", Count: 2, Status: 503}, http.StatusOK, nil)
			_, err = e.reverseGroup(g.ID, stationSource)
			wantError(t, err, http.StatusBadRequest, codeGroupState)
			_, err = e.failoverGroup(g.ID)
			wantError(t, err, http.StatusServiceUnavailable, codeInternal)
			_, err = e.sdrs.CreateProtectionGroup(&model.CreateProtectionGroupRequest{
				Body: &model.CreateProtectionGroupRequestBody{ServerGroup: &model.CreateProtectionGroupRequestParams{
					Name: "answered-503", SourceAvailabilityZone: DefaultSourceAZ, TargetAvailabilityZone: DefaultTargetAZ,
					DomainId: stableUUID("domain/" + DefaultSourceAZ + "/" + DefaultTargetAZ), SourceVpcId: "vpc-1",
				}}})
			wantError(t, err, http.StatusServiceUnavailable, codeInternal)
			clock.Advance(pLag + pJob)
			listed := ok(e.sdrs.ListProtectionGroups(&model.ListProtectionGroupsRequest{Name: ptr("answered-503")})).must(t)
			if *listed.Count != 1 || (*listed.ServerGroups)[0].Status != statusAvailable {
				t.Fatalf("the answered-503 create: %+v", listed)
			}
			if s := e.group(g.ID).Status; s != statusFailedOver {
				t.Fatalf("the answered-503 failover: %s", s)
			}
			if n := len(e.calls("operation=CreateProtectionGroup&applied=true")); n != 1 {
				t.Fatalf("applied creates: %d", n)
			}
			e.admin(http.MethodPost, "/admin/faults/accept-errors", AcceptError{}, http.StatusOK, nil)
			e.admin(http.MethodDelete, "/admin/faults/accept-errors", nil, http.StatusNoContent, nil)
			e.admin(http.MethodGet, "/admin/faults", nil, http.StatusOK, &faults)
			if len(faults.AcceptErrors) != 0 {
				t.Fatalf("faults after delete %+v", faults)
			}
		})
	}
}

func TestAcceptErrorAdminErrors(t *testing.T) {
	e := newEnv(t)
	for _, body := range []string{`{"operation":"ShowProtectionGroup"}`, `{"status":404}`, `{"count":"x"}`} {
		var out map[string]any
		e.admin(http.MethodPost, "/admin/faults/accept-errors", json.RawMessage(body), http.StatusBadRequest, &out)
	}
	e.admin(http.MethodGet, "/admin/calls?applied=maybe", nil, http.StatusBadRequest, nil)
}

// TestAdminConfigProfile: GET/PUT /admin/config show and change the
// profile; a job keeps the profile it was created under.
func TestAdminConfigProfile(t *testing.T) {
	e, clock := newProfileEnv(t, ProfileDefault)
	var cfg configView
	e.admin(http.MethodGet, "/admin/config", nil, http.StatusOK, &cfg)
	if want := (configView{"10s", "10s", ProfileDefault, "2s", "2s"}); cfg != want {
		t.Fatalf("config %+v", cfg)
	}
	e.admin(http.MethodPut, "/admin/config", map[string]string{"profile": "optimistic"}, http.StatusBadRequest, nil)
	e.admin(http.MethodPut, "/admin/config", map[string]string{"accept_lag": "-1s"}, http.StatusBadRequest, nil)
	e.admin(http.MethodPut, "/admin/config", map[string]string{"profile": ProfilePessimistic, "accept_lag": "1s", "job_not_found_for": "0s"}, http.StatusOK, &cfg)
	if want := (configView{"10s", "10s", ProfilePessimistic, "1s", "0s"}); cfg != want {
		t.Fatalf("config %+v", cfg)
	}
	g := e.seedOne(1, func(g *SeedGroup) { g.Instances[0].ProductionPower = powerShutoff })
	e.admin(http.MethodPost, "/admin/faults/jobs", JobFault{JobType: jobReverseGroup}, http.StatusOK, nil)
	id := ok(e.reverseGroup(g.ID, stationTarget)).must(t)
	if j := e.showJob(id); j.Status.Value() != jobInit {
		t.Fatalf("job %s", j.Status.Value())
	}
	e.wantStatuses(g, statusProtected)
	// Back to default: the running job still ends the pessimistic way.
	e.admin(http.MethodPut, "/admin/config", map[string]string{"profile": ProfileDefault}, http.StatusOK, nil)
	clock.Advance(time.Second)
	e.wantStatuses(g, statusReversing)
	clock.Advance(pJob)
	e.wantStatuses(g, statusProtected)
	if j := e.showJob(id); j.Status.Value() != jobFail {
		t.Fatalf("job %s", j.Status.Value())
	}
	// New jobs follow the default profile again.
	ok(e.reverseGroup(g.ID, stationTarget)).must(t)
	e.wantStatuses(g, statusReversing)

	if _, err := New(Config{ProjectID: testProject, AccessKey: testAK, SecretKey: testSK, Profile: "optimistic"}); err == nil {
		t.Fatal("unknown profile accepted")
	}
}

// TestPessimisticStateFileResume: jobs record their profile, so they
// resume from the state file as they began, even under another profile:
// one still in its lag, one overdue with both steps.
func TestPessimisticStateFileResume(t *testing.T) {
	path := filepath.Join(t.TempDir(), "state.json")
	start := time.Now()
	first, _ := newProfileEnv(t, ProfilePessimistic, func(c *Config) { c.StateFile = path; c.Clock = NewFakeClock(start) })
	lagging := first.seedOne(1, func(g *SeedGroup) { g.Instances[0].ProductionPower = powerShutoff })
	failing := first.seedOne(1, func(g *SeedGroup) { g.Instances[0].ProductionPower = powerShutoff })
	lagID := ok(first.reverseGroup(lagging.ID, stationTarget)).must(t)
	dupID := ok(first.reverseGroup(lagging.ID, stationTarget)).must(t)
	first.admin(http.MethodPost, "/admin/faults/jobs", JobFault{JobType: jobFailoverGroup}, http.StatusOK, nil)
	failID := ok(first.failoverGroup(failing.ID)).must(t)
	first.admin(http.MethodPost, "/admin/faults/accept-errors", AcceptError{Operation: opStopGroup, Count: 3}, http.StatusOK, nil)
	if err := first.emu.Close(); err != nil {
		t.Fatal(err)
	}

	// One second later, in the default profile: the jobs are still in
	// their lag and still unknown to GET.
	clock := NewFakeClock(start.Add(time.Second))
	second, err := New(Config{ProjectID: testProject, AccessKey: testAK, SecretKey: testSK, StateFile: path, Clock: clock, JobDuration: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	e := attachEnv(t, second)
	e.wantStatuses(lagging, statusProtected)
	e.wantNotFound(*lagID)
	var faults struct {
		AcceptErrors []AcceptError `json:"accept_errors"`
	}
	e.admin(http.MethodGet, "/admin/faults", nil, http.StatusOK, &faults)
	if len(faults.AcceptErrors) != 1 || faults.AcceptErrors[0].Count != 3 {
		t.Fatalf("accept errors after restart %+v", faults)
	}
	clock.Advance(time.Second)
	e.wantStatuses(lagging, statusReversing)
	if j := e.showJob(dupID); j.Status.Value() != jobFail || str(j.ErrorCode) != codeReverseFailed {
		t.Fatalf("duplicate %+v", j)
	}
	e.wantStatuses(failing, statusFailingOver)
	clock.Advance(pJob)
	if grp := e.wantStatuses(lagging, statusProtected); grp.PriorityStation != stationTarget {
		t.Fatalf("resumed reverse %+v", grp)
	}
	e.wantStatuses(failing, statusProtected) // restored, not error-failing-over
	if j := e.showJob(failID); j.Status.Value() != jobFail {
		t.Fatalf("failover %s", j.Status.Value())
	}

	// Overdue: the lag and the end both passed while no emulator ran; the
	// jobs take effect (or fail) and end at once, in the order accepted.
	path2 := filepath.Join(t.TempDir(), "state.json")
	third, _ := newProfileEnv(t, ProfilePessimistic, func(c *Config) { c.StateFile = path2; c.Clock = NewFakeClock(start.Add(-time.Minute)) })
	g := third.seedOne(1, func(g *SeedGroup) { g.Instances[0].ProductionPower = powerShutoff })
	a := ok(third.reverseGroup(g.ID, stationTarget)).must(t)
	b := ok(third.reverseGroup(g.ID, stationTarget)).must(t)
	third.emu.Close()
	late := NewFakeClock(start)
	fourth, err := New(Config{ProjectID: testProject, AccessKey: testAK, SecretKey: testSK, StateFile: path2, Clock: late})
	if err != nil {
		t.Fatal(err)
	}
	e4 := attachEnv(t, fourth)
	late.Advance(0)
	if ja, jb := e4.job(a), e4.job(b); ja.Status != jobSuccess || jb.Status != jobFail {
		t.Fatalf("overdue jobs: %s, %s", ja.Status, jb.Status)
	}
	if grp := e4.wantStatuses(g, statusProtected); grp.PriorityStation != stationTarget {
		t.Fatalf("overdue reverse %+v", grp)
	}
}
