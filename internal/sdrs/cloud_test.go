package sdrs

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"
)

// The helpers below serve canned SDRS and ECS answers, exactly as
// sdrs-api.md documents them, to the official SDK.

const testProject = "p1"

// recorded is one request the fake cloud received.
type recorded struct {
	Method string
	Path   string
	Query  string
	Body   string
	Header http.Header
}

type fakeCloud struct {
	mu     sync.Mutex
	reqs   []recorded
	routes map[string]http.HandlerFunc
}

func newFakeCloud(t *testing.T) (*fakeCloud, *httptest.Server) {
	t.Helper()
	f := &fakeCloud{routes: map[string]http.HandlerFunc{}}
	srv := httptest.NewServer(f)
	t.Cleanup(srv.Close)
	return f, srv
}

func (f *fakeCloud) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	f.mu.Lock()
	f.reqs = append(f.reqs, recorded{Method: r.Method, Path: r.URL.Path, Query: r.URL.RawQuery, Body: string(body), Header: r.Header.Clone()})
	h, ok := f.routes[r.Method+" "+r.URL.Path]
	f.mu.Unlock()
	if !ok {
		writeJSON(w, http.StatusNotFound, `{"error_code":"APIGW.0101","error_msg":"The API does not exist or has not been published in the environment"}`)
		return
	}
	h(w, r)
}

func (f *fakeCloud) handle(method, path string, h http.HandlerFunc) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.routes[method+" "+path] = h
}

// answer serves a fixed status and body on method and path.
func (f *fakeCloud) answer(method, path string, status int, body string) {
	f.handle(method, path, func(w http.ResponseWriter, _ *http.Request) { writeJSON(w, status, body) })
}

func (f *fakeCloud) requests() []recorded {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]recorded(nil), f.reqs...)
}

func writeJSON(w http.ResponseWriter, status int, body string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = io.WriteString(w, body)
}

// sdrsError is the documented SDRS error body.
func sdrsError(code, msg string) string {
	b, _ := json.Marshal(map[string]any{"error": map[string]string{"code": code, "message": msg}})
	return string(b)
}

func path(p string) string { return "/v1/" + testProject + p }

// newTestClient builds a client on the official SDK against url (SDRS and
// ECS on the same fake server: the paths do not overlap except jobs, which
// the tests keep apart).
func newTestClient(t *testing.T, url string, mods ...func(*clientConfig)) *sdkClient {
	t.Helper()
	cfg := clientConfig{
		projectID:   testProject,
		sdrsURL:     url,
		ecsURL:      url,
		timeout:     10 * time.Second,
		credentials: credentials{ak: "HPUAQWERTYUIOPASDFGH", sk: "Zq3xVb7NmK2pLw9RtY4uHs8JdF6gC1aE5oI0iUyT"},
	}
	for _, m := range mods {
		m(&cfg)
	}
	c, err := buildClient(cfg, nil, nil)
	if err != nil {
		t.Fatalf("buildClient: %v", err)
	}
	t.Cleanup(c.close)
	return c
}

// jsonEqual compares two JSON documents by value.
func jsonEqual(t *testing.T, want, got string) bool {
	t.Helper()
	var w, g any
	if err := json.Unmarshal([]byte(want), &w); err != nil {
		t.Fatalf("bad want JSON %q: %v", want, err)
	}
	if err := json.Unmarshal([]byte(got), &g); err != nil {
		return false
	}
	wb, _ := json.Marshal(w)
	gb, _ := json.Marshal(g)
	return string(wb) == string(gb)
}
