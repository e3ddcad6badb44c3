package sdrs

import (
	"context"

	ecsmodel "github.com/huaweicloud/huaweicloud-sdk-go-v3/services/ecs/v2/model"
)

// The ECS half of sdkClient: server power around a planned failover
// (sdrs-api.md section 14).

func (c *sdkClient) GetServer(ctx context.Context, id string) (*Server, error) {
	if c.ecsErr != nil {
		return nil, c.ecsErr
	}
	if err := checkID(ResourceServer, id); err != nil {
		return nil, err
	}
	resp, err := call(ctx, c, opShowServer, target{resource: ResourceServer, id: id}, func() (*ecsmodel.ShowServerResponse, error) {
		return c.ecs.ShowServer(&ecsmodel.ShowServerRequest{ServerId: id})
	})
	if err != nil {
		return nil, err
	}
	if resp == nil || resp.Server == nil {
		return nil, noBody("server")
	}
	s := serverFromSDK(resp.Server)
	if s.ID == "" {
		s.ID = id
	}
	return &s, nil
}

func (c *sdkClient) StopServers(ctx context.Context, ids []string) (string, error) {
	if c.ecsErr != nil {
		return "", c.ecsErr
	}
	servers, err := serverIDs(ids)
	if err != nil {
		return "", err
	}
	soft := ecsmodel.GetBatchStopServersOptionTypeEnum().SOFT
	resp, err := call(ctx, c, opBatchStopServers, target{resource: ResourceServer}, func() (*ecsmodel.BatchStopServersResponse, error) {
		return c.ecs.BatchStopServers(&ecsmodel.BatchStopServersRequest{
			Body: &ecsmodel.BatchStopServersRequestBody{
				OsStop: &ecsmodel.BatchStopServersOption{Servers: servers, Type: &soft},
			},
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

func (c *sdkClient) StartServers(ctx context.Context, ids []string) (string, error) {
	if c.ecsErr != nil {
		return "", c.ecsErr
	}
	servers, err := serverIDs(ids)
	if err != nil {
		return "", err
	}
	resp, err := call(ctx, c, opBatchStartServers, target{resource: ResourceServer}, func() (*ecsmodel.BatchStartServersResponse, error) {
		return c.ecs.BatchStartServers(&ecsmodel.BatchStartServersRequest{
			Body: &ecsmodel.BatchStartServersRequestBody{
				OsStart: &ecsmodel.BatchStartServersOption{Servers: servers},
			},
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

func (c *sdkClient) GetServerJob(ctx context.Context, id string) (*Job, error) {
	if c.ecsErr != nil {
		return nil, c.ecsErr
	}
	if err := checkID(ResourceJob, id); err != nil {
		return nil, err
	}
	resp, err := call(ctx, c, opShowJob, target{resource: ResourceJob, id: id}, func() (*ecsmodel.ShowJobResponse, error) {
		return c.ecs.ShowJob(&ecsmodel.ShowJobRequest{JobId: id})
	})
	if err != nil {
		return nil, err
	}
	if resp == nil {
		return nil, noBody("job")
	}
	j := jobFromECS(resp)
	if j.ID == "" {
		j.ID = id
	}
	return j, nil
}

// serverIDs checks and de-duplicates server IDs, keeping their order: ECS
// refuses a batch that names a server twice.
func serverIDs(ids []string) ([]ecsmodel.ServerId, error) {
	if len(ids) == 0 {
		return nil, &InvalidRequestError{Message: errNoServers}
	}
	seen := make(map[string]bool, len(ids))
	out := make([]ecsmodel.ServerId, 0, len(ids))
	for _, id := range ids {
		if err := checkID(ResourceServer, id); err != nil {
			return nil, err
		}
		if seen[id] {
			continue
		}
		seen[id] = true
		out = append(out, ecsmodel.ServerId{Id: id})
	}
	return out, nil
}
