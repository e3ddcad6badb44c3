package v1alpha1_test

import (
	"flag"
	"fmt"
	"github.com/sdrs-operator/sdrs-operator/internal/testenv"
	"os"
	"testing"

	"k8s.io/apimachinery/pkg/runtime/schema"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"sigs.k8s.io/controller-runtime/pkg/client"

	drv1alpha1 "github.com/sdrs-operator/sdrs-operator/api/v1alpha1"
)

// The admission tests send objects to a real kube-apiserver (envtest) that
// serves the generated CRDs, so what they check is exactly what a user who
// runs `kubectl apply` sees: OpenAPI validation, CEL rules and defaults.

// k8s talks to the envtest API server; nil in -short mode.
var k8s client.Client

var (
	pgGVK    = schema.GroupVersionKind{Group: "dr.sdrs.io", Version: "v1alpha1", Kind: "ProtectionGroup"}
	pcGVK    = schema.GroupVersionKind{Group: "dr.sdrs.io", Version: "v1alpha1", Kind: "ProviderConfig"}
	drillGVK = schema.GroupVersionKind{Group: "dr.sdrs.io", Version: "v1alpha1", Kind: "ProtectionGroupDrill"}
)

func TestMain(m *testing.M) {
	os.Exit(run(m))
}

func run(m *testing.M) int {
	flag.Parse()
	if testing.Short() {
		return m.Run() // needAPIServer skips every test that needs envtest
	}
	env := testenv.Environment()
	cfg, err := env.Start()
	if err != nil {
		fmt.Fprintf(os.Stderr, "cannot start envtest (run `make control-plane` first): %v\n", err)
		return 1
	}
	defer env.Stop() //nolint:errcheck // the process exits next; a failed stop changes nothing

	scheme := clientgoscheme.Scheme
	if err := drv1alpha1.AddToScheme(scheme); err != nil {
		fmt.Fprintf(os.Stderr, "cannot register the API: %v\n", err)
		return 1
	}
	k8s, err = client.New(cfg, client.Options{Scheme: scheme})
	if err != nil {
		fmt.Fprintf(os.Stderr, "cannot build a client: %v\n", err)
		return 1
	}
	return m.Run()
}

// needAPIServer skips a test in -short mode, where no API server runs.
func needAPIServer(t *testing.T) {
	t.Helper()
	if k8s == nil {
		t.Skip("needs envtest, which -short does not start")
	}
}
