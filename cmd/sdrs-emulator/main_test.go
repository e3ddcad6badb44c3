package main

import (
	"bufio"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"io"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/sdrs-operator/sdrs-operator/internal/emulator"
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
	if o.profile != emulator.ProfileDefault || o.acceptLag != 2*time.Second || o.jobNotFoundFor != 2*time.Second {
		t.Fatalf("profile defaults %+v", o)
	}
	for _, bad := range [][]string{{"--profile", "optimistic"}, {"--accept-lag", "-1s"}, {"--job-not-found-for", "-1s"}} {
		if _, err := parseFlags(bad); err == nil {
			t.Fatalf("%v accepted", bad)
		}
	}
}

// TestRunProfile passes the profile flags through to GET /admin/config;
// 0 means none.
func TestRunProfile(t *testing.T) {
	pr, pw := io.Pipe()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"--listen", "127.0.0.1:0", "--ecs-listen", "127.0.0.1:0", "--access-key", "ak", "--secret-key", "sk",
			"--profile", "pessimistic", "--accept-lag", "0", "--job-not-found-for", "5s"}, pw)
		pw.Close()
	}()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("run: %v", err)
		}
	}()
	var addr string
	lines := bufio.NewScanner(pr)
	re := regexp.MustCompile(`msg="SDRS API listening" addr=(\S+).* profile=pessimistic accept_lag=0s job_not_found_for=5s`)
	for addr == "" && lines.Scan() {
		if m := re.FindStringSubmatch(lines.Text()); m != nil {
			addr = m[1]
		}
	}
	go func() { _, _ = io.Copy(io.Discard, pr) }()
	if addr == "" {
		t.Fatal("no listening line with the profile")
	}
	resp, err := http.Get("http://" + addr + "/admin/config")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if want := `{"job_duration":"3s","sync_duration":"3s","profile":"pessimistic","accept_lag":"0s","job_not_found_for":"5s"}`; string(body) != want {
		t.Fatalf("config %s, want %s", body, want)
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
	go func() { _, _ = io.Copy(io.Discard, pr) }()
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

// TestRunTLS serves both listeners over HTTPS with --tls-cert/--tls-key; a
// client that trusts the CA gets answers, one that does not is refused.
func TestRunTLS(t *testing.T) {
	if _, err := parseFlags([]string{"--access-key", "a", "--secret-key", "s", "--tls-cert", "x"}); err == nil {
		t.Fatal("--tls-cert without --tls-key was accepted")
	}
	dir := t.TempDir()
	caPEM, certFile, keyFile := writeTestCert(t, dir)
	pr, pw := io.Pipe()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"--listen", "127.0.0.1:0", "--ecs-listen", "127.0.0.1:0", "--access-key", "ak",
			"--secret-key", "sk", "--tls-cert", certFile, "--tls-key", keyFile}, pw)
		pw.Close()
	}()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("run: %v", err)
		}
	}()
	addrs := map[string]string{}
	lines := bufio.NewScanner(pr)
	re := regexp.MustCompile(`msg="(SDRS|ECS) API listening" addr=(\S+).*tls=true`)
	for len(addrs) < 2 && lines.Scan() {
		if m := re.FindStringSubmatch(lines.Text()); m != nil {
			addrs[m[1]] = m[2]
		}
	}
	go func() { _, _ = io.Copy(io.Discard, pr) }()
	if len(addrs) != 2 {
		t.Fatal("no tls=true listening lines")
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(caPEM)
	trusting := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	for _, addr := range addrs {
		resp, err := trusting.Get("https://" + addr + "/")
		if err != nil {
			t.Fatalf("https with the CA: %v", err)
		}
		resp.Body.Close()
		if resp, err := http.Get("https://" + addr + "/"); err == nil {
			resp.Body.Close()
			t.Fatal("a client without the CA was not refused")
		}
	}
}

func writeTestCert(t *testing.T, dir string) (caPEM []byte, certFile, keyFile string) {
	t.Helper()
	caKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	caTmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "test CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	ca, _ := x509.ParseCertificate(caDER)
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(2), IPAddresses: []net.IP{net.ParseIP("127.0.0.1")},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &key.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, _ := x509.MarshalECPrivateKey(key)
	certFile, keyFile = filepath.Join(dir, "tls.crt"), filepath.Join(dir, "tls.key")
	if err := os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER}), 0o600); err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: caDER}), certFile, keyFile
}
