package emulator

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"
)

// TestBadInput sends malformed bodies and parameters: each gets a 4xx with
// the documented error body, never a 5xx, and the state stays as it was.
func TestBadInput(t *testing.T) {
	e := newEnv(t, func(c *Config) { c.JobDuration = time.Hour })
	g := e.seedOne(1)
	pi, rep := g.Instances[0].ID, g.Instances[0].ReplicationID
	p := "/v1/" + testProject
	grp, action := p+"/server-groups/"+g.ID, p+"/server-groups/"+g.ID+"/action"
	inst := p + "/protected-instances/" + pi
	domain := e.group(g.ID).DomainId
	validGroup := `"source_availability_zone":"cn-north-4a","target_availability_zone":"cn-north-4b","source_vpc_id":"v","domain_id":"` + domain + `"`

	type row struct {
		method, path, body string
		query              url.Values
		status             int
		code               string
	}
	bad := func(method, path, body, code string) row {
		return row{method: method, path: path, body: body, status: http.StatusBadRequest, code: code}
	}
	rows := []row{
		bad("POST", p+"/server-groups", "", codeInvalidParams),
		bad("POST", p+"/server-groups", "{", codeInvalidParams),
		bad("POST", p+"/server-groups", "[]", codeInvalidParams),
		bad("POST", p+"/server-groups", "null", codeInvalidParams),
		bad("POST", p+"/server-groups", `{"server_group":null}`, codeInvalidParams),
		bad("POST", p+"/server-groups", `{"server_group":{"name":5}}`, codeInvalidParams),
		bad("POST", p+"/server-groups", `{"server_group":{`+validGroup+`}}`, codeInvalidParams),
		bad("POST", p+"/server-groups", `{"server_group":{"name":"bad name!",`+validGroup+`}}`, "SDRS.0202"),
		bad("POST", p+"/server-groups", `{"server_group":{"name":"`+strings.Repeat("n", 65)+`",`+validGroup+`}}`, "SDRS.0202"),
		bad("POST", p+"/server-groups", `{"server_group":{"name":"ok","description":"<b>",`+validGroup+`}}`, "SDRS.0212"),
		bad("POST", p+"/server-groups", `{"server_group":{"name":"ok","dr_type":"sync",`+validGroup+`}}`, codeInvalidParams),
		bad("POST", p+"/server-groups", `{"server_group":{"name":"ok","source_availability_zone":"cn-north-4a","target_availability_zone":"cn-north-4a","source_vpc_id":"v","domain_id":"`+domain+`"}}`, codeInvalidAZ),
		bad("POST", p+"/server-groups", `{"server_group":{"name":"ok","source_availability_zone":"cn-north-4a","target_availability_zone":"cn-north-4b","source_vpc_id":"v","domain_id":"nope"}}`, codeInvalidDomain),
		bad("POST", p+"/server-groups", `{"server_group":{"name":"ok",`+validGroup+`}} {}`, codeInvalidParams),
		bad("PUT", grp, `{"server_group":{}}`, codeInvalidParams),
		bad("PUT", grp, `{"server_group":{"name":""}}`, codeInvalidParams),
		bad("PUT", grp, `{"server_group":"x"}`, codeInvalidParams),

		bad("POST", action, `{}`, codeInvalidAction),
		bad("POST", action, `{"foo":{}}`, codeInvalidAction),
		bad("POST", action, `{"start-server-group":{},"stop-server-group":{}}`, codeInvalidAction),
		bad("POST", action, `{"start-server-group":5}`, codeInvalidParams),
		bad("POST", action, `{"failover-server-group":"now"}`, codeInvalidParams),
		bad("POST", action, `{"reverse-server-group":null}`, codeInvalidParams),
		bad("POST", action, `{"reverse-server-group":{}}`, codeInvalidParams),
		bad("POST", action, `{"reverse-server-group":{"priority_station":"middle"}}`, codeInvalidParams),
		bad("POST", action, `{"reverse-server-group":{"priority_station":1}}`, codeInvalidParams),
		bad("POST", action, `"start-server-group"`, codeInvalidParams),
		bad("POST", action, `[{"start-server-group":{}}]`, codeInvalidParams),
		bad("POST", action, ``, codeInvalidParams),

		bad("POST", p+"/protected-instances", `{"protected_instance":{"server_group_id":"`+g.ID+`","name":"x"}}`, codeInvalidParams),
		bad("POST", p+"/protected-instances", `{"protected_instance":{"server_group_id":"`+g.ID+`","server_id":"s","name":"x","tags":"t"}}`, codeInvalidParams),
		bad("POST", p+"/protected-instances", `{"protected_instance":{"server_group_id":"`+g.ID+`","server_id":"s","name":"x","primary_ip_address":"999.1.1.1"}}`, codeInvalidIP),
		bad("POST", p+"/protected-instances", `{"protected_instance":{"server_group_id":"`+g.ID+`","server_id":"s","name":"x","tenancy":"mine"}}`, codeInvalidParams),
		bad("POST", p+"/protected-instances/batch", `{"protected_instances":{"server_group_id":"`+g.ID+`","name_prefix":"b","servers":[]}}`, codeInvalidParams),
		bad("POST", p+"/protected-instances/batch", `{"protected_instances":{"server_group_id":"`+g.ID+`","name_prefix":"b","servers":[{}]}}`, codeInvalidParams),
		bad("POST", p+"/protected-instances/delete", `{"protected_instances":[]}`, codeInvalidParams),
		bad("POST", p+"/protected-instances/delete", `{"protected_instances":[{"id":"`+pi+`"},{"id":"`+pi+`"}]}`, codeInvalidParams),
		bad("DELETE", inst, `{bad`, codeInvalidParams),
		bad("DELETE", inst, `{"delete_target_server":"yes"}`, codeInvalidParams),
		bad("PUT", inst, `{"protected_instance":{"name":7}}`, codeInvalidParams),
		bad("POST", inst+"/attachreplication", `{"replicationAttachment":{"replication_id":"`+rep+`","device":"vda"}}`, codeInvalidParams),
		bad("POST", inst+"/attachreplication", `{"replication_attachment":{}}`, codeInvalidParams),
		bad("POST", inst+"/nic", `{}`, codeInvalidParams),
		bad("POST", inst+"/nic", `{"subnet_id":"s","ip_address":"::1"}`, codeInvalidIP),
		bad("POST", inst+"/nic/delete", `{}`, codeInvalidParams),
		bad("POST", inst+"/resize", `{"resize":{}}`, codeInvalidParams),
		bad("POST", inst+"/resize", `{}`, codeInvalidParams),
		bad("POST", inst+"/tags", `{"tag":{"key":""}}`, codeTagKeyEmpty),
		bad("POST", inst+"/tags", `{"tag":{"key":"a*b","value":"x"}}`, codeTagKeyInvalid),
		bad("POST", inst+"/tags", `{"tag":{"key":"k"}}`, "SDRS.2208"),
		bad("POST", inst+"/tags", `{"tag":{"key":"k","value":"`+strings.Repeat("v", 44)+`"}}`, codeTagValueInvalid),
		bad("POST", inst+"/tags/action", `{"action":"update","tags":[{"key":"k","value":"v"}]}`, codeTagAction),
		bad("POST", inst+"/tags/action", `{"action":"create","tags":[]}`, codeTagListEmpty),
		bad("POST", inst+"/tags/action", `{"action":"delete","tags":[{"key":"k"},{"key":"k"}]}`, codeTagDuplicate),
		bad("POST", p+"/protected-instances/resource_instances/action", `{"action":"list"}`, codeByTagsAction),
		bad("POST", p+"/protected-instances/resource_instances/action", `{"action":"filter","limit":"abc"}`, codeInvalidLimit),
		bad("POST", p+"/protected-instances/resource_instances/action", `{"action":"filter","offset":"-1"}`, codeInvalidOffset),
		bad("POST", p+"/protected-instances/resource_instances/action", `{"action":"filter","matches":[{"key":"id","value":"x"}]}`, "SDRS.2213"),

		bad("POST", p+"/replications", `{"replication":{"server_group_id":"`+g.ID+`","name":"r"}}`, codeInvalidParams),
		bad("POST", p+"/replications", `{"replication":{"server_group_id":"`+g.ID+`","volume_id":1,"name":"r"}}`, codeInvalidParams),
		bad("POST", p+"/replications/"+rep+"/action", `{}`, codeInvalidAction),
		bad("POST", p+"/replications/"+rep+"/action", `{"extend-replication":{"new_size":"big"}}`, codeInvalidParams),
		bad("POST", p+"/replications/"+rep+"/action", `{"extend-replication":{}}`, codeInvalidParams),
		bad("DELETE", p+"/replications/"+rep, `{"replication":{"delete_target_volume":"no"}}`, codeInvalidParams),
		bad("PUT", p+"/replications/"+rep, `{"replication":{"name":"a/b"}}`, "SDRS.0202"),
		bad("POST", p+"/disaster-recovery-drills", `{"disaster_recovery_drill":{"name":"x"}}`, codeInvalidParams),
		bad("POST", p+"/disaster-recovery-drills", `{"disaster_recovery_drill":[]}`, codeInvalidParams),

		{method: "GET", path: p + "/server-groups", query: url.Values{"limit": {"-1"}}, status: http.StatusBadRequest, code: codeInvalidLimit},
		{method: "GET", path: p + "/server-groups", query: url.Values{"offset": {"x"}}, status: http.StatusBadRequest, code: codeInvalidOffset},
		{method: "GET", path: p + "/server-groups", query: url.Values{"query_type": {"bogus"}}, status: http.StatusBadRequest, code: codeInvalidParams},
		{method: "GET", path: p + "/protected-instances", query: url.Values{"server_group_ids": {"[1,2"}}, status: http.StatusBadRequest, code: codeInvalidParams},
		{method: "GET", path: p + "/replications", query: url.Values{"limit": {"1.5"}}, status: http.StatusBadRequest, code: codeInvalidLimit},
		{method: "GET", path: p + "/disaster-recovery-drills", query: url.Values{"offset": {"-3"}}, status: http.StatusBadRequest, code: codeInvalidOffset},
		{method: "GET", path: p + "/task-center/failure-jobs", query: url.Values{"limit": {"5000"}}, status: http.StatusBadRequest, code: codeInvalidLimit},
		{method: "GET", path: p + "/resource/rpo-statistics", query: url.Values{"resource_type": {"disk"}}, status: http.StatusBadRequest, code: codeInvalidParams},
		{method: "PATCH", path: grp, status: http.StatusNotFound, code: codeNoSuchAPI},
		bad("POST", p+"/server-groups", `{"server_group":{"name":"`+strings.Repeat("x", maxBodyBytes)+`"}}`, codeInvalidParams),
	}
	before := e.stateDump()
	for _, r := range rows {
		name := r.method + " " + strings.TrimPrefix(r.path, p) + " " + r.body
		if len(name) > 100 {
			name = name[:100]
		}
		t.Run(name, func(t *testing.T) {
			e := e.sub(t)
			status, header, body := e.do(e.srv.URL, rawRequest{method: r.method, path: r.path, body: r.body, query: r.query})
			if status != r.status || errorCode(t, body) != r.code {
				t.Fatalf("want %d %s, got %d %s", r.status, r.code, status, body)
			}
			if header.Get("X-Request-Id") == "" {
				t.Errorf("no X-Request-Id")
			}
			var eb errorBody
			if err := json.Unmarshal(body, &eb); err != nil || eb.Error.Message == "" {
				t.Errorf("error without message: %s", body)
			}
		})
	}
	if after := e.stateDump(); after != before {
		t.Fatalf("bad input changed the state:\nbefore %s\nafter  %s", before, after)
	}
}

func TestECSBadInput(t *testing.T) {
	e := newEnv(t)
	g := e.seedOne(1)
	path := "/v1/" + testProject + "/cloudservers/action"
	before := e.stateDump()
	for _, tc := range []struct {
		body   string
		status int
		code   string
	}{
		{`{}`, http.StatusBadRequest, codeECSBadRequest},
		{`{bad`, http.StatusBadRequest, codeECSBadRequest},
		{`{"os-stop":{"servers":[]}}`, http.StatusBadRequest, codeECSBadRequest},
		{`{"os-stop":{"type":"NICE","servers":[{"id":"` + g.Instances[0].ProductionServer + `"}]}}`, http.StatusBadRequest, codeECSBadRequest},
		{`{"os-stop":{"servers":[{"id":""}]}}`, http.StatusBadRequest, codeECSBadRequest},
		{`{"os-start":{"servers":[{"id":"nope"}]},"os-stop":{"servers":[{"id":"nope"}]}}`, http.StatusBadRequest, codeECSBadRequest},
		{`{"os-start":{"servers":[{"id":"nope"}]}}`, http.StatusNotFound, codeECSServerNotFound},
	} {
		status, _, body := e.do(e.ecsSrv.URL, rawRequest{method: http.MethodPost, path: path, body: tc.body})
		if status != tc.status || errorCode(t, body) != tc.code {
			t.Errorf("%s: want %d %s, got %d %s", tc.body, tc.status, tc.code, status, body)
		}
	}
	status, _, body := e.do(e.ecsSrv.URL, rawRequest{method: http.MethodGet, path: "/v1/" + testProject + "/jobs/nope"})
	if status != http.StatusNotFound || errorCode(t, body) != codeECSBadRequest {
		t.Errorf("unknown ECS job: %d %s", status, body)
	}
	if after := e.stateDump(); after != before {
		t.Fatalf("bad ECS input changed the state")
	}
	// SDRS jobs are not ECS jobs, and the reverse.
	sdrsJob := *ok(e.act(g.ID, actionStop)).must(t)
	status, _, _ = e.do(e.ecsSrv.URL, rawRequest{method: http.MethodGet, path: "/v1/" + testProject + "/jobs/" + sdrsJob})
	if status != http.StatusNotFound {
		t.Errorf("SDRS job through ECS: %d", status)
	}
}

// fuzzTarget is an emulator with one protected group whose actions never
// finish, driven without a network.
type fuzzTarget struct {
	emu     *Emulator
	handler http.Handler
	groupID string
}

func newFuzzTarget(t testing.TB) *fuzzTarget {
	emu, err := New(Config{ProjectID: testProject, AccessKey: testAK, SecretKey: testSK, JobDuration: time.Hour, SyncDuration: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { emu.Close() })
	res, err := emu.Seed(SeedSpec{Groups: []SeedGroup{{Name: "fuzz", Instances: []SeedInstance{{ProductionPower: powerShutoff}}}}})
	if err != nil {
		t.Fatal(err)
	}
	return &fuzzTarget{emu: emu, handler: emu.SDRSHandler(), groupID: res.Groups[0].ID}
}

// send serves one signed request and checks the invariants every answer
// keeps: no 5xx, an error body on errors, no state change on errors.
func (f *fuzzTarget) send(t *testing.T, method, path, body string) int {
	before := f.dump(t)
	req := signedRequest(t, "http://emulator.test", rawRequest{method: method, path: path, body: body})
	rec := httptest.NewRecorder()
	f.handler.ServeHTTP(rec, req)
	if rec.Code >= 500 {
		t.Fatalf("%s %s %q: %d %s", method, path, body, rec.Code, rec.Body)
	}
	if rec.Code >= 400 {
		var eb errorBody
		if err := json.Unmarshal(rec.Body.Bytes(), &eb); err != nil || eb.Error.Code == "" || eb.Error.Message == "" {
			t.Fatalf("%q: bad error body %s", body, rec.Body)
		}
		if after := f.dump(t); after != before {
			t.Fatalf("%q: refused request changed the state", body)
		}
	}
	return rec.Code
}

func (f *fuzzTarget) dump(t *testing.T) string {
	f.emu.mu.Lock()
	defer f.emu.mu.Unlock()
	_, v, _ := f.emu.adminState(nil, nil)
	data, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

// reset puts the group back to protected after an accepted action.
func (f *fuzzTarget) reset() {
	f.emu.mu.Lock()
	defer f.emu.mu.Unlock()
	for name, tm := range f.emu.timers {
		tm.Stop()
		delete(f.emu.timers, name)
	}
	f.emu.st.Jobs = map[string]*Job{}
	f.emu.cascade(f.emu.st.Groups[f.groupID], statusProtected)
	f.emu.st.Groups[f.groupID].PriorityStation = stationSource
	f.emu.setSync(f.emu.st.Groups[f.groupID], replActive, 100)
}

func FuzzActionBody(f *testing.F) {
	for _, seed := range []string{
		`{"start-server-group":{}}`, `{"stop-server-group":null}`, `{"failover-server-group":{}}`,
		`{"reverse-server-group":{"priority_station":"target"}}`, `{"reverse-server-group":{"priority_station":"source"}}`,
		`{"reverse-server-group":{"priority_station":null}}`, `{}`, `{"x":1}`, `[]`, `null`, `"a"`, `{"start-server-group":[]}`,
		`{"failover-server-group":{"force":true}}`, "{\"start-server-group\":{}}\x00", `{"start-server-group":{}`,
		`{"reverse-server-group":{"priority_station":"target"},"failover-server-group":{}}`,
	} {
		f.Add(seed)
	}
	target := newFuzzTarget(f)
	f.Fuzz(func(t *testing.T, body string) {
		status := target.send(t, http.MethodPost, "/v1/"+testProject+"/server-groups/"+target.groupID+"/action", body)
		if status == http.StatusOK {
			target.reset()
		}
	})
}

// FuzzRequestBodies throws arbitrary bodies at every endpoint that takes
// one.
func FuzzRequestBodies(f *testing.F) {
	for _, seed := range []struct {
		endpoint uint8
		body     string
	}{
		{0, `{"server_group":{"name":"x"}}`}, {1, `{"protected_instance":{"name":"x","server_id":"s"}}`},
		{2, `{"replication":{"volume_id":"v"}}`}, {3, `{"tag":{"key":"k","value":"v"}}`},
		{4, `{"action":"create","tags":[{"key":"k","value":"v"}]}`}, {5, `{"action":"filter","tags":[{"key":"k","values":[]}]}`},
		{6, `{"resize":{"flavorRef":"f"}}`}, {7, `{"subnet_id":"s"}`}, {8, `{"extend-replication":{"new_size":1}}`},
		{9, `{"disaster_recovery_drill":{"name":"d"}}`}, {10, `{"protected_instances":[{"id":"x"}]}`}, {11, `{"delete_target_server":true}`},
	} {
		f.Add(seed.endpoint, seed.body)
	}
	target := newFuzzTarget(f)
	target.emu.mu.Lock()
	pi := target.emu.st.instancesOf(target.groupID)[0].ID
	rep := target.emu.st.replicationsOf(target.groupID)[0].ID
	target.emu.mu.Unlock()
	p := "/v1/" + testProject
	endpoints := []struct{ method, path string }{
		{http.MethodPost, p + "/server-groups"},
		{http.MethodPost, p + "/protected-instances"},
		{http.MethodPost, p + "/replications"},
		{http.MethodPost, p + "/protected-instances/" + pi + "/tags"},
		{http.MethodPost, p + "/protected-instances/" + pi + "/tags/action"},
		{http.MethodPost, p + "/protected-instances/resource_instances/action"},
		{http.MethodPost, p + "/protected-instances/" + pi + "/resize"},
		{http.MethodPost, p + "/protected-instances/" + pi + "/nic"},
		{http.MethodPost, p + "/replications/" + rep + "/action"},
		{http.MethodPost, p + "/disaster-recovery-drills"},
		{http.MethodPost, p + "/protected-instances/delete"},
		{http.MethodPut, p + "/server-groups/" + target.groupID},
	}
	f.Fuzz(func(t *testing.T, endpoint uint8, body string) {
		ep := endpoints[int(endpoint)%len(endpoints)]
		target.send(t, ep.method, ep.path, body)
	})
}
