package exampletest

import (
	"bytes"
	"testing"
	"time"

	"github.com/valyala/fasthttp"
)

// Host is a server an Agent sends requests to; *Server is one. Addr must
// be safe to call from the test's goroutine while the server runs.
type Host interface {
	// Addr returns the server's host:port.
	Addr() string
}

// Agent is one user agent over fasthttp, for tests that look at the raw
// Set-Cookie header: its cookie jar is a map that the test reads and writes,
// and it keeps one keep-alive connection to each host it talks to. It does
// not follow redirects. An Agent is not safe for concurrent use: use it
// from the test's goroutine only, as Do may call t.Fatal.
type Agent struct {
	t      testing.TB
	cookie string
	// Jar holds the cookies the agent sends, by name.
	Jar     map[string]string
	clients map[string]*fasthttp.HostClient
}

// NewAgent returns an agent with an empty jar; the responses it returns
// report the raw Set-Cookie header of the cookie named cookie. Its
// connections are closed when the test ends.
func NewAgent(t testing.TB, cookie string) *Agent {
	a := &Agent{t: t, cookie: cookie, Jar: map[string]string{}, clients: map[string]*fasthttp.HostClient{}}
	t.Cleanup(func() {
		for _, hc := range a.clients {
			hc.CloseIdleConnections()
		}
	})
	return a
}

// AgentResponse is what a test looks at in a response to an Agent. It is a
// plain value: safe to read from any goroutine, not to write concurrently.
type AgentResponse struct {
	Status   int
	Body     string
	Location string
	// SetCookie is the raw Set-Cookie header of the agent's cookie, or "".
	SetCookie string
}

// Do sends a request to h with the jar's cookies and keeps the cookies of
// the response, as a browser does: a cookie with Max-Age=0 or an empty
// value is deleted. form, when not empty, is sent as an urlencoded body. A
// transport error or a bad Set-Cookie header fails the test.
func (a *Agent) Do(h Host, method, path, form string) AgentResponse {
	a.t.Helper()
	addr := h.Addr()
	hc := a.clients[addr]
	if hc == nil {
		hc = &fasthttp.HostClient{Addr: addr, MaxConns: 1}
		a.clients[addr] = hc
	}
	req, resp := fasthttp.AcquireRequest(), fasthttp.AcquireResponse()
	defer fasthttp.ReleaseRequest(req)
	defer fasthttp.ReleaseResponse(resp)
	req.Header.SetMethod(method)
	req.SetRequestURI("http://" + addr + path)
	if form != "" {
		req.Header.SetContentType("application/x-www-form-urlencoded")
		req.SetBodyString(form)
	}
	for k, v := range a.Jar {
		req.Header.SetCookie(k, v)
	}
	if err := hc.DoTimeout(req, resp, 10*time.Second); err != nil {
		a.t.Fatalf("%s %s: %v", method, path, err)
	}
	r := AgentResponse{
		Status:   resp.StatusCode(),
		Body:     string(resp.Body()),
		Location: string(resp.Header.Peek(fasthttp.HeaderLocation)),
	}
	for k, v := range resp.Header.Cookies() {
		ck := fasthttp.AcquireCookie()
		if err := ck.ParseBytes(v); err != nil {
			a.t.Fatalf("%s %s: bad Set-Cookie %q: %v", method, path, v, err)
		}
		if string(k) == a.cookie {
			r.SetCookie = string(v)
		}
		if bytes.Contains(bytes.ToLower(v), []byte("max-age=0")) || len(ck.Value()) == 0 {
			delete(a.Jar, string(k))
		} else {
			a.Jar[string(k)] = string(ck.Value())
		}
		fasthttp.ReleaseCookie(ck)
	}
	return r
}

// Get is Do with a GET and no body.
func (a *Agent) Get(h Host, path string) AgentResponse {
	a.t.Helper()
	return a.Do(h, fasthttp.MethodGet, path, "")
}

// ExpectRedirectHome fails the test unless r is a 303 to "/".
func ExpectRedirectHome(t testing.TB, what string, r AgentResponse) {
	t.Helper()
	if r.Status != fasthttp.StatusSeeOther || r.Location != "/" {
		t.Fatalf("%s: %d Location %q, want 303 to /; body %q", what, r.Status, r.Location, r.Body)
	}
}
