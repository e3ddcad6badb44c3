package emulator

import (
	"sort"
	"sync"
	"time"
)

// Clock is the emulator's notion of time. Jobs and replication progress run
// on it, so tests can replace it with a FakeClock and move time by hand.
type Clock interface {
	Now() time.Time
	AfterFunc(d time.Duration, f func()) Timer
}

// Timer is a scheduled callback that can be cancelled.
type Timer interface {
	Stop() bool
}

type realClock struct{}

func (realClock) Now() time.Time { return time.Now() }

func (realClock) AfterFunc(d time.Duration, f func()) Timer { return time.AfterFunc(d, f) }

// FakeClock is a manually advanced Clock for deterministic tests. Callbacks
// due during Advance run synchronously, in due order, on the caller's
// goroutine. Start it near the real time: the SDK signs requests with the
// real time and the emulator rejects dates more than 15 minutes off.
type FakeClock struct {
	mu     sync.Mutex
	now    time.Time
	seq    int
	timers map[int]*fakeTimer
}

type fakeTimer struct {
	clock *FakeClock
	id    int
	due   time.Time
	f     func()
}

// NewFakeClock returns a FakeClock that reads start until advanced.
func NewFakeClock(start time.Time) *FakeClock {
	return &FakeClock{now: start, timers: map[int]*fakeTimer{}}
}

// Now returns the fake time.
func (c *FakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// AfterFunc schedules f at Now()+d.
func (c *FakeClock) AfterFunc(d time.Duration, f func()) Timer {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.seq++
	t := &fakeTimer{clock: c, id: c.seq, due: c.now.Add(d), f: f}
	c.timers[t.id] = t
	return t
}

// Advance moves the clock forward by d and runs every callback that falls
// due, including ones scheduled by earlier callbacks within the window.
func (c *FakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	end := c.now.Add(d)
	c.mu.Unlock()
	for {
		c.mu.Lock()
		next := c.nextDueLocked(end)
		if next == nil {
			c.now = end
			c.mu.Unlock()
			return
		}
		delete(c.timers, next.id)
		if next.due.After(c.now) {
			c.now = next.due
		}
		c.mu.Unlock()
		next.f()
	}
}

// Pending reports how many callbacks are scheduled and not yet run.
func (c *FakeClock) Pending() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.timers)
}

func (c *FakeClock) nextDueLocked(end time.Time) *fakeTimer {
	var due []*fakeTimer
	for _, t := range c.timers {
		if !t.due.After(end) {
			due = append(due, t)
		}
	}
	if len(due) == 0 {
		return nil
	}
	sort.Slice(due, func(i, j int) bool {
		if due[i].due.Equal(due[j].due) {
			return due[i].id < due[j].id
		}
		return due[i].due.Before(due[j].due)
	})
	return due[0]
}

func (t *fakeTimer) Stop() bool {
	t.clock.mu.Lock()
	defer t.clock.mu.Unlock()
	_, ok := t.clock.timers[t.id]
	delete(t.clock.timers, t.id)
	return ok
}
