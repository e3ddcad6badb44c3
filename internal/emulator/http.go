package emulator

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"time"
)

const (
	// maxBodyBytes bounds request bodies; SDRS bodies are small.
	maxBodyBytes = 1 << 20
	// defaultMaxCalls bounds the call log unless Config.MaxCalls says
	// otherwise; the oldest entries are dropped.
	defaultMaxCalls = 10000
	// contentTypeJSON is what SDRS answers with.
	contentTypeJSON = "application/json;charset=UTF-8"
)

// Call is one entry of the request log served by GET /admin/calls.
type Call struct {
	Time       time.Time `json:"time"`
	Method     string    `json:"method"`
	Path       string    `json:"path"`
	Operation  string    `json:"operation"`
	GroupID    string    `json:"group_id"`
	StatusCode int       `json:"status_code"`
	ErrorCode  string    `json:"error_code"`
	// Applied is true when the emulator carried the call out in full:
	// every 2xx answer, and a group action the accept-then-5xx fault
	// answered with a 5xx after carrying it out. Count applied calls to
	// count the actions SDRS really took.
	Applied bool `json:"applied"`
}

// api is one of the two emulated services.
type api struct {
	name   string
	routes []route
	ecs    bool
}

// serveAPI is the common pipeline of both services: request ID, body,
// route, injected faults, signature, handler under the lock, call log,
// state save, answer.
func (e *Emulator) serveAPI(a *api, w http.ResponseWriter, r *http.Request) {
	start := e.clock.Now()
	w.Header().Set("X-Request-Id", newJobID())

	c := &call{r: r, query: r.URL.Query()}
	aerr := e.prepare(a, c)
	if aerr == nil && !c.route.public {
		aerr = e.authenticate(r, c.body, c.params["project_id"])
	}

	e.mu.Lock()
	switch {
	case aerr != nil:
	case e.closed:
		aerr = errorf(http.StatusServiceUnavailable, codeInternal, "the emulator is shutting down")
	default:
		aerr = e.invoke(c)
		if aerr == nil && c.status >= 200 && c.status < 300 {
			c.applied = true
			if !a.ecs {
				aerr = e.acceptThenError(c)
			}
		}
	}
	if aerr != nil {
		c.status = aerr.Status
		c.reply = errorBody{Error: errorDetail{Code: aerr.Code, Message: aerr.Message}}
	}
	e.recordCall(Call{
		Time:       start,
		Method:     r.Method,
		Path:       r.URL.Path,
		Operation:  c.operation,
		GroupID:    c.groupID,
		StatusCode: c.status,
		ErrorCode:  errorCodeOf(aerr),
		Applied:    c.applied,
	})
	_ = e.saveLocked() // logged inside; the answer does not depend on it
	e.mu.Unlock()

	if aerr != nil && aerr.Status == http.StatusTooManyRequests {
		w.Header().Set("Retry-After", strconv.Itoa(c.retryAfter))
	}
	e.log.Debug("api call", "api", a.name, "method", r.Method, "path", r.URL.Path,
		"operation", c.operation, "status", c.status, "error_code", errorCodeOf(aerr))
	writeJSON(w, c.status, c.reply)
}

// acceptThenError answers a group action that was just carried out with
// an injected 5xx, if an accept-then-error fault matches it. Caller holds
// e.mu.
func (e *Emulator) acceptThenError(c *call) *apiError {
	f := e.takeAcceptError(c.operation, c.groupID)
	if f == nil {
		return nil
	}
	e.log.Info("accepted action answered with an injected error", "operation", c.operation, "group_id", c.groupID, "status", f.Status)
	return errorf(f.Status, codeInternal, "injected server error")
}

// prepare reads the body, finds the route and applies injected HTTP
// faults. It returns the answer when the call goes no further.
func (e *Emulator) prepare(a *api, c *call) *apiError {
	body, err := io.ReadAll(io.LimitReader(c.r.Body, maxBodyBytes+1))
	if err != nil {
		return invalidParam("cannot read the request body: %v", err)
	}
	if len(body) > maxBodyBytes {
		return invalidParam("the request body exceeds %d bytes", maxBodyBytes)
	}
	c.body = body
	rt, params := match(a.routes, c.r.Method, c.r.URL.Path)
	if rt == nil {
		c.route = &route{public: true}
		return errorf(http.StatusNotFound, codeNoSuchAPI, "The API does not exist or has not been published in the environment: %s %s", c.r.Method, c.r.URL.Path)
	}
	c.route, c.params = rt, params
	c.operation = rt.operation
	if rt.classify != nil {
		c.operation = rt.classify(body)
	}
	c.groupID = params["server_group_id"]
	if c.groupID == "" {
		// List calls filtered by group (protected instances, failure
		// jobs) are logged against it too.
		c.groupID = c.r.URL.Query().Get("server_group_id")
	}

	e.mu.Lock()
	d := e.decideFault(a.ecs)
	e.mu.Unlock()
	if d.latency > 0 {
		t := time.NewTimer(d.latency)
		select {
		case <-t.C:
		case <-c.r.Context().Done():
			t.Stop()
		}
	}
	if d.reply != nil {
		c.retryAfter = d.retryAfter
		return d.reply
	}
	return nil
}

// invoke runs the handler. A panic is a bug; it becomes a 500 rather than
// a dropped connection. Caller holds e.mu.
func (e *Emulator) invoke(c *call) (aerr *apiError) {
	defer func() {
		if p := recover(); p != nil {
			e.log.Error("handler panic", "operation", c.operation, "panic", fmt.Sprint(p))
			aerr = errorf(http.StatusInternalServerError, codeInternal, "internal error")
		}
	}()
	err := c.route.handle(e, c)
	if err == nil {
		return nil
	}
	var ae *apiError
	if errors.As(err, &ae) {
		return ae
	}
	e.log.Error("handler error", "operation", c.operation, "error", err)
	return errorf(http.StatusInternalServerError, codeInternal, "internal error")
}

// recordCall appends to the bounded call log. The slice is trimmed in
// chunks, so a full log costs one copy per tenth of its size instead of
// one per call; recentCalls hides the surplus. Caller holds e.mu.
func (e *Emulator) recordCall(c Call) {
	e.st.Calls = append(e.st.Calls, c)
	if max, n := e.cfg.MaxCalls, len(e.st.Calls); n > max+max/10 {
		e.st.Calls = append([]Call(nil), e.st.Calls[n-max:]...)
	}
}

// recentCalls is the call log: at most the last Config.MaxCalls calls.
// Caller holds e.mu.
func (e *Emulator) recentCalls() []Call {
	if max, n := e.cfg.MaxCalls, len(e.st.Calls); n > max {
		return e.st.Calls[n-max:]
	}
	return e.st.Calls
}

func errorCodeOf(e *apiError) string {
	if e == nil {
		return ""
	}
	return e.Code
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	if status == http.StatusNoContent || v == nil {
		w.WriteHeader(status)
		return
	}
	data, err := json.Marshal(v)
	if err != nil {
		status = http.StatusInternalServerError
		data = []byte(`{"error":{"code":"` + codeInternal + `","message":"cannot encode the answer"}}`)
	}
	w.Header().Set("Content-Type", contentTypeJSON)
	w.WriteHeader(status)
	_, _ = w.Write(data)
}
