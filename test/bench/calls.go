package main

import (
	"time"

	"github.com/sdrs-operator/sdrs-operator/internal/emutest"
)

// callClass sorts the emulator's logged operations the way the report
// counts them.
type callClass string

const (
	classAction    callClass = "actions"        // group actions: reverse, failover, start, stop
	classJobPoll   callClass = "job polls"      // ShowJobStatus
	classGroupRead callClass = "group reads"    // ShowProtectionGroup, ListProtectionGroups
	classInstances callClass = "instance reads" // ListProtectedInstances and other instance reads
	classOtherSDRS callClass = "other SDRS"
	classECS       callClass = "ECS"
)

var sdrsClasses = []callClass{classAction, classJobPoll, classGroupRead, classInstances, classOtherSDRS}

func classify(op string) callClass {
	switch op {
	case "StartReverseProtectionGroup", "StartFailoverProtectionGroup", "StartProtectionGroup", "StopProtectionGroup",
		"ProtectionGroupAction", "CreateProtectionGroup", "DeleteProtectionGroup":
		return classAction
	case "ShowJobStatus":
		return classJobPoll
	case "ShowProtectionGroup", "ListProtectionGroups":
		return classGroupRead
	case "ListProtectedInstances", "ShowProtectedInstance":
		return classInstances
	case "ShowServer", "BatchStopServers", "BatchStartServers", "ShowJob":
		return classECS
	}
	return classOtherSDRS
}

// callCounts counts calls by class and by operation.
type callCounts struct {
	ByClass map[callClass]int
	ByOp    map[string]int
	// Refused counts answers other than 2xx (throttled, precondition,
	// server errors).
	Refused int
	Total   int
}

func countCalls(calls []emutest.Call) callCounts {
	c := callCounts{ByClass: map[callClass]int{}, ByOp: map[string]int{}}
	for _, call := range calls {
		c.ByClass[classify(call.Operation)]++
		c.ByOp[call.Operation]++
		if call.StatusCode < 200 || call.StatusCode >= 300 {
			c.Refused++
		}
		c.Total++
	}
	return c
}

// SDRS is every call that is not ECS.
func (c callCounts) SDRS() int { return c.Total - c.ByClass[classECS] }

// projectWide reports the reads that serve every group of a ProviderConfig
// at once (failover readiness): lists with no group filter.
func projectWide(c emutest.Call) bool {
	switch c.Operation {
	case "ListReplications", "ListProtectedInstances", "ListRpoStatistics":
		return c.GroupID == ""
	}
	return false
}

// splitProjectWide separates the project-wide reads from the rest.
func splitProjectWide(calls []emutest.Call) (groups, project []emutest.Call) {
	for _, c := range calls {
		if projectWide(c) {
			project = append(project, c)
		} else {
			groups = append(groups, c)
		}
	}
	return groups, project
}

// between returns the calls in [from, to).
func between(calls []emutest.Call, from, to time.Time) []emutest.Call {
	var out []emutest.Call
	for _, c := range calls {
		if !c.Time.Before(from) && c.Time.Before(to) {
			out = append(out, c)
		}
	}
	return out
}

// forGroups keeps the calls that concern one of the groups.
func forGroups(calls []emutest.Call, groups map[string]bool) []emutest.Call {
	var out []emutest.Call
	for _, c := range calls {
		if groups[c.GroupID] {
			out = append(out, c)
		}
	}
	return out
}

func times(calls []emutest.Call) []time.Time {
	out := make([]time.Time, 0, len(calls))
	for _, c := range calls {
		out = append(out, c.Time)
	}
	return out
}
