// Package cli holds what every kubectl-sdrs verb shares: the environment
// (client, namespace, output streams), exit codes, target selection and
// the patch step with its dry run and Argo CD warning.
package cli

import (
	"errors"
	"fmt"
)

// Exit codes are part of the plugin's contract with scripts and runbooks,
// so each one means exactly one kind of outcome.
const (
	ExitOK         = 0 // done
	ExitError      = 1 // API or unexpected error
	ExitUsage      = 2 // bad flags or arguments, or a request the plugin refuses
	ExitTimeout    = 3 // wait timed out before the group was Ready
	ExitStalled    = 4 // the operation stalled or failed; a person must act
	ExitSuperseded = 5 // the spec changed again while waiting: this command's request is no longer the one in progress
	ExitPaused     = 6 // the group is paused: the operator starts no SDRS action until it is resumed
	ExitForcedOnly = 7 // check: some group would run only a forced failover now (none would run neither)
	ExitNotReady   = 8 // check: some group would run no failover now, or its readiness is unknown
	exitUnhandled  = ExitError

	ExitDrillOverdue = 9 // drill list: some listed group has no passed drill within its drill interval, or none at all
)

// Error carries an exit code with its message.
type Error struct {
	Code int
	Err  error
}

func (e *Error) Error() string { return e.Err.Error() }
func (e *Error) Unwrap() error { return e.Err }

// Usagef is a usage error or a refusal (exit 2).
func Usagef(format string, args ...any) error {
	return &Error{Code: ExitUsage, Err: fmt.Errorf(format, args...)}
}

// WithCode wraps err with an exit code.
func WithCode(code int, err error) error {
	if err == nil {
		return nil
	}
	return &Error{Code: code, Err: err}
}

// Code returns the exit code for err: its own when it carries one, else 1.
func Code(err error) int {
	if err == nil {
		return ExitOK
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return exitUnhandled
}
