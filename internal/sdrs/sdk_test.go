package sdrs

import (
	"context"
	"encoding/pem"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/huaweicloud/huaweicloud-sdk-go-v3/services/sdrs/v1/model"
	"golang.org/x/time/rate"
)

// docGroup is the protection group example of sdrs-api.md section 5, nulls
// included.
const docGroup = `{"server_group":{"id":"decf224d-87fe-403a-8721-037a1a45c287","name":"Protection-Group-lwx","description":null,
 "source_availability_zone":"eu-de-01","target_availability_zone":"eu-de-02",
 "domain_id":"fb4bb8e3-a574-4437-a156-78c916aeea4d","domain_name":"ActiveactiveDomain",
 "status":"available","protected_status":null,"replication_status":null,"health_status":null,"progress":0,
 "priority_station":"source","protected_instance_num":0,"replication_num":0,"disaster_recovery_drill_num":0,
 "source_vpc_id":"046852ef-c49d-409b-8389-546aaaa5701f","target_vpc_id":"046852ef-c49d-409b-8389-546aaaa5701f","test_vpc_id":null,"dr_type":"migration",
 "server_type":"ECS","created_at":"2019-05-22 08:16:54.413","updated_at":"2019-05-23 09:11:10.856",
 "protection_type":"replication-pair","replication_model":null}}`

// docJob is the job example of sdrs-api.md section 4.
const docJob = `{"status":"SUCCESS","job_id":"0000000062db92d70162db9d200f000a","job_type":"createProtectionGroupNoCG",
 "begin_time":"2018-04-19T01:55:30.443Z","end_time":"2018-04-19T01:55:45.493Z","error_code":null,"fail_reason":null,
 "entities":{"server_group_id":"a59d008e-a0b6-4c3b-a4a2-0c1e4e4e7a11",
  "sub_jobs":[{"status":"SUCCESS","job_id":"x","job_type":"stopProtectionGroupRepNoCG","begin_time":"2018-04-19T01:55:30.443Z",
   "end_time":"2018-04-19T01:55:45.493Z","error_code":null,"fail_reason":null,"entities":{"server_group_id":"a59d008e-a0b6-4c3b-a4a2-0c1e4e4e7a11"}}]}}`

const groupID = "decf224d-87fe-403a-8721-037a1a45c287"

func TestGetProtectionGroupDocExample(t *testing.T) {
	f, srv := newFakeCloud(t)
	f.answer(http.MethodGet, path("/server-groups/"+groupID), 200, docGroup)
	c := newTestClient(t, srv.URL)

	got, err := c.GetProtectionGroup(context.Background(), groupID)
	if err != nil {
		t.Fatalf("GetProtectionGroup: %v", err)
	}
	want := &ProtectionGroup{
		ID: groupID, Name: "Protection-Group-lwx", Status: StatusAvailable,
		PriorityStation: SiteSource, SourceAvailabilityZone: "eu-de-01", TargetAvailabilityZone: "eu-de-02",
		DomainID: "fb4bb8e3-a574-4437-a156-78c916aeea4d", SourceVpcID: "046852ef-c49d-409b-8389-546aaaa5701f",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("null enum fields must read as empty strings: -want, +got:\n%s", diff)
	}

	reqs := f.requests()
	if len(reqs) != 1 {
		t.Fatalf("requests = %d, want 1", len(reqs))
	}
	if h := reqs[0].Header.Get("Authorization"); !strings.HasPrefix(h, "SDK-HMAC-SHA256 Access=HPUAQWERTYUIOPASDFGH") {
		t.Errorf("Authorization = %q, want an SDK-HMAC-SHA256 signature", h)
	}
	if h := reqs[0].Header.Get("X-Project-Id"); h != testProject {
		t.Errorf("X-Project-Id = %q, want %q", h, testProject)
	}
}

func TestGetProtectionGroupOddAnswers(t *testing.T) {
	cases := map[string]struct {
		reason string
		status int
		body   string
		want   *ProtectionGroup
		kind   string
	}{
		"UnknownValuesKept": {
			reason: "Unknown status and enum values are kept raw; station case is normalised.",
			status: 200,
			body:   `{"server_group":{"id":"g1","status":"hibernating","priority_station":"TARGET","health_status":"weird","replication_status":"copying","progress":42}}`,
			want:   &ProtectionGroup{ID: "g1", Status: "hibernating", PriorityStation: SiteTarget, HealthStatus: "weird", ReplicationStatus: ReplicationCopying, Progress: 42},
		},
		"MissingFields": {
			reason: "Missing fields are empty; a missing ID is the one asked for.",
			status: 200,
			body:   `{"server_group":{}}`,
			want:   &ProtectionGroup{ID: "g1"},
		},
		"NoServerGroup": {
			reason: "An answer without server_group is transient, not a panic.",
			status: 200, body: `{}`, kind: "Transient",
		},
		"NullServerGroup": {
			reason: "server_group: null is the same.",
			status: 200, body: `{"server_group":null}`, kind: "Transient",
		},
		"Truncated": {
			reason: "A truncated body is transient.",
			status: 200, body: `{"server_group":{"id":"g1","sta`, kind: "Transient",
		},
		"Garbled": {
			reason: "An HTML page instead of JSON is transient.",
			status: 200, body: `<html><body>maintenance</body></html>`, kind: "Transient",
		},
		"WrongTypes": {
			reason: "A number where a string belongs is transient.",
			status: 200, body: `{"server_group":{"id":7,"progress":"lots"}}`, kind: "Transient",
		},
		"NotFound": {
			reason: "400 SDRS.1013 is NotFound.",
			status: 400, body: sdrsError("SDRS.1013", "Protection group not found"), kind: "NotFound",
		},
		"ServerError": {
			reason: "500 is transient.",
			status: 500, body: sdrsError("SDRS.0010", "internal error"), kind: "Transient",
		},
		"BadGatewayHTML": {
			reason: "A gateway error page is transient.",
			status: 502, body: `<html>Bad Gateway</html>`, kind: "Transient",
		},
		"RedirectToHTTPS": {
			reason: "An endpoint that redirects is misconfigured; the redirect is not followed.",
			status: 301, body: ``, kind: "InvalidRequest",
		},
		"Unauthorized": {
			reason: "401 from the gateway is Unauthorized.",
			status: 401, body: `{"error_code":"APIGW.0301","error_msg":"Incorrect IAM authentication information: verify aksk signature fail","request_id":"f00"}`, kind: "Unauthorized",
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			f, srv := newFakeCloud(t)
			f.answer(http.MethodGet, path("/server-groups/g1"), tc.status, tc.body)
			c := newTestClient(t, srv.URL)
			got, err := c.GetProtectionGroup(context.Background(), "g1")
			if tc.kind != "" {
				if diff := cmp.Diff([]string{tc.kind}, kinds(err)); diff != "" {
					t.Errorf("\nReason: %s\nerror %v: -want, +got kinds:\n%s", tc.reason, err, diff)
				}
				return
			}
			if err != nil {
				t.Fatalf("\nReason: %s\nunexpected error: %v", tc.reason, err)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("\nReason: %s\n-want, +got:\n%s", tc.reason, diff)
			}
		})
	}
}

func TestThrottledRetryAfter(t *testing.T) {
	now := time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC)
	cases := map[string]struct {
		reason string
		header string
		want   time.Duration
	}{
		"Seconds": {"Delay-seconds from the header.", "7", 7 * time.Second},
		"Date":    {"HTTP-date from the header, against the client's clock.", now.Add(2 * time.Minute).Format(http.TimeFormat), 2 * time.Minute},
		"Absent":  {"No header: 1s.", "", time.Second},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			f, srv := newFakeCloud(t)
			f.handle(http.MethodGet, path("/jobs/j1"), func(w http.ResponseWriter, _ *http.Request) {
				if tc.header != "" {
					w.Header().Set("Retry-After", tc.header)
				}
				writeJSON(w, http.StatusTooManyRequests, `{"error_code":"APIGW.0308","error_msg":"The throttling threshold has been reached: policy user over ratelimit,limit:10,time:1 minute","request_id":"abc"}`)
			})
			c := newTestClient(t, srv.URL, func(cfg *clientConfig) { cfg.now = func() time.Time { return now } })
			_, err := c.GetJob(context.Background(), "j1")
			d, ok := IsThrottled(err)
			if !ok || d != tc.want {
				t.Errorf("\nReason: %s\nIsThrottled(%v) = %v, %v; want %v, true", tc.reason, err, d, ok, tc.want)
			}
			if ErrorCode(err) != "APIGW.0308" {
				t.Errorf("ErrorCode = %q, want APIGW.0308", ErrorCode(err))
			}
		})
	}
}

func TestGetJob(t *testing.T) {
	cases := map[string]struct {
		reason string
		body   string
		want   *Job
	}{
		"DocExample": {
			reason: "The documented job reads completely, null codes as empty.",
			body:   docJob,
			want: &Job{
				ID: "0000000062db92d70162db9d200f000a", Type: "createProtectionGroupNoCG", Status: JobSuccess,
				BeginTime: time.Date(2018, 4, 19, 1, 55, 30, 443e6, time.UTC),
				EndTime:   time.Date(2018, 4, 19, 1, 55, 45, 493e6, time.UTC),
				GroupID:   "a59d008e-a0b6-4c3b-a4a2-0c1e4e4e7a11",
			},
		},
		"TimeVariants": {
			reason: "Space-separated and zone-less times parse; garbage times are zero, not an error.",
			body:   `{"job_id":"j1","status":"RUNNING","begin_time":"2019-05-22 08:16:54.413","end_time":"yesterday"}`,
			want:   &Job{ID: "j1", Status: JobRunning, BeginTime: time.Date(2019, 5, 22, 8, 16, 54, 413e6, time.UTC)},
		},
		"MicrosNoZone": {
			reason: "Replication-style microseconds without a zone parse as UTC.",
			body:   `{"job_id":"j1","status":"INIT","begin_time":"2018-05-04T03:43:24.108526"}`,
			want:   &Job{ID: "j1", Status: JobInit, BeginTime: time.Date(2018, 5, 4, 3, 43, 24, 108526e3, time.UTC)},
		},
		"UnknownStatus": {
			reason: "An unknown status is kept raw, so the caller keeps polling.",
			body:   `{"job_id":"j1","status":"PAUSED"}`,
			want:   &Job{ID: "j1", Status: "PAUSED"},
		},
		"LowerCaseStatus": {
			reason: "Case differences do not hide a final status.",
			body:   `{"job_id":"j1","status":"success"}`,
			want:   &Job{ID: "j1", Status: JobSuccess},
		},
		"FailWithCode": {
			reason: "A failed job carries its code and a sanitized reason.",
			body:   `{"job_id":"j1","status":"FAIL","error_code":"SDRS.1030","fail_reason":"failover failed, request_id: 77aa"}`,
			want:   &Job{ID: "j1", Status: JobFail, ErrorCode: "SDRS.1030", FailReason: "failover failed"},
		},
		"FailCodeOnSubJob": {
			reason: "A parent failing without a code takes the failed sub-job's.",
			body: `{"job_id":"j1","status":"FAIL","error_code":null,"entities":{"sub_jobs":[
				{"status":"SUCCESS","job_id":"s1","error_code":null},
				{"status":"FAIL","job_id":"s2","error_code":"EVS.2024","fail_reason":"disk busy"}]}}`,
			want: &Job{ID: "j1", Status: JobFail, ErrorCode: "EVS.2024", FailReason: "disk busy"},
		},
		"EmptyObject": {
			reason: "An empty job is not a panic; its ID is the one asked for.",
			body:   `{}`,
			want:   &Job{ID: "j1"},
		},
		"NullStatus": {
			reason: "status: null reads as empty.",
			body:   `{"job_id":"j1","status":null,"entities":null}`,
			want:   &Job{ID: "j1"},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			f, srv := newFakeCloud(t)
			f.answer(http.MethodGet, path("/jobs/j1"), 200, tc.body)
			c := newTestClient(t, srv.URL)
			got, err := c.GetJob(context.Background(), "j1")
			if err != nil {
				t.Fatalf("\nReason: %s\nGetJob: %v", tc.reason, err)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("\nReason: %s\n-want, +got:\n%s", tc.reason, diff)
			}
		})
	}
}

func TestActions(t *testing.T) {
	const jobBody = `{"job_id":"ff8080826adfae02016ae2d123fc05ed"}`
	cases := map[string]struct {
		reason   string
		method   string
		path     string
		do       func(Client) (string, error)
		wantBody string
		op       string
	}{
		"StartProtection": {
			reason: "Enable protection sends an explicit empty object, not null.",
			method: http.MethodPost, path: path("/server-groups/g1/action"),
			do:       func(c Client) (string, error) { return c.StartProtection(context.Background(), "g1") },
			wantBody: `{"start-server-group":{}}`, op: opStartProtectionGroup,
		},
		"StopProtection": {
			reason: "Disable protection sends an explicit empty object.",
			method: http.MethodPost, path: path("/server-groups/g1/action"),
			do:       func(c Client) (string, error) { return c.StopProtection(context.Background(), "g1") },
			wantBody: `{"stop-server-group":{}}`, op: opStopProtectionGroup,
		},
		"PlannedFailover": {
			reason: "Reverse names the new production site.",
			method: http.MethodPost, path: path("/server-groups/g1/action"),
			do:       func(c Client) (string, error) { return c.StartPlannedFailover(context.Background(), "g1", SiteTarget) },
			wantBody: `{"reverse-server-group":{"priority_station":"target"}}`, op: opStartReverseProtectionGroup,
		},
		"PlannedFailback": {
			reason: "Reverse back to the source site.",
			method: http.MethodPost, path: path("/server-groups/g1/action"),
			do:       func(c Client) (string, error) { return c.StartPlannedFailover(context.Background(), "g1", SiteSource) },
			wantBody: `{"reverse-server-group":{"priority_station":"source"}}`, op: opStartReverseProtectionGroup,
		},
		"Failover": {
			reason: "Failover sends an explicit empty object.",
			method: http.MethodPost, path: path("/server-groups/g1/action"),
			do:       func(c Client) (string, error) { return c.StartFailover(context.Background(), "g1") },
			wantBody: `{"failover-server-group":{}}`, op: opStartFailoverProtectionGroup,
		},
		"Create": {
			reason: "Create sends the documented server_group body with dr_type migration.",
			method: http.MethodPost, path: path("/server-groups"),
			do: func(c Client) (string, error) {
				return c.CreateProtectionGroup(context.Background(), CreateGroupInput{
					Name: "pg", Description: "d", SourceAvailabilityZone: "az1", TargetAvailabilityZone: "az2", DomainID: "dom", SourceVpcID: "vpc",
				})
			},
			wantBody: `{"server_group":{"name":"pg","description":"d","source_availability_zone":"az1","target_availability_zone":"az2","domain_id":"dom","source_vpc_id":"vpc","dr_type":"migration"}}`,
			op:       opCreateProtectionGroup,
		},
		"CreateNoDescription": {
			reason: "An empty description is left out.",
			method: http.MethodPost, path: path("/server-groups"),
			do: func(c Client) (string, error) {
				return c.CreateProtectionGroup(context.Background(), CreateGroupInput{
					Name: "pg", SourceAvailabilityZone: "az1", TargetAvailabilityZone: "az2", DomainID: "dom", SourceVpcID: "vpc",
				})
			},
			wantBody: `{"server_group":{"name":"pg","source_availability_zone":"az1","target_availability_zone":"az2","domain_id":"dom","source_vpc_id":"vpc","dr_type":"migration"}}`,
			op:       opCreateProtectionGroup,
		},
		"Delete": {
			reason: "Delete has no body.",
			method: http.MethodDelete, path: path("/server-groups/g1"),
			do:       func(c Client) (string, error) { return c.DeleteProtectionGroup(context.Background(), "g1") },
			wantBody: "", op: opDeleteProtectionGroup,
		},
		"StopServers": {
			reason: "A soft stop of each server once, in order.",
			method: http.MethodPost, path: path("/cloudservers/action"),
			do:       func(c Client) (string, error) { return c.StopServers(context.Background(), []string{"s1", "s2", "s1"}) },
			wantBody: `{"os-stop":{"servers":[{"id":"s1"},{"id":"s2"}],"type":"SOFT"}}`, op: opBatchStopServers,
		},
		"StartServers": {
			reason: "A start of each server.",
			method: http.MethodPost, path: path("/cloudservers/action"),
			do:       func(c Client) (string, error) { return c.StartServers(context.Background(), []string{"s1"}) },
			wantBody: `{"os-start":{"servers":[{"id":"s1"}]}}`, op: opBatchStartServers,
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			f, srv := newFakeCloud(t)
			f.answer(tc.method, tc.path, 200, jobBody)
			var ops []string
			c := newTestClient(t, srv.URL)
			c.observe = func(op string, err error, _ time.Duration) { ops = append(ops, fmt.Sprintf("%s:%v", op, err)) }

			id, err := tc.do(c)
			if err != nil {
				t.Fatalf("\nReason: %s\nunexpected error: %v", tc.reason, err)
			}
			if id != "ff8080826adfae02016ae2d123fc05ed" {
				t.Errorf("job ID = %q", id)
			}
			reqs := f.requests()
			if len(reqs) != 1 {
				t.Fatalf("requests = %d, want 1", len(reqs))
			}
			if tc.wantBody == "" {
				if reqs[0].Body != "" {
					t.Errorf("\nReason: %s\nbody = %q, want none", tc.reason, reqs[0].Body)
				}
			} else if !jsonEqual(t, tc.wantBody, reqs[0].Body) {
				t.Errorf("\nReason: %s\nbody = %s\nwant   %s", tc.reason, reqs[0].Body, tc.wantBody)
			}
			if diff := cmp.Diff([]string{tc.op + ":<nil>"}, ops); diff != "" {
				t.Errorf("observer: -want, +got:\n%s", diff)
			}
		})
	}
}

func TestActionErrors(t *testing.T) {
	cases := map[string]struct {
		reason string
		status int
		body   string
		check  func(error) bool
	}{
		"ServersRunning": {
			reason: "SDRS.1319 on reverse is a precondition with its code.",
			status: 400, body: sdrsError("SDRS.1319", "The production site server is not stopped"),
			check: func(err error) bool { c, ok := IsPrecondition(err); return ok && c == "SDRS.1319" },
		},
		"WrongState": {
			reason: "SDRS.1002 is a precondition.",
			status: 400, body: sdrsError("SDRS.1002", "not allowed"),
			check: func(err error) bool { c, ok := IsPrecondition(err); return ok && c == "SDRS.1002" },
		},
		"NoJobID": {
			reason: "An accepted action without job_id is transient: the caller reads the group before repeating.",
			status: 200, body: `{}`,
			check: IsTransient,
		},
		"NullJobID": {
			reason: "job_id: null is the same.",
			status: 200, body: `{"job_id":null}`,
			check: IsTransient,
		},
		"GroupGone": {
			reason: "A missing group is NotFound.",
			status: 400, body: sdrsError("SDRS.1013", "not found"),
			check: IsNotFound,
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			f, srv := newFakeCloud(t)
			f.answer(http.MethodPost, path("/server-groups/g1/action"), tc.status, tc.body)
			c := newTestClient(t, srv.URL)
			id, err := c.StartPlannedFailover(context.Background(), "g1", SiteTarget)
			if id != "" || !tc.check(err) {
				t.Errorf("\nReason: %s\ngot %q, %v", tc.reason, id, err)
			}
		})
	}
}

func TestInvalidInputsSendNothing(t *testing.T) {
	f, srv := newFakeCloud(t)
	c := newTestClient(t, srv.URL)
	ctx := context.Background()
	cases := map[string]func() error{
		"EmptyGroupID":     func() error { _, err := c.GetProtectionGroup(ctx, ""); return err },
		"PathTraversal":    func() error { _, err := c.GetProtectionGroup(ctx, "../jobs/x"); return err },
		"SlashInJobID":     func() error { _, err := c.GetJob(ctx, "a/b"); return err },
		"QueryInServerID":  func() error { _, err := c.GetServer(ctx, "s1?x=1"); return err },
		"BadSite":          func() error { _, err := c.StartPlannedFailover(ctx, "g1", "middle"); return err },
		"NoServers":        func() error { _, err := c.StopServers(ctx, nil); return err },
		"BadServerInBatch": func() error { _, err := c.StartServers(ctx, []string{"s1", ""}); return err },
		"EmptyName":        func() error { _, err := c.FindProtectionGroupsByName(ctx, ""); return err },
		"CreateNoVPC": func() error {
			_, err := c.CreateProtectionGroup(ctx, CreateGroupInput{Name: "n", SourceAvailabilityZone: "a", TargetAvailabilityZone: "b", DomainID: "d"})
			return err
		},
	}
	for name, do := range cases {
		t.Run(name, func(t *testing.T) {
			if err := do(); !IsInvalidRequest(err) {
				t.Errorf("got %v, want InvalidRequest", err)
			}
		})
	}
	if n := len(f.requests()); n != 0 {
		t.Errorf("invalid inputs sent %d requests, want 0", n)
	}
}

func TestFindProtectionGroupsByName(t *testing.T) {
	f, srv := newFakeCloud(t)
	// The server filters by substring, ignores limit and serves pages of
	// two, with the total in count.
	all := []string{"db", "db-2", "old-db", "db", "db-x"}
	f.handle(http.MethodGet, path("/server-groups"), func(w http.ResponseWriter, r *http.Request) {
		var off int
		_, _ = fmt.Sscan(r.URL.Query().Get("offset"), &off)
		var items []string
		for i := off; i < len(all) && i < off+2; i++ {
			items = append(items, fmt.Sprintf(`{"id":"g%d","name":%q,"status":"protected","description":null,"health_status":null}`, i, all[i]))
		}
		writeJSON(w, 200, fmt.Sprintf(`{"server_groups":[%s],"count":%d}`, strings.Join(items, ","), len(all)))
	})
	c := newTestClient(t, srv.URL)

	got, err := c.FindProtectionGroupsByName(context.Background(), "db")
	if err != nil {
		t.Fatalf("FindProtectionGroupsByName: %v", err)
	}
	want := []ProtectionGroup{{ID: "g0", Name: "db", Status: StatusProtected}, {ID: "g3", Name: "db", Status: StatusProtected}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("only exact names across all pages: -want, +got:\n%s", diff)
	}
	var queries []string
	for _, r := range f.requests() {
		queries = append(queries, r.Query)
	}
	wantQ := []string{"limit=1000&name=db&offset=0", "limit=1000&name=db&offset=2", "limit=1000&name=db&offset=4"}
	if diff := cmp.Diff(wantQ, queries); diff != "" {
		t.Errorf("queries: -want, +got:\n%s", diff)
	}
}

func TestFindProtectionGroupsByNameNone(t *testing.T) {
	f, srv := newFakeCloud(t)
	f.answer(http.MethodGet, path("/server-groups"), 200, `{"server_groups":[],"count":0}`)
	c := newTestClient(t, srv.URL)
	got, err := c.FindProtectionGroupsByName(context.Background(), "db")
	if err != nil || len(got) != 0 {
		t.Errorf("got %v, %v; want none, nil", got, err)
	}
}

func TestListProtectedInstances(t *testing.T) {
	f, srv := newFakeCloud(t)
	pages := []string{
		`{"protected_instances":[
			{"id":"pi1","name":"web","status":"protected","server_group_id":"g1","source_server":"s1","target_server":"t1","priority_station":"source","metadata":{"__system__frozen":"true"},"attachment":[{"replication":"r1","device":"/dev/vda"}],"tags":[]},
			{"id":"pi2","name":"db","status":"protected","server_group_id":"g1","source_server":"s2","target_server":"t2","priority_station":"source","metadata":null,"attachment":null}],"count":3}`,
		`{"protected_instances":[
			{"id":"pi3","name":"stray","status":"protected","server_group_id":"other","source_server":"s9","target_server":"t9","priority_station":"source"}],"count":3}`,
	}
	f.handle(http.MethodGet, path("/protected-instances"), func(w http.ResponseWriter, r *http.Request) {
		i := 0
		if r.URL.Query().Get("offset") != "0" {
			i = 1
		}
		writeJSON(w, 200, pages[i])
	})
	c := newTestClient(t, srv.URL)
	got, err := c.ListProtectedInstances(context.Background(), "g1")
	if err != nil {
		t.Fatalf("ListProtectedInstances: %v", err)
	}
	want := []ProtectedInstance{
		{ID: "pi1", Name: "web", Status: "protected", GroupID: "g1", SourceServerID: "s1", TargetServerID: "t1", PriorityStation: SiteSource},
		{ID: "pi2", Name: "db", Status: "protected", GroupID: "g1", SourceServerID: "s2", TargetServerID: "t2", PriorityStation: SiteSource},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("all pages, only this group's instances: -want, +got:\n%s", diff)
	}
	reqs := f.requests()
	if len(reqs) != 2 || !strings.Contains(reqs[0].Query, "server_group_id=g1") || !strings.Contains(reqs[1].Query, "offset=2") {
		t.Errorf("requests = %+v, want two pages filtered by server_group_id", reqs)
	}
}

func TestListPagingStopsOnEndlessServer(t *testing.T) {
	f, srv := newFakeCloud(t)
	// A broken server that always answers a full-looking page with a
	// growing count must not loop forever.
	f.handle(http.MethodGet, path("/protected-instances"), func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, 200, `{"protected_instances":[{"id":"pi","server_group_id":"g1"}],"count":2000000}`)
	})
	c := newTestClient(t, srv.URL)
	if _, err := c.ListProtectedInstances(context.Background(), "g1"); !IsTransient(err) {
		t.Errorf("got %v, want Transient after %d pages", err, maxPages)
	}
}

func TestServers(t *testing.T) {
	cases := map[string]struct {
		reason string
		status int
		body   string
		want   *Server
		kind   string
	}{
		"OSType": {
			reason: "Status, zone and os_type come from the documented fields.",
			status: 200,
			body:   `{"server":{"id":"s1","name":"web","status":"SHUTOFF","OS-EXT-AZ:availability_zone":"az1","metadata":{"os_type":"windows","image_name":"Win2019"},"image":{"id":"img"},"fault":null}}`,
			want:   &Server{ID: "s1", Name: "web", Status: PowerShutoff, AvailabilityZone: "az1", OSType: "Windows"},
		},
		"ImageNameFallback": {
			reason: "Without os_type, the image name hints the OS.",
			status: 200,
			body:   `{"server":{"id":"s1","status":"ACTIVE","metadata":{"image_name":"Fedora-CoreOS-38"}}}`,
			want:   &Server{ID: "s1", Status: PowerActive, OSType: "CoreOS"},
		},
		"NoMetadata": {
			reason: "No metadata: unknown OS, no panic.",
			status: 200,
			body:   `{"server":{"id":"s1","status":"BUILD","metadata":null}}`,
			want:   &Server{ID: "s1", Status: "BUILD"},
		},
		"NovaNotFound": {
			reason: "ECS 404 with a Nova body is NotFound.",
			status: 404, body: `{"itemNotFound":{"message":"Instance could not be found","code":404}}`, kind: "NotFound",
		},
		"Ecs0114": {
			reason: "Ecs.0114 is NotFound.",
			status: 400, body: `{"error":{"code":"Ecs.0114","message":"The ECS does not exist"}}`, kind: "NotFound",
		},
		"NoServer": {
			reason: "An answer without server is transient.",
			status: 200, body: `{}`, kind: "Transient",
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			f, srv := newFakeCloud(t)
			f.answer(http.MethodGet, path("/cloudservers/s1"), tc.status, tc.body)
			c := newTestClient(t, srv.URL)
			got, err := c.GetServer(context.Background(), "s1")
			if tc.kind != "" {
				if diff := cmp.Diff([]string{tc.kind}, kinds(err)); diff != "" {
					t.Errorf("\nReason: %s\n%v: -want, +got:\n%s", tc.reason, err, diff)
				}
				return
			}
			if err != nil {
				t.Fatalf("\nReason: %s\n%v", tc.reason, err)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("\nReason: %s\n-want, +got:\n%s", tc.reason, diff)
			}
		})
	}
}

func TestGetServerJob(t *testing.T) {
	f, srv := newFakeCloud(t)
	f.answer(http.MethodGet, path("/jobs/e1"), 200, `{"job_id":"e1","job_type":"batchStopServers","status":"FAIL","begin_time":"2026-01-02T03:04:05.000Z","end_time":null,
		"entities":{"sub_jobs_total":2,"sub_jobs":[{"status":"SUCCESS","job_id":"x1","entities":{"server_id":"s1"}},{"status":"FAIL","job_id":"x2","error_code":"Ecs.0001","fail_reason":"busy","entities":{"server_id":"s2"}}]}}`)
	c := newTestClient(t, srv.URL)
	got, err := c.GetServerJob(context.Background(), "e1")
	if err != nil {
		t.Fatalf("GetServerJob: %v", err)
	}
	want := &Job{ID: "e1", Type: "batchStopServers", Status: JobFail, BeginTime: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC), ErrorCode: "Ecs.0001", FailReason: "busy"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("-want, +got:\n%s", diff)
	}
	if r := f.requests()[0]; r.Method != http.MethodGet || r.Path != path("/jobs/e1") {
		t.Errorf("request = %s %s", r.Method, r.Path)
	}
}

func TestValidate(t *testing.T) {
	f, srv := newFakeCloud(t)
	f.answer(http.MethodGet, path("/sdrs/quotas"), 200, `{"quotas":{"resources":[{"type":"server_groups","used":10,"quota":50,"min":0,"max":-1}]}}`)
	c := newTestClient(t, srv.URL)
	if err := c.Validate(context.Background()); err != nil {
		t.Errorf("Validate: %v", err)
	}
	f.answer(http.MethodGet, path("/sdrs/quotas"), 401, `{"error_code":"APIGW.0301","error_msg":"Incorrect IAM authentication information"}`)
	if err := c.Validate(context.Background()); !IsUnauthorized(err) {
		t.Errorf("Validate with bad credentials = %v, want Unauthorized", err)
	}
}

func TestHugeBodies(t *testing.T) {
	f, srv := newFakeCloud(t)
	f.answer(http.MethodGet, path("/server-groups/g1"), 200, `{"server_group":{"id":"g1","description":"`+strings.Repeat("x", 4096)+`"}}`)
	f.answer(http.MethodGet, path("/server-groups/g2"), 502, strings.Repeat("<p>Bad Gateway</p>", 100000))
	c := newTestClient(t, srv.URL, func(cfg *clientConfig) { cfg.maxBody = 1024 })

	_, err := c.GetProtectionGroup(context.Background(), "g1")
	if !IsTransient(err) || !errors.Is(err, errResponseTooLarge) {
		t.Errorf("a body over the limit = %v, want Transient(errResponseTooLarge)", err)
	}
	_, err = c.GetProtectionGroup(context.Background(), "g2")
	if !IsTransient(err) || len(err.Error()) > maxMessageLen+100 {
		t.Errorf("a huge error page = %d bytes of message, want a bounded Transient", len(err.Error()))
	}
}

func TestConnectionRefused(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	url := srv.URL
	srv.Close()
	c := newTestClient(t, url)
	if _, err := c.GetJob(context.Background(), "j1"); !IsTransient(err) {
		t.Errorf("got %v, want Transient", err)
	}
}

func TestContextCancellation(t *testing.T) {
	f, srv := newFakeCloud(t)
	arrived, release := make(chan struct{}), make(chan struct{})
	var once sync.Once
	f.handle(http.MethodGet, path("/jobs/j1"), func(w http.ResponseWriter, r *http.Request) {
		once.Do(func() { close(arrived) })
		select {
		case <-release:
		case <-r.Context().Done():
		}
		writeJSON(w, 200, `{"job_id":"j1","status":"RUNNING"}`)
	})
	t.Cleanup(func() { close(release) }) // before srv.Close, which waits for handlers
	var observed []string
	var mu sync.Mutex
	c := newTestClient(t, srv.URL)
	c.observe = func(op string, err error, _ time.Duration) {
		mu.Lock()
		defer mu.Unlock()
		observed = append(observed, op)
	}

	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { _, err := c.GetJob(ctx, "j1"); done <- err }()
	<-arrived
	cancel()
	err := <-done // returns although the server has not answered
	if !IsTransient(err) || !errors.Is(err, context.Canceled) {
		t.Errorf("got %v, want Transient wrapping context.Canceled", err)
	}
	mu.Lock()
	defer mu.Unlock()
	if diff := cmp.Diff([]string{opShowJobStatus}, observed); diff != "" {
		t.Errorf("observer: -want, +got:\n%s", diff)
	}

	// A context already done sends nothing.
	before := len(f.requests())
	if _, err := c.GetJob(ctx, "j1"); !errors.Is(err, context.Canceled) {
		t.Errorf("got %v, want context.Canceled", err)
	}
	if after := len(f.requests()); after != before {
		t.Errorf("a done context sent %d requests", after-before)
	}
}

func TestTLS(t *testing.T) {
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, 200, `{"quotas":{"resources":[]}}`)
	}))
	t.Cleanup(srv.Close)
	ca := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw})

	cases := map[string]struct {
		reason string
		mod    func(*clientConfig)
		check  func(error) bool
	}{
		"CABundle": {
			reason: "spec.caBundle makes a private CA trusted.",
			mod:    func(c *clientConfig) { c.caBundle = ca },
			check:  func(err error) bool { return err == nil },
		},
		"UnknownCA": {
			reason: "Without the CA the call fails as configuration, not as an outage.",
			mod:    func(*clientConfig) {},
			check:  IsInvalidRequest,
		},
		"Insecure": {
			reason: "insecureSkipTLSVerify accepts any certificate.",
			mod:    func(c *clientConfig) { c.insecure = true },
			check:  func(err error) bool { return err == nil },
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			c := newTestClient(t, srv.URL, tc.mod)
			if err := c.Validate(context.Background()); !tc.check(err) {
				t.Errorf("\nReason: %s\ngot %v", tc.reason, err)
			}
		})
	}

	if _, err := buildClient(clientConfig{projectID: "p", sdrsURL: srv.URL, caBundle: []byte("not pem"), credentials: credentials{ak: "a", sk: "b"}}, nil, nil); !IsInvalidRequest(err) {
		t.Errorf("a CA bundle without certificates = %v, want InvalidRequest", err)
	}
}

func TestBuildWithRegions(t *testing.T) {
	creds := credentials{ak: "a", sk: "b"}
	cases := map[string]struct {
		reason  string
		cfg     clientConfig
		wantErr bool
		ecsErr  bool
	}{
		"KnownRegion": {
			reason: "A region in the SDK tables builds without any network call (project ID given).",
			cfg:    clientConfig{region: "cn-north-4", projectID: "p", credentials: creds},
		},
		"UnknownRegion": {
			reason: "An unknown region is an error, not a panic.",
			cfg:    clientConfig{region: "moon-1", projectID: "p", credentials: creds}, wantErr: true,
		},
		"UnknownRegionSDRSEndpoint": {
			reason: "With an SDRS endpoint the SDRS side works; only ECS calls fail.",
			cfg:    clientConfig{region: "moon-1", projectID: "p", sdrsURL: "http://127.0.0.1:1", credentials: creds}, ecsErr: true,
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			c, err := buildClient(tc.cfg, nil, nil)
			if tc.wantErr {
				if !IsInvalidRequest(err) {
					t.Errorf("\nReason: %s\ngot %v, want InvalidRequest", tc.reason, err)
				}
				return
			}
			if err != nil {
				t.Fatalf("\nReason: %s\n%v", tc.reason, err)
			}
			if got := c.ecsErr != nil; got != tc.ecsErr {
				t.Errorf("\nReason: %s\necsErr = %v", tc.reason, c.ecsErr)
			}
			if tc.ecsErr {
				if _, err := c.GetServer(context.Background(), "s1"); !IsInvalidRequest(err) {
					t.Errorf("GetServer = %v, want InvalidRequest", err)
				}
			}
		})
	}
}

// stubSDRS stands in for the SDK to test what real servers cannot easily
// produce: panics and nil answers.
type stubSDRS struct {
	sdrsAPI
	show func() (*model.ShowProtectionGroupResponse, error)
}

func (s stubSDRS) ShowProtectionGroup(*model.ShowProtectionGroupRequest) (*model.ShowProtectionGroupResponse, error) {
	return s.show()
}

func TestSDKMisbehaviour(t *testing.T) {
	cases := map[string]struct {
		reason string
		show   func() (*model.ShowProtectionGroupResponse, error)
	}{
		"Panic": {
			reason: "A panic inside the SDK becomes a Transient error, not a crash.",
			show:   func() (*model.ShowProtectionGroupResponse, error) { panic("index out of range") },
		},
		"NilNil": {
			reason: "A nil answer without error is Transient.",
			show:   func() (*model.ShowProtectionGroupResponse, error) { return nil, nil },
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			c := &sdkClient{sdrs: stubSDRS{show: tc.show}}
			_, err := c.GetProtectionGroup(context.Background(), "g1")
			if !IsTransient(err) {
				t.Errorf("\nReason: %s\ngot %v", tc.reason, err)
			}
		})
	}
}

func TestMorePages(t *testing.T) {
	n := func(v int32) *int32 { return &v }
	cases := map[string]struct {
		got, seen int
		count     *int32
		want      bool
	}{
		"EmptyPage":       {0, 10, n(100), false},
		"BelowCount":      {2, 2, n(5), true},
		"ReachedCount":    {1, 5, n(5), false},
		"NoCountFullPage": {pageLimit, pageLimit, nil, true},
		"NoCountShort":    {3, 3, nil, false},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			if got := morePages(tc.got, tc.seen, tc.count, pageLimit); got != tc.want {
				t.Errorf("morePages = %v, want %v", got, tc.want)
			}
		})
	}
}

func TestConcurrentCalls(t *testing.T) {
	f, srv := newFakeCloud(t)
	f.answer(http.MethodGet, path("/server-groups/"+groupID), 200, docGroup)
	f.answer(http.MethodGet, path("/jobs/j1"), 200, docJob)
	f.answer(http.MethodGet, path("/cloudservers/s1"), 404, `{"itemNotFound":{"message":"gone","code":404}}`)
	c := newTestClient(t, srv.URL)
	c.limiter = rate.NewLimiter(rate.Inf, 0)
	var (
		wg    sync.WaitGroup
		mu    sync.Mutex
		calls int
	)
	c.observe = func(string, error, time.Duration) { mu.Lock(); calls++; mu.Unlock() }
	for i := 0; i < 8; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for k := 0; k < 10; k++ {
				if _, err := c.GetProtectionGroup(context.Background(), groupID); err != nil {
					t.Error(err)
				}
				if _, err := c.GetJob(context.Background(), "j1"); err != nil {
					t.Error(err)
				}
				if _, err := c.GetServer(context.Background(), "s1"); !IsNotFound(err) {
					t.Error(err)
				}
			}
		}()
	}
	wg.Wait()
	if calls != 8*10*3 {
		t.Errorf("observed %d calls, want %d", calls, 8*10*3)
	}
}
