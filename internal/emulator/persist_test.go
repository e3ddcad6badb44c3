package emulator

import (
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// readStateFile decodes the state file as written on disk.
func readStateFile(t *testing.T, path string) *state {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	st := newState()
	if err := json.Unmarshal(data, st); err != nil {
		t.Fatalf("state file is not valid JSON: %v", err)
	}
	return st
}

// TestStateFileResumesRunningJobs closes an emulator in the middle of a
// planned failover and a replication copy; a new emulator on the same file
// finishes both by its timers, without any request.
func TestStateFileResumesRunningJobs(t *testing.T) {
	path := filepath.Join(t.TempDir(), "state.json")
	// The first emulator's clock stands still, so its job is surely
	// running when it closes; the second runs on the real clock.
	first := newEnv(t, func(c *Config) {
		c.StateFile = path
		c.Clock = NewFakeClock(time.Now())
		c.JobDuration = 300 * time.Millisecond
		c.SyncDuration = 300 * time.Millisecond
	})
	g := first.seedOne(1, func(g *SeedGroup) { g.Instances[0].ProductionPower = powerShutoff })
	copying := first.seedOne(1, func(g *SeedGroup) { g.ReplicationStatus = replCopying })
	jobID := *ok(first.reverseGroup(g.ID, stationTarget)).must(t)

	// Saved before the answer: a crash now would lose nothing.
	st := readStateFile(t, path)
	if j := st.Jobs[jobID]; j == nil || j.done() || st.Groups[g.ID].Status != statusReversing {
		t.Fatalf("state file right after the call: job %+v, group %s", j, st.Groups[g.ID].Status)
	}
	if len(st.Calls) == 0 {
		t.Fatalf("call log not saved")
	}
	if err := first.emu.Close(); err != nil {
		t.Fatal(err)
	}
	if j := readStateFile(t, path).Jobs[jobID]; j.done() {
		t.Fatalf("job finished although the emulator closed mid-job: %+v", j)
	}

	second, err := New(Config{ProjectID: testProject, AccessKey: testAK, SecretKey: testSK, StateFile: path})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { second.Close() })
	eventually(t, "resumed job to finish on disk", func() bool {
		st := readStateFile(t, path)
		return st.Jobs[jobID].Status == jobSuccess && st.Groups[copying.ID].Replication.Status == replActive
	})
	e := attachEnv(t, second)
	grp := e.group(g.ID)
	if grp.Status != statusProtected || grp.PriorityStation != stationTarget {
		t.Fatalf("resumed reverse: %+v", grp)
	}
	if calls := e.calls("operation=StartReverseProtectionGroup&group_id=" + g.ID); len(calls) != 1 || calls[0].StatusCode != http.StatusOK {
		t.Fatalf("call log after restart: %+v", calls)
	}
}

// TestStateFileOverdueJobsFinishAtOnce reloads a state whose job should
// have ended while no emulator ran.
func TestStateFileOverdueJobsFinishAtOnce(t *testing.T) {
	path := filepath.Join(t.TempDir(), "state.json")
	start := time.Now()
	firstClock := NewFakeClock(start)
	first := newEnv(t, func(c *Config) { c.StateFile = path; c.Clock = firstClock; c.JobDuration = time.Hour })
	g := first.seedOne(1, func(g *SeedGroup) { p := false; g.Protected = &p })
	jobID := *first.startGroup(g.ID)
	first.emu.Close()

	laterClock := NewFakeClock(start.Add(2 * time.Hour))
	second, err := New(Config{ProjectID: testProject, AccessKey: testAK, SecretKey: testSK, StateFile: path, Clock: laterClock})
	if err != nil {
		t.Fatal(err)
	}
	defer second.Close()
	laterClock.Advance(0)
	second.mu.Lock()
	j, grp := second.st.Jobs[jobID], second.st.Groups[g.ID]
	second.mu.Unlock()
	if j.Status != jobSuccess || grp.Status != statusProtected || grp.Replication.Status != replCopying {
		t.Fatalf("overdue job %s, group %s/%s", j.Status, grp.Status, grp.Replication.Status)
	}
}

func TestStateFileErrors(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.json")
	if err := os.WriteFile(bad, []byte("{not json"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := New(Config{ProjectID: testProject, AccessKey: testAK, SecretKey: testSK, StateFile: bad}); err == nil {
		t.Fatal("corrupt state file accepted")
	}
	empty := filepath.Join(dir, "empty.json")
	if err := os.WriteFile(empty, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	emu, err := New(Config{ProjectID: testProject, AccessKey: testAK, SecretKey: testSK, StateFile: empty})
	if err != nil {
		t.Fatalf("empty state file: %v", err)
	}
	emu.Close()
	if st := readStateFile(t, empty); len(st.Domains) != 1 {
		t.Fatalf("fresh state not written: %+v", st)
	}
	if _, err := New(Config{ProjectID: testProject}); err == nil {
		t.Fatal("config without keys accepted")
	}
}
