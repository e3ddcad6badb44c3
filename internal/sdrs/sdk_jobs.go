package sdrs

import (
	"fmt"

	sdrs "github.com/huaweicloud/huaweicloud-sdk-go-v3/services/sdrs/v1"
	"github.com/huaweicloud/huaweicloud-sdk-go-v3/services/sdrs/v1/model"
)

// Drill jobs name their drill in entities.disaster_recovery_drill_id
// (sdrs-api.md section 4), a key the SDK's JobEntities model lacks, so its
// ShowJobStatus drops it. The SDK builds every call from a request
// definition whose Response is the model to decode into; sdrsSDK makes the
// same ShowJobStatus call (same path, signing, endpoints, transport and
// error handler) with a model that keeps the key. Only the decoding
// differs; nothing here speaks HTTP itself.

// sdrsSDK is the official SDRS client plus ShowJobStatusWithEntities.
type sdrsSDK struct {
	*sdrs.SdrsClient
}

var _ sdrsAPI = sdrsSDK{}

// jobStatusResponse is the SDK's ShowJobStatusResponse whose entities keep
// disaster_recovery_drill_id. Its Entities shadows the embedded one when
// decoding, as encoding/json does; the other fields fill the embedded
// model.
type jobStatusResponse struct {
	model.ShowJobStatusResponse
	Entities *jobEntities `json:"entities,omitempty"`
}

// jobEntities is the SDK's JobEntities plus the drill ID.
type jobEntities struct {
	model.JobEntities
	DisasterRecoveryDrillID *string `json:"disaster_recovery_drill_id,omitempty"`
}

// errJobModelFmt reports an SDK that decoded into another type than asked.
const errJobModelFmt = "SDK returned %T for ShowJobStatus"

func (s sdrsSDK) ShowJobStatusWithEntities(req *model.ShowJobStatusRequest) (*jobStatusResponse, error) {
	def := sdrs.GenReqDefForShowJobStatus()
	def.Response = new(jobStatusResponse)
	resp, err := s.HcClient.Sync(req, def)
	if err != nil {
		return nil, err
	}
	r, ok := resp.(*jobStatusResponse)
	if !ok {
		return nil, &TransientError{Message: fmt.Sprintf(errJobModelFmt, resp)}
	}
	return r, nil
}
