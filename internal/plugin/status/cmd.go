package status

import (
	"github.com/spf13/cobra"

	"github.com/sdrs-operator/sdrs-operator/internal/plugin/cli"
)

// NewCmd returns the status verb.
func NewCmd(newEnv func() (*cli.Env, error)) *cobra.Command {
	var o Options
	cmd := &cobra.Command{
		Use:   "status [PG...]",
		Short: "Show ProtectionGroups: desired and active site, zones, replication, operations, readiness",
		Long: `Show one line per ProtectionGroup:

  DESIRED      spec.desiredActiveSite
  ACTIVE       status.activeSite, the site serving now
  MODE         spec.failoverMode (a warning follows the table for Forced)
  PRODUCTION   the availability zone serving now
  DR           the availability zone receiving replication
  REPLICATION  replication status and progress
  OPERATION    the operation in flight and its step
  LAST         the last finished operation's result and type
  READY        Ready condition status/reason ("(stale)" when set for an older
               generation, "(paused)" while dr.sdrs.io/paused is "true")

Warnings on stderr name groups whose failoverMode is Forced (the next change
of desiredActiveSite would be another forced failover) and paused groups.
Without names or -l, every group in the namespace is listed (-A: in all
namespaces).`,
		Example: `  kubectl sdrs status
  kubectl sdrs status app1 -o yaml
  kubectl sdrs status -A -l tier=app`,
		RunE: func(cmd *cobra.Command, args []string) error {
			o.Names = args
			if err := cli.ValidateOutput(o.Output); err != nil {
				return err
			}
			if err := o.Validate(false); err != nil {
				return err
			}
			env, err := newEnv()
			if err != nil {
				return err
			}
			return Run(cmd.Context(), env, o)
		},
	}
	o.AddFlags(cmd.Flags(), false)
	cmd.Flags().StringVarP(&o.Output, "output", "o", "", "json or yaml instead of the table")
	return cmd
}
