// Package check implements `kubectl sdrs check`: a preflight that says,
// from status.readiness, whether a planned or a forced failover would run
// now for each selected group. It only reads: no patch, no annotation.
package check

import (
	"context"
	"fmt"
	"io"
	"strings"
	"time"

	"k8s.io/apimachinery/pkg/util/duration"

	drv1alpha1 "github.com/sdrs-operator/sdrs-operator/api/v1alpha1"
	"github.com/sdrs-operator/sdrs-operator/internal/plugin/cli"
)

// Which failover must be able to run for exit 0 (--for).
const (
	ForPlanned = "planned"
	ForForced  = "forced"
)

// Reasons check adds to the operator's own (api/v1alpha1 conditions.go).
const (
	// PausedReason: dr.sdrs.io/paused is "true", so the operator starts
	// no SDRS action.
	PausedReason = "Paused"
)

// Options are the check flags.
type Options struct {
	cli.Selection
	For string
}

// Validate checks the selection and --for.
func (o Options) Validate() error {
	if o.For != ForPlanned && o.For != ForForced {
		return cli.Usagef("--for must be planned or forced, not %q", o.For)
	}
	return o.Selection.Validate(false)
}

// Result is what check concludes for one group: the operator's readiness,
// corrected for what makes it not apply now (an operation in flight, a
// pause, readiness never read).
type Result struct {
	Planned, Forced drv1alpha1.FailoverCheck
}

// Assess returns the result for pg.
func Assess(pg *drv1alpha1.ProtectionGroup) Result {
	r := pg.Status.Readiness
	if r == nil {
		no := drv1alpha1.FailoverCheck{Reason: drv1alpha1.ReadinessUnknownReason,
			Message: "the operator has not checked this group's readiness yet (status.readiness is empty)"}
		return Result{Planned: no, Forced: no}
	}
	res := Result{Planned: r.Planned, Forced: r.Forced}
	block := func(reason, msg string) {
		for _, c := range []*drv1alpha1.FailoverCheck{&res.Planned, &res.Forced} {
			if c.Ready {
				*c = drv1alpha1.FailoverCheck{Reason: reason, Message: msg}
			}
		}
	}
	if op := pg.Status.CurrentOperation; op != nil {
		msg := fmt.Sprintf("%s is in flight", op.Type)
		if op.From != "" && op.To != "" {
			msg = fmt.Sprintf("%s %s->%s is in flight", op.Type, op.From, op.To)
		}
		if op.Step != "" {
			msg += " at step " + string(op.Step)
		}
		block(drv1alpha1.OperationInProgressReason, fmt.Sprintf("%s; check again when it ends: kubectl sdrs wait %s -n %s", msg, pg.Name, pg.Namespace))
	}
	if pg.IsPaused() {
		block(PausedReason, "paused: the operator starts no SDRS action until it is resumed: "+cli.ResumeCommand(pg))
	}
	return res
}

// Code is the exit code of one result: 0 when the failover asked for
// would run, 7 when only a forced one would (planned only), else 8.
func (r Result) Code(forWhat string) int {
	switch {
	case forWhat == ForForced && r.Forced.Ready, forWhat != ForForced && r.Planned.Ready:
		return cli.ExitOK
	case forWhat != ForForced && r.Forced.Ready:
		return cli.ExitForcedOnly
	}
	return cli.ExitNotReady
}

// Run checks the selected groups, prints the table and the reasons, and
// returns an error carrying exit 7 or 8 when not every group is ready.
func Run(ctx context.Context, env *cli.Env, o Options) error {
	if o.For == "" {
		o.For = ForPlanned
	}
	if err := o.Validate(); err != nil {
		return err
	}
	pgs, err := cli.Select(ctx, env, o.Selection)
	if err != nil {
		return err
	}
	if len(pgs) == 0 {
		return fmt.Errorf("no ProtectionGroups found %s", o.Where(env))
	}
	results := make([]Result, len(pgs))
	for i := range pgs {
		results[i] = Assess(&pgs[i])
	}
	if err := Render(env.Out, pgs, results, o.AllNamespaces, env.Now()); err != nil {
		return err
	}
	details(env.Out, pgs, results, o)
	return verdict(pgs, results, o)
}

// Render writes the table.
func Render(w io.Writer, pgs []drv1alpha1.ProtectionGroup, results []Result, withNamespace bool, now time.Time) error {
	t := cli.NewTable(w)
	head := []string{"NAME", "ACTIVE", "PLANNED", "FORCED", "FAULT", "UNHEALTHY", "CHECKED"}
	if withNamespace {
		head = append([]string{"NAMESPACE"}, head...)
	}
	cli.Row(t, head...)
	for i := range pgs {
		pg := &pgs[i]
		row := []string{pg.Name, string(pg.Status.ActiveSite), cell(results[i].Planned), cell(results[i].Forced)}
		row = append(row, facts(pg.Status.Readiness, now)...)
		if withNamespace {
			row = append([]string{pg.Namespace}, row...)
		}
		cli.Row(t, row...)
	}
	return t.Flush()
}

func cell(c drv1alpha1.FailoverCheck) string {
	switch {
	case c.Ready:
		return "yes"
	case c.Reason == "":
		return "no"
	}
	return "no: " + c.Reason
}

// facts are the FAULT, UNHEALTHY and CHECKED cells.
func facts(r *drv1alpha1.Readiness, now time.Time) []string {
	if r == nil {
		return []string{"", "", ""}
	}
	fault := fmt.Sprint(r.WorstFaultLevel)
	switch r.WorstFaultLevel {
	case -1:
		fault = "unknown"
	case 2:
		fault = "2 (failover advised)"
	case 5:
		fault = "5 (no failover)"
	}
	checked := ""
	if r.CheckedAt != nil {
		checked = duration.HumanDuration(now.Sub(r.CheckedAt.Time)) + " ago"
	}
	return []string{fault, fmt.Sprint(len(r.UnhealthyInstances)), checked}
}

// details writes, for each group that would not run a planned failover
// (or, with --for forced, a forced one), both messages and the facts
// behind them.
func details(w io.Writer, pgs []drv1alpha1.ProtectionGroup, results []Result, o Options) {
	for i := range pgs {
		pg, res := &pgs[i], results[i]
		if res.Planned.Ready && res.Code(o.For) == cli.ExitOK {
			continue
		}
		fmt.Fprintf(w, "\n%s:\n", cli.Ref(pg, o.AllNamespaces))
		fmt.Fprintf(w, "  planned: %s\n", message(res.Planned, "a planned failover would run now, without data loss"))
		fmt.Fprintf(w, "  forced: %s\n", message(res.Forced, "a forced failover would run now; it may lose the data written since the last replication, up to the RPO"))
		r := pg.Status.Readiness
		if r == nil {
			continue
		}
		if len(r.UnhealthyInstances) > 0 {
			fmt.Fprintf(w, "  unhealthy instances: %s\n", strings.Join(r.UnhealthyInstances, ", "))
		}
		if r.RPOExceededPairs > 0 {
			fmt.Fprintf(w, "  replication pairs of the project above their RPO target: %d (SDRS counts per project, not per group)\n", r.RPOExceededPairs)
		}
	}
}

func message(c drv1alpha1.FailoverCheck, ready string) string {
	if c.Ready {
		if c.Message != "" {
			return "yes: " + c.Message
		}
		return "yes: " + ready
	}
	s := "no"
	if c.Reason != "" {
		s += ", " + c.Reason
	}
	if c.Message != "" {
		s += ": " + c.Message
	}
	return s
}

// verdict returns nil when every group is ready for o.For, else an error
// with the most urgent exit code (8, then 7) naming the groups.
func verdict(pgs []drv1alpha1.ProtectionGroup, results []Result, o Options) error {
	var forcedOnly, neither []string
	for i := range pgs {
		name := pgs[i].Name
		if o.AllNamespaces {
			name = pgs[i].Namespace + "/" + name
		}
		switch results[i].Code(o.For) {
		case cli.ExitForcedOnly:
			forcedOnly = append(forcedOnly, name)
		case cli.ExitNotReady:
			neither = append(neither, name)
		}
	}
	var parts []string
	if len(neither) > 0 {
		what := "no failover, planned or forced,"
		if o.For == ForForced {
			what = "no forced failover"
		}
		parts = append(parts, fmt.Sprintf("%d of %d groups would run %s now: %s", len(neither), len(pgs), what, strings.Join(neither, ", ")))
	}
	if len(forcedOnly) > 0 {
		parts = append(parts, fmt.Sprintf("%d of %d groups would run only a forced failover now (data loss up to the RPO): %s",
			len(forcedOnly), len(pgs), strings.Join(forcedOnly, ", ")))
	}
	switch {
	case len(neither) > 0:
		return cli.WithCode(cli.ExitNotReady, fmt.Errorf("%s", strings.Join(parts, "; ")))
	case len(forcedOnly) > 0:
		return cli.WithCode(cli.ExitForcedOnly, fmt.Errorf("%s", strings.Join(parts, "; ")))
	}
	return nil
}
