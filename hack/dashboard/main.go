// Command dashboard generates the operator's Grafana fleet dashboard.
//
// It lives in its own Go module, so the Grafana Foundation SDK and
// Prometheus never enter the operator's go.mod. Run it from hack/dashboard:
//
//	go run . generate    write config/grafana/sdrs-fleet-dashboard.json and
//	                     config/grafana/dashboard-configmap.yaml
//	go run . verify      fail when the committed files differ from what
//	                     the generator writes
//
// `make dashboard` runs generate; `make dashboard-check` runs verify and
// this module's tests, which parse every panel's PromQL and check each
// metric it names against internal/metrics.
package main

import (
	"bytes"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
)

func main() {
	if err := run(os.Args[1:], os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "dashboard:", err)
		os.Exit(1)
	}
}

func run(args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		return fmt.Errorf("usage: dashboard generate|verify [-root DIR]")
	}
	fs := flag.NewFlagSet(args[0], flag.ContinueOnError)
	fs.SetOutput(stderr)
	root := fs.String("root", "../..", "the repository root")
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	files, err := generated()
	if err != nil {
		return err
	}
	switch args[0] {
	case "generate":
		for _, f := range files {
			p := filepath.Join(*root, f.path)
			if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
				return err
			}
			if err := os.WriteFile(p, f.data, 0o644); err != nil {
				return err
			}
		}
		fmt.Fprintf(stdout, "wrote %d files under %s\n", len(files), outDir)
		return nil
	case "verify":
		var stale bool
		for _, f := range files {
			got, err := os.ReadFile(filepath.Join(*root, f.path))
			switch {
			case os.IsNotExist(err):
				fmt.Fprintln(stderr, f.path+": missing")
				stale = true
			case err != nil:
				return err
			case !bytes.Equal(got, f.data):
				fmt.Fprintln(stderr, f.path+": differs from what hack/dashboard generates")
				stale = true
			}
		}
		if stale {
			return fmt.Errorf("%s is stale: run 'make dashboard' (cd hack/dashboard && go run . generate) and commit the result", outDir)
		}
		fmt.Fprintf(stdout, "%s: %d generated files are up to date\n", outDir, len(files))
		return nil
	default:
		return fmt.Errorf("unknown command %q: want generate or verify", args[0])
	}
}
