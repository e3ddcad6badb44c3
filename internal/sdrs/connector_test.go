package sdrs

import (
	"context"
	"errors"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-logr/logr"
	"github.com/go-logr/logr/funcr"
	"github.com/google/go-cmp/cmp"
	"golang.org/x/time/rate"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"
	"sigs.k8s.io/controller-runtime/pkg/client/interceptor"

	drv1alpha1 "github.com/sdrs-operator/sdrs-operator/api/v1alpha1"
)

const (
	testAK = "HPUAQWERTYUIOPASDFGH"
	testSK = "Zq3xVb7NmK2pLw9RtY4uHs8JdF6gC1aE5oI0iUyT"
)

func secret(data map[string]string) *corev1.Secret {
	s := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: "sdrs-system", Name: "creds"}, Data: map[string][]byte{}}
	for k, v := range data {
		s.Data[k] = []byte(v)
	}
	return s
}

func providerConfig(endpoint string) *drv1alpha1.ProviderConfig {
	return &drv1alpha1.ProviderConfig{
		ObjectMeta: metav1.ObjectMeta{Name: "default", UID: "uid-1", Generation: 1},
		Spec: drv1alpha1.ProviderConfigSpec{
			Region:               "moon-1", // unknown to the SDK: endpoints must carry the test
			ProjectID:            testProject,
			Endpoint:             endpoint,
			ECSEndpoint:          endpoint,
			AllowInsecureHTTP:    true, // the fake cloud speaks plain http
			CredentialsSecretRef: drv1alpha1.SecretReference{Namespace: "sdrs-system", Name: "creds"},
		},
	}
}

func validSecret() *corev1.Secret {
	return secret(map[string]string{SecretKeyAccessKey: testAK, SecretKeySecretKey: testSK + "\n"})
}

// quotaCloud answers Validate and counts the calls.
func quotaCloud(t *testing.T) (*fakeCloud, string) {
	t.Helper()
	f, srv := newFakeCloud(t)
	f.answer(http.MethodGet, path("/sdrs/quotas"), 200, `{"quotas":{"resources":[]}}`)
	return f, srv.URL
}

func TestConnectSecretErrors(t *testing.T) {
	getFails := interceptor.Funcs{Get: func(context.Context, client.WithWatch, client.ObjectKey, client.Object, ...client.GetOption) error {
		return errors.New("etcdserver: request timed out")
	}}
	forbidden := interceptor.Funcs{Get: func(context.Context, client.WithWatch, client.ObjectKey, client.Object, ...client.GetOption) error {
		return apierrors.NewForbidden(schema.GroupResource{Resource: "secrets"}, "creds", errors.New("RBAC: access denied"))
	}}
	cases := map[string]struct {
		reason  string
		objects []client.Object
		funcs   *interceptor.Funcs
		want    error
		check   func(error) bool
	}{
		"SecretMissing": {
			reason: "A missing Secret names the Secret.",
			want:   &SecretError{Namespace: "sdrs-system", Name: "creds", NotFound: true},
		},
		"AccessKeyMissing": {
			reason:  "A missing key names the key.",
			objects: []client.Object{secret(map[string]string{SecretKeySecretKey: testSK})},
			want:    &SecretError{Namespace: "sdrs-system", Name: "creds", Key: SecretKeyAccessKey},
		},
		"SecretKeyBlank": {
			reason:  "A key holding only blanks is missing; empty keys would make the SDK fetch metadata credentials.",
			objects: []client.Object{secret(map[string]string{SecretKeyAccessKey: testAK, SecretKeySecretKey: " \n"})},
			want:    &SecretError{Namespace: "sdrs-system", Name: "creds", Key: SecretKeySecretKey},
		},
		"SecretForbidden": {
			reason: "RBAC refusing the read needs a person; it names the Secret and the namespace rule.",
			funcs:  &forbidden,
			want:   &SecretError{Namespace: "sdrs-system", Name: "creds", Forbidden: true},
		},
		"APIServerError": {
			reason: "An API server hiccup is transient, not a credentials problem.",
			funcs:  &getFails,
			check:  IsTransient,
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			b := fake.NewClientBuilder().WithObjects(tc.objects...)
			if tc.funcs != nil {
				b = b.WithInterceptorFuncs(*tc.funcs)
			}
			_, url := quotaCloud(t)
			_, err := NewConnector(b.Build()).Connect(context.Background(), providerConfig(url))
			if tc.check != nil {
				if !tc.check(err) {
					t.Errorf("\nReason: %s\ngot %v", tc.reason, err)
				}
				return
			}
			if diff := cmp.Diff(tc.want, err); diff != "" {
				t.Errorf("\nReason: %s\n-want, +got:\n%s", tc.reason, diff)
			}
			if !IsSecretError(err) {
				t.Errorf("IsSecretError(%v) = false", err)
			}
		})
	}
}

func TestConnectConfigErrors(t *testing.T) {
	cases := map[string]struct {
		reason string
		mod    func(*drv1alpha1.ProviderConfig)
	}{
		"UnknownRegion": {
			reason: "A region the SDK does not know, without an endpoint, is an error and not a panic.",
			mod:    func(pc *drv1alpha1.ProviderConfig) { pc.Spec.Endpoint = "" },
		},
		"NoProjectID": {
			reason: "Without a project ID the SDK would call IAM; refuse instead.",
			mod:    func(pc *drv1alpha1.ProviderConfig) { pc.Spec.ProjectID = "" },
		},
		"BadCABundle": {
			reason: "A CA bundle without certificates is a configuration error.",
			mod:    func(pc *drv1alpha1.ProviderConfig) { pc.Spec.CABundle = []byte("garbage") },
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			pc := providerConfig("http://127.0.0.1:1")
			tc.mod(pc)
			kube := fake.NewClientBuilder().WithObjects(validSecret()).Build()
			_, err := NewConnector(kube).Connect(context.Background(), pc)
			if !IsInvalidRequest(err) {
				t.Errorf("\nReason: %s\ngot %v, want InvalidRequest", tc.reason, err)
			}
		})
	}
	if _, err := NewConnector(fake.NewClientBuilder().Build()).Connect(context.Background(), nil); !IsInvalidRequest(err) {
		t.Errorf("nil ProviderConfig = %v, want InvalidRequest", err)
	}
}

func TestConnectCachesAndRotates(t *testing.T) {
	ctx := context.Background()
	f, url := quotaCloud(t)
	kube := fake.NewClientBuilder().WithObjects(validSecret()).Build()
	clock := time.Date(2026, 11, 25, 3, 0, 0, 0, time.UTC)
	conn := NewConnector(kube)
	conn.(*connector).now = func() time.Time { return clock }
	pc := providerConfig(url)

	first := connect(t, conn, pc)
	if again := connect(t, conn, pc); again != first {
		t.Error("an unchanged ProviderConfig and Secret must reuse the cached client")
	}
	if err := first.Validate(ctx); err != nil {
		t.Fatalf("Validate: %v", err)
	}

	// Rotate the Secret: its resourceVersion moves.
	s := &corev1.Secret{}
	if err := kube.Get(ctx, client.ObjectKey{Namespace: "sdrs-system", Name: "creds"}, s); err != nil {
		t.Fatal(err)
	}
	const newAK = "HPUANEWNEWNEWNEWNEW1"
	s.Data[SecretKeyAccessKey] = []byte(newAK)
	if err := kube.Update(ctx, s); err != nil {
		t.Fatal(err)
	}
	if within := connect(t, conn, pc); within != first {
		t.Fatal("within the Secret TTL the cached client is reused without reading the Secret")
	}
	clock = clock.Add(defaultSecretTTL)
	rotated := connect(t, conn, pc)
	if rotated == first {
		t.Fatal("a rotated Secret must yield a new client once the TTL passed")
	}
	if err := rotated.Validate(ctx); err != nil {
		t.Fatalf("Validate: %v", err)
	}
	reqs := f.requests()
	if h := reqs[len(reqs)-1].Header.Get("Authorization"); !strings.Contains(h, "Access="+newAK) {
		t.Errorf("the new client signs with the new AK; Authorization = %q", h)
	}
	if rotated.limiter != first.limiter {
		t.Error("clients of one ProviderConfig must share one rate limiter")
	}

	// Edit the spec: generation moves.
	pc2 := pc.DeepCopy()
	pc2.Generation = 2
	if edited := connect(t, conn, pc2); edited == rotated {
		t.Error("a new generation must yield a new client")
	}

	// A spec change the generation does not show (fake clients) still
	// rebuilds.
	pc3 := pc2.DeepCopy()
	pc3.Spec.ECSEndpoint = url + "/"
	if changed := connect(t, conn, pc3); changed == connect(t, conn, pc2) {
		t.Error("a changed spec must yield a new client")
	}

	// Another ProviderConfig gets its own limiter.
	other := pc.DeepCopy()
	other.UID = "uid-2"
	if connect(t, conn, other).limiter == first.limiter {
		t.Error("ProviderConfigs must not share a limiter")
	}
}

func TestConnectUpdatesLimiterInPlace(t *testing.T) {
	_, url := quotaCloud(t)
	conn := NewConnector(fake.NewClientBuilder().WithObjects(validSecret()).Build())
	pc := providerConfig(url)

	c1 := connect(t, conn, pc)
	if c1.limiter.Limit() != rate.Limit(defaultCallsPerSecond) || c1.limiter.Burst() != defaultBurst {
		t.Errorf("defaults = %v/%d, want %d/%d", c1.limiter.Limit(), c1.limiter.Burst(), defaultCallsPerSecond, defaultBurst)
	}
	pc.Generation = 2
	pc.Spec.RateLimit = drv1alpha1.RateLimit{CallsPerSecond: 5, Burst: 7}
	c2 := connect(t, conn, pc)
	if c2.limiter != c1.limiter {
		t.Fatal("a changed rate limit must update the limiter, not replace it")
	}
	if c1.limiter.Limit() != 5 || c1.limiter.Burst() != 7 {
		t.Errorf("limiter = %v/%d, want 5/7", c1.limiter.Limit(), c1.limiter.Burst())
	}
}

func TestConnectRateLimitEnforced(t *testing.T) {
	f, url := quotaCloud(t)
	var (
		mu  sync.Mutex
		ops []string
	)
	conn := NewConnector(fake.NewClientBuilder().WithObjects(validSecret()).Build(),
		WithCallObserver(func(op string, _ error, _ time.Duration) {
			mu.Lock()
			defer mu.Unlock()
			ops = append(ops, op)
		}),
		WithHTTPTimeout(5*time.Second))
	pc := providerConfig(url)
	// Burst two, then (slowed below the API's minimum of 1/s so that the
	// test does not depend on how fast it runs) one call a minute: the
	// third call has no token for about a minute.
	pc.Spec.RateLimit = drv1alpha1.RateLimit{CallsPerSecond: 1, Burst: 2}
	old := connect(t, conn, pc)
	old.limiter.SetLimit(rate.Every(time.Minute))

	if err := old.Validate(context.Background()); err != nil {
		t.Fatalf("first call: %v", err)
	}
	// A rebuilt client spends from the same budget.
	pc.Generation = 2
	rebuilt := connect(t, conn, pc) // re-applies 1/s to the shared limiter
	rebuilt.limiter.SetLimit(rate.Every(time.Minute))
	if err := rebuilt.Validate(context.Background()); err != nil {
		t.Fatalf("second call: %v", err)
	}

	// The third call cannot get a token before its deadline: Wait refuses
	// at once, and nothing reaches the cloud.
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	err := rebuilt.Validate(ctx)
	d, ok := IsThrottled(err)
	if !ok || d < 30*time.Second {
		t.Errorf("third call = %v (retry after %v), want Throttled by the local limit", err, d)
	}
	if n := len(f.requests()); n != 2 {
		t.Errorf("cloud saw %d calls, want 2", n)
	}
	mu.Lock()
	defer mu.Unlock()
	if diff := cmp.Diff([]string{opShowQuota, opShowQuota}, ops); diff != "" {
		t.Errorf("observer (calls that went out): -want, +got:\n%s", diff)
	}
}

// logCapture is a context whose logger records every line, and a function
// that returns the lines so far.
func logCapture() (context.Context, func() []string) {
	var (
		mu   sync.Mutex
		logs []string
	)
	ctx := logr.NewContext(context.Background(), funcr.New(func(prefix, args string) {
		mu.Lock()
		defer mu.Unlock()
		logs = append(logs, prefix+" "+args)
	}, funcr.Options{}))
	return ctx, func() []string {
		mu.Lock()
		defer mu.Unlock()
		return slices.Clone(logs)
	}
}

func TestConnectInsecureWarnsOnEveryBuild(t *testing.T) {
	_, url := quotaCloud(t)
	kube := fake.NewClientBuilder().WithObjects(validSecret()).Build()
	conn := NewConnector(kube)
	ctx, logged := logCapture()

	pc := providerConfig(url)
	pc.Spec.InsecureSkipTLSVerify = true
	if _, err := conn.Connect(ctx, pc); err != nil {
		t.Fatal(err)
	}
	if _, err := conn.Connect(ctx, pc); err != nil { // cached: no new client, no new warning
		t.Fatal(err)
	}
	pc.Generation = 2
	if _, err := conn.Connect(ctx, pc); err != nil {
		t.Fatal(err)
	}
	logs := logged()
	if len(logs) != 2 {
		t.Fatalf("logs = %q, want one warning per client built (2)", logs)
	}
	for _, l := range logs {
		if !strings.Contains(l, "WARNING") || !strings.Contains(l, "insecureSkipTLSVerify") {
			t.Errorf("log %q is not a loud TLS warning", l)
		}
		if strings.Contains(l, testAK) || strings.Contains(l, testSK) {
			t.Errorf("log %q leaks credentials", l)
		}
	}
}

func TestConnectNeverLeaksCredentials(t *testing.T) {
	// Errors from every stage of Connect and of a rejected call must not
	// carry the AK or SK.
	f, srv := newFakeCloud(t)
	f.handle(http.MethodGet, path("/sdrs/quotas"), func(w http.ResponseWriter, r *http.Request) {
		// A gateway that echoes the Authorization header back.
		writeJSON(w, 401, `{"error_code":"APIGW.0301","error_msg":"bad signature in `+r.Header.Get("Authorization")+`"}`)
	})
	conn := NewConnector(fake.NewClientBuilder().WithObjects(validSecret()).Build())
	c, err := conn.Connect(context.Background(), providerConfig(srv.URL))
	if err != nil {
		t.Fatal(err)
	}
	err = c.Validate(context.Background())
	if !IsUnauthorized(err) {
		t.Fatalf("got %v, want Unauthorized", err)
	}
	if msg := err.Error(); strings.Contains(msg, testAK) || strings.Contains(msg, testSK) {
		t.Errorf("error %q leaks credentials", msg)
	}
	if s := (credentials{ak: testAK, sk: testSK}); strings.Contains(s.String(), testAK) {
		t.Error("credentials must print masked")
	}
}

func connect(t *testing.T, conn Connector, pc *drv1alpha1.ProviderConfig) *sdkClient {
	t.Helper()
	c, err := conn.Connect(context.Background(), pc)
	if err != nil {
		t.Fatalf("Connect: %v", err)
	}
	return c.(*sdkClient)
}

// A refused key is not trusted for the rest of the Secret TTL: the next
// Connect reads the Secret again, so a rotation is used at once.
func TestConnectRereadsSecretAfterRefusal(t *testing.T) {
	ctx := context.Background()
	f, srv := newFakeCloud(t)
	f.answer(http.MethodGet, path("/sdrs/quotas"), 401, `{"error":{"code":"APIGW.0301","message":"Incorrect IAM authentication information"}}`)
	kube := fake.NewClientBuilder().WithObjects(validSecret()).Build()
	clock := time.Date(2026, 11, 25, 3, 0, 0, 0, time.UTC)
	conn := NewConnector(kube)
	conn.(*connector).now = func() time.Time { return clock }
	pc := providerConfig(srv.URL)

	first := connect(t, conn, pc)
	if err := first.Validate(ctx); !IsUnauthorized(err) {
		t.Fatalf("Validate with a refused key: %v", err)
	}
	s := &corev1.Secret{}
	if err := kube.Get(ctx, client.ObjectKey{Namespace: "sdrs-system", Name: "creds"}, s); err != nil {
		t.Fatal(err)
	}
	s.Data[SecretKeyAccessKey] = []byte("HPUAROTATEDROTATED01")
	if err := kube.Update(ctx, s); err != nil {
		t.Fatal(err)
	}
	if again := connect(t, conn, pc); again == first {
		t.Fatal("within the TTL, a client whose key was refused must be rebuilt from the rotated Secret")
	}
}
