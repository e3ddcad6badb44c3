package sdrs

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"
)

// bodyTransport answers every request with one status and body, in memory.
type bodyTransport struct {
	status int
	body   []byte
}

func (t bodyTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	return &http.Response{
		StatusCode: t.status,
		Header:     http.Header{"Content-Type": []string{"application/json"}, "Retry-After": []string{"2"}},
		Body:       io.NopCloser(bytes.NewReader(t.body)),
		Request:    r,
	}, nil
}

// FuzzGroupMapping feeds arbitrary bodies through the official SDK's
// decoding and our mapping: whatever the server says, the client returns a
// value or a typed error and never panics.
func FuzzGroupMapping(f *testing.F) {
	for _, seed := range []string{
		docGroup,
		docJob,
		`{"server_group":null}`,
		`{"server_group":{"priority_station":null,"health_status":"","status":"x"}}`,
		`{"server_group":{"id":"` + strings.Repeat("a", 300) + `"}}`,
		`{"server_group":{"progress":1e99}}`,
		`{"server_groups":[{"name":"n"},null],"count":-1}`,
		`{"protected_instances":[null,{"server_group_id":null}],"count":null}`,
		`{"status":"FAIL","entities":{"sub_jobs":[null,{"status":null}]}}`,
		`{"server":{"metadata":{"os_type":null}}}`,
		`{"server":{"addresses":{"n":[null,{"addr":null,"OS-EXT-IPS:type":null}]}}}`,
		docDrill,
		`{"disaster_recovery_drills":[null,{"drill_servers":[null]}],"count":null}`,
		`{"status":"SUCCESS","entities":{"disaster_recovery_drill_id":7}}`,
		`{"error":{"code":"SDRS.1913"}}`,
		`{"error":{"code":"SDRS.1013"}}`,
		`[`, `null`, `""`, ``, "\x00\xff",
	} {
		f.Add(200, []byte(seed))
		f.Add(400, []byte(seed))
	}
	f.Fuzz(func(t *testing.T, status int, body []byte) {
		if status < 100 || status > 599 {
			status = 200
		}
		c, err := buildClient(clientConfig{
			projectID:     testProject,
			sdrsURL:       "http://sdrs.invalid",
			ecsURL:        "http://ecs.invalid",
			timeout:       5 * time.Second,
			credentials:   credentials{ak: "a", sk: "b"},
			baseTransport: bodyTransport{status: status, body: body},
		}, nil, nil)
		if err != nil {
			t.Fatal(err)
		}
		ctx := context.Background()
		check := func(what string, err error) {
			if err != nil && len(kinds(err)) != 1 {
				t.Errorf("%s: %T %v is not exactly one typed error", what, err, err)
			}
		}
		_, err = c.GetProtectionGroup(ctx, "g1")
		check("GetProtectionGroup", err)
		_, err = c.FindProtectionGroupsByName(ctx, "n")
		check("FindProtectionGroupsByName", err)
		_, err = c.ListProtectedInstances(ctx, "g1")
		check("ListProtectedInstances", err)
		_, err = c.GetJob(ctx, "j1")
		check("GetJob", err)
		_, err = c.StartFailover(ctx, "g1")
		check("StartFailover", err)
		_, err = c.GetServer(ctx, "s1")
		check("GetServer", err)
		_, err = c.GetServerJob(ctx, "j1")
		check("GetServerJob", err)
		_, err = c.GetDrill(ctx, "d1")
		check("GetDrill", err)
		_, err = c.FindDrills(ctx, "g1", "n")
		check("FindDrills", err)
		_, err = c.CreateDrill(ctx, CreateDrillInput{Name: "n", GroupID: "g1"})
		check("CreateDrill", err)
		_, err = c.DeleteDrill(ctx, "d1")
		check("DeleteDrill", err)
	})
}
