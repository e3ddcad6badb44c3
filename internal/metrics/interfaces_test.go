package metrics_test

import (
	"github.com/sdrs-operator/sdrs-operator/controllers"
	"github.com/sdrs-operator/sdrs-operator/internal/metrics"
)

// The controllers publish through their interfaces; the Recorder main.go
// builds must satisfy them. The assertions live in an external test
// package: the controllers import internal/metrics for GroupFacts.
var (
	_ controllers.MetricsRecorder    = (*metrics.Recorder)(nil)
	_ controllers.PlanMetrics        = (*metrics.Recorder)(nil)
	_ controllers.DrillMetrics       = (*metrics.Recorder)(nil)
	_ controllers.DrillExpiryMetrics = (*metrics.Recorder)(nil)
)
