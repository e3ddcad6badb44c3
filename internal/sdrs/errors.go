package sdrs

import (
	"errors"
	"fmt"
	"time"
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

func (e *PreconditionError) Error() string { return codeMessage(errPreconditionFmt, e.Code, e.Message) }

// UnauthorizedError says the credentials were refused or lack a permission
// (HTTP 401/403, APIGW.03xx, SDRS.0001-0005, IAM errors).
type UnauthorizedError struct {
	Code    string
	Message string
}

func (e *UnauthorizedError) Error() string { return codeMessage(errUnauthorizedFmt, e.Code, e.Message) }

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
	return codeMessage(errInvalidRequestFmt, e.Code, e.Message)
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
func IsNotFound(err error) bool { return is[*NotFoundError](err) }

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
func IsUnauthorized(err error) bool { return is[*UnauthorizedError](err) }

// IsTransient reports whether a later retry may succeed.
func IsTransient(err error) bool { return is[*TransientError](err) }

// IsInvalidRequest reports whether the request itself was wrong.
func IsInvalidRequest(err error) bool { return is[*InvalidRequestError](err) }

// IsSecretError reports whether the credentials Secret is missing or
// incomplete.
func IsSecretError(err error) bool { return is[*SecretError](err) }

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

// is reports whether err's chain holds an error of type E.
func is[E error](err error) bool {
	var e E
	return errors.As(err, &e)
}

// codeMessage is the Error text of the errors that carry only a cloud
// code and message: format takes the " (code)" and ": message" parts.
func codeMessage(format, code, message string) string {
	return sanitize(fmt.Sprintf(format, paren(code), suffix(message)))
}

func paren(code string) string {
	if code == "" {
		return ""
	}
	return " (" + code + ")"
}

func suffix(msg string) string {
	if msg == "" {
		return ""
	}
	return ": " + msg
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
