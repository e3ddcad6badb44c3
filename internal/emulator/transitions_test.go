package emulator

import (
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/huaweicloud/huaweicloud-sdk-go-v3/services/sdrs/v1/model"
)

// forceGroup sets group fields through the admin API.
func (e *env) forceGroup(id string, fields map[string]any) {
	e.t.Helper()
	e.admin(http.MethodPut, "/admin/groups/"+id, fields, http.StatusOK, nil)
}

func (e *env) setServer(id, status string) {
	e.t.Helper()
	e.admin(http.MethodPut, "/admin/servers/"+id, map[string]string{"status": status}, http.StatusOK, nil)
}

// act sends one group action through the SDK.
func (e *env) act(id, action string) (*string, error) {
	switch action {
	case actionStart:
		r, err := e.sdrs.StartProtectionGroup(&model.StartProtectionGroupRequest{ServerGroupId: id,
			Body: &model.StartProtectionGroupRequestBody{StartServerGroup: emptyAction()}})
		if err != nil {
			return nil, err
		}
		return r.JobId, nil
	case actionStop:
		r, err := e.sdrs.StopProtectionGroup(&model.StopProtectionGroupRequest{ServerGroupId: id,
			Body: &model.StopProtectionGroupRequestBody{StopServerGroup: emptyAction()}})
		if err != nil {
			return nil, err
		}
		return r.JobId, nil
	case actionReverse:
		g := e.group(id)
		return e.reverseGroup(id, otherStation(g.PriorityStation))
	case actionFailover:
		return e.failoverGroup(id)
	}
	e.t.Fatalf("unknown action %s", action)
	return nil, nil
}

// TestGroupActionTransitions covers every documented action precondition:
// from each relevant status, the action is accepted (and the group moves
// to the transitional status at once) or refused with the expected code.
func TestGroupActionTransitions(t *testing.T) {
	e := newEnv(t, func(c *Config) { c.JobDuration = time.Hour })
	type row struct {
		from, action string
		want         string // transitional status on success, or an error code
	}
	rows := []row{
		{statusAvailable, actionStart, statusStarting},
		{statusErrorStarting, actionStart, statusStarting},
		{statusFailedOver, actionStart, statusReprotecting},
		{statusErrorReprotecting, actionStart, statusReprotecting},
		{statusProtected, actionStart, codeGroupState},
		{statusErrorStopping, actionStart, codeGroupState},

		{statusProtected, actionStop, statusStopping},
		{statusErrorStopping, actionStop, statusStopping},
		{statusAvailable, actionStop, codeGroupState},
		{statusFailedOver, actionStop, codeGroupState},

		{statusProtected, actionReverse, statusReversing},
		{statusErrorReversing, actionReverse, statusReversing},
		{statusAvailable, actionReverse, codeGroupState},
		{statusFailedOver, actionReverse, codeGroupState},
		{statusErrorFailingOver, actionReverse, codeGroupState},

		{statusProtected, actionFailover, statusFailingOver},
		{statusErrorFailingOver, actionFailover, statusFailingOver},
		{statusErrorReversing, actionFailover, statusFailingOver},
		{statusAvailable, actionFailover, codeGroupState},
		{statusFailedOver, actionFailover, codeGroupState},
		{statusErrorStarting, actionFailover, codeGroupState},
	}
	// One action at a time: every transitional status refuses every action.
	for _, from := range []string{statusCreating, statusStarting, statusReprotecting, statusStopping, statusReversing, statusFailingOver, statusDeleting} {
		for _, action := range []string{actionStart, actionStop, actionReverse, actionFailover} {
			rows = append(rows, row{from, action, codeGroupState})
		}
	}
	for _, r := range rows {
		t.Run(fmt.Sprintf("%s from %s", r.action, r.from), func(t *testing.T) {
			e := e.sub(t)
			g := e.seedOne(1, func(g *SeedGroup) { g.Instances[0].ProductionPower = powerShutoff })
			e.forceGroup(g.ID, map[string]any{"status": r.from})
			_, err := e.act(g.ID, r.action)
			if len(r.want) > 5 && r.want[:5] == "SDRS." {
				wantError(t, err, http.StatusBadRequest, r.want)
				if got := e.group(g.ID).Status; got != r.from {
					t.Fatalf("refused action changed status %s -> %s", r.from, got)
				}
				return
			}
			if err != nil {
				t.Fatalf("want accepted, got %v", err)
			}
			if got := e.group(g.ID); got.Status != r.want {
				t.Fatalf("want %s, got %s", r.want, got.Status)
			}
			pi := ok(e.sdrs.ShowProtectedInstance(&model.ShowProtectedInstanceRequest{ProtectedInstanceId: g.Instances[0].ID})).must(t)
			rep := ok(e.sdrs.ShowReplication(&model.ShowReplicationRequest{ReplicationId: g.Instances[0].ReplicationID})).must(t)
			if pi.ProtectedInstance.Status != r.want || rep.Replication.Status != r.want {
				t.Fatalf("members not cascaded: instance %s, replication %s", pi.ProtectedInstance.Status, rep.Replication.Status)
			}
			// A second action while the first runs is refused.
			_, err = e.act(g.ID, actionFailover)
			wantError(t, err, http.StatusBadRequest, codeGroupState)
		})
	}
}

func TestGroupActionPreconditions(t *testing.T) {
	e := newEnv(t, func(c *Config) { c.JobDuration = time.Hour; c.SyncDuration = time.Hour })

	t.Run("reverse with a running production server", func(t *testing.T) {
		e := e.sub(t)
		g := e.seedOne(2, func(g *SeedGroup) { g.Instances[0].ProductionPower = powerShutoff })
		_, err := e.reverseGroup(g.ID, stationTarget)
		wantError(t, err, http.StatusBadRequest, codeProductionRunning)
	})
	t.Run("reverse while replication is copying", func(t *testing.T) {
		e := e.sub(t)
		g := e.seedOne(1, func(g *SeedGroup) { g.Instances[0].ProductionPower = powerShutoff })
		e.forceGroup(g.ID, map[string]any{"replication_status": replCopying, "progress": 40})
		if p := e.group(g.ID).Progress; p != 40 {
			t.Fatalf("forced progress %d", p)
		}
		_, err := e.reverseGroup(g.ID, stationTarget)
		wantError(t, err, http.StatusBadRequest, codeStillSyncing)
	})
	t.Run("reverse to the current site", func(t *testing.T) {
		e := e.sub(t)
		g := e.seedOne(1, func(g *SeedGroup) { g.Instances[0].ProductionPower = powerShutoff })
		_, err := e.reverseGroup(g.ID, stationSource)
		wantError(t, err, http.StatusBadRequest, codeGroupState)
	})
	t.Run("reprotect with a running DR-site server", func(t *testing.T) {
		e := e.sub(t)
		g := e.seedOne(1)
		e.forceGroup(g.ID, map[string]any{"status": statusFailedOver})
		e.setServer(g.Instances[0].DRServer, powerActive)
		_, err := e.act(g.ID, actionStart)
		wantError(t, err, http.StatusBadRequest, codeDRServerRunning)
	})
	t.Run("no replication pairs", func(t *testing.T) {
		e := e.sub(t)
		g := e.seedOne(0, func(g *SeedGroup) { p := false; g.Protected = &p })
		for _, a := range []string{actionStart} {
			_, err := e.act(g.ID, a)
			wantError(t, err, http.StatusBadRequest, codeGroupState)
		}
		e.forceGroup(g.ID, map[string]any{"status": statusProtected})
		for _, a := range []string{actionReverse, actionFailover} {
			_, err := e.act(g.ID, a)
			wantError(t, err, http.StatusBadRequest, codeGroupState)
		}
	})
	t.Run("a busy member blocks group actions", func(t *testing.T) {
		e := e.sub(t)
		g := e.seedOne(1, func(g *SeedGroup) { g.Instances[0].ProductionPower = powerShutoff })
		ok(e.sdrs.AddProtectedInstanceNic(&model.AddProtectedInstanceNicRequest{ProtectedInstanceId: g.Instances[0].ID,
			Body: &model.ProtectedInstanceAddNicRequestBody{SubnetId: "subnet-1"}})).must(t)
		_, err := e.act(g.ID, actionFailover)
		wantError(t, err, http.StatusBadRequest, codeGroupState)
	})
	t.Run("null action values are accepted", func(t *testing.T) {
		e := e.sub(t)
		// The SDK sends {"stop-server-group":null} when the pointer is nil.
		g := e.seedOne(1)
		ok(e.sdrs.StopProtectionGroup(&model.StopProtectionGroupRequest{ServerGroupId: g.ID,
			Body: &model.StopProtectionGroupRequestBody{}})).must(t)
		if s := e.group(g.ID).Status; s != statusStopping {
			t.Fatalf("after a null stop: %s", s)
		}
		g2 := e.seedOne(1)
		status, _, body := e.do(e.srv.URL, rawRequest{method: http.MethodPost,
			path: "/v1/" + testProject + "/server-groups/" + g2.ID + "/action", body: `{"failover-server-group": null}`})
		if status != http.StatusOK || e.group(g2.ID).Status != statusFailingOver {
			t.Fatalf("null failover: %d %s", status, body)
		}
	})
	t.Run("unknown group", func(t *testing.T) {
		e := e.sub(t)
		_, err := e.act("no-such-group", actionFailover)
		wantError(t, err, http.StatusBadRequest, codeGroupNotFound)
	})
	t.Run("delete refusals", func(t *testing.T) {
		e := e.sub(t)
		g := e.seedOne(1, func(g *SeedGroup) { p := false; g.Protected = &p })
		_, err := e.sdrs.DeleteProtectionGroup(&model.DeleteProtectionGroupRequest{ServerGroupId: g.ID})
		wantError(t, err, http.StatusBadRequest, codeGroupHasInstances)

		e.emu.mu.Lock()
		delete(e.emu.st.Instances, g.Instances[0].ID)
		e.emu.st.Replications[g.Instances[0].ReplicationID].InstanceID = ""
		e.emu.mu.Unlock()
		_, err = e.sdrs.DeleteProtectionGroup(&model.DeleteProtectionGroupRequest{ServerGroupId: g.ID})
		wantError(t, err, http.StatusBadRequest, codeGroupHasReplication)

		empty := e.seedOne(0, func(g *SeedGroup) { p := false; g.Protected = &p })
		ok(e.sdrs.CreateDisasterRecoveryDrill(&model.CreateDisasterRecoveryDrillRequest{Body: &model.CreateDisasterRecoveryDrillRequestBody{
			DisasterRecoveryDrill: &model.CreateDisasterRecoveryDrillRequestParams{ServerGroupId: empty.ID, Name: "drill"}}})).must(t)
		_, err = e.sdrs.DeleteProtectionGroup(&model.DeleteProtectionGroupRequest{ServerGroupId: empty.ID})
		wantError(t, err, http.StatusBadRequest, codeGroupHasDrills)

		busy := e.seedOne(0, func(g *SeedGroup) { p := false; g.Protected = &p })
		e.forceGroup(busy.ID, map[string]any{"status": statusStarting})
		_, err = e.sdrs.DeleteProtectionGroup(&model.DeleteProtectionGroupRequest{ServerGroupId: busy.ID})
		wantError(t, err, http.StatusBadRequest, codeGroupState)
	})
}
