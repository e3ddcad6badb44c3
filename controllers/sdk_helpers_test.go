package controllers_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/huaweicloud/huaweicloud-sdk-go-v3/core/auth/basic"
	"github.com/huaweicloud/huaweicloud-sdk-go-v3/core/config"
	sdrsv1 "github.com/huaweicloud/huaweicloud-sdk-go-v3/services/sdrs/v1"
	"github.com/huaweicloud/huaweicloud-sdk-go-v3/services/sdrs/v1/model"
	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	drv1alpha1 "github.com/sdrs-operator/sdrs-operator/api/v1alpha1"
)

// sdkClient is the official SDK pointed at the emulator: what a person at
// the console or Terraform would use behind the operator's back.
func sdkClient(t *testing.T) *sdrsv1.SdrsClient {
	t.Helper()
	cred, err := basic.NewCredentialsBuilder().WithAk(accessKey).WithSk(secretKey).WithProjectId(projectID).SafeBuild()
	if err != nil {
		t.Fatal(err)
	}
	hc, err := sdrsv1.SdrsClientBuilder().WithEndpoints([]string{sdrsURL}).WithCredential(cred).
		WithHttpConfig(config.DefaultHttpConfig().WithRetries(0)).SafeBuild()
	if err != nil {
		t.Fatal(err)
	}
	return sdrsv1.NewSdrsClient(hc)
}

var sdkT *testing.T

// sdkFailover fails a group over through the official SDK.
func sdkFailover(groupID string) error {
	var empty interface{} = map[string]interface{}{}
	_, err := sdkClient(sdkT).StartFailoverProtectionGroup(&model.StartFailoverProtectionGroupRequest{
		ServerGroupId: groupID,
		Body:          &model.FailoverProtectionGroupRequestBody{FailoverServerGroup: &empty},
	})
	return err
}

// domainID returns the emulator's active-active domain for the default zones.
func domainID(t *testing.T) string {
	t.Helper()
	resp, err := sdkClient(t).ListActiveActiveDomains(&model.ListActiveActiveDomainsRequest{})
	if err != nil || resp.Domains == nil || len(*resp.Domains) == 0 {
		t.Fatalf("cannot list active-active domains: %v", err)
	}
	return (*resp.Domains)[0].Id
}

func waitUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(converge)
	for time.Now().Before(deadline) {
		if cond() {
			return
		}
		<-time.After(poll)
	}
	t.Fatalf("timed out after %s waiting for %s", converge, what)
}

func secretFor(t *testing.T, name string) *corev1.Secret {
	t.Helper()
	sec := &corev1.Secret{}
	if err := k8s.Get(context.Background(), client.ObjectKey{Namespace: credsNS, Name: name}, sec); err != nil {
		t.Fatal(err)
	}
	return sec
}

// assertNoSecretInStatus searches every ProtectionGroup status, every
// ProviderConfig status and every Event for secret keys.
func assertNoSecretInStatus(t *testing.T, ns string, secrets ...string) {
	t.Helper()
	ctx := context.Background()
	var texts []string
	var pgs drv1alpha1.ProtectionGroupList
	if err := k8s.List(ctx, &pgs); err != nil {
		t.Fatal(err)
	}
	for _, p := range pgs.Items {
		texts = append(texts, describeStatus(&p))
		for _, h := range p.Status.History {
			texts = append(texts, h.Message)
		}
	}
	var pcs drv1alpha1.ProviderConfigList
	if err := k8s.List(ctx, &pcs); err != nil {
		t.Fatal(err)
	}
	for _, p := range pcs.Items {
		for _, c := range p.Status.Conditions {
			texts = append(texts, c.Message)
		}
	}
	var evs corev1.EventList
	if err := k8s.List(ctx, &evs); err != nil {
		t.Fatal(err)
	}
	for _, e := range evs.Items {
		texts = append(texts, e.Message)
	}
	all := strings.Join(texts, "\n")
	for _, s := range secrets {
		if strings.Contains(all, s) {
			t.Errorf("a secret key appears in status or events")
		}
	}
}

// listSDRSDrills lists a group's drills through the official SDK.
func listSDRSDrills(t *testing.T, groupID string) []model.ShowDisasterRecoveryDrillParams {
	t.Helper()
	resp, err := sdkClient(t).ListDisasterRecoveryDrills(&model.ListDisasterRecoveryDrillsRequest{ServerGroupId: &groupID})
	if err != nil {
		t.Fatalf("cannot list drills: %v", err)
	}
	if resp.DisasterRecoveryDrills == nil {
		return nil
	}
	return *resp.DisasterRecoveryDrills
}
