package sdrs

import (
	"context"
	"strings"
	"testing"

	"sigs.k8s.io/controller-runtime/pkg/client/fake"

	drv1alpha1 "github.com/sdrs-operator/sdrs-operator/api/v1alpha1"
)

// Plain http is refused unless the ProviderConfig opts in, before a client
// exists and so before any call: admission refuses it too, but objects
// written before that rule, or with validation off, must not leak signed
// requests.
func TestConnectRefusesPlainHTTPWithoutOptIn(t *testing.T) {
	cases := map[string]struct {
		reason     string
		mod        func(*drv1alpha1.ProviderConfig)
		wantField  string // named in the refusal; "" means accepted
		wantOptIn  bool   // the refusal tells about allowInsecureHTTP
		wantNoHTTP bool   // accepted, and no http is used
	}{
		"HTTPEndpoint": {
			reason:    "An http:// SDRS endpoint without the opt-in sends signatures in clear text.",
			mod:       func(pc *drv1alpha1.ProviderConfig) { pc.Spec.Endpoint = "http://sdrs.example.com" },
			wantField: "spec.endpoint", wantOptIn: true,
		},
		"HTTPECSEndpoint": {
			reason:    "The ECS endpoint carries the same signatures.",
			mod:       func(pc *drv1alpha1.ProviderConfig) { pc.Spec.ECSEndpoint = "http://ecs.example.com:8781/v1" },
			wantField: "spec.ecsEndpoint", wantOptIn: true,
		},
		"UpperCaseScheme": {
			reason:    "URL schemes are case-insensitive; HTTP:// is still plain http.",
			mod:       func(pc *drv1alpha1.ProviderConfig) { pc.Spec.Endpoint = "HTTP://sdrs.example.com" },
			wantField: "spec.endpoint", wantOptIn: true,
		},
		"OtherScheme": {
			reason:    "Anything but https (or opted-in http) cannot be a safe endpoint.",
			mod:       func(pc *drv1alpha1.ProviderConfig) { pc.Spec.Endpoint = "ftp://sdrs.example.com" },
			wantField: "spec.endpoint",
		},
		"NoHost": {
			reason:    "A URL without a host has nowhere safe to go.",
			mod:       func(pc *drv1alpha1.ProviderConfig) { pc.Spec.ECSEndpoint = "https:///v1" },
			wantField: "spec.ecsEndpoint",
		},
		"HTTPSOnly": {
			reason:     "https:// endpoints need no opt-in.",
			mod:        func(*drv1alpha1.ProviderConfig) {},
			wantNoHTTP: true,
		},
		"HTTPSWithOptIn": {
			reason:     "The opt-in allows http; it does not require it.",
			mod:        func(pc *drv1alpha1.ProviderConfig) { pc.Spec.AllowInsecureHTTP = true },
			wantNoHTTP: true,
		},
		"HTTPWithOptIn": {
			reason: "The explicit opt-in lets a local emulator be reached.",
			mod: func(pc *drv1alpha1.ProviderConfig) {
				pc.Spec.Endpoint, pc.Spec.AllowInsecureHTTP = "http://127.0.0.1:8780", true
			},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			pc := providerConfig("https://sdrs.example.com")
			pc.Spec.ECSEndpoint = "https://ecs.example.com"
			pc.Spec.AllowInsecureHTTP = false
			tc.mod(pc)
			kube := fake.NewClientBuilder().WithObjects(validSecret()).Build()
			c, err := NewConnector(kube).Connect(context.Background(), pc)
			if tc.wantField == "" {
				if err != nil || c == nil {
					t.Fatalf("\nReason: %s\nrefused: %v", tc.reason, err)
				}
				if got := usesHTTP(&pc.Spec); got == tc.wantNoHTTP {
					t.Errorf("usesHTTP = %v for %q and %q", got, pc.Spec.Endpoint, pc.Spec.ECSEndpoint)
				}
				return
			}
			if !IsInvalidRequest(err) || c != nil {
				t.Fatalf("\nReason: %s\ngot client %v, error %v; want an InvalidRequest and no client", tc.reason, c, err)
			}
			msg := err.Error()
			if !strings.Contains(msg, tc.wantField) {
				t.Errorf("%q does not name %s", msg, tc.wantField)
			}
			if tc.wantOptIn && (!strings.Contains(msg, "https://") || !strings.Contains(msg, "allowInsecureHTTP: true")) {
				t.Errorf("%q does not say to use https:// or set allowInsecureHTTP: true", msg)
			}
		})
	}
}

// Taking the opt-in away refuses at once, even while a client built with it
// is cached and its Secret read is fresh.
func TestConnectRefusesHTTPAfterOptInIsRemoved(t *testing.T) {
	f, url := quotaCloud(t)
	conn := NewConnector(fake.NewClientBuilder().WithObjects(validSecret()).Build())
	pc := providerConfig(url)
	connect(t, conn, pc)
	pc.Spec.AllowInsecureHTTP = false // a client that never went through admission
	if _, err := conn.Connect(context.Background(), pc); !IsInvalidRequest(err) {
		t.Fatalf("Connect without the opt-in = %v, want InvalidRequest", err)
	}
	if n := len(f.requests()); n != 0 {
		t.Errorf("%d requests reached the cloud", n)
	}
}

// The opt-in is loud: one WARNING per client built, as with
// insecureSkipTLSVerify, and none when nothing uses http.
func TestConnectPlainHTTPWarnsOnEveryBuild(t *testing.T) {
	_, url := quotaCloud(t)
	conn := NewConnector(fake.NewClientBuilder().WithObjects(validSecret()).Build())
	ctx, logged := logCapture()

	pc := providerConfig(url) // http, opted in
	for range 2 {             // the second is cached: no new client, no new warning
		if _, err := conn.Connect(ctx, pc); err != nil {
			t.Fatal(err)
		}
	}
	pc.Generation = 2
	if _, err := conn.Connect(ctx, pc); err != nil {
		t.Fatal(err)
	}
	secure := providerConfig("https://sdrs.example.com")
	secure.UID = "uid-https"
	if _, err := conn.Connect(ctx, secure); err != nil { // opted in, but all https
		t.Fatal(err)
	}
	logs := logged()
	if len(logs) != 2 {
		t.Fatalf("logs = %q, want one warning per client built over http (2)", logs)
	}
	for _, l := range logs {
		if !strings.Contains(l, "WARNING") || !strings.Contains(l, "allowInsecureHTTP") || !strings.Contains(l, `"providerConfig"="default"`) {
			t.Errorf("log %q is not a loud plain-http warning naming the ProviderConfig", l)
		}
		if strings.Contains(l, testAK) || strings.Contains(l, testSK) {
			t.Errorf("log %q leaks credentials", l)
		}
	}
}

// A client built with several insecure settings gets one warning naming
// each of them.
func TestInsecureWarningNamesEverySetting(t *testing.T) {
	both := &drv1alpha1.ProviderConfigSpec{Endpoint: "http://127.0.0.1:1", AllowInsecureHTTP: true, InsecureSkipTLSVerify: true}
	if w := insecureWarning(both); !strings.Contains(w, "insecureSkipTLSVerify") || !strings.Contains(w, "allowInsecureHTTP") {
		t.Errorf("warning %q must name both settings", w)
	}
	if w := insecureWarning(&drv1alpha1.ProviderConfigSpec{Endpoint: "https://sdrs.example.com", AllowInsecureHTTP: true}); w != "" {
		t.Errorf("an unused opt-in warns: %q", w)
	}
}
