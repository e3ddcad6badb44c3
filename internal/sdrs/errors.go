package sdrs

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

// The typed errors below are the only errors Client methods return. Callers
// branch on them with the Is* predicates; the messages are sanitized
// (sanitize.go) so that they can go into conditions and events as they are.

// Error strings.
const (
	errNotFoundFmt       = "%s %q not found%s"
	errNotFoundNoIDFmt   = "%s not found%s"
	errThrottledFmt      = "throttled by the cloud API%s, retry after %s%s"
	errPreconditionFmt   = "SDRS refused the action in the current state%s%s"
	errUnauthorizedFmt   = "credentials rejected%s%s"
	errTransientFmt      = "cloud API unavailable%s%s"
	errInvalidRequestFmt = "invalid request%s%s"
	errSecretNotFoundFmt = "cannot get credentials Secret %s/%s: not found"
	errSecretKeyFmt      = "credentials Secret %s/%s has no non-empty key %q"
	errSecretGenericFmt  = "cannot read credentials Secret %s/%s"
	errSecretForbidFmt   = "cannot read credentials Secret %s/%s: the operator may not read Secrets in namespace %s; keep credentials in the namespace its RBAC grants (sdrs-system by default) or grant get on secrets there"
	resourceUnknown      = "resource"
	messageSeparator     = ": "
	codeOpen, codeClose  = " (", ")"
	statusAndCodeFmt     = " (HTTP %d%s)"
	statusCodeJoin       = ", "
)

// NotFoundError says the addressed resource does not exist. SDRS answers
// HTTP 400 with a resource-specific code for most not-found cases
// (sdrs-api.md section 8.1); ECS answers 404 or Ecs.0114.
type NotFoundError struct {
	Resource string // "protection group", "protected instance", "job", "server", ...
	ID       string
	Code     string
}

func (e *NotFoundError) Error() string {
	res := e.Resource
	if res == "" {
		res = resourceUnknown
	}
	if e.ID == "" {
		return sanitize(fmt.Sprintf(errNotFoundNoIDFmt, res, paren(e.Code)))
	}
	return sanitize(fmt.Sprintf(errNotFoundFmt, res, e.ID, paren(e.Code)))
}

// ThrottledError says the cloud API (or this ProviderConfig's own rate
// limit) asked us to slow down. RetryAfter is never zero.
type ThrottledError struct {
	RetryAfter time.Duration
	Code       string
	Message    string
}

func (e *ThrottledError) Error() string {
	return sanitize(fmt.Sprintf(errThrottledFmt, paren(e.Code), e.RetryAfter, suffix(e.Message)))
}

// PreconditionError says SDRS refused the action because of the group's or
// its servers' current state (for example SDRS.1002, SDRS.1319). Repeating
// the call without changing that state fails the same way.
type PreconditionError struct {
	Code    string
	Message string
}

func (e *PreconditionError) Error() string {
	return sanitize(fmt.Sprintf(errPreconditionFmt, paren(e.Code), suffix(e.Message)))
}

// UnauthorizedError says the credentials were refused or lack a permission
// (HTTP 401/403, APIGW.03xx, SDRS.0001-0005, IAM errors).
type UnauthorizedError struct {
	Code    string
	Message string
}

func (e *UnauthorizedError) Error() string {
	return sanitize(fmt.Sprintf(errUnauthorizedFmt, paren(e.Code), suffix(e.Message)))
}

// TransientError says the call failed for a reason that a later retry may
// not meet: 5xx, timeouts, refused connections, truncated or garbled
// answers. Err is the underlying transport or context error, if any, so
// errors.Is(err, context.Canceled) still works.
type TransientError struct {
	Code       string
	Message    string
	StatusCode int // 0 when no HTTP answer was read
	Err        error
}

func (e *TransientError) Error() string {
	detail := paren(e.Code)
	if e.StatusCode != 0 {
		c := ""
		if e.Code != "" {
			c = statusCodeJoin + e.Code
		}
		detail = fmt.Sprintf(statusAndCodeFmt, e.StatusCode, c)
	}
	msg := e.Message
	if msg == "" && e.Err != nil {
		msg = e.Err.Error()
	}
	return sanitize(fmt.Sprintf(errTransientFmt, detail, suffix(msg)))
}

func (e *TransientError) Unwrap() error { return e.Err }

// InvalidRequestError says the request itself was wrong: an SDRS parameter
// error (SDRS.02xx), an unknown region, a bad CA bundle, an empty ID. It
// is our bug or bad input, so a fast retry does not help.
type InvalidRequestError struct {
	Code    string
	Message string
}

func (e *InvalidRequestError) Error() string {
	return sanitize(fmt.Sprintf(errInvalidRequestFmt, paren(e.Code), suffix(e.Message)))
}

// SecretError says the credentials Secret a ProviderConfig names is missing,
// unreadable or lacks a key. It names the Secret and the key, never a value.
type SecretError struct {
	Namespace string
	Name      string
	Key       string // the missing key; empty when the Secret itself is the problem
	NotFound  bool   // the Secret does not exist
	Forbidden bool   // RBAC does not let the operator read it
}

func (e *SecretError) Error() string {
	switch {
	case e.NotFound:
		return fmt.Sprintf(errSecretNotFoundFmt, e.Namespace, e.Name)
	case e.Forbidden:
		return fmt.Sprintf(errSecretForbidFmt, e.Namespace, e.Name, e.Namespace)
	case e.Key != "":
		return fmt.Sprintf(errSecretKeyFmt, e.Namespace, e.Name, e.Key)
	default:
		return fmt.Sprintf(errSecretGenericFmt, e.Namespace, e.Name)
	}
}

// IsNotFound reports whether err says the addressed resource does not exist.
func IsNotFound(err error) bool {
	var e *NotFoundError
	return errors.As(err, &e)
}

// IsThrottled reports whether err asks the caller to slow down, and for how
// long.
func IsThrottled(err error) (time.Duration, bool) {
	var e *ThrottledError
	if errors.As(err, &e) {
		return e.RetryAfter, true
	}
	return 0, false
}

// IsPrecondition reports whether SDRS refused the action in the current
// state, with the SDRS code.
func IsPrecondition(err error) (code string, ok bool) {
	var e *PreconditionError
	if errors.As(err, &e) {
		return e.Code, true
	}
	return "", false
}

// IsUnauthorized reports whether the credentials were refused.
func IsUnauthorized(err error) bool {
	var e *UnauthorizedError
	return errors.As(err, &e)
}

// IsTransient reports whether a later retry may succeed.
func IsTransient(err error) bool {
	var e *TransientError
	return errors.As(err, &e)
}

// IsInvalidRequest reports whether the request itself was wrong.
func IsInvalidRequest(err error) bool {
	var e *InvalidRequestError
	return errors.As(err, &e)
}

// IsSecretError reports whether the credentials Secret is missing or
// incomplete.
func IsSecretError(err error) bool {
	var e *SecretError
	return errors.As(err, &e)
}

// ErrorCode returns the cloud error code (for example "SDRS.1002") carried
// by any typed error of this package, or "".
func ErrorCode(err error) string {
	var (
		nf *NotFoundError
		th *ThrottledError
		pr *PreconditionError
		un *UnauthorizedError
		tr *TransientError
		iv *InvalidRequestError
	)
	switch {
	case errors.As(err, &nf):
		return nf.Code
	case errors.As(err, &th):
		return th.Code
	case errors.As(err, &pr):
		return pr.Code
	case errors.As(err, &un):
		return un.Code
	case errors.As(err, &tr):
		return tr.Code
	case errors.As(err, &iv):
		return iv.Code
	}
	return ""
}

func paren(code string) string {
	if code == "" {
		return ""
	}
	return codeOpen + code + codeClose
}

func suffix(msg string) string {
	if msg == "" {
		return ""
	}
	return messageSeparator + msg
}

// Resources named in NotFoundError.
const (
	ResourceProtectionGroup   = "protection group"
	ResourceProtectedInstance = "protected instance"
	ResourceReplication       = "replication pair"
	ResourceDrill             = "DR drill"
	ResourceJob               = "job"
	ResourceServer            = "server"
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

	// DR drills.
	"SDRS.1902": {kind: kindNotFound, resource: ResourceDrill}, // drill not found
	"SDRS.1913": {kind: kindPrecondition},                      // drill state forbids delete

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
		return &TransientError{StatusCode: sre.StatusCode, Message: sanitize(msgMalformedResponse + messageSeparator + detail)}
	}
	return fromTransport(err)
}

func isTyped(err error) bool {
	switch err.(type) {
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
func classify(status int, code, resource string) codeRule {
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
	r := classify(status, code, tgt.resource)
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
		return &PreconditionError{Code: code, Message: msg}
	case kindUnauthorized:
		return &UnauthorizedError{Code: code, Message: msg}
	case kindInvalid:
		return &InvalidRequestError{Code: code, Message: msg}
	default:
		return &TransientError{Code: code, Message: msg, StatusCode: status}
	}
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
		return &InvalidRequestError{Message: sanitize(msgTLS + messageSeparator + err.Error())}
	case errors.As(err, &credErr):
		return &UnauthorizedError{Message: sanitize(msgCredentials + messageSeparator + credErr.ErrorMessage)}
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
