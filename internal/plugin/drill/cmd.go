package drill

import (
	"time"

	"github.com/spf13/cobra"

	"github.com/sdrs-operator/sdrs-operator/internal/plugin/cli"
)

// NewCmd returns the drill verb with its start, end and list commands.
func NewCmd(newEnv func() (*cli.Env, error)) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "drill start|end|list",
		Short: "DR drills: start a ProtectionGroupDrill, end it, list groups and whether their drills are overdue",
		Long: `DR drills of ProtectionGroups: SDRS drill servers made from the DR-site disks
in an isolated drill VPC, while production keeps running and replicating.
Each drill is a ProtectionGroupDrill object; the operator runs it in SDRS,
deletes its drill servers after spec.ttl, and records the verdict on the
group (status.lastDrill, status.lastPassedDrill, DrillUpToDate).

start creates a ProtectionGroupDrill and end merge-patches its spec.release;
neither writes status. list only reads.`,
		Example: `  kubectl sdrs drill start web --ttl 2h --wait
  kubectl sdrs drill end web-drill-20260301-1200 --wait
  kubectl sdrs drill list -A
  kubectl sdrs drill list --drills`,
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) > 0 {
				return cli.Usagef("unknown drill command %q: use start, end or list", args[0])
			}
			return cmd.Help()
		},
	}
	cmd.AddCommand(newStartCmd(newEnv), newEndCmd(newEnv), newListCmd(newEnv))
	return cmd
}

func newStartCmd(newEnv func() (*cli.Env, error)) *cobra.Command {
	var o StartOptions
	cmd := &cobra.Command{
		Use:   "start PG [--ttl 2h] [--vpc ID] [--name NAME] [--wait]",
		Short: "Create a ProtectionGroupDrill for a group",
		Long: `Create a ProtectionGroupDrill for the group: spec.protectionGroupRef.name,
spec.ttl (--ttl, 4h unless given) and spec.drillVpcID (--vpc). Its
name is --name, else <group>-drill-<UTC yyyymmdd-hhmm>.

Refused (exit 2) when the group does not exist, when a drill of the group is
still live (any phase but Released and Failed: end it first), or when the
name is taken.

Without --vpc, SDRS creates a drill VPC with the production VPC's CIDR and
keeps it after the drill. With --wait, wait until the drill's Ready
condition is True for its generation (its drill servers are available),
printing each phase change: exit 0 then, 4 when the drill is Stalled or its
phase Failed (a person must act; see the message), 5 when it was ended or
deleted before it became available, 3 when --timeout passes first.`,
		Example: `  kubectl sdrs drill start web --wait
  kubectl sdrs drill start web --ttl 2h --vpc 0b6a6b6e-... --name web-q1
  kubectl sdrs drill start web --dry-run`,
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) != 1 {
				return cli.Usagef("drill start takes exactly one ProtectionGroup name")
			}
			o.Group = args[0]
			if o.TTL <= 0 {
				return cli.Usagef("--ttl must be positive")
			}
			if err := o.Validate(); err != nil {
				return err
			}
			env, err := newEnv()
			if err != nil {
				return err
			}
			return Start(cmd.Context(), env, o)
		},
	}
	fs := cmd.Flags()
	fs.DurationVar(&o.TTL, "ttl", DefaultTTL, "spec.ttl: the drill servers are deleted this long after they become available (bounded by the manager's --max-drill-ttl)")
	fs.StringVar(&o.VpcID, "vpc", "", "spec.drillVpcID: an isolated VPC with the production VPC's CIDR (default: SDRS creates one and keeps it)")
	fs.StringVar(&o.Name, "name", "", "the drill's name (default <group>-drill-<UTC yyyymmdd-hhmm>)")
	addWaitFlags(cmd, &o.DryRun, &o.Wait, &o.Timeout, "create", "until the drill servers are available (Ready=True)")
	return cmd
}

func newEndCmd(newEnv func() (*cli.Env, error)) *cobra.Command {
	var o EndOptions
	cmd := &cobra.Command{
		Use:   "end DRILL [--wait]",
		Short: "End a drill now: merge-patch spec.release to true",
		Long: `End a drill before its TTL: merge-patch spec.release: true on the
ProtectionGroupDrill (never status). The operator deletes the SDRS drill
and its drill servers; a drill VPC that SDRS created stays. A release
cannot be undone. A Failed drill whose SDRS drill is in status error is
deleted the same way. A drill already released, or with spec.release
already true, is left unchanged.

With --wait, wait until the phase is Released: exit 0 then, 4 when the
drill is Stalled for its current generation (a person must act; see the
message), 3 when --timeout passes first.`,
		Example: `  kubectl sdrs drill end web-drill-20260301-1200 --wait
  kubectl sdrs drill end web-q1 --dry-run`,
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) != 1 {
				return cli.Usagef("drill end takes exactly one ProtectionGroupDrill name")
			}
			o.Name = args[0]
			if err := o.Validate(); err != nil {
				return err
			}
			env, err := newEnv()
			if err != nil {
				return err
			}
			return End(cmd.Context(), env, o)
		},
	}
	addWaitFlags(cmd, &o.DryRun, &o.Wait, &o.Timeout, "patch", "until the phase is Released")
	return cmd
}

func newListCmd(newEnv func() (*cli.Env, error)) *cobra.Command {
	var o ListOptions
	cmd := &cobra.Command{
		Use:   "list [PG... | -l SELECTOR] [-A] [--drills]",
		Short: "List groups with their last drill and whether they are overdue (or, with --drills, the drills)",
		Long: `List one row per ProtectionGroup:

  LAST DRILL   status.lastDrill: the group's last finished drill
  RESULT       its verdict: Passed, Failed, or - when it ended without one
  WHEN         how long ago it ran (its drill servers became available)
  LAST PASSED  how long ago the last passed drill ran
  UP TO DATE   the DrillUpToDate condition: yes, or no and the reason
               (DrillOverdue: the last passed drill is older than
               spec.drillInterval; NoDrillPassed: none has passed). Before
               the operator has written it, the plugin applies the same rule
               and adds "(computed)".
  LIVE DRILL   a drill of the group not Released or Failed, with its phase

Exit codes: 0 every listed group is up to date; 9 some listed group is
overdue or has no passed drill (a runbook or CronJob can branch on it);
1 API error; 2 usage error.

With --drills, list the ProtectionGroupDrill objects instead (NAME, GROUP,
PHASE, READY, EXPIRES, RESULT, AGE): all in the namespace, or those of the
named or selected groups. It exits 0.

Without names or -l, every group in the namespace is listed (-A: in all
namespaces).`,
		Example: `  kubectl sdrs drill list
  kubectl sdrs drill list -A -l tier=app
  kubectl sdrs drill list --drills`,
		RunE: func(cmd *cobra.Command, args []string) error {
			o.Names = args
			if err := o.Validate(false); err != nil {
				return err
			}
			env, err := newEnv()
			if err != nil {
				return err
			}
			return List(cmd.Context(), env, o)
		},
	}
	o.AddFlags(cmd.Flags(), false)
	cmd.Flags().BoolVar(&o.Drills, "drills", false, "list the ProtectionGroupDrill objects instead of the groups")
	return cmd
}

// addWaitFlags adds --dry-run, --wait and --timeout as the verbs that
// patch a group have them.
func addWaitFlags(cmd *cobra.Command, dryRun *string, wait *bool, timeout *time.Duration, verb, until string) {
	fs := cmd.Flags()
	fs.StringVar(dryRun, "dry-run", cli.DryRunNone,
		`print what would be sent and `+verb+` nothing: "server" (the API server validates it, the default for a bare --dry-run) or "client" (no request)`)
	fs.Lookup("dry-run").NoOptDefVal = cli.DryRunServer
	fs.BoolVar(wait, "wait", false, "after the "+verb+", wait "+until)
	fs.DurationVar(timeout, "timeout", cli.DefaultTimeout, "how long --wait waits")
}
