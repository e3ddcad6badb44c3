package sdrs

import (
	"context"
	"fmt"
	"regexp"
	"sync/atomic"
	"time"

	ecsmodel "github.com/huaweicloud/huaweicloud-sdk-go-v3/services/ecs/v2/model"
	"github.com/huaweicloud/huaweicloud-sdk-go-v3/services/sdrs/v1/model"
	"golang.org/x/time/rate"
)

// CallObserver is told about every cloud call a Client makes: the SDK
// operation name (e.g. "ShowProtectionGroup", "BatchStopServers"), the
// typed error it ended with (nil on success) and how long the call took,
// rate-limit wait excluded. It must be safe for concurrent use and fast.
type CallObserver func(op string, err error, d time.Duration)

// sdrsAPI lists the *sdrs.SdrsClient methods this package uses, so tests
// can stand in for the SDK and the error translation stays testable.
type sdrsAPI interface {
	ShowQuota(*model.ShowQuotaRequest) (*model.ShowQuotaResponse, error)
	ShowProtectionGroup(*model.ShowProtectionGroupRequest) (*model.ShowProtectionGroupResponse, error)
	ListProtectionGroups(*model.ListProtectionGroupsRequest) (*model.ListProtectionGroupsResponse, error)
	ListProtectedInstances(*model.ListProtectedInstancesRequest) (*model.ListProtectedInstancesResponse, error)
	// ShowJobStatusWithEntities is ShowJobStatus decoded into a model that
	// keeps entities.disaster_recovery_drill_id (sdk_jobs.go).
	ShowJobStatusWithEntities(*model.ShowJobStatusRequest) (*jobStatusResponse, error)
	ListFailureJobs(*model.ListFailureJobsRequest) (*model.ListFailureJobsResponse, error)
	ListReplications(*model.ListReplicationsRequest) (*model.ListReplicationsResponse, error)
	ListRpoStatistics(*model.ListRpoStatisticsRequest) (*model.ListRpoStatisticsResponse, error)
	CreateProtectionGroup(*model.CreateProtectionGroupRequest) (*model.CreateProtectionGroupResponse, error)
	DeleteProtectionGroup(*model.DeleteProtectionGroupRequest) (*model.DeleteProtectionGroupResponse, error)
	StartProtectionGroup(*model.StartProtectionGroupRequest) (*model.StartProtectionGroupResponse, error)
	StopProtectionGroup(*model.StopProtectionGroupRequest) (*model.StopProtectionGroupResponse, error)
	StartReverseProtectionGroup(*model.StartReverseProtectionGroupRequest) (*model.StartReverseProtectionGroupResponse, error)
	StartFailoverProtectionGroup(*model.StartFailoverProtectionGroupRequest) (*model.StartFailoverProtectionGroupResponse, error)
	CreateDisasterRecoveryDrill(*model.CreateDisasterRecoveryDrillRequest) (*model.CreateDisasterRecoveryDrillResponse, error)
	ListDisasterRecoveryDrills(*model.ListDisasterRecoveryDrillsRequest) (*model.ListDisasterRecoveryDrillsResponse, error)
	ShowDisasterRecoveryDrill(*model.ShowDisasterRecoveryDrillRequest) (*model.ShowDisasterRecoveryDrillResponse, error)
	DeleteDisasterRecoveryDrill(*model.DeleteDisasterRecoveryDrillRequest) (*model.DeleteDisasterRecoveryDrillResponse, error)
}

// ecsAPI lists the *ecs.EcsClient methods this package uses.
type ecsAPI interface {
	ShowServer(*ecsmodel.ShowServerRequest) (*ecsmodel.ShowServerResponse, error)
	BatchStopServers(*ecsmodel.BatchStopServersRequest) (*ecsmodel.BatchStopServersResponse, error)
	BatchStartServers(*ecsmodel.BatchStartServersRequest) (*ecsmodel.BatchStartServersResponse, error)
	ShowJob(*ecsmodel.ShowJobRequest) (*ecsmodel.ShowJobResponse, error)
}

// SDK operation names, as reported to the CallObserver.
const (
	opShowQuota                    = "ShowQuota"
	opShowProtectionGroup          = "ShowProtectionGroup"
	opListProtectionGroups         = "ListProtectionGroups"
	opListProtectedInstances       = "ListProtectedInstances"
	opShowJobStatus                = "ShowJobStatus"
	opListFailureJobs              = "ListFailureJobs"
	opListReplications             = "ListReplications"
	opListRpoStatistics            = "ListRpoStatistics"
	opCreateProtectionGroup        = "CreateProtectionGroup"
	opDeleteProtectionGroup        = "DeleteProtectionGroup"
	opStartProtectionGroup         = "StartProtectionGroup"
	opStopProtectionGroup          = "StopProtectionGroup"
	opStartReverseProtectionGroup  = "StartReverseProtectionGroup"
	opStartFailoverProtectionGroup = "StartFailoverProtectionGroup"
	opCreateDrill                  = "CreateDisasterRecoveryDrill"
	opListDrills                   = "ListDisasterRecoveryDrills"
	opShowDrill                    = "ShowDisasterRecoveryDrill"
	opDeleteDrill                  = "DeleteDisasterRecoveryDrill"
	opShowServer                   = "ShowServer"
	opBatchStopServers             = "BatchStopServers"
	opBatchStartServers            = "BatchStartServers"
	opShowJob                      = "ShowJob"
)

// Error strings.
const (
	errEmptyIDFmt      = "empty %s ID"
	errBadIDFmt        = "malformed %s ID %q"
	errBadSite         = "priority station must be \"source\" or \"target\""
	errEmptyField      = "empty %s"
	errNoServers       = "no server IDs"
	errNoJobID         = "answer has no job_id"
	errNoBody          = "answer has no %s"
	errSDKPanic        = "SDK call panicked: %v"
	errLocalRateLimit  = "client-side rate limit: no token before the context deadline"
	errTooManyPagesFmt = "more than %d pages of %s"
)

// pageLimit is the largest page SDRS serves (sdrs-api.md section 1).
const pageLimit = 1000

// maxPages stops a paging loop against a server that keeps answering.
const maxPages = 100

// validID accepts the UUIDs and 32-hex IDs SDRS and ECS use, and rejects
// anything that could change the request path: the SDK pastes path
// parameters into the URL without escaping.
var validID = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$`)

// sdkClient implements Client on the official SDK.
type sdkClient struct {
	sdrs    sdrsAPI
	ecs     ecsAPI
	ecsErr  error // set when no ECS client could be built (e.g. unknown region); ECS calls return it
	limiter *rate.Limiter
	observe CallObserver
	close   func() // releases idle connections of a replaced client
	// refused is set when SDRS or ECS rejected the credentials: the
	// connector then reads the Secret again on the next Connect instead of
	// trusting its cached read, so a rotated key is used at once.
	refused atomic.Bool
}

var _ Client = (*sdkClient)(nil)

// call runs one SDK call: rate limit first, then the call in a goroutine so
// that ctx cancellation returns promptly (the SDK is not context-aware; the
// HTTP timeout bounds the abandoned call), then translation and the
// observer.
func call[T any](ctx context.Context, c *sdkClient, op string, tgt target, fn func() (*T, error)) (*T, error) {
	if err := ctx.Err(); err != nil {
		return nil, translate(err, tgt)
	}
	if c.limiter != nil {
		if err := c.limiter.Wait(ctx); err != nil {
			if ctx.Err() != nil {
				return nil, translate(ctx.Err(), tgt)
			}
			// Wait refuses at once when the deadline comes before the
			// next token: that is our own throttling.
			return nil, &ThrottledError{RetryAfter: reservationDelay(c.limiter), Message: errLocalRateLimit}
		}
	}

	type result struct {
		v   *T
		err error
	}
	done := make(chan result, 1)
	start := time.Now()
	go func() {
		defer func() {
			// A malformed answer must not take the operator down with
			// it, whatever the SDK does with it.
			if r := recover(); r != nil {
				done <- result{err: &TransientError{Message: sanitize(fmt.Sprintf(errSDKPanic, r))}}
			}
		}()
		v, err := fn()
		done <- result{v: v, err: err}
	}()

	var r result
	select {
	case r = <-done:
	case <-ctx.Done():
		r = result{err: ctx.Err()}
	}
	err := translate(r.err, tgt)
	if IsUnauthorized(err) {
		c.refused.Store(true)
	}
	if c.observe != nil {
		c.observe(op, err, time.Since(start))
	}
	if err != nil {
		return nil, err
	}
	return r.v, nil
}

func reservationDelay(l *rate.Limiter) time.Duration {
	r := l.Reserve()
	d := r.Delay()
	r.Cancel()
	if d < minRetryAfter {
		d = minRetryAfter
	}
	return d
}

func checkID(resource, id string) error {
	if id == "" {
		return &InvalidRequestError{Message: fmt.Sprintf(errEmptyIDFmt, resource)}
	}
	if !validID.MatchString(id) {
		return &InvalidRequestError{Message: sanitize(fmt.Sprintf(errBadIDFmt, resource, id))}
	}
	return nil
}

func jobID(p *string) (string, error) {
	if p == nil || *p == "" || *p == nullValue {
		// The action may have been accepted; the caller looks at the
		// group's transitional status before repeating it.
		return "", &TransientError{Message: errNoJobID}
	}
	return *p, nil
}

func noBody(what string) error {
	return &TransientError{Message: fmt.Sprintf(errNoBody, what)}
}

func (c *sdkClient) Validate(ctx context.Context) error {
	_, err := call(ctx, c, opShowQuota, target{}, func() (*model.ShowQuotaResponse, error) {
		return c.sdrs.ShowQuota(&model.ShowQuotaRequest{})
	})
	return err
}

func (c *sdkClient) GetProtectionGroup(ctx context.Context, id string) (*ProtectionGroup, error) {
	if err := checkID(ResourceProtectionGroup, id); err != nil {
		return nil, err
	}
	tgt := target{resource: ResourceProtectionGroup, id: id}
	resp, err := call(ctx, c, opShowProtectionGroup, tgt, func() (*model.ShowProtectionGroupResponse, error) {
		return c.sdrs.ShowProtectionGroup(&model.ShowProtectionGroupRequest{ServerGroupId: id})
	})
	if err != nil {
		return nil, err
	}
	if resp == nil || resp.ServerGroup == nil {
		return nil, noBody("server_group")
	}
	g := groupFromSDK(resp.ServerGroup)
	if g.ID == "" {
		g.ID = id
	}
	return &g, nil
}

func (c *sdkClient) FindProtectionGroupsByName(ctx context.Context, name string) ([]ProtectionGroup, error) {
	if name == "" {
		return nil, &InvalidRequestError{Message: fmt.Sprintf(errEmptyField, "protection group name")}
	}
	all, err := listPages(ctx, c, opListProtectionGroups, target{}, "protection groups",
		func(limit, offset *int32) (*model.ListProtectionGroupsResponse, error) {
			return c.sdrs.ListProtectionGroups(&model.ListProtectionGroupsRequest{Name: &name, Limit: limit, Offset: offset})
		},
		func(r *model.ListProtectionGroupsResponse) ([]model.ShowProtectionGroupParams, *int32) {
			return sliceOf(r.ServerGroups), r.Count
		},
		groupFromSDK)
	if err != nil {
		return nil, err
	}
	// SDRS matches names by substring; the caller wants one name.
	out := all[:0]
	for _, g := range all {
		if g.Name == name {
			out = append(out, g)
		}
	}
	return out, nil
}

// morePages decides whether to ask for another page: while the reported
// total is not reached, or, without a total, while pages come back full.
// An empty page always ends the loop.
func morePages(got, seen int, count *int32, limit int) bool {
	if got == 0 {
		return false
	}
	if count != nil {
		return seen < int(*count)
	}
	return got >= limit
}

func (c *sdkClient) ListProtectedInstances(ctx context.Context, groupID string) ([]ProtectedInstance, error) {
	if err := checkID(ResourceProtectionGroup, groupID); err != nil {
		return nil, err
	}
	all, err := listPages(ctx, c, opListProtectedInstances, target{resource: ResourceProtectionGroup, id: groupID}, "protected instances",
		func(limit, offset *int32) (*model.ListProtectedInstancesResponse, error) {
			return c.sdrs.ListProtectedInstances(&model.ListProtectedInstancesRequest{ServerGroupId: &groupID, Limit: limit, Offset: offset})
		},
		func(r *model.ListProtectedInstancesResponse) ([]model.ShowProtectedInstanceParams, *int32) {
			return sliceOf(r.ProtectedInstances), r.Count
		},
		instanceFromSDK)
	if err != nil {
		return nil, err
	}
	out := all[:0]
	for _, pi := range all {
		// Guard against a server that ignores the filter.
		if pi.GroupID != "" && pi.GroupID != groupID {
			continue
		}
		if pi.GroupID == "" {
			pi.GroupID = groupID
		}
		out = append(out, pi)
	}
	return out, nil
}

func (c *sdkClient) GetJob(ctx context.Context, id string) (*Job, error) {
	if err := checkID(ResourceJob, id); err != nil {
		return nil, err
	}
	resp, err := call(ctx, c, opShowJobStatus, target{resource: ResourceJob, id: id}, func() (*jobStatusResponse, error) {
		return c.sdrs.ShowJobStatusWithEntities(&model.ShowJobStatusRequest{JobId: id})
	})
	if err != nil {
		return nil, err
	}
	if resp == nil {
		return nil, noBody("job")
	}
	j := jobFromSDRSWithEntities(resp)
	if j.ID == "" {
		j.ID = id
	}
	return j, nil
}

// listPages reads every page of a list call: fetch asks for one page, and
// page returns its items (nil when the answer has none) and the total SDRS
// reported.
func listPages[R, S, T any](ctx context.Context, c *sdkClient, op string, tgt target, what string,
	fetch func(limit, offset *int32) (*R, error), page func(*R) ([]S, *int32), mapItem func(*S) T) ([]T, error) {
	var out []T
	limit := int32(pageLimit)
	for n, offset := 0, int32(0); ; n++ {
		if n == maxPages {
			return nil, &TransientError{Message: fmt.Sprintf(errTooManyPagesFmt, maxPages, what)}
		}
		off := offset
		resp, err := call(ctx, c, op, tgt, func() (*R, error) { return fetch(&limit, &off) })
		if err != nil {
			return nil, err
		}
		if resp == nil {
			break
		}
		items, count := page(resp)
		if items == nil {
			break
		}
		for i := range items {
			out = append(out, mapItem(&items[i]))
		}
		offset += int32(len(items))
		if !morePages(len(items), int(offset), count, pageLimit) {
			break
		}
	}
	return out, nil
}

// sliceOf is the list a page holds; nil when the answer had none.
func sliceOf[S any](p *[]S) []S {
	if p == nil {
		return nil
	}
	return *p
}

func (c *sdkClient) ListReplicationPairs(ctx context.Context, groupID string) ([]ReplicationPair, error) {
	if err := checkID(ResourceProtectionGroup, groupID); err != nil {
		return nil, err
	}
	return listPages(ctx, c, opListReplications, target{resource: ResourceProtectionGroup, id: groupID}, "replication pairs",
		func(limit, offset *int32) (*model.ListReplicationsResponse, error) {
			return c.sdrs.ListReplications(&model.ListReplicationsRequest{ServerGroupId: &groupID, Limit: limit, Offset: offset})
		},
		func(r *model.ListReplicationsResponse) ([]model.ShowReplicationParams, *int32) {
			return sliceOf(r.Replications), r.Count
		},
		pairFromSDK)
}

func (c *sdkClient) ListAllReplicationPairs(ctx context.Context) ([]ReplicationPair, error) {
	return listPages(ctx, c, opListReplications, target{}, "replication pairs",
		func(limit, offset *int32) (*model.ListReplicationsResponse, error) {
			return c.sdrs.ListReplications(&model.ListReplicationsRequest{Limit: limit, Offset: offset})
		},
		func(r *model.ListReplicationsResponse) ([]model.ShowReplicationParams, *int32) {
			return sliceOf(r.Replications), r.Count
		},
		pairFromSDK)
}

func (c *sdkClient) ListAllProtectedInstances(ctx context.Context) ([]ProtectedInstance, error) {
	return listPages(ctx, c, opListProtectedInstances, target{}, "protected instances",
		func(limit, offset *int32) (*model.ListProtectedInstancesResponse, error) {
			return c.sdrs.ListProtectedInstances(&model.ListProtectedInstancesRequest{Limit: limit, Offset: offset})
		},
		func(r *model.ListProtectedInstancesResponse) ([]model.ShowProtectedInstanceParams, *int32) {
			return sliceOf(r.ProtectedInstances), r.Count
		},
		instanceFromSDK)
}

// rpoWindow is how far back the RPO statistics are read: SDRS records a
// point every few minutes, so an hour always holds the latest one.
const rpoWindow = time.Hour

func (c *sdkClient) RPOExceededPairs(ctx context.Context) (int, error) {
	now := time.Now().UTC()
	start, end := now.Add(-rpoWindow).Format(rpoFilterLayout), now.Format(rpoFilterLayout)
	kind := "replication"
	points, err := listPages(ctx, c, opListRpoStatistics, target{}, "RPO statistics",
		func(limit, offset *int32) (*model.ListRpoStatisticsResponse, error) {
			return c.sdrs.ListRpoStatistics(&model.ListRpoStatisticsRequest{Limit: limit, Offset: offset,
				StartTime: &start, EndTime: &end, ResourceType: &kind})
		},
		func(r *model.ListRpoStatisticsResponse) ([]model.RpoStattisticsParams, *int32) {
			return sliceOf(r.ResourceRpoStatistics), r.Count
		},
		func(p *model.RpoStattisticsParams) rpoPoint {
			return rpoPoint{at: clean(p.PointTime), n: int(p.ResourceNum)}
		})
	if err != nil {
		return 0, err
	}
	return latestRPOPoint(points), nil
}

func (c *sdkClient) ListFailedJobs(ctx context.Context, groupID string) ([]Job, error) {
	if err := checkID(ResourceProtectionGroup, groupID); err != nil {
		return nil, err
	}
	return listPages(ctx, c, opListFailureJobs, target{resource: ResourceProtectionGroup, id: groupID}, "failed jobs",
		func(limit, offset *int32) (*model.ListFailureJobsResponse, error) {
			return c.sdrs.ListFailureJobs(&model.ListFailureJobsRequest{ServerGroupId: &groupID, Limit: limit, Offset: offset})
		},
		func(r *model.ListFailureJobsResponse) ([]model.FailureJobParams, *int32) {
			return sliceOf(r.FailureJobs), r.Count
		},
		func(f *model.FailureJobParams) Job { return failedJobFromSDK(f, groupID) })
}

func (c *sdkClient) CreateProtectionGroup(ctx context.Context, in CreateGroupInput) (string, error) {
	for _, f := range []struct{ name, v string }{
		{"name", in.Name},
		{"source availability zone", in.SourceAvailabilityZone},
		{"target availability zone", in.TargetAvailabilityZone},
		{"domain ID", in.DomainID},
		{"source VPC ID", in.SourceVpcID},
	} {
		if f.v == "" {
			return "", &InvalidRequestError{Message: fmt.Sprintf(errEmptyField, f.name)}
		}
	}
	params := &model.CreateProtectionGroupRequestParams{
		Name:                   in.Name,
		SourceAvailabilityZone: in.SourceAvailabilityZone,
		TargetAvailabilityZone: in.TargetAvailabilityZone,
		DomainId:               in.DomainID,
		SourceVpcId:            in.SourceVpcID,
	}
	if in.Description != "" {
		d := in.Description
		params.Description = &d
	}
	dr := model.GetCreateProtectionGroupRequestParamsDrTypeEnum().MIGRATION
	params.DrType = &dr
	resp, err := call(ctx, c, opCreateProtectionGroup, target{}, func() (*model.CreateProtectionGroupResponse, error) {
		return c.sdrs.CreateProtectionGroup(&model.CreateProtectionGroupRequest{
			Body: &model.CreateProtectionGroupRequestBody{ServerGroup: params},
		})
	})
	if err != nil {
		return "", err
	}
	if resp == nil {
		return "", noBody("job_id")
	}
	return jobID(resp.JobId)
}

// groupAction runs an SDK call that acts on group id and answers with a
// job ID.
func groupAction[T any](ctx context.Context, c *sdkClient, op, id string, fn func() (*T, error), jobIDOf func(*T) *string) (string, error) {
	if err := checkID(ResourceProtectionGroup, id); err != nil {
		return "", err
	}
	resp, err := call(ctx, c, op, target{resource: ResourceProtectionGroup, id: id}, fn)
	if err != nil {
		return "", err
	}
	if resp == nil {
		return "", noBody("job_id")
	}
	return jobID(jobIDOf(resp))
}

func (c *sdkClient) DeleteProtectionGroup(ctx context.Context, id string) (string, error) {
	return groupAction(ctx, c, opDeleteProtectionGroup, id, func() (*model.DeleteProtectionGroupResponse, error) {
		return c.sdrs.DeleteProtectionGroup(&model.DeleteProtectionGroupRequest{ServerGroupId: id})
	}, func(r *model.DeleteProtectionGroupResponse) *string { return r.JobId })
}

// emptyAction is the value of start-, stop- and failover-server-group. The
// SDK fields are *interface{} without omitempty, so a nil pointer would send
// null; SDRS documents {} (sdrs-api.md section 3.5).
func emptyAction() *interface{} {
	var empty interface{} = map[string]interface{}{}
	return &empty
}

func (c *sdkClient) StartProtection(ctx context.Context, id string) (string, error) {
	return groupAction(ctx, c, opStartProtectionGroup, id, func() (*model.StartProtectionGroupResponse, error) {
		return c.sdrs.StartProtectionGroup(&model.StartProtectionGroupRequest{
			ServerGroupId: id,
			Body:          &model.StartProtectionGroupRequestBody{StartServerGroup: emptyAction()},
		})
	}, func(r *model.StartProtectionGroupResponse) *string { return r.JobId })
}

func (c *sdkClient) StopProtection(ctx context.Context, id string) (string, error) {
	return groupAction(ctx, c, opStopProtectionGroup, id, func() (*model.StopProtectionGroupResponse, error) {
		return c.sdrs.StopProtectionGroup(&model.StopProtectionGroupRequest{
			ServerGroupId: id,
			Body:          &model.StopProtectionGroupRequestBody{StopServerGroup: emptyAction()},
		})
	}, func(r *model.StopProtectionGroupResponse) *string { return r.JobId })
}

func (c *sdkClient) StartPlannedFailover(ctx context.Context, id string, to Site) (string, error) {
	if err := checkID(ResourceProtectionGroup, id); err != nil {
		return "", err
	}
	enum := model.GetReverseProtectionGroupRequestParamsPriorityStationEnum()
	var station model.ReverseProtectionGroupRequestParamsPriorityStation
	switch to {
	case SiteSource:
		station = enum.SOURCE
	case SiteTarget:
		station = enum.TARGET
	default:
		return "", &InvalidRequestError{Message: errBadSite}
	}
	return groupAction(ctx, c, opStartReverseProtectionGroup, id, func() (*model.StartReverseProtectionGroupResponse, error) {
		return c.sdrs.StartReverseProtectionGroup(&model.StartReverseProtectionGroupRequest{
			ServerGroupId: id,
			Body: &model.ReverseProtectionGroupRequestBody{
				ReverseServerGroup: &model.ReverseProtectionGroupRequestParams{PriorityStation: station},
			},
		})
	}, func(r *model.StartReverseProtectionGroupResponse) *string { return r.JobId })
}

func (c *sdkClient) StartFailover(ctx context.Context, id string) (string, error) {
	return groupAction(ctx, c, opStartFailoverProtectionGroup, id, func() (*model.StartFailoverProtectionGroupResponse, error) {
		return c.sdrs.StartFailoverProtectionGroup(&model.StartFailoverProtectionGroupRequest{
			ServerGroupId: id,
			Body:          &model.FailoverProtectionGroupRequestBody{FailoverServerGroup: emptyAction()},
		})
	}, func(r *model.StartFailoverProtectionGroupResponse) *string { return r.JobId })
}
