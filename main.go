/*
Copyright 2026 The sdrs-operator Authors.

Licensed under the Apache License, Version 2.0 (the "License");
you may not use this file except in compliance with the License.
You may obtain a copy of the License at

    http://www.apache.org/licenses/LICENSE-2.0

Unless required by applicable law or agreed to in writing, software
distributed under the License is distributed on an "AS IS" BASIS,
WITHOUT WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied.
See the License for the specific language governing permissions and
limitations under the License.
*/

// Command manager runs the sdrs-operator controllers.
package main

import (
	"flag"
	"os"
	"time"

	"k8s.io/apimachinery/pkg/runtime"
	utilruntime "k8s.io/apimachinery/pkg/util/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/config"
	"sigs.k8s.io/controller-runtime/pkg/healthz"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"

	drv1alpha1 "github.com/sdrs-operator/sdrs-operator/api/v1alpha1"
	"github.com/sdrs-operator/sdrs-operator/controllers"
	"github.com/sdrs-operator/sdrs-operator/internal/eventrecorder"
	"github.com/sdrs-operator/sdrs-operator/internal/memlimit"
	"github.com/sdrs-operator/sdrs-operator/internal/metrics"
	"github.com/sdrs-operator/sdrs-operator/internal/sdrs"
)

var (
	scheme   = runtime.NewScheme()
	setupLog = ctrl.Log.WithName("setup")
)

func init() {
	utilruntime.Must(clientgoscheme.AddToScheme(scheme))
	utilruntime.Must(drv1alpha1.AddToScheme(scheme))
}

// minGraceMargin is how much longer than a call's timeout the not-started
// grace must be: the time SDRS may take to show an action it accepted.
const minGraceMargin = 5 * time.Second

func main() {
	var (
		metricsAddr      string
		probeAddr        string
		pprofAddr        string
		leaderElect      bool
		leaderElectionNS string
		concurrency      int
		kubeQPS          float64
		kubeBurst        int
		leaseDuration    time.Duration
		renewDeadline    time.Duration
		retryPeriod      time.Duration
		watchNamespace   string
		memoryLimit      string
		stalledRecheck   time.Duration
		recordJobIDAfter time.Duration
		sdrsTimeout      time.Duration
		notStartedGrace  time.Duration
		maxDrillTTL      time.Duration
		metricsPerGroup  bool
	)
	flag.StringVar(&metricsAddr, "metrics-bind-address", ":8080", "Address the Prometheus metrics endpoint binds to; \"0\" disables it.")
	flag.BoolVar(&metricsPerGroup, "metrics-per-group", false, "Also export about twenty series per ProtectionGroup (its active site, conditions, replication, fault level, operation age), for alerts that name the group; the fleet-level counts are always exported.")
	flag.StringVar(&probeAddr, "health-probe-bind-address", ":8081", "Address the health and readiness probes bind to.")
	flag.StringVar(&pprofAddr, "pprof-bind-address", "", "Address to serve Go's pprof endpoints on, for performance work (default: off).")
	flag.BoolVar(&leaderElect, "leader-elect", true, "Elect a leader so that only one replica acts on SDRS at a time.")
	flag.StringVar(&leaderElectionNS, "leader-election-namespace", "", "Namespace of the leader election Lease (default: the pod's namespace).")
	flag.DurationVar(&leaseDuration, "leader-election-lease-duration", 15*time.Second, "How long a non-leader waits before taking over a silent leader's lease.")
	flag.DurationVar(&renewDeadline, "leader-election-renew-deadline", 10*time.Second, "How long the leader keeps trying to renew before giving up leadership.")
	flag.DurationVar(&retryPeriod, "leader-election-retry-period", 2*time.Second, "How often leader election is retried.")
	flag.IntVar(&concurrency, "max-concurrent-reconciles", controllers.DefaultMaxConcurrentReconciles, "ProtectionGroups reconciled in parallel; SDRS calls are bounded by each ProviderConfig's rate limit.")
	// A fleet failover writes each group several times in a few seconds, and
	// client-go's default throttle would make groups wait on the client
	// itself (docs/performance.md). The API server's priority and fairness
	// still protects it; lower these on a small control plane.
	flag.Float64Var(&kubeQPS, "kube-api-qps", 1000, "Queries per second to the Kubernetes API (client-side limit; a failover makes about 5 writes per group: three status patches, two Events).")
	flag.IntVar(&kubeBurst, "kube-api-burst", 2000, "Burst of queries to the Kubernetes API.")
	flag.DurationVar(&stalledRecheck, "stalled-recheck-interval", 2*time.Minute, "How often a Stalled ProtectionGroup is looked at again (a down site coming back, a fixed group).")
	flag.DurationVar(&recordJobIDAfter, "record-job-id-after", 0,
		"How long an SDRS job may run before its ID is written to status on its own; shorter jobs have it written with their result. 0 (the default) writes it right after the call; a larger value saves one status write per short job, at the price of recovering a crash inside that window from the group's status alone (docs/reliability.md).")
	flag.DurationVar(&sdrsTimeout, "sdrs-timeout", 30*time.Second, "Timeout of each SDRS and ECS HTTP call.")
	flag.DurationVar(&notStartedGrace, "not-started-grace", controllers.DefaultNotStartedGrace,
		"How long an SDRS or ECS call whose answer never came (a crash, a lost answer) may stay invisible in the cloud before it counts as not taken and is sent again; must exceed --sdrs-timeout by at least "+minGraceMargin.String()+".")
	flag.DurationVar(&maxDrillTTL, "max-drill-ttl", controllers.DefaultMaxDrillTTL,
		"Longest spec.ttl a ProtectionGroupDrill may have: its drill servers are deleted at most this long after they became available.")
	flag.StringVar(&watchNamespace, "watch-namespace", "", "Only reconcile ProtectionGroups in this namespace (default: all).")
	flag.StringVar(&memoryLimit, "memory-limit", "", "Soft memory limit of the Go runtime, such as 180Mi; \"0\" sets none. Default: GOMEMLIMIT when set, else 75% of the container's memory limit when it has one, so that a large fleet's heap is collected before the kernel kills the manager.")
	opts := zap.Options{Development: false}
	opts.BindFlags(flag.CommandLine)
	flag.Parse()

	ctrl.SetLogger(zap.New(zap.UseFlagOptions(&opts)))
	if limit, source, err := memlimit.Apply(memoryLimit, memlimit.DefaultRatio); err != nil {
		setupLog.Error(err, "invalid memory limit")
		os.Exit(2)
	} else {
		setupLog.Info("Go soft memory limit", "bytes", limit, "source", source)
	}
	if notStartedGrace < sdrsTimeout+minGraceMargin {
		// A call of an old leader may still be on its way until its
		// timeout; concluding "not taken" sooner could send it twice.
		setupLog.Error(nil, "--not-started-grace must exceed --sdrs-timeout by at least "+minGraceMargin.String(),
			"notStartedGrace", notStartedGrace, "sdrsTimeout", sdrsTimeout)
		os.Exit(2)
	}

	cfg := ctrl.GetConfigOrDie()
	cfg.QPS = float32(kubeQPS)
	cfg.Burst = kubeBurst

	mgrOpts := ctrl.Options{
		Scheme:                        scheme,
		Metrics:                       metricsserver.Options{BindAddress: metricsAddr},
		HealthProbeBindAddress:        probeAddr,
		PprofBindAddress:              pprofAddr,
		LeaderElection:                leaderElect,
		LeaderElectionID:              "sdrs-operator.dr.sdrs.io",
		LeaderElectionNamespace:       leaderElectionNS,
		LeaseDuration:                 &leaseDuration,
		RenewDeadline:                 &renewDeadline,
		RetryPeriod:                   &retryPeriod,
		LeaderElectionReleaseOnCancel: true,
		Controller:                    config.Controller{MaxConcurrentReconciles: concurrency},
		// managedFields are never read here; dropping them from the cache
		// keeps a third of each object out of memory. Updates without
		// managedFields leave the server's copy as it is.
		Cache: cache.Options{DefaultTransform: cache.TransformStripManagedFields()},
	}
	if watchNamespace != "" {
		mgrOpts.Cache.DefaultNamespaces = map[string]cache.Config{watchNamespace: {}}
	}
	mgr, err := ctrl.NewManager(cfg, mgrOpts)
	if err != nil {
		setupLog.Error(err, "unable to create manager")
		os.Exit(1)
	}

	recorder := metrics.NewRecorder(metrics.WithPerGroup(metricsPerGroup))
	// Events go through a recorder whose memory stays bounded at any fleet
	// size; client-go's keeps every Event for minutes.
	events, err := eventrecorder.ForManager(mgr, "sdrs-operator", eventrecorder.Options{OnNotRecorded: recorder.ObserveEventNotRecorded})
	if err != nil {
		setupLog.Error(err, "unable to set up the Event recorder")
		os.Exit(1)
	}
	connector := sdrs.NewConnector(mgr.GetAPIReader(), sdrs.WithCallObserver(recorder.ObserveCall), sdrs.WithHTTPTimeout(sdrsTimeout))

	if err := (&controllers.ProviderConfigReconciler{
		Client:    mgr.GetClient(),
		APIReader: mgr.GetAPIReader(),
		Connector: connector,
		Recorder:  events,
	}).SetupWithManager(mgr); err != nil {
		setupLog.Error(err, "unable to create controller", "controller", "ProviderConfig")
		os.Exit(1)
	}
	if err := (&controllers.ProtectionGroupReconciler{
		Client:           mgr.GetClient(),
		APIReader:        mgr.GetAPIReader(),
		Connector:        connector,
		Recorder:         events,
		Metrics:          recorder,
		StalledRecheck:   stalledRecheck,
		RecordJobIDAfter: recordJobIDAfter,
		NotStartedGrace:  notStartedGrace,
		// A cache of one namespace cannot see owners elsewhere.
		PartialCache: watchNamespace != "",
	}).SetupWithManager(mgr); err != nil {
		setupLog.Error(err, "unable to create controller", "controller", "ProtectionGroup")
		os.Exit(1)
	}
	if err := (&controllers.DrillReconciler{
		Client:          mgr.GetClient(),
		Connector:       connector,
		Recorder:        events,
		MaxTTL:          maxDrillTTL,
		NotStartedGrace: notStartedGrace,
		Metrics:         recorder,
	}).SetupWithManager(mgr); err != nil {
		setupLog.Error(err, "unable to create controller", "controller", "ProtectionGroupDrill")
		os.Exit(1)
	}
	if err := (&controllers.DRPlanReconciler{
		Client:    mgr.GetClient(),
		APIReader: mgr.GetAPIReader(),
		Recorder:  events,
		Metrics:   recorder,
	}).SetupWithManager(mgr); err != nil {
		setupLog.Error(err, "unable to create controller", "controller", "DRPlan")
		os.Exit(1)
	}

	if err := mgr.AddHealthzCheck("healthz", healthz.Ping); err != nil {
		setupLog.Error(err, "unable to set up health check")
		os.Exit(1)
	}
	if err := mgr.AddReadyzCheck("readyz", healthz.Ping); err != nil {
		setupLog.Error(err, "unable to set up ready check")
		os.Exit(1)
	}

	setupLog.Info("starting manager", "leaderElection", leaderElect, "maxConcurrentReconciles", concurrency)
	if err := mgr.Start(ctrl.SetupSignalHandler()); err != nil {
		setupLog.Error(err, "problem running manager")
		os.Exit(1)
	}
}
