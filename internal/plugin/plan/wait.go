package plan

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	drv1alpha1 "github.com/sdrs-operator/sdrs-operator/api/v1alpha1"
	"github.com/sdrs-operator/sdrs-operator/internal/plugin/cli"
	"github.com/sdrs-operator/sdrs-operator/internal/plugin/wait"
)

// readTimeout bounds one read, as in the wait package.
const readTimeout = 20 * time.Second

// outcome is where the run a verb follows stands.
type outcome int

const (
	// waiting: the run has not reached a stop yet.
	waiting outcome = iota
	// succeeded: the run reached what the verb asked for (exit 0).
	succeeded
	// stopped: the run failed, was aborted, is blocked or cannot start;
	// a person must act (exit 4).
	stopped
	// superseded: spec.desiredActiveSite changed while waiting (exit 5).
	superseded
	// approval: the run waits for an approval (exit 10).
	approval
)

func (o outcome) exitCode() int {
	switch o {
	case succeeded:
		return cli.ExitOK
	case stopped:
		return cli.ExitStalled
	case superseded:
		return cli.ExitSuperseded
	case approval:
		return ExitWaitingForApproval
	}
	return cli.ExitTimeout
}

// verdict is a decider's answer: the outcome, a line for the timeline
// and, for a stop, the lines that say what to do.
type verdict struct {
	outcome outcome
	line    string
	// err is the error's text when the outcome is an error; line when empty.
	err     string
	details []string
}

// decider says where the plan stands for the verb that waits on it.
type decider func(p *drv1alpha1.DRPlan) verdict

// waitPlan reads the plan every interval until decide says the run
// reached a stop, or the timeout passes (exit 3). It prints a line, as
// the wait verb does, whenever the run, its wave, the wave's phase or its
// counts change, and the outcome with what to do next.
func waitPlan(ctx context.Context, env *cli.Env, name string, o Common, decide decider) error {
	interval := o.PollInterval
	if interval <= 0 {
		interval = wait.DefaultInterval
	}
	deadline, cancel := context.WithTimeout(ctx, o.Timeout)
	defer cancel()
	ticker := time.NewTicker(interval)
	defer ticker.Stop()
	key := types.NamespacedName{Namespace: env.Namespace, Name: name}
	start := env.Now()
	r := Ref(name)
	var last, msg string
	say := func(line string) {
		msg = line
		if line != last {
			last = line
			fmt.Fprintf(env.Out, "[%s] %s: %s\n", env.Now().Sub(start).Round(time.Second), r, line)
		}
	}
	for {
		var p drv1alpha1.DRPlan
		readCtx, cancelRead := context.WithTimeout(ctx, readTimeout)
		err := env.Client.Get(readCtx, key, &p)
		cancelRead()
		switch {
		case apierrors.IsNotFound(err):
			return fmt.Errorf("%s was deleted while waiting", r)
		case err != nil && ctx.Err() != nil:
			return ctx.Err() // interrupted (Ctrl-C): exit 1
		case err != nil:
			// A flaky connection is not the plan's fault: say so once and
			// keep waiting until the timeout.
			say(fmt.Sprintf("cannot read: %v", err))
		default:
			v := decide(&p)
			if v.outcome != waiting {
				last = "" // the outcome is always printed
			}
			say(v.line)
			for _, d := range v.details {
				fmt.Fprintf(env.Out, "  %s\n", d)
			}
			if v.outcome == succeeded {
				return nil
			}
			if v.outcome != waiting {
				text := v.err
				if text == "" {
					text = v.line
				}
				return cli.WithCode(v.outcome.exitCode(), fmt.Errorf("%s: %s", r, text))
			}
		}
		select {
		case <-deadline.Done():
			if !errors.Is(deadline.Err(), context.DeadlineExceeded) || ctx.Err() != nil {
				return ctx.Err()
			}
			return cli.WithCode(cli.ExitTimeout, fmt.Errorf("timed out after %s waiting for %s (%s)", o.Timeout, r, msg))
		case <-ticker.C:
		}
	}
}

// siteChanged is the verdict when someone set another desiredActiveSite
// while this command waited: the run it follows is superseded, and the
// new one is someone else's to report.
func siteChanged(p *drv1alpha1.DRPlan, site drv1alpha1.Site) verdict {
	return verdict{outcome: superseded, line: fmt.Sprintf(
		"spec.desiredActiveSite changed to %s while waiting (this command waited at %s); not reporting the outcome of someone else's change: see kubectl sdrs plan status %s -n %s",
		orDash(string(p.Spec.DesiredActiveSite)), orDash(string(site)), p.Name, p.Namespace)}
}

// runVerdict maps the phase of the run a verb follows to its outcome.
// abort says the verb asked for the run to end: Aborted is then its
// success.
func runVerdict(p *drv1alpha1.DRPlan, run *drv1alpha1.PlanRun, abort bool) verdict {
	switch run.Phase {
	case drv1alpha1.PlanSucceeded:
		return verdict{outcome: succeeded, line: runLine(run, rtoWords(run, p.Spec.RTO))}
	case drv1alpha1.PlanAborted:
		if abort {
			return verdict{outcome: succeeded, line: runLine(run, reasonWords(run))}
		}
		return verdict{outcome: stopped, line: runLine(run, reasonWords(run)), details: failureLines(run)}
	case drv1alpha1.PlanFailed, drv1alpha1.PlanBlocked:
		return verdict{outcome: stopped, line: runLine(run, reasonWords(run)), details: append(failureLines(run), decideHints(p, run)...)}
	case drv1alpha1.PlanWaitingForApproval:
		steps := waitingSteps(run)
		var details []string
		for _, s := range steps {
			details = append(details, fmt.Sprintf("step %s waits for approval: %s", s.ref, orDash(s.status.Message)))
		}
		for _, s := range steps {
			details = append(details, "approve it: "+approveCommand(p, s.ref))
		}
		text := "the plan waits for an approval"
		if len(steps) > 0 {
			text += fmt.Sprintf(" of step %s: %s", steps[0].ref, approveCommand(p, steps[0].ref))
		}
		return verdict{outcome: approval, line: runLine(run, reasonWords(run)), err: text, details: details}
	}
	return verdict{outcome: waiting, line: runLine(run, "")}
}

// runLine words a run and its current wave for the timeline, e.g.
// "run r-0004 to target Running; wave db Running: 3 total, 1 pending, 1 in
// progress, 1 succeeded, 0 failed, 0 skipped"; extra follows the phase.
func runLine(run *drv1alpha1.PlanRun, extra string) string {
	s := "run " + run.ID
	if run.Mode == drv1alpha1.PlanModeDrill {
		s += " (drill)"
	} else if run.ToSite != "" {
		s += " to " + string(run.ToSite)
	}
	s += " " + orDash(string(run.Phase)) + extra
	if w := currentWave(run); w != nil {
		c := w.Counts
		s += fmt.Sprintf("; wave %s %s: %d total, %d pending, %d in progress, %d succeeded, %d failed, %d skipped",
			w.Name, orDash(string(w.Phase)), c.Total, c.Pending, c.InProgress, c.Succeeded, c.Failed, c.Skipped)
	}
	return s
}

// currentWave is the run's wave in flight (status.run.currentWave), else
// the last wave that started, else nil.
func currentWave(run *drv1alpha1.PlanRun) *drv1alpha1.PlanWaveStatus {
	var last *drv1alpha1.PlanWaveStatus
	for i := range run.Waves {
		w := &run.Waves[i]
		if w.Name == run.CurrentWave {
			return w
		}
		if w.Phase != drv1alpha1.PlanPending && w.Phase != "" {
			last = w
		}
	}
	return last
}

func reasonWords(run *drv1alpha1.PlanRun) string {
	switch {
	case run.Reason != "" && run.Message != "":
		return fmt.Sprintf(" (%s: %s)", run.Reason, run.Message)
	case run.Message != "":
		return " (" + run.Message + ")"
	case run.Reason != "":
		return " (" + run.Reason + ")"
	}
	return ""
}

// rtoWords says how long a finished run took against spec.rto.
func rtoWords(run *drv1alpha1.PlanRun, rto *metav1.Duration) string {
	if run.Duration == nil {
		return ""
	}
	s := " in " + run.Duration.Duration.String()
	if rto != nil {
		switch {
		case run.RTOMet != nil && *run.RTOMet:
			s += fmt.Sprintf(" (RTO %s met)", rto.Duration)
		case run.RTOMet != nil:
			s += fmt.Sprintf(" (RTO %s exceeded)", rto.Duration)
		default:
			s += fmt.Sprintf(" (RTO %s)", rto.Duration)
		}
	}
	return s
}

// failureLines lists the failed members and failed steps of every wave.
func failureLines(run *drv1alpha1.PlanRun) []string {
	var out []string
	for _, w := range run.Waves {
		for _, f := range w.Failures {
			out = append(out, fmt.Sprintf("wave %s: member %s failed: %s: %s", w.Name, f.Member, orDash(f.Reason), orDash(f.Message)))
		}
		for _, s := range w.Steps {
			if s.Phase == drv1alpha1.StepFailed {
				out = append(out, fmt.Sprintf("wave %s: step %s failed: %s", w.Name, stepRef(w.Name, s.Name), orDash(s.Message)))
			}
		}
	}
	return out
}

// decideHints names the commands that answer a blocked run: for its first
// failed step or member, retry or skip it; else a run-level retry; and
// abort.
func decideHints(p *drv1alpha1.DRPlan, run *drv1alpha1.PlanRun) []string {
	target := ""
	for _, w := range run.Waves {
		for _, s := range w.Steps {
			if target == "" && (s.Phase == drv1alpha1.StepFailed || (run.Phase == drv1alpha1.PlanBlocked && s.Phase == drv1alpha1.StepWaitingForApproval)) {
				target = "--step " + stepRef(w.Name, s.Name)
			}
		}
		for _, f := range w.Failures {
			if target == "" {
				target = "--member " + f.Member
			}
		}
	}
	ns := " -n " + p.Namespace
	if target == "" {
		return []string{fmt.Sprintf("decide: kubectl sdrs plan retry %s%s, or kubectl sdrs plan abort %s%s", p.Name, ns, p.Name, ns)}
	}
	return []string{fmt.Sprintf("decide: kubectl sdrs plan retry %s %s%s, kubectl sdrs plan skip %s %s%s, or kubectl sdrs plan abort %s%s",
		p.Name, target, ns, p.Name, target, ns, p.Name, ns)}
}

// waitingStep is a step waiting for approval, with its <wave>/<step>.
type waitingStep struct {
	ref    string
	status drv1alpha1.PlanStepStatus
}

// waitingSteps lists the steps of run in phase WaitingForApproval.
func waitingSteps(run *drv1alpha1.PlanRun) []waitingStep {
	if run == nil {
		return nil
	}
	var out []waitingStep
	for _, w := range run.Waves {
		for _, s := range w.Steps {
			if s.Phase == drv1alpha1.StepWaitingForApproval {
				out = append(out, waitingStep{ref: stepRef(w.Name, s.Name), status: s})
			}
		}
	}
	return out
}

func refs(steps []waitingStep) string {
	out := make([]string, len(steps))
	for i, s := range steps {
		out[i] = s.ref
	}
	return strings.Join(out, ", ")
}
