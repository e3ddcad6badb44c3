// Package emulator is a local stand-in for Huawei Cloud SDRS v1 (and the
// ECS calls that power servers on and off), faithful enough that the
// official Go SDK cannot tell it from the service: same paths, bodies,
// statuses, asynchronous jobs, error codes and AK/SK signature check. An
// unauthenticated /admin API seeds data and injects faults for tests.
package emulator

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"
)

// Default availability zones of seeded groups and of the active-active
// domain every emulator starts with.
const (
	DefaultSourceAZ    = "cn-north-4a"
	DefaultTargetAZ    = "cn-north-4b"
	defaultJobDuration = 3 * time.Second
)

// Profiles say how much of what the SDRS documentation leaves open the
// emulator does for its clients (docs/emulator.md, "Profiles").
const (
	// ProfileDefault: an accepted group action shows its transitional
	// status at once, a failed group job leaves the group error-*, a new
	// job is readable at once.
	ProfileDefault = "default"
	// ProfilePessimistic does what the documentation promises and no
	// more: an accepted group action takes effect only after AcceptLag
	// (its job INIT meanwhile, the group not busy, so a second action is
	// accepted too and re-checked when it leaves INIT), a failed group job
	// returns the group to the status it had before, and a new SDRS job
	// answers as unknown for JobNotFoundFor.
	ProfilePessimistic = "pessimistic"

	defaultAcceptLag      = 2 * time.Second
	defaultJobNotFoundFor = 2 * time.Second
)

// Profiles lists the valid Config.Profile values.
var Profiles = []string{ProfileDefault, ProfilePessimistic}

// Config configures an Emulator.
type Config struct {
	ProjectID, AccessKey, SecretKey string
	// JobDuration is how long each asynchronous job runs (INIT -> RUNNING
	// -> SUCCESS/FAIL); default 3s.
	JobDuration time.Duration
	// SyncDuration is how long replication takes from copying (progress
	// 0) to active (100); default JobDuration.
	SyncDuration time.Duration
	// StateFile, when set, holds the whole state: loaded at start (running
	// jobs resume) and rewritten atomically after every change.
	StateFile string
	// Clock drives jobs and replication; default the real clock.
	Clock Clock
	// Logger receives operational logs; default discards them.
	Logger *slog.Logger
	// MaxCalls bounds the call log (GET /admin/calls); the oldest entries
	// are dropped beyond it. Default 10000; benchmarks of thousands of
	// groups raise it.
	MaxCalls int
	// Profile is ProfileDefault ("" too) or ProfilePessimistic.
	Profile string
	// AcceptLag is how long an accepted group action (create, delete,
	// start, stop, reverse, failover) stays INIT without touching the
	// group in the pessimistic profile. Zero means the default 2s, a
	// negative value none. The default profile ignores it.
	AcceptLag time.Duration
	// JobNotFoundFor is how long a new SDRS job answers GET /jobs/{id} as
	// an unknown job in the pessimistic profile. Zero means the default
	// 2s, a negative value none. The default profile ignores it.
	JobNotFoundFor time.Duration
}

// Emulator is an in-memory SDRS (and ECS subset) with optional persistence.
type Emulator struct {
	cfg   Config
	clock Clock
	log   *slog.Logger

	sdrs *api
	ecs  *api

	// mu guards everything below; every request handler and timer
	// callback runs under it.
	mu           sync.Mutex
	st           *state
	timers       map[string]Timer
	closed       bool
	jobDuration  time.Duration
	syncDuration time.Duration
	faultRNG     *rand.Rand
	// profile, acceptLag and jobNotFoundFor apply to jobs created later;
	// each job records what it was created with.
	profile        string
	acceptLag      time.Duration
	jobNotFoundFor time.Duration
}

// New builds an emulator, loading Config.StateFile if it exists.
func New(cfg Config) (*Emulator, error) {
	if cfg.ProjectID == "" || cfg.AccessKey == "" || cfg.SecretKey == "" {
		return nil, errors.New("emulator: ProjectID, AccessKey and SecretKey are required")
	}
	if cfg.JobDuration <= 0 {
		cfg.JobDuration = defaultJobDuration
	}
	if cfg.SyncDuration <= 0 {
		cfg.SyncDuration = cfg.JobDuration
	}
	if cfg.Clock == nil {
		cfg.Clock = realClock{}
	}
	if cfg.MaxCalls <= 0 {
		cfg.MaxCalls = defaultMaxCalls
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if cfg.Profile == "" {
		cfg.Profile = ProfileDefault
	}
	if err := checkProfile(cfg.Profile); err != nil {
		return nil, fmt.Errorf("emulator: %w", err)
	}
	cfg.AcceptLag = durationOrDefault(cfg.AcceptLag, defaultAcceptLag)
	cfg.JobNotFoundFor = durationOrDefault(cfg.JobNotFoundFor, defaultJobNotFoundFor)
	e := &Emulator{
		cfg:          cfg,
		clock:        cfg.Clock,
		log:          cfg.Logger,
		sdrs:         &api{name: "sdrs", routes: sdrsRoutes()},
		ecs:          &api{name: "ecs", routes: ecsRoutes(), ecs: true},
		st:           newState(),
		timers:       map[string]Timer{},
		jobDuration:  cfg.JobDuration,
		syncDuration: cfg.SyncDuration,

		profile:        cfg.Profile,
		acceptLag:      cfg.AcceptLag,
		jobNotFoundFor: cfg.JobNotFoundFor,
	}
	if cfg.StateFile != "" {
		st, err := loadState(cfg.StateFile)
		if err != nil {
			return nil, err
		}
		if st != nil {
			e.st = st
		}
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	e.st.ensureDomain(DefaultSourceAZ, DefaultTargetAZ)
	e.resumeLocked()
	if err := e.saveLocked(); err != nil {
		return nil, err
	}
	return e, nil
}

// checkProfile refuses an unknown profile name.
func checkProfile(p string) error {
	if !slices.Contains(Profiles, p) {
		return fmt.Errorf("profile must be one of %v, not %q", Profiles, p)
	}
	return nil
}

// durationOrDefault reads a Config duration: zero is the default, a
// negative value none.
func durationOrDefault(d, def time.Duration) time.Duration {
	switch {
	case d == 0:
		return def
	case d < 0:
		return 0
	}
	return d
}

// resumeLocked re-arms the timers of unfinished jobs and replication syncs
// after a load: overdue ones finish at once. Jobs go in creation order, so
// two overdue actions on one group take effect in the order SDRS accepted
// them.
func (e *Emulator) resumeLocked() {
	for _, j := range sortedBySeq(e.st.Jobs) {
		e.scheduleJob(j)
	}
	for _, g := range e.st.Groups {
		if g.Replication.Status == replCopying {
			e.scheduleSync(g)
		}
	}
}

// SDRSHandler serves the SDRS v1 API and, under /admin/, the test-only
// admin API.
func (e *Emulator) SDRSHandler() http.Handler {
	admin := e.adminHandler()
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/admin" || strings.HasPrefix(r.URL.Path, "/admin/") {
			admin.ServeHTTP(w, r)
			return
		}
		e.serveAPI(e.sdrs, w, r)
	})
}

// ECSHandler serves the ECS subset (ShowServer, BatchStopServers,
// BatchStartServers, ShowJob). It needs its own listener because ECS jobs
// use the same path as SDRS jobs.
func (e *Emulator) ECSHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		e.serveAPI(e.ecs, w, r)
	})
}

// Close stops all timers and writes the state a last time. Jobs still
// running stay RUNNING in the state file and resume in the next emulator.
func (e *Emulator) Close() error {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.closed {
		return nil
	}
	e.closed = true
	for name, t := range e.timers {
		t.Stop()
		delete(e.timers, name)
	}
	return e.saveLocked()
}

// Seed creates groups, instances, servers and replication pairs at once,
// as POST /admin/seed does.
func (e *Emulator) Seed(s SeedSpec) (SeedResult, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	res, err := e.seedLocked(s)
	if err != nil {
		return SeedResult{}, err
	}
	return res, e.saveLocked()
}
