package emulator

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"reflect"
	"testing"
	"time"

	"github.com/huaweicloud/huaweicloud-sdk-go-v3/core"
	"github.com/huaweicloud/huaweicloud-sdk-go-v3/core/auth/basic"
	"github.com/huaweicloud/huaweicloud-sdk-go-v3/core/auth/signer"
	"github.com/huaweicloud/huaweicloud-sdk-go-v3/core/config"
	"github.com/huaweicloud/huaweicloud-sdk-go-v3/core/request"
	"github.com/huaweicloud/huaweicloud-sdk-go-v3/core/sdkerr"
	ecs "github.com/huaweicloud/huaweicloud-sdk-go-v3/services/ecs/v2"
	ecsmodel "github.com/huaweicloud/huaweicloud-sdk-go-v3/services/ecs/v2/model"
	sdrs "github.com/huaweicloud/huaweicloud-sdk-go-v3/services/sdrs/v1"
	"github.com/huaweicloud/huaweicloud-sdk-go-v3/services/sdrs/v1/model"
)

const (
	testProject = "0123456789abcdef0123456789abcdef"
	testAK      = "TESTACCESSKEY0000001"
	testSK      = "test-secret-key-do-not-use"
	// waitTimeout bounds every poll; jobs in tests last tens of ms.
	waitTimeout = 10 * time.Second
)

// env is an emulator behind two httptest servers with official SDK
// clients pointed at them.
type env struct {
	t      *testing.T
	emu    *Emulator
	srv    *httptest.Server
	ecsSrv *httptest.Server
	sdrs   *sdrs.SdrsClient
	ecs    *ecs.EcsClient
}

// newEnv starts an emulator with short jobs (50ms) and syncs (100ms);
// opts may change the config.
func newEnv(t *testing.T, opts ...func(*Config)) *env {
	t.Helper()
	cfg := Config{
		ProjectID:    testProject,
		AccessKey:    testAK,
		SecretKey:    testSK,
		JobDuration:  50 * time.Millisecond,
		SyncDuration: 100 * time.Millisecond,
	}
	for _, o := range opts {
		o(&cfg)
	}
	emu, err := New(cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return attachEnv(t, emu)
}

// attachEnv serves an existing emulator.
func attachEnv(t *testing.T, emu *Emulator) *env {
	t.Helper()
	e := &env{t: t, emu: emu}
	e.srv = httptest.NewServer(emu.SDRSHandler())
	e.ecsSrv = httptest.NewServer(emu.ECSHandler())
	t.Cleanup(func() {
		e.srv.Close()
		e.ecsSrv.Close()
		emu.Close()
	})
	e.sdrs = sdrs.NewSdrsClient(sdkClient(t, sdrs.SdrsClientBuilder(), e.srv.URL, testAK, testSK, testProject))
	e.ecs = ecs.NewEcsClient(sdkClient(t, ecs.EcsClientBuilder(), e.ecsSrv.URL, testAK, testSK, testProject))
	return e
}

// sdkClient builds an SDK HTTP client the way the operator does: custom
// endpoint, AK/SK with an explicit project, no retries.
func sdkClient(t *testing.T, b *core.HcHttpClientBuilder, endpoint, ak, sk, project string) *core.HcHttpClient {
	t.Helper()
	cred, err := basic.NewCredentialsBuilder().WithAk(ak).WithSk(sk).WithProjectId(project).SafeBuild()
	if err != nil {
		t.Fatalf("credentials: %v", err)
	}
	hc, err := b.WithEndpoints([]string{endpoint}).WithCredential(cred).
		WithHttpConfig(config.DefaultHttpConfig().WithRetries(0).WithTimeout(30 * time.Second)).SafeBuild()
	if err != nil {
		t.Fatalf("client: %v", err)
	}
	return hc
}

// result carries an SDK call's answer until must checks it:
// ok(client.Call(req)).must(t).
type result[T any] struct {
	v   T
	err error
}

func ok[T any](v T, err error) result[T] { return result[T]{v, err} }

// must fails the test on an SDK error.
func (r result[T]) must(t *testing.T) T {
	t.Helper()
	if r.err != nil {
		t.Fatalf("unexpected error: %v", r.err)
	}
	return r.v
}

// sdkError asserts err is a service error and returns it.
func sdkError(t *testing.T, err error) *sdkerr.ServiceResponseError {
	t.Helper()
	var se *sdkerr.ServiceResponseError
	if !errors.As(err, &se) {
		t.Fatalf("want *sdkerr.ServiceResponseError, got %T: %v", err, err)
	}
	return se
}

// wantError asserts an SDK call failed with the HTTP status and code.
func wantError(t *testing.T, err error, status int, code string) {
	t.Helper()
	if err == nil {
		t.Fatalf("want %d %s, got success", status, code)
	}
	se := sdkError(t, err)
	if se.StatusCode != status || se.ErrorCode != code {
		t.Fatalf("want %d %s, got %d %s (%s)", status, code, se.StatusCode, se.ErrorCode, se.ErrorMessage)
	}
	if se.RequestId == "" {
		t.Errorf("error answer without X-Request-Id")
	}
}

// eventually polls cond until it holds or the timeout passes.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(waitTimeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// waitJob polls an SDRS job through the SDK until it ends.
func (e *env) waitJob(jobID *string) *model.ShowJobStatusResponse {
	e.t.Helper()
	if jobID == nil || *jobID == "" {
		e.t.Fatalf("no job id")
	}
	var job *model.ShowJobStatusResponse
	eventually(e.t, "job "+*jobID, func() bool {
		job = ok(e.sdrs.ShowJobStatus(&model.ShowJobStatusRequest{JobId: *jobID})).must(e.t)
		s := job.Status.Value()
		return s == jobSuccess || s == jobFail
	})
	return job
}

// waitSuccess waits for a job and fails the test unless it succeeded.
func (e *env) waitSuccess(jobID *string) *model.ShowJobStatusResponse {
	e.t.Helper()
	job := e.waitJob(jobID)
	if job.Status.Value() != jobSuccess {
		e.t.Fatalf("job %s (%s) ended %s: %s %s", *jobID, *job.JobType, job.Status.Value(), str(job.ErrorCode), str(job.FailReason))
	}
	return job
}

// waitECSJob polls an ECS job until it ends.
func (e *env) waitECSJob(jobID *string) *ecsmodel.ShowJobResponse {
	e.t.Helper()
	var job *ecsmodel.ShowJobResponse
	eventually(e.t, "ECS job", func() bool {
		job = ok(e.ecs.ShowJob(&ecsmodel.ShowJobRequest{JobId: *jobID})).must(e.t)
		s := job.Status.Value()
		return s == jobSuccess || s == jobFail
	})
	return job
}

func str(s *string) string {
	if s == nil {
		return "<nil>"
	}
	return *s
}

func ptr[T any](v T) *T { return &v }

// group reads a group through the SDK.
func (e *env) group(id string) model.ShowProtectionGroupParams {
	e.t.Helper()
	return *ok(e.sdrs.ShowProtectionGroup(&model.ShowProtectionGroupRequest{ServerGroupId: id})).must(e.t).ServerGroup
}

// waitReplication polls until the group's replication status is as given.
func (e *env) waitReplication(id, replStatus string) model.ShowProtectionGroupParams {
	e.t.Helper()
	var g model.ShowProtectionGroupParams
	eventually(e.t, "group "+id+" replication "+replStatus, func() bool {
		g = e.group(id)
		return g.ReplicationStatus.Value() == replStatus
	})
	return g
}

// server reads a server through the ECS SDK.
func (e *env) server(id string) ecsmodel.ServerDetail {
	e.t.Helper()
	return *ok(e.ecs.ShowServer(&ecsmodel.ShowServerRequest{ServerId: id})).must(e.t).Server
}

// seed seeds through the admin API.
func (e *env) seed(spec SeedSpec) SeedResult {
	e.t.Helper()
	var res SeedResult
	e.admin(http.MethodPost, "/admin/seed", spec, http.StatusOK, &res)
	return res
}

// seedOne seeds one group with n Linux instances and optional changes.
func (e *env) seedOne(n int, mod ...func(*SeedGroup)) SeedGroupResult {
	e.t.Helper()
	g := SeedGroup{Name: "pg-" + newJobID()[:6]}
	for i := 0; i < n; i++ {
		g.Instances = append(g.Instances, SeedInstance{})
	}
	for _, m := range mod {
		m(&g)
	}
	return e.seed(SeedSpec{Groups: []SeedGroup{g}}).Groups[0]
}

// admin calls the admin API, checks the status and decodes the answer.
func (e *env) admin(method, path string, body any, wantStatus int, out any) []byte {
	e.t.Helper()
	var r io.Reader
	if body != nil {
		data, err := json.Marshal(body)
		if err != nil {
			e.t.Fatal(err)
		}
		r = bytes.NewReader(data)
	}
	req, err := http.NewRequest(method, e.srv.URL+path, r)
	if err != nil {
		e.t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != wantStatus {
		e.t.Fatalf("%s %s: want %d, got %d: %s", method, path, wantStatus, resp.StatusCode, data)
	}
	if out != nil {
		if err := json.Unmarshal(data, out); err != nil {
			e.t.Fatalf("%s %s: decode %s: %v", method, path, data, err)
		}
	}
	return data
}

// stateDump returns GET /admin/state as raw JSON.
func (e *env) stateDump() string {
	e.t.Helper()
	return string(e.admin(http.MethodGet, "/admin/state", nil, http.StatusOK, nil))
}

// calls returns the call log filtered like GET /admin/calls.
func (e *env) calls(query string) []Call {
	e.t.Helper()
	var out []Call
	e.admin(http.MethodGet, "/admin/calls?"+query, nil, http.StatusOK, &out)
	return out
}

// rawRequest is a request signed exactly as the SDK signs, so tests can
// send bodies and headers the typed SDK cannot produce.
type rawRequest struct {
	method, path string
	query        url.Values
	body         string
	// Signing overrides.
	ak, sk, project string
	date            time.Time
	// tamper changes the request after signing.
	tamper func(*http.Request)
}

// do signs and sends the request to the given base URL.
func (e *env) do(base string, rr rawRequest) (int, http.Header, []byte) {
	e.t.Helper()
	req := signedRequest(e.t, base, rr)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header, data
}

// signedRequest builds an *http.Request signed with the SDK's signer the
// way the SDK signs (User-Agent, X-Project-Id, X-Sdk-Date; Content-Type
// unsigned).
func signedRequest(t testing.TB, base string, rr rawRequest) *http.Request {
	t.Helper()
	if rr.ak == "" {
		rr.ak = testAK
	}
	if rr.sk == "" {
		rr.sk = testSK
	}
	if rr.project == "" {
		rr.project = testProject
	}
	if rr.date.IsZero() {
		rr.date = time.Now()
	}
	u, err := url.Parse(base)
	if err != nil {
		t.Fatal(err)
	}
	b := request.NewHttpRequestBuilder().WithEndpoint(base).WithMethod(rr.method).WithPath(rr.path).
		AddHeaderParam("User-Agent", "huaweicloud-usdk-go/3.0").
		AddHeaderParam("X-Project-Id", rr.project).
		AddHeaderParam("Content-Type", "application/json;charset=UTF-8").
		AddHeaderParam(signer.HeaderXDate, rr.date.UTC().Format(signer.BasicDateFormat))
	if rr.body != "" {
		b.WithBody("", rr.body)
	}
	for k, vs := range rr.query {
		b.AddQueryParam(k, reflect.ValueOf(vs[0]))
	}
	headers, err := signer.Sign(b.Build(), rr.ak, rr.sk)
	if err != nil {
		t.Fatal(err)
	}
	target := base + rr.path
	if len(rr.query) > 0 {
		target += "?" + rr.query.Encode()
	}
	req, err := http.NewRequest(rr.method, target, bytes.NewBufferString(rr.body))
	if err != nil {
		t.Fatal(err)
	}
	req.Host = u.Host
	req.Header.Set("User-Agent", "huaweicloud-usdk-go/3.0")
	req.Header.Set("X-Project-Id", rr.project)
	req.Header.Set("Content-Type", "application/json;charset=UTF-8")
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	if rr.tamper != nil {
		rr.tamper(req)
	}
	return req
}

// errorCode extracts error.code from an error body.
func errorCode(t *testing.T, body []byte) string {
	t.Helper()
	var b errorBody
	if err := json.Unmarshal(body, &b); err != nil || b.Error.Code == "" {
		t.Fatalf("not an error body: %s", body)
	}
	return b.Error.Code
}

// sub returns the env bound to a subtest's t.
func (e *env) sub(t *testing.T) *env {
	c := *e
	c.t = t
	return &c
}
