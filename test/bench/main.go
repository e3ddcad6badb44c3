// Command bench measures the operator at fleet scale: N protected groups
// flipped at once (issue 6), against runbooks that call the SDK group by
// group, and writes docs/performance.md. `make bench` runs it; every flag
// has a default that reproduces the committed report.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"log"
	"os"
	"os/signal"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/go-logr/logr"
	ctrllog "sigs.k8s.io/controller-runtime/pkg/log"

	"github.com/sdrs-operator/sdrs-operator/internal/localrun"
	"github.com/sdrs-operator/sdrs-operator/test/e2e/harness"
)

// runOptions are the flags.
type runOptions struct {
	Sizes          []int
	JobDuration    time.Duration
	CallsPerSecond int
	Burst          int
	SeedBatch      int
	Workers        int
	ManagerArgs    []string
	ReadyTimeout   time.Duration
	IdleSync       time.Duration
	IdleWindow     time.Duration
	IdleDefaultN   int
	IdleDefault    time.Duration
	SerialGroups   int
	ParallelGroups int
	Parallel       int
	// Unbounded runs the SDK script with every group's action at once
	// over all N, beside the serial and parallel runbooks.
	Unbounded bool
	// PeersOnly runs only the runbooks (no operator), at Sizes, and
	// rewrites only the peers section of the report.
	PeersOnly   bool
	RunbookPoll time.Duration
	RateN       int
	Rate        int
	RateBurst   int
	Out         string
	JSON        string
	PprofDir    string
	PprofFor    time.Duration
	// JobIDRun and PerGroupRun add the extra runs with those manager
	// flags.
	JobIDRun, PerGroupRun bool
	// Extra fleet runs at ExtraN, each beside the main table: longer
	// jobs, and other reconcile concurrencies.
	ExtraN          int
	LongJobDuration time.Duration
	SweepConcurrent []int
	SweepLatency    time.Duration
	// The DRPlan part: per N of PlanSizes, one plan run per wave count
	// of PlanWaves, beside the flat flip at that N. PlanOnly runs it
	// alone and rewrites only its section of the report.
	PlanSizes         []int
	PlanWaves         []int
	PlanMaxConcurrent int
	PlanOnly          bool
}

func main() {
	var o runOptions
	var sizes, mgrArgs string
	flag.StringVar(&sizes, "sizes", "100,1000,5000,10000", "fleet sizes N, comma-separated")
	flag.DurationVar(&o.JobDuration, "job-duration", 5*time.Second, "D: how long every SDRS job takes in the emulator")
	flag.IntVar(&o.CallsPerSecond, "calls-per-second", 1000, "the ProviderConfig's rate limit in the fleet runs (the API's maximum is 1000)")
	flag.IntVar(&o.Burst, "burst", 1000, "the ProviderConfig's burst in the fleet runs")
	flag.IntVar(&o.SeedBatch, "seed-batch", 500, "groups per POST /admin/seed")
	flag.IntVar(&o.Workers, "workers", 64, "parallel clients creating and flipping ProtectionGroups")
	flag.StringVar(&mgrArgs, "manager-args", "", "extra manager flags, space-separated (e.g. \"--kube-api-qps=100\")")
	flag.DurationVar(&o.ReadyTimeout, "ready-timeout", 20*time.Minute, "how long to wait for all groups to be Ready")
	flag.DurationVar(&o.IdleSync, "idle-sync-interval", 20*time.Second, "the shortened syncInterval of the idle measurement (at least 10ms per group)")
	flag.DurationVar(&o.IdleWindow, "idle-window", 60*time.Second, "the idle measurement's window, at least two syncIntervals (0 skips it)")
	flag.IntVar(&o.IdleDefaultN, "idle-default-n", 100, "the N whose idle state is also measured at the default syncInterval")
	flag.DurationVar(&o.IdleDefault, "idle-default-window", 5*time.Minute+30*time.Second, "window at the default syncInterval (0 skips it)")
	flag.IntVar(&o.SerialGroups, "serial-groups", 30, "groups the serial runbook flips (scaled to N; 0 skips it)")
	flag.IntVar(&o.ParallelGroups, "parallel-groups", 1000, "groups the parallel runbook flips at most (scaled to N; 0 skips it)")
	flag.IntVar(&o.Parallel, "parallel", 20, "the parallel runbook's parallelism")
	flag.BoolVar(&o.Unbounded, "unbounded", true, "also run the SDK script with unbounded parallelism: every group's action at once, over all N")
	flag.BoolVar(&o.PeersOnly, "peers-only", false, "run only the runbooks without the operator at -sizes and rewrite only their section of the report (the operator's flip times come from the report's main table)")
	flag.DurationVar(&o.RunbookPoll, "runbook-poll", 5*time.Second, "the runbooks' job poll interval")
	flag.IntVar(&o.RateN, "rate-n", 300, "N of the tight rate-limit run (0 skips it)")
	flag.IntVar(&o.Rate, "rate", 20, "calls per second of the tight rate-limit run")
	flag.IntVar(&o.RateBurst, "rate-burst", 20, "burst of the tight rate-limit run")
	flag.StringVar(&o.Out, "out", "docs/performance.md", "the report to write (relative to the repository root)")
	flag.StringVar(&o.JSON, "json", "", "also write the raw results as JSON to this file")
	flag.StringVar(&o.PprofDir, "pprof-dir", "", "save CPU profiles of kube-apiserver and the manager during each flip here; the report then says where the manager's CPU goes")
	flag.DurationVar(&o.PprofFor, "pprof-seconds", 30*time.Second, "how long each profile of -pprof-dir runs from the flip's start")
	var sweep string
	flag.IntVar(&o.ExtraN, "extra-n", 1000, "N of the extra runs (longer jobs, concurrency sweep; 0 skips them)")
	flag.DurationVar(&o.LongJobDuration, "long-job-duration", 30*time.Second, "D of the extra run with longer jobs (0 skips it)")
	flag.BoolVar(&o.JobIDRun, "job-id-run", true, "an extra run with the job ID written with the result (--record-job-id-after=1m), the earlier default")
	flag.BoolVar(&o.PerGroupRun, "per-group-run", true, "an extra run with per-group metric series (--metrics-per-group), to show what they cost")
	flag.StringVar(&sweep, "sweep-concurrency", "4,16,64", "--max-concurrent-reconciles values of the extra runs, with -sweep-latency on every SDRS call (empty skips them)")
	flag.DurationVar(&o.SweepLatency, "sweep-latency", 100*time.Millisecond, "latency the emulator adds to every SDRS and ECS answer in the concurrency sweep, as a real region's round trip")
	var planSizes, planWaves string
	flag.StringVar(&planSizes, "plan-sizes", "1000", "N of the DRPlan runs, comma-separated (empty skips them)")
	flag.StringVar(&planWaves, "plan-waves", "1,3", "waves of each DRPlan run (N/k groups each), comma-separated: one run per value")
	flag.IntVar(&o.PlanMaxConcurrent, "plan-max-concurrent", 100, "maxConcurrent of every wave of the DRPlan runs")
	flag.BoolVar(&o.PlanOnly, "plan-only", false, "run only the DRPlan part (with the flat flip at its N) and rewrite only its section of the report")
	flag.Parse()
	o.Sizes = positiveInts("-sizes", sizes)
	o.PlanSizes = positiveInts("-plan-sizes", planSizes)
	o.PlanWaves = positiveInts("-plan-waves", planWaves)
	if o.PlanMaxConcurrent < 1 {
		log.Fatalf("-plan-max-concurrent: want at least 1")
	}
	if o.PlanOnly && o.PeersOnly {
		log.Fatalf("-plan-only and -peers-only each rewrite one section: run them one after the other")
	}
	if o.PlanOnly {
		if len(o.PlanSizes) == 0 || len(o.PlanWaves) == 0 {
			log.Fatalf("-plan-only needs -plan-sizes and -plan-waves")
		}
		o.Sizes, o.ExtraN, o.RateN = nil, 0, 0
	}
	if o.PeersOnly {
		if len(o.Sizes) == 0 {
			log.Fatalf("-peers-only needs -sizes")
		}
		o.ExtraN, o.RateN, o.PlanSizes = 0, 0, nil
	}
	o.ManagerArgs = strings.Fields(mgrArgs)
	for _, s := range strings.Split(sweep, ",") {
		if s = strings.TrimSpace(s); s == "" {
			continue
		}
		c, err := strconv.Atoi(s)
		if err != nil || c < 1 {
			log.Fatalf("-sweep-concurrency: bad value %q", s)
		}
		o.SweepConcurrent = append(o.SweepConcurrent, c)
	}
	ctrllog.SetLogger(logr.Discard()) // envtest's own chatter; every process logs to the run directory

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	root, err := localrun.RepoRoot()
	if err != nil {
		log.Fatal(err)
	}
	if _, _, err := harness.Binaries(); err != nil {
		log.Fatal(err)
	}
	run := &benchRun{Command: commandLine(), Commit: gitHead(), Started: time.Now(), Machine: machineDescription(), Opts: o}
	if dir, err := harness.RunDir(); err == nil {
		log.Printf("logs of every process in %s", dir)
	}
	out := o.Out
	if !filepath.IsAbs(out) {
		out = filepath.Join(root, out)
	}
	if o.PeersOnly {
		existing, _ := os.ReadFile(out)
		run.EarlierFlip = parseEarlierFlip(string(existing))
		if run.EarlierFlip == nil {
			log.Printf("the report %s has no main table: the peers are reported without the operator's flip times", out)
		} else if !run.EarlierFlip.comparable(o) {
			log.Printf("the report's main table ran with D = %s and %s, this run with D = %s and %d calls/s, burst %d: no ratios",
				run.EarlierFlip.JobDuration, run.EarlierFlip.RateLimit, o.JobDuration, o.CallsPerSecond, o.Burst)
		}
	}
	write := func() {
		run.Took = time.Since(run.Started)
		existing, _ := os.ReadFile(out)
		if err := os.WriteFile(out, []byte(run.document(string(existing))), 0o644); err != nil {
			log.Printf("cannot write %s: %v", out, err)
		} else {
			log.Printf("wrote %s", out)
		}
		if o.JSON != "" {
			b, _ := json.MarshalIndent(run, "", "  ")
			_ = os.WriteFile(o.JSON, b, 0o644)
		}
	}
	failed := false
	for _, n := range o.Sizes {
		fo := fleetOptions{
			n: n, jobDuration: o.JobDuration, callsPerSecond: int32(o.CallsPerSecond), burst: int32(o.Burst),
			seedBatch: o.SeedBatch, workers: o.Workers, managerArgs: o.ManagerArgs, readyTimeout: o.ReadyTimeout,
			idleSync: o.IdleSync, idleWindow: o.IdleWindow,
			pprofDir:     o.PprofDir,
			pprofFor:     o.PprofFor,
			serialGroups: o.SerialGroups, parallelGroups: o.ParallelGroups, parallel: o.Parallel, runbookPoll: o.RunbookPoll,
			unbounded: o.Unbounded,
		}
		if n == o.IdleDefaultN {
			fo.idleDefault = o.IdleDefault
		}
		var res *scenarioResult
		var err error
		if o.PeersOnly {
			res, err = runPeersOnly(ctx, fo)
			if res != nil {
				run.earlierFlipInto(res)
			}
		} else {
			res, err = runScenario(ctx, fo)
		}
		if res != nil {
			run.Scenarios = append(run.Scenarios, res)
		}
		if err != nil {
			log.Printf("N=%d: %v", n, err)
			run.Errors = append(run.Errors, fmt.Sprintf("N=%d: %v", n, err))
			failed = true
			if ctx.Err() != nil {
				break
			}
		}
		write()
	}
	for _, x := range extraRuns(o) {
		if ctx.Err() != nil {
			break
		}
		log.Printf("extra run: %s", x.Label)
		res, err := runScenario(ctx, x.opts)
		if res != nil {
			run.Extra = append(run.Extra, &extraRun{Label: x.Label, Args: x.opts.managerArgs, Result: res})
		}
		if err != nil {
			log.Printf("%s: %v", x.Label, err)
			run.Errors = append(run.Errors, fmt.Sprintf("%s: %v", x.Label, err))
			failed = true
		}
		write()
	}
	if o.RateN > 0 && ctx.Err() == nil {
		fo := fleetOptions{n: o.RateN, jobDuration: o.JobDuration, seedBatch: o.SeedBatch, workers: o.Workers,
			managerArgs: o.ManagerArgs, readyTimeout: o.ReadyTimeout}
		r, err := runRateLimited(ctx, fo, int32(o.Rate), int32(o.RateBurst))
		if err != nil {
			log.Printf("rate limit: %v", err)
			run.Errors = append(run.Errors, fmt.Sprintf("rate limit: %v", err))
			failed = true
		}
		run.Rate = r
	}
	if len(o.PlanSizes) > 0 && len(o.PlanWaves) > 0 && ctx.Err() == nil {
		if planRuns(ctx, o, run, write) {
			failed = true
		}
	}
	sort.SliceStable(run.Scenarios, func(i, j int) bool { return run.Scenarios[i].Fleet.N < run.Scenarios[j].Fleet.N })
	write()
	if failed {
		os.Exit(1)
	}
}

// extraRuns are the fleet runs beside the main table: the same flip at
// ExtraN with longer jobs, and with other reconcile concurrencies.
func extraRuns(o runOptions) []struct {
	Label string
	opts  fleetOptions
} {
	var out []struct {
		Label string
		opts  fleetOptions
	}
	if o.ExtraN <= 0 {
		return nil
	}
	base := fleetOptions{
		n: o.ExtraN, jobDuration: o.JobDuration, callsPerSecond: int32(o.CallsPerSecond), burst: int32(o.Burst),
		seedBatch: o.SeedBatch, workers: o.Workers, managerArgs: o.ManagerArgs, readyTimeout: o.ReadyTimeout,
	}
	add := func(label string, f fleetOptions) {
		out = append(out, struct {
			Label string
			opts  fleetOptions
		}{label, f})
	}
	if o.LongJobDuration > 0 {
		l := base
		l.jobDuration = o.LongJobDuration
		add(fmt.Sprintf("D = %s", o.LongJobDuration), l)
	}
	// The earlier write path, for comparison: the job ID kept in memory
	// and written with the result, one status write fewer per failover,
	// at the price of recovering a crash inside the job from the group's
	// status alone. The difference is the cost of the exactly-once rule.
	if o.JobIDRun {
		at := base
		at.managerArgs = append(append([]string{}, o.ManagerArgs...), "--record-job-id-after=1m")
		add("job ID written with the result (earlier default)", at)
	}
	if o.PerGroupRun {
		// What the per-group series cost: memory, CPU and the scrape.
		pg := base
		pg.managerArgs = append(append([]string{}, o.ManagerArgs...), "--metrics-per-group")
		add("per-group metric series", pg)
	}
	for _, c := range o.SweepConcurrent {
		s := base
		s.sdrsLatency = o.SweepLatency
		s.managerArgs = append(append([]string{}, o.ManagerArgs...), fmt.Sprintf("--max-concurrent-reconciles=%d", c))
		add(fmt.Sprintf("%s SDRS latency, %d reconciles", o.SweepLatency, c), s)
	}
	return out
}

// commandLine is how to run this again: make bench when the flags are the
// defaults, else the go run line.
func commandLine() string {
	args := os.Args[1:]
	var keep []string
	for i := 0; i < len(args); i++ {
		a := args[i]
		// -out and -json only say where to write.
		if strings.HasPrefix(a, "-out") || strings.HasPrefix(a, "--out") || strings.HasPrefix(a, "-json") || strings.HasPrefix(a, "--json") || strings.HasPrefix(a, "-pprof-dir") || strings.HasPrefix(a, "--pprof-dir") {
			if !strings.Contains(a, "=") {
				i++
			}
			continue
		}
		keep = append(keep, strconv.Quote(a))
	}
	if len(keep) == 0 {
		return "make bench"
	}
	return "make bench BENCH_ARGS='" + strings.Join(unquote(keep), " ") + "'"
}

// positiveInts parses a comma-separated list of positive integers.
func positiveInts(name, list string) []int {
	var out []int
	for _, s := range strings.Split(list, ",") {
		if s = strings.TrimSpace(s); s == "" {
			continue
		}
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 {
			log.Fatalf("%s: bad value %q", name, s)
		}
		out = append(out, n)
	}
	return out
}

func unquote(qs []string) []string {
	out := make([]string, len(qs))
	for i, q := range qs {
		s, err := strconv.Unquote(q)
		if err != nil {
			s = q
		}
		if strings.ContainsAny(s, " \"'") {
			s = strconv.Quote(s)
		}
		out[i] = s
	}
	return out
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
