package sdrs

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	ecsmodel "github.com/huaweicloud/huaweicloud-sdk-go-v3/services/ecs/v2/model"
)

const drillID = "4f5e6d7c-1111-2222-3333-444455556666"

// docDrill is the drill object of sdrs-api.md section 3.8.
const docDrill = `{"disaster_recovery_drill":{"id":"` + drillID + `","name":"drill-q3","status":"available",
 "drill_vpc_id":"vpc-drill","created_at":"2019-05-22 08:16:54.413","updated_at":"2019-05-22 08:20:00.000",
 "server_group_id":"g1","drill_servers":[{"protected_instance":"pi1","drill_server_id":"s-drill-1"},
 {"protected_instance":"pi2","drill_server_id":"s-drill-2"}]}}`

func TestGetJobDrillEntity(t *testing.T) {
	cases := map[string]struct {
		reason string
		body   string
		want   *Job
	}{
		"CreateDrill": {
			reason: "entities.disaster_recovery_drill_id, absent from the SDK model, reaches Job.DrillID; the other entities still read.",
			body: `{"status":"SUCCESS","job_id":"j1","job_type":"createDisasterRecoveryDrill","begin_time":"2018-04-19T01:55:30.443Z",
				"entities":{"server_group_id":"g1","disaster_recovery_drill_id":"` + drillID + `"}}`,
			want: &Job{ID: "j1", Type: "createDisasterRecoveryDrill", Status: JobSuccess,
				BeginTime: time.Date(2018, 4, 19, 1, 55, 30, 443e6, time.UTC), GroupID: "g1", DrillID: drillID},
		},
		"FailedDrillJobSubJob": {
			reason: "Sub-jobs still decode next to the drill ID, so a failed sub-job's code is found.",
			body: `{"status":"FAIL","job_id":"j1","job_type":"deleteDisasterRecoveryDrill","error_code":null,
				"entities":{"disaster_recovery_drill_id":"d1","sub_jobs":[{"status":"FAIL","job_id":"s","error_code":"SDRS.1923","fail_reason":"delete failed"}]}}`,
			want: &Job{ID: "j1", Type: "deleteDisasterRecoveryDrill", Status: JobFail, DrillID: "d1", ErrorCode: "SDRS.1923", FailReason: "delete failed"},
		},
		"NullDrillID": {
			reason: "A null drill ID is empty.",
			body:   `{"status":"RUNNING","job_id":"j1","entities":{"disaster_recovery_drill_id":null}}`,
			want:   &Job{ID: "j1", Status: JobRunning},
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

func TestGetDrill(t *testing.T) {
	f, srv := newFakeCloud(t)
	f.answer(http.MethodGet, path("/disaster-recovery-drills/"+drillID), 200, docDrill)
	f.answer(http.MethodGet, path("/disaster-recovery-drills/gone"), 400, sdrsError("SDRS.1902", "The DR drill does not exist"))
	f.answer(http.MethodGet, path("/disaster-recovery-drills/empty"), 200, `{}`)
	c := newTestClient(t, srv.URL)
	ctx := context.Background()

	got, err := c.GetDrill(ctx, drillID)
	if err != nil {
		t.Fatalf("GetDrill: %v", err)
	}
	want := &Drill{ID: drillID, Name: "drill-q3", Status: DrillAvailable, GroupID: "g1", VpcID: "vpc-drill",
		CreatedAt: time.Date(2019, 5, 22, 8, 16, 54, 413e6, time.UTC),
		Servers:   []DrillServer{{ProtectedInstanceID: "pi1", ServerID: "s-drill-1"}, {ProtectedInstanceID: "pi2", ServerID: "s-drill-2"}}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("-want, +got:\n%s", diff)
	}
	_, err = c.GetDrill(ctx, "gone")
	if diff := cmp.Diff(&NotFoundError{Resource: ResourceDrill, ID: "gone", Code: "SDRS.1902"}, err); diff != "" {
		t.Errorf("SDRS.1902 must be NotFound for the drill: -want, +got:\n%s", diff)
	}
	if _, err := c.GetDrill(ctx, "empty"); !IsTransient(err) {
		t.Errorf("an answer without the drill = %v, want Transient", err)
	}
	if _, err := c.GetDrill(ctx, "../jobs/x"); !IsInvalidRequest(err) {
		t.Errorf("a path-changing ID = %v, want InvalidRequest", err)
	}
}

func TestFindAndListDrills(t *testing.T) {
	f, srv := newFakeCloud(t)
	// SDRS matches names fuzzily: "drill-q3" also finds "drill-q3-retry".
	// Two pages; one drill of another group from a server ignoring the
	// filter.
	f.handle(http.MethodGet, path("/disaster-recovery-drills"), func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Query().Get("offset") == "0" {
			writeJSON(w, 200, `{"disaster_recovery_drills":[
				{"id":"d1","name":"drill-q3","status":"creating","server_group_id":"g1","drill_servers":[]},
				{"id":"d2","name":"drill-q3-retry","status":"available","server_group_id":"g1","drill_servers":[]}],"count":4}`)
			return
		}
		writeJSON(w, 200, `{"disaster_recovery_drills":[
			{"id":"d3","name":"drill-q3","status":"available","server_group_id":"other","drill_servers":[]},
			{"id":"d4","name":"drill-q3","status":"error","server_group_id":null,"drill_servers":null}],"count":4}`)
	})
	c := newTestClient(t, srv.URL)
	ctx := context.Background()

	found, err := c.FindDrills(ctx, "g1", "drill-q3")
	if err != nil {
		t.Fatalf("FindDrills: %v", err)
	}
	want := []Drill{
		{ID: "d1", Name: "drill-q3", Status: DrillCreating, GroupID: "g1"},
		{ID: "d4", Name: "drill-q3", Status: DrillError, GroupID: "g1"},
	}
	if diff := cmp.Diff(want, found); diff != "" {
		t.Errorf("exact name, this group, every page: -want, +got:\n%s", diff)
	}
	reqs := f.requests()
	if len(reqs) != 2 || !strings.Contains(reqs[0].Query, "server_group_id=g1") || !strings.Contains(reqs[0].Query, "name=drill-q3") ||
		!strings.Contains(reqs[1].Query, "offset=2") {
		t.Errorf("requests = %+v, want two pages filtered by group and name", reqs)
	}

	all, err := c.ListDrills(ctx, "g1")
	if err != nil {
		t.Fatalf("ListDrills: %v", err)
	}
	if len(all) != 3 {
		t.Errorf("ListDrills = %+v, want the 3 drills of g1", all)
	}
	if q := f.requests()[2].Query; strings.Contains(q, "name=") {
		t.Errorf("ListDrills query = %q, want no name filter", q)
	}

	if _, err := c.FindDrills(ctx, "g1", ""); !IsInvalidRequest(err) {
		t.Errorf("an empty name = %v, want InvalidRequest", err)
	}
	if _, err := c.ListDrills(ctx, ""); !IsInvalidRequest(err) {
		t.Errorf("an empty group = %v, want InvalidRequest", err)
	}
}

func TestCreateDrill(t *testing.T) {
	f, srv := newFakeCloud(t)
	lastBody := func() string { reqs := f.requests(); return reqs[len(reqs)-1].Body }
	f.handle(http.MethodPost, path("/disaster-recovery-drills"), func(w http.ResponseWriter, _ *http.Request) {
		switch gotBody := lastBody(); {
		case strings.Contains(gotBody, "vpc-used"):
			writeJSON(w, 400, sdrsError("SDRS.1921", "The drill VPC is already used"))
		case strings.Contains(gotBody, "busy-group"):
			writeJSON(w, 400, sdrsError("SDRS.1002", "Operation not allowed"))
		case strings.Contains(gotBody, "gone-group"):
			writeJSON(w, 400, sdrsError("SDRS.1013", "Protection group not found"))
		case strings.Contains(gotBody, "bad-cidr"):
			writeJSON(w, 400, sdrsError("SDRS.1908", "drill VPC CIDR differs"))
		default:
			writeJSON(w, 200, `{"job_id":"j-create"}`)
		}
	})
	c := newTestClient(t, srv.URL)
	ctx := context.Background()

	job, err := c.CreateDrill(ctx, CreateDrillInput{Name: "drill-q3", GroupID: "g1"})
	if err != nil || job != "j-create" {
		t.Fatalf("CreateDrill = %q, %v", job, err)
	}
	if body := lastBody(); !jsonEqual(t, `{"disaster_recovery_drill":{"name":"drill-q3","server_group_id":"g1"}}`, body) {
		t.Errorf("body without a VPC = %s; drill_vpc_id must be left out so SDRS creates one", body)
	}
	if _, err := c.CreateDrill(ctx, CreateDrillInput{Name: "drill-q3", GroupID: "g1", VpcID: "vpc-1"}); err != nil {
		t.Fatal(err)
	}
	if body := lastBody(); !jsonEqual(t, `{"disaster_recovery_drill":{"name":"drill-q3","server_group_id":"g1","drill_vpc_id":"vpc-1"}}`, body) {
		t.Errorf("body with a VPC = %s", body)
	}

	cases := map[string]struct {
		reason string
		in     CreateDrillInput
		kind   string
		code   string
		msg    string // the error text must contain it
	}{
		"VPCUsed": {
			reason: "A drill VPC used by another drill needs a person; the message names the VPC.",
			in:     CreateDrillInput{Name: "d", GroupID: "g1", VpcID: "vpc-used"},
			kind:   "Precondition", code: "SDRS.1921", msg: "drill VPC vpc-used: The drill VPC is already used",
		},
		"VPCCIDR": {
			reason: "SDRS.1907-1911 are drill VPC refusals, named the same way.",
			in:     CreateDrillInput{Name: "d", GroupID: "g1", VpcID: "bad-cidr"},
			kind:   "Precondition", code: "SDRS.1908", msg: "drill VPC bad-cidr",
		},
		"GroupState": {
			reason: "A group in the wrong state is a Precondition.",
			in:     CreateDrillInput{Name: "d", GroupID: "busy-group"},
			kind:   "Precondition", code: "SDRS.1002",
		},
		"GroupGone": {
			reason: "The call addresses the group, so SDRS.1013 is the group NotFound.",
			in:     CreateDrillInput{Name: "d", GroupID: "gone-group"},
			kind:   "NotFound", code: "SDRS.1013", msg: `protection group "gone-group" not found`,
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			_, err := c.CreateDrill(ctx, tc.in)
			if diff := cmp.Diff([]string{tc.kind}, kinds(err)); diff != "" {
				t.Fatalf("\nReason: %s\n%v: -want, +got:\n%s", tc.reason, err, diff)
			}
			if ErrorCode(err) != tc.code || !strings.Contains(err.Error(), tc.msg) {
				t.Errorf("\nReason: %s\ngot %q (code %q), want code %s and %q", tc.reason, err, ErrorCode(err), tc.code, tc.msg)
			}
		})
	}

	before := len(f.requests())
	for name, in := range map[string]CreateDrillInput{
		"NoName":      {GroupID: "g1"},
		"NameTooLong": {Name: strings.Repeat("d", MaxDrillNameBytes+1), GroupID: "g1"},
		"Multibyte":   {Name: strings.Repeat("演", 22), GroupID: "g1"}, // 66 bytes, 22 characters
		"NoGroup":     {Name: "d"},
		"BadVPC":      {Name: "d", GroupID: "g1", VpcID: "../x"},
	} {
		if _, err := c.CreateDrill(ctx, in); !IsInvalidRequest(err) {
			t.Errorf("%s: %v, want InvalidRequest", name, err)
		}
	}
	if n := len(f.requests()); n != before {
		t.Errorf("invalid inputs sent %d requests, want none", n-before)
	}
}

func TestDeleteDrill(t *testing.T) {
	cases := map[string]struct {
		reason     string
		delStatus  int
		delBody    string
		showStatus int
		showBody   string
		kind       string
		code       string
		msg        string
		job        string
	}{
		"Accepted": {
			reason:    "An accepted delete returns its job.",
			delStatus: 200, delBody: `{"job_id":"j-del"}`, job: "j-del",
		},
		"Gone1902": {
			reason:    "A drill already gone is NotFound, which callers treat as done.",
			delStatus: 400, delBody: sdrsError("SDRS.1902", "not found"),
			kind: "NotFound", code: "SDRS.1902",
		},
		"Refused1913Gone": {
			reason:    "SDRS.1913 for a drill a read shows gone is NotFound (Terraform reads 1913 on delete as gone).",
			delStatus: 400, delBody: sdrsError("SDRS.1913", "not allowed"),
			showStatus: 400, showBody: sdrsError("SDRS.1902", "not found"),
			kind: "NotFound", code: "SDRS.1913",
		},
		"Refused1913Deleted": {
			reason:    "A drill record left with status deleted is gone too.",
			delStatus: 400, delBody: sdrsError("SDRS.1913", "not allowed"),
			showStatus: 200, showBody: `{"disaster_recovery_drill":{"id":"d1","status":"deleted"}}`,
			kind: "NotFound", code: "SDRS.1913",
		},
		"Refused1913Deleting": {
			reason:    "A repeat while the first delete runs is a Precondition naming the status, never done and never a second job.",
			delStatus: 400, delBody: sdrsError("SDRS.1913", "cannot be deleted now"),
			showStatus: 200, showBody: `{"disaster_recovery_drill":{"id":"d1","status":"deleting"}}`,
			kind: "Precondition", code: "SDRS.1913", msg: "DR drill d1 is deleting: cannot be deleted now",
		},
		"Refused1913Creating": {
			reason:    "A drill still creating must not read as gone: it will hold servers once created.",
			delStatus: 400, delBody: sdrsError("SDRS.1913", "cannot be deleted now"),
			showStatus: 200, showBody: `{"disaster_recovery_drill":{"id":"d1","status":"creating"}}`,
			kind: "Precondition", code: "SDRS.1913", msg: "DR drill d1 is creating",
		},
		"Refused1913ReadFails": {
			reason:    "When the confirming read fails, its error comes back for a retry.",
			delStatus: 400, delBody: sdrsError("SDRS.1913", "cannot be deleted now"),
			showStatus: 503, showBody: `{"error":{"code":"SDRS.0010","message":"internal"}}`,
			kind: "Transient", code: "SDRS.0010",
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			f, srv := newFakeCloud(t)
			f.answer(http.MethodDelete, path("/disaster-recovery-drills/d1"), tc.delStatus, tc.delBody)
			if tc.showBody != "" {
				f.answer(http.MethodGet, path("/disaster-recovery-drills/d1"), tc.showStatus, tc.showBody)
			}
			c := newTestClient(t, srv.URL)
			job, err := c.DeleteDrill(context.Background(), "d1")
			if tc.kind == "" {
				if err != nil || job != tc.job {
					t.Fatalf("\nReason: %s\nDeleteDrill = %q, %v", tc.reason, job, err)
				}
				return
			}
			if diff := cmp.Diff([]string{tc.kind}, kinds(err)); diff != "" {
				t.Fatalf("\nReason: %s\n%v: -want, +got:\n%s", tc.reason, err, diff)
			}
			if ErrorCode(err) != tc.code || !strings.Contains(err.Error(), tc.msg) {
				t.Errorf("\nReason: %s\ngot %q (code %q), want code %s and %q", tc.reason, err, ErrorCode(err), tc.code, tc.msg)
			}
		})
	}
}

func TestServerAddresses(t *testing.T) {
	fixed := ecsmodel.GetServerAddressOSEXTIPStypeEnum().FIXED
	floating := ecsmodel.GetServerAddressOSEXTIPStypeEnum().FLOATING
	yes, no := true, false
	cases := map[string]struct {
		reason string
		in     map[string][]ecsmodel.ServerAddress
		want   []string
	}{
		"None": {
			reason: "No addresses: nil.",
			in:     nil,
		},
		"FixedFirst": {
			reason: "Fixed addresses come before floating ones, whatever the network order.",
			in: map[string][]ecsmodel.ServerAddress{
				"a-net": {{Addr: "100.64.0.9", OSEXTIPStype: &floating}},
				"b-net": {{Addr: "192.168.0.5", OSEXTIPStype: &fixed}},
			},
			want: []string{"192.168.0.5", "100.64.0.9"},
		},
		"PrimaryFirst": {
			reason: "Among fixed addresses the primary NIC's leads; networks then in ID order.",
			in: map[string][]ecsmodel.ServerAddress{
				"a-net": {{Addr: "10.0.0.2", OSEXTIPStype: &fixed, Primary: &no}},
				"b-net": {{Addr: "10.1.0.2", OSEXTIPStype: &fixed, Primary: &yes}},
				"c-net": {{Addr: "10.2.0.2"}},
			},
			want: []string{"10.1.0.2", "10.0.0.2", "10.2.0.2"},
		},
		"Duplicates": {
			reason: "An address listed twice appears once; empty ones are dropped.",
			in: map[string][]ecsmodel.ServerAddress{
				"net": {{Addr: "10.0.0.2", OSEXTIPStype: &fixed}, {Addr: " "}, {Addr: "10.0.0.2", OSEXTIPStype: &fixed}, {Addr: "fd00::2", Version: "6", OSEXTIPStype: &fixed}},
			},
			want: []string{"10.0.0.2", "fd00::2"},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			if diff := cmp.Diff(tc.want, serverAddresses(tc.in)); diff != "" {
				t.Errorf("\nReason: %s\n-want, +got:\n%s", tc.reason, diff)
			}
		})
	}
}

func TestGetServerAddresses(t *testing.T) {
	f, srv := newFakeCloud(t)
	f.answer(http.MethodGet, path("/cloudservers/s1"), 200, `{"server":{"id":"s1","status":"ACTIVE","addresses":{
		"vpc-drill":[{"version":"4","addr":"192.168.0.7","OS-EXT-IPS:type":"fixed","OS-EXT-IPS-MAC:mac_addr":"fa:16:3e:00:00:01","OS-EXT-IPS:port_id":"p1"},
		             {"version":"4","addr":"100.85.0.1","OS-EXT-IPS:type":"floating"}]}}}`)
	c := newTestClient(t, srv.URL)
	got, err := c.GetServer(context.Background(), "s1")
	if err != nil {
		t.Fatalf("GetServer: %v", err)
	}
	if diff := cmp.Diff([]string{"192.168.0.7", "100.85.0.1"}, got.Addresses); diff != "" {
		t.Errorf("addresses: -want, +got:\n%s", diff)
	}
}

func TestTranslateDrillCodes(t *testing.T) {
	cases := map[string]struct {
		reason string
		err    error
		tgt    target
		want   error
	}{
		"GroupHasDrills1003": {
			reason: "Deleting a group with drills waits for the drills: a Precondition.",
			err:    httpErr(400, "SDRS.1003", "the protection group still has 1 DR drill(s)"),
			tgt:    groupTarget,
			want:   &PreconditionError{Code: "SDRS.1003", Message: "the protection group still has 1 DR drill(s)"},
		},
		"DrillVPCNamed": {
			reason: "A drill VPC refusal names the VPC the call gave.",
			err:    httpErr(400, "SDRS.1907", "invalid drill VPC"),
			tgt:    target{resource: ResourceProtectionGroup, id: "g1", vpcID: "vpc-9"},
			want:   &PreconditionError{Code: "SDRS.1907", Message: "drill VPC vpc-9: invalid drill VPC"},
		},
		"DrillVPCAuto": {
			reason: "Without a VPC in the call, the refusal is about the one SDRS creates.",
			err:    httpErr(400, "SDRS.1911", "drill VPC quota"),
			tgt:    target{resource: ResourceProtectionGroup, id: "g1"},
			want:   &PreconditionError{Code: "SDRS.1911", Message: "the drill VPC SDRS creates: drill VPC quota"},
		},
		"DeleteState1913": {
			reason: "The table reads SDRS.1913 as the drill's state forbidding delete; DeleteDrill decides whether it is gone.",
			err:    httpErr(400, "SDRS.1913", "not allowed"),
			tgt:    target{resource: ResourceDrill, id: "d1"},
			want:   &PreconditionError{Code: "SDRS.1913", Message: "not allowed"},
		},
		"DrillNotFoundOnGroupCall": {
			reason: "A drill code on a group call does not say the group is gone.",
			err:    httpErr(400, "SDRS.1902", "not found"),
			tgt:    groupTarget,
			want:   &PreconditionError{Code: "SDRS.1902", Message: "not found"},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			if diff := cmp.Diff(tc.want, translate(tc.err, tc.tgt)); diff != "" {
				t.Errorf("\nReason: %s\n-want, +got:\n%s", tc.reason, diff)
			}
		})
	}
}
