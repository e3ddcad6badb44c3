package cli

import (
	"fmt"

	drv1alpha1 "github.com/sdrs-operator/sdrs-operator/api/v1alpha1"
)

// DescribeOperation words an operation in flight for people, e.g.
// "PlannedFailover source->target step StopServers". It is "" for nil.
func DescribeOperation(op *drv1alpha1.Operation) string {
	if op == nil {
		return ""
	}
	s := string(op.Type)
	if op.From != "" || op.To != "" {
		s += fmt.Sprintf(" %s->%s", orDash(string(op.From)), orDash(string(op.To)))
	}
	if op.Step != "" {
		s += " step " + string(op.Step)
	}
	return s
}

// ResumeCommand is the command that lets the operator act on a paused group.
func ResumeCommand(pg *drv1alpha1.ProtectionGroup) string {
	return fmt.Sprintf("kubectl sdrs resume %s -n %s --wait", pg.Name, pg.Namespace)
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
