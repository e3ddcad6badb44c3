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
	// AcceptErrors are the pending accept-then-5xx faults.
	AcceptErrors []AcceptError `json:"accept_errors,omitempty"`
	Calls        []Call        `json:"calls"`

	// idx finds a group's members and a server's instance without a scan
	// of every object, so a call costs the same with 5 or 5000 groups. It
	// is derived, never saved, and rebuilt whenever the maps' sizes say
	// something changed them behind its back.
	idx *memberIndex
}

// memberIndex lists each group's instances, replication pairs and drills
// in creation order, and the instance of each protected server.
type memberIndex struct {
	instances    map[string][]*Instance
	replications map[string][]*Replication
	drills       map[string][]*Drill
	byServer     map[string]*Instance
	// The map sizes the index was kept in step with.
	nInstances, nReplications, nDrills int
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

// index returns the member index, rebuilding it when the maps' sizes show
// a change it was not told about.
func (s *state) index() *memberIndex {
	if x := s.idx; x != nil && x.nInstances == len(s.Instances) && x.nReplications == len(s.Replications) && x.nDrills == len(s.Drills) {
		return x
	}
	x := &memberIndex{
		instances:     map[string][]*Instance{},
		replications:  map[string][]*Replication{},
		drills:        map[string][]*Drill{},
		byServer:      map[string]*Instance{},
		nInstances:    len(s.Instances),
		nReplications: len(s.Replications),
		nDrills:       len(s.Drills),
	}
	for _, in := range s.Instances {
		x.instances[in.GroupID] = append(x.instances[in.GroupID], in)
		x.byServer[in.SourceServer], x.byServer[in.TargetServer] = in, in
	}
	for _, r := range s.Replications {
		x.replications[r.GroupID] = append(x.replications[r.GroupID], r)
	}
	for _, d := range s.Drills {
		x.drills[d.GroupID] = append(x.drills[d.GroupID], d)
	}
	for _, l := range x.instances {
		slices.SortFunc(l, func(a, b *Instance) int { return cmpSeq(a.Seq, b.Seq) })
	}
	for _, l := range x.replications {
		slices.SortFunc(l, func(a, b *Replication) int { return cmpSeq(a.Seq, b.Seq) })
	}
	for _, l := range x.drills {
		slices.SortFunc(l, func(a, b *Drill) int { return cmpSeq(a.Seq, b.Seq) })
	}
	s.idx = x
	return x
}

// inStep reports whether the index matches the maps before a change, so
// the change can be applied to it instead of a rebuild.
func (s *state) inStep() bool {
	x := s.idx
	return x != nil && x.nInstances == len(s.Instances) && x.nReplications == len(s.Replications) && x.nDrills == len(s.Drills)
}

// putInstance adds a new instance (with a Seq above every other).
func (s *state) putInstance(in *Instance) {
	ok := s.inStep()
	s.Instances[in.ID] = in
	if ok {
		s.idx.instances[in.GroupID] = append(s.idx.instances[in.GroupID], in)
		s.idx.byServer[in.SourceServer], s.idx.byServer[in.TargetServer] = in, in
		s.idx.nInstances = len(s.Instances)
	}
}

// indexServers records an instance's servers again after they changed.
func (s *state) indexServers(in *Instance) {
	if s.inStep() {
		s.idx.byServer[in.SourceServer], s.idx.byServer[in.TargetServer] = in, in
	}
}

func (s *state) removeInstance(in *Instance) {
	ok := s.inStep()
	delete(s.Instances, in.ID)
	if ok {
		s.idx.instances[in.GroupID] = slices.DeleteFunc(s.idx.instances[in.GroupID], func(x *Instance) bool { return x == in })
		for _, id := range []string{in.SourceServer, in.TargetServer} {
			if s.idx.byServer[id] == in {
				delete(s.idx.byServer, id)
			}
		}
		s.idx.nInstances = len(s.Instances)
	}
}

// putReplication adds a new replication pair (with a Seq above every
// other).
func (s *state) putReplication(r *Replication) {
	ok := s.inStep()
	s.Replications[r.ID] = r
	if ok {
		s.idx.replications[r.GroupID] = append(s.idx.replications[r.GroupID], r)
		s.idx.nReplications = len(s.Replications)
	}
}

func (s *state) removeReplication(r *Replication) {
	ok := s.inStep()
	delete(s.Replications, r.ID)
	if ok {
		s.idx.replications[r.GroupID] = slices.DeleteFunc(s.idx.replications[r.GroupID], func(x *Replication) bool { return x == r })
		s.idx.nReplications = len(s.Replications)
	}
}

// putDrill adds a new drill (with a Seq above every other).
func (s *state) putDrill(d *Drill) {
	ok := s.inStep()
	s.Drills[d.ID] = d
	if ok {
		s.idx.drills[d.GroupID] = append(s.idx.drills[d.GroupID], d)
		s.idx.nDrills = len(s.Drills)
	}
}

func (s *state) removeDrill(d *Drill) {
	ok := s.inStep()
	delete(s.Drills, d.ID)
	if ok {
		s.idx.drills[d.GroupID] = slices.DeleteFunc(s.idx.drills[d.GroupID], func(x *Drill) bool { return x == d })
		s.idx.nDrills = len(s.Drills)
	}
}

// instancesOf returns the group's protected instances in creation order.
func (s *state) instancesOf(groupID string) []*Instance {
	var out []*Instance
	for _, in := range s.index().instances[groupID] {
		if s.Instances[in.ID] == in {
			out = append(out, in)
		}
	}
	return out
}

// replicationsOf returns the group's replication pairs in creation order.
func (s *state) replicationsOf(groupID string) []*Replication {
	var out []*Replication
	for _, r := range s.index().replications[groupID] {
		if s.Replications[r.ID] == r {
			out = append(out, r)
		}
	}
	return out
}

func (s *state) drillsOf(groupID string) []*Drill {
	var out []*Drill
	for _, d := range s.index().drills[groupID] {
		if s.Drills[d.ID] == d {
			out = append(out, d)
		}
	}
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
	if in := s.index().byServer[serverID]; in != nil && s.Instances[in.ID] == in &&
		(in.SourceServer == serverID || in.TargetServer == serverID) {
		return in
	}
	// Not indexed (an unprotected server) or indexed before its ID was
	// final (seeding sets the DR server after adding the instance).
	for _, in := range s.Instances {
		if in.SourceServer == serverID || in.TargetServer == serverID {
			s.idx.byServer[serverID] = in
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
