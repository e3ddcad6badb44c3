package sdrs

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/huaweicloud/huaweicloud-sdk-go-v3/core/request"
	"github.com/huaweicloud/huaweicloud-sdk-go-v3/core/response"
)

// Limits on what we accept from the cloud.
const (
	// defaultRetryAfter applies to a 429 without a usable Retry-After.
	defaultRetryAfter = time.Second
	// minRetryAfter keeps "Retry-After: 0" or a past date from turning
	// into a hot requeue loop.
	minRetryAfter = time.Second
	// maxRetryAfter keeps a hostile or broken Retry-After from parking a
	// resource for days.
	maxRetryAfter = 15 * time.Minute
	// maxErrorBody is read from an error answer; codes sit at the start.
	maxErrorBody = 64 << 10
	// maxResponseBody bounds every answer. The largest legitimate one is a
	// page of 1000 protected instances, well below this.
	maxResponseBody = 16 << 20
	// maxErrorBodyDepth bounds the walk over nested error objects.
	maxErrorBodyDepth = 8
	// maxIdleConnsPerHost is kept per endpoint (SDRS, ECS), above the
	// manager's reconcile workers.
	maxIdleConnsPerHost = 64
)

const (
	headerRetryAfter = "Retry-After"
	errHTTPFmt       = "HTTP %d %s: %s"
	errNoCAFmt       = "spec.caBundle holds no PEM certificate"
	errRedirectFmt   = "endpoint redirects to %q; set the endpoint to the final URL"
)

var errResponseTooLarge = errors.New("response body exceeds the size limit")

// httpError is what errorHandler returns for an HTTP error answer. It
// replaces sdkerr.ServiceResponseError because that type drops the
// response headers, and with them Retry-After. It never leaves the package:
// translate turns it into a typed error.
type httpError struct {
	status     int
	code       string
	message    string
	retryAfter time.Duration
}

func (e *httpError) Error() string {
	return sanitize(fmt.Sprintf(errHTTPFmt, e.status, e.code, e.message))
}

// errorHandler is installed on every SDK client with WithErrorHandler. The
// SDK calls it with the raw *http.Response of every answer before decoding
// it, so this is where Retry-After is read: no per-request bookkeeping, no
// context plumbing, and it works although the SDK calls are not
// context-aware.
type errorHandler struct {
	now func() time.Time
}

func (h errorHandler) HandleError(_ *request.DefaultHttpRequest, resp *response.DefaultHttpResponse) error {
	if resp == nil || resp.Response == nil {
		return &httpError{message: msgMalformedResponse}
	}
	r := resp.Response
	if r.StatusCode >= 200 && r.StatusCode < 300 {
		return nil
	}
	if r.StatusCode >= 300 && r.StatusCode < 400 {
		// Redirects are not followed (the SDK's default): an endpoint
		// that redirects, typically http to https, is misconfigured.
		if r.Body != nil {
			_ = r.Body.Close()
		}
		return &httpError{status: r.StatusCode, message: fmt.Sprintf(errRedirectFmt, r.Header.Get("Location"))}
	}
	var body []byte
	if r.Body != nil {
		// A read error keeps what was read: a truncated error body still
		// has a status, and usually its code.
		body, _ = io.ReadAll(io.LimitReader(r.Body, maxErrorBody))
		_ = r.Body.Close()
	}
	code, msg := parseErrorBody(body)
	if code == "" && msg == "" {
		msg = string(body)
	}
	he := &httpError{status: r.StatusCode, code: code, message: msg}
	if r.StatusCode == http.StatusTooManyRequests {
		now := time.Now
		if h.now != nil {
			now = h.now
		}
		he.retryAfter = parseRetryAfter(r.Header.Get(headerRetryAfter), now())
	}
	return he
}

// parseErrorBody finds the error code and message in the shapes SDRS, ECS,
// IAM and the API gateway use: {"error_code","error_msg"}, {"code",
// "message"}, possibly nested under "error", "badRequest", "itemNotFound"
// and the like (sdrs-api.md section 8.1). Unlike the SDK's parser it takes
// a code without a message.
func parseErrorBody(body []byte) (code, msg string) {
	var v any
	if len(body) == 0 || json.Unmarshal(body, &v) != nil {
		return "", ""
	}
	return walkErrorBody(v, 0)
}

func walkErrorBody(v any, depth int) (code, msg string) {
	m, ok := v.(map[string]any)
	if !ok || depth > maxErrorBodyDepth {
		return "", ""
	}
	for _, keys := range [][2]string{{"error_code", "error_msg"}, {"code", "message"}} {
		c, _ := m[keys[0]].(string)
		mm, _ := m[keys[1]].(string)
		if c != "" {
			return c, mm
		}
		if msg == "" {
			msg = mm
		}
	}
	// Walk nested objects in a fixed order so the result is deterministic.
	names := make([]string, 0, len(m))
	for k := range m {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, k := range names {
		c, mm := walkErrorBody(m[k], depth+1)
		if c != "" {
			return c, mm
		}
		if msg == "" {
			msg = mm
		}
	}
	return "", msg
}

// parseRetryAfter reads Retry-After as delay-seconds or an HTTP date (RFC
// 9110 section 10.2.3), clamped to [minRetryAfter, maxRetryAfter].
func parseRetryAfter(v string, now time.Time) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return defaultRetryAfter
	}
	var d time.Duration
	if secs, err := strconv.ParseInt(v, 10, 64); err == nil {
		if secs > int64(maxRetryAfter/time.Second) {
			return maxRetryAfter
		}
		d = time.Duration(secs) * time.Second
	} else if t, err := http.ParseTime(v); err == nil {
		d = t.Sub(now)
	} else {
		return defaultRetryAfter
	}
	switch {
	case d < minRetryAfter:
		return minRetryAfter
	case d > maxRetryAfter:
		return maxRetryAfter
	}
	return d
}

// limitedTransport caps every response body, so a huge or endless answer
// fails with errResponseTooLarge instead of exhausting memory.
type limitedTransport struct {
	base http.RoundTripper
	max  int64
}

func (t limitedTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := t.base.RoundTrip(req)
	if err != nil || resp == nil || resp.Body == nil {
		return resp, err
	}
	resp.Body = &limitedBody{rc: resp.Body, left: t.max}
	return resp, nil
}

type limitedBody struct {
	rc   io.ReadCloser
	left int64
}

func (b *limitedBody) Read(p []byte) (int, error) {
	if b.left <= 0 {
		// Probe one byte: a body of exactly the limit is fine.
		var one [1]byte
		n, err := b.rc.Read(one[:])
		if n > 0 {
			return 0, errResponseTooLarge
		}
		return 0, err
	}
	if int64(len(p)) > b.left {
		p = p[:b.left]
	}
	n, err := b.rc.Read(p)
	b.left -= int64(n)
	return n, err
}

func (b *limitedBody) Close() error { return b.rc.Close() }

// newTransport builds the HTTP transport of one ProviderConfig: the
// system roots plus spec.caBundle, or no verification at all when
// spec.insecureSkipTLSVerify is set.
func newTransport(caBundle []byte, insecure bool) (*http.Transport, error) {
	// Start from the standard transport (proxy from the environment,
	// dial and idle timeouts), unless something replaced it with another
	// type, e.g. instrumentation.
	var t *http.Transport
	if dt, ok := http.DefaultTransport.(*http.Transport); ok {
		t = dt.Clone()
	} else {
		t = &http.Transport{Proxy: http.ProxyFromEnvironment, ForceAttemptHTTP2: true, IdleConnTimeout: 90 * time.Second, TLSHandshakeTimeout: 10 * time.Second}
	}
	// Keep enough idle connections for every reconcile worker: the
	// default of 2 per host closed most connections after each call, so
	// a fleet failover opened (in production: TLS-handshook) one
	// connection for every other SDRS call.
	t.MaxIdleConns = max(t.MaxIdleConns, 2*maxIdleConnsPerHost)
	t.MaxIdleConnsPerHost = maxIdleConnsPerHost
	cfg := &tls.Config{MinVersion: tls.VersionTLS12}
	if len(caBundle) > 0 {
		pool, err := x509.SystemCertPool()
		if err != nil || pool == nil {
			pool = x509.NewCertPool()
		}
		if !pool.AppendCertsFromPEM(caBundle) {
			return nil, &InvalidRequestError{Message: errNoCAFmt}
		}
		cfg.RootCAs = pool
	}
	if insecure {
		cfg.InsecureSkipVerify = true //nolint:gosec // asked for by spec.insecureSkipTLSVerify, logged loudly
	}
	t.TLSClientConfig = cfg
	return t, nil
}
