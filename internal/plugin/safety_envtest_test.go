package plugin_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	"k8s.io/client-go/util/retry"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/yaml"

	drv1alpha1 "github.com/sdrs-operator/sdrs-operator/api/v1alpha1"
	"github.com/sdrs-operator/sdrs-operator/internal/plugin/cli"
	"github.com/sdrs-operator/sdrs-operator/internal/testenv"
)

// result is what one plugin command run in the background ended with.
type result struct {
	code     int
	out, err string
}

// TestRunbookSafetyAgainstAPIServer covers issue 12 ("at 3 a.m. nothing
// may lie and no paste may fail over twice") against a real API server.
// No operator runs: each subtest plays it by writing status, through the
// status subresource, the way the controller does, once the plugin's
// patch has landed (a watch says when).
func TestRunbookSafetyAgainstAPIServer(t *testing.T) {
	if testing.Short() {
		t.Skip("needs the pinned control plane (make control-plane); -short runs the unit tests only")
	}
	c, kubeconfig := startAPIServer(t)
	w := kubeconfigClient(t, kubeconfig)
	run := func(args ...string) result {
		code, out, stderr := execute(append([]string{"--kubeconfig", kubeconfig, "-n", "dr"}, args...)...)
		return result{code, out, stderr}
	}
	start := func(args ...string) <-chan result {
		done := make(chan result, 1)
		go func() { done <- run(args...) }()
		return done
	}
	get := func(t *testing.T, name string) *drv1alpha1.ProtectionGroup {
		var pg drv1alpha1.ProtectionGroup
		if err := c.Get(t.Context(), client.ObjectKey{Namespace: "dr", Name: name}, &pg); err != nil {
			t.Fatal(err)
		}
		return &pg
	}

	// Point 1: a wait succeeds only for the site it asked for, at the
	// generation it wrote; a second runbook is warned about the first.
	t.Run("a wait whose request is replaced says so and exits 5", func(t *testing.T) {
		createGroup(t, c, "web", nil)
		first := start("switchover", "web", "--to", "target", "--wait", "--timeout", "1m")
		awaitGeneration(t, w, "web", 2)
		operate(t, c, "web", func(pg *drv1alpha1.ProtectionGroup) {
			pg.Status.ObservedGeneration = 2
			pg.Status.CurrentOperation = &drv1alpha1.Operation{Type: drv1alpha1.OperationPlannedFailover, RequestID: "r1",
				From: drv1alpha1.SiteSource, To: drv1alpha1.SiteTarget, Step: drv1alpha1.StepStopServers, StartedAt: metav1.Now()}
			pg.Status.Conditions = []metav1.Condition{cond(drv1alpha1.ReadyCondition, metav1.ConditionFalse, drv1alpha1.StoppingServersReason, "stopping 2 production servers", 2)}
		})

		second := start("switchover", "web", "--to", "source", "--wait", "--timeout", "1m")
		awaitGeneration(t, w, "web", 3)
		// The operator ends up where the second command asked, at source.
		operate(t, c, "web", func(pg *drv1alpha1.ProtectionGroup) {
			pg.Status.ObservedGeneration, pg.Status.ActiveSite, pg.Status.CurrentOperation = 3, drv1alpha1.SiteSource, nil
			pg.Status.Conditions = []metav1.Condition{cond(drv1alpha1.ReadyCondition, metav1.ConditionTrue, drv1alpha1.ReconciledReason, "active site source (az-1) as desired", 3)}
		})

		r1 := <-first
		if r1.code != cli.ExitSuperseded || !strings.Contains(r1.err, "the spec changed while waiting: generation 3, desiredActiveSite source, replaced generation 2 that this command wrote (active site target)") {
			t.Errorf("first: exit %d (want %d), stdout %q, stderr %q", r1.code, cli.ExitSuperseded, r1.out, r1.err)
		}
		if strings.Contains(r1.out, "Ready Reconciled") {
			t.Errorf("first reported someone else's outcome as its own:\n%s", r1.out)
		}
		r2 := <-second
		if r2.code != 0 || !strings.Contains(r2.out, "protectiongroup.dr.sdrs.io/web: Ready Reconciled: active site source") {
			t.Errorf("second: exit %d, stdout %q, stderr %q", r2.code, r2.out, r2.err)
		}
		warning := "Warning: protectiongroup.dr.sdrs.io/web: an operation is in flight: PlannedFailover source->target step StopServers"
		if !strings.Contains(r2.err, warning) || strings.Index(r2.err, warning) > 0 {
			t.Errorf("second: stderr %q, want it to start with %q", r2.err, warning)
		}
	})

	// Point 3: failover names the site it fails over to, so a second
	// paste finds the group there and changes nothing.
	t.Run("failover needs --to and is safe to paste twice", func(t *testing.T) {
		createGroup(t, c, "erp", nil)
		if r := run("failover", "erp", "--allow-data-loss"); r.code != cli.ExitUsage || !strings.Contains(r.err, "--to is required") {
			t.Errorf("without --to: exit %d, stderr %q", r.code, r.err)
		}
		if g := get(t, "erp").Generation; g != 1 {
			t.Fatalf("refused failover changed the group (generation %d)", g)
		}
		first := start("failover", "erp", "--to", "target", "--allow-data-loss", "--wait", "--timeout", "1m")
		pg := awaitGeneration(t, w, "erp", 2)
		if pg.Spec.DesiredActiveSite != drv1alpha1.SiteTarget || pg.Spec.FailoverMode != drv1alpha1.FailoverForced || !pg.Spec.AllowDataLoss {
			t.Errorf("generation 2 spec %+v, want target, Forced, allowDataLoss", pg.Spec)
		}
		failedOver(t, c, "erp", 2)
		if r := <-first; r.code != 0 {
			t.Fatalf("first: exit %d, stdout %q, stderr %q", r.code, r.out, r.err)
		}
		// The mode went back (generation 3); the operator observes it.
		awaitGeneration(t, w, "erp", 3)
		failedOver(t, c, "erp", 3)

		r := run("failover", "erp", "--to", "target", "--allow-data-loss", "--wait", "--timeout", "30s")
		if r.code != 0 || !strings.Contains(r.out, "protectiongroup.dr.sdrs.io/erp unchanged\n  already active at target: nothing to fail over\n") {
			t.Errorf("second paste: exit %d, stdout %q, stderr %q", r.code, r.out, r.err)
		}
		pg = get(t, "erp")
		if pg.Generation != 3 || pg.Spec.DesiredActiveSite != drv1alpha1.SiteTarget || pg.Spec.FailoverMode != drv1alpha1.FailoverPlanned {
			t.Errorf("second paste changed the group: generation %d, spec %+v", pg.Generation, pg.Spec)
		}
	})

	// Point 6: a paused group shows as paused, the plugin warns before
	// patching it, and a wait stops with the resume command.
	t.Run("a paused group is shown, warned about and stops the wait with exit 6", func(t *testing.T) {
		createGroup(t, c, "files", nil)
		operate(t, c, "files", func(pg *drv1alpha1.ProtectionGroup) {
			pg.Status.Conditions = append(pg.Status.Conditions, cond(drv1alpha1.PausedCondition, metav1.ConditionTrue, drv1alpha1.PausedReason, "no new SDRS actions", 1))
		})
		annotate(t, c, "files", drv1alpha1.PausedAnnotation, "true")
		if cells := tableRow(t, kubeconfig, "files"); cells["READY"] != "True" || cells["PAUSED"] != "True" {
			t.Errorf("kubectl get pg files columns %v, want READY True and PAUSED True", cells)
		}

		done := start("switchover", "files", "--to", "target", "--wait", "--timeout", "30s")
		awaitGeneration(t, w, "files", 2)
		operate(t, c, "files", func(pg *drv1alpha1.ProtectionGroup) {
			pg.Status.ObservedGeneration = 2
			pg.Status.Conditions = []metav1.Condition{
				cond(drv1alpha1.ReadyCondition, metav1.ConditionFalse, drv1alpha1.ReconciliationPausedReason,
					`reconciliation is paused (annotation dr.sdrs.io/paused="true"); would planned failover from source to target`, 2),
				cond(drv1alpha1.PausedCondition, metav1.ConditionTrue, drv1alpha1.PausedReason, "no new SDRS actions", 2),
			}
		})
		r := <-done
		warning := `Warning: protectiongroup.dr.sdrs.io/files: paused (annotation dr.sdrs.io/paused="true")`
		if !strings.HasPrefix(r.err, warning) {
			t.Errorf("stderr %q, want it to start with %q", r.err, warning)
		}
		if r.code != cli.ExitPaused || !strings.Contains(r.err, "It acts only once resumed: kubectl sdrs resume files -n dr --wait") {
			t.Errorf("exit %d (want %d), stdout %q, stderr %q", r.code, cli.ExitPaused, r.out, r.err)
		}
	})

	// Point 7: failover sets Forced for its own move only.
	t.Run("failover --wait puts the mode back once the group is Ready at --to", func(t *testing.T) {
		createGroup(t, c, "billing", nil)
		done := start("failover", "billing", "--to", "target", "--allow-data-loss", "--wait", "--timeout", "1m")
		awaitGeneration(t, w, "billing", 2)
		failedOver(t, c, "billing", 2)
		r := <-done
		if r.code != 0 || !strings.Contains(r.out, "protectiongroup.dr.sdrs.io/billing patched: the move is done, so what was set for it only is put back\n"+
			"  spec.failoverMode: Forced -> Planned\n  spec.allowDataLoss: true -> false\n") {
			t.Errorf("exit %d, stdout %q, stderr %q", r.code, r.out, r.err)
		}
		pg := get(t, "billing")
		if pg.Generation != 3 || pg.Spec.DesiredActiveSite != drv1alpha1.SiteTarget || pg.Spec.FailoverMode != drv1alpha1.FailoverPlanned || pg.Spec.AllowDataLoss {
			t.Errorf("generation %d, spec %+v: want target, Planned, no data loss", pg.Generation, pg.Spec)
		}
	})

	t.Run("failover without --wait prints the patch that puts the mode back; status warns until then", func(t *testing.T) {
		createGroup(t, c, "crm", nil)
		r := run("failover", "crm", "--to", "target", "--allow-data-loss")
		m := regexp.MustCompile(`kubectl patch pg crm -n dr --type merge -p '([^']+)'`).FindStringSubmatch(r.out)
		if r.code != 0 || m == nil {
			t.Fatalf("exit %d, stdout %q, stderr %q: want the restoring patch", r.code, r.out, r.err)
		}
		failedOver(t, c, "crm", 2)
		if s := run("status", "crm"); !strings.Contains(s.err, "Warning: protectiongroup.dr.sdrs.io/crm: failoverMode is Forced") ||
			!regexp.MustCompile(`crm +target +target +Forced `).MatchString(s.out) {
			t.Errorf("status: stdout %q, stderr %q", s.out, s.err)
		}
		// The printed patch is one the API server (CEL rules included) takes.
		pg := get(t, "crm")
		if err := c.Patch(t.Context(), pg, client.RawPatch(types.MergePatchType, []byte(m[1]))); err != nil {
			t.Fatalf("the printed patch %s: %v", m[1], err)
		}
		if pg.Spec.FailoverMode != drv1alpha1.FailoverPlanned || pg.Spec.AllowDataLoss {
			t.Errorf("after the printed patch: %+v", pg.Spec)
		}
		if s := run("status", "crm"); s.err != "" {
			t.Errorf("status still warns: %q", s.err)
		}
	})

	// Point 10: the selectors docs/plugin.md shows find the samples.
	t.Run("the selectors in docs/plugin.md find sample groups", func(t *testing.T) {
		createSamples(t, c, "samples")
		doc, err := os.ReadFile(filepath.Join(testenv.RepoRoot(), "docs", "plugin.md"))
		if err != nil {
			t.Fatal(err)
		}
		selectors := regexp.MustCompile(`(?m)^kubectl sdrs .* -l (\S+)`).FindAllStringSubmatch(string(doc), -1)
		if len(selectors) == 0 {
			t.Fatal("docs/plugin.md shows no -l selector")
		}
		for _, m := range selectors {
			code, out, stderr := execute("--kubeconfig", kubeconfig, "-n", "samples", "status", "-l", m[1])
			if code != 0 || strings.Count(out, "\n") < 2 {
				t.Errorf("kubectl sdrs status -l %s on the samples: exit %d, stdout %q, stderr %q", m[1], code, out, stderr)
			}
		}
	})
}

// failedOver writes the status of a group that failed over to target
// and is Ready for generation gen.
func failedOver(t *testing.T, c client.Client, name string, gen int64) {
	t.Helper()
	operate(t, c, name, func(pg *drv1alpha1.ProtectionGroup) {
		pg.Status.ObservedGeneration, pg.Status.ActiveSite, pg.Status.CurrentOperation = gen, drv1alpha1.SiteTarget, nil
		pg.Status.Sites = &drv1alpha1.SiteRoles{Production: "az-2", DisasterRecovery: "az-1"}
		pg.Status.Conditions = []metav1.Condition{cond(drv1alpha1.ReadyCondition, metav1.ConditionTrue, drv1alpha1.ReconciledReason, "active site target (az-2) as desired", gen)}
	})
}

// operate plays the operator: it writes the status set makes, through the
// status subresource, retrying when the object changed under it.
func operate(t *testing.T, c client.Client, name string, set func(*drv1alpha1.ProtectionGroup)) {
	t.Helper()
	err := retry.RetryOnConflict(retry.DefaultRetry, func() error {
		var pg drv1alpha1.ProtectionGroup
		if err := c.Get(t.Context(), client.ObjectKey{Namespace: "dr", Name: name}, &pg); err != nil {
			return err
		}
		set(&pg)
		return c.Status().Update(t.Context(), &pg)
	})
	if err != nil {
		t.Fatal(err)
	}
}

func annotate(t *testing.T, c client.Client, name, key, value string) {
	t.Helper()
	pg := &drv1alpha1.ProtectionGroup{ObjectMeta: metav1.ObjectMeta{Namespace: "dr", Name: name}}
	patch, _ := json.Marshal(map[string]any{"metadata": map[string]any{"annotations": map[string]string{key: value}}})
	if err := c.Patch(t.Context(), pg, client.RawPatch(types.MergePatchType, patch)); err != nil {
		t.Fatal(err)
	}
}

func cond(typ string, s metav1.ConditionStatus, reason, msg string, gen int64) metav1.Condition {
	return metav1.Condition{Type: typ, Status: s, Reason: reason, Message: msg, ObservedGeneration: gen, LastTransitionTime: metav1.Now()}
}

// tableRow asks the API server for the group as kubectl get prints it
// (server-side printing from the CRD's printer columns) and returns the
// cells by column name.
func tableRow(t *testing.T, kubeconfig, name string) map[string]string {
	t.Helper()
	cfg, err := clientcmd.BuildConfigFromFlags("", kubeconfig)
	if err != nil {
		t.Fatal(err)
	}
	hc, err := rest.HTTPClientFor(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, cfg.Host+"/apis/dr.sdrs.io/v1alpha1/namespaces/dr/protectiongroups/"+name, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Accept", "application/json;as=Table;v=v1;g=meta.k8s.io")
	resp, err := hc.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	var table metav1.Table
	if err := json.Unmarshal(body, &table); err != nil || len(table.Rows) != 1 {
		t.Fatalf("not a one-row table (%v): %s", err, body)
	}
	cells := map[string]string{}
	for i, col := range table.ColumnDefinitions {
		if i < len(table.Rows[0].Cells) {
			s, _ := table.Rows[0].Cells[i].(string)
			cells[col.Name] = s
		}
	}
	return cells
}

// createSamples creates config/samples' ProtectionGroups in ns, with a
// made-up SDRS group ID where run-local puts a demo group's.
func createSamples(t *testing.T, c client.Client, ns string) {
	t.Helper()
	if err := c.Create(t.Context(), &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}); err != nil && !apierrors.IsAlreadyExists(err) {
		t.Fatal(err)
	}
	b, err := os.ReadFile(filepath.Join(testenv.RepoRoot(), "config", "samples", "dr_v1alpha1_protectiongroup.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	for _, doc := range strings.Split(string(b), "\n---\n") {
		var pg drv1alpha1.ProtectionGroup
		if err := yaml.UnmarshalStrict([]byte(doc), &pg); err != nil {
			t.Fatalf("sample: %v\n%s", err, doc)
		}
		pg.Namespace = ns
		pg.Spec.ProtectionGroupID = "pg-" + pg.Name
		if err := c.Create(t.Context(), &pg); err != nil {
			t.Fatal(err)
		}
	}
}
