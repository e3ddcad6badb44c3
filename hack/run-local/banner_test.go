package main

import (
	"bytes"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// The banner is all a person sees: it must name the metrics endpoint
// (otherwise only manager.log has it), say what to unset after Ctrl-C, and
// only show commands that are safe to paste twice.
func TestBanner(t *testing.T) {
	root := t.TempDir()
	bin := filepath.Join(root, "bin")
	if err := os.MkdirAll(bin, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(bin, "kubectl-sdrs"), []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	b := banner(root, filepath.Join(root, ".local", "kubeconfig"), filepath.Join(root, ".local", "emulator.env"), bin,
		"http://127.0.0.1:43210/metrics")
	for _, want := range []string{
		"export KUBECONFIG=$PWD/.local/kubeconfig\n",
		"curl -s http://127.0.0.1:43210/metrics | grep ^sdrs_operator\n",
		"then type unset KUBECONFIG in the other terminal.",
		"kubectl-sdrs failover erp --to target --allow-data-loss --wait",
		`kubectl patch pg erp --type merge -p '{"spec":{"failoverMode":"Auto"}}'`,
	} {
		if !strings.Contains(b, want) {
			t.Errorf("banner lacks %q:\n%s", want, b)
		}
	}
	if strings.Contains(b, "failover erp --allow-data-loss") {
		t.Errorf("banner has a failover without --to, which fails back when pasted twice:\n%s", b)
	}
	if !strings.Contains(unsetHint, "unset KUBECONFIG") {
		t.Errorf("the stop message %q does not say what to unset", unsetHint)
	}
}

// --help lists what a person may want and hides the flags that the
// script, the Makefile and the tests set; those still parse.
func TestUsageHidesInternalFlags(t *testing.T) {
	fs := flag.NewFlagSet("run-local", flag.ContinueOnError)
	var out bytes.Buffer
	fs.SetOutput(&out)
	if _, err := parseFlags(fs, []string{"--help"}); !errors.Is(err, flag.ErrHelp) {
		t.Fatalf("--help: %v", err)
	}
	help := out.String()
	for _, want := range []string{"--dir", "--sdrs-port", "--ecs-port", "--job-duration", "--sync-duration", "--emulator-profile", "--manager-arg", "docs/run-local.md"} {
		if !strings.Contains(help, want) {
			t.Errorf("--help lacks %s:\n%s", want, help)
		}
	}
	for name := range internalFlags {
		if strings.Contains(help, "--"+name) {
			t.Errorf("--help shows the internal flag --%s:\n%s", name, help)
		}
	}

	fs = flag.NewFlagSet("run-local", flag.ContinueOnError)
	o, err := parseFlags(fs, []string{"--bin-dir=/x", "--groups-ready-timeout=0", "--grace=1s", "--manager-rbac=admin"})
	if err != nil || o.binDir != "/x" || o.groupsReady != 0 || o.managerRBAC != "admin" {
		t.Errorf("hidden flags do not parse: %v %+v", err, o)
	}
}
