package harness

import (
	"fmt"
	"os"
	"sort"
	"strings"
	"sync"
	"time"
)

// Row is one line of the reliability table: a fault that was tried, what
// was asserted, and what was measured.
type Row struct {
	// Order sorts the table; Area groups rows (e.g. "Crash", "Security").
	Order  int
	Area   string
	Fault  string
	Assert string
	// Result is the measured outcome; Passed says whether the test passed.
	Result string
	Passed bool
	// Test names the test that produced the row.
	Test string
}

// Report collects rows from tests that may run in parallel.
type Report struct {
	mu   sync.Mutex
	rows []Row
}

// Add records a row.
func (r *Report) Add(row Row) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.rows = append(r.rows, row)
}

// Rows returns the rows sorted by Order, then Fault, then Area (the same
// scenario under two emulator profiles differs only in its area).
func (r *Report) Rows() []Row {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := append([]Row(nil), r.rows...)
	sort.SliceStable(out, func(i, j int) bool {
		if out[i].Order != out[j].Order {
			return out[i].Order < out[j].Order
		}
		if out[i].Fault != out[j].Fault {
			return out[i].Fault < out[j].Fault
		}
		return out[i].Area < out[j].Area
	})
	return out
}

// Markdown renders the rows as a document with a title, an introduction and
// one table.
func (r *Report) Markdown(title, intro string, took time.Duration) string {
	var b strings.Builder
	fmt.Fprintf(&b, "# %s\n\n%s\n\n", title, strings.TrimSpace(intro))
	fmt.Fprintf(&b, "Last run: %s, suite runtime %s.\n\n", time.Now().UTC().Format("2006-01-02 15:04 MST"), took.Round(time.Second))
	b.WriteString("| # | area | fault | asserted | measured | result | test |\n|---|---|---|---|---|---|---|\n")
	for i, row := range r.Rows() {
		res := "pass"
		if !row.Passed {
			res = "**FAIL**"
		}
		fmt.Fprintf(&b, "| %d | %s | %s | %s | %s | %s | `%s` |\n", i+1, cell(row.Area), cell(row.Fault), cell(row.Assert), cell(row.Result), res, row.Test)
	}
	return b.String()
}

func cell(s string) string {
	return strings.ReplaceAll(strings.ReplaceAll(strings.TrimSpace(s), "|", `\|`), "\n", "<br>")
}

// WriteMarkdown writes Markdown to path.
func (r *Report) WriteMarkdown(path, title, intro string, took time.Duration) error {
	return os.WriteFile(path, []byte(r.Markdown(title, intro, took)), 0o644)
}
