package controllers

import (
	"context"
	"fmt"
	"sync"
	"time"

	"golang.org/x/sync/singleflight"

	"github.com/sdrs-operator/sdrs-operator/internal/sdrs"
)

// maxUnhealthyNamed bounds the instances readiness names per group.
const maxUnhealthyNamed = 10

// fleetFacts reads the SDRS facts behind failover readiness that would
// cost calls per group (every replication pair and protected instance, and
// the RPO statistics) once per ProviderConfig and sync interval, for every
// group at once: an idle group's own calls stay one read of the group.
type fleetFacts struct {
	mu     sync.Mutex
	byPC   map[string]*projectFacts
	flight singleflight.Group
}

// projectFacts are one read of a project's pairs and instances.
type projectFacts struct {
	at          time.Time
	groups      map[string]*groupFacts
	rpoExceeded int
}

// groupFacts are the readiness inputs of one SDRS group.
type groupFacts struct {
	at          time.Time
	pairs       int
	worstFault  int
	unhealthy   []string // instances SDRS reports invalid or fault ("name (status)")
	invalid     bool     // some instance is invalid: a server was deleted
	rpoExceeded int      // project-wide, -1 when unknown
}

// forGroup returns the facts of group id as read at most maxAge ago,
// reading the whole project again when they are older. A group the read
// did not mention has no pairs.
func (f *fleetFacts) forGroup(ctx context.Context, pcKey string, c sdrs.Client, id string, maxAge time.Duration, now time.Time) (*groupFacts, error) {
	f.mu.Lock()
	p := f.byPC[pcKey]
	f.mu.Unlock()
	if p == nil || now.Sub(p.at) >= maxAge {
		v, err, _ := f.flight.Do(pcKey, func() (any, error) {
			f.mu.Lock()
			cur := f.byPC[pcKey]
			f.mu.Unlock()
			if cur != nil && now.Sub(cur.at) < maxAge {
				return cur, nil // another reconcile read it meanwhile
			}
			read, err := readProject(ctx, c, now)
			if err != nil {
				return nil, err
			}
			f.mu.Lock()
			if f.byPC == nil {
				f.byPC = map[string]*projectFacts{}
			}
			f.byPC[pcKey] = read
			f.mu.Unlock()
			return read, nil
		})
		if err != nil {
			return nil, err
		}
		p = v.(*projectFacts)
	}
	if g := p.groups[id]; g != nil {
		return g, nil
	}
	return &groupFacts{at: p.at, rpoExceeded: p.rpoExceeded}, nil
}

func readProject(ctx context.Context, c sdrs.Client, now time.Time) (*projectFacts, error) {
	pairs, err := c.ListAllReplicationPairs(ctx)
	if err != nil {
		return nil, fmt.Errorf("cannot list the project's replication pairs: %w", err)
	}
	instances, err := c.ListAllProtectedInstances(ctx)
	if err != nil {
		return nil, fmt.Errorf("cannot list the project's protected instances: %w", err)
	}
	// The RPO statistics are a bonus: without them readiness still holds.
	rpo, err := c.RPOExceededPairs(ctx)
	if err != nil {
		rpo = -1
	}
	p := &projectFacts{at: now, groups: map[string]*groupFacts{}, rpoExceeded: rpo}
	group := func(id string) *groupFacts {
		g := p.groups[id]
		if g == nil {
			g = &groupFacts{at: now, rpoExceeded: rpo}
			p.groups[id] = g
		}
		return g
	}
	for _, pr := range pairs {
		g := group(pr.GroupID)
		g.pairs++
		g.worstFault = max(g.worstFault, pr.FaultLevel)
	}
	for _, in := range instances {
		if in.Status != sdrs.InstanceInvalid && in.Status != sdrs.InstanceFault {
			continue
		}
		g := group(in.GroupID)
		g.invalid = g.invalid || in.Status == sdrs.InstanceInvalid
		if len(g.unhealthy) < maxUnhealthyNamed {
			g.unhealthy = append(g.unhealthy, fmt.Sprintf("%s (%s)", orID(in.Name, in.ID), in.Status))
		}
	}
	return p, nil
}

func orID(name, id string) string {
	if name != "" {
		return name
	}
	return id
}
