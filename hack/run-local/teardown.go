package main

import (
	"sync"
	"syscall"
	"time"

	"github.com/sdrs-operator/sdrs-operator/internal/localrun"
)

// teardown stops what start brought up, in reverse order: the manager
// before the emulator and the API server it talks to, so it never logs a
// storm of connection errors on the way down.
type teardown struct {
	mu        sync.Mutex
	grace     time.Duration
	steps     []func(grace time.Duration)
	processes []*localrun.Process
}

func newTeardown(grace time.Duration) *teardown { return &teardown{grace: grace} }

// push adds a step; it runs before every step pushed earlier.
func (t *teardown) push(step func(grace time.Duration)) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.steps = append(t.steps, step)
}

// pushProcess stops p with the grace period and lets hurry kill it.
func (t *teardown) pushProcess(p *localrun.Process, log *logger) {
	t.mu.Lock()
	t.processes = append(t.processes, p)
	t.mu.Unlock()
	t.push(func(grace time.Duration) {
		log.Printf("stopping %s (pid %d)", p.Name(), p.Pid())
		if err := p.Stop(grace); err != nil {
			log.Printf("%v", err)
		}
	})
}

// hurry is the answer to a second Ctrl-C: no more grace, and every child
// process group gets SIGKILL now, even one a step is already waiting on.
func (t *teardown) hurry() {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.grace = 0
	for _, p := range t.processes {
		_ = syscall.Kill(-p.Pid(), syscall.SIGKILL)
	}
}

// run runs the steps, newest first, once.
func (t *teardown) run() {
	for {
		t.mu.Lock()
		if len(t.steps) == 0 {
			t.mu.Unlock()
			return
		}
		step := t.steps[len(t.steps)-1]
		t.steps = t.steps[:len(t.steps)-1]
		grace := t.grace
		t.mu.Unlock()
		step(grace)
	}
}
