package eventrecorder

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	eventsv1 "k8s.io/api/events/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"
	"sigs.k8s.io/controller-runtime/pkg/client/interceptor"
)

var t0 = time.Date(2026, 12, 6, 3, 0, 0, 0, time.UTC)

func pod(name, rv string) *corev1.Pod {
	return &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: name, UID: types.UID("uid-" + name), ResourceVersion: rv}}
}

// counting wraps a fake client and counts creates and patches.
type counting struct {
	mu               sync.Mutex
	creates, patches int
	failCreates      int    // the first n creates fail with a server error
	refuse           string // an Event with this reason is invalid
}

func newClient(c *counting) client.Client {
	return fake.NewClientBuilder().WithScheme(clientgoscheme.Scheme).WithInterceptorFuncs(interceptor.Funcs{
		Create: func(ctx context.Context, cl client.WithWatch, obj client.Object, opts ...client.CreateOption) error {
			c.mu.Lock()
			c.creates++
			fail := c.creates <= c.failCreates
			c.mu.Unlock()
			if fail {
				return apierrors.NewServiceUnavailable("etcd is busy")
			}
			if ev, ok := obj.(*eventsv1.Event); ok && c.refuse != "" && ev.Reason == c.refuse {
				return apierrors.NewInvalid(schema.GroupKind{Group: "events.k8s.io", Kind: "Event"}, ev.Name, nil)
			}
			return cl.Create(ctx, obj, opts...)
		},
		Patch: func(ctx context.Context, cl client.WithWatch, obj client.Object, patch client.Patch, opts ...client.PatchOption) error {
			c.mu.Lock()
			c.patches++
			c.mu.Unlock()
			return cl.Patch(ctx, obj, patch, opts...)
		},
	}).Build()
}

func events(t *testing.T, c client.Client) []eventsv1.Event {
	t.Helper()
	var l eventsv1.EventList
	if err := c.List(context.Background(), &l); err != nil {
		t.Fatal(err)
	}
	return l.Items
}

// run starts the recorder and returns a stop that drains it.
func run(r *Recorder) (stop func()) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { _ = r.Start(ctx); close(done) }()
	return func() { cancel(); <-done }
}

// An Event carries what the events.k8s.io API and kubectl show: the
// object, the reporting controller and instance, the action, reason, note
// and type; the note is cut at the API's limit.
func TestEventFields(t *testing.T) {
	cl := newClient(&counting{})
	r := New(cl, clientgoscheme.Scheme, "sdrs-operator", Options{Clock: func() time.Time { return t0 }})
	stop := run(r)
	r.Eventf(pod("web", "7"), nil, corev1.EventTypeWarning, "FailoverFailed", "PlannedFailover", "job %s failed", "job-1")
	r.Eventf(pod("db", "7"), nil, corev1.EventTypeNormal, "Ready", "Sync", strings.Repeat("é", 600))
	stop()
	got := events(t, cl)
	if len(got) != 2 {
		t.Fatalf("%d Events written, want 2", len(got))
	}
	for _, ev := range got {
		if ev.Regarding.Name == "web" {
			if ev.Type != "Warning" || ev.Reason != "FailoverFailed" || ev.Action != "PlannedFailover" || ev.Note != "job job-1 failed" ||
				ev.ReportingController != "sdrs-operator" || !strings.HasPrefix(ev.ReportingInstance, "sdrs-operator-") ||
				ev.Namespace != "ns" || !ev.EventTime.Time.Equal(t0) || ev.Regarding.Kind != "Pod" || ev.Regarding.UID != "uid-web" {
				t.Errorf("event %+v", ev)
			}
		} else if len(ev.Note) > noteLimit || !strings.HasPrefix(strings.Repeat("é", 600), ev.Note) {
			t.Errorf("a long note is cut at %d bytes on a character boundary, got %d bytes", noteLimit, len(ev.Note))
		}
	}
	if r.Dropped() != 0 || r.Failed() != 0 {
		t.Errorf("dropped %d, failed %d", r.Dropped(), r.Failed())
	}
}

// A repeat of an Event within the series window patches the first
// Event's series (one write, no new object); a repeat after the window,
// or of another object version, is a new Event.
func TestRepeatsJoinASeries(t *testing.T) {
	c := &counting{}
	cl := newClient(c)
	now := t0
	var mu sync.Mutex
	r := New(cl, clientgoscheme.Scheme, "sdrs-operator", Options{Workers: 1, Clock: func() time.Time { mu.Lock(); defer mu.Unlock(); return now }})
	stop := run(r)
	advance := func(d time.Duration) { mu.Lock(); now = now.Add(d); mu.Unlock() }
	wait := func(writes int) {
		t.Helper()
		deadline := time.Now().Add(10 * time.Second)
		for {
			c.mu.Lock()
			n := c.creates + c.patches
			c.mu.Unlock()
			if n >= writes {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("%d writes, want %d", n, writes)
			}
			time.Sleep(5 * time.Millisecond)
		}
	}
	for i := range 3 {
		r.Eventf(pod("web", "7"), nil, corev1.EventTypeWarning, "Stalled", "Sync", "SDRS refused")
		wait(i + 1)
		advance(time.Second)
	}
	r.Eventf(pod("web", "8"), nil, corev1.EventTypeWarning, "Stalled", "Sync", "SDRS refused")
	wait(4)
	advance(seriesWindow + time.Second)
	r.Eventf(pod("web", "8"), nil, corev1.EventTypeWarning, "Stalled", "Sync", "SDRS refused")
	wait(5)
	stop()
	if c.creates != 3 || c.patches != 2 {
		t.Errorf("creates %d, patches %d; want 3 (first, another version, after the window) and 2 (the repeats)", c.creates, c.patches)
	}
	var series *eventsv1.EventSeries
	for _, ev := range events(t, cl) {
		if ev.Regarding.ResourceVersion == "7" {
			series = ev.Series
		}
	}
	if series == nil || series.Count != 3 || !series.LastObservedTime.Time.Equal(t0.Add(2*time.Second)) {
		t.Errorf("series of the repeated Event = %+v, want count 3, last observed at the third", series)
	}
}

// The memory kept for series stays bounded, whatever the fleet: the least
// recently seen Events are forgotten first.
func TestRecentEventsBounded(t *testing.T) {
	c := newRecentEvents(3)
	ev := func(name string) *eventsv1.Event {
		return &eventsv1.Event{Reason: "Ready", Regarding: corev1.ObjectReference{Name: name}}
	}
	for i := range 10 {
		if first, _ := c.observe(ev(fmt.Sprint(i)), t0); first != nil {
			t.Fatalf("event %d is no repeat", i)
		}
	}
	if c.order.Len() != 3 || len(c.byKey) != 3 {
		t.Fatalf("remembers %d (%d keys), want 3", c.order.Len(), len(c.byKey))
	}
	if first, n := c.observe(ev("9"), t0); first == nil || n != 2 {
		t.Errorf("the most recent Event is remembered: first %v, count %d", first, n)
	}
	if first, _ := c.observe(ev("0"), t0); first != nil {
		t.Error("the oldest Event was forgotten")
	}
}

// Eventf never blocks a reconcile: with the queue full an Event is
// dropped and counted.
func TestFullQueueDrops(t *testing.T) {
	var notRecorded []string
	r := New(newClient(&counting{}), clientgoscheme.Scheme, "sdrs-operator", Options{Queue: 2,
		OnNotRecorded: func(why string) { notRecorded = append(notRecorded, why) }})
	done := make(chan struct{})
	go func() {
		for i := range 5 {
			r.Eventf(pod(fmt.Sprint("web-", i), "7"), nil, corev1.EventTypeNormal, "Ready", "Sync", "ok")
		}
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("Eventf blocked on a full queue")
	}
	if r.Dropped() != 3 || len(notRecorded) != 3 || notRecorded[0] != NotRecordedQueueFull {
		t.Errorf("dropped %d, told %v; want 3 queue_full", r.Dropped(), notRecorded)
	}
	stop := run(r)
	stop()
	if n := len(events(t, r.client)); n != 2 {
		t.Errorf("%d Events written after start, want the 2 queued", n)
	}
}

// A failing API server is retried; an Event the API refuses is not; a bad
// type or an object without a kind records nothing.
func TestRetriesAndRefusals(t *testing.T) {
	c := &counting{failCreates: 2, refuse: "Refused"}
	cl := newClient(c)
	var mu sync.Mutex
	var notRecorded []string
	r := New(cl, clientgoscheme.Scheme, "sdrs-operator", Options{RetryWait: 10 * time.Millisecond, Workers: 1,
		OnNotRecorded: func(why string) { mu.Lock(); notRecorded = append(notRecorded, why); mu.Unlock() }})
	stop := run(r)
	r.Eventf(pod("web", "7"), nil, "Critical", "Ready", "Sync", "not a type")
	r.Eventf(pod("web", "7"), nil, corev1.EventTypeNormal, "Ready", "Sync", "ok")
	r.Eventf(pod("web", "7"), nil, corev1.EventTypeNormal, "Refused", "Sync", "invalid")
	deadline := time.Now().Add(10 * time.Second)
	for r.Failed() == 0 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	stop()
	if n := len(events(t, cl)); n != 1 || c.creates != 4 {
		t.Errorf("%d Events after %d creates; want 1 after 2 failures and a success, then 1 refused", n, c.creates)
	}
	if r.Failed() != 1 || len(notRecorded) != 1 || notRecorded[0] != NotRecordedFailed {
		t.Errorf("failed %d, told %v; want the refused Event, once, not retried", r.Failed(), notRecorded)
	}
	if !retriable(apierrors.NewServiceUnavailable("x")) || retriable(apierrors.NewInvalid(schema.GroupKind{Kind: "Event"}, "e", nil)) ||
		!retriable(errors.New("connection refused")) {
		t.Error("server and transport errors are retried, an invalid Event is not")
	}
}
