package cli

import (
	"fmt"
	"io"
	"time"

	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/cli-runtime/pkg/genericclioptions"
	"k8s.io/cli-runtime/pkg/genericiooptions"
	"sigs.k8s.io/controller-runtime/pkg/client"

	drv1alpha1 "github.com/sdrs-operator/sdrs-operator/api/v1alpha1"
)

// Env is what a verb's logic needs from the outside world. Tests build it
// directly around a fake client; the commands build it from the kubeconfig
// flags with NewEnv.
type Env struct {
	Client client.Client
	// Namespace from -n, else the kubeconfig context's, else "default".
	Namespace string
	Out       io.Writer
	ErrOut    io.Writer
	// Now is injectable so retry tokens and history ages are testable.
	Now func() time.Time
}

// Scheme knows only our API group: the plugin reads and patches nothing else.
func Scheme() *runtime.Scheme {
	s := runtime.NewScheme()
	if err := drv1alpha1.AddToScheme(s); err != nil {
		panic(err) // a registration bug, found by every test
	}
	return s
}

// NewEnv builds the client from the usual kubeconfig, --context and
// --namespace flags.
func NewEnv(flags *genericclioptions.ConfigFlags, streams genericiooptions.IOStreams) (*Env, error) {
	cfg, err := flags.ToRESTConfig()
	if err != nil {
		return nil, fmt.Errorf("cannot load kubeconfig: %w", err)
	}
	ns, _, err := flags.ToRawKubeConfigLoader().Namespace()
	if err != nil {
		return nil, fmt.Errorf("cannot resolve namespace: %w", err)
	}
	c, err := client.New(cfg, client.Options{Scheme: Scheme()})
	if err != nil {
		return nil, fmt.Errorf("cannot create client: %w", err)
	}
	return &Env{Client: c, Namespace: ns, Out: streams.Out, ErrOut: streams.ErrOut, Now: time.Now}, nil
}

// Ref names a ProtectionGroup the way kubectl prints it; the namespace is
// shown only when the command spans namespaces.
func Ref(pg *drv1alpha1.ProtectionGroup, withNamespace bool) string {
	if withNamespace {
		return fmt.Sprintf("protectiongroup.dr.sdrs.io/%s -n %s", pg.Name, pg.Namespace)
	}
	return "protectiongroup.dr.sdrs.io/" + pg.Name
}
