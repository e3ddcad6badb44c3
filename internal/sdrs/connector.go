package sdrs

import (
	"context"
	"crypto/sha256"
	"fmt"
	"strings"
	"sync"
	"time"

	"golang.org/x/time/rate"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/log"

	drv1alpha1 "github.com/sdrs-operator/sdrs-operator/api/v1alpha1"
)

// Keys of the credentials Secret.
const (
	SecretKeyAccessKey     = "accessKey"
	SecretKeySecretKey     = "secretKey"
	SecretKeySecurityToken = "securityToken"
)

// Defaults.
const (
	defaultHTTPTimeout = 30 * time.Second
	// defaultSecretTTL: how long a Secret read is trusted. Reconciles of a
	// whole fleet share one read instead of one GET each, and a rotated
	// Secret is still picked up within this time, without a restart.
	defaultSecretTTL      = 10 * time.Second
	defaultCallsPerSecond = 20
	defaultBurst          = 40
)

// Error strings and log messages.
const (
	errNilProviderConfig = "nil ProviderConfig"
	errNoProjectID       = "spec.projectID is empty"
	errGetSecretFmt      = "cannot get credentials Secret %s/%s"
	logInsecureTLS       = "WARNING: TLS certificate verification is OFF for this ProviderConfig (spec.insecureSkipTLSVerify); anyone on the network path can read and change SDRS calls. Use it only for tests."
	logInsecureHTTP      = "WARNING: this ProviderConfig reaches SDRS or ECS over plain http:// (spec.allowInsecureHTTP); request signatures and session tokens cross the network in clear text and anyone on the path can forge the answers. Use it only for a local emulator or tests."
)

// ConnectorOption configures NewConnector.
type ConnectorOption func(*connector)

// WithCallObserver reports every cloud call to o (metrics, benchmarks).
func WithCallObserver(o CallObserver) ConnectorOption {
	return func(c *connector) { c.observer = o }
}

// WithHTTPTimeout bounds each HTTP call; the default is 30s.
func WithHTTPTimeout(d time.Duration) ConnectorOption {
	return func(c *connector) {
		if d > 0 {
			c.timeout = d
		}
	}
}

// WithSecretTTL sets how long a credentials Secret read is reused before
// it is read again (default 10s; 0 reads it on every Connect).
func WithSecretTTL(d time.Duration) ConnectorOption {
	return func(c *connector) { c.secretTTL = d }
}

// NewConnector returns a Connector that reads credentials Secrets through
// kube and keeps one client and one rate limiter per ProviderConfig.
func NewConnector(kube client.Reader, opts ...ConnectorOption) Connector {
	c := &connector{
		kube:      kube,
		timeout:   defaultHTTPTimeout,
		secretTTL: defaultSecretTTL,
		clients:   map[string]*cachedClient{},
		limiters:  map[string]*rate.Limiter{},
	}
	for _, o := range opts {
		o(c)
	}
	return c
}

type connector struct {
	kube      client.Reader
	observer  CallObserver
	timeout   time.Duration
	secretTTL time.Duration
	now       func() time.Time // replaceable in tests

	mu       sync.Mutex
	clients  map[string]*cachedClient // by ProviderConfig identity
	limiters map[string]*rate.Limiter // by ProviderConfig identity; outlives client rebuilds
}

type cachedClient struct {
	key    cacheKey
	client *sdkClient
	readAt time.Time // when the Secret behind it was last read
}

// cacheKey decides when a cached client is stale. Generation moves on every
// spec edit and the Secret's resourceVersion on every rotation; the spec
// fingerprint covers clients (and tests) whose generation does not move.
type cacheKey struct {
	generation int64
	secretRV   string
	secretUID  string
	spec       [sha256.Size]byte
}

func (c *connector) Connect(ctx context.Context, pc *drv1alpha1.ProviderConfig) (Client, error) {
	if pc == nil {
		return nil, &InvalidRequestError{Message: errNilProviderConfig}
	}
	if pc.Spec.ProjectID == "" {
		// Without a project ID the SDK would ask IAM for one on
		// every build.
		return nil, &InvalidRequestError{Message: errNoProjectID}
	}
	// Before the cache: a spec that stopped allowing http must not keep
	// its old client.
	if err := checkEndpoints(&pc.Spec); err != nil {
		return nil, err
	}
	id := identity(pc)
	if cl := c.fresh(id, pc); cl != nil {
		return cl, nil
	}
	creds, secret, err := c.readSecret(ctx, pc.Spec.CredentialsSecretRef)
	if err != nil {
		return nil, err
	}
	key := cacheKey{
		generation: pc.Generation,
		secretRV:   secret.ResourceVersion,
		secretUID:  string(secret.UID),
		spec:       fingerprint(&pc.Spec),
	}

	c.mu.Lock()
	defer c.mu.Unlock()
	limiter := c.limiterFor(id, pc.Spec.RateLimit)
	if cc, ok := c.clients[id]; ok && cc.key == key {
		cc.readAt = c.clock()
		return cc.client, nil
	}
	if w := insecureWarning(&pc.Spec); w != "" {
		log.FromContext(ctx).Info(w, "providerConfig", pc.Name)
	}
	sc, err := buildClient(clientConfig{
		region:      pc.Spec.Region,
		projectID:   pc.Spec.ProjectID,
		sdrsURL:     pc.Spec.Endpoint,
		ecsURL:      pc.Spec.ECSEndpoint,
		caBundle:    pc.Spec.CABundle,
		insecure:    pc.Spec.InsecureSkipTLSVerify,
		timeout:     c.timeout,
		credentials: creds,
	}, limiter, c.observer)
	if err != nil {
		return nil, err
	}
	if old, ok := c.clients[id]; ok && old.client.close != nil {
		old.client.close()
	}
	c.clients[id] = &cachedClient{key: key, client: sc, readAt: c.clock()}
	return sc, nil
}

// insecureWarning is the one log line a client built from spec deserves,
// naming every setting that lets others read or change its calls; "" when
// there is none.
func insecureWarning(spec *drv1alpha1.ProviderConfigSpec) string {
	var w []string
	if spec.InsecureSkipTLSVerify {
		w = append(w, logInsecureTLS)
	}
	if usesHTTP(spec) {
		w = append(w, logInsecureHTTP)
	}
	return strings.Join(w, " ")
}

// fresh returns the cached client when its Secret was read within the TTL
// and the ProviderConfig did not change since; the rate limit still
// follows the spec.
func (c *connector) fresh(id string, pc *drv1alpha1.ProviderConfig) Client {
	if c.secretTTL <= 0 {
		return nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	cc, ok := c.clients[id]
	if !ok || cc.key.generation != pc.Generation || cc.key.spec != fingerprint(&pc.Spec) ||
		c.clock().Sub(cc.readAt) >= c.secretTTL || cc.client.refused.Load() {
		return nil
	}
	c.limiterFor(id, pc.Spec.RateLimit)
	return cc.client
}

func (c *connector) clock() time.Time {
	if c.now != nil {
		return c.now()
	}
	return time.Now()
}

// identity names a ProviderConfig across edits: its UID, or its name for
// objects that never went through an API server.
func identity(pc *drv1alpha1.ProviderConfig) string {
	if pc.UID != "" {
		return "uid:" + string(pc.UID)
	}
	return "name:" + pc.Name
}

// fingerprint hashes the spec fields that shape a client. Credentials are
// not part of it: the Secret's resourceVersion stands for them.
func fingerprint(s *drv1alpha1.ProviderConfigSpec) [sha256.Size]byte {
	h := sha256.New()
	for _, f := range []string{s.Region, s.ProjectID, s.Endpoint, s.ECSEndpoint, string(s.CABundle)} {
		h.Write([]byte(f))
		h.Write([]byte{0})
	}
	if s.InsecureSkipTLSVerify {
		h.Write([]byte{1})
	}
	var out [sha256.Size]byte
	copy(out[:], h.Sum(nil))
	return out
}

// limiterFor returns the ProviderConfig's limiter, created on first use and
// adjusted in place when spec.rateLimit changes, so every client built for
// the ProviderConfig, old or new, shares one budget. Callers hold c.mu.
func (c *connector) limiterFor(id string, rl drv1alpha1.RateLimit) *rate.Limiter {
	limit := rate.Limit(defaultCallsPerSecond)
	if rl.CallsPerSecond > 0 {
		limit = rate.Limit(rl.CallsPerSecond)
	}
	burst := defaultBurst
	if rl.Burst > 0 {
		burst = int(rl.Burst)
	}
	l, ok := c.limiters[id]
	if !ok {
		l = rate.NewLimiter(limit, burst)
		c.limiters[id] = l
		return l
	}
	if l.Limit() != limit {
		l.SetLimit(limit)
	}
	if l.Burst() != burst {
		l.SetBurst(burst)
	}
	return l
}

// readSecret reads the AK/SK. Errors name the Secret and the key, never a
// value.
func (c *connector) readSecret(ctx context.Context, ref drv1alpha1.SecretReference) (credentials, *corev1.Secret, error) {
	s := &corev1.Secret{}
	if err := c.kube.Get(ctx, client.ObjectKey{Namespace: ref.Namespace, Name: ref.Name}, s); err != nil {
		if apierrors.IsNotFound(err) {
			return credentials{}, nil, &SecretError{Namespace: ref.Namespace, Name: ref.Name, NotFound: true}
		}
		if apierrors.IsForbidden(err) {
			// Not transient: only a person can move the Secret or grant access.
			return credentials{}, nil, &SecretError{Namespace: ref.Namespace, Name: ref.Name, Forbidden: true}
		}
		// The API server's messages name the object, not its data.
		return credentials{}, nil, &TransientError{
			Message: sanitize(strings.Join([]string{fmt.Sprintf(errGetSecretFmt, ref.Namespace, ref.Name), err.Error()}, ": ")),
			Err:     err,
		}
	}
	get := func(k string) string {
		// Secrets made with `echo` end in a newline; no key has
		// surrounding blanks.
		return strings.TrimSpace(string(s.Data[k]))
	}
	creds := credentials{ak: get(SecretKeyAccessKey), sk: get(SecretKeySecretKey), token: get(SecretKeySecurityToken)}
	for _, k := range []struct {
		name, v string
	}{{SecretKeyAccessKey, creds.ak}, {SecretKeySecretKey, creds.sk}} {
		if k.v == "" {
			return credentials{}, nil, &SecretError{Namespace: ref.Namespace, Name: ref.Name, Key: k.name}
		}
	}
	return creds, s, nil
}
