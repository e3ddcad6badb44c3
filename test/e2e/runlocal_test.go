//go:build e2e

package e2e

import (
	"context"
	"encoding/json"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	. "github.com/onsi/gomega"

	"github.com/sdrs-operator/sdrs-operator/test/utils"
)

const (
	// readyTimeout covers the script's `go build` of run-local on a cold
	// cache plus the control plane's start on 2 cores.
	readyTimeout = 5 * time.Minute
	// stopTimeout covers the manager's and the emulator's grace periods and
	// the control plane's stop.
	stopTimeout = 2 * time.Minute
	pollEvery   = 250 * time.Millisecond
)

// The sample ProtectionGroups run-local applies, one per demo SDRS group.
var samplePGs = []string{"erp", "files", "web"}

// runLocalScenarios are checks that run against a ready run-local stack,
// between start and stop, as a person following the README would: the real
// kubectl, then the emulator's own view through its API.
var runLocalScenarios = []struct {
	name string
	run  func(t *testing.T, rl *utils.RunLocal)
}{
	{"SamplesExist", checkSamplesExist},
	{"EmulatorSeeded", checkEmulatorSeeded},
	{"SwitchoverAndBack", checkSwitchoverAndBack},
	{"ForcedFailover", checkForcedFailover},
}

// opTimeout bounds one operation in the local run (5s jobs, a few steps).
const opTimeout = 3 * time.Minute

// checkSwitchoverAndBack switches web to its target site and back with
// kubectl patch and kubectl wait, as the README's tour does.
func checkSwitchoverAndBack(t *testing.T, rl *utils.RunLocal) {
	g := NewWithT(t)
	ctx, cancel := context.WithTimeout(context.Background(), 3*opTimeout)
	defer cancel()
	kubectl := func(args ...string) string {
		out, err := rl.Kubectl(ctx, append([]string{"-n", "default"}, args...)...)
		g.Expect(err).NotTo(HaveOccurred(), "kubectl %v: %s", args, out)
		return out
	}
	wait := "--timeout=" + opTimeout.String()
	kubectl("wait", "pg/web", "--for=condition=Ready", wait)

	kubectl("patch", "pg", "web", "--type", "merge", "-p", `{"spec":{"desiredActiveSite":"target"}}`)
	kubectl("wait", "pg/web", "--for=condition=Ready", wait)
	g.Expect(kubectl("get", "pg", "web", "-o", "jsonpath={.status.activeSite} {.status.sites.production} {.status.lastOperation.type} {.status.lastOperation.result}")).
		To(Equal("target cn-north-4b PlannedFailover Succeeded"))
	g.Expect(emulatorGroup(t, rl, "demo-web")).To(HaveKeyWithValue("priority_station", "target"))

	kubectl("patch", "pg", "web", "--type", "merge", "-p", `{"spec":{"desiredActiveSite":"source"}}`)
	kubectl("wait", "pg/web", "--for=condition=Ready", wait)
	g.Expect(kubectl("get", "pg", "web", "-o", "jsonpath={.status.activeSite} {.status.sites.production}")).To(Equal("source cn-north-4a"))
	grp := emulatorGroup(t, rl, "demo-web")
	g.Expect(grp).To(HaveKeyWithValue("priority_station", "source"))
	g.Expect(grp).To(HaveKeyWithValue("status", "protected"))
}

// checkForcedFailover forces a failover of erp and checks that it ends at
// the target, re-protected.
func checkForcedFailover(t *testing.T, rl *utils.RunLocal) {
	g := NewWithT(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*opTimeout)
	defer cancel()
	kubectl := func(args ...string) string {
		out, err := rl.Kubectl(ctx, append([]string{"-n", "default"}, args...)...)
		g.Expect(err).NotTo(HaveOccurred(), "kubectl %v: %s", args, out)
		return out
	}
	wait := "--timeout=" + opTimeout.String()
	kubectl("wait", "pg/erp", "--for=condition=Ready", wait)
	kubectl("patch", "pg", "erp", "--type", "merge", "-p",
		`{"spec":{"desiredActiveSite":"target","failoverMode":"Forced","allowDataLoss":true}}`)
	kubectl("wait", "pg/erp", "--for=condition=Ready", wait)
	kubectl("wait", "pg/erp", "--for=condition=Protected", wait)
	g.Expect(kubectl("get", "pg", "erp", "-o", "jsonpath={.status.activeSite} {.status.history[*].type}")).
		To(Equal("target Reprotect Failover"))
	grp := emulatorGroup(t, rl, "demo-erp")
	g.Expect(grp).To(HaveKeyWithValue("priority_station", "target"))
	g.Expect(grp).To(HaveKeyWithValue("status", "protected"))
}

// emulatorGroup reads one group from the emulator's admin state by name.
func emulatorGroup(t *testing.T, rl *utils.RunLocal, name string) map[string]any {
	t.Helper()
	g := NewWithT(t)
	env, err := rl.EmulatorEnv()
	g.Expect(err).NotTo(HaveOccurred())
	resp, err := http.Get(env["SDRS_ENDPOINT"] + "/admin/state")
	g.Expect(err).NotTo(HaveOccurred())
	defer resp.Body.Close()
	var state struct {
		Groups []map[string]any `json:"groups"`
	}
	g.Expect(json.NewDecoder(resp.Body).Decode(&state)).To(Succeed())
	for _, grp := range state.Groups {
		if grp["name"] == name {
			return grp
		}
	}
	t.Fatalf("emulator has no group %s", name)
	return nil
}

// TestRunLocal runs `make run-local`'s script as a person would, twice in a
// row in the same state directory: the first run is stopped with SIGTERM
// (kill), the second with SIGINT to its process group (Ctrl-C). Each time,
// every process run-local started must be gone afterwards.
func TestRunLocal(t *testing.T) {
	dir := filepath.Join(t.TempDir(), ".local")

	t.Run("FirstRunStopsOnSIGTERM", func(t *testing.T) {
		rl := startReady(t, dir, 1)
		for _, s := range runLocalScenarios {
			t.Run(s.name, func(t *testing.T) { s.run(t, rl) })
		}
		stopAndCheckNothingLeft(t, rl, func() error { return rl.Signal(syscall.SIGTERM) })
	})

	t.Run("SecondRunStopsOnCtrlC", func(t *testing.T) {
		rl := startReady(t, dir, 2)
		checkSamplesExist(t, rl)
		stopAndCheckNothingLeft(t, rl, func() error { return rl.SignalGroup(syscall.SIGINT) })
	})
}

// TestRunLocalPortInUse proves a busy emulator port fails fast with a
// message that names the port and the flag that picks another.
func TestRunLocalPortInUse(t *testing.T) {
	g := NewWithT(t)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	g.Expect(err).NotTo(HaveOccurred())
	defer l.Close()
	port := strconv.Itoa(l.Addr().(*net.TCPAddr).Port)

	rl, err := utils.StartRunLocal(filepath.Join(t.TempDir(), ".local"), os.Stdout, "[run-local port-in-use] ", "", "--sdrs-port="+port)
	g.Expect(err).NotTo(HaveOccurred())
	t.Cleanup(rl.Stop)
	ctx, cancel := context.WithTimeout(context.Background(), readyTimeout)
	defer cancel()
	err = rl.WaitExit(ctx)
	g.Expect(err).To(HaveOccurred(), "run-local must fail when its port is taken")
	g.Expect(rl.Output()).To(And(ContainSubstring("127.0.0.1:"+port), ContainSubstring("--sdrs-port")))
}

// startReady starts run-local and waits for its ready line and files.
func startReady(t *testing.T, dir string, n int) *utils.RunLocal {
	t.Helper()
	g := NewWithT(t)
	prefix := "[run-local#" + strconv.Itoa(n) + "] "
	rl, err := utils.StartRunLocal(dir, os.Stdout, prefix, artifact(t, "run-local-"+strconv.Itoa(n)+".log"), "--groups-ready-timeout=0")
	g.Expect(err).NotTo(HaveOccurred())
	t.Cleanup(rl.Stop)

	ctx, cancel := context.WithTimeout(context.Background(), readyTimeout)
	defer cancel()
	g.Expect(rl.WaitReady(ctx)).To(Succeed())
	g.Expect(rl.Kubeconfig()).To(BeARegularFile())
	env, err := rl.EmulatorEnv()
	g.Expect(err).NotTo(HaveOccurred())
	for _, k := range []string{"SDRS_ENDPOINT", "SDRS_ECS_ENDPOINT", "SDRS_PROJECT_ID", "SDRS_ACCESS_KEY", "SDRS_SECRET_KEY"} {
		g.Expect(env).To(HaveKeyWithValue(k, Not(BeEmpty())))
	}
	return rl
}

func checkSamplesExist(t *testing.T, rl *utils.RunLocal) {
	g := NewWithT(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	out, err := rl.Kubectl(ctx, "get", "pg", "-n", "default", "-o", "jsonpath={.items[*].metadata.name}")
	g.Expect(err).NotTo(HaveOccurred())
	names := strings.Fields(out)
	sort.Strings(names)
	g.Expect(names).To(Equal(samplePGs))
	// Each adopts a real emulator group: the placeholder was replaced.
	out, err = rl.Kubectl(ctx, "get", "pg", "-n", "default", "-o", "jsonpath={.items[*].spec.protectionGroupID}")
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(strings.Fields(out)).To(HaveLen(len(samplePGs)))
	g.Expect(out).NotTo(ContainSubstring("REPLACE_WITH"))
}

func checkEmulatorSeeded(t *testing.T, rl *utils.RunLocal) {
	g := NewWithT(t)
	env, err := rl.EmulatorEnv()
	g.Expect(err).NotTo(HaveOccurred())
	resp, err := http.Get(env["SDRS_ENDPOINT"] + "/admin/state")
	g.Expect(err).NotTo(HaveOccurred())
	defer resp.Body.Close()
	var state struct {
		Groups []struct {
			Name            string `json:"name"`
			PriorityStation string `json:"priority_station"`
		} `json:"groups"`
	}
	g.Expect(json.NewDecoder(resp.Body).Decode(&state)).To(Succeed())
	var names []string
	for _, grp := range state.Groups {
		names = append(names, grp.Name)
		g.Expect(grp.PriorityStation).To(Equal("source"), "demo group %s starts active at source", grp.Name)
	}
	sort.Strings(names)
	g.Expect(names).To(Equal([]string{"demo-erp", "demo-files", "demo-web"}))
}

// stopAndCheckNothingLeft records run-local's process tree, stops it with
// stop, and checks that it exits 0, that every process of the tree is gone,
// that no process mentions the state directory, and that the files that
// say "ready" are gone too.
func stopAndCheckNothingLeft(t *testing.T, rl *utils.RunLocal, stop func() error) {
	t.Helper()
	g := NewWithT(t)
	tree, err := utils.Descendants(rl.Pid())
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(cmdlines(tree)).To(ContainElements(
		ContainSubstring("etcd"), ContainSubstring("kube-apiserver"),
		ContainSubstring("sdrs-emulator"), ContainSubstring("manager"),
	), "run-local's process tree should hold the whole stack")

	g.Expect(stop()).To(Succeed())
	ctx, cancel := context.WithTimeout(context.Background(), stopTimeout)
	defer cancel()
	g.Expect(rl.WaitExit(ctx)).To(Succeed(), "run-local should exit 0 after a signal")

	g.Eventually(func() []utils.Proc { return utils.StillRunning(tree) }).
		WithTimeout(30*time.Second).WithPolling(pollEvery).Should(BeEmpty(), "processes run-local started")
	g.Eventually(func() ([]utils.Proc, error) { return utils.Mentioning(rl.Dir) }).
		WithTimeout(30*time.Second).WithPolling(pollEvery).Should(BeEmpty(), "processes naming "+rl.Dir)
	g.Expect(rl.Kubeconfig()).NotTo(BeAnExistingFile(), "a stale kubeconfig must not outlive the stack")
	g.Expect(filepath.Join(rl.Dir, "emulator.env")).NotTo(BeAnExistingFile())
}

func cmdlines(procs []utils.Proc) []string {
	out := make([]string, 0, len(procs))
	for _, p := range procs {
		out = append(out, p.Cmdline)
	}
	return out
}

// artifact returns a log path under test/e2e/.artifacts (ignored by git),
// kept after the run for a person to read when a test fails.
func artifact(t *testing.T, name string) string {
	dir := filepath.Join(".artifacts", strings.ReplaceAll(t.Name(), "/", "_"))
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatalf("cannot create %s: %v", dir, err)
	}
	return filepath.Join(dir, name)
}
