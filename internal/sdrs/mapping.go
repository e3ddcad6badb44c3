package sdrs

import (
	"sort"
	"strconv"
	"strings"
	"time"

	ecsmodel "github.com/huaweicloud/huaweicloud-sdk-go-v3/services/ecs/v2/model"
	"github.com/huaweicloud/huaweicloud-sdk-go-v3/services/sdrs/v1/model"
)

// The functions below turn SDK answers into domain types. They never fail:
// an unknown enum value is kept as it came, an unparsable time becomes the
// zero time, a missing object becomes empty fields. A status read is worth
// more than a perfect one.

// nullValue is what the SDK's enum wrappers hold for a JSON null: their
// UnmarshalJSON trims quotes from the raw bytes (sdrs-api.md section 5).
const nullValue = "null"

// clean trims a string and turns the SDK's "null" into "".
func clean(s string) string {
	s = strings.TrimSpace(s)
	if s == nullValue {
		return ""
	}
	return s
}

func deref(p *string) string {
	if p == nil {
		return ""
	}
	return clean(*p)
}

// canonical returns the known value equal to s ignoring case, or s as it
// came.
func canonical(s string, known ...string) string {
	for _, k := range known {
		if strings.EqualFold(s, k) {
			return k
		}
	}
	return s
}

func site(s string) Site {
	return Site(canonical(clean(s), string(SiteSource), string(SiteTarget)))
}

func jobStatus(s string) JobStatus {
	return JobStatus(canonical(clean(s), string(JobInit), string(JobRunning), string(JobSuccess), string(JobFail)))
}

// timeLayouts are the formats SDRS and ECS were seen or documented to use
// (sdrs-api.md section 1). Layouts without a zone are read as UTC.
var timeLayouts = []string{
	time.RFC3339Nano,                // 2018-04-19T01:55:30.443Z, with offsets too
	"2006-01-02T15:04:05.999999999", // 2018-05-04T03:43:24.108526
	"2006-01-02 15:04:05.999999999", // 2019-05-22 08:16:54.413
	"2006-01-02T15:04:05.999999999Z0700",
	"2006-01-02 15:04:05.999999999Z07:00",
	"2006-01-02 15:04:05.999999999 -0700 MST",
}

// parseTime reads a job or resource time leniently; it returns the zero
// time for anything it cannot read.
func parseTime(s string) time.Time {
	s = clean(s)
	if s == "" {
		return time.Time{}
	}
	for _, l := range timeLayouts {
		if t, err := time.Parse(l, s); err == nil {
			return t.UTC()
		}
	}
	// Epoch seconds or milliseconds.
	if n, err := strconv.ParseInt(s, 10, 64); err == nil && n > 0 {
		if n > 1e12 {
			return time.UnixMilli(n).UTC()
		}
		return time.Unix(n, 0).UTC()
	}
	return time.Time{}
}

func groupFromSDK(p *model.ShowProtectionGroupParams) ProtectionGroup {
	if p == nil {
		return ProtectionGroup{}
	}
	return ProtectionGroup{
		ID:                     clean(p.Id),
		Name:                   p.Name,
		Description:            clean(p.Description),
		Status:                 clean(p.Status),
		ProtectedStatus:        clean(p.ProtectedStatus.Value()),
		ReplicationStatus:      clean(p.ReplicationStatus.Value()),
		HealthStatus:           clean(p.HealthStatus.Value()),
		Progress:               p.Progress,
		PriorityStation:        site(p.PriorityStation),
		SourceAvailabilityZone: clean(p.SourceAvailabilityZone),
		TargetAvailabilityZone: clean(p.TargetAvailabilityZone),
		DomainID:               clean(p.DomainId),
		SourceVpcID:            clean(p.SourceVpcId),
		ProtectedInstanceCount: p.ProtectedInstanceNum,
		ReplicationCount:       p.ReplicationNum,
		DrillCount:             p.DisasterRecoveryDrillNum,
	}
}

func instanceFromSDK(p *model.ShowProtectedInstanceParams) ProtectedInstance {
	if p == nil {
		return ProtectedInstance{}
	}
	return ProtectedInstance{
		ID:              clean(p.Id),
		Name:            p.Name,
		Status:          clean(p.Status),
		GroupID:         clean(p.ServerGroupId),
		SourceServerID:  clean(p.SourceServer),
		TargetServerID:  clean(p.TargetServer),
		PriorityStation: site(p.PriorityStation),
	}
}

// pairFromSDK maps a replication pair.
func pairFromSDK(r *model.ShowReplicationParams) ReplicationPair {
	level := -1
	if n, err := strconv.Atoi(clean(r.FaultLevel)); err == nil {
		level = n
	}
	return ReplicationPair{
		ID: clean(r.Id), Name: clean(r.Name), Status: clean(r.Status), GroupID: clean(r.ServerGroupId),
		ReplicationStatus: clean(r.ReplicationStatus.Value()), FaultLevel: level,
	}
}

// failedJobFromSDK maps a task-center entry of the group groupID.
func failedJobFromSDK(f *model.FailureJobParams, groupID string) Job {
	return Job{
		ID:         clean(f.JobId),
		Type:       clean(f.JobType),
		Status:     JobFail,
		BeginTime:  parseTime(f.BeginTime),
		ErrorCode:  clean(f.ErrorCode),
		FailReason: sanitize(clean(f.FailReason)),
		GroupID:    groupID,
	}
}

// jobHead maps the fields SDRS and ECS jobs share.
func jobHead(id, typ *string, status string, begin, end, code, reason *string) *Job {
	return &Job{
		ID: deref(id), Type: deref(typ), Status: jobStatus(status),
		BeginTime: parseTime(deref(begin)), EndTime: parseTime(deref(end)),
		ErrorCode: deref(code), FailReason: deref(reason),
	}
}

func jobFromSDRS(r *model.ShowJobStatusResponse) *Job {
	if r == nil {
		return &Job{}
	}
	var status string
	if r.Status != nil {
		status = r.Status.Value()
	}
	j := jobHead(r.JobId, r.JobType, status, r.BeginTime, r.EndTime, r.ErrorCode, r.FailReason)
	if e := r.Entities; e != nil {
		j.GroupID = deref(e.ServerGroupId)
		if j.ErrorCode == "" && j.Status == JobFail && e.SubJobs != nil {
			// A parent job may fail with the reason only on a sub-job.
			for _, s := range *e.SubJobs {
				if code := clean(s.ErrorCode); code != "" || jobStatus(s.Status.Value()) == JobFail {
					j.ErrorCode, j.FailReason = code, clean(s.FailReason)
					if code != "" {
						break
					}
				}
			}
		}
	}
	j.FailReason = sanitize(j.FailReason)
	return j
}

// jobFromSDRSWithEntities maps a job read with the drill ID kept.
func jobFromSDRSWithEntities(r *jobStatusResponse) *Job {
	if r == nil {
		return &Job{}
	}
	base := r.ShowJobStatusResponse
	if r.Entities != nil {
		e := r.Entities.JobEntities
		base.Entities = &e
	}
	j := jobFromSDRS(&base)
	if r.Entities != nil {
		j.DrillID = deref(r.Entities.DisasterRecoveryDrillID)
	}
	return j
}

func jobFromECS(r *ecsmodel.ShowJobResponse) *Job {
	if r == nil {
		return &Job{}
	}
	var status string
	if r.Status != nil {
		status = r.Status.Value()
	}
	j := jobHead(r.JobId, r.JobType, status, r.BeginTime, r.EndTime, r.ErrorCode, r.FailReason)
	if j.ErrorCode == "" {
		j.ErrorCode = deref(r.Code)
	}
	if j.FailReason == "" {
		j.FailReason = deref(r.Message)
	}
	if e := r.Entities; e != nil && j.ErrorCode == "" && j.Status == JobFail && e.SubJobs != nil {
		for _, s := range *e.SubJobs {
			var st string
			if s.Status != nil {
				st = s.Status.Value()
			}
			if code := deref(s.ErrorCode); code != "" || jobStatus(st) == JobFail {
				j.ErrorCode, j.FailReason = code, deref(s.FailReason)
				if code != "" {
					break
				}
			}
		}
	}
	j.FailReason = sanitize(j.FailReason)
	return j
}

// OS types reported in Server.OSType.
const (
	osLinux   = "Linux"
	osWindows = "Windows"
	osCoreOS  = "CoreOS"
)

func serverFromSDK(d *ecsmodel.ServerDetail) Server {
	if d == nil {
		return Server{}
	}
	return Server{
		ID:               clean(d.Id),
		Name:             d.Name,
		Status:           clean(d.Status),
		AvailabilityZone: clean(d.OSEXTAZavailabilityZone),
		OSType:           osType(d.Metadata),
		KeyName:          clean(d.KeyName),
		Addresses:        serverAddresses(d.Addresses),
	}
}

// ECS address types (OS-EXT-IPS:type).
const (
	addrFixed    = "fixed"
	addrFloating = "floating"
)

// serverAddresses flattens ECS's addresses (network ID to addresses):
// fixed addresses first, the primary NIC's before the others, then
// floating ones, then any other type; networks in ID order and each
// network's addresses in their order; each address once. Nil when there
// is none.
func serverAddresses(byNet map[string][]ecsmodel.ServerAddress) []string {
	nets := make([]string, 0, len(byNet))
	for n := range byNet {
		nets = append(nets, n)
	}
	sort.Strings(nets)
	rank := func(a *ecsmodel.ServerAddress) int {
		var t string
		if a.OSEXTIPStype != nil {
			t = clean(a.OSEXTIPStype.Value())
		}
		switch {
		case strings.EqualFold(t, addrFixed) && a.Primary != nil && *a.Primary:
			return 0
		case strings.EqualFold(t, addrFixed), t == "":
			// No type: Nova lists fixed addresses first and ECS
			// always types floating ones.
			return 1
		case strings.EqualFold(t, addrFloating):
			return 2
		}
		return 3
	}
	type ranked struct {
		addr string
		rank int
	}
	var all []ranked
	for _, n := range nets {
		for i := range byNet[n] {
			a := &byNet[n][i]
			if addr := clean(a.Addr); addr != "" {
				all = append(all, ranked{addr, rank(a)})
			}
		}
	}
	sort.SliceStable(all, func(i, k int) bool { return all[i].rank < all[k].rank })
	var out []string
	seen := make(map[string]bool, len(all))
	for _, r := range all {
		if !seen[r.addr] {
			seen[r.addr] = true
			out = append(out, r.addr)
		}
	}
	return out
}

// drillFromSDK maps a DR drill.
func drillFromSDK(p *model.ShowDisasterRecoveryDrillParams) Drill {
	if p == nil {
		return Drill{}
	}
	d := Drill{
		ID:        clean(p.Id),
		Name:      p.Name,
		Status:    canonical(clean(p.Status), DrillCreating, DrillAvailable, DrillDeleting, DrillErrorDeleting, DrillError),
		GroupID:   clean(p.ServerGroupId),
		VpcID:     clean(p.DrillVpcId),
		CreatedAt: parseTime(p.CreatedAt),
	}
	for _, s := range p.DrillServers {
		d.Servers = append(d.Servers, DrillServer{
			ProtectedInstanceID: clean(s.ProtectedInstance),
			ServerID:            clean(s.DrillServerId),
		})
	}
	return d
}

// osType reads the image's OS family from the server metadata. ECS's
// os_type says only Linux or Windows, so CoreOS is recognised from the
// image name; without os_type the image name is all there is. Empty when
// unknown.
func osType(md map[string]string) string {
	name := strings.ToLower(md["image_name"])
	t := canonical(clean(md["os_type"]), osLinux, osWindows, osCoreOS)
	switch {
	case t == osWindows, t == osCoreOS:
		return t
	case strings.Contains(name, "coreos"):
		return osCoreOS
	case t != "":
		return t
	case strings.Contains(name, "windows"):
		return osWindows
	}
	return ""
}

// rpoFilterLayout is the time format of the RPO statistics' filters
// ("yyyy-MM-dd HH:mm:ss.SSS"); points are "yyyy-MM-dd HH:mm", which sorts
// as text.
const rpoFilterLayout = "2006-01-02 15:04:05.000"

// rpoPoint is one point of SDRS's RPO statistics: how many replication
// pairs were above their RPO target then.
type rpoPoint struct {
	at string
	n  int
}

// latestRPOPoint returns the count of the newest point, or -1 when there
// is none. The layout sorts as text.
func latestRPOPoint(points []rpoPoint) int {
	latest, n := "", -1
	for _, p := range points {
		if p.at >= latest {
			latest, n = p.at, p.n
		}
	}
	return n
}
