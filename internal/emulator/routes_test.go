package emulator

import (
	"reflect"
	"strings"
	"testing"

	ecs "github.com/huaweicloud/huaweicloud-sdk-go-v3/services/ecs/v2"
	sdrs "github.com/huaweicloud/huaweicloud-sdk-go-v3/services/sdrs/v1"
)

// TestEverySDKOperationIsRouted checks the route table against the SDK:
// every SdrsClient operation has a route named after it, and every route
// name is an SDK operation.
func TestEverySDKOperationIsRouted(t *testing.T) {
	routed := map[string]bool{}
	for _, rt := range sdrsRoutes() {
		routed[rt.operation] = true
		if rt.classify != nil {
			for _, op := range []string{opStartGroup, opStopGroup, opReverseGroup, opFailoverGroup, "BatchDeleteTags"} {
				routed[op] = true
			}
		}
	}
	client := reflect.TypeOf(&sdrs.SdrsClient{})
	operations := 0
	for i := 0; i < client.NumMethod(); i++ {
		name := client.Method(i).Name
		if strings.HasSuffix(name, "Invoker") {
			continue
		}
		operations++
		if !routed[name] {
			t.Errorf("SDK operation %s has no route", name)
		}
	}
	if operations != 49 {
		t.Errorf("the SDK has %d SDRS operations, the contract lists 49", operations)
	}
	for op := range routed {
		if _, ok := client.MethodByName(op); !ok && op != opGroupAction {
			t.Errorf("route %s is not an SDK operation", op)
		}
	}
	ecsClient := reflect.TypeOf(&ecs.EcsClient{})
	for _, rt := range ecsRoutes() {
		if _, ok := ecsClient.MethodByName(rt.operation); !ok && rt.operation != "ServerAction" {
			t.Errorf("ECS route %s is not an SDK operation", rt.operation)
		}
	}
}
