// Command chart keeps charts/sdrs-operator in step with config/.
//
// It lives in its own Go module, so Helm's dependencies never enter the
// operator's go.mod. Run it from hack/chart:
//
//	go run . generate        rewrite the chart's generated files from config/
//	go run . verify-chart    fail when they differ from what config/ generates
//	go run . template [-f values.yaml]... [--set k=v]... [--name N] [--namespace NS]
//	                         render the chart as `helm template` would
//
// `make chart-check` runs verify-chart and then this module's tests, which
// render the chart with Helm's own loader and engine and compare the result
// with config/.
package main

import (
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
)

func main() {
	if err := run(os.Args[1:], os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "chart:", err)
		os.Exit(1)
	}
}

type multiFlag []string

func (m *multiFlag) String() string     { return strings.Join(*m, ",") }
func (m *multiFlag) Set(v string) error { *m = append(*m, v); return nil }

func run(args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		return fmt.Errorf("usage: chart generate|verify-chart|template [flags]")
	}
	fs := flag.NewFlagSet(args[0], flag.ContinueOnError)
	fs.SetOutput(stderr)
	root := fs.String("root", "../..", "the repository root")
	var valueFiles, sets multiFlag
	name := "sdrs-operator"
	namespace := "sdrs-operator-system"
	if args[0] == "template" {
		fs.Var(&valueFiles, "f", "a values file (repeatable)")
		fs.Var(&sets, "set", "a value, as helm --set takes it (repeatable)")
		fs.StringVar(&name, "name", name, "the release name")
		fs.StringVar(&namespace, "namespace", namespace, "the release namespace")
	}
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}

	switch args[0] {
	case "generate":
		files, err := generated(*root)
		if err != nil {
			return err
		}
		if err := writeGenerated(*root, files); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "wrote %d files under %s\n", len(files), chartDir)
		return nil

	case "verify-chart":
		files, err := generated(*root)
		if err != nil {
			return err
		}
		problems, err := verifyGenerated(*root, files)
		if err != nil {
			return err
		}
		if len(problems) > 0 {
			for _, p := range problems {
				fmt.Fprintln(stderr, p)
			}
			return fmt.Errorf("%s is out of step with config/: run 'cd hack/chart && go run . generate' and commit the result", chartDir)
		}
		fmt.Fprintf(stdout, "%s: %d generated files match config/\n", chartDir, len(files))
		return nil

	case "template":
		vals, err := readValues(valueFiles, sets)
		if err != nil {
			return err
		}
		out, err := renderChart(filepath.Join(*root, chartDir), vals, name, namespace)
		if err != nil {
			return err
		}
		_, err = io.WriteString(stdout, out.Stream())
		return err

	default:
		return fmt.Errorf("unknown command %q: want generate, verify-chart or template", args[0])
	}
}
