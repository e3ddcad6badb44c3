package harness

import (
	"testing"

	"github.com/sdrs-operator/sdrs-operator/internal/localrun"
)

// Defaults of EmulatorOptions in this package.
const (
	DefaultProjectID = localrun.DefaultProjectID
	DefaultAccessKey = "AKE2E000000000000001"
	// DefaultSecretKey is a recognisable value so that a leak is easy to
	// find; tests search every log line, Event and status for it.
	DefaultSecretKey = "e2e-secret-key-MUST-NOT-LEAK-0001"
)

// EmulatorOptions configure StartEmulator; the zero value works.
type EmulatorOptions = localrun.EmulatorOptions

// Emulator is localrun's emulator with the state readers of this package
// (State, Ledger).
type Emulator struct {
	*localrun.Emulator
}

// StartEmulator starts the emulator binary (Binaries) with its logs and
// state in RunDir, the keys DefaultAccessKey and DefaultSecretKey and log
// level info unless opts say otherwise.
func StartEmulator(opts EmulatorOptions) (*Emulator, error) {
	var err error
	if opts.Bin == "" {
		if _, opts.Bin, err = Binaries(); err != nil {
			return nil, err
		}
	}
	if opts.Dir == "" {
		if opts.Dir, err = RunDir(); err != nil {
			return nil, err
		}
	}
	if opts.AccessKey == "" {
		opts.AccessKey = DefaultAccessKey
	}
	if opts.SecretKey == "" {
		opts.SecretKey = DefaultSecretKey
	}
	if opts.LogLevel == "" {
		opts.LogLevel = "info"
	}
	e, err := localrun.StartEmulator(opts)
	if err != nil {
		return nil, err
	}
	return &Emulator{e}, nil
}

// MustEmulator starts an emulator and stops it when tb ends.
func MustEmulator(tb testing.TB, opts EmulatorOptions) *Emulator {
	tb.Helper()
	e, err := StartEmulator(opts)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { _ = e.Stop() })
	return e
}
