package sdrs

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/huaweicloud/huaweicloud-sdk-go-v3/core/sdkerr"
)

// kinds lists the predicates that hold for err, so a test can check that
// exactly one does.
func kinds(err error) []string {
	var out []string
	if IsNotFound(err) {
		out = append(out, "NotFound")
	}
	if _, ok := IsThrottled(err); ok {
		out = append(out, "Throttled")
	}
	if _, ok := IsPrecondition(err); ok {
		out = append(out, "Precondition")
	}
	if IsUnauthorized(err) {
		out = append(out, "Unauthorized")
	}
	if IsTransient(err) {
		out = append(out, "Transient")
	}
	if IsInvalidRequest(err) {
		out = append(out, "InvalidRequest")
	}
	if IsSecretError(err) {
		out = append(out, "Secret")
	}
	return out
}

func httpErr(status int, code, msg string) *httpError {
	return &httpError{status: status, code: code, message: msg}
}

var (
	groupTarget = target{resource: ResourceProtectionGroup, id: "g1"}
	jobTarget   = target{resource: ResourceJob, id: "j1"}
	srvTarget   = target{resource: ResourceServer, id: "s1"}
)

type timeoutErr struct{}

func (timeoutErr) Error() string   { return "i/o timeout" }
func (timeoutErr) Timeout() bool   { return true }
func (timeoutErr) Temporary() bool { return true }

func TestTranslate(t *testing.T) {
	refused := &url.Error{Op: "Get", URL: "http://127.0.0.1:1/v1/p/jobs/j1", Err: &net.OpError{Op: "dial", Net: "tcp", Err: os.NewSyscallError("connect", syscall.ECONNREFUSED)}}

	cases := map[string]struct {
		reason string
		err    error
		tgt    target
		want   error
		kind   string
		code   string
		is     error // errors.Is(got, is) must hold
	}{
		"GroupNotFound": {
			reason: "SDRS answers 400 SDRS.1013 for a missing group; callers must see NotFound.",
			err:    httpErr(400, "SDRS.1013", "Protection group not found"),
			tgt:    groupTarget,
			want:   &NotFoundError{Resource: ResourceProtectionGroup, ID: "g1", Code: "SDRS.1013"},
			kind:   "NotFound", code: "SDRS.1013",
		},
		"InstanceNotFound0208": {
			reason: "SDRS.0208 (invalid PI ID) means the instance is gone, as Terraform reads it.",
			err:    httpErr(400, "SDRS.0208", "Invalid protected instance ID"),
			tgt:    target{resource: ResourceProtectedInstance, id: "pi"},
			want:   &NotFoundError{Resource: ResourceProtectedInstance, ID: "pi", Code: "SDRS.0208"},
			kind:   "NotFound", code: "SDRS.0208",
		},
		"InstanceNotFound1320": {
			reason: "SDRS.1320 is the explicit PI-not-found code.",
			err:    httpErr(400, "SDRS.1320", "Protected instance not found"),
			tgt:    target{resource: ResourceProtectedInstance, id: "pi"},
			want:   &NotFoundError{Resource: ResourceProtectedInstance, ID: "pi", Code: "SDRS.1320"},
			kind:   "NotFound", code: "SDRS.1320",
		},
		"InstanceMissingDuringGroupAction": {
			reason: "A group action failing on a missing instance must not read as 'group gone'.",
			err:    httpErr(400, "SDRS.1320", "Protected instance not found"),
			tgt:    groupTarget,
			want:   &PreconditionError{Code: "SDRS.1320", Message: "Protected instance not found"},
			kind:   "Precondition", code: "SDRS.1320",
		},
		"ReplicationNotFound": {
			reason: "SDRS.1608 is replication pair not found.",
			err:    httpErr(400, "SDRS.1608", "not found"),
			tgt:    target{resource: ResourceReplication, id: "r"},
			want:   &NotFoundError{Resource: ResourceReplication, ID: "r", Code: "SDRS.1608"},
			kind:   "NotFound", code: "SDRS.1608",
		},
		"DrillNotFound": {
			reason: "SDRS.1902 is DR drill not found.",
			err:    httpErr(400, "SDRS.1902", "not found"),
			tgt:    target{resource: ResourceDrill, id: "d"},
			want:   &NotFoundError{Resource: ResourceDrill, ID: "d", Code: "SDRS.1902"},
			kind:   "NotFound", code: "SDRS.1902",
		},
		"ServerNotFound404": {
			reason: "ECS answers 404 with a Nova body whose code is numeric, so no code is parsed.",
			err:    httpErr(404, "", "Instance could not be found"),
			tgt:    srvTarget,
			want:   &NotFoundError{Resource: ResourceServer, ID: "s1"},
			kind:   "NotFound",
		},
		"ServerNotFoundEcs0114": {
			reason: "Ecs.0114 is compared case-insensitively with the table.",
			err:    httpErr(400, "Ecs.0114", "The ECS does not exist"),
			tgt:    srvTarget,
			want:   &NotFoundError{Resource: ResourceServer, ID: "s1", Code: "Ecs.0114"},
			kind:   "NotFound", code: "Ecs.0114",
		},
		"UnknownJob404": {
			reason: "An unknown job may come back 404 itemNotFound; the caller then reads the group.",
			err:    httpErr(404, "", "itemNotFound"),
			tgt:    jobTarget,
			want:   &NotFoundError{Resource: ResourceJob, ID: "j1"},
			kind:   "NotFound",
		},
		"UnknownSDRSJob0201": {
			reason: "ShowJobStatus has one parameter, so SDRS.0201 there is an unknown job.",
			err:    httpErr(400, "SDRS.0201", "job j1 not found"),
			tgt:    jobTarget,
			want:   &NotFoundError{Resource: ResourceJob, ID: "j1", Code: "SDRS.0201"},
			kind:   "NotFound", code: "SDRS.0201",
		},
		"GatewayAPINotFound": {
			reason: "APIGW.0101 (404) means a wrong endpoint, never that the group is gone.",
			err:    httpErr(404, "APIGW.0101", "The API does not exist or has not been published"),
			tgt:    groupTarget,
			want:   &InvalidRequestError{Code: "APIGW.0101", Message: "The API does not exist or has not been published"},
			kind:   "InvalidRequest", code: "APIGW.0101",
		},
		"Throttled429": {
			reason: "429 carries the Retry-After read by the error handler.",
			err:    &httpError{status: 429, code: "APIGW.0308", message: "The throttling threshold has been reached", retryAfter: 7 * time.Second},
			tgt:    groupTarget,
			want:   &ThrottledError{RetryAfter: 7 * time.Second, Code: "APIGW.0308", Message: "The throttling threshold has been reached"},
			kind:   "Throttled", code: "APIGW.0308",
		},
		"Throttled429NoRetryAfter": {
			reason: "Without Retry-After the caller still gets a non-zero delay.",
			err:    httpErr(429, "", "slow down"),
			want:   &ThrottledError{RetryAfter: time.Second, Message: "slow down"},
			kind:   "Throttled",
		},
		"Throttled429WinsOverCode": {
			reason: "429 is throttling whatever code rides with it.",
			err:    &httpError{status: 429, code: "SDRS.1002", message: "m", retryAfter: 2 * time.Second},
			want:   &ThrottledError{RetryAfter: 2 * time.Second, Code: "SDRS.1002", Message: "m"},
			kind:   "Throttled", code: "SDRS.1002",
		},
		"WrongState1002": {
			reason: "SDRS.1002 is the generic 'not allowed in the current state'.",
			err:    httpErr(400, "SDRS.1002", "Operation not allowed"),
			tgt:    groupTarget,
			want:   &PreconditionError{Code: "SDRS.1002", Message: "Operation not allowed"},
			kind:   "Precondition", code: "SDRS.1002",
		},
		"ProductionServerRunning1319": {
			reason: "SDRS refuses reverse while production servers run.",
			err:    httpErr(400, "SDRS.1319", "server not stopped"),
			tgt:    groupTarget,
			want:   &PreconditionError{Code: "SDRS.1319", Message: "server not stopped"},
			kind:   "Precondition", code: "SDRS.1319",
		},
		"QuotaExceeded0305": {
			reason: "A full quota needs a person, like any precondition.",
			err:    httpErr(400, "SDRS.0305", "Insufficient protection group quota"),
			want:   &PreconditionError{Code: "SDRS.0305", Message: "Insufficient protection group quota"},
			kind:   "Precondition", code: "SDRS.0305",
		},
		"Unauthorized401": {
			reason: "A bad signature is 401 APIGW.0301.",
			err:    httpErr(401, "APIGW.0301", "Incorrect IAM authentication information"),
			want:   &UnauthorizedError{Code: "APIGW.0301", Message: "Incorrect IAM authentication information"},
			kind:   "Unauthorized", code: "APIGW.0301",
		},
		"Forbidden403NoCode": {
			reason: "403 without a code is still a permission problem.",
			err:    httpErr(403, "", "forbidden"),
			want:   &UnauthorizedError{Message: "forbidden"},
			kind:   "Unauthorized",
		},
		"SDRSTokenInvalid0002": {
			reason: "SDRS reports auth failures as 400 SDRS.0001-0005.",
			err:    httpErr(400, "SDRS.0002", "Invalid token"),
			want:   &UnauthorizedError{Code: "SDRS.0002", Message: "Invalid token"},
			kind:   "Unauthorized", code: "SDRS.0002",
		},
		"IAMError": {
			reason: "IAM.* codes are credential problems.",
			err:    httpErr(400, "IAM.0011", "Request parameter error"),
			want:   &UnauthorizedError{Code: "IAM.0011", Message: "Request parameter error"},
			kind:   "Unauthorized", code: "IAM.0011",
		},
		"ServerError500": {
			reason: "5xx is an outage: retry with backoff.",
			err:    httpErr(500, "SDRS.0010", "internal error"),
			want:   &TransientError{Code: "SDRS.0010", Message: "internal error", StatusCode: 500},
			kind:   "Transient", code: "SDRS.0010",
		},
		"ServiceUnavailable503NoCode": {
			reason: "A gateway 503 with an HTML body is transient.",
			err:    httpErr(503, "", "<html>Service Unavailable</html>"),
			want:   &TransientError{Message: "<html>Service Unavailable</html>", StatusCode: 503},
			kind:   "Transient",
		},
		"Conflict409": {
			reason: "ECS refuses while another task runs on the server; that clears by itself.",
			err:    httpErr(409, "", "task in progress"),
			want:   &TransientError{Message: "task in progress", StatusCode: 409},
			kind:   "Transient",
		},
		"BadParameter0201": {
			reason: "Other SDRS.02xx are our bug or bad input.",
			err:    httpErr(400, "SDRS.0201", "Invalid request parameters"),
			want:   &InvalidRequestError{Code: "SDRS.0201", Message: "Invalid request parameters"},
			kind:   "InvalidRequest", code: "SDRS.0201",
		},
		"UnknownCode400": {
			reason: "An unknown 400 code defaults to InvalidRequest.",
			err:    httpErr(400, "SDRS.9999", "new error"),
			want:   &InvalidRequestError{Code: "SDRS.9999", Message: "new error"},
			kind:   "InvalidRequest", code: "SDRS.9999",
		},
		"MethodNotAllowed405": {
			reason: "Other 4xx are request errors.",
			err:    httpErr(405, "", "method not allowed"),
			want:   &InvalidRequestError{Message: "method not allowed"},
			kind:   "InvalidRequest",
		},
		"SDKServiceResponseError400": {
			reason: "A ServiceResponseError built elsewhere in the SDK is classified like ours.",
			err:    &sdkerr.ServiceResponseError{StatusCode: 400, ErrorCode: "SDRS.1013", ErrorMessage: "gone", RequestId: "req-1"},
			tgt:    groupTarget,
			want:   &NotFoundError{Resource: ResourceProtectionGroup, ID: "g1", Code: "SDRS.1013"},
			kind:   "NotFound", code: "SDRS.1013",
		},
		"GarbledSuccessBody": {
			reason: "The SDK reports an undecodable 200 body as a ServiceResponseError with status 200.",
			err:    &sdkerr.ServiceResponseError{StatusCode: 200, ErrorMessage: "readObjectStart: expect { or n"},
			want:   &TransientError{StatusCode: 200, Message: "malformed response: readObjectStart: expect { or n"},
			kind:   "Transient",
		},
		"ContextCanceled": {
			reason: "A canceled call is transient and still matches context.Canceled.",
			err:    context.Canceled,
			want:   &TransientError{Message: msgCanceled},
			kind:   "Transient", is: context.Canceled,
		},
		"ContextDeadline": {
			reason: "A deadline is transient and still matches context.DeadlineExceeded.",
			err:    fmt.Errorf("wrapped: %w", context.DeadlineExceeded),
			want:   &TransientError{Message: msgCanceled},
			kind:   "Transient", is: context.DeadlineExceeded,
		},
		"ConnectionRefused": {
			reason: "A refused connection is an outage.",
			err:    refused,
			want:   &TransientError{Message: sanitize(refused.Error())},
			kind:   "Transient", is: syscall.ECONNREFUSED,
		},
		"Timeout": {
			reason: "An HTTP client timeout is transient.",
			err:    &url.Error{Op: "Get", URL: "http://x", Err: timeoutErr{}},
			want:   &TransientError{Message: msgTimeout},
			kind:   "Transient",
		},
		"TruncatedBody": {
			reason: "A body cut short is transient.",
			err:    io.ErrUnexpectedEOF,
			want:   &TransientError{Message: "unexpected EOF"},
			kind:   "Transient", is: io.ErrUnexpectedEOF,
		},
		"HugeBody": {
			reason: "A body over the limit is transient, not a crash.",
			err:    fmt.Errorf("read: %w", errResponseTooLarge),
			want:   &TransientError{Message: msgResponseTooLarge},
			kind:   "Transient", is: errResponseTooLarge,
		},
		"UnknownCA": {
			reason: "A certificate problem is configuration: fix spec.caBundle.",
			err:    &url.Error{Op: "Get", URL: "https://x", Err: x509.UnknownAuthorityError{}},
			want:   &InvalidRequestError{Message: sanitize(msgTLS + ": " + (&url.Error{Op: "Get", URL: "https://x", Err: x509.UnknownAuthorityError{}}).Error())},
			kind:   "InvalidRequest",
		},
		"CredentialsBuild": {
			reason: "The SDK refusing to build credentials is a credentials problem.",
			err:    sdkerr.NewCredentialsTypeError("build credentials failed"),
			want:   &UnauthorizedError{Message: msgCredentials + ": build credentials failed"},
			kind:   "Unauthorized",
		},
		"SDKNullField": {
			reason: "The SDK refusing a nil required field is our bug.",
			err:    errors.New("request field Body read null value"),
			want:   &InvalidRequestError{Message: "request field Body read null value"},
			kind:   "InvalidRequest",
		},
		"AlreadyTyped": {
			reason: "A typed error passes through untouched.",
			err:    &PreconditionError{Code: "SDRS.1002"},
			want:   &PreconditionError{Code: "SDRS.1002"},
			kind:   "Precondition", code: "SDRS.1002",
		},
		"Redirect": {
			reason: "A redirect (http to https, say) is a misconfigured endpoint, not an outage.",
			err:    httpErr(301, "", "endpoint redirects"),
			want:   &InvalidRequestError{Message: "endpoint redirects"},
			kind:   "InvalidRequest",
		},
		"Informational1xx": {
			reason: "A stray 1xx final answer is transient.",
			err:    httpErr(103, "", "early hints"),
			want:   &TransientError{Message: "early hints", StatusCode: 103},
			kind:   "Transient",
		},
		"Unforeseen": {
			reason: "Anything unforeseen is retried with backoff rather than given up on.",
			err:    errors.New("something odd"),
			want:   &TransientError{Message: "something odd"},
			kind:   "Transient",
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			got := translate(tc.err, tc.tgt)
			if diff := cmp.Diff(tc.want, got, cmpopts.IgnoreFields(TransientError{}, "Err")); diff != "" {
				t.Errorf("\nReason: %s\ntranslate(...): -want, +got:\n%s", tc.reason, diff)
			}
			if diff := cmp.Diff([]string{tc.kind}, kinds(got)); diff != "" {
				t.Errorf("\nReason: %s\npredicates: -want, +got:\n%s", tc.reason, diff)
			}
			if c := ErrorCode(got); c != tc.code {
				t.Errorf("\nReason: %s\nErrorCode() = %q, want %q", tc.reason, c, tc.code)
			}
			if tc.is != nil && !errors.Is(got, tc.is) {
				t.Errorf("\nReason: %s\nerrors.Is(%v, %v) = false", tc.reason, got, tc.is)
			}
		})
	}
}

func TestPredicatesThroughWrapping(t *testing.T) {
	err := fmt.Errorf("phase: %w", &ThrottledError{RetryAfter: 3 * time.Second, Code: "APIGW.0308"})
	if d, ok := IsThrottled(err); !ok || d != 3*time.Second {
		t.Errorf("IsThrottled(wrapped) = %v, %v; want 3s, true", d, ok)
	}
	if c, ok := IsPrecondition(fmt.Errorf("x: %w", &PreconditionError{Code: "SDRS.1830"})); !ok || c != "SDRS.1830" {
		t.Errorf("IsPrecondition(wrapped) = %q, %v", c, ok)
	}
	if ErrorCode(errors.New("plain")) != "" || ErrorCode(nil) != "" {
		t.Error("ErrorCode of a foreign error must be empty")
	}
	if translate(nil, target{}) != nil {
		t.Error("translate(nil) must be nil")
	}
}

func TestErrorMessagesAreSanitized(t *testing.T) {
	const ak = "HPUAQWERTYUIOPASDFGH"
	leaky := "Authorization: SDK-HMAC-SHA256 Access=" + ak + ", SignedHeaders=host, Signature=0badc0ffee request_id: 7e1f"
	errs := []error{
		&NotFoundError{Resource: ResourceServer, ID: ak},
		&ThrottledError{RetryAfter: time.Second, Message: leaky},
		&PreconditionError{Message: leaky},
		&UnauthorizedError{Message: leaky},
		&TransientError{Err: errors.New(leaky)},
		&InvalidRequestError{Message: leaky},
	}
	for _, e := range errs {
		msg := e.Error()
		for _, bad := range []string{ak, "0badc0ffee", "7e1f"} {
			if strings.Contains(msg, bad) {
				t.Errorf("%T.Error() = %q leaks %q", e, msg, bad)
			}
		}
	}
}

func TestSecretErrorMessages(t *testing.T) {
	cases := map[string]struct {
		err  *SecretError
		want string
	}{
		"NotFound": {&SecretError{Namespace: "ns", Name: "creds", NotFound: true}, "cannot get credentials Secret ns/creds: not found"},
		"Key":      {&SecretError{Namespace: "ns", Name: "creds", Key: "accessKey"}, `credentials Secret ns/creds has no non-empty key "accessKey"`},
		"Generic":  {&SecretError{Namespace: "ns", Name: "creds"}, "cannot read credentials Secret ns/creds"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			if diff := cmp.Diff(tc.want, tc.err.Error()); diff != "" {
				t.Errorf("-want, +got:\n%s", diff)
			}
		})
	}
}

func TestParseRetryAfter(t *testing.T) {
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	cases := map[string]struct {
		reason string
		in     string
		want   time.Duration
	}{
		"Absent":    {"No header means the 1s default.", "", time.Second},
		"Seconds":   {"Delay-seconds form.", "12", 12 * time.Second},
		"Spaces":    {"Surrounding blanks are ignored.", " 3 ", 3 * time.Second},
		"Zero":      {"Zero would make the caller spin; floor at 1s.", "0", time.Second},
		"Negative":  {"A negative delay is floored.", "-5", time.Second},
		"Huge":      {"A hostile delay is capped.", "99999999999", maxRetryAfter},
		"HTTPDate":  {"HTTP-date form, relative to now.", now.Add(90 * time.Second).Format(http.TimeFormat), 90 * time.Second},
		"PastDate":  {"A past date is floored.", now.Add(-time.Hour).Format(http.TimeFormat), time.Second},
		"FarDate":   {"A far date is capped.", now.Add(48 * time.Hour).Format(http.TimeFormat), maxRetryAfter},
		"Garbage":   {"Unreadable values fall back to the default.", "soon", time.Second},
		"RFC850":    {"Obsolete date forms http.ParseTime accepts still work.", now.Add(30 * time.Second).Format(time.RFC850), 30 * time.Second},
		"Fractions": {"Fractional seconds are not delay-seconds.", "1.5", time.Second},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			if got := parseRetryAfter(tc.in, now); got != tc.want {
				t.Errorf("\nReason: %s\nparseRetryAfter(%q) = %v, want %v", tc.reason, tc.in, got, tc.want)
			}
		})
	}
}

func TestParseErrorBody(t *testing.T) {
	cases := map[string]struct {
		body, code, msg string
	}{
		"SDRSWrapper":   {`{"error":{"code":"SDRS.1013","message":"not found"}}`, "SDRS.1013", "not found"},
		"Gateway":       {`{"error_code":"APIGW.0308","error_msg":"throttled","request_id":"abc"}`, "APIGW.0308", "throttled"},
		"BadRequest":    {`{"badRequest":{"code":"SDRS.0201","message":"bad"}}`, "SDRS.0201", "bad"},
		"CodeNoMessage": {`{"error":{"code":"SDRS.1002","message":""}}`, "SDRS.1002", ""},
		"NovaNumeric":   {`{"itemNotFound":{"code":404,"message":"Instance could not be found"}}`, "", "Instance could not be found"},
		"NotJSON":       {`<html>502</html>`, "", ""},
		"Empty":         {``, "", ""},
		"Array":         {`[1,2]`, "", ""},
		"Deep":          {strings.Repeat(`{"a":`, 20) + `{"code":"X","message":"y"}` + strings.Repeat(`}`, 20), "", ""},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			code, msg := parseErrorBody([]byte(tc.body))
			if code != tc.code || msg != tc.msg {
				t.Errorf("parseErrorBody(%q) = %q, %q; want %q, %q", tc.body, code, msg, tc.code, tc.msg)
			}
		})
	}
}

// TestEveryTableCode checks that every code in the table reaches the kind
// the table gives it, whatever 4xx/5xx status carries it (429 aside).
func TestEveryTableCode(t *testing.T) {
	names := map[kind]string{
		kindNotFound: "NotFound", kindThrottled: "Throttled", kindPrecondition: "Precondition",
		kindUnauthorized: "Unauthorized", kindTransient: "Transient", kindInvalid: "InvalidRequest",
	}
	for code, rule := range codeTable {
		for _, status := range []int{400, 404, 500} {
			t.Run(fmt.Sprintf("%s/%d", code, status), func(t *testing.T) {
				got := translate(httpErr(status, code, "m"), target{resource: rule.resource, id: "x"})
				if diff := cmp.Diff([]string{names[rule.kind]}, kinds(got)); diff != "" {
					t.Errorf("translate(%d %s) = %v: -want, +got:\n%s", status, code, got, diff)
				}
				if ErrorCode(got) != code {
					t.Errorf("ErrorCode = %q, want %q", ErrorCode(got), code)
				}
			})
		}
	}
	for _, p := range codePrefixes {
		code := p.prefix + "05" // APIGW.0305, IAM.05: not in codeTable
		if got := translate(httpErr(400, code, "m"), target{}); len(kinds(got)) != 1 || kinds(got)[0] != names[p.kind] {
			t.Errorf("prefix %s: %s -> %v", p.prefix, code, kinds(got))
		}
	}
}
