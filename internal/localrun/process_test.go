package localrun

import (
	"bytes"
	"context"
	"errors"
	"net"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/util/wait"
)

func startSh(t *testing.T, script string, out *bytes.Buffer) *Process {
	t.Helper()
	p, err := Start(Options{Name: "sh", Path: "/bin/sh", Args: []string{"-c", script}, Prefix: "[sh] ", Output: NewSyncWriter(out)})
	if err != nil {
		t.Fatalf("Start: %v", err)
	}
	t.Cleanup(func() { _ = p.Stop(0) })
	return p
}

func waitLine(t *testing.T, p *Process, expr string) []string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	m, err := p.Lines().Wait(ctx, regexp.MustCompile(expr))
	if err != nil {
		t.Fatalf("waiting for %q: %v", expr, err)
	}
	return m
}

// gone polls until pid no longer exists (reaped), so a test never sleeps.
func gone(pid int) bool {
	err := wait.PollUntilContextTimeout(context.Background(), 20*time.Millisecond, 10*time.Second, true,
		func(context.Context) (bool, error) {
			return errors.Is(syscall.Kill(pid, 0), syscall.ESRCH), nil
		})
	return err == nil
}

func TestProcessPrefixesAndKeepsLines(t *testing.T) {
	var out bytes.Buffer
	p := startSh(t, `echo one; echo two >&2; echo "addr=127.0.0.1:4242"`, &out)
	<-p.Done()
	// A waiter that comes after the line was printed still finds it.
	m := waitLine(t, p, `addr=(\S+)`)
	if m[1] != "127.0.0.1:4242" {
		t.Errorf("submatch: want 127.0.0.1:4242, got %q", m[1])
	}
	if err := p.Stop(time.Second); err != nil {
		t.Errorf("Stop after exit: %v", err)
	}
	for _, want := range []string{"[sh] one\n", "[sh] two\n", "[sh] addr=127.0.0.1:4242\n"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, out.String())
		}
	}
}

func TestWaitReportsEndOfOutput(t *testing.T) {
	var out bytes.Buffer
	p := startSh(t, `echo nothing useful`, &out)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := p.Lines().Wait(ctx, regexp.MustCompile(`never`)); !errors.Is(err, ErrNoMatch) {
		t.Fatalf("want ErrNoMatch when the process ends without the line, got %v", err)
	}
}

func TestStopTerminatesGracefully(t *testing.T) {
	var out bytes.Buffer
	p := startSh(t, `trap 'echo got TERM; exit 0' TERM; echo ready; while :; do sleep 1; done`, &out)
	waitLine(t, p, `^ready$`)
	if err := p.Stop(10 * time.Second); err != nil {
		t.Fatalf("Stop: %v", err)
	}
	waitLine(t, p, `^got TERM$`)
}

func TestStopKillsWhatIgnoresTERM(t *testing.T) {
	var out bytes.Buffer
	p := startSh(t, `trap '' TERM; echo ready; while :; do sleep 1; done`, &out)
	waitLine(t, p, `^ready$`)
	if err := p.Stop(200 * time.Millisecond); !errors.Is(err, ErrKilled) {
		t.Fatalf("want ErrKilled for a child that ignores SIGTERM, got %v", err)
	}
}

func TestStopLeavesNoGrandchild(t *testing.T) {
	var out bytes.Buffer
	// The grandchild ignores SIGTERM and would outlive its parent.
	p := startSh(t, `(trap '' TERM; exec sleep 1000) & echo "child=$!"; wait`, &out)
	pid, _ := strconv.Atoi(waitLine(t, p, `^child=(\d+)$`)[1])
	if err := p.Stop(5 * time.Second); err != nil {
		t.Fatalf("Stop: %v", err)
	}
	if !gone(pid) {
		t.Fatalf("grandchild %d still runs after Stop", pid)
	}
}

func TestCheckPortFree(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	port := l.Addr().(*net.TCPAddr).Port
	err = CheckPortFree("127.0.0.1", port, "the SDRS emulator", "--sdrs-port")
	var inUse *PortInUseError
	if !errors.As(err, &inUse) {
		t.Fatalf("want *PortInUseError for a bound port, got %v", err)
	}
	for _, want := range []string{strconv.Itoa(port), "--sdrs-port"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("message %q should name %q", err, want)
		}
	}
	if err := CheckPortFree("127.0.0.1", 0, "x", "--x"); err != nil {
		t.Errorf("port 0 is always free, got %v", err)
	}
	free, err := FreePort("127.0.0.1")
	if err != nil {
		t.Fatal(err)
	}
	if err := CheckPortFree("127.0.0.1", free, "x", "--x"); err != nil {
		t.Errorf("FreePort returned a busy port %d: %v", free, err)
	}
}

func TestWaitHasAllOutput(t *testing.T) {
	var out bytes.Buffer
	p := startSh(t, `echo first; echo "last line"; exit 3`, &out)
	if err := p.Wait(); err == nil {
		t.Fatal("want the exit status 3 as an error")
	}
	if got := p.Lines().Snapshot(); len(got) != 2 || got[1] != "last line" {
		t.Fatalf("after Wait, Lines should hold the whole output, got %q", got)
	}
}
