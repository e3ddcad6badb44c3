package emulator

import (
	"cmp"
	"crypto/rand"
	"crypto/sha1"
	"encoding/hex"
	"fmt"
	"slices"
	"strings"
	"time"
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
	VPCs         map[string]*VPC         `json:"vpcs"`
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
		VPCs:         map[string]*VPC{},
		ZonesDown:    map[string]bool{},
	}
}

// fillNil replaces nil maps after loading an older or hand-written file.
func (s *state) fillNil() {
	fillMap(&s.Groups)
	fillMap(&s.Instances)
	fillMap(&s.Replications)
	fillMap(&s.Drills)
	fillMap(&s.Servers)
	fillMap(&s.Volumes)
	fillMap(&s.Domains)
	fillMap(&s.Jobs)
	fillMap(&s.VPCs)
	fillMap(&s.ZonesDown)
}

func fillMap[K comparable, V any](m *map[K]V) {
	if *m == nil {
		*m = map[K]V{}
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

// member is a group member the index lists: an instance, a replication
// pair or a drill.
type member interface {
	comparable
	sequenced
	memberKey() (id, groupID string)
}

// sequenced is an object ordered by creation (its Seq).
type sequenced interface{ seqNo() int64 }

func (g *Group) seqNo() int64       { return g.Seq }
func (in *Instance) seqNo() int64   { return in.Seq }
func (r *Replication) seqNo() int64 { return r.Seq }
func (d *Drill) seqNo() int64       { return d.Seq }
func (s *Server) seqNo() int64      { return s.Seq }
func (v *Volume) seqNo() int64      { return v.Seq }
func (j *Job) seqNo() int64         { return j.Seq }
func (v *VPC) seqNo() int64         { return v.Seq }

// bySeq orders objects by creation.
func bySeq[T sequenced](a, b T) int { return cmp.Compare(a.seqNo(), b.seqNo()) }

// sortedPage sorts the objects by creation and shows the requested page.
func sortedPage[T sequenced, V any](out []T, p paging, view func(T) V) []V {
	slices.SortFunc(out, bySeq[T])
	views := []V{}
	for _, x := range page(out, p) {
		views = append(views, view(x))
	}
	return views
}

func (in *Instance) memberKey() (string, string)   { return in.ID, in.GroupID }
func (r *Replication) memberKey() (string, string) { return r.ID, r.GroupID }
func (d *Drill) memberKey() (string, string)       { return d.ID, d.GroupID }

func (r *Replication) touch(t time.Time) { r.UpdatedAt = t }
func (d *Drill) touch(t time.Time)       { d.UpdatedAt = t }

// jobEnd begins the end of a job on one group member x (nil if gone): when
// x and the job's group exist it stamps x and, if the job failed, lets
// failed put x in its error status. It returns the group and true only
// for a job that succeeded on members still there; otherwise the caller
// returns f.
func jobEnd[T interface {
	member
	touch(time.Time)
}](e *Emulator, j *Job, f *JobFault, x T, failed func(T)) (*Group, bool) {
	var gone T
	g := e.st.Groups[j.Params.GroupID]
	if x == gone || g == nil {
		return nil, false
	}
	x.touch(e.clock.Now())
	if f != nil {
		failed(x)
		return nil, false
	}
	return g, true
}

// groupLists lists the members of each group in creation order.
func groupLists[T member](m map[string]T) map[string][]T {
	out := map[string][]T{}
	for _, x := range m {
		_, g := x.memberKey()
		out[g] = append(out[g], x)
	}
	for _, l := range out {
		slices.SortFunc(l, bySeq[T])
	}
	return out
}

// index returns the member index, rebuilding it when the maps' sizes show
// a change it was not told about.
func (s *state) index() *memberIndex {
	if s.inStep() {
		return s.idx
	}
	x := &memberIndex{
		instances:    groupLists(s.Instances),
		replications: groupLists(s.Replications),
		drills:       groupLists(s.Drills),
		byServer:     map[string]*Instance{},
	}
	for _, in := range s.Instances {
		x.byServer[in.SourceServer], x.byServer[in.TargetServer] = in, in
	}
	x.count(s)
	s.idx = x
	return x
}

// count records the map sizes the index is in step with.
func (x *memberIndex) count(s *state) {
	x.nInstances, x.nReplications, x.nDrills = len(s.Instances), len(s.Replications), len(s.Drills)
}

// inStep reports whether the index matches the maps before a change, so
// the change can be applied to it instead of a rebuild.
func (s *state) inStep() bool {
	x := s.idx
	return x != nil && x.nInstances == len(s.Instances) && x.nReplications == len(s.Replications) && x.nDrills == len(s.Drills)
}

// putMember adds a new member (with a Seq above every other) to its map
// and, if the index was in step, to its group's list; it reports whether
// it updated the index.
func putMember[T member](s *state, m map[string]T, lists func(*memberIndex) map[string][]T, x T) bool {
	ok := s.inStep()
	id, g := x.memberKey()
	m[id] = x
	if ok {
		l := lists(s.idx)
		l[g] = append(l[g], x)
		s.idx.count(s)
	}
	return ok
}

// removeMember deletes a member from its map and, if the index was in
// step, from its group's list; it reports whether it updated the index.
func removeMember[T member](s *state, m map[string]T, lists func(*memberIndex) map[string][]T, x T) bool {
	ok := s.inStep()
	id, g := x.memberKey()
	delete(m, id)
	if ok {
		l := lists(s.idx)
		l[g] = slices.DeleteFunc(l[g], func(y T) bool { return y == x })
		s.idx.count(s)
	}
	return ok
}

// membersOf returns the listed members still in the map, in creation
// order.
func membersOf[T member](m map[string]T, list []T) []T {
	var out []T
	for _, x := range list {
		if id, _ := x.memberKey(); m[id] == x {
			out = append(out, x)
		}
	}
	return out
}

func idxInstances(x *memberIndex) map[string][]*Instance       { return x.instances }
func idxReplications(x *memberIndex) map[string][]*Replication { return x.replications }
func idxDrills(x *memberIndex) map[string][]*Drill             { return x.drills }

// putInstance adds a new instance (with a Seq above every other).
func (s *state) putInstance(in *Instance) {
	if putMember(s, s.Instances, idxInstances, in) {
		s.idx.byServer[in.SourceServer], s.idx.byServer[in.TargetServer] = in, in
	}
}

// indexServers records an instance's servers again after they changed.
func (s *state) indexServers(in *Instance) {
	if s.inStep() {
		s.idx.byServer[in.SourceServer], s.idx.byServer[in.TargetServer] = in, in
	}
}

func (s *state) removeInstance(in *Instance) {
	if removeMember(s, s.Instances, idxInstances, in) {
		for _, id := range []string{in.SourceServer, in.TargetServer} {
			if s.idx.byServer[id] == in {
				delete(s.idx.byServer, id)
			}
		}
	}
}

// putReplication adds a new replication pair (with a Seq above every
// other).
func (s *state) putReplication(r *Replication) { putMember(s, s.Replications, idxReplications, r) }

func (s *state) removeReplication(r *Replication) {
	removeMember(s, s.Replications, idxReplications, r)
}

// putDrill adds a new drill (with a Seq above every other).
func (s *state) putDrill(d *Drill) { putMember(s, s.Drills, idxDrills, d) }

func (s *state) removeDrill(d *Drill) { removeMember(s, s.Drills, idxDrills, d) }

// instancesOf returns the group's protected instances in creation order.
func (s *state) instancesOf(groupID string) []*Instance {
	return membersOf(s.Instances, s.index().instances[groupID])
}

// replicationsOf returns the group's replication pairs in creation order.
func (s *state) replicationsOf(groupID string) []*Replication {
	return membersOf(s.Replications, s.index().replications[groupID])
}

func (s *state) drillsOf(groupID string) []*Drill {
	return membersOf(s.Drills, s.index().drills[groupID])
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
