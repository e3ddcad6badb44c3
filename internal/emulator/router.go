package emulator

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
)

// call is one API request being served: its route parameters, body and
// the answer the handler chose. Handlers run under e.mu.
type call struct {
	r      *http.Request
	route  *route
	params map[string]string
	query  url.Values
	body   []byte

	// operation is the SDK operation name, for the call log.
	operation string
	// groupID is the protection group the call concerns, for the call log.
	groupID string

	status int
	reply  any
	// applied: the handler carried the call out (see Call.Applied).
	applied bool
	// retryAfter is the Retry-After value of an injected 429, in seconds.
	retryAfter int
}

// ok answers with a JSON body.
func (c *call) ok(status int, v any) error {
	c.status = status
	c.reply = v
	return nil
}

// noContent answers 204 without a body.
func (c *call) noContent() error {
	c.status = http.StatusNoContent
	c.reply = nil
	return nil
}

// handlerFunc serves a call; a returned *apiError becomes the error answer.
type handlerFunc func(e *Emulator, c *call) error

// route is one API operation: method plus path pattern. Segments written
// {name} match any one segment. classify, when set, names the operation
// from the body, because several SDK operations share one URL.
type route struct {
	method    string
	segments  []string
	operation string
	classify  func(body []byte) string
	handle    handlerFunc
	// public routes need no signature (API version discovery).
	public bool
}

func newRoute(method, pattern, operation string, h handlerFunc) route {
	return route{method: method, segments: splitPath(pattern), operation: operation, handle: h}
}

func splitPath(p string) []string {
	p = strings.Trim(p, "/")
	if p == "" {
		return nil
	}
	return strings.Split(p, "/")
}

// match returns the route for the request and its parameters. A path that
// exists with another method is not a match: the API gateway answers both
// the same way.
func match(routes []route, method, path string) (*route, map[string]string) {
	segs := splitPath(path)
	var best *route
	var bestParams map[string]string
	bestLiterals := -1
	for i := range routes {
		rt := &routes[i]
		if rt.method != method || len(rt.segments) != len(segs) {
			continue
		}
		params := map[string]string{}
		literals := 0
		ok := true
		for k, s := range rt.segments {
			if strings.HasPrefix(s, "{") {
				params[strings.Trim(s, "{}")] = segs[k]
				continue
			}
			if s != segs[k] {
				ok = false
				break
			}
			literals++
		}
		// The most literal pattern wins: /protected-instances/tags beats
		// /protected-instances/{id}.
		if ok && literals > bestLiterals {
			best, bestParams, bestLiterals = rt, params, literals
		}
	}
	return best, bestParams
}

// classifyByKey names the operation after the first of keys (in order)
// that is a top-level key of the body; for the server-group action URL,
// where the body key selects one of four SDK operations.
func classifyByKey(fallback string, keys []string, operations []string) func([]byte) string {
	return func(body []byte) string {
		var m map[string]json.RawMessage
		if json.Unmarshal(body, &m) != nil {
			return fallback
		}
		for i, key := range keys {
			if _, ok := m[key]; ok {
				return operations[i]
			}
		}
		return fallback
	}
}

// classifyByField names the operation after the string value of a
// top-level field; for the tag action URL ("action":"create"|"delete").
func classifyByField(field, fallback string, operations map[string]string) func([]byte) string {
	return func(body []byte) string {
		var m map[string]json.RawMessage
		if json.Unmarshal(body, &m) != nil {
			return fallback
		}
		var v string
		if json.Unmarshal(m[field], &v) != nil {
			return fallback
		}
		if op, ok := operations[v]; ok {
			return op
		}
		return fallback
	}
}
