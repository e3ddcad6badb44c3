package plan

import (
	"github.com/spf13/cobra"

	drv1alpha1 "github.com/sdrs-operator/sdrs-operator/api/v1alpha1"
	"github.com/sdrs-operator/sdrs-operator/internal/plugin/cli"
)

// NewCmd returns the plan verb with its commands. user names who the
// kubeconfig connects as, for the default note of a decision; nil or ""
// leaves the user out.
func NewCmd(newEnv func() (*cli.Env, error), user func() string) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "plan status|failover|failback|approve|retry|skip|abort PLAN",
		Short: "DRPlans: move a fleet in waves, answer its approvals and failures, follow its runs",
		Long: `DRPlans move a fleet of ProtectionGroups to a site in ordered waves, with
approvals, waits and Jobs between them. The plan controller runs each run and
reports it in status.run; the plan only sets its members' spec.

status only reads. failover and failback merge-patch spec.desiredActiveSite
(and spec.failoverMode, spec.allowDataLoss when asked). approve, retry, skip
and abort append one entry to spec.decisions for the plan's current run,
with the resourceVersion read as a precondition, so that a concurrent
append is never lost. None writes status.

With --wait, a verb follows the run until it stops: exit 0 when it
Succeeded, 4 when it Failed, was Aborted or is Blocked (a failed member or
step, or an expired approval, waits for a decision), 10 when it waits for
an approval (the output names the approve command), 5 when someone else
changed spec.desiredActiveSite meanwhile, 3 when --timeout passes first.`,
		Example: `  kubectl sdrs plan status erp
  kubectl sdrs plan failover erp --wait
  kubectl sdrs plan approve erp --wait
  kubectl sdrs plan retry erp --member erp-db --wait
  kubectl sdrs plan skip erp --step apps/smoke-test
  kubectl sdrs plan abort erp --note "stopped at 02:10, see INC-42"
  kubectl sdrs plan failback erp --wait`,
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) > 0 {
				return cli.Usagef("unknown plan command %q: use status, failover, failback, approve, retry, skip or abort", args[0])
			}
			return cmd.Help()
		},
	}
	whoami := func() string {
		if user == nil {
			return ""
		}
		return user()
	}
	cmd.AddCommand(
		newStatusCmd(newEnv),
		newMoveCmd(newEnv, drv1alpha1.SiteTarget),
		newMoveCmd(newEnv, drv1alpha1.SiteSource),
		newDecideCmd(newEnv, whoami, drv1alpha1.DecisionApprove),
		newDecideCmd(newEnv, whoami, drv1alpha1.DecisionRetry),
		newDecideCmd(newEnv, whoami, drv1alpha1.DecisionSkip),
		newDecideCmd(newEnv, whoami, drv1alpha1.DecisionAbort),
	)
	return cmd
}

func newStatusCmd(newEnv func() (*cli.Env, error)) *cobra.Command {
	var o StatusOptions
	cmd := &cobra.Command{
		Use:   "status [PLAN] [-o json|yaml]",
		Short: "Show a plan: desired site, its run wave by wave, steps, failures, what waits for a person, members, history",
		Long: `Show one plan: spec.desiredActiveSite; status.members; the WaitingForApproval
and Stalled conditions; the run (status.run: id, mode, site, phase, reason,
start, duration against spec.rto, current wave); a table of its waves
(NAME PHASE TOTAL PENDING INPROGRESS SUCCEEDED FAILED SKIPPED); each wave's
steps with phase and message; the failed members with reason and message;
the approve command for a step that waits; the decisions in spec not used
yet; and status.history.

Without a name, one line per plan of the namespace.`,
		Example: `  kubectl sdrs plan status erp
  kubectl sdrs plan status erp -o yaml
  kubectl sdrs plan status`,
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) > 1 {
				return cli.Usagef("plan status takes at most one DRPlan name")
			}
			if len(args) == 1 {
				o.Name = args[0]
			}
			if err := cli.ValidateOutput(o.Output); err != nil {
				return err
			}
			env, err := newEnv()
			if err != nil {
				return err
			}
			return Status(cmd.Context(), env, o)
		},
	}
	cmd.Flags().StringVarP(&o.Output, "output", "o", "", "json or yaml instead of the text")
	return cmd
}

func newMoveCmd(newEnv func() (*cli.Env, error), to drv1alpha1.Site) *cobra.Command {
	o := MoveOptions{To: to}
	verb, short := "failover", "Move the plan's members to the target site, wave by wave: set spec.desiredActiveSite to target"
	if to == drv1alpha1.SiteSource {
		verb, short = "failback", "Move the plan's members back to the source site, wave by wave: set spec.desiredActiveSite to source"
	}
	var mode string
	cmd := &cobra.Command{
		Use:   verb + " PLAN [--mode Planned|Forced|Auto] [--allow-data-loss] [--wait]",
		Short: short,
		Long: `Merge-patch spec.desiredActiveSite of the plan to ` + string(to) + `, and spec.failoverMode
(--mode) and spec.allowDataLoss (--allow-data-loss) when given. The plan
controller starts a run that moves the members in waves; a run in flight
to the other site is superseded (its wave in flight finishes first).

A plan already desired at ` + string(to) + ` is left unchanged (flags included).
Refused (exit 2) when the failover mode, given or the plan's, is Forced or
Auto without --allow-data-loss: members failed over forced may lose data
written since the last replication, up to the RPO.

With --wait, follow the new run to ` + string(to) + ` until it stops: exit 0 when it
Succeeded, 4 when it Failed, was Aborted or is Blocked (printing the run's
message, the failed members and steps, and the commands that decide), 10
when it waits for an approval (printing the step and the approve command),
5 when spec.desiredActiveSite changed again meanwhile, 3 on --timeout.`,
		Example: `  kubectl sdrs plan ` + verb + ` erp --wait
  kubectl sdrs plan ` + verb + ` erp --mode Forced --allow-data-loss --dry-run`,
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) != 1 {
				return cli.Usagef("plan %s takes exactly one DRPlan name", verb)
			}
			o.Name, o.Mode = args[0], drv1alpha1.FailoverMode(mode)
			if err := o.Validate(verb); err != nil {
				return err
			}
			env, err := newEnv()
			if err != nil {
				return err
			}
			return Move(cmd.Context(), env, o)
		},
	}
	cmd.Flags().StringVar(&mode, "mode", "", "spec.failoverMode to set: Planned, Forced or Auto (default: leave it)")
	cmd.Flags().BoolVar(&o.AllowDataLoss, "allow-data-loss", false, "set spec.allowDataLoss: true; Forced and Auto need it")
	addCommonFlags(cmd, &o.Common, "until the run to "+string(to)+" stops")
	return cmd
}

// decideHelp is each decision verb's use, short and long help.
var decideHelp = map[drv1alpha1.DecisionAction][3]string{
	drv1alpha1.DecisionApprove: {"approve PLAN [--step WAVE/STEP] [--note TEXT] [--wait]",
		"Approve a step of the plan's run that waits for approval",
		`Append {run, step, action: Approve, note} to spec.decisions. Without
--step, the one step of the run in phase WaitingForApproval is approved;
when none or several wait, the command refuses (exit 2) and names them.
--step can approve an approval step ahead of time.`},
	drv1alpha1.DecisionRetry: {"retry PLAN [--step WAVE/STEP | --member PG] [--note TEXT] [--wait]",
		"Retry a failed step or member of the plan's run, or the whole run once it has finished",
		`Append {run, step or member, action: Retry, note} to spec.decisions. A
failed Job step runs again (a new attempt), an expired approval waits
again, a failed member is moved again. With neither --step nor --member,
a finished run whose members are not all at the site starts again as a
new run.`},
	drv1alpha1.DecisionSkip: {"skip PLAN --step WAVE/STEP | --member PG [--note TEXT] [--wait]",
		"Skip a failed or waiting step or member of the plan's run",
		`Append {run, step or member, action: Skip, note} to spec.decisions: the
run passes the step, or leaves the member where it is and goes on.`},
	drv1alpha1.DecisionAbort: {"abort PLAN [--note TEXT] [--wait]",
		"Abort the plan's run; members already moved stay moved",
		`Append {run, action: Abort, note} to spec.decisions: the run ends
Aborted. Members it already moved stay at the new site (SDRS has no undo);
fail back with kubectl sdrs plan failback if that is what is wanted.`},
}

func newDecideCmd(newEnv func() (*cli.Env, error), user func() string, action drv1alpha1.DecisionAction) *cobra.Command {
	o := DecideOptions{Action: action}
	help := decideHelp[action]
	waitWords := "until the run has used the decision and stops again"
	exits := `Exit 0 when the run Succeeded, 4 when it Failed, was Aborted or is
Blocked, 10 when it waits for an approval (again), 5 when
spec.desiredActiveSite changed meanwhile, 3 on --timeout.`
	if action == drv1alpha1.DecisionAbort {
		waitWords = "until the run has ended"
		exits = `Exit 0 when it ended Aborted (or had ended Succeeded before the abort was
used), 4 when it ended Failed, 5 when spec.desiredActiveSite changed
meanwhile, 3 on --timeout.`
	}
	cmd := &cobra.Command{
		Use:   help[0],
		Short: help[1],
		Long: help[2] + `

The decision is for the plan's current run (status.run.id), or --run (an
earlier run, or the next one ahead of time). It is refused (exit 2) when
the plan has no run (and no --run), when --run is later than the next run,
or when it names a wave or step the run does not show; a member the run cannot show (it lists only failed
ones) is taken, with a warning when no such ProtectionGroup is a member.
The same decision (run, step or member, action) already in spec.decisions
and not used by the run yet is not appended again (the command says so).
The note defaults to "kubectl sdrs by <kubeconfig user> at <time>". The
append reads the plan, appends and writes with the resourceVersion read
as a precondition, again on a conflict, so a concurrent append is kept.
spec.decisions holds at most 200 entries: when full, the oldest entries
of other runs are dropped (and the command says so); if all are for this
run, it refuses.

With --wait, wait ` + waitWords + `.
` + exits,
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) != 1 {
				return cli.Usagef("plan %s takes exactly one DRPlan name", cmd.Name())
			}
			o.Name = args[0]
			if err := o.Validate(); err != nil {
				return err
			}
			env, err := newEnv()
			if err != nil {
				return err
			}
			o.User = user()
			return Decide(cmd.Context(), env, o)
		},
	}
	fs := cmd.Flags()
	switch action {
	case drv1alpha1.DecisionApprove:
		fs.StringVar(&o.Step, "step", "", "the approval step as <wave>/<step> (default: the one step waiting for approval)")
	case drv1alpha1.DecisionRetry, drv1alpha1.DecisionSkip:
		fs.StringVar(&o.Step, "step", "", "the step as <wave>/<step>")
		fs.StringVar(&o.Member, "member", "", "the member: a ProtectionGroup's name")
	}
	fs.StringVar(&o.Run, "run", "", "the run the decision is for, e.g. r-0003 (default: status.run.id)")
	fs.StringVar(&o.Note, "note", "", "a note for the audit: who decided and why (default: kubectl sdrs by <user> at <time>)")
	addCommonFlags(cmd, &o.Common, waitWords)
	return cmd
}

// addCommonFlags adds --dry-run, --wait and --timeout as the verbs that
// patch a group have them.
func addCommonFlags(cmd *cobra.Command, o *Common, until string) {
	fs := cmd.Flags()
	fs.StringVar(&o.DryRun, "dry-run", cli.DryRunNone,
		`print the patch and patch nothing: "server" (the API server validates it, the default for a bare --dry-run) or "client" (no request)`)
	fs.Lookup("dry-run").NoOptDefVal = cli.DryRunServer
	fs.BoolVar(&o.Wait, "wait", false, "after the patch, wait "+until)
	fs.DurationVar(&o.Timeout, "timeout", cli.DefaultTimeout, "how long --wait waits")
}
