// Package eventrecorder records events.k8s.io/v1 Events with memory that
// stays bounded however large the fleet.
//
// client-go's events broadcaster (what the manager's GetEventRecorder
// returns) keeps every Event it sent for six to twelve minutes, to join
// repeats into a series: during a failover of 10 000 groups that was a
// quarter of the manager's live heap. This recorder keeps only a bounded
// set of recent Events for the same purpose, and sends from a bounded
// queue with a fixed number of workers.
package eventrecorder

import (
	"container/list"
	"context"
	"fmt"
	"os"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"

	corev1 "k8s.io/api/core/v1"
	eventsv1 "k8s.io/api/events/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/tools/reference"
	"sigs.k8s.io/controller-runtime/pkg/client"
	logf "sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/manager"
)

const (
	// seriesWindow is how long a repeat joins its first Event's series
	// (client-go's finishTime).
	seriesWindow = 6 * time.Minute
	// noteLimit is the API's limit on an Event's note, in bytes.
	noteLimit = 1024
	// attempts bounds the sends of one Event while the API server fails.
	attempts = 5
	// drainTimeout bounds sending what is queued once the manager stops.
	drainTimeout = 5 * time.Second
)

// Options size the recorder; zero values take the defaults.
type Options struct {
	// Queue is how many Events may wait to be sent (default 8192, what
	// a fleet failover's first minutes emit); an Event that finds it
	// full is dropped and counted, as client-go's broadcaster drops one.
	Queue int
	// Workers send Events at once (default 64: each waits on the API
	// server, which is slow exactly when a fleet fails over).
	Workers int
	// Recent is how many Events are remembered to join repeats into a
	// series (default 1024).
	Recent int
	// RetryWait is the first wait after a failed send (default 1s); it
	// doubles.
	RetryWait time.Duration
	// OnNotRecorded, when set, is told of each Event not recorded: why is
	// NotRecordedQueueFull or NotRecordedFailed.
	OnNotRecorded func(why string)
	// Clock is replaceable in tests.
	Clock func() time.Time
}

// Why an Event was not recorded.
const (
	NotRecordedQueueFull = "queue_full"
	NotRecordedFailed    = "failed"
)

// Recorder records Events; it is a manager Runnable that sends them.
type Recorder struct {
	client      client.Client
	scheme      *runtime.Scheme
	controller  string
	instance    string
	clock       func() time.Time
	notRecorded func(why string)
	retryWait   time.Duration
	workers     int
	queue       chan *eventsv1.Event

	mu     sync.Mutex
	recent *recentEvents

	dropped atomic.Int64
	failed  atomic.Int64
}

// New returns a recorder that writes Events through c as controller
// (reportingController; reportingInstance adds the host name).
func New(c client.Client, scheme *runtime.Scheme, controller string, o Options) *Recorder {
	if o.Queue <= 0 {
		o.Queue = 8192
	}
	if o.Workers <= 0 {
		o.Workers = 64
	}
	if o.OnNotRecorded == nil {
		o.OnNotRecorded = func(string) {}
	}
	if o.Recent <= 0 {
		o.Recent = 1024
	}
	if o.RetryWait <= 0 {
		o.RetryWait = time.Second
	}
	if o.Clock == nil {
		o.Clock = time.Now
	}
	host, _ := os.Hostname()
	return &Recorder{
		client: c, scheme: scheme, controller: controller, instance: controller + "-" + host,
		clock: o.Clock, notRecorded: o.OnNotRecorded, retryWait: o.RetryWait, workers: o.Workers, queue: make(chan *eventsv1.Event, o.Queue),
		recent: newRecentEvents(o.Recent),
	}
}

// Dropped counts the Events dropped on a full queue; Failed those the API
// server refused or that ran out of attempts.
func (r *Recorder) Dropped() int64 { return r.dropped.Load() }

// Failed counts the Events not written.
func (r *Recorder) Failed() int64 { return r.failed.Load() }

// Eventf queues an Event about regarding; it never blocks.
func (r *Recorder) Eventf(regarding runtime.Object, related runtime.Object, eventtype, reason, action, note string, args ...interface{}) {
	log := logf.Log.WithName("events")
	if eventtype != corev1.EventTypeNormal && eventtype != corev1.EventTypeWarning {
		log.Error(nil, "unsupported event type", "eventType", eventtype, "reason", reason)
		return
	}
	ref, err := reference.GetReference(r.scheme, regarding)
	if err != nil {
		log.Error(err, "cannot refer to the object; event not recorded", "reason", reason)
		return
	}
	var rel *corev1.ObjectReference
	if related != nil {
		if rel, err = reference.GetReference(r.scheme, related); err != nil {
			rel = nil
		}
	}
	if len(args) > 0 {
		note = fmt.Sprintf(note, args...)
	}
	now := r.clock()
	ns := ref.Namespace
	if ns == "" {
		ns = metav1.NamespaceDefault
	}
	ev := &eventsv1.Event{
		ObjectMeta:          metav1.ObjectMeta{Name: fmt.Sprintf("%s.%x", ref.Name, now.UnixNano()), Namespace: ns},
		EventTime:           metav1.NewMicroTime(now),
		ReportingController: r.controller,
		ReportingInstance:   r.instance,
		Action:              action,
		Reason:              reason,
		Regarding:           *ref,
		Related:             rel,
		Note:                truncate(note, noteLimit),
		Type:                eventtype,
	}
	select {
	case r.queue <- ev:
	default:
		r.dropped.Add(1)
		r.notRecorded(NotRecordedQueueFull)
		log.Info("event queue full; event dropped", "reason", reason, "regarding", ref.Name, "namespace", ref.Namespace)
	}
}

// Start sends queued Events until ctx ends, then what is still queued,
// for at most drainTimeout.
func (r *Recorder) Start(ctx context.Context) error {
	var wg sync.WaitGroup
	for range r.workers {
		wg.Go(func() {
			for {
				select {
				case <-ctx.Done():
					return
				case ev := <-r.queue:
					r.send(ctx, ev)
				}
			}
		})
	}
	wg.Wait()
	drain, cancel := context.WithTimeout(context.WithoutCancel(ctx), drainTimeout)
	defer cancel()
	for {
		select {
		case ev := <-r.queue:
			r.send(drain, ev)
		default:
			return nil
		}
	}
}

// NeedLeaderElection is false: a follower records nothing anyway, and a
// leader's Events must not wait for the election.
func (r *Recorder) NeedLeaderElection() bool { return false }

// send writes ev, or, when it repeats a recent Event, that Event's series.
func (r *Recorder) send(ctx context.Context, ev *eventsv1.Event) {
	r.mu.Lock()
	first, count := r.recent.observe(ev, r.clock())
	r.mu.Unlock()
	for try := 0; try < attempts; try++ {
		err := r.write(ctx, ev, first, count)
		if err == nil {
			return
		}
		if !retriable(err) || ctx.Err() != nil {
			break
		}
		select {
		case <-ctx.Done():
		case <-time.After(r.retryWait << try):
		}
	}
	r.failed.Add(1)
	r.notRecorded(NotRecordedFailed)
	logf.FromContext(ctx).WithName("events").Info("event not recorded", "reason", ev.Reason,
		"regarding", ev.Regarding.Name, "namespace", ev.Regarding.Namespace)
}

// write creates ev, or patches the series of first, its earlier copy.
func (r *Recorder) write(ctx context.Context, ev, first *eventsv1.Event, count int32) error {
	if first != nil {
		base := first.DeepCopy()
		patched := first.DeepCopy()
		patched.Series = &eventsv1.EventSeries{Count: count, LastObservedTime: ev.EventTime}
		err := r.client.Patch(ctx, patched, client.MergeFrom(base))
		if !apierrors.IsNotFound(err) {
			return err
		}
		// The first is gone (expired): the repeat starts over.
	}
	err := r.client.Create(ctx, ev.DeepCopy())
	if apierrors.IsAlreadyExists(err) {
		return nil
	}
	return err
}

func retriable(err error) bool {
	return apierrors.IsServerTimeout(err) || apierrors.IsTimeout(err) || apierrors.IsTooManyRequests(err) ||
		apierrors.IsInternalError(err) || apierrors.IsServiceUnavailable(err) || apierrors.IsUnexpectedServerError(err) ||
		apierrors.ReasonForError(err) == metav1.StatusReasonUnknown
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	s = s[:n]
	for !utf8.ValidString(s) {
		s = s[:len(s)-1]
	}
	return s
}

// seriesKey says which Events are repeats of each other: client-go's key,
// with the note.
type seriesKey struct {
	eventType, action, reason, note string
	regarding, related              corev1.ObjectReference
}

func keyOf(ev *eventsv1.Event) seriesKey {
	k := seriesKey{eventType: ev.Type, action: ev.Action, reason: ev.Reason, note: ev.Note, regarding: ev.Regarding}
	if ev.Related != nil {
		k.related = *ev.Related
	}
	return k
}

// recentEvents remembers at most max Events, the least recently seen
// forgotten first.
type recentEvents struct {
	max   int
	order *list.List // of *recentEvent, most recent at the front
	byKey map[seriesKey]*list.Element
}

type recentEvent struct {
	key   seriesKey
	first *eventsv1.Event
	count int32
	last  time.Time
}

func newRecentEvents(maxEntries int) *recentEvents {
	return &recentEvents{max: maxEntries, order: list.New(), byKey: map[seriesKey]*list.Element{}}
}

// observe returns the first Event of ev's series and the series' count
// when ev repeats one seen within seriesWindow; otherwise nil, and ev
// starts a series.
func (c *recentEvents) observe(ev *eventsv1.Event, now time.Time) (*eventsv1.Event, int32) {
	k := keyOf(ev)
	if el, ok := c.byKey[k]; ok {
		e := el.Value.(*recentEvent)
		if now.Sub(e.last) <= seriesWindow {
			e.count++
			e.last = now
			c.order.MoveToFront(el)
			return e.first, e.count
		}
		c.order.Remove(el)
		delete(c.byKey, k)
	}
	c.byKey[k] = c.order.PushFront(&recentEvent{key: k, first: ev, count: 1, last: now})
	for c.order.Len() > c.max {
		oldest := c.order.Back()
		delete(c.byKey, oldest.Value.(*recentEvent).key)
		c.order.Remove(oldest)
	}
	return nil, 0
}

// Size is how many Events are remembered.
func (r *Recorder) Size() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.recent.order.Len()
}

// ForManager returns a recorder that mgr runs, writing through its own
// client of mgr's configuration (and so its own client-side rate limiter,
// as the manager's recorder had).
func ForManager(mgr manager.Manager, controller string, o Options) (*Recorder, error) {
	c, err := client.New(mgr.GetConfig(), client.Options{Scheme: mgr.GetScheme(), HTTPClient: mgr.GetHTTPClient()})
	if err != nil {
		return nil, fmt.Errorf("cannot create the Events client: %w", err)
	}
	r := New(c, mgr.GetScheme(), controller, o)
	if err := mgr.Add(r); err != nil {
		return nil, fmt.Errorf("cannot add the Event recorder to the manager: %w", err)
	}
	return r, nil
}
