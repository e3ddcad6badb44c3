package wait

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/types"

	drv1alpha1 "github.com/sdrs-operator/sdrs-operator/api/v1alpha1"
	"github.com/sdrs-operator/sdrs-operator/internal/plugin/cli"
)

// DefaultInterval is how often the groups are read. The operator polls SDRS
// every few seconds at best, so reading faster shows nothing new.
const DefaultInterval = 2 * time.Second

// readTimeout bounds one read, so that a hung API server connection cannot
// hold the wait far past its --timeout.
const readTimeout = 20 * time.Second

// Options configure Run.
type Options struct {
	Timeout  time.Duration
	Interval time.Duration
	Expect   Expect
	// AllNamespaces puts the namespace in every line.
	AllNamespaces bool
}

// tracker remembers what was last printed for one group, so that a line
// appears only when something a person cares about changed.
type tracker struct {
	cli.Target
	key  types.NamespacedName
	last string
	msg  string
	done bool // Done, and anything to restore put back
}

// Run waits until every group is Done. It prints a progress line whenever
// a group's Ready reason or message, or its current operation's step,
// changes. A group that is Done has what its verb set for the move only
// put back (Target.Restore). It returns an error with exit code 4 when a
// group stalls, 5 when its spec changed again, 6 when it is paused (after
// the others finished), 3 on timeout and 1 when a group disappears.
func Run(ctx context.Context, env *cli.Env, targets []cli.Target, o Options) (err error) {
	if o.Interval <= 0 {
		o.Interval = DefaultInterval
	}
	// Reads use ctx, not the deadline: a read that starts just before the
	// deadline should finish and report the group's state, not a client
	// rate-limiter complaint about the deadline.
	deadline, cancel := context.WithTimeout(ctx, o.Timeout)
	defer cancel()
	pending := make([]*tracker, 0, len(targets))
	for _, t := range targets {
		pending = append(pending, &tracker{Target: t, key: t.Key})
	}
	all := slices.Clone(pending)
	defer func() {
		if err != nil {
			printRestoreHints(env, all, o)
		}
	}()
	start := env.Now()
	ticker := time.NewTicker(o.Interval)
	defer ticker.Stop()
	var failures []error
	for {
		next := pending[:0]
		for _, t := range pending {
			done, err := step(ctx, env, t, o, start)
			if err != nil {
				if ctx.Err() != nil {
					return ctx.Err() // interrupted (Ctrl-C): exit 1
				}
				failures = append(failures, err)
				continue
			}
			if !done {
				next = append(next, t)
			}
		}
		pending = next
		if len(pending) == 0 {
			return failed(failures)
		}
		select {
		case <-deadline.Done():
			return timedOut(deadline, pending, failures, o)
		case <-ticker.C:
		}
	}
}

// step reads one group and reports whether it is Done; a Failed group
// returns its error.
func step(ctx context.Context, env *cli.Env, t *tracker, o Options, start time.Time) (bool, error) {
	var pg drv1alpha1.ProtectionGroup
	readCtx, cancel := context.WithTimeout(ctx, readTimeout)
	defer cancel()
	if err := env.Client.Get(readCtx, t.key, &pg); err != nil {
		if apierrors.IsNotFound(err) {
			return false, fmt.Errorf("%s/%s was deleted while waiting", t.key.Namespace, t.key.Name)
		}
		// A flaky API server connection is not the group's fault: say so
		// once and keep waiting until the timeout.
		report(env, t, ref(t.key, o), fmt.Sprintf("cannot read: %v", err), start)
		return false, nil
	}
	exp := o.Expect
	exp.Generation, exp.Site = t.Generation, t.Site
	d := Decide(&pg, exp)
	r := cli.Ref(&pg, o.AllNamespaces)
	line := d.Message
	if op := cli.DescribeOperation(pg.Status.CurrentOperation); op != "" && d.State == Waiting {
		line = op + "; " + line
	}
	switch d.State {
	case Waiting:
		report(env, t, r, line, start)
		return false, nil
	case Done:
		fmt.Fprintf(env.Out, "%s %s: %s\n", elapsed(env, start), r, d.Message)
		if t.Restore != nil {
			if err := restore(ctx, env, t.Target, &pg, o); err != nil {
				return false, fmt.Errorf("%s: %w", r, err)
			}
		}
		t.done = true
		return true, nil
	}
	// The timeline on stdout ends with the outcome; the error (stderr)
	// repeats it once for scripts that only keep stderr.
	fmt.Fprintf(env.Out, "%s %s: %s\n", elapsed(env, start), r, d.Message)
	return false, cli.WithCode(d.State.ExitCode(), fmt.Errorf("%s: %s", r, d.Message))
}

func report(env *cli.Env, t *tracker, r, line string, start time.Time) {
	t.msg = line
	if line == t.last {
		return
	}
	t.last = line
	fmt.Fprintf(env.Out, "%s %s: %s\n", elapsed(env, start), r, line)
}

func failed(failures []error) error {
	if len(failures) == 0 {
		return nil
	}
	msgs := make([]string, len(failures))
	for i, f := range failures {
		msgs[i] = f.Error()
	}
	return cli.WithCode(mostUrgent(failures), errors.New(strings.Join(msgs, "; ")))
}

// mostUrgent picks a fleet's exit code: a stall needs a person most, then
// a request someone else replaced, then a pause; anything else is 1.
func mostUrgent(failures []error) int {
	for _, code := range []int{cli.ExitStalled, cli.ExitSuperseded, cli.ExitPaused} {
		for _, f := range failures {
			if cli.Code(f) == code {
				return code
			}
		}
	}
	return cli.ExitError
}

func timedOut(ctx context.Context, pending []*tracker, failures []error, o Options) error {
	if !errors.Is(ctx.Err(), context.DeadlineExceeded) {
		return ctx.Err() // interrupted (Ctrl-C): exit 1, nothing timed out
	}
	msgs := make([]string, 0, len(pending))
	for _, t := range pending {
		msgs = append(msgs, fmt.Sprintf("%s (%s)", ref(t.key, o), orDash(t.msg)))
	}
	err := cli.WithCode(cli.ExitTimeout, fmt.Errorf("timed out after %s waiting for %s", o.Timeout, strings.Join(msgs, ", ")))
	if len(failures) > 0 {
		// A group's own outcome is the more urgent news; the timeout is
		// in the message.
		f := failed(failures)
		return cli.WithCode(cli.Code(f), fmt.Errorf("%w; %w", f, err))
	}
	return err
}

func ref(k types.NamespacedName, o Options) string {
	var pg drv1alpha1.ProtectionGroup
	pg.Namespace, pg.Name = k.Namespace, k.Name
	return cli.Ref(&pg, o.AllNamespaces)
}

func elapsed(env *cli.Env, start time.Time) string {
	return fmt.Sprintf("[%s]", env.Now().Sub(start).Round(time.Second))
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// printRestoreHints tells, for each group whose wait did not finish, how
// to put back what its verb set for the move only: the move may still
// finish, and only then is it safe to put back.
func printRestoreHints(env *cli.Env, trackers []*tracker, o Options) {
	for _, t := range trackers {
		if t.Restore == nil || t.done {
			continue
		}
		var pg drv1alpha1.ProtectionGroup
		pg.Namespace, pg.Name = t.key.Namespace, t.key.Name
		fmt.Fprintf(env.ErrOut, "Warning: %s: %s left as set for this move, which did not finish while this command waited. Once %s is Ready at %s, put back %s:\n    %s\n",
			ref(t.key, o), changedPaths(t.Restore), pg.Name, t.Site, t.Restore.Words(), t.Restore.Command(&pg))
	}
}

func changedPaths(r *cli.Restore) string {
	paths := make([]string, len(r.Changes))
	for i, c := range r.Changes {
		paths[i] = c.Path + " " + c.From
	}
	return strings.Join(paths, ", ")
}
