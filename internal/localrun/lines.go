package localrun

import (
	"context"
	"fmt"
	"regexp"
	"sync"
)

// maxKeptLines bounds the history a Lines keeps for late waiters; a process
// that logs a lot must not grow run-local's memory without end.
const maxKeptLines = 5000

// Lines fans out the lines of a process's output to waiters. A waiter that
// arrives after the line was written still finds it in the kept history, so
// callers need not race the process.
type Lines struct {
	mu      sync.Mutex
	history []string
	dropped int
	closed  bool
	changed chan struct{} // closed and replaced on every new line or on close
}

// NewLines returns an empty, open Lines.
func NewLines() *Lines {
	return &Lines{changed: make(chan struct{})}
}

// Add records one line and wakes the waiters.
func (l *Lines) Add(line string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.history) == maxKeptLines {
		l.history = l.history[1:]
		l.dropped++
	}
	l.history = append(l.history, line)
	close(l.changed)
	l.changed = make(chan struct{})
}

// Close says no more lines will come (the process ended), so waiters stop.
func (l *Lines) Close() {
	l.mu.Lock()
	defer l.mu.Unlock()
	if !l.closed {
		l.closed = true
		close(l.changed)
	}
}

// Snapshot returns a copy of the kept lines.
func (l *Lines) Snapshot() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]string(nil), l.history...)
}

// ErrNoMatch is returned by Wait when the output ended without a match.
var ErrNoMatch = fmt.Errorf("output ended without a matching line")

// Wait returns the submatches of the first line, old or new, that re matches.
// It returns ErrNoMatch when the output ends first, and ctx's error when ctx
// is done first.
func (l *Lines) Wait(ctx context.Context, re *regexp.Regexp) ([]string, error) {
	seen := 0
	for {
		l.mu.Lock()
		// Lines dropped from the front shift the indexes; restart from the
		// oldest kept line rather than skip any.
		start := seen - l.dropped
		if start < 0 {
			start = 0
		}
		for _, line := range l.history[start:] {
			if m := re.FindStringSubmatch(line); m != nil {
				l.mu.Unlock()
				return m, nil
			}
		}
		seen = l.dropped + len(l.history)
		closed, changed := l.closed, l.changed
		l.mu.Unlock()
		if closed {
			return nil, ErrNoMatch
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-changed:
		}
	}
}
