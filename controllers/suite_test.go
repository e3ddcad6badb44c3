package controllers_test

import (
	"context"
	"flag"
	"fmt"
	"github.com/sdrs-operator/sdrs-operator/internal/testenv"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"
	"time"

	"go.uber.org/zap/zapcore"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/rest"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/config"
	"sigs.k8s.io/controller-runtime/pkg/envtest"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"

	drv1alpha1 "github.com/sdrs-operator/sdrs-operator/api/v1alpha1"
	"github.com/sdrs-operator/sdrs-operator/controllers"
	"github.com/sdrs-operator/sdrs-operator/internal/emulator"
	"github.com/sdrs-operator/sdrs-operator/internal/emutest"
	"github.com/sdrs-operator/sdrs-operator/internal/eventrecorder"
	"github.com/sdrs-operator/sdrs-operator/internal/metrics"
	"github.com/sdrs-operator/sdrs-operator/internal/sdrs"
)

// The suite runs the real reconcilers in a real manager against a real
// kube-apiserver and etcd (envtest) and the SDRS emulator over HTTP, which
// the reconcilers reach through the official SDK.

const (
	projectID = "0123456789abcdef0123456789abcdef"
	accessKey = "AKSUITE0000000000001"
	secretKey = "suite-secret-key-never-logged-0000000001"
	credsNS   = "sdrs-system"
	// jobDuration keeps the suite fast while every job is still truly
	// asynchronous (several polls per job).
	jobDuration = 600 * time.Millisecond
)

var (
	k8s       client.Client
	restCfg   *rest.Config
	admin     *emutest.Admin
	sdrsURL   string
	ecsURL    string
	mgrCancel context.CancelFunc
	mgrDone   chan struct{}
)

func TestMain(m *testing.M) {
	os.Exit(run(m))
}

func run(m *testing.M) int {
	flag.Parse()
	if testing.Short() {
		// -short runs only the unit tables; the envtest tests skip
		// themselves (needEnv) because no control plane was started.
		return m.Run()
	}
	ctrl.SetLogger(zap.New(zap.UseDevMode(true), zap.WriteTo(os.Stderr), zap.Level(zapLevel())))

	env := &envtest.Environment{
		CRDDirectoryPaths:     []string{filepath.Join("..", "config", "crd", "bases")},
		ErrorIfCRDPathMissing: true,
		BinaryAssetsDirectory: testenv.AssetsDir(),
	}
	cfg, err := env.Start()
	if err != nil {
		fmt.Fprintf(os.Stderr, "cannot start envtest (run `make control-plane` first): %v\n", err)
		return 1
	}
	defer env.Stop() //nolint:errcheck // the process exits next; a failed stop changes nothing
	restCfg = cfg

	emu, err := emulator.New(emulator.Config{ProjectID: projectID, AccessKey: accessKey, SecretKey: secretKey,
		JobDuration: jobDuration, SyncDuration: jobDuration})
	if err != nil {
		fmt.Fprintf(os.Stderr, "cannot start emulator: %v\n", err)
		return 1
	}
	defer emu.Close()
	sdrsSrv := httptest.NewServer(emu.SDRSHandler())
	defer sdrsSrv.Close()
	ecsSrv := httptest.NewServer(emu.ECSHandler())
	defer ecsSrv.Close()
	sdrsURL, ecsURL = sdrsSrv.URL, ecsSrv.URL
	admin = emutest.New(sdrsURL)

	scheme := clientgoscheme.Scheme
	if err := drv1alpha1.AddToScheme(scheme); err != nil {
		return 1
	}
	k8s, err = client.New(cfg, client.Options{Scheme: scheme})
	if err != nil {
		return 1
	}
	if err := createProviderConfig(context.Background(), "default", "sdrs-credentials", accessKey, secretKey); err != nil {
		fmt.Fprintf(os.Stderr, "cannot create ProviderConfig: %v\n", err)
		return 1
	}
	startManager()
	defer stopManager()
	return m.Run()
}

// testGrace is the manager's NotStartedGrace in these tests.
const testGrace = 3 * time.Second

// managerOptions are what a test may change about the operator process.
type managerOptions struct {
	recordJobIDAfter time.Duration
}

// recordJobIDAt starts the manager with RecordJobIDAfter d (0: right after
// the SDRS call).
func recordJobIDAt(d time.Duration) func(*managerOptions) {
	return func(o *managerOptions) { o.recordJobIDAfter = d }
}

// startManager runs the real reconcilers in a fresh manager, like a new
// operator process would, with the manager's defaults unless told.
func startManager(opts ...func(*managerOptions)) {
	mo := managerOptions{}
	for _, o := range opts {
		o(&mo)
	}
	mgr, err := ctrl.NewManager(restCfg, ctrl.Options{
		Scheme:                 clientgoscheme.Scheme,
		Metrics:                metricsserver.Options{BindAddress: "0"},
		HealthProbeBindAddress: "0",
		Controller:             config.Controller{SkipNameValidation: ptr(true), MaxConcurrentReconciles: 4},
		// As main.go: the cache holds no managedFields.
		Cache: cache.Options{DefaultTransform: cache.TransformStripManagedFields()},
	})
	if err != nil {
		panic(err)
	}
	recorder := metrics.NewRecorder()
	connector := sdrs.NewConnector(mgr.GetAPIReader(), sdrs.WithCallObserver(recorder.ObserveCall))
	events, err := eventrecorder.ForManager(mgr, "sdrs-operator", eventrecorder.Options{})
	if err != nil {
		panic(err)
	}
	if err := (&controllers.ProviderConfigReconciler{Client: mgr.GetClient(), APIReader: mgr.GetAPIReader(), Connector: connector,
		Recorder: events}).SetupWithManager(mgr); err != nil {
		panic(err)
	}
	if err := (&controllers.ProtectionGroupReconciler{Client: mgr.GetClient(), APIReader: mgr.GetAPIReader(),
		Connector: connector, Recorder: events,
		Metrics: recorder, StalledRecheck: 2 * time.Second,
		RecordJobIDAfter: mo.recordJobIDAfter,
		// Short, so that a call never answered is judged within a test's
		// patience; the emulator answers in milliseconds.
		NotStartedGrace: testGrace}).SetupWithManager(mgr); err != nil {
		panic(err)
	}
	if err := (&controllers.DrillReconciler{Client: mgr.GetClient(), Connector: connector,
		Recorder: events, NotStartedGrace: testGrace}).SetupWithManager(mgr); err != nil {
		panic(err)
	}
	if err := (&controllers.DRPlanReconciler{Client: mgr.GetClient(), APIReader: mgr.GetAPIReader(),
		Recorder: events}).SetupWithManager(mgr); err != nil {
		panic(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	mgrCancel, mgrDone = cancel, make(chan struct{})
	go func() {
		defer close(mgrDone)
		if err := mgr.Start(ctx); err != nil {
			fmt.Fprintf(os.Stderr, "manager stopped: %v\n", err)
		}
	}()
}

func stopManager() {
	mgrCancel()
	<-mgrDone
}

func createProviderConfig(ctx context.Context, name, secretName, ak, sk string) error {
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: credsNS}}
	if err := k8s.Create(ctx, ns); client.IgnoreAlreadyExists(err) != nil {
		return err
	}
	if secretName != "" {
		sec := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: secretName, Namespace: credsNS},
			StringData: map[string]string{"accessKey": ak, "secretKey": sk}}
		if err := k8s.Create(ctx, sec); err != nil {
			return err
		}
	}
	pc := &drv1alpha1.ProviderConfig{
		ObjectMeta: metav1.ObjectMeta{Name: name},
		Spec: drv1alpha1.ProviderConfigSpec{
			Region: "cn-north-4", ProjectID: projectID, Endpoint: sdrsURL, ECSEndpoint: ecsURL,
			AllowInsecureHTTP:    true, // the emulator speaks plain http
			CredentialsSecretRef: drv1alpha1.SecretReference{Namespace: credsNS, Name: secretNameOr(secretName, name)},
			// Short, so changes made behind the operator's back show up
			// within a test's patience.
			SyncInterval: metav1.Duration{Duration: 2 * time.Second},
		},
	}
	return k8s.Create(ctx, pc)
}

func secretNameOr(secret, pc string) string {
	if secret != "" {
		return secret
	}
	return pc + "-missing-secret"
}

// needEnv skips a test in -short mode, where no control plane runs.
func needEnv(t *testing.T) {
	t.Helper()
	if k8s == nil {
		t.Skip("needs envtest and the emulator, which -short does not start")
	}
}

func zapLevel() zapcore.Level {
	if os.Getenv("SUITE_VERBOSE") != "" {
		return -2
	}
	return 1 // warnings and errors only, unless asked
}

func ptr[T any](v T) *T { return &v }
