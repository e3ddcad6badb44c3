package emulator

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// BenchmarkCallsAtScale measures the server side of the calls the
// operator makes during a failover, with 100 and 5000 groups seeded: the
// cost of a call must not grow with the number of groups, or a fleet
// benchmark measures the emulator instead of the operator. Run with
//
//	go test -run XXX -bench CallsAtScale ./internal/emulator
func BenchmarkCallsAtScale(b *testing.B) {
	for _, n := range []int{100, 5000} {
		emu, err := New(Config{ProjectID: testProject, AccessKey: testAK, SecretKey: testSK,
			JobDuration: time.Hour, MaxCalls: 1000})
		if err != nil {
			b.Fatal(err)
		}
		spec := SeedSpec{}
		for i := range n {
			spec.Groups = append(spec.Groups, SeedGroup{Name: fmt.Sprintf("g-%05d", i),
				Instances: []SeedInstance{{ProductionPower: powerShutoff}}})
		}
		res, err := emu.Seed(spec)
		if err != nil {
			b.Fatal(err)
		}
		g := res.Groups[n/2]
		sdrsH, ecsH := emu.SDRSHandler(), emu.ECSHandler()
		const base = "http://emulator.test"
		prefix := "/v1/" + testProject

		// A job to poll: one group starts a planned failover that lasts
		// an hour.
		rec := httptest.NewRecorder()
		sdrsH.ServeHTTP(rec, signedRequest(b, base, rawRequest{method: http.MethodPost,
			path: prefix + "/server-groups/" + res.Groups[0].ID + "/action",
			body: `{"reverse-server-group":{"priority_station":"target"}}`}))
		if rec.Code != http.StatusOK {
			b.Fatalf("reverse: %d %s", rec.Code, rec.Body)
		}
		var job struct {
			JobID string `json:"job_id"`
		}
		decodeInto(b, rec.Body, &job)

		for _, c := range []struct {
			name string
			h    http.Handler
			rr   rawRequest
		}{
			{"ShowProtectionGroup", sdrsH, rawRequest{method: http.MethodGet, path: prefix + "/server-groups/" + g.ID}},
			{"ListProtectedInstances", sdrsH, rawRequest{method: http.MethodGet, path: prefix + "/protected-instances",
				query: map[string][]string{"server_group_id": {g.ID}}}},
			{"ShowJobStatus", sdrsH, rawRequest{method: http.MethodGet, path: prefix + "/jobs/" + job.JobID}},
			{"ShowServer", ecsH, rawRequest{method: http.MethodGet, path: prefix + "/cloudservers/" + g.Instances[0].ProductionServer}},
			// Refused (the group is protected at source already): the
			// whole precondition check runs, nothing changes.
			{"StartReverseProtectionGroup", sdrsH, rawRequest{method: http.MethodPost, path: prefix + "/server-groups/" + g.ID + "/action",
				body: `{"reverse-server-group":{"priority_station":"source"}}`}},
		} {
			req := signedRequest(b, base, c.rr)
			body := c.rr.body
			b.Run(fmt.Sprintf("groups=%d/%s", n, c.name), func(b *testing.B) {
				for b.Loop() {
					r := req.Clone(req.Context())
					r.Body = io.NopCloser(stringReader(body))
					w := httptest.NewRecorder()
					c.h.ServeHTTP(w, r)
					if w.Code >= 500 {
						b.Fatalf("%s: %d %s", c.name, w.Code, w.Body)
					}
				}
			})
		}
		emu.Close()
	}
}

func decodeInto(tb testing.TB, r io.Reader, v any) {
	tb.Helper()
	if err := json.NewDecoder(r).Decode(v); err != nil {
		tb.Fatal(err)
	}
}

func stringReader(s string) io.Reader { return strings.NewReader(s) }
