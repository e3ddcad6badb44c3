// Package memlimit sets the Go runtime's soft memory limit for the
// manager. Without one the heap may grow to twice what is live before a
// collection, which for a large fleet is past a container's memory limit:
// the kernel then kills the manager in the middle of a failover.
package memlimit

import (
	"errors"
	"fmt"
	"os"
	"runtime/debug"
	"strconv"
	"strings"

	"k8s.io/apimachinery/pkg/api/resource"
)

// DefaultRatio is the share of the container's memory limit the runtime
// aims to stay under; the rest covers what the Go heap does not count
// (goroutine stacks, the runtime's own memory, freed pages not yet
// returned to the kernel) and the runtime's overshoot while its garbage
// collection is capped at half the CPU on saturated cores, which at
// 10 000 groups took a 90% soft limit to the container's limit
// (docs/deploy.md).
const DefaultRatio = 0.75

// cgroupFiles hold the memory limit: cgroup v2 first, then v1.
var cgroupFiles = []string{
	"/sys/fs/cgroup/memory.max",
	"/sys/fs/cgroup/memory/memory.limit_in_bytes",
}

// noLimitV1 is what cgroup v1 reports without a limit (a page-aligned
// maximum); anything this large means no limit.
const noLimitV1 = 1 << 62

// Source says where a soft limit came from.
type Source string

// The sources of a soft limit.
const (
	FromFlag   Source = "flag"
	FromEnv    Source = "GOMEMLIMIT"
	FromCgroup Source = "container memory limit"
	None       Source = "none"
)

// Apply sets the soft memory limit and returns it (0 for none) and where
// it came from. flagValue is --memory-limit: a quantity ("180Mi"), "0" to
// set none, or "" to take GOMEMLIMIT when set (the runtime already did),
// else ratio of the container's memory limit when there is one.
func Apply(flagValue string, ratio float64) (int64, Source, error) {
	return apply(flagValue, ratio, os.Getenv("GOMEMLIMIT"), readCgroupLimit, debug.SetMemoryLimit)
}

func apply(flagValue string, ratio float64, env string, cgroup func() (int64, bool), set func(int64) int64) (int64, Source, error) {
	switch {
	case flagValue == "0":
		set(-1) // leave the runtime's: none unless GOMEMLIMIT
		return 0, None, nil
	case flagValue != "":
		q, err := resource.ParseQuantity(flagValue)
		if err != nil || q.Value() <= 0 {
			return 0, None, fmt.Errorf("--memory-limit %q: want a quantity such as 180Mi, or 0 for none", flagValue)
		}
		set(q.Value())
		return q.Value(), FromFlag, nil
	case env != "":
		return set(-1), FromEnv, nil // the runtime parsed it at start
	}
	limit, ok := cgroup()
	if !ok {
		return 0, None, nil
	}
	if ratio <= 0 || ratio > 1 {
		return 0, None, errors.New("the memory limit ratio must be in (0, 1]")
	}
	soft := int64(float64(limit) * ratio)
	set(soft)
	return soft, FromCgroup, nil
}

// readCgroupLimit reads the container's memory limit, if it has one.
func readCgroupLimit() (int64, bool) {
	for _, f := range cgroupFiles {
		b, err := os.ReadFile(f)
		if err != nil {
			continue
		}
		return parseLimit(string(b))
	}
	return 0, false
}

// parseLimit reads a cgroup memory limit: "max" or a byte count.
func parseLimit(s string) (int64, bool) {
	s = strings.TrimSpace(s)
	if s == "max" || s == "" {
		return 0, false
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n <= 0 || n >= noLimitV1 {
		return 0, false
	}
	return n, true
}
