//go:build e2e

package e2e

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
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
		t.Run("BannerMetrics", func(t *testing.T) { checkBannerMetrics(t, rl) })
		t.Run("ReadmeTour", func(t *testing.T) { checkReadmeTour(t, rl) })
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
	// docs/plugin.md selects by the samples' tier label.
	out, err = rl.Kubectl(ctx, "get", "pg", "-n", "default", "-l", "tier=web", "-o", "jsonpath={.items[*].metadata.name}")
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(out).To(Equal("web"))
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
	g.Expect(rl.Output()).To(ContainSubstring("type: unset KUBECONFIG"), "the stop message says what to unset")
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

// checkBannerMetrics reads the metrics URL from the ready banner and finds
// the operator's own series there.
func checkBannerMetrics(t *testing.T, rl *utils.RunLocal) {
	g := NewWithT(t)
	m := regexp.MustCompile(`curl -s (http://127\.0\.0\.1:\d+/metrics) \| grep \^sdrs_operator`).FindStringSubmatch(rl.Output())
	g.Expect(m).NotTo(BeNil(), "the banner names the metrics endpoint")
	// The operator's own series appear with its first reconciles.
	g.Eventually(func() (string, error) {
		resp, err := http.Get(m[1])
		if err != nil {
			return "", err
		}
		defer resp.Body.Close()
		body, err := io.ReadAll(resp.Body)
		return string(body), err
	}).WithTimeout(time.Minute).WithPolling(pollEvery).Should(ContainSubstring("sdrs_operator_"))
}

// The README's tour is pasted as written. Its convention, stated in a
// comment at the top of the section: every sh block of the section runs,
// in order, with bash -e from the repository root and KUBECONFIG exported
// (as the tour's second block does in the second terminal); a block right
// after a "<!-- tour: skip -->" line is for the first terminal and does not
// run (the test started run-local itself). Each block runs twice in a row:
// a second paste must change no group's spec.
const (
	readmeTourHeading = "## A five-minute tour"
	tourSkipMarker    = "<!-- tour: skip -->"
)

// tourBlock is one sh code block of the tour.
type tourBlock struct {
	line   int // where it starts in README.md, for messages
	script string
	skip   bool
}

// readmeTourBlocks returns the sh blocks of the README's tour, in order.
func readmeTourBlocks(readme string) ([]tourBlock, error) {
	start := strings.Index(readme, "\n"+readmeTourHeading+"\n")
	if start < 0 {
		return nil, fmt.Errorf("README.md has no %q section", readmeTourHeading)
	}
	before := strings.Count(readme[:start+1], "\n")
	section := readme[start+1:]
	if end := strings.Index(section[len(readmeTourHeading):], "\n## "); end >= 0 {
		section = section[:len(readmeTourHeading)+end]
	}
	var (
		blocks  []tourBlock
		cur     *tourBlock
		inFence bool
		prev    string // the last non-empty line outside a fence
	)
	for i, line := range strings.Split(section, "\n") {
		switch {
		case !inFence && strings.HasPrefix(line, "```"):
			inFence = true
			if strings.TrimSpace(strings.TrimPrefix(line, "```")) == "sh" {
				cur = &tourBlock{line: before + i + 1, skip: strings.TrimSpace(prev) == tourSkipMarker}
			}
		case inFence && strings.TrimSpace(line) == "```":
			inFence = false
			if cur != nil {
				blocks = append(blocks, *cur)
				cur = nil
			}
			prev = ""
		case inFence && cur != nil:
			cur.script += line + "\n"
		case !inFence && strings.TrimSpace(line) != "":
			prev = line
		}
	}
	if inFence {
		return nil, errors.New("README.md's tour has an unclosed code block")
	}
	return blocks, nil
}

func TestReadmeTourBlocks(t *testing.T) {
	g := NewWithT(t)
	readme := "intro\n\n## A five-minute tour\n\n<!-- tour: skip -->\n```sh\nmake run-local\n```\n\ntext\n\n" +
		"```sh\nkubectl get pg\n```\n\n```\nNAME\n```\n\n```sh\na\nb\n```\n\n## Concepts\n\n```sh\nnot this\n```\n"
	blocks, err := readmeTourBlocks(readme)
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(blocks).To(Equal([]tourBlock{
		{line: 6, script: "make run-local\n", skip: true},
		{line: 12, script: "kubectl get pg\n"},
		{line: 20, script: "a\nb\n"},
	}))
}

// checkReadmeTour pastes the README's tour into bash, block by block, in a
// directory laid out like the repository root around run-local's state
// directory, and checks where the groups end up: a README that fails over
// twice, or leaves a mode Forced, fails here.
func checkReadmeTour(t *testing.T, rl *utils.RunLocal) {
	g := NewWithT(t)
	readme, err := os.ReadFile(filepath.Join(rl.Root, "README.md"))
	g.Expect(err).NotTo(HaveOccurred())
	blocks, err := readmeTourBlocks(string(readme))
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(blocks).NotTo(BeEmpty())
	g.Expect(blocks[0].skip).To(BeTrue(), "the tour's first block starts the stack, which the test did")

	// run-local's --dir is <work>/.local, so $PWD/.local/kubeconfig in
	// <work> is its kubeconfig; bin/ and config/ are the repository's.
	work := filepath.Dir(rl.Dir)
	for _, name := range []string{"bin", "config"} {
		if _, err := os.Lstat(filepath.Join(work, name)); os.IsNotExist(err) {
			g.Expect(os.Symlink(filepath.Join(rl.Root, name), filepath.Join(work, name))).To(Succeed())
		}
	}
	env := append(os.Environ(), "KUBECONFIG="+rl.Kubeconfig())
	ctx, cancel := context.WithTimeout(context.Background(), 4*opTimeout)
	defer cancel()
	for _, b := range blocks {
		if b.skip {
			continue
		}
		for paste := 1; paste <= 2; paste++ {
			before := specs(t, rl)
			path := filepath.Join(t.TempDir(), "block.sh")
			g.Expect(os.WriteFile(path, []byte(b.script), 0o600)).To(Succeed())
			cmd := exec.CommandContext(ctx, "bash", "-e", path)
			cmd.Dir, cmd.Env = work, env
			out, err := cmd.CombinedOutput()
			t.Logf("README.md:%d, paste %d:\n%s\n%s", b.line, paste, b.script, out)
			g.Expect(err).NotTo(HaveOccurred(), "README.md:%d (paste %d) failed:\n%s\n%s", b.line, paste, b.script, out)
			if paste == 2 {
				g.Expect(specs(t, rl)).To(Equal(before), "pasting README.md:%d a second time changed a spec:\n%s", b.line, b.script)
			}
		}
	}

	get := func(name, jsonpath string) string {
		out, err := rl.Kubectl(ctx, "-n", "default", "get", "pg", name, "-o", "jsonpath="+jsonpath)
		g.Expect(err).NotTo(HaveOccurred(), out)
		return out
	}
	g.Expect(get("web", "{.status.activeSite}")).To(Equal("source"), "the tour switches web over and back")
	g.Expect(get("erp", "{.status.activeSite} {.spec.desiredActiveSite} {.spec.failoverMode} {.spec.allowDataLoss}")).
		To(Equal("source source Auto true"), "erp failed over to target, its Auto mode back, then the plan moved it back to source")
	moves := map[string]int{}
	for _, typ := range strings.Fields(get("erp", `{range .status.history[*]}{.type}{" "}{end}`)) {
		moves[typ]++
	}
	g.Expect(moves["Failover"]).To(Equal(1), "erp failed over exactly once")
	g.Expect(moves["PlannedFailover"]).To(Equal(1), "the plan moved erp back exactly once")
	g.Expect(get("erp", "{.metadata.annotations.dr\\.sdrs\\.io/run}")).To(Equal("demo/r-0001/apps"), "erp carries the plan's run stamp")
	for _, name := range []string{"web", "files"} {
		g.Expect(get(name, "{.metadata.annotations}")).NotTo(ContainSubstring("dr.sdrs.io/run"), "the plan skips %s, already at source, without touching it", name)
	}
	plan, err := rl.Kubectl(ctx, "-n", "default", "get", "drplan", "demo", "-o",
		`jsonpath={.status.run.id} {.status.run.phase} {.status.conditions[?(@.type=="Ready")].status}`)
	g.Expect(err).NotTo(HaveOccurred(), plan)
	g.Expect(plan).To(Equal("r-0001 Succeeded True"), "the tour's plan run succeeded, once")
	g.Expect(get("files", "{.metadata.annotations}")).NotTo(ContainSubstring("dr.sdrs.io/paused"), "the tour resumes files")
}

// specs is every sample group's generation and spec, which a second paste
// of a tour block must leave as they are.
func specs(t *testing.T, rl *utils.RunLocal) string {
	out, err := rl.Kubectl(context.Background(), "-n", "default", "get", "pg", "-o",
		`jsonpath={range .items[*]}{.metadata.name} {.metadata.generation} {.spec}{"\n"}{end}`)
	if err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	return out
}
