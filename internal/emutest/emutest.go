// Package emutest drives the SDRS emulator's admin API (docs/emulator.md)
// from tests, benchmarks and the local run: seed groups, read the request
// log, inject faults, act like a person at the console.
package emutest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"time"
)

// Admin is a client for the emulator's /admin API.
type Admin struct {
	// Base is the SDRS listener's base URL, e.g. http://127.0.0.1:8780.
	Base string
	HTTP *http.Client
}

// New returns an Admin for the SDRS listener at base.
func New(base string) *Admin {
	return &Admin{Base: base, HTTP: &http.Client{Timeout: 30 * time.Second}}
}

// Instance is a protected instance to seed. OSType is Linux, Windows or
// CoreOS (ECS then reports os_type Linux and a CoreOS image name);
// ImageName overrides the OS's default image name; KeyName is the key
// pair the servers were created with (empty: a password).
type Instance struct {
	Name            string `json:"name,omitempty"`
	OSType          string `json:"os_type,omitempty"`
	ImageName       string `json:"image_name,omitempty"`
	KeyName         string `json:"key_name,omitempty"`
	ProductionPower string `json:"production_power,omitempty"`
	DRPower         string `json:"dr_power,omitempty"`
}

// Group is a protection group to seed.
type Group struct {
	Name                   string     `json:"name"`
	Description            string     `json:"description,omitempty"`
	SourceAvailabilityZone string     `json:"source_availability_zone,omitempty"`
	TargetAvailabilityZone string     `json:"target_availability_zone,omitempty"`
	PriorityStation        string     `json:"priority_station,omitempty"`
	Protected              *bool      `json:"protected,omitempty"`
	ReplicationStatus      string     `json:"replication_status,omitempty"`
	Instances              []Instance `json:"instances,omitempty"`
}

// SeededInstance is what the emulator created for an Instance.
type SeededInstance struct {
	ID               string `json:"id"`
	SourceServer     string `json:"source_server"`
	TargetServer     string `json:"target_server"`
	ProductionServer string `json:"production_server"`
	DRServer         string `json:"dr_server"`
	ReplicationID    string `json:"replication_id"`
}

// SeededGroup is what the emulator created for a Group.
type SeededGroup struct {
	ID        string           `json:"id"`
	Name      string           `json:"name"`
	Instances []SeededInstance `json:"instances"`
}

// Call is one entry of the emulator's request log.
type Call struct {
	Time       time.Time `json:"time"`
	Method     string    `json:"method"`
	Path       string    `json:"path"`
	Operation  string    `json:"operation"`
	GroupID    string    `json:"group_id"`
	StatusCode int       `json:"status_code"`
	ErrorCode  string    `json:"error_code"`
	// Applied is true when the emulator carried the call out: every 2xx
	// answer, and a group action the accept-then-error fault
	// (AcceptThenError) answered 5xx after carrying it out.
	Applied bool `json:"applied"`
}

// CarriedOut reports whether SDRS carried the call out: Applied, or a 2xx
// answer (call logs written before Applied existed).
func (c Call) CarriedOut() bool {
	return c.Applied || (c.StatusCode >= 200 && c.StatusCode < 300)
}

// Seed creates groups synchronously and returns their IDs.
func (a *Admin) Seed(ctx context.Context, groups ...Group) ([]SeededGroup, error) {
	var out struct {
		Groups []SeededGroup `json:"groups"`
	}
	err := a.do(ctx, http.MethodPost, "/admin/seed", map[string]any{"groups": groups}, &out)
	return out.Groups, err
}

// Calls returns the request log, filtered by operation and group ID when
// they are not empty.
func (a *Admin) Calls(ctx context.Context, operation, groupID string) ([]Call, error) {
	q := url.Values{}
	if operation != "" {
		q.Set("operation", operation)
	}
	if groupID != "" {
		q.Set("group_id", groupID)
	}
	var out []Call
	err := a.do(ctx, http.MethodGet, "/admin/calls?"+q.Encode(), nil, &out)
	return out, err
}

// CountCalls counts the calls of an operation on a group that SDRS
// carried out (Call.CarriedOut): 2xx answers, and actions answered 5xx by
// the accept-then-error fault although they happened.
func (a *Admin) CountCalls(ctx context.Context, operation, groupID string) (int, error) {
	calls, err := a.Calls(ctx, operation, groupID)
	n := 0
	for _, c := range calls {
		if c.CarriedOut() {
			n++
		}
	}
	return n, err
}

// SetZoneDown marks an availability zone down or up.
func (a *Admin) SetZoneDown(ctx context.Context, az string, down bool) error {
	return a.do(ctx, http.MethodPut, "/admin/zones/"+url.PathEscape(az), map[string]bool{"down": down}, nil)
}

// FailJobs makes the next count jobs of jobType end FAIL with code.
func (a *Admin) FailJobs(ctx context.Context, jobType string, count int, code, reason string) error {
	return a.do(ctx, http.MethodPost, "/admin/faults/jobs", map[string]any{
		"job_type": jobType, "count": count, "error_code": code, "fail_reason": reason}, nil)
}

// HTTPFaults describes injected 429s, 5xx and latency.
type HTTPFaults struct {
	ThrottleFraction  float64 `json:"throttle_fraction,omitempty"`
	RetryAfterSeconds int     `json:"retry_after_seconds,omitempty"`
	ErrorFraction     float64 `json:"error_fraction,omitempty"`
	ErrorStatus       int     `json:"error_status,omitempty"`
	Latency           string  `json:"latency,omitempty"`
	Seed              int64   `json:"seed,omitempty"`
}

// SetHTTPFaults injects faults into SDRS and ECS answers.
func (a *Admin) SetHTTPFaults(ctx context.Context, f HTTPFaults) error {
	return a.do(ctx, http.MethodPut, "/admin/faults/http", f, nil)
}

// AnyAction makes AcceptThenError match every group action.
const AnyAction = "any"

// AcceptThenError makes the next count group actions of operation (the
// SDK operation name as the call log shows it, e.g.
// StartReverseProtectionGroup, or AnyAction) on groupID ("" for any
// group) be carried out in full and then answered with HTTP status (a
// 5xx; 0 means 500) instead of the job ID. The call log marks them
// Applied.
func (a *Admin) AcceptThenError(ctx context.Context, operation, groupID string, count, status int) error {
	return a.do(ctx, http.MethodPost, "/admin/faults/accept-errors", map[string]any{
		"operation": operation, "group_id": groupID, "count": count, "status": status}, nil)
}

// ClearFaults removes job, HTTP and accept-then-error faults.
func (a *Admin) ClearFaults(ctx context.Context) error {
	for _, path := range []string{"/admin/faults/jobs", "/admin/faults/http", "/admin/faults/accept-errors"} {
		if err := a.do(ctx, http.MethodDelete, path, nil, nil); err != nil {
			return err
		}
	}
	return nil
}

// SetServerPower sets a server's power like a person at the console would.
func (a *Admin) SetServerPower(ctx context.Context, id, status string) error {
	return a.do(ctx, http.MethodPut, "/admin/servers/"+url.PathEscape(id), map[string]string{"status": status}, nil)
}

// SetReplication forces a group's replication state; it then syncs again.
func (a *Admin) SetReplication(ctx context.Context, groupID, status string, progress int) error {
	return a.do(ctx, http.MethodPut, "/admin/groups/"+url.PathEscape(groupID),
		map[string]any{"replication_status": status, "progress": progress}, nil)
}

// SetInstanceStatus forces a protected instance's status, e.g. "invalid"
// (a server was deleted) or "fault" (replication abnormal).
func (a *Admin) SetInstanceStatus(ctx context.Context, instanceID, status string) error {
	return a.do(ctx, http.MethodPut, "/admin/instances/"+url.PathEscape(instanceID), map[string]string{"status": status}, nil)
}

// PairFacts are replication-pair facts a test may force; nil fields are
// left as they are.
type PairFacts struct {
	Status *string `json:"status,omitempty"`
	// FaultLevel is "0", "2" or "5"; "" returns to the level the zones give.
	FaultLevel *string `json:"fault_level,omitempty"`
	// RPOExceeded makes the pair count (or not) in ListRpoStatistics.
	RPOExceeded *bool `json:"rpo_exceeded,omitempty"`
}

// SetPair forces a replication pair's facts.
func (a *Admin) SetPair(ctx context.Context, replicationID string, f PairFacts) error {
	return a.do(ctx, http.MethodPut, "/admin/replications/"+url.PathEscape(replicationID), f, nil)
}

// SetDurations changes how long jobs and replication sync take.
func (a *Admin) SetDurations(ctx context.Context, job, sync time.Duration) error {
	return a.do(ctx, http.MethodPut, "/admin/config", map[string]string{
		"job_duration": job.String(), "sync_duration": sync.String()}, nil)
}

// Profiles of the emulator (docs/emulator.md, "Profiles").
const (
	ProfileDefault     = "default"
	ProfilePessimistic = "pessimistic"
)

// Config is GET/PUT /admin/config: Go durations such as "2s". Empty
// fields are left unchanged by SetConfig.
type Config struct {
	JobDuration    string `json:"job_duration,omitempty"`
	SyncDuration   string `json:"sync_duration,omitempty"`
	Profile        string `json:"profile,omitempty"`
	AcceptLag      string `json:"accept_lag,omitempty"`
	JobNotFoundFor string `json:"job_not_found_for,omitempty"`
}

// Config reads the emulator's durations and profile.
func (a *Admin) Config(ctx context.Context) (Config, error) {
	var out Config
	err := a.do(ctx, http.MethodGet, "/admin/config", nil, &out)
	return out, err
}

// SetConfig changes the non-empty fields for jobs created afterwards and
// returns the configuration in effect.
func (a *Admin) SetConfig(ctx context.Context, c Config) (Config, error) {
	var out Config
	err := a.do(ctx, http.MethodPut, "/admin/config", c, &out)
	return out, err
}

// SetProfile switches the profile for jobs created afterwards.
func (a *Admin) SetProfile(ctx context.Context, profile string) error {
	_, err := a.SetConfig(ctx, Config{Profile: profile})
	return err
}

// State returns the emulator's whole state as generic JSON.
func (a *Admin) State(ctx context.Context) (map[string]any, error) {
	var out map[string]any
	err := a.do(ctx, http.MethodGet, "/admin/state", nil, &out)
	return out, err
}

func (a *Admin) do(ctx context.Context, method, path string, in, out any) error {
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return err
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, a.Base+path, body)
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := a.HTTP.Do(req)
	if err != nil {
		return fmt.Errorf("emulator admin %s %s: %w", method, path, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	if resp.StatusCode >= 300 {
		return fmt.Errorf("emulator admin %s %s: %d %s", method, path, resp.StatusCode, data)
	}
	if out == nil || len(data) == 0 {
		return nil
	}
	return json.Unmarshal(data, out)
}
