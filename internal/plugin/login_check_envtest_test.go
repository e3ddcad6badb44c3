package plugin_test

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	drv1alpha1 "github.com/sdrs-operator/sdrs-operator/api/v1alpha1"
	"github.com/sdrs-operator/sdrs-operator/internal/plugin/cli"
	loginverb "github.com/sdrs-operator/sdrs-operator/internal/plugin/login"
)

// TestLoginAndCheckAgainstAPIServer runs login and check through the root
// command against a real API server, with statuses written through the
// status subresource as the operator would (so the CRD's schema accepts
// them), and checks that check writes nothing.
func TestLoginAndCheckAgainstAPIServer(t *testing.T) {
	if testing.Short() {
		t.Skip("needs the pinned control plane (make control-plane); -short runs the unit tests only")
	}
	ctx := t.Context()
	c, kubeconfig := startAPIServer(t)
	run := func(args ...string) (int, string, string) {
		return execute(append([]string{"--kubeconfig", kubeconfig, "-n", "dr"}, args...)...)
	}
	checked := metav1.NewTime(time.Now().Add(-time.Minute).Truncate(time.Second))
	until := metav1.NewTime(time.Now().Add(-10 * time.Minute).Truncate(time.Second))
	ready := drv1alpha1.FailoverCheck{Ready: true}
	advised := drv1alpha1.FailoverCheck{Reason: drv1alpha1.FailoverAdvisedReason, Message: "pair rp-1 reports fault level 2"}
	row := func(srv, id, role, kase string, cred drv1alpha1.Credential, u *metav1.Time) drv1alpha1.ServerLogin {
		return drv1alpha1.ServerLogin{Server: srv, ID: id, Role: role, Case: kase, Credential: cred, Use: "use " + string(cred), Until: u}
	}
	withStatus(t, c, "app1", map[string]string{"tier": "app"}, func(st *drv1alpha1.ProtectionGroupStatus) {
		st.Readiness = &drv1alpha1.Readiness{Planned: ready, Forced: ready, ReplicationPairs: 1, RPOExceededPairs: -1, CheckedAt: &checked}
		st.FirstSwap = &drv1alpha1.FirstSwap{State: drv1alpha1.FirstSwapUnknown}
		st.Instances = []drv1alpha1.InstanceObservation{{ID: "pi-1", Name: "win", OSType: "Windows",
			Login: &drv1alpha1.InstanceLogin{Method: drv1alpha1.LoginPassword, GuestInitAgent: drv1alpha1.GuestInitInstalled,
				FirstSwap: drv1alpha1.FirstSwapUnknown, Servers: []drv1alpha1.ServerLogin{
					row("A", "srv-a", "Production", loginverb.CaseNoSwapYet, drv1alpha1.CredentialOwn, nil),
					row("B", "srv-b", "DisasterRecovery", loginverb.CaseNoSwapYet, drv1alpha1.CredentialOwn, nil),
					row("A", "srv-a", "Production", loginverb.CaseSwapped, drv1alpha1.CredentialOwn, nil),
					row("B", "srv-b", "DisasterRecovery", loginverb.CaseSwapped, drv1alpha1.CredentialBResetPassword, &until),
				}}}}
	})
	withStatus(t, c, "app2", map[string]string{"tier": "app"}, func(st *drv1alpha1.ProtectionGroupStatus) {
		st.Readiness = &drv1alpha1.Readiness{Planned: advised, Forced: ready, WorstFaultLevel: 2, ReplicationPairs: 1,
			UnhealthyInstances: []string{"db"}, RPOExceededPairs: 0, CheckedAt: &checked}
	})
	withStatus(t, c, "bare", nil, nil)

	versions := func() map[string]string {
		var list drv1alpha1.ProtectionGroupList
		if err := c.List(ctx, &list, client.InNamespace("dr")); err != nil {
			t.Fatal(err)
		}
		out := map[string]string{}
		for _, pg := range list.Items {
			out[pg.Name] = pg.ResourceVersion
		}
		return out
	}
	before := versions()

	t.Run("login shows both cases of an adopted group", func(t *testing.T) {
		code, out, stderr := run("login", "app1")
		for _, w := range []string{
			"First swap: Unknown: this group was adopted; its past is unknown, so both cases are shown\n",
			"Guest init agent: Installed (the default)\n",
			"If no planned failover, failover or drill ever ran:\n",
			"If one did:\n",
			"win        Windows   Password   B srv-b   DisasterRecovery   use ServerBResetPassword   expired\n",
		} {
			if !strings.Contains(out, w) {
				t.Errorf("stdout lacks %q:\n%s", w, out)
			}
		}
		if code != 0 || stderr != "" {
			t.Errorf("exit %d, stderr %q", code, stderr)
		}
	})

	t.Run("login -o json prints status.instances[].login", func(t *testing.T) {
		code, out, _ := run("login", "app1", "-o", "json")
		var got []loginverb.Instance
		if err := json.Unmarshal([]byte(out), &got); code != 0 || err != nil || len(got) != 1 || len(got[0].Login.Servers) != 4 ||
			!got[0].Login.Servers[3].Until.Equal(&until) {
			t.Errorf("exit %d, err %v, %s", code, err, out)
		}
	})

	t.Run("login before the operator read the instances exits 1", func(t *testing.T) {
		code, out, stderr := run("login", "bare")
		if code != cli.ExitError || out != "" || !strings.Contains(stderr, "no login guidance yet: the operator has not read the group's instances") {
			t.Errorf("exit %d, stdout %q, stderr %q", code, out, stderr)
		}
	})

	t.Run("check: planned ready exits 0", func(t *testing.T) {
		code, out, stderr := run("check", "app1")
		want := "" +
			"NAME   ACTIVE   PLANNED   FORCED   FAULT   UNHEALTHY   CHECKED\n" +
			"app1   source   yes       yes      0       0           "
		if code != 0 || !strings.HasPrefix(out, want) || !strings.HasSuffix(out, " ago\n") || stderr != "" {
			t.Errorf("exit %d, stderr %q, stdout:\n%s", code, stderr, out)
		}
	})

	t.Run("check: only forced exits 7, or 0 with --for forced", func(t *testing.T) {
		code, out, stderr := run("check", "-l", "tier=app")
		if code != cli.ExitForcedOnly || !strings.Contains(out, "app2   source   no: FailoverAdvised   yes      2 (failover advised)   1") ||
			!strings.Contains(out, "  planned: no, FailoverAdvised: pair rp-1 reports fault level 2\n") ||
			!strings.Contains(stderr, "error: 1 of 2 groups would run only a forced failover now") {
			t.Errorf("exit %d, stderr %q, stdout:\n%s", code, stderr, out)
		}
		if code, _, stderr := run("check", "-l", "tier=app", "--for", "forced"); code != 0 {
			t.Errorf("--for forced: exit %d, stderr %q", code, stderr)
		}
	})

	t.Run("check: readiness not read exits 8", func(t *testing.T) {
		code, out, stderr := run("check", "--all")
		if code != cli.ExitNotReady || !strings.Contains(out, "bare   -        no: ReadinessUnknown") ||
			!strings.Contains(stderr, "1 of 3 groups would run no failover, planned or forced, now: bare") {
			t.Errorf("exit %d, stderr %q, stdout:\n%s", code, stderr, out)
		}
	})

	t.Run("check: usage errors exit 2", func(t *testing.T) {
		if code, _, stderr := run("check", "app1", "--for", "drill"); code != cli.ExitUsage {
			t.Errorf("exit %d, stderr %q", code, stderr)
		}
	})

	t.Run("neither verb wrote anything", func(t *testing.T) {
		after := versions()
		for name, rv := range before {
			if after[name] != rv {
				t.Errorf("%s: resourceVersion %s -> %s", name, rv, after[name])
			}
		}
	})
}

// withStatus creates a group and, when set is not nil, writes the status
// set fills in through the status subresource.
func withStatus(t *testing.T, c client.Client, name string, labels map[string]string, set func(*drv1alpha1.ProtectionGroupStatus)) {
	t.Helper()
	ctx := t.Context()
	pg := &drv1alpha1.ProtectionGroup{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "dr", Labels: labels},
		Spec:       drv1alpha1.ProtectionGroupSpec{ProtectionGroupID: "pg-" + name, DesiredActiveSite: drv1alpha1.SiteSource},
	}
	if err := c.Create(ctx, pg); err != nil {
		t.Fatal(err)
	}
	if set == nil {
		return
	}
	pg.Status = drv1alpha1.ProtectionGroupStatus{ObservedGeneration: pg.Generation, ActiveSite: drv1alpha1.SiteSource,
		Sites: &drv1alpha1.SiteRoles{Production: "az-1", DisasterRecovery: "az-2"}}
	set(&pg.Status)
	if err := c.Status().Update(ctx, pg); err != nil {
		t.Fatal(err)
	}
}

// Usage errors of login and check exit 2 before any kubeconfig is read,
// and the root help lists both verbs and the check exit codes.
func TestLoginAndCheckWithoutACluster(t *testing.T) {
	cases := []struct {
		args       []string
		wantCode   int
		wantStderr string
	}{
		{[]string{"login"}, cli.ExitUsage, "exactly one"},
		{[]string{"login", "app", "-o", "wide"}, cli.ExitUsage, "-o/--output must be json or yaml"},
		{[]string{"check", "--for", "drill"}, cli.ExitUsage, "--for must be planned or forced"},
		{[]string{"check", "app", "--all"}, cli.ExitUsage, "not several of them"},
		{[]string{"check", "--dry-run"}, cli.ExitUsage, "unknown flag: --dry-run"},
	}
	for _, tc := range cases {
		code, _, stderr := execute(tc.args...)
		if code != tc.wantCode || !strings.Contains(stderr, tc.wantStderr) {
			t.Errorf("%v: exit %d, stderr %q; want %d, %q", tc.args, code, stderr, tc.wantCode, tc.wantStderr)
		}
	}
	code, out, _ := execute("--help")
	for _, w := range []string{"login ", "check ", "7 check: some group would run only a forced failover", "8 check: some group\nwould run no failover"} {
		if code != 0 || !strings.Contains(out, w) {
			t.Errorf("root --help lacks %q:\n%s", w, out)
		}
	}
	code, out, _ = execute("check", "--help")
	for _, w := range []string{"--for string", "--all ", "-A, --all-namespaces", "7 some group would run only a forced", "8 some group would run neither"} {
		if code != 0 || !strings.Contains(out, w) {
			t.Errorf("check --help lacks %q:\n%s", w, out)
		}
	}
}
