//go:build e2e

package e2e

import (
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/util/wait"
	"sigs.k8s.io/controller-runtime/pkg/client"

	drv1alpha1 "github.com/sdrs-operator/sdrs-operator/api/v1alpha1"
	"github.com/sdrs-operator/sdrs-operator/internal/emutest"
	"github.com/sdrs-operator/sdrs-operator/internal/localrun"
	"github.com/sdrs-operator/sdrs-operator/test/e2e/harness"
)

// The reliability suite runs the real bin/manager as processes against
// envtest's kube-apiserver and the sdrs-emulator binary, injects one fault
// per test, and asserts what a DR operator must guarantee: never act twice,
// never lose an operation, never hide a failure, never leak a credential.
// Each test adds a row to docs/reliability.md, which a full run rewrites.
//
// Scenarios share one control plane; each has its own namespace, emulator,
// ProviderConfig and manager process(es) (--watch-namespace), so most run
// in parallel. Those that disturb shared things (the API server restart)
// or measure call rates run alone, before the parallel ones.

const (
	// relOpTimeout bounds one operation end to end on a loaded 2-core
	// machine; typical operations take a few seconds.
	relOpTimeout = 90 * time.Second
	// relParallel is how many parallel scenarios run at once when -parallel
	// was not given: they mostly wait on emulated jobs.
	relParallel = "4"
)

var (
	relReport  harness.Report
	relStarted = time.Now()

	relCPOnce sync.Once
	relCP     *harness.ControlPlane
	relCPErr  error
)

func TestMain(m *testing.M) {
	flag.Parse()
	if f := flag.Lookup("test.parallel"); f != nil && !isFlagSet("test.parallel") {
		_ = f.Value.Set(relParallel)
	}
	code := m.Run()
	if relCP != nil {
		_ = relCP.Stop()
	}
	writeReliabilityReport(code)
	os.Exit(code)
}

func isFlagSet(name string) bool {
	set := false
	flag.Visit(func(f *flag.Flag) { set = set || f.Name == name })
	return set
}

// writeReliabilityReport rewrites docs/reliability.md after a full run of
// the reliability tests (no -run filter), or writes RELIABILITY_REPORT when
// that names a file.
func writeReliabilityReport(code int) {
	rows := relReport.Rows()
	if len(rows) == 0 {
		return
	}
	path := os.Getenv("RELIABILITY_REPORT")
	if path == "" {
		if f := flag.Lookup("test.run"); f != nil && !fullRun(f.Value.String()) {
			fmt.Fprintln(os.Stderr, "reliability: -run given; docs/reliability.md not rewritten (set RELIABILITY_REPORT=path to write one)")
			return
		}
		root, err := localrun.RepoRoot()
		if err != nil {
			return
		}
		path = filepath.Join(root, "docs", "reliability.md")
	}
	took := time.Since(relStarted)
	if err := relReport.WriteMarkdown(path, "Reliability: faults tried and survived", reliabilityIntro, took); err != nil {
		fmt.Fprintln(os.Stderr, "reliability: cannot write report:", err)
		return
	}
	fmt.Fprintf(os.Stderr, "reliability: %d rows written to %s (exit code %d)\n", len(rows), path, code)
}

// fullRun says whether a -run pattern selects the whole reliability suite.
func fullRun(pattern string) bool {
	switch pattern {
	case "", "TestReliability", "^TestReliability$", "Reliability":
		return true
	}
	return false
}

const reliabilityIntro = `
This file is written by the end-to-end reliability suite (` + "`test/e2e/reliability_*_test.go`" + `,
` + "`go test -tags e2e ./test/e2e/ -run 'Reliability'`" + `; ` + "`make test`" + ` runs it). Do not edit it by hand.

Every row is one test that can fail. Each runs the real ` + "`bin/manager`" + ` binary as a process
against envtest's kube-apiserver and etcd, and the ` + "`sdrs-emulator`" + ` binary over HTTP (the official
SDK signs every call), with the fault injected from outside: SIGKILL, a second replica, a
restarted emulator or API server, the emulator's HTTP and job faults, a proxy that holds or
rewrites answers. "Actions" are the SDRS/ECS calls that change something and that the emulator
carried out (2xx answers, and actions answered 5xx after they happened), read from its call log;
"converge" is the time from the fault to Ready=True at the desired site.

Every crash, handover and failed-job row runs twice: against the emulator's default profile and
against its pessimistic one, which does only what the SDRS documentation promises (an accepted
action shows on the group only after an accept lag, a failed job restores the group's status, a
new job is not found at first; ` + "`docs/emulator.md`" + `, Profiles); the area names the profile. Each
such row counts, with one helper (` + "`harness.Count`" + `), duplicate actions (carried-out actions beyond
the one expected per operation) and lost ones (expected and never carried out, or not in effect at
the end: the group not at the desired site, a Managed server at the new production site not
running), and asserts both are 0. The harness is ` + "`test/e2e/harness`" + `.`

// relScenario is one reliability test.
type relScenario struct {
	name string
	run  func(t *testing.T)
}

// Scenarios that disturb what every manager shares (the API server) or
// measure call rates run one at a time, first.
var relSequential = []relScenario{
	{"APIServerRestart", relAPIServerRestart},
	{"APIServerDownAtJobID", relAPIServerDownAtJobID},
	{"APIServerLeaderLost", inTurnUnderBothProfiles(relAPIServerLeaderLost)},
	{"RollingWave", inTurnUnderBothProfiles(relRollingWave)},
	{"Throttling", relThrottling},
}

// The others run in parallel (see relParallel), each in its own world.
var relParallelScenarios = []relScenario{
	{"KillAnswerLost", underBothProfiles(relKillAnswerLost)},
	{"KillBeforeCall", underBothProfiles(relKillBeforeCall)},
	{"KillWhilePolling", underBothProfiles(relKillWhilePolling)},
	{"KillBeforeJobIDRecorded", underBothProfiles(relKillBeforeJobIDRecorded)},
	{"KillAfterJobEnded", underBothProfiles(relKillAfterJobEnded)},
	{"KillAtActions", relKillAtActions},
	{"KillManagedEarly", underBothProfiles(relKillManagedEarly)},
	{"LeaderKilled", underBothProfiles(relLeaderKilled)},
	{"StaleLeader", underBothProfiles(relStaleLeader)},
	{"AcceptThenError", underBothProfiles(relAcceptThenError)},
	{"RetryRefusedBeforeSDRS", underBothProfiles(relRetryRefusedBeforeSDRS)},
	{"FailedUnrecorded", underBothProfiles(relFailedUnrecorded)},
	{"ForeignWriter", relForeignWriter},
	{"EmulatorRestart", relEmulatorRestart},
	{"JobFailures", relJobFailures},
	{"Conflicts", relConflicts},
	{"SiteDown", relSiteDown},
	{"Credentials", relCredentials},
	{"BadInput", relBadInput},
	{"HostileAnswers", relHostileAnswers},
	{"RBAC", relRBAC},
	{"TLS", relTLS},
	{"Tenancy", relTenancy},
	{"PlainHTTP", relPlainHTTP},
	{"TwoManagersSplitFleet", underBothProfiles(relTwoManagersSplitFleet)},
}

// TestReliability runs every scenario, then searches everything the
// managers wrote for the secret keys the scenarios used. Select one with
// -run 'TestReliability/Parallel/KillWhilePolling'.
func TestReliability(t *testing.T) {
	for _, sc := range relSequential {
		t.Run(sc.name, sc.run)
	}
	t.Run("Parallel", func(t *testing.T) {
		for _, sc := range relParallelScenarios {
			t.Run(sc.name, func(t *testing.T) {
				t.Parallel()
				sc.run(t)
			})
		}
	})
	t.Run("NoSecretLeaks", relNoSecretLeaks)
}

var (
	relSecretsMu sync.Mutex
	relSecrets   = map[string]bool{harness.DefaultSecretKey: true}
)

// usedSecret registers a secret key a scenario gave to a manager, for the
// final leak search.
func usedSecret(sk string) string {
	relSecretsMu.Lock()
	defer relSecretsMu.Unlock()
	relSecrets[sk] = true
	return sk
}

// controlPlane returns the shared control plane, started on first use.
func controlPlane(t *testing.T) *harness.ControlPlane {
	t.Helper()
	relCPOnce.Do(func() {
		relCP, relCPErr = harness.StartControlPlane(harness.ControlPlaneOptions{})
		if relCPErr == nil {
			dir, _ := harness.RunDir()
			fmt.Fprintf(os.Stderr, "reliability: logs of every process are in %s\n", dir)
		}
	})
	if relCPErr != nil {
		t.Fatalf("control plane: %v", relCPErr)
	}
	return relCP
}

// scenario is one test's world: a namespace, an emulator, a ProviderConfig
// named after the namespace, and the managers the test starts.
type scenario struct {
	t   *testing.T
	ctx context.Context
	cp  *harness.ControlPlane
	emu *harness.Emulator
	ns  string
	pc  string

	// proxy sits in front of the SDRS listener when scenarioOptions.proxy.
	proxy *harness.Proxy

	row      harness.Row
	managers []*harness.Manager
}

type scenarioOptions struct {
	emulator harness.EmulatorOptions
	// profile is the emulator profile (emutest.ProfileDefault or
	// emutest.ProfilePessimistic); it is named in the row's area.
	profile string
	// proxy puts a harness.Proxy between the manager and the SDRS listener.
	proxy    bool
	mutatePC func(*drv1alpha1.ProviderConfig)
	// noProviderConfig leaves the ProviderConfig to the test.
	noProviderConfig bool
}

// newScenario sets up a world and registers the test's row in the report;
// the row is marked passed or failed when the test ends.
func newScenario(t *testing.T, row harness.Row, o scenarioOptions) *scenario {
	t.Helper()
	cp := controlPlane(t)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	t.Cleanup(cancel)
	if o.emulator.Name == "" {
		o.emulator.Name = "emulator-" + t.Name()
	}
	if o.profile != "" {
		o.emulator.Profile = o.profile
		row.Area = fmt.Sprintf("%s (%s SDRS)", row.Area, o.profile)
	}
	emu := harness.MustEmulator(t, o.emulator)
	ns := cp.MustNamespace(t, "rel-")
	s := &scenario{t: t, ctx: ctx, cp: cp, emu: emu, ns: ns, pc: "pc-" + ns, row: row}
	s.row.Test = t.Name()
	// Registered first, so it runs last: after the managers stopped.
	t.Cleanup(func() {
		s.row.Passed = !t.Failed()
		if s.row.Result == "" {
			s.row.Result = "did not finish; see the test log"
		}
		if !s.row.Passed {
			s.row.Result = "FAILED: " + s.row.Result
		}
		relReport.Add(s.row)
		for _, m := range s.managers {
			if p := localrun.Panicked(m.Lines()); len(p) > 0 {
				t.Errorf("%s logged a panic: %s", m.Name, p[0])
			}
		}
	})
	endpoint := ""
	if o.proxy {
		s.proxy = harness.MustProxy(t, emu.SDRSURL)
		endpoint = s.proxy.URL
	}
	if !o.noProviderConfig {
		pc := harness.ProviderConfigFor(s.pc, ns, emu, endpoint)
		if o.mutatePC != nil {
			o.mutatePC(pc)
		}
		cp.MustProviderConfig(t, pc, emu)
	}
	return s
}

// result sets the measured outcome shown in the report.
func (s *scenario) result(format string, args ...any) {
	s.row.Result = fmt.Sprintf(format, args...)
	s.t.Log("result: " + s.row.Result)
}

func (s *scenario) managerOptions(name string, leaderElect bool) harness.ManagerOptions {
	return harness.ManagerOptions{
		Name:           fmt.Sprintf("%s-%s", name, s.ns),
		Kubeconfig:     s.cp.Kubeconfig,
		WatchNamespace: s.ns,
		LeaderElect:    leaderElect,
	}
}

// manager starts a manager for the scenario's namespace (no leader
// election) and waits for its workers.
func (s *scenario) manager(name string) *harness.Manager {
	s.t.Helper()
	m := harness.MustManager(s.t, s.managerOptions(name, false))
	s.managers = append(s.managers, m)
	return m
}

// managerWith starts a manager with custom options.
func (s *scenario) managerWith(opts harness.ManagerOptions) *harness.Manager {
	s.t.Helper()
	m := harness.MustManager(s.t, opts)
	s.managers = append(s.managers, m)
	return m
}

func (s *scenario) seed(groups ...emutest.Group) []emutest.SeededGroup {
	s.t.Helper()
	out, err := s.emu.Admin.Seed(s.ctx, groups...)
	if err != nil {
		s.t.Fatal(err)
	}
	return out
}

// adopt creates a ProtectionGroup adopting groupID.
func (s *scenario) adopt(name, groupID string, mutate func(*drv1alpha1.ProtectionGroup)) *drv1alpha1.ProtectionGroup {
	s.t.Helper()
	pg := harness.AdoptingGroup(s.ns, name, s.pc, groupID)
	if mutate != nil {
		mutate(pg)
	}
	if err := s.cp.Client.Create(s.ctx, pg); err != nil {
		s.t.Fatal(err)
	}
	return pg
}

func (s *scenario) waitFor(pg *drv1alpha1.ProtectionGroup, timeout time.Duration, cond harness.Condition) {
	s.t.Helper()
	if err := s.cp.WaitFor(s.ctx, pg, timeout, cond); err != nil {
		s.t.Fatal(err)
	}
}

func (s *scenario) update(pg *drv1alpha1.ProtectionGroup, mutate func(*drv1alpha1.ProtectionGroup)) {
	s.t.Helper()
	if err := s.cp.Update(s.ctx, pg, mutate); err != nil {
		s.t.Fatal(err)
	}
}

func (s *scenario) annotate(pg *drv1alpha1.ProtectionGroup, key, value string) {
	s.t.Helper()
	if err := s.cp.Annotate(s.ctx, pg, key, value); err != nil {
		s.t.Fatal(err)
	}
}

// calls returns the emulator's call log for a group ("" for all).
func (s *scenario) calls(groupID string) []emutest.Call {
	s.t.Helper()
	c, err := s.emu.Admin.Calls(s.ctx, "", groupID)
	if err != nil {
		s.t.Fatal(err)
	}
	return c
}

// actions returns the accepted actions on a group by operation.
func (s *scenario) actions(groupID string) map[string]int {
	return harness.ActionCounts(s.calls(groupID))
}

// expectActions fails unless the accepted actions on the group are exactly
// want (operations absent from want must not appear).
func (s *scenario) expectActions(groupID string, want map[string]int) map[string]int {
	s.t.Helper()
	got := s.actions(groupID)
	if !equalCounts(got, want) {
		s.t.Errorf("actions on group %s: got %v, want exactly %v", groupID, got, want)
	}
	return got
}

func equalCounts(a, b map[string]int) bool {
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	for k, v := range b {
		if a[k] != v {
			return false
		}
	}
	return true
}

// waitJob polls the emulator until its job has status (SUCCESS, FAIL).
func (s *scenario) waitJob(jobID, status string, timeout time.Duration) {
	s.t.Helper()
	err := wait.PollUntilContextTimeout(s.ctx, 100*time.Millisecond, timeout, true, func(ctx context.Context) (bool, error) {
		st, err := s.emu.State(ctx)
		if err != nil {
			return false, nil
		}
		j := st.Job(jobID)
		return j != nil && j.Status == status, nil
	})
	if err != nil {
		s.t.Fatalf("emulator job %s did not reach %s within %s", jobID, status, timeout)
	}
}

// reverseStarted waits until SDRS accepted the planned failover of pg (the
// emulator holds its job) and returns the intent's requestID and the job's
// ID. The manager writes the job ID to status only with the job's result,
// or once it has run --record-job-id-after, so it is read from SDRS.
func (s *scenario) reverseStarted(pg *drv1alpha1.ProtectionGroup, groupID string) (requestID, jobID string) {
	s.t.Helper()
	s.waitFor(pg, relOpTimeout, harness.OperationAt(drv1alpha1.OperationPlannedFailover, drv1alpha1.StepSDRSAction))
	err := wait.PollUntilContextTimeout(s.ctx, 100*time.Millisecond, relOpTimeout, true, func(ctx context.Context) (bool, error) {
		var newest harness.JobState
		for _, j := range s.groupJobs(groupID, "reverseProtectionGroupNoCG") {
			if j.Begin.After(newest.Begin) || newest.ID == "" {
				newest = j
			}
		}
		if newest.ID == "" {
			return false, nil
		}
		jobID = newest.ID
		return true, nil
	})
	if err != nil {
		s.t.Fatalf("SDRS did not start a reverse job for group %s within %s", groupID, relOpTimeout)
	}
	cur := s.get(pg)
	if op := cur.Status.CurrentOperation; op == nil || (op.JobID != "" && op.JobID != jobID) {
		s.t.Fatalf("status names another job than SDRS runs (%s): %s", jobID, harness.Describe(cur))
	}
	return cur.Status.CurrentOperation.RequestID, jobID
}

// groupJobs returns the emulator's jobs on a group of a type ("" for all).
func (s *scenario) groupJobs(groupID, jobType string) []harness.JobState {
	s.t.Helper()
	st, err := s.emu.State(s.ctx)
	if err != nil {
		s.t.Fatal(err)
	}
	var out []harness.JobState
	for _, j := range st.Jobs {
		if j.GroupID == groupID && (jobType == "" || j.Type == jobType) {
			out = append(out, j)
		}
	}
	return out
}

// get reads a ProtectionGroup fresh.
func (s *scenario) get(pg *drv1alpha1.ProtectionGroup) *drv1alpha1.ProtectionGroup {
	s.t.Helper()
	cur := &drv1alpha1.ProtectionGroup{}
	if err := s.cp.Client.Get(s.ctx, client.ObjectKeyFromObject(pg), cur); err != nil {
		s.t.Fatal(err)
	}
	return cur
}

// fmtCounts renders action counts in a stable order.
func fmtCounts(m map[string]int) string {
	var parts []string
	for _, op := range harness.Actions {
		if m[op] > 0 {
			parts = append(parts, fmt.Sprintf("%s×%d", op, m[op]))
		}
	}
	if len(parts) == 0 {
		return "no actions"
	}
	return strings.Join(parts, ", ")
}

func ms(d time.Duration) string { return d.Round(100 * time.Millisecond).String() }

// off is a seeded instance whose production server is already stopped, so
// that a planned failover with serverPower Manual goes straight to SDRS.
var off = emutest.Instance{ProductionPower: "SHUTOFF"}

func manual(pg *drv1alpha1.ProtectionGroup) { pg.Spec.ServerPower = drv1alpha1.ServerPowerManual }

// relProfiles are the emulator profiles every crash, handover and
// failed-job row runs under (docs/emulator.md, Profiles): the default one,
// and the pessimistic one that does only what the SDRS documentation
// promises (an accepted action shows on the group only after an accept
// lag, a failed job restores the group's status, a new job is not found at
// first).
var relProfiles = []string{emutest.ProfileDefault, emutest.ProfilePessimistic}

// underBothProfiles runs a scenario once per emulator profile, in
// parallel, as subtests named after the profile; each adds its own row.
func underBothProfiles(run func(t *testing.T, profile string)) func(t *testing.T) {
	return func(t *testing.T) {
		for _, p := range relProfiles {
			t.Run(profileName(p), func(t *testing.T) {
				t.Parallel()
				run(t, p)
			})
		}
	}
}

// inTurnUnderBothProfiles is underBothProfiles for scenarios that must run
// alone (they stop the shared API server, or load the machine).
func inTurnUnderBothProfiles(run func(t *testing.T, profile string)) func(t *testing.T) {
	return func(t *testing.T) {
		for _, p := range relProfiles {
			t.Run(profileName(p), func(t *testing.T) { run(t, p) })
		}
	}
}

func profileName(p string) string { return strings.ToUpper(p[:1]) + p[1:] }

// exactlyOnce counts the duplicate and lost actions of one group (see
// harness.Count: carried-out SDRS and ECS actions beyond those expected;
// expected ones never carried out, or whose outcome is not in effect at the
// end), fails the test unless both are 0, and returns the row text: the
// actions carried out and both counts.
func (s *scenario) exactlyOnce(groupID string, want harness.Expect) string {
	s.t.Helper()
	t := s.tally([]string{groupID}, func(string) harness.Expect { return want })
	return fmtCounts(t.Actions) + "; " + t.String()
}

// tally is exactlyOnce over many groups: it returns the sum, having failed
// the test unless it shows no duplicate and no lost action.
func (s *scenario) tally(groupIDs []string, want func(groupID string) harness.Expect) harness.Tally {
	s.t.Helper()
	calls := s.calls("")
	l, err := s.emu.Ledger(s.ctx)
	if err != nil {
		s.t.Fatal(err)
	}
	var sum harness.Tally
	for _, id := range groupIDs {
		sum.Add(harness.Count(id, calls, l, want(id)))
	}
	if !sum.OK() {
		s.t.Errorf("%s over %d groups: %s", sum, sum.Groups, strings.Join(sum.Problems, "; "))
	}
	return sum
}

// Expected actions of the usual operations.
var (
	reverseOnce   = map[string]int{"StartReverseProtectionGroup": 1}
	switchManaged = map[string]int{"BatchStopServers": 1, "StartReverseProtectionGroup": 1, "BatchStartServers": 1}
)
