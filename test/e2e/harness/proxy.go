package harness

import (
	"bytes"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
)

// Proxy sits between the manager and one emulator listener (point the
// ProviderConfig's endpoint at Proxy.URL) and lets a test hold, rewrite or
// replace answers: the SDRS action that was accepted but whose answer never
// came back, a job poll that hangs, a truncated or hostile body. Requests
// no rule matches pass through unchanged; the Host header is kept, so the
// emulator's signature check still passes.
type Proxy struct {
	URL    string
	srv    *httptest.Server
	target *url.URL
	tr     *http.Transport

	mu    sync.Mutex
	rules []*Rule
}

// Rule says what the proxy does with matching requests. Set exactly one of
// Respond, Rewrite, HoldBefore or HoldAfter (Rewrite may be combined with
// HoldAfter).
type Rule struct {
	// Match selects requests; body is the request body.
	Match func(r *http.Request, body []byte) bool
	// Times is how many requests the rule applies to; 0 means all.
	Times int
	// Respond answers in place of the emulator; the request is not
	// forwarded.
	Respond http.HandlerFunc
	// Rewrite changes the emulator's answer (status and body).
	Rewrite func(status int, body []byte) (int, []byte)
	// HoldBefore blocks the request before it is forwarded, HoldAfter
	// blocks the answer after the emulator handled it, until Release or
	// until the client goes away. A held request that is released before
	// the client left is then forwarded (HoldBefore) or answered.
	HoldBefore, HoldAfter bool

	hits    chan struct{}
	release chan struct{}
	once    sync.Once
	used    int
}

// Hits receives one value each time the rule applied: after the request
// was forwarded for HoldAfter, when it is held for HoldBefore, after the
// answer was written otherwise.
func (r *Rule) Hits() <-chan struct{} { return r.hits }

// Release lets held requests go, and makes the rule pass later ones.
func (r *Rule) Release() { r.once.Do(func() { close(r.release) }) }

// StartProxy starts a proxy in this process in front of target (a base URL
// such as Emulator.SDRSURL; http only).
func StartProxy(target string) (*Proxy, error) {
	u, err := url.Parse(target)
	if err != nil {
		return nil, err
	}
	p := &Proxy{target: u, tr: &http.Transport{}}
	p.srv = httptest.NewServer(http.HandlerFunc(p.serve))
	p.URL = p.srv.URL
	return p, nil
}

// MustProxy starts a proxy and closes it when tb ends.
func MustProxy(tb testing.TB, target string) *Proxy {
	tb.Helper()
	p, err := StartProxy(target)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(p.Close)
	return p
}

// Close releases every held request and stops the proxy.
func (p *Proxy) Close() {
	p.mu.Lock()
	for _, r := range p.rules {
		r.Release()
	}
	p.mu.Unlock()
	p.srv.CloseClientConnections()
	p.srv.Close()
}

// SetTarget points the proxy at another upstream.
func (p *Proxy) SetTarget(target string) error {
	u, err := url.Parse(target)
	if err != nil {
		return err
	}
	p.mu.Lock()
	p.target = u
	p.mu.Unlock()
	return nil
}

// Add installs a rule (checked in installation order) and returns it.
func (p *Proxy) Add(r *Rule) *Rule {
	r.hits = make(chan struct{}, 1024)
	r.release = make(chan struct{})
	p.mu.Lock()
	p.rules = append(p.rules, r)
	p.mu.Unlock()
	return r
}

// Remove uninstalls a rule and releases what it holds.
func (p *Proxy) Remove(r *Rule) {
	r.Release()
	p.mu.Lock()
	defer p.mu.Unlock()
	for i, x := range p.rules {
		if x == r {
			p.rules = append(p.rules[:i], p.rules[i+1:]...)
			return
		}
	}
}

// Clear uninstalls every rule.
func (p *Proxy) Clear() {
	p.mu.Lock()
	rules := p.rules
	p.rules = nil
	p.mu.Unlock()
	for _, r := range rules {
		r.Release()
	}
}

func (p *Proxy) pick(r *http.Request, body []byte) (*Rule, *url.URL) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, rule := range p.rules {
		if rule.Times > 0 && rule.used >= rule.Times {
			continue
		}
		select {
		case <-rule.release:
			continue
		default:
		}
		if rule.Match == nil || rule.Match(r, body) {
			rule.used++
			return rule, p.target
		}
	}
	return nil, p.target
}

func (p *Proxy) serve(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	rule, target := p.pick(r, body)
	if rule != nil && rule.Respond != nil {
		rule.Respond(w, r)
		rule.hits <- struct{}{}
		return
	}
	if rule != nil && rule.HoldBefore {
		rule.hits <- struct{}{}
		select {
		case <-rule.release:
		case <-r.Context().Done():
			return
		}
	}
	status, header, respBody, err := p.forward(r, body, target)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadGateway)
		return
	}
	if rule != nil && rule.Rewrite != nil {
		status, respBody = rule.Rewrite(status, respBody)
		header.Del("Content-Length")
	}
	if rule != nil && rule.HoldAfter {
		rule.hits <- struct{}{}
		select {
		case <-rule.release:
		case <-r.Context().Done():
			return
		}
	}
	for k, v := range header {
		w.Header()[k] = v
	}
	w.WriteHeader(status)
	_, _ = w.Write(respBody)
	if rule != nil && !rule.HoldAfter && !rule.HoldBefore {
		rule.hits <- struct{}{}
	}
}

func (p *Proxy) forward(r *http.Request, body []byte, target *url.URL) (int, http.Header, []byte, error) {
	u := *target
	u.Path = r.URL.Path
	u.RawPath = r.URL.RawPath
	u.RawQuery = r.URL.RawQuery
	// Not bound to the client's context: an action that reached the proxy
	// reaches SDRS even if the client dies meanwhile, as on a real network
	// where the request already left.
	out, err := http.NewRequest(r.Method, u.String(), bytes.NewReader(body))
	if err != nil {
		return 0, nil, nil, err
	}
	out.Header = r.Header.Clone()
	out.Host = r.Host
	resp, err := p.tr.RoundTrip(out)
	if err != nil {
		return 0, nil, nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header.Clone(), b, err
}

// Matchers for Rule.Match.

// MatchAction matches the group action whose body names key, e.g.
// "reverse-server-group", "failover-server-group", "start-server-group".
func MatchAction(key string) func(*http.Request, []byte) bool {
	return func(r *http.Request, body []byte) bool {
		return r.Method == http.MethodPost && strings.HasSuffix(r.URL.Path, "/action") &&
			bytes.Contains(body, []byte(`"`+key+`"`))
	}
}

// MatchPath matches a method (empty: any) and a path regexp.
func MatchPath(method, pathRE string) func(*http.Request, []byte) bool {
	re := regexp.MustCompile(pathRE)
	return func(r *http.Request, _ []byte) bool {
		return (method == "" || r.Method == method) && re.MatchString(r.URL.Path)
	}
}

// Paths of the SDRS API for MatchPath.
const (
	// PathJob matches GET .../jobs/{id} (ShowJobStatus).
	PathJob = `/v1/[^/]+/jobs/[^/]+$`
	// PathGroup matches GET .../server-groups/{id} (ShowProtectionGroup).
	PathGroup = `/v1/[^/]+/server-groups/[^/]+$`
	// PathInstances matches .../protected-instances (list).
	PathInstances = `/v1/[^/]+/protected-instances$`
)
