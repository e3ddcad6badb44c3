// Command sdrs-emulator serves a local Huawei Cloud SDRS v1 API (and the ECS
// power subset on a second address) for development and tests. See
// docs/emulator.md.
package main

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"slices"
	"syscall"
	"time"

	"github.com/sdrs-operator/sdrs-operator/internal/emulator"
)

type options struct {
	listen, ecsListen               string
	projectID, accessKey, secretKey string
	jobDuration, syncDuration       time.Duration
	stateFile, seedFile             string
	logLevel                        string
	tlsCert, tlsKey                 string
	maxCalls                        int
	profile                         string
	acceptLag, jobNotFoundFor       time.Duration
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "sdrs-emulator:", err)
		os.Exit(1)
	}
}

func parseFlags(args []string) (options, error) {
	var o options
	fs := flag.NewFlagSet("sdrs-emulator", flag.ContinueOnError)
	fs.StringVar(&o.listen, "listen", "127.0.0.1:8780", "address of the SDRS API and /admin (port 0 picks a free port)")
	fs.StringVar(&o.ecsListen, "ecs-listen", "127.0.0.1:8781", "address of the ECS API subset (port 0 picks a free port)")
	fs.StringVar(&o.projectID, "project-id", "0123456789abcdef0123456789abcdef", "project ID the emulator serves")
	fs.StringVar(&o.accessKey, "access-key", os.Getenv("SDRS_ACCESS_KEY"), "access key clients must sign with (default $SDRS_ACCESS_KEY)")
	fs.StringVar(&o.secretKey, "secret-key", "", "secret key clients must sign with (default $SDRS_SECRET_KEY)")
	fs.DurationVar(&o.jobDuration, "job-duration", 3*time.Second, "how long each asynchronous job runs")
	fs.DurationVar(&o.syncDuration, "sync-duration", 0, "how long replication takes from copying to active (default: job duration)")
	fs.StringVar(&o.stateFile, "state-file", "", "file holding the state across restarts (empty: in memory only)")
	fs.StringVar(&o.seedFile, "seed", "", "JSON seed (as POST /admin/seed) applied when the state file is new or empty")
	fs.StringVar(&o.logLevel, "log-level", "info", "debug, info, warn or error")
	fs.StringVar(&o.tlsCert, "tls-cert", "", "PEM certificate file: serve both listeners over HTTPS (with --tls-key)")
	fs.StringVar(&o.tlsKey, "tls-key", "", "PEM private key file of --tls-cert")
	fs.IntVar(&o.maxCalls, "max-calls", 10000, "how many calls GET /admin/calls keeps (the oldest are dropped)")
	fs.StringVar(&o.profile, "profile", emulator.ProfileDefault, "default or pessimistic: how much of what the SDRS documentation leaves open the emulator does (docs/emulator.md, Profiles)")
	fs.DurationVar(&o.acceptLag, "accept-lag", 2*time.Second, "pessimistic profile: how long an accepted group action stays INIT before it touches the group (0: none)")
	fs.DurationVar(&o.jobNotFoundFor, "job-not-found-for", 2*time.Second, "pessimistic profile: how long a new SDRS job answers as an unknown job (0: none)")
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	// The secret is read from the environment when the flag is absent so
	// it need not appear in process listings.
	if o.secretKey == "" {
		o.secretKey = os.Getenv("SDRS_SECRET_KEY")
	}
	if o.accessKey == "" || o.secretKey == "" {
		return o, errors.New("an access key and a secret key are required (--access-key/--secret-key or SDRS_ACCESS_KEY/SDRS_SECRET_KEY)")
	}
	if o.syncDuration == 0 {
		o.syncDuration = o.jobDuration
	}
	if (o.tlsCert == "") != (o.tlsKey == "") {
		return o, errors.New("--tls-cert and --tls-key go together")
	}
	if !slices.Contains(emulator.Profiles, o.profile) {
		return o, fmt.Errorf("--profile must be one of %v, not %q", emulator.Profiles, o.profile)
	}
	if o.acceptLag < 0 || o.jobNotFoundFor < 0 {
		return o, errors.New("--accept-lag and --job-not-found-for must not be negative")
	}
	return o, nil
}

// run serves until ctx ends (SIGINT/SIGTERM in main), then shuts down
// gracefully. Logs go to logOut.
func run(ctx context.Context, args []string, logOut io.Writer) error {
	o, err := parseFlags(args)
	if err != nil {
		return err
	}
	var level slog.Level
	if err := level.UnmarshalText([]byte(o.logLevel)); err != nil {
		return fmt.Errorf("--log-level: %w", err)
	}
	log := slog.New(slog.NewTextHandler(logOut, &slog.HandlerOptions{Level: level}))

	fresh := o.stateFile == ""
	if !fresh {
		st, err := os.Stat(o.stateFile)
		fresh = errors.Is(err, os.ErrNotExist) || (err == nil && st.Size() == 0)
	}
	emu, err := emulator.New(emulator.Config{
		ProjectID:    o.projectID,
		AccessKey:    o.accessKey,
		SecretKey:    o.secretKey,
		JobDuration:  o.jobDuration,
		SyncDuration: o.syncDuration,
		StateFile:    o.stateFile,
		Logger:       log,
		MaxCalls:     o.maxCalls,
		Profile:      o.profile,
		// The flags say 0 for none; Config says a negative value.
		AcceptLag:      noneIfZero(o.acceptLag),
		JobNotFoundFor: noneIfZero(o.jobNotFoundFor),
	})
	if err != nil {
		return err
	}
	defer emu.Close()
	if o.seedFile != "" && fresh {
		if err := seed(emu, o.seedFile, log); err != nil {
			return err
		}
	}

	sdrsLn, err := net.Listen("tcp", o.listen)
	if err != nil {
		return err
	}
	ecsLn, err := net.Listen("tcp", o.ecsListen)
	if err != nil {
		sdrsLn.Close()
		return err
	}
	servers := []*http.Server{
		{Handler: emu.SDRSHandler(), ReadHeaderTimeout: 10 * time.Second},
		{Handler: emu.ECSHandler(), ReadHeaderTimeout: 10 * time.Second},
	}
	if o.tlsCert != "" {
		cert, err := tls.LoadX509KeyPair(o.tlsCert, o.tlsKey)
		if err != nil {
			sdrsLn.Close()
			ecsLn.Close()
			return fmt.Errorf("--tls-cert/--tls-key: %w", err)
		}
		cfg := &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
		sdrsLn, ecsLn = tls.NewListener(sdrsLn, cfg), tls.NewListener(ecsLn, cfg)
	}
	log.Info("SDRS API listening", "addr", sdrsLn.Addr().String(), "project_id", o.projectID,
		"job_duration", o.jobDuration, "sync_duration", o.syncDuration, "state_file", o.stateFile, "tls", o.tlsCert != "",
		"profile", o.profile, "accept_lag", o.acceptLag, "job_not_found_for", o.jobNotFoundFor)
	log.Info("ECS API listening", "addr", ecsLn.Addr().String(), "tls", o.tlsCert != "")

	errc := make(chan error, 2)
	for i, ln := range []net.Listener{sdrsLn, ecsLn} {
		go func() { errc <- servers[i].Serve(ln) }()
	}
	select {
	case <-ctx.Done():
		log.Info("shutting down")
	case err := <-errc:
		if !errors.Is(err, http.ErrServerClosed) {
			log.Error("server failed", "error", err)
		}
	}
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	for _, s := range servers {
		_ = s.Shutdown(shutdownCtx)
	}
	return emu.Close()
}

// noneIfZero turns a flag's 0 ("none") into emulator.Config's negative
// duration (zero there means the default).
func noneIfZero(d time.Duration) time.Duration {
	if d == 0 {
		return -1
	}
	return d
}

func seed(emu *emulator.Emulator, path string, log *slog.Logger) error {
	data, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("--seed: %w", err)
	}
	var spec emulator.SeedSpec
	if err := json.Unmarshal(data, &spec); err != nil {
		return fmt.Errorf("--seed %s: %w", path, err)
	}
	res, err := emu.Seed(spec)
	if err != nil {
		return fmt.Errorf("--seed %s: %w", path, err)
	}
	for _, g := range res.Groups {
		log.Info("seeded protection group", "id", g.ID, "name", g.Name, "instances", len(g.Instances))
	}
	return nil
}
