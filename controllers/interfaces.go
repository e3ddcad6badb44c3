package controllers

import (
	"time"

	"k8s.io/apimachinery/pkg/runtime"
)

// EventRecorder is the events.k8s.io recorder the manager provides.
type EventRecorder interface {
	Eventf(regarding runtime.Object, related runtime.Object, eventtype, reason, action, note string, args ...interface{})
}

// MetricsRecorder is what the controllers publish; internal/metrics
// implements it.
type MetricsRecorder interface {
	SetInFlight(group, opType string)
	SetActiveSite(namespace, name, site string)
	OperationFinished(opType, result string, d time.Duration)
	SetConditions(namespace, name string, conds map[string]string)
	SetReplicationActive(namespace, name string, active, exported bool)
	SetFaultLevel(namespace, name string, level int)
	SetRPOExceededPairs(providerConfig string, n int)
	Forget(namespace, name string)
}

type noopMetrics struct{}

func (noopMetrics) SetInFlight(string, string)                      {}
func (noopMetrics) SetActiveSite(string, string, string)            {}
func (noopMetrics) OperationFinished(string, string, time.Duration) {}
func (noopMetrics) SetConditions(string, string, map[string]string) {}
func (noopMetrics) SetReplicationActive(string, string, bool, bool) {}
func (noopMetrics) SetFaultLevel(string, string, int)               {}
func (noopMetrics) SetRPOExceededPairs(string, int)                 {}
func (noopMetrics) Forget(string, string)                           {}
