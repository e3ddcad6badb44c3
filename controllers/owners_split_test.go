package controllers_test

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/config"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"

	drv1alpha1 "github.com/sdrs-operator/sdrs-operator/api/v1alpha1"
	"github.com/sdrs-operator/sdrs-operator/controllers"
	"github.com/sdrs-operator/sdrs-operator/internal/emutest"
	"github.com/sdrs-operator/sdrs-operator/internal/eventrecorder"
	"github.com/sdrs-operator/sdrs-operator/internal/sdrs"
)

// startNamespacedManager runs a ProtectionGroup reconciler whose cache
// holds only ns, as main.go does with --watch-namespace, and returns its
// stop.
func startNamespacedManager(t *testing.T, ns string) func() {
	t.Helper()
	mgr, err := ctrl.NewManager(restCfg, ctrl.Options{
		Scheme:                 clientgoscheme.Scheme,
		Metrics:                metricsserver.Options{BindAddress: "0"},
		HealthProbeBindAddress: "0",
		Controller:             config.Controller{SkipNameValidation: ptr(true), MaxConcurrentReconciles: 4},
		Cache: cache.Options{DefaultTransform: cache.TransformStripManagedFields(),
			DefaultNamespaces: map[string]cache.Config{ns: {}}},
	})
	if err != nil {
		t.Fatal(err)
	}
	events, err := eventrecorder.ForManager(mgr, "sdrs-operator", eventrecorder.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := (&controllers.ProtectionGroupReconciler{Client: mgr.GetClient(), APIReader: mgr.GetAPIReader(),
		Connector: sdrs.NewConnector(mgr.GetAPIReader()), Recorder: events,
		StalledRecheck: 2 * time.Second, NotStartedGrace: testGrace,
		PartialCache: true}).SetupWithManager(mgr); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := mgr.Start(ctx); err != nil {
			fmt.Fprintf(os.Stderr, "manager of %s stopped: %v\n", ns, err)
		}
	}()
	return func() { cancel(); <-done }
}

// splitManagers replaces the suite's manager, which watches every
// namespace, with one manager per namespace for the rest of the test.
func splitManagers(t *testing.T) {
	t.Helper()
	stopManager()
	t.Cleanup(func() { startManager() })
}

// actions counts the calls on a group that would change it (anything but
// a read), whatever SDRS answered.
func actions(t *testing.T, groupID string) int {
	t.Helper()
	all, err := admin.Calls(context.Background(), "", groupID)
	if err != nil {
		t.Fatalf("cannot read emulator calls: %v", err)
	}
	n := 0
	for _, c := range all {
		if c.Method != http.MethodGet {
			n++
		}
	}
	return n
}

// Two managers, each caching only its namespace: a ProtectionGroup in the
// second namespace adopting an SDRS group a ProtectionGroup of the first
// manages is Stalled with GroupConflict, found through the API server, and
// sends SDRS nothing, although it asks for a forced failover at once.
func TestSplitManagersGroupConflictOnAdoption(t *testing.T) {
	needEnv(t)
	splitManagers(t)
	nsA, nsB := newNamespace(t), newNamespace(t)
	t.Cleanup(startNamespacedManager(t, nsA))
	t.Cleanup(startNamespacedManager(t, nsB))
	g := seedGroup(t, emutest.Group{})

	first := newPG(t, nsA, "first", g.ID)
	waitFor(t, first, "first Ready at source", readyAt(drv1alpha1.SiteSource))
	before := actions(t, g.ID)

	second := newPG(t, nsB, "second", g.ID, func(p *drv1alpha1.ProtectionGroup) {
		p.Spec.DesiredActiveSite = drv1alpha1.SiteTarget
		p.Spec.FailoverMode, p.Spec.AllowDataLoss = drv1alpha1.FailoverForced, true
	})
	cur := waitFor(t, second, "second Stalled/GroupConflict", stalledWith(drv1alpha1.GroupConflictReason))
	if msg := condition(cur, drv1alpha1.StalledCondition).Message; !strings.Contains(msg, nsA+"/first") {
		t.Errorf("conflict message should name the owner in the other namespace: %q", msg)
	}
	// Rechecks (every 2s here) keep it stalled and silent.
	time.Sleep(5 * time.Second)
	cur = get(t, second)
	if !stalledWith(drv1alpha1.GroupConflictReason)(cur) {
		t.Errorf("second no longer Stalled/GroupConflict:\n%s", describeStatus(cur))
	}
	n := actions(t, g.ID) - before
	t.Logf("SDRS actions on the group after the second adopted it: %d", n)
	if n != 0 {
		t.Errorf("%d SDRS actions on the group after a second ProtectionGroup adopted it from another namespace, want 0", n)
	}
	if f := get(t, first); !readyAt(drv1alpha1.SiteSource)(f) {
		t.Errorf("the owner is no longer Ready at source:\n%s", describeStatus(f))
	}
}

// Two ProtectionGroups in two namespaces both already manage one SDRS
// group (as they could before the owner check looked across namespaces):
// the younger passes the check of its reconcile's start, which reads only
// its manager's cache, but the check before its first action asks the
// API server and stalls it; only the older acts.
func TestSplitManagersGroupConflictBeforeAction(t *testing.T) {
	needEnv(t)
	splitManagers(t)
	nsA, nsB := newNamespace(t), newNamespace(t)
	t.Cleanup(startNamespacedManager(t, nsA))
	g := seedGroup(t, emutest.Group{})

	first := newPG(t, nsA, "first", g.ID)
	waitFor(t, first, "first Ready at source", readyAt(drv1alpha1.SiteSource))

	// The second as a manager without the check left it: managing the
	// group, Ready at source. Created a second later at least, so that it
	// is the younger by creation time (one-second resolution), not by UID.
	time.Sleep(time.Until(get(t, first).CreationTimestamp.Add(1100 * time.Millisecond)))
	second := newPG(t, nsB, "second", g.ID)
	cur := get(t, second)
	cur.Status.Group = get(t, first).Status.Group.DeepCopy()
	if err := k8s.Status().Update(context.Background(), cur); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(startNamespacedManager(t, nsB))
	waitFor(t, second, "second Ready at source", readyAt(drv1alpha1.SiteSource))
	before := actions(t, g.ID)

	update(t, second, func(p *drv1alpha1.ProtectionGroup) {
		p.Spec.DesiredActiveSite = drv1alpha1.SiteTarget
		p.Spec.FailoverMode, p.Spec.AllowDataLoss = drv1alpha1.FailoverForced, true
	})
	cur = waitFor(t, second, "second Stalled/GroupConflict at its action", stalledWith(drv1alpha1.GroupConflictReason))
	if msg := condition(cur, drv1alpha1.StalledCondition).Message; !strings.Contains(msg, nsA+"/first") {
		t.Errorf("conflict message should name the owner in the other namespace: %q", msg)
	}
	time.Sleep(5 * time.Second)
	cur = get(t, second)
	if !stalledWith(drv1alpha1.GroupConflictReason)(cur) {
		t.Errorf("second no longer Stalled/GroupConflict:\n%s", describeStatus(cur))
	}
	n := actions(t, g.ID) - before
	t.Logf("SDRS actions on the group after the younger asked for a failover: %d", n)
	if n != 0 {
		t.Errorf("%d SDRS actions on the group from the younger owner, want 0", n)
	}

	// The older one still acts.
	update(t, first, func(p *drv1alpha1.ProtectionGroup) { p.Spec.DesiredActiveSite = drv1alpha1.SiteTarget })
	waitFor(t, first, "first Ready at target", readyAt(drv1alpha1.SiteTarget))
	if n := calls(t, "StartReverseProtectionGroup", g.ID); n != 1 {
		t.Errorf("the older owner's planned failover: %d reverse calls, want 1", n)
	}
	if n := sent(t, "StartFailoverProtectionGroup", g.ID); n != 0 {
		t.Errorf("%d forced failovers reached SDRS, want 0 (only the younger asked for one)", n)
	}
}
