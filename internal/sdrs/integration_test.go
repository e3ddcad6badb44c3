package sdrs_test

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"

	drv1alpha1 "github.com/sdrs-operator/sdrs-operator/api/v1alpha1"
	"github.com/sdrs-operator/sdrs-operator/internal/emulator"
	"github.com/sdrs-operator/sdrs-operator/internal/sdrs"
)

// These tests drive the real client (Connector, SDK, signing, error
// translation) against the project's SDRS emulator, on a fake clock.

const (
	itProject = "0123456789abcdef0123456789abcdef"
	itAK      = "HPUAINTEGRATIONTEST1"
	itSK      = "IntegrationSecretKey0123456789abcdefghij"
	jobTime   = 10 * time.Second
)

type world struct {
	emu     *emulator.Emulator
	clock   *emulator.FakeClock
	sdrsURL string
	client  sdrs.Client
}

func newWorld(t *testing.T) *world {
	t.Helper()
	// The emulator checks X-Sdk-Date against its clock: start at the real
	// time and advance only by job lengths.
	clock := emulator.NewFakeClock(time.Now().UTC())
	emu, err := emulator.New(emulator.Config{ProjectID: itProject, AccessKey: itAK, SecretKey: itSK, JobDuration: jobTime, Clock: clock})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = emu.Close() })
	sdrsSrv := httptest.NewServer(emu.SDRSHandler())
	ecsSrv := httptest.NewServer(emu.ECSHandler())
	t.Cleanup(sdrsSrv.Close)
	t.Cleanup(ecsSrv.Close)

	c := connect(t, sdrsSrv.URL, ecsSrv.URL, itSK)
	return &world{emu: emu, clock: clock, sdrsURL: sdrsSrv.URL, client: c}
}

func connect(t *testing.T, sdrsURL, ecsURL, sk string) sdrs.Client {
	t.Helper()
	secret := &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Namespace: "sdrs-system", Name: "creds"},
		Data:       map[string][]byte{"accessKey": []byte(itAK), "secretKey": []byte(sk)},
	}
	pc := &drv1alpha1.ProviderConfig{
		ObjectMeta: metav1.ObjectMeta{Name: "emulator", UID: "uid-emulator", Generation: 1},
		Spec: drv1alpha1.ProviderConfigSpec{
			Region: "cn-north-4", ProjectID: itProject, Endpoint: sdrsURL, ECSEndpoint: ecsURL,
			AllowInsecureHTTP:    true, // the emulator speaks plain http
			CredentialsSecretRef: drv1alpha1.SecretReference{Namespace: "sdrs-system", Name: "creds"},
			RateLimit:            drv1alpha1.RateLimit{CallsPerSecond: 1000, Burst: 1000},
		},
	}
	c, err := sdrs.NewConnector(fake.NewClientBuilder().WithObjects(secret).Build()).Connect(context.Background(), pc)
	if err != nil {
		t.Fatalf("Connect: %v", err)
	}
	return c
}

// finish advances the emulator past one job and checks how the job ended.
func (w *world) finish(t *testing.T, jobID string, ecs bool, want sdrs.JobStatus) *sdrs.Job {
	t.Helper()
	w.clock.Advance(jobTime + time.Second)
	get := w.client.GetJob
	if ecs {
		get = w.client.GetServerJob
	}
	j, err := get(context.Background(), jobID)
	if err != nil {
		t.Fatalf("job %s: %v", jobID, err)
	}
	if j.Status != want {
		t.Fatalf("job %s = %+v, want %s", jobID, j, want)
	}
	return j
}

func (w *world) group(t *testing.T, id string) *sdrs.ProtectionGroup {
	t.Helper()
	g, err := w.client.GetProtectionGroup(context.Background(), id)
	if err != nil {
		t.Fatalf("GetProtectionGroup: %v", err)
	}
	return g
}

func (w *world) admin(t *testing.T, method, path, body string) {
	t.Helper()
	req, _ := http.NewRequest(method, w.sdrsURL+path, bytes.NewBufferString(body))
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	_ = resp.Body.Close()
	if resp.StatusCode >= 300 {
		t.Fatalf("admin %s %s = %d", method, path, resp.StatusCode)
	}
}

func TestIntegrationFailoverLifecycle(t *testing.T) {
	ctx := context.Background()
	w := newWorld(t)
	seeded, err := w.emu.Seed(emulator.SeedSpec{Groups: []emulator.SeedGroup{{Name: "orders", Instances: []emulator.SeedInstance{{Name: "orders-db"}}}}})
	if err != nil {
		t.Fatal(err)
	}
	gid := seeded.Groups[0].ID
	srcServer := seeded.Groups[0].Instances[0].SourceServer
	dstServer := seeded.Groups[0].Instances[0].TargetServer

	if err := w.client.Validate(ctx); err != nil {
		t.Fatalf("Validate: %v", err)
	}
	g := w.group(t, gid)
	if g.Status != sdrs.StatusProtected || g.PriorityStation != sdrs.SiteSource || g.ProductionZone() != emulator.DefaultSourceAZ {
		t.Fatalf("seeded group = %+v", g)
	}
	found, err := w.client.FindProtectionGroupsByName(ctx, "orders")
	if err != nil || len(found) != 1 || found[0].ID != gid {
		t.Fatalf("FindProtectionGroupsByName = %+v, %v", found, err)
	}
	pis, err := w.client.ListProtectedInstances(ctx, gid)
	if err != nil || len(pis) != 1 || pis[0].SourceServerID != srcServer || pis[0].TargetServerID != dstServer {
		t.Fatalf("ListProtectedInstances = %+v, %v", pis, err)
	}

	// Planned failover is refused while the production server runs.
	if _, err := w.client.StartPlannedFailover(ctx, gid, sdrs.SiteTarget); err == nil {
		t.Fatal("reverse with a running production server must be refused")
	} else if code, ok := sdrs.IsPrecondition(err); !ok || code != "SDRS.1319" {
		t.Fatalf("got %v, want Precondition SDRS.1319", err)
	}

	// Stop production, reverse, start the new production.
	stop, err := w.client.StopServers(ctx, []string{srcServer})
	if err != nil {
		t.Fatal(err)
	}
	w.finish(t, stop, true, sdrs.JobSuccess)
	if s, err := w.client.GetServer(ctx, srcServer); err != nil || s.Status != sdrs.PowerShutoff || s.AvailabilityZone != emulator.DefaultSourceAZ || s.OSType != "Linux" {
		t.Fatalf("production server after stop = %+v, %v", s, err)
	}
	rev, err := w.client.StartPlannedFailover(ctx, gid, sdrs.SiteTarget)
	if err != nil {
		t.Fatalf("StartPlannedFailover: %v", err)
	}
	if g := w.group(t, gid); g.Status != sdrs.StatusReversing {
		t.Errorf("status right after the call = %s, want reversing", g.Status)
	}
	if _, err := w.client.StartFailover(ctx, gid); err == nil {
		t.Error("a second action while reversing must be refused")
	}
	j := w.finish(t, rev, false, sdrs.JobSuccess)
	if j.Type != "reverseProtectionGroupNoCG" || j.EndTime.IsZero() {
		t.Errorf("reverse job = %+v", j)
	}
	g = w.group(t, gid)
	if g.Status != sdrs.StatusProtected || g.PriorityStation != sdrs.SiteTarget || g.ProductionZone() != emulator.DefaultTargetAZ {
		t.Fatalf("after reverse = %+v", g)
	}
	start, err := w.client.StartServers(ctx, []string{dstServer})
	if err != nil {
		t.Fatal(err)
	}
	w.finish(t, start, true, sdrs.JobSuccess)

	// Forced failover back to source, then reprotect.
	fo, err := w.client.StartFailover(ctx, gid)
	if err != nil {
		t.Fatalf("StartFailover: %v", err)
	}
	w.finish(t, fo, false, sdrs.JobSuccess)
	g = w.group(t, gid)
	if g.Status != sdrs.StatusFailedOver || g.PriorityStation != sdrs.SiteSource {
		t.Fatalf("after failover = %+v", g)
	}
	// SDRS forcibly stops the old production servers and leaves the new
	// ones stopped.
	for _, id := range []string{srcServer, dstServer} {
		if s, err := w.client.GetServer(ctx, id); err != nil || s.Status != sdrs.PowerShutoff {
			t.Fatalf("server %s after failover = %+v, %v; want SHUTOFF", id, s, err)
		}
	}
	// Reprotect is refused while a DR-site server runs.
	start, err = w.client.StartServers(ctx, []string{dstServer})
	if err != nil {
		t.Fatal(err)
	}
	w.finish(t, start, true, sdrs.JobSuccess)
	if _, err := w.client.StartProtection(ctx, gid); err == nil {
		t.Fatal("reprotect with the DR-site server running must be refused")
	} else if _, ok := sdrs.IsPrecondition(err); !ok {
		t.Fatalf("got %v, want Precondition", err)
	}
	stop, err = w.client.StopServers(ctx, []string{dstServer})
	if err != nil {
		t.Fatal(err)
	}
	w.finish(t, stop, true, sdrs.JobSuccess)
	rp, err := w.client.StartProtection(ctx, gid)
	if err != nil {
		t.Fatalf("reprotect: %v", err)
	}
	if j := w.finish(t, rp, false, sdrs.JobSuccess); j.Type != "reprotectProtectionGroupNoCG" {
		t.Errorf("start from failed-over must be a reprotect job, got %s", j.Type)
	}
	if g := w.group(t, gid); g.Status != sdrs.StatusProtected || g.PriorityStation != sdrs.SiteSource {
		t.Errorf("after reprotect = %+v", g)
	}
}

func TestIntegrationCreateAndDelete(t *testing.T) {
	ctx := context.Background()
	w := newWorld(t)
	// The emulator's default domain pairs the default zones; its ID is
	// found through the API the operator's users would use.
	job, err := w.client.CreateProtectionGroup(ctx, sdrs.CreateGroupInput{
		Name: "new-group", SourceAvailabilityZone: emulator.DefaultSourceAZ, TargetAvailabilityZone: emulator.DefaultTargetAZ,
		DomainID: domainID(t, w), SourceVpcID: "vpc-1",
	})
	if err != nil {
		t.Fatalf("CreateProtectionGroup: %v", err)
	}
	j := w.finish(t, job, false, sdrs.JobSuccess)
	if j.GroupID == "" {
		t.Fatal("a finished create job names the new group")
	}
	if g := w.group(t, j.GroupID); g.Status != sdrs.StatusAvailable || g.Name != "new-group" {
		t.Errorf("created group = %+v", g)
	}
	del, err := w.client.DeleteProtectionGroup(ctx, j.GroupID)
	if err != nil {
		t.Fatalf("DeleteProtectionGroup: %v", err)
	}
	w.finish(t, del, false, sdrs.JobSuccess)
	if _, err := w.client.GetProtectionGroup(ctx, j.GroupID); !sdrs.IsNotFound(err) {
		t.Errorf("a deleted group = %v, want NotFound", err)
	}
	if _, err := w.client.DeleteProtectionGroup(ctx, j.GroupID); !sdrs.IsNotFound(err) {
		t.Errorf("deleting again = %v, want NotFound (callers treat it as done)", err)
	}
}

func domainID(t *testing.T, w *world) string {
	t.Helper()
	resp, err := http.Get(w.sdrsURL + "/admin/state")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var buf bytes.Buffer
	_, _ = buf.ReadFrom(resp.Body)
	// The state lists domains as {"id": "...", ...}; the first "id" under
	// "domains" is the default one.
	s := buf.String()
	i := bytes.Index([]byte(s), []byte(`"domains"`))
	if i < 0 {
		t.Fatalf("no domains in admin state: %.200s", s)
	}
	k := bytes.Index([]byte(s[i:]), []byte(`"id":"`))
	if k < 0 {
		t.Fatalf("no domain id in admin state")
	}
	rest := s[i+k+len(`"id":"`):]
	return rest[:bytes.IndexByte([]byte(rest), '"')]
}

func TestIntegrationErrors(t *testing.T) {
	ctx := context.Background()
	w := newWorld(t)

	if _, err := w.client.GetProtectionGroup(ctx, "00000000-0000-0000-0000-000000000000"); !sdrs.IsNotFound(err) {
		t.Errorf("unknown group = %v, want NotFound", err)
	}
	if _, err := w.client.GetJob(ctx, "0000000062db92d70162db9d200f000a"); !sdrs.IsNotFound(err) {
		t.Errorf("unknown SDRS job = %v, want NotFound", err)
	}
	if _, err := w.client.GetServerJob(ctx, "0000000062db92d70162db9d200f000a"); !sdrs.IsNotFound(err) {
		t.Errorf("unknown ECS job = %v, want NotFound", err)
	}
	if _, err := w.client.GetServer(ctx, "00000000-0000-0000-0000-00000000dead"); !sdrs.IsNotFound(err) {
		t.Errorf("unknown server = %v, want NotFound", err)
	}

	bad := connect(t, w.sdrsURL, w.sdrsURL, "WrongSecretKey0123456789abcdefghijklmno")
	if err := bad.Validate(ctx); !sdrs.IsUnauthorized(err) {
		t.Errorf("a wrong SK = %v, want Unauthorized", err)
	}

	w.admin(t, http.MethodPut, "/admin/faults/http", `{"throttle_fraction":1,"retry_after_seconds":4,"seed":1}`)
	d, ok := sdrs.IsThrottled(w.client.Validate(ctx))
	if !ok || d != 4*time.Second {
		t.Errorf("throttled call: IsThrottled = %v, %v; want 4s, true", d, ok)
	}
	w.admin(t, http.MethodPut, "/admin/faults/http", `{"error_fraction":1,"error_status":503,"seed":1}`)
	if err := w.client.Validate(ctx); !sdrs.IsTransient(err) {
		t.Errorf("503 = %v, want Transient", err)
	}
	w.admin(t, http.MethodDelete, "/admin/faults/http", "")

	// A job fault ends the failover job FAIL with its code.
	seeded, err := w.emu.Seed(emulator.SeedSpec{Groups: []emulator.SeedGroup{{Name: "faulty", Instances: []emulator.SeedInstance{{}}}}})
	if err != nil {
		t.Fatal(err)
	}
	gid := seeded.Groups[0].ID
	w.admin(t, http.MethodPost, "/admin/faults/jobs", `{"job_type":"failoverProtectionGroupNoCG","count":1,"error_code":"SDRS.1030","fail_reason":"injected"}`)
	fo, err := w.client.StartFailover(ctx, gid)
	if err != nil {
		t.Fatal(err)
	}
	j := w.finish(t, fo, false, sdrs.JobFail)
	if j.ErrorCode != "SDRS.1030" {
		t.Errorf("failed job = %+v, want error code SDRS.1030", j)
	}
	if g := w.group(t, gid); g.Status != sdrs.StatusErrorFailingOver {
		t.Errorf("after a failed failover, status = %s, want error-failing-over", g.Status)
	}
}
