package v1alpha1_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/yaml"

	drv1alpha1 "github.com/sdrs-operator/sdrs-operator/api/v1alpha1"
)

// admissionCase is one object the API server must refuse, and the words a
// user must see in the refusal.
type admissionCase struct {
	name   string
	reason string
	// spec builds a valid spec; the mutations make it invalid.
	spec   func() map[string]any
	mutate []mutation
	// update: create spec as is first, then apply the mutations in an
	// update (transition rules such as immutability only run there).
	update bool
	// want are substrings of the error message, all required.
	want []string
	// notWant are substrings the message must not contain (internals
	// such as a CEL evaluation error leaking to the user).
	notWant []string
	// causes is the number of field errors expected; 0 means exactly 1, so
	// that a case never passes because of some other, unintended error.
	causes int
}

func TestProtectionGroupAdmissionRefusesInvalidObjects(t *testing.T) {
	needAPIServer(t)
	ctx := context.Background()
	ns := newNamespace(t, ctx)

	cases := []admissionCase{
		// enums
		{
			name:   "desiredActiveSite outside source|target",
			reason: "the operator maps desiredActiveSite to SDRS priority_station, which knows only source and target",
			spec:   adoptSpec, mutate: []mutation{set("desiredActiveSite", "primary")},
			want: []string{"spec.desiredActiveSite", `Unsupported value: "primary"`, `"source", "target"`},
		},
		{
			name:   "failoverMode outside Planned|Forced|Auto",
			reason: "a typo such as 'planned' must not silently pick some other failover behaviour",
			spec:   adoptSpec, mutate: []mutation{set("failoverMode", "planned")},
			want: []string{"spec.failoverMode", `Unsupported value: "planned"`, `"Planned", "Forced", "Auto"`},
		},
		{
			name:   "protection outside Enabled|Disabled",
			reason: "protection decides whether replication runs; an unknown value must not be read as either",
			spec:   adoptSpec, mutate: []mutation{set("protection", "On")},
			want: []string{"spec.protection", `Unsupported value: "On"`, `"Enabled", "Disabled"`},
		},
		{
			name:   "serverPower outside Managed|Manual",
			reason: "serverPower decides whether the operator may stop production servers; it must be explicit",
			spec:   adoptSpec, mutate: []mutation{set("serverPower", "Auto")},
			want: []string{"spec.serverPower", `Unsupported value: "Auto"`, `"Managed", "Manual"`},
		},
		{
			name:   "deletionPolicy outside Orphan|Delete",
			reason: "deletionPolicy decides whether deleting the object deletes the cloud group; no guessing",
			spec:   adoptSpec, mutate: []mutation{set("deletionPolicy", "Retain")},
			want: []string{"spec.deletionPolicy", `Unsupported value: "Retain"`, `"Orphan", "Delete"`},
		},

		// exactly one of protectionGroupID and forProvider
		{
			name:   "neither protectionGroupID nor forProvider",
			reason: "without either the operator has no SDRS group to manage",
			spec:   adoptSpec, mutate: []mutation{del("protectionGroupID")},
			want: []string{"set exactly one of protectionGroupID (adopt an existing SDRS group) or forProvider (create one)"},
		},
		{
			name:   "both protectionGroupID and forProvider",
			reason: "adopting and creating at once is ambiguous: which group would the object manage?",
			spec:   createSpec, mutate: []mutation{set("protectionGroupID", "0a1b2c3d-0000-4000-8000-000000000001")},
			want: []string{"set exactly one of protectionGroupID"},
		},

		// data loss
		{
			name:   "Forced without allowDataLoss",
			reason: "a forced failover may lose data up to the RPO, so the user must accept that in writing",
			spec:   adoptSpec, mutate: []mutation{set("failoverMode", "Forced")},
			want:    []string{"failoverMode Forced and Auto may lose data", "set allowDataLoss: true"},
			notWant: []string{"no such key", "evaluating rule"},
		},
		{
			name:   "Auto without allowDataLoss",
			reason: "Auto may fall back to a forced failover, so it needs the same consent as Forced",
			spec:   adoptSpec, mutate: []mutation{set("failoverMode", "Auto")},
			want:    []string{"failoverMode Forced and Auto may lose data", "set allowDataLoss: true"},
			notWant: []string{"no such key", "evaluating rule"},
		},
		{
			name:   "Forced with allowDataLoss false",
			reason: "an explicit false is a refusal, not consent",
			spec:   adoptSpec, mutate: []mutation{set("failoverMode", "Forced"), set("allowDataLoss", false)},
			want: []string{"failoverMode Forced and Auto may lose data"},
		},

		// immutability
		{
			name:   "protectionGroupID changed",
			reason: "pointing an existing object at another SDRS group would carry one group's status and operations to another",
			spec:   adoptSpec, update: true, mutate: []mutation{set("protectionGroupID", "0a1b2c3d-0000-4000-8000-000000000002")},
			want: []string{"protectionGroupID is immutable once set"},
		},
		{
			name:   "protectionGroupID removed in favour of forProvider",
			reason: "switching from adopt to create would orphan the adopted group while status still describes it",
			spec:   adoptSpec, update: true,
			mutate: []mutation{del("protectionGroupID"), set("forProvider", createSpec()["forProvider"])},
			want:   []string{"protectionGroupID is immutable once set"},
		},
		{
			name:   "forProvider zone changed",
			reason: "SDRS cannot move a group to other zones; a changed forProvider would never converge",
			spec:   createSpec, update: true, mutate: []mutation{set("forProvider.targetAvailabilityZone", "cn-north-4c")},
			want: []string{"forProvider is immutable"},
		},
		{
			name:   "forProvider removed",
			reason: "dropping forProvider would leave the created group unmanaged",
			spec:   createSpec, update: true,
			mutate: []mutation{del("forProvider"), set("protectionGroupID", "0a1b2c3d-0000-4000-8000-000000000003")},
			want:   []string{"forProvider is immutable"},
		},

		// names, descriptions, IDs
		{
			name:   "forProvider.name with spaces",
			reason: "SDRS accepts only letters, digits, '.', '_' and '-' in a group name",
			spec:   createSpec, mutate: []mutation{set("forProvider.name", "my group")},
			want: []string{"spec.forProvider.name", "should match"},
		},
		{
			name:   "forProvider.name longer than 64",
			reason: "SDRS limits a group name to 64 bytes",
			spec:   createSpec, mutate: []mutation{set("forProvider.name", strings.Repeat("a", 65))},
			want: []string{"spec.forProvider.name", "Too long", "64"},
		},
		{
			name:   "forProvider.name empty",
			reason: "SDRS needs a name to create a group",
			spec:   createSpec, mutate: []mutation{set("forProvider.name", "")},
			want: []string{"spec.forProvider.name", "at least 1 chars long"},
		},
		{
			name:   "description with '<'",
			reason: "SDRS rejects '<' and '>' in descriptions; refusing at admission beats a failed create job",
			spec:   createSpec, mutate: []mutation{set("forProvider.description", "<script>")},
			want: []string{"spec.forProvider.description", "should match"},
		},
		{
			name:   "description longer than 64",
			reason: "SDRS limits a description to 64 bytes",
			spec:   createSpec, mutate: []mutation{set("forProvider.description", strings.Repeat("d", 65))},
			want: []string{"spec.forProvider.description", "Too long"},
		},
		{
			name:   "protectionGroupID with bad characters",
			reason: "an SDRS group ID is a UUID; anything else would only fail later with a less clear error",
			spec:   adoptSpec, mutate: []mutation{set("protectionGroupID", "group 1/../x")},
			want: []string{"spec.protectionGroupID", "should match"},
		},
		{
			name:   "protectionGroupID longer than 64",
			reason: "IDs are bounded so that CEL cost estimates and status stay small",
			spec:   adoptSpec, mutate: []mutation{set("protectionGroupID", strings.Repeat("a", 65))},
			want: []string{"spec.protectionGroupID", "Too long"},
		},
		{
			name:   "providerConfigRef.name empty",
			reason: "an empty reference would make the operator look up a ProviderConfig named \"\"",
			spec:   adoptSpec, mutate: []mutation{set("providerConfigRef.name", "")},
			want: []string{"spec.providerConfigRef.name"},
		},

		// required fields
		{
			name:   "spec missing",
			reason: "an object without spec declares nothing; the API server must say so rather than the operator",
			spec:   func() map[string]any { return nil },
			want:   []string{"spec", "Required value"},
		},
		{
			name:   "desiredActiveSite missing",
			reason: "the desired site is the whole point of the object; no default is safe",
			spec:   adoptSpec, mutate: []mutation{del("desiredActiveSite")},
			want: []string{"spec.desiredActiveSite", "Required value"},
		},
		{
			name:   "description of 64 characters but 128 bytes",
			reason: "SDRS counts the 64-byte limit in UTF-8 bytes, which maxLength (characters) does not catch",
			spec:   createSpec, mutate: []mutation{set("forProvider.description", strings.Repeat("é", 64))},
			want: []string{"spec.forProvider.description", "at most 64 bytes in UTF-8"},
		},
		{
			name:   "source and target zone the same",
			reason: "SDRS replicates between two zones; one zone for both would only fail in the create job",
			spec:   createSpec, mutate: []mutation{set("forProvider.targetAvailabilityZone", "cn-north-4a")},
			want: []string{"spec.forProvider", "sourceAvailabilityZone and targetAvailabilityZone must differ"},
		},
		{
			name:   "forProvider.name missing",
			reason: "SDRS needs a name to create a group",
			spec:   createSpec, mutate: []mutation{del("forProvider.name")},
			want: []string{"spec.forProvider.name", "Required value"},
		},
		{
			name:   "forProvider.sourceAvailabilityZone missing",
			reason: "SDRS needs the production zone to create a group",
			spec:   createSpec, mutate: []mutation{del("forProvider.sourceAvailabilityZone")},
			want: []string{"spec.forProvider.sourceAvailabilityZone", "Required value"},
		},
		{
			name:   "forProvider.targetAvailabilityZone missing",
			reason: "SDRS needs the disaster-recovery zone to create a group",
			spec:   createSpec, mutate: []mutation{del("forProvider.targetAvailabilityZone")},
			want: []string{"spec.forProvider.targetAvailabilityZone", "Required value"},
		},
		{
			name:   "forProvider.domainID missing",
			reason: "SDRS needs the active-active domain joining the zones",
			spec:   createSpec, mutate: []mutation{del("forProvider.domainID")},
			want: []string{"spec.forProvider.domainID", "Required value"},
		},
		{
			name:   "forProvider.sourceVpcID missing",
			reason: "SDRS needs the VPC of the production servers",
			spec:   createSpec, mutate: []mutation{del("forProvider.sourceVpcID")},
			want: []string{"spec.forProvider.sourceVpcID", "Required value"},
		},
	}

	runAdmissionCases(t, ctx, pgGVK, ns, "pg", cases)
}

// runAdmissionCases creates (or creates, then updates) each case's object
// and asserts the API server refuses it as the case says.
func runAdmissionCases(t *testing.T, ctx context.Context, gvk schema.GroupVersionKind, ns, prefix string, cases []admissionCase) {
	t.Helper()
	for i, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			obj := newObject(gvk, ns, fmt.Sprintf("%s-%d", prefix, i), tc.spec())
			if tc.update {
				if err := k8s.Create(ctx, obj); err != nil {
					t.Fatalf("the valid object to update was refused: %v", err)
				}
				for _, m := range tc.mutate {
					m(obj.Object["spec"].(map[string]any))
				}
				assertRefused(t, k8s.Update(ctx, obj), tc)
				return
			}
			for _, m := range tc.mutate {
				m(obj.Object["spec"].(map[string]any))
			}
			assertRefused(t, k8s.Create(ctx, obj), tc)
		})
	}
}

func TestProviderConfigAdmissionRefusesInvalidObjects(t *testing.T) {
	needAPIServer(t)
	ctx := context.Background()

	cases := []admissionCase{
		{
			name:   "region with upper case and spaces",
			reason: "region IDs are lower-case words joined by '-', such as cn-north-4; the SDK finds no endpoint otherwise",
			spec:   pcSpec, mutate: []mutation{set("region", "CN North 4")},
			want: []string{"spec.region", "should match"},
		},
		{
			name:   "region missing",
			reason: "without a region the SDK cannot pick an endpoint or sign requests",
			spec:   pcSpec, mutate: []mutation{del("region")},
			want: []string{"spec.region", "Required value"},
		},
		{
			name:   "projectID with a slash",
			reason: "the project ID becomes part of every SDRS URL path; a '/' would change the path",
			spec:   pcSpec, mutate: []mutation{set("projectID", "abc/def")},
			want: []string{"spec.projectID", "should match"},
		},
		{
			name:   "projectID missing",
			reason: "every SDRS path starts with the project ID",
			spec:   pcSpec, mutate: []mutation{del("projectID")},
			want: []string{"spec.projectID", "Required value"},
		},
		{
			name:   "endpoint not http or https",
			reason: "the SDK speaks HTTP(S) only; ftp:// or a bare host would fail at every call",
			spec:   pcSpec, mutate: []mutation{set("endpoint", "ftp://sdrs.example.com")},
			want: []string{"spec.endpoint", "endpoint must be an http:// or https:// URL"},
		},
		{
			name:   "endpoint without a scheme",
			reason: "a bare host name is ambiguous between http and https",
			spec:   pcSpec, mutate: []mutation{set("endpoint", "sdrs.example.com")},
			want: []string{"spec.endpoint", "endpoint must be an http:// or https:// URL"},
		},
		{
			name:   "endpoint with a space",
			reason: "a pasted URL with a space would break request signing in obscure ways",
			spec:   pcSpec, mutate: []mutation{set("endpoint", "https://sdrs.example.com/a b")},
			want: []string{"spec.endpoint", "no spaces"},
		},
		{
			name:   "endpoint without a host",
			reason: "https:/// has a scheme but nowhere to connect to",
			spec:   pcSpec, mutate: []mutation{set("endpoint", "https:///v1")},
			want: []string{"spec.endpoint", "with a host"},
		},
		{
			name:   "ecsEndpoint not http or https",
			reason: "the ECS endpoint follows the same rule as the SDRS one",
			spec:   pcSpec, mutate: []mutation{set("ecsEndpoint", "tcp://ecs.example.com")},
			want: []string{"spec.ecsEndpoint", "ecsEndpoint must be an http:// or https:// URL"},
		},
		{
			name:   "http endpoint without allowInsecureHTTP",
			reason: "plain http sends request signatures and session tokens in clear text and lets anyone on the path forge SDRS's answers",
			spec:   pcSpec, mutate: []mutation{set("endpoint", "http://sdrs.example.com")},
			want: []string{"spec.endpoint", "plain http://", "use https://", "allowInsecureHTTP: true"},
		},
		{
			name:   "http ecsEndpoint without allowInsecureHTTP",
			reason: "ECS calls carry the same signatures as SDRS calls",
			spec:   pcSpec, mutate: []mutation{set("endpoint", "https://sdrs.example.com"), set("ecsEndpoint", "http://ecs.example.com:8781")},
			want: []string{"spec.ecsEndpoint", "plain http://", "use https://", "allowInsecureHTTP: true"},
		},
		{
			name:   "http endpoint with allowInsecureHTTP false",
			reason: "an explicit false is no opt-in",
			spec:   pcSpec, mutate: []mutation{set("endpoint", "http://sdrs.example.com"), set("allowInsecureHTTP", false)},
			want: []string{"spec.endpoint", "allowInsecureHTTP: true"},
		},
		{
			name:   "both endpoints http without allowInsecureHTTP",
			reason: "each endpoint is refused on its own, so the user sees both",
			spec:   pcSpec, mutate: []mutation{set("endpoint", "http://sdrs.example.com"), set("ecsEndpoint", "http://ecs.example.com")},
			want: []string{"spec.endpoint", "spec.ecsEndpoint"}, causes: 2,
		},
		{
			name:   "namespaceSelector.matchLabels written as a string",
			reason: "team=a is kubectl's selector syntax, not the API's map; refused here, not when a group first uses the ProviderConfig",
			spec:   pcSpec, mutate: []mutation{set("namespaceSelector", map[string]any{"matchLabels": "team=a"})},
			want: []string{"spec.namespaceSelector.matchLabels"},
		},
		{
			name:   "credentialsSecretRef missing",
			reason: "without credentials no call can be signed",
			spec:   pcSpec, mutate: []mutation{del("credentialsSecretRef")},
			want: []string{"spec.credentialsSecretRef", "Required value"},
		},
		{
			name:   "credentialsSecretRef.name missing",
			reason: "the Secret must be named; there is no default Secret",
			spec:   pcSpec, mutate: []mutation{del("credentialsSecretRef.name")},
			want: []string{"spec.credentialsSecretRef.name", "Required value"},
		},
		{
			name:   "credentialsSecretRef.namespace missing",
			reason: "ProviderConfig is cluster-scoped, so there is no namespace to fall back on",
			spec:   pcSpec, mutate: []mutation{del("credentialsSecretRef.namespace")},
			want: []string{"spec.credentialsSecretRef.namespace", "Required value"},
		},
		{
			name:   "credentialsSecretRef.namespace not a DNS label",
			reason: "a namespace name that cannot exist would fail only when the operator reads the Secret",
			spec:   pcSpec, mutate: []mutation{set("credentialsSecretRef.namespace", "Kube_System")},
			want: []string{"spec.credentialsSecretRef.namespace", "should match"},
		},
		{
			name:   "caBundle together with insecureSkipTLSVerify",
			reason: "trusting a CA and trusting everything contradict each other; the user must pick one",
			spec:   pcSpec,
			mutate: []mutation{set("caBundle", "LS0tLS1CRUdJTiBDRVJUSUZJQ0FURS0tLS0t"), set("insecureSkipTLSVerify", true)},
			want:   []string{"set either caBundle or insecureSkipTLSVerify, not both"},
		},
		{
			name:   "syncInterval not a duration",
			reason: "metav1.Duration cannot decode it, so one bad object would break every list and watch of ProviderConfigs in the operator",
			spec:   pcSpec, mutate: []mutation{set("syncInterval", "banana")},
			want: []string{"spec.syncInterval", "syncInterval must be a duration of at least 1s"},
		},
		{
			name:   "syncInterval in days",
			reason: "Go durations have no 'd' unit; '1d' would fail to decode like any other garbage",
			spec:   pcSpec, mutate: []mutation{set("syncInterval", "1d")},
			want: []string{"spec.syncInterval", "units ns, us, ms, s, m, h"},
		},
		{
			name:   "syncInterval negative",
			reason: "a negative interval would requeue at once, forever",
			spec:   pcSpec, mutate: []mutation{set("syncInterval", "-5m")},
			want: []string{"spec.syncInterval", "at least 1s"},
		},
		{
			name:   "syncInterval below 1s",
			reason: "reading every group from SDRS more than once a second only earns throttling",
			spec:   pcSpec, mutate: []mutation{set("syncInterval", "500ms")},
			want: []string{"spec.syncInterval", "at least 1s"},
		},
		{
			name:   "rateLimit.callsPerSecond zero",
			reason: "a zero rate would block every cloud call forever",
			spec:   pcSpec, mutate: []mutation{set("rateLimit", map[string]any{"callsPerSecond": 0})},
			want: []string{"spec.rateLimit.callsPerSecond", "greater than or equal to 1"},
		},
		{
			name:   "rateLimit.callsPerSecond above 1000",
			reason: "far above what SDRS allows per project; it would only earn 429s",
			spec:   pcSpec, mutate: []mutation{set("rateLimit", map[string]any{"callsPerSecond": 1001})},
			want: []string{"spec.rateLimit.callsPerSecond", "less than or equal to 1000"},
		},
		{
			name:   "rateLimit.burst zero",
			reason: "a token bucket of size zero lets no call through",
			spec:   pcSpec, mutate: []mutation{set("rateLimit", map[string]any{"burst": 0})},
			want: []string{"spec.rateLimit.burst", "greater than or equal to 1"},
		},
		{
			name:   "rateLimit.burst above 5000",
			reason: "bursts are bounded like the rate",
			spec:   pcSpec, mutate: []mutation{set("rateLimit", map[string]any{"burst": 5001})},
			want: []string{"spec.rateLimit.burst", "less than or equal to 5000"},
		},
	}

	runAdmissionCases(t, ctx, pcGVK, "", "pc-invalid", cases)
}

func TestProtectionGroupAdmissionAcceptsValidObjectsAndDefaults(t *testing.T) {
	needAPIServer(t)
	ctx := context.Background()
	ns := newNamespace(t, ctx)

	t.Run("minimal adopt gets every default", func(t *testing.T) {
		// The defaults are a contract: Planned (no data loss), protection on,
		// servers managed, Orphan (deleting the object never touches the cloud).
		obj := newObject(pgGVK, ns, "minimal-adopt", adoptSpec())
		if err := k8s.Create(ctx, obj); err != nil {
			t.Fatalf("a minimal adopting ProtectionGroup was refused: %v", err)
		}
		pg := &drv1alpha1.ProtectionGroup{}
		if err := k8s.Get(ctx, client.ObjectKeyFromObject(obj), pg); err != nil {
			t.Fatal(err)
		}
		want := drv1alpha1.ProtectionGroupSpec{
			ProviderConfigRef: drv1alpha1.ProviderConfigReference{Name: "default"},
			ProtectionGroupID: "0a1b2c3d-0000-4000-8000-000000000000",
			DesiredActiveSite: drv1alpha1.SiteSource,
			FailoverMode:      drv1alpha1.FailoverPlanned,
			Protection:        drv1alpha1.ProtectionEnabled,
			ServerPower:       drv1alpha1.ServerPowerManaged,
			DeletionPolicy:    drv1alpha1.DeletionOrphan,
			DrillInterval:     &metav1.Duration{Duration: 90 * 24 * time.Hour},
		}
		if !reflect.DeepEqual(pg.Spec, want) {
			t.Errorf("defaults (-want, +got):\n-%+v\n+%+v", want, pg.Spec)
		}
		// status defaults to {observedGeneration: 0}, so kstatus and
		// kubectl wait see "not yet reconciled" before the first write.
		got := &unstructured.Unstructured{}
		got.SetGroupVersionKind(pgGVK)
		if err := k8s.Get(ctx, client.ObjectKeyFromObject(obj), got); err != nil {
			t.Fatal(err)
		}
		if og, found, _ := unstructured.NestedInt64(got.Object, "status", "observedGeneration"); !found || og != 0 {
			t.Errorf("status.observedGeneration default: found=%v value=%d, want 0", found, og)
		}
	})

	valid := []struct {
		name, reason string
		spec         func() map[string]any
		mutate       []mutation
		update       []mutation
	}{
		{
			name:   "create with every forProvider field",
			reason: "the create path must not be blocked by any rule meant for bad input",
			spec:   createSpec,
		},
		{
			name:   "Forced with allowDataLoss",
			reason: "consent given: the data-loss rule must let it through",
			spec:   adoptSpec, mutate: []mutation{set("failoverMode", "Forced"), set("allowDataLoss", true)},
		},
		{
			name:   "Auto with allowDataLoss",
			reason: "consent given for Auto too",
			spec:   adoptSpec, mutate: []mutation{set("failoverMode", "Auto"), set("allowDataLoss", true)},
		},
		{
			name:   "description of exactly 64 characters with a dash and dots",
			reason: "the limits are inclusive and ordinary punctuation is allowed",
			spec:   createSpec, mutate: []mutation{set("forProvider.description", strings.Repeat("a-b.", 16))},
		},
		{
			name:   "description with non-ASCII text within 64 bytes",
			reason: "descriptions may be in any language as long as they fit SDRS's byte limit",
			spec:   createSpec, mutate: []mutation{set("forProvider.description", strings.Repeat("é", 32))},
		},
		{
			name:   "name of exactly 64 characters",
			reason: "64 is the SDRS limit, inclusive",
			spec:   createSpec, mutate: []mutation{set("forProvider.name", strings.Repeat("n", 64))},
		},
		{
			name:   "flip desiredActiveSite on an adopted group",
			reason: "the immutability rules must not block the one change the object exists for",
			spec:   adoptSpec, update: []mutation{set("desiredActiveSite", "target")},
		},
		{
			name:   "flip desiredActiveSite and mode on a created group",
			reason: "forProvider stays immutable but everything else may change",
			spec:   createSpec,
			update: []mutation{set("desiredActiveSite", "target"), set("failoverMode", "Forced"), set("allowDataLoss", true)},
		},
		{
			name:   "switch protection off and deletionPolicy to Delete",
			reason: "protection and deletion policy are ordinary, mutable settings",
			spec:   adoptSpec, update: []mutation{set("protection", "Disabled"), set("deletionPolicy", "Delete"), set("serverPower", "Manual")},
		},
	}
	for i, tc := range valid {
		t.Run(tc.name, func(t *testing.T) {
			obj := newObject(pgGVK, ns, fmt.Sprintf("valid-%d", i), tc.spec())
			for _, m := range tc.mutate {
				m(obj.Object["spec"].(map[string]any))
			}
			if err := k8s.Create(ctx, obj); err != nil {
				t.Fatalf("refused (%s): %v", tc.reason, err)
			}
			if tc.update == nil {
				return
			}
			for _, m := range tc.update {
				m(obj.Object["spec"].(map[string]any))
			}
			if err := k8s.Update(ctx, obj); err != nil {
				t.Fatalf("update refused (%s): %v", tc.reason, err)
			}
		})
	}
}

func TestProviderConfigAdmissionAcceptsValidObjectsAndDefaults(t *testing.T) {
	needAPIServer(t)
	ctx := context.Background()

	t.Run("minimal gets rate limit and sync interval defaults", func(t *testing.T) {
		// The operator relies on a non-zero rate limit and sync interval;
		// the API server fills them in so that no code path sees zero.
		obj := newObject(pcGVK, "", "pc-minimal", pcSpec())
		if err := k8s.Create(ctx, obj); err != nil {
			t.Fatalf("a minimal ProviderConfig was refused: %v", err)
		}
		pc := &drv1alpha1.ProviderConfig{}
		if err := k8s.Get(ctx, client.ObjectKeyFromObject(obj), pc); err != nil {
			t.Fatal(err)
		}
		if got, want := pc.Spec.RateLimit, (drv1alpha1.RateLimit{CallsPerSecond: 20, Burst: 40}); got != want {
			t.Errorf("rateLimit: want %+v, got %+v", want, got)
		}
		if got, want := pc.Spec.SyncInterval.Duration, 5*time.Minute; got != want {
			t.Errorf("syncInterval: want %s, got %s", want, got)
		}
		if pc.Spec.Endpoint != "" || pc.Spec.ECSEndpoint != "" || pc.Spec.InsecureSkipTLSVerify || pc.Spec.CABundle != nil ||
			pc.Spec.AllowInsecureHTTP || pc.Spec.NamespaceSelector != nil {
			t.Errorf("optional fields must stay empty: %+v", pc.Spec)
		}
	})

	valid := []struct {
		name, reason string
		mutate       []mutation
	}{
		{
			name:   "http endpoints with port and path, opted in",
			reason: "the local emulator uses plain http, ports and path prefixes, with the explicit opt-in",
			mutate: []mutation{set("endpoint", "http://127.0.0.1:8443/sdrs"), set("ecsEndpoint", "https://ecs.cn-north-4.myhuaweicloud.com"),
				set("allowInsecureHTTP", true)},
		},
		{
			name:   "https endpoints without the opt-in",
			reason: "https needs no opt-in; private endpoints use ports and path prefixes",
			mutate: []mutation{set("endpoint", "https://sdrs.example.internal:8443/sdrs"), set("ecsEndpoint", "https://ecs.cn-north-4.myhuaweicloud.com")},
		},
		{
			name:   "allowInsecureHTTP without endpoints",
			reason: "the opt-in allows http; it does not require it",
			mutate: []mutation{set("allowInsecureHTTP", true)},
		},
		{
			name:   "namespaceSelector with labels and expressions",
			reason: "the namespaces that may use a production ProviderConfig are picked by label",
			mutate: []mutation{set("namespaceSelector", map[string]any{
				"matchLabels":      map[string]any{"sdrs.io/tenant": "payments"},
				"matchExpressions": []any{map[string]any{"key": "env", "operator": "In", "values": []any{"prod", "dr"}}},
			})},
		},
		{
			name:   "empty namespaceSelector",
			reason: "{} selects every namespace, as everywhere in Kubernetes",
			mutate: []mutation{set("namespaceSelector", map[string]any{})},
		},
		{
			name:   "caBundle alone",
			reason: "a private CA without skipping verification is the recommended setup",
			mutate: []mutation{set("caBundle", "LS0tLS1CRUdJTiBDRVJUSUZJQ0FURS0tLS0t")},
		},
		{
			name:   "insecureSkipTLSVerify alone",
			reason: "allowed for tests; the operator warns about it",
			mutate: []mutation{set("insecureSkipTLSVerify", true)},
		},
		{
			name:   "insecureSkipTLSVerify false with caBundle",
			reason: "an explicit false is not a contradiction",
			mutate: []mutation{set("caBundle", "LS0tLS1CRUdJTiBDRVJUSUZJQ0FURS0tLS0t"), set("insecureSkipTLSVerify", false)},
		},
		{
			name:   "rate limit at both bounds",
			reason: "the bounds are inclusive",
			mutate: []mutation{set("rateLimit", map[string]any{"callsPerSecond": 1, "burst": 5000})},
		},
		{
			name:   "short sync interval",
			reason: "tests and the local run read groups every few seconds",
			mutate: []mutation{set("syncInterval", "2s")},
		},
		{
			name:   "compound and fractional sync interval",
			reason: "every form metav1.Duration decodes within the rule must be accepted",
			mutate: []mutation{set("syncInterval", "1h30m")},
		},
		{
			name:   "fractional sync interval of exactly 1s",
			reason: "the 1s floor is inclusive and fractions are Go duration syntax",
			mutate: []mutation{set("syncInterval", "0.5s500ms")},
		},
	}
	for i, tc := range valid {
		t.Run(tc.name, func(t *testing.T) {
			obj := newObject(pcGVK, "", fmt.Sprintf("pc-valid-%d", i), pcSpec())
			for _, m := range tc.mutate {
				m(obj.Object["spec"].(map[string]any))
			}
			if err := k8s.Create(ctx, obj); err != nil {
				t.Fatalf("refused (%s): %v", tc.reason, err)
			}
		})
	}
}

// --- helpers ---------------------------------------------------------------

// adoptSpec is the smallest valid ProtectionGroup spec: adopt a group.
func adoptSpec() map[string]any {
	return map[string]any{
		"protectionGroupID": "0a1b2c3d-0000-4000-8000-000000000000",
		"desiredActiveSite": "source",
	}
}

// createSpec is a valid ProtectionGroup spec that creates a group.
func createSpec() map[string]any {
	return map[string]any{
		"desiredActiveSite": "source",
		"forProvider": map[string]any{
			"name":                   "erp-prod.group_1",
			"description":            "ERP production (tier-1)",
			"sourceAvailabilityZone": "cn-north-4a",
			"targetAvailabilityZone": "cn-north-4b",
			"domainID":               "fb4bb8e3-a574-4437-a156-78c916aeea4d",
			"sourceVpcID":            "046852ef-c49d-409b-8389-546aaaa5701f",
		},
	}
}

// pcSpec is the smallest valid ProviderConfig spec.
func pcSpec() map[string]any {
	return map[string]any{
		"region":    "cn-north-4",
		"projectID": "0123456789abcdef0123456789abcdef",
		"credentialsSecretRef": map[string]any{
			"namespace": "sdrs-system",
			"name":      "sdrs-credentials",
		},
	}
}

// mutation changes a spec in place.
type mutation func(spec map[string]any)

// set sets a dotted path in the spec, creating maps on the way.
func set(path string, value any) mutation {
	return func(spec map[string]any) {
		keys := strings.Split(path, ".")
		m := spec
		for _, k := range keys[:len(keys)-1] {
			next, ok := m[k].(map[string]any)
			if !ok {
				next = map[string]any{}
				m[k] = next
			}
			m = next
		}
		m[keys[len(keys)-1]] = value
	}
}

// del removes a dotted path from the spec.
func del(path string) mutation {
	return func(spec map[string]any) {
		keys := strings.Split(path, ".")
		m := spec
		for _, k := range keys[:len(keys)-1] {
			next, ok := m[k].(map[string]any)
			if !ok {
				return
			}
			m = next
		}
		delete(m, keys[len(keys)-1])
	}
}

// newObject builds an unstructured object, so that a case can leave out a
// field entirely (a typed struct would send its zero value instead).
func newObject(gvk schema.GroupVersionKind, namespace, name string, spec map[string]any) *unstructured.Unstructured {
	u := &unstructured.Unstructured{Object: map[string]any{}}
	if spec != nil {
		u.Object["spec"] = spec
	}
	u.SetGroupVersionKind(gvk)
	u.SetNamespace(namespace)
	u.SetName(name)
	return u
}

// newNamespace gives a test its own namespace.
func newNamespace(t *testing.T, ctx context.Context) string {
	t.Helper()
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{GenerateName: "validation-"}}
	if err := k8s.Create(ctx, ns); err != nil {
		t.Fatalf("cannot create a namespace: %v", err)
	}
	t.Cleanup(func() { _ = k8s.Delete(context.Background(), ns) })
	return ns.Name
}

// assertRefused checks that the API server refused the object as invalid,
// for the expected reason only, with every expected substring.
func assertRefused(t *testing.T, err error, tc admissionCase) {
	t.Helper()
	if err == nil {
		t.Fatalf("accepted, but must be refused: %s", tc.reason)
	}
	if !apierrors.IsInvalid(err) {
		t.Fatalf("want an Invalid (422) error, got %v", err)
	}
	for _, w := range tc.want {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("error does not say %q (%s):\n%v", w, tc.reason, err)
		}
	}
	for _, w := range tc.notWant {
		if strings.Contains(err.Error(), w) {
			t.Errorf("error says %q, which means nothing to a user:\n%v", w, err)
		}
	}
	want := tc.causes
	if want == 0 {
		want = 1
	}
	var status apierrors.APIStatus
	if !errors.As(err, &status) || status.Status().Details == nil {
		t.Fatalf("the error has no field details: %v", err)
	}
	got := 0
	for _, c := range status.Status().Details.Causes {
		// When OpenAPI validation fails, the API server adds a note that
		// it skipped the CEL rules; that note is not a second error.
		if !strings.Contains(c.Message, "some validation rules were not checked") {
			got++
		}
	}
	if got != want {
		t.Errorf("want %d field error(s), got %d: %v", want, got, err)
	}
}

func TestSamplesPassAdmission(t *testing.T) {
	// The samples are what a new user applies first; a rule that refuses
	// them would break the five-minute tour. run-local substitutes the
	// group ID placeholder, and so does this test.
	needAPIServer(t)
	ctx := context.Background()
	ns := newNamespace(t, ctx)
	files, err := filepath.Glob(filepath.Join("..", "..", "config", "samples", "dr_v1alpha1_*.yaml"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no samples found: %v", err)
	}
	seen := 0
	for _, f := range files {
		raw, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		text := strings.ReplaceAll(string(raw), "REPLACE_WITH_SDRS_GROUP_ID", "0a1b2c3d-0000-4000-8000-0000000000ff")
		for _, doc := range strings.Split(text, "\n---") {
			u := &unstructured.Unstructured{}
			if err := yaml.Unmarshal([]byte(doc), &u.Object); err != nil {
				t.Fatalf("%s: %v", f, err)
			}
			if len(u.Object) == 0 {
				continue
			}
			if k := u.GetKind(); k == "ProtectionGroup" || k == "DRPlan" {
				u.SetNamespace(ns) // no namespace in the sample: it goes where it is applied
			} else {
				u.SetName("sample-" + u.GetName()) // leave the name "default" to no one
			}
			if err := k8s.Create(ctx, u); err != nil {
				t.Errorf("%s: %s %s refused: %v", filepath.Base(f), u.GetKind(), u.GetName(), err)
			}
			seen++
		}
	}
	if seen < 2 {
		t.Errorf("want at least one ProtectionGroup and one ProviderConfig sample, found %d objects", seen)
	}
}
