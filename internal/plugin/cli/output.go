package cli

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"sigs.k8s.io/yaml"
)

// Output formats a reading verb accepts with -o.
const (
	OutputTable = ""
	OutputJSON  = "json"
	OutputYAML  = "yaml"
)

// ValidateOutput checks -o.
func ValidateOutput(o string) error {
	switch o {
	case OutputTable, OutputJSON, OutputYAML:
		return nil
	}
	return Usagef("-o/--output must be json or yaml, not %q", o)
}

// PrintObject writes v as indented JSON or as YAML.
func PrintObject(w io.Writer, format string, v any) error {
	switch format {
	case OutputJSON:
		b, err := json.MarshalIndent(v, "", "    ")
		if err != nil {
			return err
		}
		_, err = fmt.Fprintf(w, "%s\n", b)
		return err
	case OutputYAML:
		b, err := yaml.Marshal(v)
		if err != nil {
			return err
		}
		_, err = w.Write(b)
		return err
	}
	return fmt.Errorf("unknown output format %q", format)
}

// NewTable returns a tab writer with kubectl's table spacing, so that our
// tables line up like kubectl get's.
func NewTable(w io.Writer) *tabwriter.Writer {
	return tabwriter.NewWriter(w, 6, 4, 3, ' ', 0)
}

// Row writes one tab-separated row, with "-" for empty cells and no tabs or
// newlines inside a cell (they would break the columns).
func Row(w io.Writer, cells ...string) {
	for i, c := range cells {
		c = strings.NewReplacer("\t", " ", "\n", " ", "\r", " ").Replace(c)
		if c == "" {
			c = "-"
		}
		cells[i] = c
	}
	fmt.Fprintln(w, strings.Join(cells, "\t"))
}
