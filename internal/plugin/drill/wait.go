package drill

import (
	"context"
	"errors"
	"fmt"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	drv1alpha1 "github.com/sdrs-operator/sdrs-operator/api/v1alpha1"
	"github.com/sdrs-operator/sdrs-operator/internal/plugin/cli"
	"github.com/sdrs-operator/sdrs-operator/internal/plugin/wait"
)

// readTimeout bounds one read, as in the wait package.
const readTimeout = 20 * time.Second

// decider says where a drill stands for the verb that waits on it.
type decider func(d *drv1alpha1.ProtectionGroupDrill) wait.Decision

// waitOptions configure waitDrill.
type waitOptions struct {
	Timeout  time.Duration
	Interval time.Duration
}

// waitDrill reads the drill every interval until decide says it is Done
// (exit 0), Failed (4) or Superseded (5), or the timeout passes (3). It
// prints a line, as the wait verb does, whenever the phase or the
// decision's message changes, so phase transitions show as they happen.
func waitDrill(ctx context.Context, env *cli.Env, key types.NamespacedName, o waitOptions, decide decider) error {
	if o.Interval <= 0 {
		o.Interval = wait.DefaultInterval
	}
	deadline, cancel := context.WithTimeout(ctx, o.Timeout)
	defer cancel()
	ticker := time.NewTicker(o.Interval)
	defer ticker.Stop()
	start := env.Now()
	r := refKey(key)
	var last, msg string
	say := func(line string) {
		msg = line
		if line != last {
			last = line
			fmt.Fprintf(env.Out, "[%s] %s: %s\n", env.Now().Sub(start).Round(time.Second), r, line)
		}
	}
	for {
		var d drv1alpha1.ProtectionGroupDrill
		readCtx, cancelRead := context.WithTimeout(ctx, readTimeout)
		err := env.Client.Get(readCtx, key, &d)
		cancelRead()
		switch {
		case apierrors.IsNotFound(err):
			return fmt.Errorf("%s was deleted while waiting", r)
		case err != nil && ctx.Err() != nil:
			return ctx.Err() // interrupted (Ctrl-C): exit 1
		case err != nil:
			// A flaky connection is not the drill's fault: say so once and
			// keep waiting until the timeout.
			say(fmt.Sprintf("cannot read: %v", err))
		default:
			dec := decide(&d)
			line := phaseWords(d.Status.Phase) + "; " + dec.Message
			if dec.State != wait.Waiting {
				last = "" // the outcome is always printed
			}
			say(line)
			if dec.State == wait.Done {
				return nil
			}
			if dec.State != wait.Waiting {
				return cli.WithCode(dec.State.ExitCode(), fmt.Errorf("%s: %s", r, dec.Message))
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

// decideStarted is the --wait of start: done once Ready is True for the
// drill's current generation (the drill servers are available), failed
// once Stalled is True for it or the phase is Failed. A drill ended or
// deleted before it became available is someone else's request now.
func decideStarted(d *drv1alpha1.ProtectionGroupDrill) wait.Decision {
	gen := d.Generation
	conds := d.Status.Conditions
	if c := current(conds, drv1alpha1.StalledCondition, gen); c != nil && c.Status == metav1.ConditionTrue {
		return wait.Decision{State: wait.Failed, Message: fmt.Sprintf("Stalled %s: %s", c.Reason, c.Message)}
	}
	if d.Status.Phase == drv1alpha1.DrillFailed {
		return wait.Decision{State: wait.Failed, Message: "the drill failed: " + failureWords(d)}
	}
	switch {
	case d.DeletionTimestamp != nil:
		return wait.Decision{State: wait.Superseded, Message: "the drill was deleted before its drill servers became available"}
	case d.Spec.Release || d.Status.Phase == drv1alpha1.DrillReleasing || d.Status.Phase == drv1alpha1.DrillReleased:
		return wait.Decision{State: wait.Superseded, Message: "the drill was ended (spec.release or its TTL) before its drill servers became available"}
	}
	ready := current(conds, drv1alpha1.ReadyCondition, gen)
	switch {
	case ready != nil && ready.Status == metav1.ConditionTrue && d.Status.ObservedGeneration >= gen:
		msg := fmt.Sprintf("Ready %s: %s", ready.Reason, ready.Message)
		if d.Status.ExpiresAt != nil {
			msg += "; expires " + d.Status.ExpiresAt.UTC().Format(time.RFC3339)
		}
		return wait.Decision{State: wait.Done, Message: msg}
	case ready != nil:
		return wait.Decision{State: wait.Waiting, Message: fmt.Sprintf("Ready=%s %s: %s", ready.Status, ready.Reason, ready.Message)}
	}
	return wait.Decision{State: wait.Waiting, Message: observing(d, drv1alpha1.ReadyCondition)}
}

// decideEnded is the --wait of end: done once the phase is Released,
// failed once Stalled is True for the current generation (the one with
// spec.release in it).
func decideEnded(d *drv1alpha1.ProtectionGroupDrill) wait.Decision {
	if d.Status.Phase == drv1alpha1.DrillReleased {
		msg := "released"
		if d.Status.ReleasedAt != nil {
			msg += " at " + d.Status.ReleasedAt.UTC().Format(time.RFC3339)
		}
		return wait.Decision{State: wait.Done, Message: msg + vpcNote(d)}
	}
	gen := d.Generation
	conds := d.Status.Conditions
	if c := current(conds, drv1alpha1.StalledCondition, gen); c != nil && c.Status == metav1.ConditionTrue {
		return wait.Decision{State: wait.Failed, Message: fmt.Sprintf("Stalled %s: %s", c.Reason, c.Message)}
	}
	for _, t := range []string{drv1alpha1.ReconcilingCondition, drv1alpha1.ReadyCondition} {
		if c := current(conds, t, gen); c != nil && d.Status.ObservedGeneration >= gen {
			return wait.Decision{State: wait.Waiting, Message: fmt.Sprintf("%s=%s %s: %s", t, c.Status, c.Reason, c.Message)}
		}
	}
	return wait.Decision{State: wait.Waiting, Message: observing(d, "phase Released")}
}

// observing words a drill whose status does not speak to its current
// generation yet.
func observing(d *drv1alpha1.ProtectionGroupDrill, what string) string {
	if d.Status.ObservedGeneration < d.Generation {
		return fmt.Sprintf("waiting for the operator to observe generation %d (observed %d)", d.Generation, d.Status.ObservedGeneration)
	}
	return "waiting for " + what
}

// failureWords is the operator's reason for a Failed drill: the Stalled or
// Ready message, whatever generation it was set for.
func failureWords(d *drv1alpha1.ProtectionGroupDrill) string {
	for _, t := range []string{drv1alpha1.StalledCondition, drv1alpha1.ReadyCondition} {
		if c := meta.FindStatusCondition(d.Status.Conditions, t); c != nil && c.Message != "" {
			return fmt.Sprintf("%s: %s", c.Reason, c.Message)
		}
	}
	return "phase Failed (no condition says why yet)"
}

// vpcNote reminds that a VPC SDRS created for the drill outlives it.
func vpcNote(d *drv1alpha1.ProtectionGroupDrill) string {
	if o := d.Status.Drill; o != nil && o.VpcAutoCreated {
		return fmt.Sprintf("; SDRS created the drill VPC %s and keeps it: delete it when no drill needs it", orDash(o.VpcID))
	}
	return ""
}

// current returns the condition of type t if it was set for generation gen.
func current(conds []metav1.Condition, t string, gen int64) *metav1.Condition {
	c := meta.FindStatusCondition(conds, t)
	if c == nil || c.ObservedGeneration != gen {
		return nil
	}
	return c
}

func phaseWords(p drv1alpha1.DrillPhase) string {
	if p == "" {
		return "no phase yet"
	}
	return string(p)
}
