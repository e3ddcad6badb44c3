package emulator

import (
	"crypto/rand"
	"crypto/sha1"
	"encoding/hex"
	"fmt"
	"slices"
	"strings"
)

// state is everything the emulator knows. It is guarded by Emulator.mu and
// written whole to the state file after every change.
type state struct {
	Seq          int64                   `json:"seq"`
	Groups       map[string]*Group       `json:"groups"`
	Instances    map[string]*Instance    `json:"instances"`
	Replications map[string]*Replication `json:"replications"`
	Drills       map[string]*Drill       `json:"drills"`
	Servers      map[string]*Server      `json:"servers"`
	Volumes      map[string]*Volume      `json:"volumes"`
	Domains      map[string]*Domain      `json:"domains"`
	Jobs         map[string]*Job         `json:"jobs"`
	// FailureJobs lists, oldest first, the IDs of failed SDRS jobs still
	// shown by the task center.
	FailureJobs []string        `json:"failure_jobs"`
	ZonesDown   map[string]bool `json:"zones_down"`
	JobFaults   []JobFault      `json:"job_faults"`
	HTTPFaults  *HTTPFaults     `json:"http_faults,omitempty"`
	Calls       []Call          `json:"calls"`
}

func newState() *state {
	return &state{
		Groups:       map[string]*Group{},
		Instances:    map[string]*Instance{},
		Replications: map[string]*Replication{},
		Drills:       map[string]*Drill{},
		Servers:      map[string]*Server{},
		Volumes:      map[string]*Volume{},
		Domains:      map[string]*Domain{},
		Jobs:         map[string]*Job{},
		ZonesDown:    map[string]bool{},
	}
}

// fillNil replaces nil maps after loading an older or hand-written file.
func (s *state) fillNil() {
	fresh := newState()
	if s.Groups == nil {
		s.Groups = fresh.Groups
	}
	if s.Instances == nil {
		s.Instances = fresh.Instances
	}
	if s.Replications == nil {
		s.Replications = fresh.Replications
	}
	if s.Drills == nil {
		s.Drills = fresh.Drills
	}
	if s.Servers == nil {
		s.Servers = fresh.Servers
	}
	if s.Volumes == nil {
		s.Volumes = fresh.Volumes
	}
	if s.Domains == nil {
		s.Domains = fresh.Domains
	}
	if s.Jobs == nil {
		s.Jobs = fresh.Jobs
	}
	if s.ZonesDown == nil {
		s.ZonesDown = fresh.ZonesDown
	}
}

// nextSeq orders resources by creation even when the clock stands still.
func (s *state) nextSeq() int64 {
	s.Seq++
	return s.Seq
}

// newUUID returns a random version-4 UUID, the ID format of groups,
// instances, replication pairs, drills, servers and volumes.
func newUUID() string {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(fmt.Sprintf("crypto/rand failed: %v", err))
	}
	b[6] = (b[6] & 0x0f) | 0x40
	b[8] = (b[8] & 0x3f) | 0x80
	return formatUUID(b[:])
}

// stableUUID derives a UUID from a name, so seeded objects such as the
// default active-active domain keep their ID across restarts.
func stableUUID(name string) string {
	sum := sha1.Sum([]byte(name))
	b := sum[:16]
	b[6] = (b[6] & 0x0f) | 0x50
	b[8] = (b[8] & 0x3f) | 0x80
	return formatUUID(b)
}

func formatUUID(b []byte) string {
	h := hex.EncodeToString(b)
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:32]
}

// newJobID returns 32 hex characters, the SDRS and ECS job ID format.
func newJobID() string {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(fmt.Sprintf("crypto/rand failed: %v", err))
	}
	return hex.EncodeToString(b[:])
}

// instancesOf returns the group's protected instances in creation order.
func (s *state) instancesOf(groupID string) []*Instance {
	var out []*Instance
	for _, in := range s.Instances {
		if in.GroupID == groupID {
			out = append(out, in)
		}
	}
	slices.SortFunc(out, func(a, b *Instance) int { return cmpSeq(a.Seq, b.Seq) })
	return out
}

// replicationsOf returns the group's replication pairs in creation order.
func (s *state) replicationsOf(groupID string) []*Replication {
	var out []*Replication
	for _, r := range s.Replications {
		if r.GroupID == groupID {
			out = append(out, r)
		}
	}
	slices.SortFunc(out, func(a, b *Replication) int { return cmpSeq(a.Seq, b.Seq) })
	return out
}

func (s *state) drillsOf(groupID string) []*Drill {
	var out []*Drill
	for _, d := range s.Drills {
		if d.GroupID == groupID {
			out = append(out, d)
		}
	}
	slices.SortFunc(out, func(a, b *Drill) int { return cmpSeq(a.Seq, b.Seq) })
	return out
}

func cmpSeq(a, b int64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// groupBusy reports a member of the group that is in the middle of its own
// job: SDRS runs one operation at a time per group.
func (s *state) groupBusy(g *Group) string {
	for _, in := range s.instancesOf(g.ID) {
		if transitional(in.Status) {
			return fmt.Sprintf("protected instance %s is %s", in.ID, in.Status)
		}
	}
	for _, r := range s.replicationsOf(g.ID) {
		if transitional(r.Status) {
			return fmt.Sprintf("replication pair %s is %s", r.ID, r.Status)
		}
	}
	for _, d := range s.drillsOf(g.ID) {
		if transitional(d.Status) {
			return fmt.Sprintf("DR drill %s is %s", d.ID, d.Status)
		}
	}
	return ""
}

// serverProtectedBy returns the instance that uses the server, if any.
func (s *state) serverProtectedBy(serverID string) *Instance {
	for _, in := range s.Instances {
		if in.SourceServer == serverID || in.TargetServer == serverID {
			return in
		}
	}
	return nil
}

// volumeReplicatedBy returns the replication pair that uses the disk, if any.
func (s *state) volumeReplicatedBy(volumeID string) *Replication {
	for _, r := range s.Replications {
		if r.VolumeID == volumeID || r.DRVolumeID == volumeID {
			return r
		}
	}
	return nil
}

// domainFor returns the active-active domain spanning the two zones.
func (s *state) domainFor(a, b string) *Domain {
	for _, d := range s.Domains {
		if d.pairs(a, b) {
			return d
		}
	}
	return nil
}

// ensureDomain adds the active-active domain for a zone pair if missing.
func (s *state) ensureDomain(a, b string) *Domain {
	if d := s.domainFor(a, b); d != nil {
		return d
	}
	d := &Domain{
		ID:          stableUUID("domain/" + a + "/" + b),
		Name:        "ActiveactiveDomain-" + strings.ReplaceAll(a+"-"+b, "/", "-"),
		Description: "active-active domain " + a + " <-> " + b,
		LocalAZ:     a,
		RemoteAZ:    b,
	}
	s.Domains[d.ID] = d
	return d
}
