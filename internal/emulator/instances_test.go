package emulator

import (
	"net/http"
	"testing"

	"github.com/huaweicloud/huaweicloud-sdk-go-v3/services/sdrs/v1/model"
)

func (e *env) instance(id string) model.ShowProtectedInstanceParams {
	e.t.Helper()
	return *ok(e.sdrs.ShowProtectedInstance(&model.ShowProtectedInstanceRequest{ProtectedInstanceId: id})).must(e.t).ProtectedInstance
}

func TestProtectedInstanceOperations(t *testing.T) {
	e := newEnv(t)
	g := e.seedOne(1, func(g *SeedGroup) { g.Instances[0].ProductionPower = powerShutoff })
	piID := g.Instances[0].ID

	t.Run("create refusals", func(t *testing.T) {
		e := e.sub(t)
		otherAZ, _ := e.newServer("wrong-az", DefaultTargetAZ)
		for _, tc := range []struct {
			name, group, server, code string
		}{
			{"unknown group", "nope", otherAZ, codeGroupNotFound},
			{"unknown server", g.ID, "nope", codeServerNotFound},
			{"server outside the production AZ", g.ID, otherAZ, codeAZMismatch},
			{"server already protected", g.ID, g.Instances[0].ProductionServer, codeServerProtected},
		} {
			_, err := e.sdrs.CreateProtectedInstance(&model.CreateProtectedInstanceRequest{Body: &model.CreateProtectedInstanceRequestBody{
				ProtectedInstance: &model.CreateProtectedInstanceRequestParams{ServerGroupId: tc.group, ServerId: tc.server, Name: "x"}}})
			if err == nil {
				t.Fatalf("%s: accepted", tc.name)
			}
			if se := sdkError(t, err); se.ErrorCode != tc.code {
				t.Fatalf("%s: want %s, got %s", tc.name, tc.code, se.ErrorCode)
			}
		}
	})

	t.Run("batch create and batch delete", func(t *testing.T) {
		e := e.sub(t)
		s1, _ := e.newServer("b1", DefaultSourceAZ)
		s2, _ := e.newServer("b2", DefaultSourceAZ)
		resp := ok(e.sdrs.BatchCreateProtectedInstances(&model.BatchCreateProtectedInstancesRequest{
			Body: &model.BatchCreateProtectedInstancesRequestBody{ProtectedInstances: &model.BatchCreateProtectedInstancesRequestParams{
				ServerGroupId: g.ID, NamePrefix: "batch", Servers: []model.ServerInfo{{ServerId: s1}, {ServerId: s2, FlavorRef: ptr("c6.xlarge.2")}},
				Tags: &[]model.ResourceTag{{Key: "team", Value: "dr"}},
			}}})).must(t)
		job := e.waitSuccess(resp.JobId)
		if *job.JobType != jobBatchCreateInstances || len(*job.Entities.SubJobs) != 2 {
			t.Fatalf("batch job: %+v", job)
		}
		var ids []string
		for _, sj := range *job.Entities.SubJobs {
			ids = append(ids, *sj.Entities.ProtectedInstanceId)
		}
		list := ok(e.sdrs.ListProtectedInstances(&model.ListProtectedInstancesRequest{Name: ptr("batch-000")})).must(t)
		if *list.Count != 2 || (*list.ProtectedInstances)[0].Name != "batch-0001" || (*list.ProtectedInstances)[1].Name != "batch-0002" {
			t.Fatalf("batch instances: %+v", list)
		}
		if dr := e.server((*list.ProtectedInstances)[1].TargetServer); dr.Flavor.Id != "c6.xlarge.2" {
			t.Fatalf("DR flavor %s", dr.Flavor.Id)
		}
		del := ok(e.sdrs.BatchDeleteProtectedInstances(&model.BatchDeleteProtectedInstancesRequest{Body: &model.BatchDeleteProtectedInstancesRequestBody{
			ProtectedInstances: []model.ResourceId{{Id: ids[0]}, {Id: ids[1]}}, DeleteTargetServer: ptr(true)}})).must(t)
		if e.instance(ids[0]).Status != statusDeleting {
			t.Fatalf("not deleting")
		}
		e.waitSuccess(del.JobId)
		_, err := e.sdrs.ShowProtectedInstance(&model.ShowProtectedInstanceRequest{ProtectedInstanceId: ids[0]})
		wantError(t, err, http.StatusBadRequest, codeInstanceNotFound)
	})

	t.Run("rename", func(t *testing.T) {
		e := e.sub(t)
		r := ok(e.sdrs.UpdateProtectedInstanceName(&model.UpdateProtectedInstanceNameRequest{ProtectedInstanceId: piID,
			Body: &model.UpdateProtectedInstanceNameRequestBody{ProtectedInstance: &model.UpdateProtectedInstanceNameRequestParams{Name: "db-1"}}})).must(t)
		if r.ProtectedInstance.Name != "db-1" {
			t.Fatalf("renamed to %s", r.ProtectedInstance.Name)
		}
	})

	t.Run("NICs", func(t *testing.T) {
		e := e.sub(t)
		add := ok(e.sdrs.AddProtectedInstanceNic(&model.AddProtectedInstanceNicRequest{ProtectedInstanceId: piID,
			Body: &model.ProtectedInstanceAddNicRequestBody{SubnetId: "subnet-2", IpAddress: ptr("192.168.0.9"),
				SecurityGroups: &[]model.SecurityGroupsParams{{Id: "sg-1"}}}})).must(t)
		if s := e.instance(piID).Status; s != statusNICCreating {
			t.Fatalf("status %s", s)
		}
		nicID := *e.waitSuccess(add.JobId).Entities.NicId
		_, err := e.sdrs.DeleteProtectedInstanceNic(&model.DeleteProtectedInstanceNicRequest{ProtectedInstanceId: piID,
			Body: &model.ProtectedInstanceDeleteNicRequestBody{NicId: "nope"}})
		wantError(t, err, http.StatusBadRequest, codeNICNotFound)
		e.emu.mu.Lock()
		primary := e.emu.st.Instances[piID].NICs[0].ID
		e.emu.mu.Unlock()
		_, err = e.sdrs.DeleteProtectedInstanceNic(&model.DeleteProtectedInstanceNicRequest{ProtectedInstanceId: piID,
			Body: &model.ProtectedInstanceDeleteNicRequestBody{NicId: primary}})
		wantError(t, err, http.StatusBadRequest, codePrimaryNIC)
		del := ok(e.sdrs.DeleteProtectedInstanceNic(&model.DeleteProtectedInstanceNicRequest{ProtectedInstanceId: piID,
			Body: &model.ProtectedInstanceDeleteNicRequestBody{NicId: nicID}})).must(t)
		e.waitSuccess(del.JobId)
		if s := e.instance(piID).Status; s != statusProtected {
			t.Fatalf("status after NIC jobs %s", s)
		}
	})

	t.Run("resize", func(t *testing.T) {
		e := e.sub(t)
		resize := func(flavor string) error {
			_, err := e.sdrs.ResizeProtectedInstance(&model.ResizeProtectedInstanceRequest{ProtectedInstanceId: piID,
				Body: &model.ResizeProtectedInstanceRequestBody{Resize: &model.ResizeProtectedInstanceRequestParams{FlavorRef: ptr(flavor)}}})
			return err
		}
		e.setServer(g.Instances[0].ProductionServer, powerActive)
		wantError(t, resize("c6.2xlarge.2"), http.StatusBadRequest, codeServerNotStopped)
		e.setServer(g.Instances[0].ProductionServer, powerShutoff)
		wantError(t, resize(defaultFlavor), http.StatusBadRequest, codeSameFlavor)
		r := ok(e.sdrs.ResizeProtectedInstance(&model.ResizeProtectedInstanceRequest{ProtectedInstanceId: piID,
			Body: &model.ResizeProtectedInstanceRequestBody{Resize: &model.ResizeProtectedInstanceRequestParams{
				ProductionFlavorRef: ptr("c6.2xlarge.2"), DrFlavorRef: ptr("c6.xlarge.2")}}})).must(t)
		if s := e.instance(piID).Status; s != statusResizing {
			t.Fatalf("status %s", s)
		}
		e.waitSuccess(r.JobId)
		if f := e.server(g.Instances[0].ProductionServer).Flavor.Id; f != "c6.2xlarge.2" {
			t.Fatalf("production flavor %s", f)
		}
		if f := e.server(g.Instances[0].DRServer).Flavor.Id; f != "c6.xlarge.2" {
			t.Fatalf("DR flavor %s", f)
		}
	})

	t.Run("attach and detach refusals", func(t *testing.T) {
		e := e.sub(t)
		_, err := e.sdrs.AttachProtectedInstanceReplication(&model.AttachProtectedInstanceReplicationRequest{ProtectedInstanceId: piID,
			Body: &model.ProtectedInstanceAttachReplicationRequestBody{ReplicationAttachment: &model.ProtectedInstanceAttachReplicationRequestParams{
				ReplicationId: g.Instances[0].ReplicationID, Device: "/dev/vdb"}}})
		wantError(t, err, http.StatusBadRequest, codeAlreadyAttached)
		_, err = e.sdrs.DetachProtectedInstanceReplication(&model.DetachProtectedInstanceReplicationRequest{ProtectedInstanceId: piID, ReplicationId: "nope"})
		wantError(t, err, http.StatusBadRequest, codeReplicationNotFound)
		_, err = e.sdrs.DeleteReplication(&model.DeleteReplicationRequest{ReplicationId: g.Instances[0].ReplicationID})
		wantError(t, err, http.StatusBadRequest, codeAlreadyAttached)
	})

	t.Run("unknown instance", func(t *testing.T) {
		e := e.sub(t)
		_, err := e.sdrs.ShowProtectedInstance(&model.ShowProtectedInstanceRequest{ProtectedInstanceId: "nope"})
		wantError(t, err, http.StatusBadRequest, codeInstanceNotFound)
		_, err = e.sdrs.DeleteProtectedInstance(&model.DeleteProtectedInstanceRequest{ProtectedInstanceId: "nope"})
		wantError(t, err, http.StatusBadRequest, codeInstanceNotFound)
	})
}

func TestTags(t *testing.T) {
	e := newEnv(t)
	g := e.seedOne(2)
	a, b := g.Instances[0].ID, g.Instances[1].ID
	tags := func(id string) []model.ResourceTag {
		return *ok(e.sdrs.ListProtectedInstanceTags(&model.ListProtectedInstanceTagsRequest{ProtectedInstanceId: id})).must(t).Tags
	}

	ok(e.sdrs.AddProtectedInstanceTags(&model.AddProtectedInstanceTagsRequest{ProtectedInstanceId: a,
		Body: &model.ProtectedInstanceAddTagsRequestBody{Tag: &model.ResourceTag{Key: "env", Value: "dev"}}})).must(t)
	// The same key overwrites.
	r := ok(e.sdrs.AddProtectedInstanceTags(&model.AddProtectedInstanceTagsRequest{ProtectedInstanceId: a,
		Body: &model.ProtectedInstanceAddTagsRequestBody{Tag: &model.ResourceTag{Key: "env", Value: "prod"}}})).must(t)
	if r.HttpStatusCode != http.StatusNoContent {
		t.Fatalf("add tag answered %d", r.HttpStatusCode)
	}
	if got := tags(a); len(got) != 1 || got[0].Value != "prod" {
		t.Fatalf("tags %+v", got)
	}
	ok(e.sdrs.BatchAddTags(&model.BatchAddTagsRequest{ProtectedInstanceId: b, Body: &model.BatchAddTagsRequestBody{
		Action: model.GetBatchAddTagsRequestBodyActionEnum().CREATE,
		Tags:   []model.ResourceTag{{Key: "env", Value: "test"}, {Key: "team", Value: "dr"}},
	}})).must(t)
	if got := tags(b); len(got) != 2 {
		t.Fatalf("tags %+v", got)
	}
	_, err := e.sdrs.BatchAddTags(&model.BatchAddTagsRequest{ProtectedInstanceId: b, Body: &model.BatchAddTagsRequestBody{
		Action: model.GetBatchAddTagsRequestBodyActionEnum().CREATE,
		Tags:   []model.ResourceTag{{Key: "x", Value: "1"}, {Key: "x", Value: "2"}},
	}})
	wantError(t, err, http.StatusBadRequest, codeTagDuplicate)
	var many []model.ResourceTag
	for _, k := range []string{"k1", "k2", "k3", "k4", "k5", "k6", "k7", "k8", "k9"} {
		many = append(many, model.ResourceTag{Key: k, Value: "v"})
	}
	_, err = e.sdrs.BatchAddTags(&model.BatchAddTagsRequest{ProtectedInstanceId: b, Body: &model.BatchAddTagsRequestBody{
		Action: model.GetBatchAddTagsRequestBodyActionEnum().CREATE, Tags: many}})
	wantError(t, err, http.StatusBadRequest, codeTagLimit)

	projectTags := ok(e.sdrs.ListProtectedInstancesProjectTags(&model.ListProtectedInstancesProjectTagsRequest{})).must(t)
	if pt := *projectTags.Tags; len(pt) != 2 || pt[0].Key != "env" || len(pt[0].Values) != 2 {
		t.Fatalf("project tags %+v", pt)
	}

	byTags := ok(e.sdrs.ListProtectedInstancesByTags(&model.ListProtectedInstancesByTagsRequest{Body: &model.ListProtectedInstancesByTagsRequestBody{
		Action:  model.GetListProtectedInstancesByTagsRequestBodyActionEnum().FILTER,
		Tags:    &[]model.TagParams{{Key: "env", Values: []string{"prod", "test"}}},
		NotTags: &[]model.TagParams{{Key: "team", Values: []string{}}},
		Limit:   ptr("10"), Offset: ptr("0"),
	}})).must(t)
	if *byTags.TotalCount != 1 || (*byTags.Resources)[0].ResourceId != a || (*byTags.Resources)[0].ResourceDetail.Id != a {
		t.Fatalf("by tags: %+v", byTags)
	}
	count := ok(e.sdrs.ListProtectedInstancesByTags(&model.ListProtectedInstancesByTagsRequest{Body: &model.ListProtectedInstancesByTagsRequestBody{
		Action:  model.GetListProtectedInstancesByTagsRequestBodyActionEnum().COUNT,
		TagsAny: &[]model.TagParams{{Key: "env", Values: []string{}}},
	}})).must(t)
	if *count.TotalCount != 2 || count.Resources != nil {
		t.Fatalf("count: %+v", count)
	}
	_, err = e.sdrs.ListProtectedInstancesByTags(&model.ListProtectedInstancesByTagsRequest{Body: &model.ListProtectedInstancesByTagsRequestBody{
		Action: model.GetListProtectedInstancesByTagsRequestBodyActionEnum().COUNT, Limit: ptr("1")}})
	wantError(t, err, http.StatusBadRequest, codeByTagsCountPaging)

	ok(e.sdrs.BatchDeleteTags(&model.BatchDeleteTagsRequest{ProtectedInstanceId: b, Body: &model.BatchDeleteTagsRequestBody{
		Action: model.GetBatchDeleteTagsRequestBodyActionEnum().DELETE,
		Tags:   []model.DeleteResourceTag{{Key: "team"}, {Key: "missing-is-fine"}},
	}})).must(t)
	if got := tags(b); len(got) != 1 || got[0].Key != "env" {
		t.Fatalf("after batch delete %+v", got)
	}
	ok(e.sdrs.DeleteProtectedInstanceTag(&model.DeleteProtectedInstanceTagRequest{ProtectedInstanceId: b, Key: "env"})).must(t)
	_, err = e.sdrs.DeleteProtectedInstanceTag(&model.DeleteProtectedInstanceTagRequest{ProtectedInstanceId: b, Key: "env"})
	wantError(t, err, http.StatusNotFound, codeTagNotFound)
	if got := e.instance(a).Tags; got == nil || len(*got) != 1 {
		t.Fatalf("instance view tags %+v", got)
	}
	if ops := e.calls("operation=BatchDeleteTags"); len(ops) != 1 {
		t.Fatalf("BatchDeleteTags calls: %+v", ops)
	}
}
