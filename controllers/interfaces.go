package controllers

import (
	"time"

	"k8s.io/apimachinery/pkg/runtime"

	"github.com/sdrs-operator/sdrs-operator/internal/metrics"
)

// EventRecorder is the events.k8s.io recorder the manager provides.
type EventRecorder interface {
	Eventf(regarding runtime.Object, related runtime.Object, eventtype, reason, action, note string, args ...interface{})
}

// MetricsRecorder is what the controllers publish; internal/metrics
// implements it.
type MetricsRecorder interface {
	// ObserveGroup records a group's facts after each reconcile.
	ObserveGroup(f metrics.GroupFacts)
	// Forget removes a deleted group's facts.
	Forget(namespace, name string)
	OperationFinished(opType, result string, d time.Duration)
	SetRPOExceededPairs(providerConfig string, n int)
}

type noopMetrics struct{}

func (noopMetrics) ObserveGroup(metrics.GroupFacts)                 {}
func (noopMetrics) Forget(string, string)                           {}
func (noopMetrics) OperationFinished(string, string, time.Duration) {}
func (noopMetrics) SetRPOExceededPairs(string, int)                 {}
