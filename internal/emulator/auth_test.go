package emulator

import (
	"bytes"
	"io"
	"net/http"
	"net/url"
	"testing"
	"time"

	sdrs "github.com/huaweicloud/huaweicloud-sdk-go-v3/services/sdrs/v1"
	"github.com/huaweicloud/huaweicloud-sdk-go-v3/services/sdrs/v1/model"
)

func TestAuthRejectsBadCredentials(t *testing.T) {
	e := newEnv(t)
	for _, tc := range []struct {
		name            string
		ak, sk, project string
	}{
		{"wrong secret key", testAK, "not-the-secret", testProject},
		{"unknown access key", "OTHERACCESSKEY000001", testSK, testProject},
		{"wrong project", testAK, testSK, "ffffffffffffffffffffffffffffffff"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			client := sdrs.NewSdrsClient(sdkClient(t, sdrs.SdrsClientBuilder(), e.srv.URL, tc.ak, tc.sk, tc.project))
			_, err := client.ListProtectionGroups(&model.ListProtectionGroupsRequest{})
			wantError(t, err, http.StatusUnauthorized, codeAuth)
		})
	}
}

func TestAuthRawRequests(t *testing.T) {
	e := newEnv(t)
	g := e.seedOne(1)
	groupPath := "/v1/" + testProject + "/server-groups/" + g.ID
	renameBody := `{"server_group":{"name":"renamed"}}`
	for _, tc := range []struct {
		name string
		req  rawRequest
		want int
	}{
		{"signed GET passes", rawRequest{method: http.MethodGet, path: groupPath}, http.StatusOK},
		{"signed PUT with body passes", rawRequest{method: http.MethodPut, path: groupPath, body: renameBody}, http.StatusOK},
		{"signed query passes", rawRequest{method: http.MethodGet, path: "/v1/" + testProject + "/server-groups",
			query: url.Values{"name": {"pg a+b/c"}, "limit": {"5"}}}, http.StatusOK},
		{"stale date", rawRequest{method: http.MethodGet, path: groupPath, date: time.Now().Add(-20 * time.Minute)}, http.StatusUnauthorized},
		{"date in the future", rawRequest{method: http.MethodGet, path: groupPath, date: time.Now().Add(20 * time.Minute)}, http.StatusUnauthorized},
		{"tampered body", rawRequest{method: http.MethodPut, path: groupPath, body: renameBody, tamper: func(r *http.Request) {
			forged := `{"server_group":{"name":"forged"}}`
			r.Body = io.NopCloser(bytes.NewBufferString(forged))
			r.ContentLength = int64(len(forged))
		}}, http.StatusUnauthorized},
		{"tampered query", rawRequest{method: http.MethodGet, path: "/v1/" + testProject + "/server-groups",
			query: url.Values{"limit": {"5"}}, tamper: func(r *http.Request) { r.URL.RawQuery = "limit=6" }}, http.StatusUnauthorized},
		{"tampered signed header", rawRequest{method: http.MethodGet, path: groupPath, tamper: func(r *http.Request) {
			r.Header.Set("User-Agent", "curl/8")
		}}, http.StatusUnauthorized},
		{"missing Authorization", rawRequest{method: http.MethodGet, path: groupPath, tamper: func(r *http.Request) {
			r.Header.Del("Authorization")
		}}, http.StatusUnauthorized},
		{"token instead of signature", rawRequest{method: http.MethodGet, path: groupPath, tamper: func(r *http.Request) {
			r.Header.Del("Authorization")
			r.Header.Set("X-Auth-Token", "MIIE-token")
		}}, http.StatusUnauthorized},
		{"X-Project-Id of another project", rawRequest{method: http.MethodGet, path: groupPath, project: "ffffffffffffffffffffffffffffffff"}, http.StatusUnauthorized},
		{"path of another project", rawRequest{method: http.MethodGet, path: "/v1/ffffffffffffffffffffffffffffffff/server-groups/" + g.ID, project: "ffffffffffffffffffffffffffffffff"}, http.StatusUnauthorized},
	} {
		t.Run(tc.name, func(t *testing.T) {
			status, header, body := e.do(e.srv.URL, tc.req)
			if status != tc.want {
				t.Fatalf("want %d, got %d: %s", tc.want, status, body)
			}
			if header.Get("X-Request-Id") == "" {
				t.Errorf("no X-Request-Id")
			}
			if tc.want == http.StatusUnauthorized && errorCode(t, body) != codeAuth {
				t.Errorf("want %s: %s", codeAuth, body)
			}
		})
	}
	// The forged rename never happened.
	if name := e.group(g.ID).Name; name != "renamed" {
		t.Fatalf("group name %q", name)
	}
}

// TestAuthSDKQueryAndPathEncoding proves the signature check against what
// the SDK really sends: query strings with spaces and brackets, the
// leading-space enum value, and URL-escaped path segments.
func TestAuthSDKQueryAndPathEncoding(t *testing.T) {
	e := newEnv(t)
	g := e.seedOne(1)
	piID := g.Instances[0].ID
	list := ok(e.sdrs.ListProtectionGroups(&model.ListProtectionGroupsRequest{
		Limit: ptr(int32(10)), Offset: ptr(int32(0)), Name: ptr(g.Name), Status: ptr(statusProtected),
		AvailabilityZone: ptr(DefaultSourceAZ),
		QueryType:        ptr(model.GetListProtectionGroupsRequestQueryTypeEnum().GENERAL),
	})).must(t)
	if *list.Count != 1 {
		t.Fatalf("count %d", *list.Count)
	}
	ok(e.sdrs.ListProtectionGroups(&model.ListProtectionGroupsRequest{
		QueryType: ptr(model.GetListProtectionGroupsRequestQueryTypeEnum().STOP_PROTECTED),
	})).must(t)
	ins := ok(e.sdrs.ListProtectedInstances(&model.ListProtectedInstancesRequest{
		ServerGroupIds:       ptr(`["` + g.ID + `"]`),
		ProtectedInstanceIds: ptr(`["` + piID + `"]`),
	})).must(t)
	if *ins.Count != 1 {
		t.Fatalf("instances %d", *ins.Count)
	}
	key := "环境 name?#%"
	ok(e.sdrs.AddProtectedInstanceTags(&model.AddProtectedInstanceTagsRequest{ProtectedInstanceId: piID,
		Body: &model.ProtectedInstanceAddTagsRequestBody{Tag: &model.ResourceTag{Key: key, Value: "prod"}}})).must(t)
	ok(e.sdrs.DeleteProtectedInstanceTag(&model.DeleteProtectedInstanceTagRequest{ProtectedInstanceId: piID, Key: key})).must(t)
	_, err := e.sdrs.DeleteProtectedInstanceTag(&model.DeleteProtectedInstanceTagRequest{ProtectedInstanceId: piID, Key: key})
	wantError(t, err, http.StatusNotFound, codeTagNotFound)
}

func TestUnknownPathAndPublicVersions(t *testing.T) {
	e := newEnv(t)
	resp, err := http.Get(e.srv.URL + "/v1/" + testProject + "/no-such-thing")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusNotFound || errorCode(t, body) != codeNoSuchAPI {
		t.Fatalf("unknown path: %d %s", resp.StatusCode, body)
	}
	// Version discovery needs no signature.
	resp, err = http.Get(e.srv.URL + "/")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /: %d", resp.StatusCode)
	}
	// And works through the SDK.
	versions := ok(e.sdrs.ListApiVersions(&model.ListApiVersionsRequest{})).must(t)
	if len(*versions.Versions) != 1 || (*versions.Versions)[0].Id != "v1" || (*versions.Versions)[0].Status.Value() != "CURRENT" {
		t.Fatalf("versions: %+v", versions)
	}
	v := ok(e.sdrs.ShowSpecifiedApiVersion(&model.ShowSpecifiedApiVersionRequest{ApiVersion: "v1"})).must(t)
	if v.Version.Id != "v1" || len(v.Version.Links) != 1 {
		t.Fatalf("version: %+v", v)
	}
	_, err = e.sdrs.ShowSpecifiedApiVersion(&model.ShowSpecifiedApiVersionRequest{ApiVersion: "v9"})
	wantError(t, err, http.StatusNotFound, codeNoSuchAPI)
}
