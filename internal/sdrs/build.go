package sdrs

import (
	"fmt"
	"net/http"
	"time"

	"github.com/huaweicloud/huaweicloud-sdk-go-v3/core/auth/basic"
	"github.com/huaweicloud/huaweicloud-sdk-go-v3/core/config"
	hcregion "github.com/huaweicloud/huaweicloud-sdk-go-v3/core/region"
	ecs "github.com/huaweicloud/huaweicloud-sdk-go-v3/services/ecs/v2"
	ecsregion "github.com/huaweicloud/huaweicloud-sdk-go-v3/services/ecs/v2/region"
	sdrs "github.com/huaweicloud/huaweicloud-sdk-go-v3/services/sdrs/v1"
	sdrsregion "github.com/huaweicloud/huaweicloud-sdk-go-v3/services/sdrs/v1/region"
	"golang.org/x/time/rate"
)

// credentials carry the AK/SK from the Secret to the SDK credential
// builder and nowhere else. They print as a mask, so an accidental %v
// leaks nothing.
type credentials struct {
	ak, sk, token string
}

func (credentials) String() string   { return redacted }
func (credentials) GoString() string { return redacted }

// clientConfig is everything needed to build the SDK clients of one
// ProviderConfig.
type clientConfig struct {
	region      string
	projectID   string
	sdrsURL     string // empty: the SDK's regional endpoint
	ecsURL      string // empty: the SDK's regional endpoint
	caBundle    []byte
	insecure    bool
	timeout     time.Duration
	credentials credentials
	now         func() time.Time // for Retry-After dates; time.Now when nil

	// Test hooks: a transport replacing the TLS-configured one, and a
	// smaller body limit.
	baseTransport http.RoundTripper
	maxBody       int64
}

// Error strings.
const (
	errUnknownRegionFmt = "region %q is unknown to the SDK for %s; set spec.%s"
	serviceSDRS         = "SDRS"
	serviceECS          = "ECS"
	fieldEndpoint       = "endpoint"
	fieldECSEndpoint    = "ecsEndpoint"
)

// buildClient builds the SDRS and ECS SDK clients. It makes no network
// call: the project ID is always given, so the SDK never asks IAM. A
// problem with the ECS side only (typically a region the SDK's ECS table
// lacks while spec.endpoint points SDRS elsewhere) does not fail the build:
// the ECS methods return it, and SDRS keeps working.
func buildClient(cfg clientConfig, limiter *rate.Limiter, observe CallObserver) (*sdkClient, error) {
	var (
		base    = cfg.baseTransport
		closeFn = func() {}
	)
	if base == nil {
		t, err := newTransport(cfg.caBundle, cfg.insecure)
		if err != nil {
			return nil, err
		}
		base, closeFn = t, t.CloseIdleConnections
	}
	limit := cfg.maxBody
	if limit <= 0 {
		limit = maxResponseBody
	}
	rt := limitedTransport{base: base, max: limit}
	httpConfig := func() *config.HttpConfig {
		// RoundTripper replaces the SDK's own transport, so the TLS
		// settings live in newTransport; IgnoreSSLVerification is set
		// too so the SDK's view of the config tells the truth.
		return config.DefaultHttpConfig().
			WithTimeout(cfg.timeout).
			WithRetries(0). // retries are the controller's job
			WithIgnoreSSLVerification(cfg.insecure).
			WithHttpRoundTripper(rt)
	}
	handler := errorHandler{now: cfg.now}

	sdrsHC := sdrs.SdrsClientBuilder().WithHttpConfig(httpConfig()).WithErrorHandler(handler)
	if cfg.sdrsURL != "" {
		sdrsHC.WithEndpoints([]string{cfg.sdrsURL})
	} else {
		reg, err := sdrsregion.SafeValueOf(cfg.region)
		if err != nil || reg == nil {
			return nil, unknownRegion(cfg.region, serviceSDRS, fieldEndpoint)
		}
		sdrsHC.WithRegion(reg)
	}
	cred, err := newCredential(cfg)
	if err != nil {
		return nil, err
	}
	hc, err := sdrsHC.WithCredential(cred).SafeBuild()
	if err != nil {
		return nil, translate(err, target{})
	}

	c := &sdkClient{
		sdrs:    sdrsSDK{sdrs.NewSdrsClient(hc)},
		limiter: limiter,
		observe: observe,
		close:   closeFn,
	}

	ecsHC := ecs.EcsClientBuilder().WithHttpConfig(httpConfig()).WithErrorHandler(handler)
	if cfg.ecsURL != "" {
		ecsHC.WithEndpoints([]string{cfg.ecsURL})
	} else {
		var reg *hcregion.Region
		reg, err = ecsregion.SafeValueOf(cfg.region)
		if err != nil || reg == nil {
			c.ecsErr = unknownRegion(cfg.region, serviceECS, fieldECSEndpoint)
			return c, nil
		}
		ecsHC.WithRegion(reg)
	}
	ecsCred, err := newCredential(cfg)
	if err != nil {
		return nil, err
	}
	ehc, err := ecsHC.WithCredential(ecsCred).SafeBuild()
	if err != nil {
		c.ecsErr = translate(err, target{})
		return c, nil
	}
	c.ecs = ecs.NewEcsClient(ehc)
	return c, nil
}

func newCredential(cfg clientConfig) (*basic.Credentials, error) {
	b := basic.NewCredentialsBuilder().
		WithAk(cfg.credentials.ak).
		WithSk(cfg.credentials.sk).
		WithProjectId(cfg.projectID)
	if cfg.credentials.token != "" {
		b.WithSecurityToken(cfg.credentials.token)
	}
	cred, err := b.SafeBuild()
	if err != nil {
		return nil, translate(err, target{})
	}
	return cred, nil
}

func unknownRegion(region, service, field string) error {
	return &InvalidRequestError{Message: sanitize(fmt.Sprintf(errUnknownRegionFmt, region, service, field))}
}

var _ http.RoundTripper = limitedTransport{}
