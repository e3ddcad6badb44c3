package localrun

import (
	"context"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"
)

// fakeBinary writes a script that prints its arguments and the secret key
// it got, then each extra line, then sleeps, standing in for the emulator
// or the manager.
func fakeBinary(t *testing.T, lines ...string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "fake")
	script := "#!/bin/sh\necho \"args: $*\"\necho \"secret: $SDRS_SECRET_KEY\"\n"
	for _, l := range lines {
		script += "echo '" + l + "'\n"
	}
	script += "exec sleep 1000\n"
	if err := os.WriteFile(path, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	return path
}

func outputLine(t *testing.T, p *Process, prefix string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	m, err := p.Lines().Wait(ctx, regexp.MustCompile("^"+prefix+"(.*)$"))
	if err != nil {
		t.Fatalf("no %q line: %v", prefix, err)
	}
	return m[1]
}

// TestEmulatorAddressesKeysAndRestart: the addresses come from the log,
// the keys default to fresh random ones (the secret only in the
// environment), and a restart comes back on the ports of the first start.
func TestEmulatorAddressesKeysAndRestart(t *testing.T) {
	bin := fakeBinary(t,
		`time=x level=INFO msg="SDRS API listening" addr=127.0.0.1:1111 project_id=p`,
		`time=x level=INFO msg="ECS API listening" addr=127.0.0.1:2222 tls=false`)
	dir := t.TempDir()
	e, err := StartEmulator(EmulatorOptions{Bin: bin, Dir: dir, Persist: true, Profile: "pessimistic", AcceptLag: -1})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = e.Kill() })
	if e.SDRSURL != "http://127.0.0.1:1111" || e.ECSURL != "http://127.0.0.1:2222" || e.Admin.Base != e.SDRSURL {
		t.Errorf("URLs: %s %s admin %s", e.SDRSURL, e.ECSURL, e.Admin.Base)
	}
	o := e.Options()
	if len(o.AccessKey) != 20 || len(o.SecretKey) != 40 || o.ProjectID != DefaultProjectID {
		t.Errorf("defaults: %+v", o)
	}
	args := outputLine(t, e.Process(), "args: ")
	for _, want := range []string{"--listen 127.0.0.1:0", "--access-key " + o.AccessKey, "--state-file " + o.StateFile,
		"--profile pessimistic", "--accept-lag 0s", "--job-duration 1s --sync-duration 1s"} {
		if !strings.Contains(args, want) {
			t.Errorf("args lack %q: %s", want, args)
		}
	}
	if strings.Contains(args, o.SecretKey) || strings.Contains(args, "--log-level") || strings.Contains(args, "--job-not-found-for") {
		t.Errorf("args hold the secret key or an unset flag: %s", args)
	}
	if got := outputLine(t, e.Process(), "secret: "); got != o.SecretKey {
		t.Errorf("secret key in the environment: %q", got)
	}
	if filepath.Dir(o.StateFile) != dir || filepath.Dir(e.LogPath()) != dir || !slices.Contains(LogFiles(), e.LogPath()) {
		t.Errorf("state file %s and log %s should be in %s and the log listed", o.StateFile, e.LogPath(), dir)
	}

	first := e.LogPath()
	if err := e.Kill(); err != nil || e.Alive() {
		t.Fatalf("Kill: %v, alive %v", err, e.Alive())
	}
	if err := e.Restart("", "rotated"); err != nil {
		t.Fatal(err)
	}
	if args := outputLine(t, e.Process(), "args: "); !strings.Contains(args, "--listen 127.0.0.1:1111 --ecs-listen 127.0.0.1:2222") {
		t.Errorf("restart on other ports: %s", args)
	}
	if got := outputLine(t, e.Process(), "secret: "); got != "rotated" || e.Starts() != 2 || e.LogPath() == first {
		t.Errorf("restart: secret %q, starts %d, log %s (first %s)", got, e.Starts(), e.LogPath(), first)
	}
}

func TestEmulatorWithoutListenLines(t *testing.T) {
	e, err := StartEmulator(EmulatorOptions{Bin: "/bin/true", LogFile: filepath.Join(t.TempDir(), "emulator.log")})
	if err == nil || !strings.Contains(err.Error(), "emulator.log") {
		t.Fatalf("want an error naming the log, got %v (%v)", err, e)
	}
}

// TestManagerFlags: a zero option passes no flag, so the manager's own
// default applies (run-local relies on it); served endpoints get free
// ports and URLs; ExtraArgs come last.
func TestManagerFlags(t *testing.T) {
	bin := fakeBinary(t)
	m, err := StartManager(ManagerOptions{Bin: bin, Kubeconfig: "/kc", LogFile: filepath.Join(t.TempDir(), "m.log"),
		ServeMetrics: true, ServeProbes: true, Devel: true, ExtraArgs: []string{"--zap-log-level=debug"}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = m.Kill() })
	args := outputLine(t, m.Process(), "args: ")
	for _, want := range []string{"--kubeconfig /kc", "--leader-elect=false", "--metrics-bind-address=" + strings.TrimSuffix(strings.TrimPrefix(m.MetricsURL, "http://"), "/metrics"),
		"--health-probe-bind-address=" + m.ProbeAddr, "--zap-devel --zap-log-level=debug"} {
		if !strings.Contains(args, want) {
			t.Errorf("args lack %q: %s", want, args)
		}
	}
	for _, unset := range []string{"lease", "stalled", "sdrs-timeout", "grace", "watch-namespace", "pprof", "leader-election-namespace"} {
		if strings.Contains(args, unset) {
			t.Errorf("args hold the unset %s: %s", unset, args)
		}
	}
	if m.ProbeAddr == "" || m.PprofURL != "" {
		t.Errorf("ProbeAddr %q PprofURL %q", m.ProbeAddr, m.PprofURL)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	if err := m.WaitHealthy(ctx); err == nil {
		t.Error("WaitHealthy passed although nothing serves /readyz")
	}

	m2, err := StartManager(ManagerOptions{Bin: bin, Kubeconfig: "/kc", Dir: t.TempDir(), LeaderElect: true,
		LeaderElectionNamespace: "ns", LeaseDuration: 4 * time.Second, WatchNamespace: "ns"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = m2.Kill() })
	args = outputLine(t, m2.Process(), "args: ")
	for _, want := range []string{"--leader-elect=true", "--leader-election-namespace=ns", "--leader-election-lease-duration=4s",
		"--metrics-bind-address=0", "--health-probe-bind-address=0", "--watch-namespace=ns"} {
		if !strings.Contains(args, want) {
			t.Errorf("args lack %q: %s", want, args)
		}
	}
}
