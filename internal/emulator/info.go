package emulator

import (
	"net/http"
	"slices"
	"strings"
	"time"
)

// Read-only service information: API versions, active-active domains,
// quotas, job status and RPO statistics.

type versionView struct {
	ID         string     `json:"id"`
	Links      []linkView `json:"links"`
	Status     string     `json:"status"`
	Updated    string     `json:"updated"`
	Version    string     `json:"version"`
	MinVersion string     `json:"min_version"`
}

type linkView struct {
	Href string `json:"href"`
	Rel  string `json:"rel"`
}

func v1(r *http.Request) versionView {
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return versionView{
		ID:      "v1",
		Links:   []linkView{{Href: scheme + "://" + r.Host + "/v1", Rel: "self"}},
		Status:  "CURRENT",
		Updated: "2018-05-30T15:00:00Z",
	}
}

func (e *Emulator) listVersions(c *call) error {
	return c.ok(http.StatusOK, struct {
		Versions []versionView `json:"versions"`
	}{[]versionView{v1(c.r)}})
}

func (e *Emulator) showVersion(c *call) error {
	if c.params["api_version"] != "v1" {
		return errorf(http.StatusNotFound, codeNoSuchAPI, "API version %q does not exist", c.params["api_version"])
	}
	return c.ok(http.StatusOK, struct {
		Version versionView `json:"version"`
	}{v1(c.r)})
}

type domainView struct {
	ID                       string    `json:"id"`
	Name                     string    `json:"name"`
	Description              string    `json:"description"`
	SoldOut                  bool      `json:"sold_out"`
	LocalReplicationCluster  azCluster `json:"local_replication_cluster"`
	RemoteReplicationCluster azCluster `json:"remote_replication_cluster"`
}

type azCluster struct {
	AvailabilityZone string `json:"availability_zone"`
}

func (e *Emulator) listDomains(c *call) error {
	out := []domainView{}
	for _, d := range e.st.Domains {
		out = append(out, domainView{
			ID: d.ID, Name: d.Name, Description: d.Description,
			LocalReplicationCluster:  azCluster{d.LocalAZ},
			RemoteReplicationCluster: azCluster{d.RemoteAZ},
		})
	}
	slices.SortFunc(out, func(a, b domainView) int { return strings.Compare(a.Name, b.Name) })
	return c.ok(http.StatusOK, struct {
		Domains []domainView `json:"domains"`
	}{out})
}

type quotaResource struct {
	Type  string `json:"type"`
	Used  int    `json:"used"`
	Quota int    `json:"quota"`
	Min   int    `json:"min"`
	Max   int    `json:"max"`
}

func (e *Emulator) showQuota(c *call) error {
	res := []quotaResource{
		{Type: "server_groups", Used: len(e.st.Groups), Quota: groupQuota, Max: -1},
		{Type: "replications", Used: len(e.st.Replications), Quota: replicationQuota, Max: -1},
	}
	return c.ok(http.StatusOK, struct {
		Quotas struct {
			Resources []quotaResource `json:"resources"`
		} `json:"quotas"`
	}{Quotas: struct {
		Resources []quotaResource `json:"resources"`
	}{res}})
}

type rpoView struct {
	ID           string `json:"id"`
	PointTime    string `json:"point_time"`
	ResourceNum  int    `json:"resource_num"`
	ResourceType string `json:"resource_type"`
	CreatedAt    string `json:"created_at"`
	UpdatedAt    string `json:"updated_at"`
}

// rpoPointFormat is point_time's format (SDK RpoStattisticsParams:
// "yyyy-MM-dd HH:mm").
const rpoPointFormat = "2006-01-02 15:04"

// rpoTimeFormats are the time formats start_time/end_time accept.
var rpoTimeFormats = []string{jobTimeFormat, time.RFC3339, resourceTimeFormat, "2006-01-02 15:04:05", "2006-01-02T15:04:05"}

func parseRPOTime(field, v string) (time.Time, error) {
	for _, f := range rpoTimeFormats {
		if t, err := time.Parse(f, v); err == nil {
			return t, nil
		}
	}
	return time.Time{}, invalidParam("%s must be a time such as 2024-01-02T15:04:05.000Z", field)
}

// rpoExceeded reports whether a pair counts as over its RPO: as the admin
// API set it, else while its group's copy is not current.
func (e *Emulator) rpoExceeded(r *Replication) bool {
	if r.RPOExceeded != nil {
		return *r.RPOExceeded
	}
	g := e.st.Groups[r.GroupID]
	return g != nil && (g.Replication.Status == replCopying || g.Replication.Status == replActiveStopped)
}

// listRPOStatistics synthesises hourly points: at each, the number of
// replication pairs whose data is not current (their group is copying or
// stopped), measured now. The emulator keeps no history.
func (e *Emulator) listRPOStatistics(c *call) error {
	p, err := parsePaging(c.query)
	if err != nil {
		return err
	}
	if rt := c.query.Get("resource_type"); rt != "" && rt != "replication" {
		return invalidParam("resource_type must be replication")
	}
	now := e.clock.Now().UTC()
	end := now.Truncate(time.Hour)
	start := end.Add(-23 * time.Hour)
	if v := c.query.Get("start_time"); v != "" {
		if start, err = parseRPOTime("start_time", v); err != nil {
			return err
		}
	}
	if v := c.query.Get("end_time"); v != "" {
		if end, err = parseRPOTime("end_time", v); err != nil {
			return err
		}
	}
	if end.Before(start) {
		return invalidParam("end_time must not be before start_time")
	}
	lagging := 0
	for _, r := range e.st.Replications {
		if e.rpoExceeded(r) {
			lagging++
		}
	}
	var points []rpoView
	for t := start.Truncate(time.Hour); !t.After(end) && len(points) < maxLimit; t = t.Add(time.Hour) {
		if t.Before(start) {
			continue
		}
		ts := resourceTime(t)
		points = append(points, rpoView{
			ID: stableUUID("rpo/" + ts), PointTime: t.Format(rpoPointFormat), ResourceNum: lagging,
			ResourceType: "replication", CreatedAt: ts, UpdatedAt: ts,
		})
	}
	return c.ok(http.StatusOK, struct {
		ResourceRpoStatistics []rpoView `json:"resource_rpo_statistics"`
		Count                 int       `json:"count"`
	}{append([]rpoView{}, page(points, p)...), len(points)})
}
