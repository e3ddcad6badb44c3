package login

import (
	"github.com/spf13/cobra"

	"github.com/sdrs-operator/sdrs-operator/internal/plugin/cli"
)

// NewCmd returns the login verb.
func NewCmd(newEnv func() (*cli.Env, error)) *cobra.Command {
	var o Options
	cmd := &cobra.Command{
		Use:   "login PG",
		Short: "Show which credentials open each server of a ProtectionGroup now",
		Long: `Show, per protected instance, which credentials open server A (the
source-site server) and server B (the target-site server) now, by the SDRS
rules for logging in after the first planned failover, failover or DR drill.
The operator works this out and writes it to status.instances[].login; this
verb only reads it and changes nothing.

Above the table: whether the group's first swap has happened (NotYet, Done
at a time, or Unknown for an adopted group, whose past cannot be known, so
both cases are shown, each in its own table) and the guest init agent
setting (Cloud-Init / Cloudbase-Init, spec.login).

  INSTANCE   the protected instance
  OS         Linux, Windows or CoreOS
  METHOD     Password or KeyPair
  SERVER     A or B, and the ECS server ID
  ROLE NOW   Production or DisasterRecovery
  USE        which credentials to use
  UNTIL      when those credentials are expected to stop working (Windows
             with Cloudbase-Init: 3 minutes after server B started, up to 5),
             in local time and how long from now; "expired" once the 5
             minutes have passed

-o json or -o yaml prints status.instances[].login, with each instance's id
and name. Exit 1 when the operator has not written login guidance yet.`,
		Example: `  kubectl sdrs login app1
  kubectl sdrs login app1 -o yaml`,
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) != 1 {
				return cli.Usagef("login takes exactly one ProtectionGroup name")
			}
			o.Name = args[0]
			if err := cli.ValidateOutput(o.Output); err != nil {
				return err
			}
			env, err := newEnv()
			if err != nil {
				return err
			}
			return Run(cmd.Context(), env, o)
		},
	}
	cmd.Flags().StringVarP(&o.Output, "output", "o", "", "json or yaml instead of the table")
	return cmd
}
