package main

import (
	"bufio"
	"context"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

func TestParseFlags(t *testing.T) {
	t.Setenv("SDRS_ACCESS_KEY", "")
	t.Setenv("SDRS_SECRET_KEY", "")
	if _, err := parseFlags(nil); err == nil {
		t.Fatal("started without keys")
	}
	t.Setenv("SDRS_ACCESS_KEY", "env-ak")
	t.Setenv("SDRS_SECRET_KEY", "env-sk")
	o, err := parseFlags([]string{"--job-duration", "2s"})
	if err != nil {
		t.Fatal(err)
	}
	if o.accessKey != "env-ak" || o.secretKey != "env-sk" || o.syncDuration != 2*time.Second || o.listen != "127.0.0.1:8780" || o.ecsListen != "127.0.0.1:8781" {
		t.Fatalf("options %+v", o)
	}
	if o, _ := parseFlags([]string{"--access-key", "flag-ak", "--secret-key", "flag-sk"}); o.accessKey != "flag-ak" || o.secretKey != "flag-sk" {
		t.Fatalf("flags do not win over the environment: %+v", o)
	}
}

// TestRun starts the command on free ports with a seed and a state file,
// reads the addresses from its log as scripts do, and stops it.
func TestRun(t *testing.T) {
	dir := t.TempDir()
	seed := filepath.Join(dir, "seed.json")
	if err := writeFile(seed, `{"groups":[{"name":"demo","instances":[{"name":"vm-1"}]}]}`); err != nil {
		t.Fatal(err)
	}
	pr, pw := io.Pipe()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"--listen", "127.0.0.1:0", "--ecs-listen", "127.0.0.1:0", "--access-key", "ak",
			"--secret-key", "very-secret", "--state-file", filepath.Join(dir, "state.json"), "--seed", seed}, pw)
		pw.Close()
	}()
	addrs := map[string]string{}
	var logText strings.Builder
	lines := bufio.NewScanner(pr)
	re := regexp.MustCompile(`msg="(SDRS|ECS) API listening" addr=(\S+)`)
	for len(addrs) < 2 && lines.Scan() {
		logText.WriteString(lines.Text() + "\n")
		if m := re.FindStringSubmatch(lines.Text()); m != nil {
			addrs[m[1]] = m[2]
		}
	}
	go io.Copy(io.Discard, pr)
	if len(addrs) != 2 {
		t.Fatalf("no listening lines in:\n%s", logText.String())
	}
	if strings.Contains(logText.String(), "very-secret") {
		t.Fatal("the secret key was logged")
	}
	resp, err := http.Get("http://" + addrs["SDRS"] + "/admin/state")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), `"name":"demo"`) {
		t.Fatalf("state: %d %s", resp.StatusCode, body)
	}
	resp, err = http.Get("http://" + addrs["ECS"] + "/v1/p/cloudservers/x")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("unsigned ECS call: %d", resp.StatusCode)
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("run: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("run did not stop")
	}
}

func writeFile(path, content string) error {
	return os.WriteFile(path, []byte(content), 0o600)
}
