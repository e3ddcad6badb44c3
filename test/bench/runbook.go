package main

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/huaweicloud/huaweicloud-sdk-go-v3/core/auth/basic"
	"github.com/huaweicloud/huaweicloud-sdk-go-v3/core/config"
	sdrs "github.com/huaweicloud/huaweicloud-sdk-go-v3/services/sdrs/v1"
	"github.com/huaweicloud/huaweicloud-sdk-go-v3/services/sdrs/v1/model"
	"golang.org/x/time/rate"
)

// runbook is what a DR runbook without the operator does today: for each
// group, call the SDK's planned failover, then poll the job at a fixed
// interval until it ends (the Terraform provider's WaitForJobSuccess does
// the same), then read the group back once, as Terraform refreshes its
// state after an apply. parallel > 1 runs that many groups at a time;
// unbounded runs every group at once, one goroutine each: the best a
// skilled SRE scripts against the SDK without the operator.
//
// Every call waits for a token of the same kind of limiter the operator's
// ProviderConfig has (golang.org/x/time/rate, calls per second and burst),
// so that the peers and the operator get the same client-side limit. The
// benchmark's groups have their servers stopped already (serverPower
// Manual), so no runbook stops or starts servers, as the operator does not.
type runbook struct {
	client   *sdrs.SdrsClient
	poll     time.Duration
	parallel int
	limiter  *rate.Limiter
}

// unbounded is the runbook parallelism that starts every group at once.
const unbounded = 0

// newRunbook builds a runbook on the SDK. parallel is the groups run at a
// time (unbounded: all); callsPerSecond and burst the client-side limit
// (callsPerSecond 0: none).
func newRunbook(endpoint, projectID, ak, sk string, poll time.Duration, parallel int, callsPerSecond, burst int) (*runbook, error) {
	cred, err := basic.NewCredentialsBuilder().WithAk(ak).WithSk(sk).WithProjectId(projectID).SafeBuild()
	if err != nil {
		return nil, err
	}
	hc, err := sdrs.SdrsClientBuilder().
		WithEndpoints([]string{endpoint}).
		WithCredential(cred).
		WithHttpConfig(config.DefaultHttpConfig().WithRetries(0).WithTimeout(30 * time.Second)).
		SafeBuild()
	if err != nil {
		return nil, err
	}
	limiter := rate.NewLimiter(rate.Inf, 0)
	if callsPerSecond > 0 {
		limiter = rate.NewLimiter(rate.Limit(callsPerSecond), max(burst, 1))
	}
	return &runbook{client: sdrs.NewSdrsClient(hc), poll: poll, parallel: max(parallel, unbounded), limiter: limiter}, nil
}

// runbookResult is one run over a set of groups.
type runbookResult struct {
	// Parallel is the groups run at a time; unbounded (0): all.
	Parallel int
	Groups   int
	Started  time.Time
	// Took is the start to the last group done as the script sees it.
	Took   time.Duration
	Failed int
	// PerGroup is the mean time one group took from its action to the
	// end of its job as seen by the script.
	PerGroup time.Duration
}

// failOver moves every group to site and returns when all jobs ended.
func (rb *runbook) failOver(ctx context.Context, groupIDs []string, site string) runbookResult {
	start := time.Now()
	var (
		failed  atomic.Int64
		busy    atomic.Int64 // summed per-group time, ns
		wg      sync.WaitGroup
		work    = make(chan string)
		station = model.GetReverseProtectionGroupRequestParamsPriorityStationEnum().TARGET
	)
	if site == "source" {
		station = model.GetReverseProtectionGroupRequestParamsPriorityStationEnum().SOURCE
	}
	workers := rb.parallel
	if workers == unbounded {
		workers = len(groupIDs)
	}
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for id := range work {
				t := time.Now()
				if err := rb.one(ctx, id, station); err != nil {
					failed.Add(1)
				}
				busy.Add(int64(time.Since(t)))
			}
		}()
	}
	for _, id := range groupIDs {
		select {
		case work <- id:
		case <-ctx.Done():
		}
	}
	close(work)
	wg.Wait()
	r := runbookResult{Parallel: rb.parallel, Groups: len(groupIDs), Started: start, Took: time.Since(start), Failed: int(failed.Load())}
	if len(groupIDs) > 0 {
		r.PerGroup = time.Duration(busy.Load() / int64(len(groupIDs)))
	}
	return r
}

func (rb *runbook) one(ctx context.Context, id string, station model.ReverseProtectionGroupRequestParamsPriorityStation) error {
	if err := rb.limiter.Wait(ctx); err != nil {
		return err
	}
	resp, err := rb.client.StartReverseProtectionGroup(&model.StartReverseProtectionGroupRequest{
		ServerGroupId: id,
		Body: &model.ReverseProtectionGroupRequestBody{
			ReverseServerGroup: &model.ReverseProtectionGroupRequestParams{PriorityStation: station},
		},
	})
	if err != nil {
		return err
	}
	if resp.JobId == nil {
		return fmt.Errorf("group %s: no job ID", id)
	}
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(rb.poll):
		}
		if err := rb.limiter.Wait(ctx); err != nil {
			return err
		}
		job, err := rb.client.ShowJobStatus(&model.ShowJobStatusRequest{JobId: *resp.JobId})
		if err != nil {
			continue // a script retries on the next tick
		}
		if job.Status == nil {
			continue
		}
		switch job.Status.Value() {
		case "SUCCESS":
			if err := rb.limiter.Wait(ctx); err != nil {
				return err
			}
			_, err := rb.client.ShowProtectionGroup(&model.ShowProtectionGroupRequest{ServerGroupId: id})
			return err
		case "FAIL":
			return fmt.Errorf("group %s: job %s failed", id, *resp.JobId)
		}
	}
}
