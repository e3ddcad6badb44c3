package sdrs

// This file translates what the SDK returns into the typed errors of
// errors.go: one table of SDRS codes, then HTTP statuses, then transport
// failures. It is the only place that knows the SDK's error types.

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/huaweicloud/huaweicloud-sdk-go-v3/core/sdkerr"
)

// kind is what an error means to the caller.
type kind int

const (
	kindUnknown kind = iota
	kindNotFound
	kindThrottled
	kindPrecondition
	kindUnauthorized
	kindTransient
	kindInvalid
)

type codeRule struct {
	kind     kind
	resource string // for kindNotFound: what is missing
	// drillVPC marks a refusal about the drill VPC: its message names the
	// VPC the call gave (target.vpcID).
	drillVPC bool
}

// codeTable maps every cloud error code we know to its meaning. Codes are
// compared upper-cased (ECS writes "Ecs.0114"). A code wins over the HTTP
// status, except that 429 is always Throttled: SDRS reports most errors,
// not-found included, as HTTP 400 (sdrs-api.md sections 6.4, 8).
var codeTable = map[string]codeRule{
	// Authentication and permissions (SDRS answers 400 for these).
	"SDRS.0001": {kind: kindUnauthorized}, // invalid tenant ID
	"SDRS.0002": {kind: kindUnauthorized}, // invalid token
	"SDRS.0003": {kind: kindUnauthorized}, // invalid roles
	"SDRS.0004": {kind: kindUnauthorized}, // no permission for the API
	"SDRS.0005": {kind: kindUnauthorized}, // no permission

	// SDRS internal errors (500): token fetch, network timeout, data,
	// client, configuration, internal.
	"SDRS.0006": {kind: kindTransient},
	"SDRS.0007": {kind: kindTransient},
	"SDRS.0008": {kind: kindTransient},
	"SDRS.0009": {kind: kindTransient},
	"SDRS.0010": {kind: kindTransient},
	"SDRS.0011": {kind: kindTransient},
	"SDRS.0012": {kind: kindTransient},
	"SDRS.0013": {kind: kindTransient},
	"SDRS.0014": {kind: kindTransient},
	"SDRS.0015": {kind: kindTransient},
	"SDRS.0016": {kind: kindTransient},

	// Parameter errors are InvalidRequest by the 400 default, except the
	// protected-instance ID one, which Terraform also reads as "gone".
	"SDRS.0208": {kind: kindNotFound, resource: ResourceProtectedInstance}, // invalid protected instance ID

	// Quota: the project cannot take another group or pair until a person
	// frees one or raises the quota.
	"SDRS.0305": {kind: kindPrecondition}, // protection group quota
	"SDRS.0306": {kind: kindPrecondition}, // replication pair quota

	// Job engine (500).
	"SDRS.0401": {kind: kindTransient},
	"SDRS.0402": {kind: kindTransient},
	"SDRS.0403": {kind: kindTransient},
	"SDRS.0404": {kind: kindTransient},
	"SDRS.0405": {kind: kindTransient},
	"SDRS.0406": {kind: kindTransient},
	"SDRS.0407": {kind: kindTransient},
	"SDRS.0408": {kind: kindTransient},

	// Protection group state (sdrs-api.md section 6.4).
	"SDRS.1001": {kind: kindPrecondition},                                // delete blocked: has protected instances
	"SDRS.1002": {kind: kindPrecondition},                                // action not allowed in the current state
	"SDRS.1003": {kind: kindPrecondition},                                // delete blocked: has DR drills
	"SDRS.1010": {kind: kindPrecondition},                                // delete blocked: has replication pairs
	"SDRS.1011": {kind: kindTransient},                                   // active-active domain query failed (500)
	"SDRS.1013": {kind: kindNotFound, resource: ResourceProtectionGroup}, // protection group not found
	"SDRS.1014": {kind: kindTransient},                                   // create failed (500)
	"SDRS.1015": {kind: kindPrecondition},                                // abnormal group data: needs a person
	"SDRS.1016": {kind: kindTransient},                                   // delete failed (500)
	"SDRS.1017": {kind: kindPrecondition},                                // status not available
	"SDRS.1018": {kind: kindPrecondition},                                // protection not stopped
	"SDRS.1019": {kind: kindPrecondition},                                // protection not started
	"SDRS.1020": {kind: kindPrecondition},                                // not available or starting
	"SDRS.1021": {kind: kindPrecondition},                                // not available, failed-over or failed-over-back
	"SDRS.1022": {kind: kindPrecondition},                                // not available, error-failing-over, ...
	"SDRS.1023": {kind: kindPrecondition},                                // not available, error-reversing, ...
	"SDRS.1024": {kind: kindPrecondition},                                // not available or protected
	"SDRS.1025": {kind: kindPrecondition},                                // priority_station differs from a protected instance
	"SDRS.1026": {kind: kindPrecondition},                                // priority_station differs from a replication pair

	// Servers and protected instances.
	"SDRS.1316": {kind: kindPrecondition},                                  // server not stopped
	"SDRS.1319": {kind: kindPrecondition},                                  // production-site server not stopped (reverse)
	"SDRS.1320": {kind: kindNotFound, resource: ResourceProtectedInstance}, // protected instance not found
	"SDRS.1323": {kind: kindPrecondition},                                  // group status forbids creating an instance
	"SDRS.1324": {kind: kindPrecondition},                                  // group status forbids deleting an instance
	"SDRS.1325": {kind: kindPrecondition},                                  // group status forbids the instance action
	"SDRS.1328": {kind: kindPrecondition},                                  // protected instance not available
	"SDRS.1342": {kind: kindPrecondition},                                  // DR-site server not stopped (reprotect)
	"SDRS.1352": {kind: kindPrecondition},                                  // production-site server not stopped

	// Replication pairs and disks.
	"SDRS.1601": {kind: kindPrecondition},                            // replication pair not available
	"SDRS.1608": {kind: kindNotFound, resource: ResourceReplication}, // replication pair not found
	"SDRS.1809": {kind: kindPrecondition},                            // production site is the creation-time DR site: fail back first
	"SDRS.1830": {kind: kindPrecondition},                            // replication pairs still synchronising

	// DR drills. The drill VPC codes need a person to fix or choose the
	// VPC (same CIDR as the group's VPC, used by no other drill), so they
	// are Precondition errors naming it. SDRS.1913 is "drill state forbids
	// delete"; DeleteDrill reads the drill to tell a drill still creating
	// or deleting from one already gone (sdk_drills.go).
	"SDRS.1902": {kind: kindNotFound, resource: ResourceDrill}, // drill not found
	"SDRS.1907": {kind: kindPrecondition, drillVPC: true},      // drill VPC
	"SDRS.1908": {kind: kindPrecondition, drillVPC: true},      // drill VPC
	"SDRS.1909": {kind: kindPrecondition, drillVPC: true},      // drill VPC
	"SDRS.1910": {kind: kindPrecondition, drillVPC: true},      // drill VPC
	"SDRS.1911": {kind: kindPrecondition, drillVPC: true},      // drill VPC
	"SDRS.1913": {kind: kindPrecondition},                      // drill state forbids delete
	"SDRS.1921": {kind: kindPrecondition, drillVPC: true},      // drill VPC already used by another drill

	// API gateway in front of SDRS and ECS.
	"APIGW.0101": {kind: kindInvalid},   // API not found: the endpoint is wrong, not the resource gone
	"APIGW.0308": {kind: kindThrottled}, // throttling threshold reached

	// ECS.
	"ECS.0114": {kind: kindNotFound, resource: ResourceServer}, // server does not exist
}

// targetCodes refine codeTable for one kind of addressed resource.
var targetCodes = map[string]map[string]codeRule{
	ResourceJob: {
		// ShowJobStatus has one parameter, the job ID, so "invalid
		// parameters" there means an unknown job (the service's answer
		// is undocumented; the emulator sends this).
		"SDRS.0201": {kind: kindNotFound, resource: ResourceJob},
	},
}

// codePrefixes catch families of codes not listed one by one.
var codePrefixes = []struct {
	prefix string
	kind   kind
}{
	{"APIGW.03", kindUnauthorized}, // 0301..0307: IAM/app authentication and authorization
	{"IAM.", kindUnauthorized},     // IAM errors while resolving credentials
}

// Messages for errors this package raises itself.
const (
	msgMalformedResponse = "malformed response"
	msgResponseTooLarge  = "response body too large"
	msgTimeout           = "request timed out"
	msgCanceled          = "call abandoned: context done"
	msgTLS               = "TLS certificate verification failed (check spec.caBundle)"
	msgCredentials       = "cannot build credentials"
)

// target is what a call addressed, to name it in a NotFoundError.
type target struct {
	resource string
	id       string
	vpcID    string // the drill VPC a drill create named; "" when SDRS makes one
}

// translate turns any error from the SDK, the transport or the cloud into
// one of this package's typed errors. It is the only place that knows SDK
// error types and cloud error codes.
func translate(err error, tgt target) error {
	if err == nil {
		return nil
	}
	if isTyped(err) {
		return err
	}

	var he *httpError
	if errors.As(err, &he) {
		return fromHTTP(he.status, he.code, he.message, he.retryAfter, tgt)
	}
	if sre, ok := asServiceResponseError(err); ok {
		if sre.StatusCode >= 400 {
			return fromHTTP(sre.StatusCode, sre.ErrorCode, sre.ErrorMessage, defaultRetryAfter, tgt)
		}
		// The SDK reports a body it could not decode as a
		// ServiceResponseError with the (successful) status.
		detail, _, _ := strings.Cut(sre.ErrorMessage, jsonContextMarker)
		return &TransientError{StatusCode: sre.StatusCode, Message: sanitize(msgMalformedResponse + ": " + detail)}
	}
	return fromTransport(err)
}

// isTyped reports whether err itself, not an error it wraps, is one of
// ours: only such an error passes through Translate as it is.
func isTyped(err error) bool {
	switch err.(type) { //nolint:errorlint // err itself, not its chain: see above
	case *NotFoundError, *ThrottledError, *PreconditionError, *UnauthorizedError,
		*TransientError, *InvalidRequestError, *SecretError:
		return true
	}
	return false
}

func asServiceResponseError(err error) (*sdkerr.ServiceResponseError, bool) {
	var p *sdkerr.ServiceResponseError
	if errors.As(err, &p) && p != nil {
		return p, true
	}
	var v sdkerr.ServiceResponseError
	if errors.As(err, &v) {
		return &v, true
	}
	return nil, false
}

// classify decides what an HTTP error answer means.
func ruleFor(status int, code, resource string) codeRule {
	if status == http.StatusTooManyRequests {
		return codeRule{kind: kindThrottled}
	}
	if code != "" {
		up := strings.ToUpper(code)
		if r, ok := targetCodes[resource][up]; ok {
			return r
		}
		if r, ok := codeTable[up]; ok {
			return r
		}
		for _, p := range codePrefixes {
			if strings.HasPrefix(up, p.prefix) {
				return codeRule{kind: p.kind}
			}
		}
	}
	switch {
	case status == http.StatusUnauthorized || status == http.StatusForbidden:
		return codeRule{kind: kindUnauthorized}
	case status == http.StatusNotFound:
		// ECS and unknown jobs answer 404 (Nova-style bodies carry a
		// numeric code, so code is often empty here).
		return codeRule{kind: kindNotFound}
	case status == http.StatusRequestTimeout || status == http.StatusConflict:
		// 409: ECS refuses while another task runs on the server; it
		// clears by itself.
		return codeRule{kind: kindTransient}
	case status >= 500:
		return codeRule{kind: kindTransient}
	case status >= 300:
		// Other 4xx, and redirects (a misconfigured endpoint).
		return codeRule{kind: kindInvalid}
	}
	return codeRule{kind: kindTransient}
}

func fromHTTP(status int, code, message string, retryAfter time.Duration, tgt target) error {
	msg := sanitize(message)
	r := ruleFor(status, code, tgt.resource)
	switch r.kind {
	case kindNotFound:
		if r.resource != "" && tgt.resource != "" && r.resource != tgt.resource {
			// The code names another resource than the one addressed,
			// e.g. a group action failing on a missing instance. The
			// addressed resource exists, so callers must not read this
			// as "gone": the group is not in a state to act.
			return &PreconditionError{Code: code, Message: msg}
		}
		res := tgt.resource
		if res == "" {
			res = r.resource
		}
		return &NotFoundError{Resource: res, ID: tgt.id, Code: code}
	case kindThrottled:
		if retryAfter <= 0 {
			retryAfter = defaultRetryAfter
		}
		return &ThrottledError{RetryAfter: retryAfter, Code: code, Message: msg}
	case kindPrecondition:
		if r.drillVPC {
			msg = drillVPCMessage(tgt.vpcID, msg)
		}
		return &PreconditionError{Code: code, Message: msg}
	case kindUnauthorized:
		return &UnauthorizedError{Code: code, Message: msg}
	case kindInvalid:
		return &InvalidRequestError{Code: code, Message: msg}
	default:
		return &TransientError{Code: code, Message: msg, StatusCode: status}
	}
}

// Messages of drill VPC refusals.
const (
	msgDrillVPCFmt  = "drill VPC %s"
	msgDrillVPCAuto = "the drill VPC SDRS creates"
)

// drillVPCMessage puts the drill VPC in front of SDRS's message.
func drillVPCMessage(vpcID, msg string) string {
	head := msgDrillVPCAuto
	if vpcID != "" {
		head = fmt.Sprintf(msgDrillVPCFmt, vpcID)
	}
	return sanitize(head + suffix(msg))
}

// fromTransport maps errors raised before an HTTP answer was read, or
// while reading it.
func fromTransport(err error) error {
	var (
		unknownCA  x509.UnknownAuthorityError
		invalidCrt x509.CertificateInvalidError
		hostname   x509.HostnameError
		verify     *tls.CertificateVerificationError
		credErr    *sdkerr.CredentialsTypeError
		connErr    *sdkerr.ConnectionError
		timeoutErr *sdkerr.RequestTimeoutError
		netErr     net.Error
	)
	switch {
	case errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded):
		return &TransientError{Message: msgCanceled, Err: err}
	case errors.Is(err, errResponseTooLarge):
		return &TransientError{Message: msgResponseTooLarge, Err: err}
	case errors.As(err, &unknownCA), errors.As(err, &invalidCrt), errors.As(err, &hostname), errors.As(err, &verify):
		// A certificate problem is configuration, not an outage.
		return &InvalidRequestError{Message: sanitize(msgTLS + ": " + err.Error())}
	case errors.As(err, &credErr):
		return &UnauthorizedError{Message: sanitize(msgCredentials + ": " + credErr.ErrorMessage)}
	case errors.As(err, &connErr), errors.As(err, &timeoutErr):
		return &TransientError{Message: sanitize(err.Error()), Err: err}
	case errors.As(err, &netErr) && netErr.Timeout():
		return &TransientError{Message: msgTimeout, Err: err}
	case strings.HasPrefix(err.Error(), sdkNullFieldPrefix):
		// The SDK refused to build the request: a required field was
		// nil. That is a bug on our side.
		return &InvalidRequestError{Message: sanitize(err.Error())}
	}
	// Refused or reset connections, DNS failures, unexpected EOF, and
	// anything unforeseen: retry with backoff rather than give up.
	return &TransientError{Message: sanitize(err.Error()), Err: err}
}

// jsonContextMarker starts the part of a jsoniter error that quotes the
// body; the quote adds nothing a person can act on.
const jsonContextMarker = ", error found in"

// sdkNullFieldPrefix starts the SDK's error for a nil required request
// field (core/hc_http_client.go getFieldValueByName).
const sdkNullFieldPrefix = "request field "
