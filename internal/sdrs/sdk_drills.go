package sdrs

import (
	"context"
	"errors"
	"fmt"

	"github.com/huaweicloud/huaweicloud-sdk-go-v3/services/sdrs/v1/model"
)

// The DR drill half of sdkClient (sdrs-api.md section 3.8).

// Error strings.
const (
	errDrillNameTooLongFmt = "DR drill name is %d bytes, more than the %d SDRS accepts"
	errDrillStateFmt       = "DR drill %s is %s"
	codeDrillDeleteState   = "SDRS.1913"
	resourceDrillVPC       = "drill VPC"
)

func (c *sdkClient) CreateDrill(ctx context.Context, in CreateDrillInput) (string, error) {
	if in.Name == "" {
		return "", &InvalidRequestError{Message: fmt.Sprintf(errEmptyField, "DR drill name")}
	}
	if len(in.Name) > MaxDrillNameBytes {
		return "", &InvalidRequestError{Message: fmt.Sprintf(errDrillNameTooLongFmt, len(in.Name), MaxDrillNameBytes)}
	}
	if err := checkID(ResourceProtectionGroup, in.GroupID); err != nil {
		return "", err
	}
	params := &model.CreateDisasterRecoveryDrillRequestParams{Name: in.Name, ServerGroupId: in.GroupID}
	if in.VpcID != "" {
		if err := checkID(resourceDrillVPC, in.VpcID); err != nil {
			return "", err
		}
		v := in.VpcID
		params.DrillVpcId = &v
	}
	// The call addresses the group: SDRS.1013 means the group is gone.
	tgt := target{resource: ResourceProtectionGroup, id: in.GroupID, vpcID: in.VpcID}
	resp, err := call(ctx, c, opCreateDrill, tgt, func() (*model.CreateDisasterRecoveryDrillResponse, error) {
		return c.sdrs.CreateDisasterRecoveryDrill(&model.CreateDisasterRecoveryDrillRequest{
			Body: &model.CreateDisasterRecoveryDrillRequestBody{DisasterRecoveryDrill: params},
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

// listDrills reads every page of the drills of groupID, with SDRS's name
// filter when name is not empty, and drops any drill of another group
// (a server that ignores the filter).
func (c *sdkClient) listDrills(ctx context.Context, groupID string, name *string) ([]Drill, error) {
	if err := checkID(ResourceProtectionGroup, groupID); err != nil {
		return nil, err
	}
	all, err := listPages(ctx, c, opListDrills, target{resource: ResourceProtectionGroup, id: groupID}, "DR drills",
		func(limit, offset *int32) (*model.ListDisasterRecoveryDrillsResponse, error) {
			return c.sdrs.ListDisasterRecoveryDrills(&model.ListDisasterRecoveryDrillsRequest{
				ServerGroupId: &groupID, Name: name, Limit: limit, Offset: offset,
			})
		},
		func(r *model.ListDisasterRecoveryDrillsResponse) ([]model.ShowDisasterRecoveryDrillParams, *int32) {
			return sliceOf(r.DisasterRecoveryDrills), r.Count
		},
		drillFromSDK)
	if err != nil {
		return nil, err
	}
	out := all[:0]
	for _, d := range all {
		if d.GroupID != "" && d.GroupID != groupID {
			continue
		}
		if d.GroupID == "" {
			d.GroupID = groupID
		}
		out = append(out, d)
	}
	return out, nil
}

func (c *sdkClient) FindDrills(ctx context.Context, groupID, name string) ([]Drill, error) {
	if name == "" {
		return nil, &InvalidRequestError{Message: fmt.Sprintf(errEmptyField, "DR drill name")}
	}
	all, err := c.listDrills(ctx, groupID, &name)
	if err != nil {
		return nil, err
	}
	// SDRS matches names fuzzily; the caller wants one name.
	out := all[:0]
	for _, d := range all {
		if d.Name == name {
			out = append(out, d)
		}
	}
	return out, nil
}

func (c *sdkClient) ListDrills(ctx context.Context, groupID string) ([]Drill, error) {
	return c.listDrills(ctx, groupID, nil)
}

func (c *sdkClient) GetDrill(ctx context.Context, id string) (*Drill, error) {
	if err := checkID(ResourceDrill, id); err != nil {
		return nil, err
	}
	resp, err := call(ctx, c, opShowDrill, target{resource: ResourceDrill, id: id}, func() (*model.ShowDisasterRecoveryDrillResponse, error) {
		return c.sdrs.ShowDisasterRecoveryDrill(&model.ShowDisasterRecoveryDrillRequest{DisasterRecoveryDrillId: id})
	})
	if err != nil {
		return nil, err
	}
	if resp == nil || resp.DisasterRecoveryDrill == nil {
		return nil, noBody("disaster_recovery_drill")
	}
	d := drillFromSDK(resp.DisasterRecoveryDrill)
	if d.ID == "" {
		d.ID = id
	}
	return &d, nil
}

func (c *sdkClient) DeleteDrill(ctx context.Context, id string) (string, error) {
	if err := checkID(ResourceDrill, id); err != nil {
		return "", err
	}
	tgt := target{resource: ResourceDrill, id: id}
	resp, err := call(ctx, c, opDeleteDrill, tgt, func() (*model.DeleteDisasterRecoveryDrillResponse, error) {
		return c.sdrs.DeleteDisasterRecoveryDrill(&model.DeleteDisasterRecoveryDrillRequest{DisasterRecoveryDrillId: id})
	})
	if code, ok := IsPrecondition(err); ok && code == codeDrillDeleteState {
		return "", c.drillDeleteRefused(ctx, id, err)
	}
	if err != nil {
		return "", err
	}
	if resp == nil {
		return "", noBody("job_id")
	}
	return jobID(resp.JobId)
}

// drillDeleteRefused tells the two meanings of SDRS.1913 apart. The code
// says the drill's state forbids a delete (the emulator sends it while the
// drill is creating or deleting), but Terraform reads it as "already
// gone", so SDRS may also answer it for a drill deleted a moment ago. One
// read decides: a drill that is gone, or reported deleted, is NotFound
// (done); one that exists keeps the Precondition error, with its status.
// A failed read is returned as it is, for the caller to retry.
func (c *sdkClient) drillDeleteRefused(ctx context.Context, id string, refused error) error {
	d, err := c.GetDrill(ctx, id)
	switch {
	case IsNotFound(err):
		return &NotFoundError{Resource: ResourceDrill, ID: id, Code: codeDrillDeleteState}
	case err != nil:
		return err
	case d.Status == drillDeleted:
		return &NotFoundError{Resource: ResourceDrill, ID: id, Code: codeDrillDeleteState}
	}
	var pe *PreconditionError
	if !errors.As(refused, &pe) {
		return refused
	}
	msg := fmt.Sprintf(errDrillStateFmt, id, d.Status)
	if pe.Message != "" {
		msg += ": " + pe.Message
	}
	return &PreconditionError{Code: pe.Code, Message: sanitize(msg)}
}

// drillDeleted is a status some SDRS versions may show for a drill whose
// record outlives its deletion; it is not in the documented list.
const drillDeleted = "deleted"
