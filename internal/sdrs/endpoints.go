package sdrs

import (
	"fmt"
	"net/url"
	"strings"

	drv1alpha1 "github.com/sdrs-operator/sdrs-operator/api/v1alpha1"
)

// Endpoint schemes.
const (
	schemeHTTPS = "https"
	schemeHTTP  = "http"
)

// Error strings.
const (
	errPlainHTTPFmt   = "spec.%s is plain http://, which sends request signatures and session tokens in clear text and lets anyone on the path forge the answers: use https://, or set spec.allowInsecureHTTP: true (only for a local emulator or tests)"
	errBadEndpointFmt = "spec.%s must be an https:// URL with a host"
)

// checkEndpoints refuses endpoint overrides that are not https://, unless
// the ProviderConfig opted into plain http. Admission refuses them too (the
// CRD's CEL rules); this covers objects written before those rules, or with
// validation turned off, so that no signed request leaves in clear text
// without the opt-in.
func checkEndpoints(spec *drv1alpha1.ProviderConfigSpec) error {
	for _, ep := range []struct{ field, url string }{
		{fieldEndpoint, spec.Endpoint},
		{fieldECSEndpoint, spec.ECSEndpoint},
	} {
		if ep.url == "" {
			continue
		}
		switch endpointScheme(ep.url) {
		case schemeHTTPS:
		case schemeHTTP:
			if !spec.AllowInsecureHTTP {
				return &InvalidRequestError{Message: fmt.Sprintf(errPlainHTTPFmt, ep.field)}
			}
		default:
			return &InvalidRequestError{Message: fmt.Sprintf(errBadEndpointFmt, ep.field)}
		}
	}
	return nil
}

// usesHTTP reports whether a client built from spec sends anything over
// plain http, for the warning.
func usesHTTP(spec *drv1alpha1.ProviderConfigSpec) bool {
	return endpointScheme(spec.Endpoint) == schemeHTTP || endpointScheme(spec.ECSEndpoint) == schemeHTTP
}

// endpointScheme returns the lower-cased scheme of a URL with a host, or ""
// for anything else. The URL itself never reaches a message: it may carry
// user information.
func endpointScheme(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return ""
	}
	return strings.ToLower(u.Scheme)
}
