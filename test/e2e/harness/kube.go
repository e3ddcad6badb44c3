package harness

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	"sigs.k8s.io/controller-runtime/pkg/client"

	drv1alpha1 "github.com/sdrs-operator/sdrs-operator/api/v1alpha1"
)

// CredentialsSecret is the Secret a ProviderConfig names.
func CredentialsSecret(namespace, name, accessKey, secretKey string) *corev1.Secret {
	return &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Namespace: namespace, Name: name},
		Data:       map[string][]byte{"accessKey": []byte(accessKey), "secretKey": []byte(secretKey)},
	}
}

// ProviderConfigFor returns a ProviderConfig named name that points at the
// emulator's two listeners with the Secret secretNamespace/name (create it
// with CredentialsSecret). sdrsURL overrides the SDRS endpoint when not
// empty (a Proxy's URL, for example).
func ProviderConfigFor(name, secretNamespace string, emu *Emulator, sdrsURL string) *drv1alpha1.ProviderConfig {
	if sdrsURL == "" {
		sdrsURL = emu.SDRSURL
	}
	return &drv1alpha1.ProviderConfig{
		ObjectMeta: metav1.ObjectMeta{Name: name},
		Spec: drv1alpha1.ProviderConfigSpec{
			Region:               "cn-north-4",
			ProjectID:            emu.Options().ProjectID,
			Endpoint:             sdrsURL,
			ECSEndpoint:          emu.ECSURL,
			AllowInsecureHTTP:    true, // the emulator is plain http unless given a certificate
			CredentialsSecretRef: drv1alpha1.SecretReference{Namespace: secretNamespace, Name: name},
			SyncInterval:         metav1.Duration{Duration: 10 * time.Second},
		},
	}
}

// CreateProviderConfig creates pc and its credentials Secret (named like
// pc, in pc's Secret namespace) with the emulator's keys.
func (cp *ControlPlane) CreateProviderConfig(ctx context.Context, pc *drv1alpha1.ProviderConfig, accessKey, secretKey string) error {
	ref := pc.Spec.CredentialsSecretRef
	if err := cp.Client.Create(ctx, CredentialsSecret(ref.Namespace, ref.Name, accessKey, secretKey)); err != nil && !apierrors.IsAlreadyExists(err) {
		return fmt.Errorf("cannot create Secret %s/%s: %w", ref.Namespace, ref.Name, err)
	}
	if err := cp.Client.Create(ctx, pc); err != nil {
		return fmt.Errorf("cannot create ProviderConfig %s: %w", pc.Name, err)
	}
	return nil
}

// MustProviderConfig creates pc and its Secret with emu's keys.
func (cp *ControlPlane) MustProviderConfig(tb testing.TB, pc *drv1alpha1.ProviderConfig, emu *Emulator) {
	tb.Helper()
	o := emu.Options()
	if err := cp.CreateProviderConfig(context.Background(), pc, o.AccessKey, o.SecretKey); err != nil {
		tb.Fatal(err)
	}
}

// AdoptingGroup returns a ProtectionGroup that adopts SDRS group groupID
// with desiredActiveSite source, Planned failover, protection Enabled and
// serverPower Managed (the API defaults).
func AdoptingGroup(namespace, name, providerConfig, groupID string) *drv1alpha1.ProtectionGroup {
	return &drv1alpha1.ProtectionGroup{
		ObjectMeta: metav1.ObjectMeta{Namespace: namespace, Name: name},
		Spec: drv1alpha1.ProtectionGroupSpec{
			ProviderConfigRef: drv1alpha1.ProviderConfigReference{Name: providerConfig},
			ProtectionGroupID: groupID,
			DesiredActiveSite: drv1alpha1.SiteSource,
		},
	}
}

// Condition is a predicate on a ProtectionGroup. It returns whether it
// holds and, when not, a short description of what it saw.
type Condition func(pg *drv1alpha1.ProtectionGroup) (bool, string)

// Describe summarises a ProtectionGroup's status in one line.
func Describe(pg *drv1alpha1.ProtectionGroup) string {
	var b strings.Builder
	fmt.Fprintf(&b, "gen=%d observed=%d active=%s", pg.Generation, pg.Status.ObservedGeneration, pg.Status.ActiveSite)
	for _, c := range pg.Status.Conditions {
		fmt.Fprintf(&b, " %s=%s/%s", c.Type, c.Status, c.Reason)
	}
	if op := pg.Status.CurrentOperation; op != nil {
		fmt.Fprintf(&b, " current=%s/%s job=%q", op.Type, op.Step, op.JobID)
	}
	if op := pg.Status.LastOperation; op != nil {
		fmt.Fprintf(&b, " last=%s/%s", op.Type, op.Result)
	}
	if r := meta.FindStatusCondition(pg.Status.Conditions, drv1alpha1.ReadyCondition); r != nil && r.Status != metav1.ConditionTrue {
		fmt.Fprintf(&b, " msg=%q", r.Message)
	}
	return b.String()
}

// ReadyAt holds when Ready is True for the current generation and the
// active site is site.
func ReadyAt(site drv1alpha1.Site) Condition {
	return func(pg *drv1alpha1.ProtectionGroup) (bool, string) {
		c := meta.FindStatusCondition(pg.Status.Conditions, drv1alpha1.ReadyCondition)
		ok := c != nil && c.Status == metav1.ConditionTrue && c.ObservedGeneration == pg.Generation &&
			pg.Status.ActiveSite == site && pg.Status.CurrentOperation == nil
		return ok, Describe(pg)
	}
}

// HasCondition holds when condition typ has the status and, if reason is
// not empty, the reason.
func HasCondition(typ string, status metav1.ConditionStatus, reason string) Condition {
	return func(pg *drv1alpha1.ProtectionGroup) (bool, string) {
		c := meta.FindStatusCondition(pg.Status.Conditions, typ)
		ok := c != nil && c.Status == status && (reason == "" || c.Reason == reason)
		return ok, Describe(pg)
	}
}

// OperationRunning holds while an operation of typ is in flight; withJob
// asks for its SDRS job ID to be recorded (true) or not yet (false).
func OperationRunning(typ drv1alpha1.OperationType, step drv1alpha1.OperationStep, withJob bool) Condition {
	return func(pg *drv1alpha1.ProtectionGroup) (bool, string) {
		op := pg.Status.CurrentOperation
		ok := op != nil && op.Type == typ && (step == "" || op.Step == step) && (op.JobID != "") == withJob
		return ok, Describe(pg)
	}
}

// OperationAt holds while an operation of typ is at step (any step if
// empty), whether or not its SDRS job ID is recorded yet.
func OperationAt(typ drv1alpha1.OperationType, step drv1alpha1.OperationStep) Condition {
	return func(pg *drv1alpha1.ProtectionGroup) (bool, string) {
		op := pg.Status.CurrentOperation
		ok := op != nil && op.Type == typ && (step == "" || op.Step == step)
		return ok, Describe(pg)
	}
}

// All holds when every condition holds.
func All(conds ...Condition) Condition {
	return func(pg *drv1alpha1.ProtectionGroup) (bool, string) {
		for _, c := range conds {
			if ok, why := c(pg); !ok {
				return false, why
			}
		}
		return true, ""
	}
}

// PollInterval is how often WaitFor reads the object.
var PollInterval = 100 * time.Millisecond

// WaitFor polls pg (by namespace and name) until cond holds, and leaves
// the last read in pg. The error says what was last seen.
func (cp *ControlPlane) WaitFor(ctx context.Context, pg *drv1alpha1.ProtectionGroup, timeout time.Duration, cond Condition) error {
	var last string
	key := client.ObjectKeyFromObject(pg)
	err := wait.PollUntilContextTimeout(ctx, PollInterval, timeout, true, func(ctx context.Context) (bool, error) {
		cur := &drv1alpha1.ProtectionGroup{}
		if err := cp.Client.Get(ctx, key, cur); err != nil {
			last = err.Error()
			return false, nil
		}
		cur.DeepCopyInto(pg)
		ok, why := cond(cur)
		last = why
		return ok, nil
	})
	if err != nil {
		return fmt.Errorf("ProtectionGroup %s: condition not met within %s; last seen: %s", key, timeout, last)
	}
	return nil
}

// WaitGone polls until the object no longer exists.
func (cp *ControlPlane) WaitGone(ctx context.Context, obj client.Object, timeout time.Duration) error {
	key := client.ObjectKeyFromObject(obj)
	err := wait.PollUntilContextTimeout(ctx, PollInterval, timeout, true, func(ctx context.Context) (bool, error) {
		err := cp.Client.Get(ctx, key, obj)
		return apierrors.IsNotFound(err), nil
	})
	if err != nil {
		return fmt.Errorf("%s still exists after %s", key, timeout)
	}
	return nil
}

// Update reads pg fresh, applies mutate, and writes it, retrying on
// conflicts; pg holds the written object afterwards.
func (cp *ControlPlane) Update(ctx context.Context, pg *drv1alpha1.ProtectionGroup, mutate func(*drv1alpha1.ProtectionGroup)) error {
	key := client.ObjectKeyFromObject(pg)
	return wait.PollUntilContextTimeout(ctx, 50*time.Millisecond, 30*time.Second, true, func(ctx context.Context) (bool, error) {
		cur := &drv1alpha1.ProtectionGroup{}
		if err := cp.Client.Get(ctx, key, cur); err != nil {
			return false, err
		}
		mutate(cur)
		if err := cp.Client.Update(ctx, cur); err != nil {
			if apierrors.IsConflict(err) {
				return false, nil
			}
			return false, err
		}
		cur.DeepCopyInto(pg)
		return true, nil
	})
}

// Annotate sets (or, with an empty value, removes) an annotation.
func (cp *ControlPlane) Annotate(ctx context.Context, pg *drv1alpha1.ProtectionGroup, key, value string) error {
	return cp.Update(ctx, pg, func(p *drv1alpha1.ProtectionGroup) {
		a := p.GetAnnotations()
		if a == nil {
			a = map[string]string{}
		}
		if value == "" {
			delete(a, key)
		} else {
			a[key] = value
		}
		p.SetAnnotations(a)
	})
}

// Events returns the Events about the object namespace/name, oldest first.
func (cp *ControlPlane) Events(ctx context.Context, namespace, name string) ([]corev1.Event, error) {
	var list corev1.EventList
	if err := cp.Client.List(ctx, &list, client.InNamespace(namespace)); err != nil {
		return nil, err
	}
	var out []corev1.Event
	for _, e := range list.Items {
		if name == "" || e.InvolvedObject.Name == name {
			out = append(out, e)
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return eventTime(out[i]).Before(eventTime(out[j])) })
	return out, nil
}

func eventTime(e corev1.Event) time.Time {
	switch {
	case !e.EventTime.IsZero():
		return e.EventTime.Time
	case !e.LastTimestamp.IsZero():
		return e.LastTimestamp.Time
	}
	return e.CreationTimestamp.Time
}

// WaitEvent polls until an Event with reason (and, if not empty, a message
// containing substr) exists for namespace/name.
func (cp *ControlPlane) WaitEvent(ctx context.Context, namespace, name, reason, substr string, timeout time.Duration) (*corev1.Event, error) {
	var found *corev1.Event
	err := wait.PollUntilContextTimeout(ctx, PollInterval, timeout, true, func(ctx context.Context) (bool, error) {
		evs, err := cp.Events(ctx, namespace, name)
		if err != nil {
			return false, nil
		}
		for i := range evs {
			if evs[i].Reason == reason && strings.Contains(evs[i].Message, substr) {
				found = &evs[i]
				return true, nil
			}
		}
		return false, nil
	})
	if err != nil {
		return nil, fmt.Errorf("no Event %s containing %q for %s/%s within %s", reason, substr, namespace, name, timeout)
	}
	return found, nil
}

// DumpAll returns every ProtectionGroup, ProviderConfig and Event in the
// cluster as JSON, for searches such as "no secret appears anywhere".
func (cp *ControlPlane) DumpAll(ctx context.Context) ([]byte, error) {
	var pgs drv1alpha1.ProtectionGroupList
	var pcs drv1alpha1.ProviderConfigList
	var evs corev1.EventList
	for _, l := range []client.ObjectList{&pgs, &pcs, &evs} {
		if err := cp.Client.List(ctx, l); err != nil {
			return nil, err
		}
	}
	return json.Marshal([]any{pgs, pcs, evs})
}
