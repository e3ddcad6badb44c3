package emulator

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
)

// loadState reads a state file; a missing or empty file means a fresh
// start (nil state).
func loadState(path string) (*state, error) {
	data, err := os.ReadFile(path)
	if os.IsNotExist(err) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("emulator: read state file: %w", err)
	}
	if len(data) == 0 {
		return nil, nil
	}
	st := newState()
	if err := json.Unmarshal(data, st); err != nil {
		return nil, fmt.Errorf("emulator: parse state file %s: %w", path, err)
	}
	st.fillNil()
	for i := range st.Calls {
		// Files written before the call log had "applied".
		if c := &st.Calls[i]; c.StatusCode >= 200 && c.StatusCode < 300 {
			c.Applied = true
		}
	}
	for i := range st.AcceptErrors {
		if err := st.AcceptErrors[i].validate(); err != nil {
			return nil, fmt.Errorf("emulator: state file %s: accept errors: %w", path, err)
		}
	}
	if st.HTTPFaults != nil {
		if err := st.HTTPFaults.validate(); err != nil {
			return nil, fmt.Errorf("emulator: state file %s: http faults: %w", path, err)
		}
	}
	return st, nil
}

// saveLocked writes the whole state atomically: a temporary file in the
// same directory, fsync, rename, fsync of the directory. A crash leaves
// either the old or the new file, never a torn one. Caller holds e.mu.
func (e *Emulator) saveLocked() error {
	if e.cfg.StateFile == "" {
		return nil
	}
	e.st.Calls = e.recentCalls()
	data, err := json.Marshal(e.st)
	if err != nil {
		e.log.Error("encode state", "error", err)
		return err
	}
	if err := writeFileAtomic(e.cfg.StateFile, data); err != nil {
		e.log.Error("save state", "file", e.cfg.StateFile, "error", err)
		return err
	}
	return nil
}

func writeFileAtomic(path string, data []byte) error {
	dir := filepath.Dir(path)
	tmp, err := os.CreateTemp(dir, filepath.Base(path)+".tmp-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name()) // no-op after a successful rename
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return err
	}
	if d, err := os.Open(dir); err == nil {
		_ = d.Sync()
		d.Close()
	}
	return nil
}
