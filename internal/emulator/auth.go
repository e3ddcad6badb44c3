package emulator

import (
	"crypto/subtle"
	"net/http"
	"reflect"
	"strings"
	"time"

	"github.com/huaweicloud/huaweicloud-sdk-go-v3/core/auth/signer"
	"github.com/huaweicloud/huaweicloud-sdk-go-v3/core/request"
)

const (
	authAlgorithm   = "SDK-HMAC-SHA256"
	headerProjectID = "X-Project-Id"
	// maxClockSkew is how far X-Sdk-Date may be from the emulator clock.
	maxClockSkew = 15 * time.Minute
)

// authorization is the parsed Authorization header:
// "SDK-HMAC-SHA256 Access=AK, SignedHeaders=a;b, Signature=hex".
type authorization struct {
	access        string
	signedHeaders []string
	signature     string
}

func parseAuthorization(v string) (authorization, bool) {
	alg, rest, ok := strings.Cut(v, " ")
	if !ok || alg != authAlgorithm {
		return authorization{}, false
	}
	var a authorization
	for _, part := range strings.Split(rest, ",") {
		k, val, ok := strings.Cut(strings.TrimSpace(part), "=")
		if !ok {
			return authorization{}, false
		}
		switch k {
		case "Access":
			a.access = val
		case "SignedHeaders":
			a.signedHeaders = strings.Split(val, ";")
		case "Signature":
			a.signature = val
		}
	}
	if a.access == "" || len(a.signedHeaders) == 0 || a.signature == "" {
		return authorization{}, false
	}
	return a, true
}

func unauthorized(format string, args ...any) *apiError {
	return errorf(http.StatusUnauthorized, codeAuth, format, args...)
}

// authenticate checks the request's AK/SK signature by signing the same
// request again with the SDK's own signer and comparing the results, so the
// emulator accepts exactly what the official SDK produces.
func (e *Emulator) authenticate(r *http.Request, body []byte, pathProject string) *apiError {
	if r.Header.Get("X-Auth-Token") != "" && r.Header.Get("Authorization") == "" {
		return unauthorized("Incorrect IAM authentication information: token authentication is not supported by the emulator, sign requests with AK/SK")
	}
	a, ok := parseAuthorization(r.Header.Get("Authorization"))
	if !ok {
		return unauthorized("Incorrect IAM authentication information: missing or malformed %s Authorization header", authAlgorithm)
	}
	if a.access != e.cfg.AccessKey {
		return unauthorized("Incorrect IAM authentication information: unknown access key")
	}
	dateHeader := r.Header.Get(signer.HeaderXDate)
	date, err := time.Parse(signer.BasicDateFormat, dateHeader)
	if err != nil {
		return unauthorized("Incorrect IAM authentication information: missing or malformed X-Sdk-Date")
	}
	if skew := e.clock.Now().Sub(date); skew > maxClockSkew || skew < -maxClockSkew {
		return unauthorized("Incorrect IAM authentication information: X-Sdk-Date %s is more than 15 minutes from the server time", dateHeader)
	}
	if p := r.Header.Get(headerProjectID); p != "" && p != e.cfg.ProjectID {
		return unauthorized("Incorrect IAM authentication information: X-Project-Id does not match the credential's project")
	}
	if pathProject != "" && pathProject != e.cfg.ProjectID {
		return unauthorized("Incorrect IAM authentication information: the project in the path does not match the credential's project")
	}
	want, err := e.expectedAuthorization(r, body, a.signedHeaders)
	if err != nil {
		return unauthorized("Incorrect IAM authentication information: %v", err)
	}
	if subtle.ConstantTimeCompare([]byte(want), []byte(r.Header.Get("Authorization"))) != 1 {
		return unauthorized("Incorrect IAM authentication information: verify aksk signature fail")
	}
	return nil
}

// expectedAuthorization rebuilds the SDK's view of the request (endpoint,
// method, decoded path, query, the headers the client signed, raw body) and
// signs it with the configured key.
func (e *Emulator) expectedAuthorization(r *http.Request, body []byte, signed []string) (string, error) {
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	b := request.NewHttpRequestBuilder().
		WithEndpoint(scheme+"://"+r.Host).
		WithMethod(r.Method).
		WithPath(r.URL.Path).
		WithBody("", string(body))
	for key, values := range r.URL.Query() {
		// The signer only reads query values held as reflect.Value.
		if len(values) == 1 {
			b.AddQueryParam(key, reflect.ValueOf(values[0]))
		} else {
			b.AddQueryParam(key, reflect.ValueOf(values))
		}
	}
	for _, h := range signed {
		// Canonical keys, because the signer looks up X-Sdk-Date and
		// X-Sdk-Content-Sha256 by exactly those spellings.
		if h == "host" {
			b.AddHeaderParam(h, r.Host)
			continue
		}
		b.AddHeaderParam(http.CanonicalHeaderKey(h), r.Header.Get(h))
	}
	// Content-Type is never signed but decides whether the body hash is
	// replaced by UNSIGNED-PAYLOAD.
	if ct := r.Header.Get("Content-Type"); ct != "" {
		b.AddHeaderParam("Content-Type", ct)
	}
	headers, err := signer.Sign(b.Build(), e.cfg.AccessKey, e.cfg.SecretKey)
	if err != nil {
		return "", err
	}
	return headers[signer.HeaderAuthorization], nil
}
