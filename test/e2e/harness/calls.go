package harness

import (
	"context"
	"fmt"
	"sort"
	"time"

	"github.com/sdrs-operator/sdrs-operator/internal/emutest"
)

// Accepted counts calls of an operation that SDRS accepted and carried
// out: 2xx answers, and actions the accept-then-error fault
// (Emulator.AcceptThenError) answered 5xx although they happened
// (emutest.Call.CarriedOut).
func Accepted(calls []emutest.Call, operation string) int {
	n := 0
	for _, c := range calls {
		if c.Operation == operation && c.CarriedOut() {
			n++
		}
	}
	return n
}

// Actions are the SDRS and ECS operations that change something; every
// other logged operation only reads.
var Actions = []string{
	"CreateProtectionGroup", "DeleteProtectionGroup",
	"StartProtectionGroup", "StopProtectionGroup", "StartReverseProtectionGroup", "StartFailoverProtectionGroup",
	"BatchStopServers", "BatchStartServers",
}

// ActionCounts counts accepted actions by operation (absent: zero).
func ActionCounts(calls []emutest.Call) map[string]int {
	out := map[string]int{}
	for _, op := range Actions {
		if n := Accepted(calls, op); n > 0 {
			out[op] = n
		}
	}
	return out
}

// Since returns the calls at or after t.
func Since(calls []emutest.Call, t time.Time) []emutest.Call {
	var out []emutest.Call
	for _, c := range calls {
		if !c.Time.Before(t) {
			out = append(out, c)
		}
	}
	return out
}

// RateReport is how a sequence of calls compares to a token bucket.
type RateReport struct {
	Calls int
	Span  time.Duration
	// MeanPerSecond is Calls/Span.
	MeanPerSecond float64
	// MaxInOneSecond is the most calls in any window of one second.
	MaxInOneSecond int
	// WorstExcess is the largest n - (burst + rate*(t_j - t_i)) over all
	// pairs of calls i <= j (n calls from i to j); above 0 the bucket was
	// exceeded.
	WorstExcess float64
}

func (r RateReport) String() string {
	bucket := "never above the token bucket"
	if r.WorstExcess > 0 {
		bucket = fmt.Sprintf("up to %.2f calls above the token bucket", r.WorstExcess)
	}
	return fmt.Sprintf("%d calls in %s (mean %.2f/s, at most %d in any 1s window, %s)",
		r.Calls, r.Span.Round(10*time.Millisecond), r.MeanPerSecond, r.MaxInOneSecond, bucket)
}

// CheckRate measures calls against a token bucket of rate per second and
// burst. tolerance absorbs clock jitter between the manager's limiter and
// the emulator's timestamps.
func CheckRate(calls []emutest.Call, rate float64, burst int) RateReport {
	ts := make([]time.Time, 0, len(calls))
	for _, c := range calls {
		ts = append(ts, c.Time)
	}
	sort.Slice(ts, func(i, j int) bool { return ts[i].Before(ts[j]) })
	r := RateReport{Calls: len(ts), WorstExcess: -float64(burst)}
	if len(ts) == 0 {
		return r
	}
	r.Span = ts[len(ts)-1].Sub(ts[0])
	if r.Span > 0 {
		r.MeanPerSecond = float64(len(ts)) / r.Span.Seconds()
	}
	for i := range ts {
		for j := i; j < len(ts); j++ {
			d := ts[j].Sub(ts[i])
			if d < time.Second && j-i+1 > r.MaxInOneSecond {
				r.MaxInOneSecond = j - i + 1
			}
			if ex := float64(j-i+1) - (float64(burst) + rate*d.Seconds()); ex > r.WorstExcess {
				r.WorstExcess = ex
			}
		}
	}
	return r
}

// JobState is one job as the emulator's /admin/state shows it.
type JobState struct {
	ID, Type, Status, ErrorCode string
	GroupID                     string
	Begin, End                  time.Time
}

// GroupState is one group as the emulator's /admin/state shows it.
type GroupState struct {
	ID, Name, Status, PriorityStation, ProtectedStatus string
}

// EmulatorState is the part of /admin/state the tests look at.
type EmulatorState struct {
	Jobs   []JobState
	Groups []GroupState
}

// State reads the emulator's jobs and groups.
func (e *Emulator) State(ctx context.Context) (*EmulatorState, error) {
	raw, err := e.Admin.State(ctx)
	if err != nil {
		return nil, err
	}
	s := &EmulatorState{}
	str := func(m map[string]any, k string) string { v, _ := m[k].(string); return v }
	tm := func(m map[string]any, k string) time.Time {
		t, _ := time.Parse(time.RFC3339Nano, str(m, k))
		return t
	}
	for _, j := range asList(raw["jobs"]) {
		js := JobState{ID: str(j, "id"), Type: str(j, "type"), Status: str(j, "status"),
			ErrorCode: str(j, "error_code"), Begin: tm(j, "begin"), End: tm(j, "end")}
		if ent, ok := j["entities"].(map[string]any); ok {
			js.GroupID = str(ent, "server_group_id")
		}
		s.Jobs = append(s.Jobs, js)
	}
	for _, g := range asList(raw["groups"]) {
		s.Groups = append(s.Groups, GroupState{ID: str(g, "id"), Name: str(g, "name"), Status: str(g, "status"),
			PriorityStation: str(g, "priority_station"), ProtectedStatus: str(g, "protected_status")})
	}
	return s, nil
}

func asList(v any) []map[string]any {
	var out []map[string]any
	switch t := v.(type) {
	case []any:
		for _, x := range t {
			if m, ok := x.(map[string]any); ok {
				out = append(out, m)
			}
		}
	case map[string]any:
		for _, x := range t {
			if m, ok := x.(map[string]any); ok {
				out = append(out, m)
			}
		}
	}
	return out
}

// Job returns one job by ID, or nil.
func (s *EmulatorState) Job(id string) *JobState {
	for i := range s.Jobs {
		if s.Jobs[i].ID == id {
			return &s.Jobs[i]
		}
	}
	return nil
}

// Group returns one group by ID, or nil.
func (s *EmulatorState) Group(id string) *GroupState {
	for i := range s.Groups {
		if s.Groups[i].ID == id {
			return &s.Groups[i]
		}
	}
	return nil
}
