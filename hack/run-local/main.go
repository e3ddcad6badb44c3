// Command run-local runs the whole operator on one machine: etcd and
// kube-apiserver (envtest), the SDRS emulator seeded with demo groups, the
// manager, and config/samples. It writes .local/kubeconfig and
// .local/emulator.env, prints "run-local: ready" and what to type next, and
// stays in the foreground until SIGINT or SIGTERM, then stops everything it
// started and exits 0. `make run-local` builds the binaries and runs it.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/sdrs-operator/sdrs-operator/internal/localrun"
)

// readyLine is printed once everything is up; tests and scripts wait for it.
const readyLine = "run-local: ready"

type options struct {
	dir          string        // state directory, .local by default
	binDir       string        // where manager and sdrs-emulator are
	sdrsPort     int           // emulator SDRS listener (0: any free port)
	ecsPort      int           // emulator ECS listener (0: any free port)
	jobDuration  time.Duration // how long each emulated SDRS/ECS job runs
	syncDuration time.Duration // how long replication takes to become active
	emuProfile   string        // emulator --profile (default or pessimistic)
	groupsReady  time.Duration // how long to wait for the samples to be Ready
	grace        time.Duration // SIGTERM-to-SIGKILL grace for each child
	managerRBAC  string        // "generated" (config/rbac/role.yaml) or "admin"
	managerArgs  stringList    // extra manager flags
}

type stringList []string

func (s *stringList) String() string     { return fmt.Sprint(*s) }
func (s *stringList) Set(v string) error { *s = append(*s, v); return nil }

// internalFlags are set by hack/run-local.sh, the Makefile or the tests.
// They work, but --help does not list them: a person starting the tour
// never needs them. docs/run-local.md describes every flag.
var internalFlags = map[string]bool{"bin-dir": true, "groups-ready-timeout": true, "grace": true, "manager-rbac": true}

func main() {
	// Its own flag set: flag.CommandLine also holds flags that imported
	// packages register (controller-runtime's --kubeconfig), which mean
	// nothing here.
	o, err := parseFlags(flag.NewFlagSet("run-local", flag.ExitOnError), os.Args[1:])
	if err != nil {
		fmt.Fprintf(os.Stderr, "run-local: %v\n", err)
		os.Exit(2)
	}
	os.Exit(run(o))
}

// parseFlags parses args into options. With flag.ExitOnError, as main
// uses it, a bad flag or --help exits in Parse.
func parseFlags(fs *flag.FlagSet, args []string) (options, error) {
	var o options
	fs.StringVar(&o.dir, "dir", ".local", "Directory for the kubeconfig, emulator.env, state and logs of this run.")
	fs.StringVar(&o.binDir, "bin-dir", "bin", "Directory with the manager and sdrs-emulator binaries (`make build`).")
	fs.IntVar(&o.sdrsPort, "sdrs-port", 8780, "Port of the emulator's SDRS API on 127.0.0.1 (0 picks a free one).")
	fs.IntVar(&o.ecsPort, "ecs-port", 8781, "Port of the emulator's ECS API on 127.0.0.1 (0 picks a free one).")
	fs.DurationVar(&o.jobDuration, "job-duration", 5*time.Second, "How long each emulated SDRS and ECS job runs.")
	fs.DurationVar(&o.syncDuration, "sync-duration", 5*time.Second, "How long emulated replication takes to become active again.")
	fs.StringVar(&o.emuProfile, "emulator-profile", "default", "The emulator's --profile: \"default\", or \"pessimistic\" (only what the SDRS documentation promises; see docs/emulator.md).")
	fs.DurationVar(&o.groupsReady, "groups-ready-timeout", 3*time.Minute, "How long to wait for the sample ProtectionGroups to become Ready (0: do not wait).")
	fs.DurationVar(&o.grace, "grace", 10*time.Second, "How long each child may take to stop after SIGTERM before it is killed.")
	fs.StringVar(&o.managerRBAC, "manager-rbac", "generated", "Permissions of the manager: \"generated\" binds config/rbac/role.yaml (what a real install grants), \"admin\" uses system:masters.")
	fs.Var(&o.managerArgs, "manager-arg", "Extra flag for the manager, repeatable (for example --manager-arg=--zap-log-level=debug).")
	fs.Usage = func() { usage(fs) }
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	if fs.NArg() > 0 {
		return o, fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	return o, nil
}

// usage prints the flags a person running the tour may want.
func usage(fs *flag.FlagSet) {
	w := fs.Output()
	fmt.Fprintf(w, "Usage: hack/run-local.sh [flags]   (or: make run-local RUN_LOCAL_ARGS=\"[flags]\")\n\n"+
		"Runs the operator against a local kube-apiserver and the SDRS emulator, applies\n"+
		"config/samples, prints what to type next and stays in the foreground until Ctrl-C.\n\nFlags:\n")
	fs.VisitAll(func(f *flag.Flag) {
		if internalFlags[f.Name] {
			return
		}
		name, help := flag.UnquoteUsage(f)
		fmt.Fprintf(w, "  --%s %s\n    \t%s", f.Name, name, help)
		if f.DefValue != "" && f.DefValue != "[]" {
			fmt.Fprintf(w, " (default %s)", f.DefValue)
		}
		fmt.Fprintln(w)
	})
	fmt.Fprintf(w, "\ndocs/run-local.md describes the files it writes and every flag.\n")
}

// run returns the exit code: 0 after an interrupt, 1 when setup fails or a
// child dies on its own. Every path stops everything that was started.
func run(o options) int {
	console := localrun.NewSyncWriter(os.Stdout)
	log := newLogger(console, "[run-local] ")

	sigs := make(chan os.Signal, 2)
	signal.Notify(sigs, syscall.SIGINT, syscall.SIGTERM)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()

	td := newTeardown(o.grace)
	go func() {
		sig := <-sigs
		log.Printf("%s received: stopping everything (send it again to kill at once)", signalName(sig))
		cancel()
		<-sigs
		log.Printf("second signal: killing what is left")
		td.hurry()
	}()

	s, err := start(ctx, o, console, log, td)
	if err != nil {
		interrupted := ctx.Err() != nil
		if !interrupted {
			log.Printf("error: %v", err)
		}
		td.run()
		if interrupted {
			log.Printf("stopped")
			return 0
		}
		return 1
	}

	code := 0
	select {
	case <-ctx.Done():
	case p := <-s.childExited:
		log.Printf("error: %s exited on its own (%v); its log is %s", p.Name(), p.Err(), s.logPath(p.Name()))
		code = 1
	}
	td.run()
	log.Printf("stopped; nothing left running")
	log.Printf("%s", unsetHint)
	return code
}

func signalName(s os.Signal) string {
	switch s {
	case syscall.SIGINT:
		return "SIGINT"
	case syscall.SIGTERM:
		return "SIGTERM"
	}
	return s.String()
}
