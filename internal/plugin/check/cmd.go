package check

import (
	"github.com/spf13/cobra"

	"github.com/sdrs-operator/sdrs-operator/internal/plugin/cli"
)

// NewCmd returns the check verb.
func NewCmd(newEnv func() (*cli.Env, error)) *cobra.Command {
	var o Options
	cmd := &cobra.Command{
		Use:   "check [PG... | -l SELECTOR | --all] [-A]",
		Short: "Preflight: would a planned (or forced) failover run now? Changes nothing",
		Long: `Say, per ProtectionGroup, whether a planned failover (switchover) and a
forced failover would run now, from status.readiness as the operator last
checked it. check changes nothing: no patch, no annotation.

  ACTIVE     the site serving now
  PLANNED    yes, or no and the reason (a planned failover, no data loss)
  FORCED     yes, or no and the reason (a forced failover, data loss up to
             the RPO)
  FAULT      the worst fault level of the group's replication pairs: 0 none,
             2 failover advised, 5 failover not allowed, unknown when not read
  UNHEALTHY  how many protected instances SDRS reports invalid or fault
  CHECKED    how long ago the operator read the pairs and instances; an old
             value means the readiness may be out of date

Below the table, for each group that would not run a planned failover, the
planned and forced messages say why and what to do. A group with an
operation in flight, a paused group, and a group whose readiness the
operator has not read yet would run neither.

Exit codes: 0 every selected group would run a planned failover now (with
--for forced: a forced failover); 7 some group would run only a forced
failover (and none would run neither); 8 some group would run neither, or
its readiness is unknown; 1 API error or no group found; 2 usage error.
Without names, -l or --all, every group in the namespace is checked (-A: in
all namespaces).`,
		Example: `  kubectl sdrs check web
  kubectl sdrs check -l tier=app -A
  kubectl sdrs check --all --for forced`,
		RunE: func(cmd *cobra.Command, args []string) error {
			o.Names = args
			if err := o.Validate(); err != nil {
				return err
			}
			env, err := newEnv()
			if err != nil {
				return err
			}
			return Run(cmd.Context(), env, o)
		},
	}
	fs := cmd.Flags()
	fs.StringVarP(&o.Selector, "selector", "l", "", "check ProtectionGroups matching this label selector (e.g. -l tier=web)")
	fs.BoolVar(&o.All, "all", false, "check every ProtectionGroup in the namespace (all namespaces with -A)")
	fs.BoolVarP(&o.AllNamespaces, "all-namespaces", "A", false, "check in all namespaces (with -l or --all, or alone)")
	fs.StringVar(&o.For, "for", ForPlanned, "which failover must be able to run for exit 0: planned or forced")
	return cmd
}
