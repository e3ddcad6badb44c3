package sdrsfake

import (
	"context"
	"errors"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/sdrs-operator/sdrs-operator/internal/sdrs"
)

var ctx = context.Background()

// seeded returns a protected group g1 with one instance whose source server
// runs and whose target server is stopped.
func seeded() *Fake {
	f := New()
	f.AddGroup(sdrs.ProtectionGroup{ID: "g1", Name: "db", Status: sdrs.StatusProtected, SourceAvailabilityZone: "az1", TargetAvailabilityZone: "az2"})
	f.AddInstance(sdrs.ProtectedInstance{ID: "pi1", GroupID: "g1", Status: sdrs.StatusProtected, SourceServerID: "src", TargetServerID: "dst"})
	f.AddServer(sdrs.Server{ID: "src", Status: sdrs.PowerActive, AvailabilityZone: "az1"})
	f.AddServer(sdrs.Server{ID: "dst", Status: sdrs.PowerShutoff, AvailabilityZone: "az2"})
	return f
}

func mustGroup(t *testing.T, f *Fake, id string) sdrs.ProtectionGroup {
	t.Helper()
	g, ok := f.Group(id)
	if !ok {
		t.Fatalf("group %s missing", id)
	}
	return g
}

func TestPlannedFailoverWithServerPower(t *testing.T) {
	f := seeded()

	// SDRS refuses while the production server runs.
	if _, err := f.StartPlannedFailover(ctx, "g1", sdrs.SiteTarget); err == nil {
		t.Fatal("reverse with a running production server must fail")
	} else if code, ok := sdrs.IsPrecondition(err); !ok || code != CodeProductionRunning {
		t.Fatalf("got %v, want Precondition %s", err, CodeProductionRunning)
	}

	stop, err := f.StopServers(ctx, []string{"src"})
	if err != nil {
		t.Fatal(err)
	}
	if s, _ := f.Server("src"); s.Status != sdrs.PowerActive {
		t.Error("servers change only when the job completes")
	}
	if _, err := f.GetJob(ctx, stop); !sdrs.IsNotFound(err) {
		t.Errorf("an ECS job is not an SDRS job: got %v", err)
	}
	if err := f.CompleteJob(stop, true, ""); err != nil {
		t.Fatal(err)
	}

	job, err := f.StartPlannedFailover(ctx, "g1", sdrs.SiteTarget)
	if err != nil {
		t.Fatal(err)
	}
	if g := mustGroup(t, f, "g1"); g.Status != sdrs.StatusReversing || g.PriorityStation != sdrs.SiteSource {
		t.Errorf("on acceptance: status %s station %s, want reversing/source", g.Status, g.PriorityStation)
	}
	if _, err := f.StartFailover(ctx, "g1"); err == nil {
		t.Error("a second action while one runs must be refused")
	}
	if err := f.CompleteJob(job, true, ""); err != nil {
		t.Fatal(err)
	}
	g := mustGroup(t, f, "g1")
	if g.Status != sdrs.StatusProtected || g.PriorityStation != sdrs.SiteTarget || g.ProductionZone() != "az2" {
		t.Errorf("after reverse: %+v, want protected with production az2", g)
	}
	pis, _ := f.ListProtectedInstances(ctx, "g1")
	if pis[0].PriorityStation != sdrs.SiteTarget {
		t.Errorf("instances follow the group's station: %+v", pis[0])
	}
	j, _ := f.GetJob(ctx, job)
	if diff := cmp.Diff(sdrs.Job{ID: job, Type: JobTypeReverse, Status: sdrs.JobSuccess, BeginTime: f.now, EndTime: f.now, GroupID: "g1"}, *j); diff != "" {
		t.Errorf("job: -want, +got:\n%s", diff)
	}

	start, _ := f.StartServers(ctx, []string{"dst"})
	_ = f.CompleteJob(start, true, "")
	if s, _ := f.Server("dst"); s.Status != sdrs.PowerActive {
		t.Errorf("dst = %s, want ACTIVE", s.Status)
	}

	wantOps := []string{OpStartPlannedFailover, OpStopServers, OpGetJob, OpStartPlannedFailover, OpStartFailover, OpListProtectedInstances, OpGetJob, OpStartServers}
	if diff := cmp.Diff(wantOps, f.Ops()); diff != "" {
		t.Errorf("ops: -want, +got:\n%s", diff)
	}
	if diff := cmp.Diff(Call{Op: OpStartPlannedFailover, Args: []string{"g1", "target"}}, f.Calls()[0]); diff != "" {
		t.Errorf("first call: -want, +got:\n%s", diff)
	}
}

func TestFailoverThenReprotect(t *testing.T) {
	f := seeded()
	job, err := f.StartFailover(ctx, "g1")
	if err != nil {
		t.Fatal(err)
	}
	if g := mustGroup(t, f, "g1"); g.Status != sdrs.StatusFailingOver {
		t.Errorf("status = %s, want failing-over", g.Status)
	}
	_ = f.CompleteJob(job, true, "")
	g := mustGroup(t, f, "g1")
	if g.Status != sdrs.StatusFailedOver || g.PriorityStation != sdrs.SiteTarget || g.ReplicationStatus != sdrs.ReplicationActiveStopped {
		t.Errorf("after failover: %+v", g)
	}
	if _, err := f.StartPlannedFailover(ctx, "g1", sdrs.SiteSource); err == nil {
		t.Error("reverse from failed-over must be refused: reprotect first")
	}
	if s, _ := f.Server("src"); s.Status != sdrs.PowerShutoff {
		t.Errorf("failover forcibly stops the old production servers; src = %s", s.Status)
	}
	f.AddServer(sdrs.Server{ID: "src", Status: sdrs.PowerActive}) // someone starts it again

	// Reprotect needs the DR-site servers (now the old production) stopped.
	if _, err := f.StartProtection(ctx, "g1"); err == nil {
		t.Fatal("reprotect with a running DR-site server must fail")
	} else if code, _ := sdrs.IsPrecondition(err); code != CodeDRRunning {
		t.Fatalf("got %v, want %s", err, CodeDRRunning)
	}
	f.AddServer(sdrs.Server{ID: "src", Status: sdrs.PowerShutoff})
	job, err = f.StartProtection(ctx, "g1")
	if err != nil {
		t.Fatal(err)
	}
	if j, _ := f.Job(job); j.Type != JobTypeReprotect {
		t.Errorf("start from failed-over is a reprotect job, got %s", j.Type)
	}
	if g := mustGroup(t, f, "g1"); g.Status != sdrs.StatusReprotecting {
		t.Errorf("status = %s, want reprotecting", g.Status)
	}
	_ = f.CompleteJob(job, true, "")
	if g := mustGroup(t, f, "g1"); g.Status != sdrs.StatusProtected || g.PriorityStation != sdrs.SiteTarget || g.ReplicationStatus != sdrs.ReplicationActive {
		t.Errorf("after reprotect: %+v, want protected, station kept", g)
	}
}

func TestFailedJobs(t *testing.T) {
	cases := map[string]struct {
		reason string
		start  func(*Fake) (string, error)
		want   string
	}{
		"Reverse": {
			reason: "A failed reverse leaves error-reversing and the station unchanged.",
			start: func(f *Fake) (string, error) {
				f.AddServer(sdrs.Server{ID: "src", Status: sdrs.PowerShutoff})
				return f.StartPlannedFailover(ctx, "g1", sdrs.SiteTarget)
			},
			want: sdrs.StatusErrorReversing,
		},
		"Failover": {
			reason: "A failed failover leaves error-failing-over.",
			start:  func(f *Fake) (string, error) { return f.StartFailover(ctx, "g1") },
			want:   sdrs.StatusErrorFailingOver,
		},
		"Stop": {
			reason: "A failed stop leaves error-stopping.",
			start:  func(f *Fake) (string, error) { return f.StopProtection(ctx, "g1") },
			want:   sdrs.StatusErrorStopping,
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			f := seeded()
			job, err := tc.start(f)
			if err != nil {
				t.Fatal(err)
			}
			if err := f.CompleteJob(job, false, "SDRS.1029"); err != nil {
				t.Fatal(err)
			}
			g := mustGroup(t, f, "g1")
			if g.Status != tc.want || g.PriorityStation != sdrs.SiteSource {
				t.Errorf("\nReason: %s\ngroup %s/%s", tc.reason, g.Status, g.PriorityStation)
			}
			j, _ := f.Job(job)
			if j.Status != sdrs.JobFail || j.ErrorCode != "SDRS.1029" {
				t.Errorf("job = %+v", j)
			}
			if err := f.CompleteJob(job, true, ""); err == nil {
				t.Error("a finished job cannot finish again")
			}
		})
	}
}

func TestCreateAndDelete(t *testing.T) {
	f := New()
	job, err := f.CreateProtectionGroup(ctx, sdrs.CreateGroupInput{Name: "n", SourceAvailabilityZone: "a", TargetAvailabilityZone: "b", DomainID: "d", SourceVpcID: "v"})
	if err != nil {
		t.Fatal(err)
	}
	if j, _ := f.GetJob(ctx, job); j.GroupID != "" {
		t.Error("the group ID appears only on success")
	}
	found, _ := f.FindProtectionGroupsByName(ctx, "n")
	if len(found) != 1 || found[0].Status != sdrs.StatusCreating {
		t.Fatalf("found = %+v, want one creating group", found)
	}
	_ = f.CompleteJob(job, true, "")
	j, _ := f.GetJob(ctx, job)
	g, err := f.GetProtectionGroup(ctx, j.GroupID)
	if err != nil || g.Status != sdrs.StatusAvailable || g.PriorityStation != sdrs.SiteSource {
		t.Fatalf("created group = %+v, %v", g, err)
	}

	f.AddInstance(sdrs.ProtectedInstance{ID: "pi", GroupID: g.ID})
	if _, err := f.DeleteProtectionGroup(ctx, g.ID); err == nil {
		t.Error("a group with instances cannot be deleted")
	}
	if g, _ := f.Group(g.ID); g.ProtectedInstanceCount != 1 {
		t.Errorf("instance count = %d", g.ProtectedInstanceCount)
	}
	f.mu.Lock()
	delete(f.instances, "pi")
	f.mu.Unlock()
	del, err := f.DeleteProtectionGroup(ctx, g.ID)
	if err != nil {
		t.Fatal(err)
	}
	_ = f.CompleteJob(del, true, "")
	if _, err := f.GetProtectionGroup(ctx, g.ID); !sdrs.IsNotFound(err) {
		t.Errorf("a deleted group is NotFound, got %v", err)
	}
	if _, err := f.DeleteProtectionGroup(ctx, g.ID); !sdrs.IsNotFound(err) {
		t.Errorf("deleting again is NotFound, got %v", err)
	}
}

func TestScriptedErrors(t *testing.T) {
	f := seeded()
	throttled := &sdrs.ThrottledError{RetryAfter: 5e9}
	f.FailNext(OpStartFailover, throttled)
	f.FailNext(OpStartFailover, &sdrs.TransientError{StatusCode: 503})
	if _, err := f.StartFailover(ctx, "g1"); !errors.Is(err, throttled) {
		t.Errorf("first call = %v, want the first scripted error", err)
	}
	if _, err := f.StartFailover(ctx, "g1"); !sdrs.IsTransient(err) {
		t.Errorf("second call = %v, want the second scripted error", err)
	}
	if g := mustGroup(t, f, "g1"); g.Status != sdrs.StatusProtected {
		t.Errorf("a scripted error has no effect; status %s", g.Status)
	}
	if _, err := f.StartFailover(ctx, "g1"); err != nil {
		t.Errorf("third call = %v, want success", err)
	}

	f.FailAlways(OpGetProtectionGroup, &sdrs.UnauthorizedError{})
	for i := 0; i < 2; i++ {
		if _, err := f.GetProtectionGroup(ctx, "g1"); !sdrs.IsUnauthorized(err) {
			t.Errorf("call %d = %v, want Unauthorized", i, err)
		}
	}
	f.FailAlways(OpGetProtectionGroup, nil)
	if _, err := f.GetProtectionGroup(ctx, "g1"); err != nil {
		t.Errorf("after clearing: %v", err)
	}
	if n := len(f.Calls()); n != 6 {
		t.Errorf("calls = %d, want 6 (failed calls are recorded too)", n)
	}
	f.ResetCalls()
	if len(f.Calls()) != 0 {
		t.Error("ResetCalls forgets calls")
	}
	canceled, cancel := context.WithCancel(ctx)
	cancel()
	if err := f.Validate(canceled); !errors.Is(err, context.Canceled) {
		t.Errorf("a done context = %v, want context.Canceled", err)
	}
}

func TestPendingJobsAndDeterminism(t *testing.T) {
	run := func() []string {
		f := seeded()
		a, _ := f.StopServers(ctx, []string{"src"})
		b, _ := f.StartFailover(ctx, "g1")
		_ = f.CompleteJob(a, true, "")
		return append(f.PendingJobs(), b)
	}
	first, second := run(), run()
	if diff := cmp.Diff(first, second); diff != "" {
		t.Errorf("two identical runs differ: %s", diff)
	}
	if diff := cmp.Diff([]string{"job-0002", "job-0002"}, first); diff != "" {
		t.Errorf("pending: -want, +got:\n%s", diff)
	}
}

func TestConcurrentUse(t *testing.T) {
	f := seeded()
	var wg sync.WaitGroup
	for i := 0; i < 8; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for k := 0; k < 50; k++ {
				_, _ = f.GetProtectionGroup(ctx, "g1")
				_, _ = f.ListProtectedInstances(ctx, "g1")
				if id, err := f.StopServers(ctx, []string{"src"}); err == nil {
					_ = f.CompleteJob(id, true, "")
				}
				_ = f.Calls()
			}
		}()
	}
	wg.Wait()
	if n := len(f.Calls()); n != 8*50*3 {
		t.Errorf("calls = %d, want %d", n, 8*50*3)
	}
}
