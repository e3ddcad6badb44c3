// Package login implements `kubectl sdrs login`: which credentials open
// each server of a group now, as the operator wrote it to
// status.instances[].login. It only reads.
package login

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	drv1alpha1 "github.com/sdrs-operator/sdrs-operator/api/v1alpha1"
	"github.com/sdrs-operator/sdrs-operator/internal/plugin/cli"
)

// Options are the login flags.
type Options struct {
	Name   string
	Output string
}

// Cases of a group whose past is unknown (status.instances[].login.servers[].case).
const (
	CaseNoSwapYet = "IfNoSwapYet"
	CaseSwapped   = "IfSwapped"
)

// Latest is how long after a row's until the credential may still work:
// Cloudbase-Init starts 3 minutes after the server (until), at most 5.
const Latest = 2 * time.Minute

// ErrNoGuidance is returned (exit 1) when no instance carries login
// guidance yet.
var ErrNoGuidance = errors.New("no login guidance yet: the operator has not read the group's instances")

// Instance is one entry of -o json|yaml: status.instances[].login as the
// operator wrote it, with the instance it belongs to.
type Instance struct {
	ID    string                    `json:"id"`
	Name  string                    `json:"name,omitempty"`
	Login *drv1alpha1.InstanceLogin `json:"login"`
}

// Run prints one group's login guidance.
func Run(ctx context.Context, env *cli.Env, o Options) error {
	if err := cli.ValidateOutput(o.Output); err != nil {
		return err
	}
	var pg drv1alpha1.ProtectionGroup
	if err := env.Client.Get(ctx, types.NamespacedName{Namespace: env.Namespace, Name: o.Name}, &pg); err != nil {
		return fmt.Errorf("cannot get ProtectionGroup %s/%s: %w", env.Namespace, o.Name, err)
	}
	instances := Instances(&pg)
	if len(instances) == 0 {
		return fmt.Errorf("%s: %w", cli.Ref(&pg, false), ErrNoGuidance)
	}
	if o.Output != cli.OutputTable {
		return cli.PrintObject(env.Out, o.Output, instances)
	}
	if err := Render(env.Out, &pg, env.Now()); err != nil {
		return err
	}
	for _, in := range pg.Status.Instances {
		if in.Login == nil {
			fmt.Fprintf(env.ErrOut, "Warning: %s: instance %s: no login guidance yet\n", cli.Ref(&pg, false), instanceName(in))
		}
	}
	return nil
}

// Instances returns the instances that carry login guidance, in status order.
func Instances(pg *drv1alpha1.ProtectionGroup) []Instance {
	var out []Instance
	for _, in := range pg.Status.Instances {
		if in.Login != nil {
			out = append(out, Instance{ID: in.ID, Name: in.Name, Login: in.Login})
		}
	}
	return out
}

// Render writes the first-swap and agent lines, then one table, or one per
// case when the group's past is unknown. Times are shown in now's location
// (the local zone for a user; tests pass UTC).
func Render(w io.Writer, pg *drv1alpha1.ProtectionGroup, now time.Time) error {
	state := firstSwapState(pg)
	fmt.Fprintf(w, "First swap: %s\n", FirstSwapLine(pg, state, now.Location()))
	fmt.Fprintf(w, "Guest init agent: %s\n", AgentLine(pg))
	cases := []struct{ key, title string }{{"", ""}}
	if state == drv1alpha1.FirstSwapUnknown {
		cases = append(cases,
			struct{ key, title string }{CaseNoSwapYet, "If no planned failover, failover or drill ever ran:"},
			struct{ key, title string }{CaseSwapped, "If one did:"})
	}
	for _, c := range cases {
		var rows [][]string
		for _, in := range pg.Status.Instances {
			if in.Login == nil {
				continue
			}
			for _, s := range in.Login.Servers {
				if s.Case != c.key {
					continue
				}
				rows = append(rows, []string{instanceName(in), in.OSType, string(in.Login.Method),
					strings.TrimSpace(s.Server + " " + s.ID), s.Role, s.Use, Until(s.Until, now)})
			}
		}
		if len(rows) == 0 {
			continue
		}
		fmt.Fprintln(w)
		if c.title != "" {
			fmt.Fprintln(w, c.title)
		}
		t := cli.NewTable(w)
		cli.Row(t, "INSTANCE", "OS", "METHOD", "SERVER", "ROLE NOW", "USE", "UNTIL")
		for _, r := range rows {
			cli.Row(t, r...)
		}
		if err := t.Flush(); err != nil {
			return err
		}
	}
	return nil
}

// firstSwapState is status.firstSwap.state, else what the instances say.
func firstSwapState(pg *drv1alpha1.ProtectionGroup) drv1alpha1.FirstSwapState {
	if fs := pg.Status.FirstSwap; fs != nil && fs.State != "" {
		return fs.State
	}
	for _, in := range pg.Status.Instances {
		if in.Login != nil && in.Login.FirstSwap != "" {
			return in.Login.FirstSwap
		}
	}
	return ""
}

// FirstSwapLine says whether the group's first swap has happened.
func FirstSwapLine(pg *drv1alpha1.ProtectionGroup, state drv1alpha1.FirstSwapState, loc *time.Location) string {
	switch state {
	case drv1alpha1.FirstSwapNotYet:
		return "NotYet (no planned failover, failover or drill has run: every server opens with its own credentials)"
	case drv1alpha1.FirstSwapDone:
		if fs := pg.Status.FirstSwap; fs != nil && fs.At != nil {
			return "Done at " + fs.At.In(loc).Format(time.RFC3339)
		}
		return "Done (before the operator saw the group: the time is not known)"
	case drv1alpha1.FirstSwapUnknown:
		return "Unknown: this group was adopted; its past is unknown, so both cases are shown"
	}
	return "not recorded yet"
}

// AgentLine is the group's guest init agent setting and the instances
// whose own setting differs.
func AgentLine(pg *drv1alpha1.ProtectionGroup) string {
	group, from := drv1alpha1.GuestInitInstalled, "the default"
	if l := pg.Spec.Login; l != nil && l.GuestInitAgent != "" {
		group, from = l.GuestInitAgent, "spec.login.guestInitAgent"
	}
	line := fmt.Sprintf("%s (%s)", group, from)
	var others []string
	for _, in := range pg.Status.Instances {
		if in.Login != nil && in.Login.GuestInitAgent != "" && in.Login.GuestInitAgent != group {
			others = append(others, fmt.Sprintf("%s for %s", in.Login.GuestInitAgent, instanceName(in)))
		}
	}
	if len(others) > 0 {
		line += "; " + strings.Join(others, ", ")
	}
	return line
}

// Until shows when a credential stops working: empty when it does not,
// "expired" once the latest end (until + 2m) has passed, else the time in
// now's location and how long from now.
func Until(until *metav1.Time, now time.Time) string {
	if until == nil || until.IsZero() {
		return ""
	}
	at := until.In(now.Location()).Format(time.RFC3339)
	switch d := until.Sub(now).Round(time.Second); {
	case now.After(until.Add(Latest)):
		return "expired"
	case d >= 0:
		return fmt.Sprintf("%s (in %s)", at, d)
	default:
		left := until.Add(Latest).Sub(now).Round(time.Second)
		return fmt.Sprintf("%s (%s ago; may work up to %s more)", at, -d, left)
	}
}

func instanceName(in drv1alpha1.InstanceObservation) string {
	if in.Name != "" {
		return in.Name
	}
	return in.ID
}
