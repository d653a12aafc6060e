package main

import (
	"encoding/json"
	"log"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/fasthttp-sessions/sessions/internal/exampletest"
	"github.com/valyala/fasthttp"
)

// client is an API client: it keeps its token, and no cookies.
type client struct {
	t     *testing.T
	addr  string
	token string
}

type response struct {
	status int
	body   map[string]any
	auth   []string // the Authorization headers of the response
}

func (c *client) do(method, path, form string) response {
	c.t.Helper()
	req, resp := fasthttp.AcquireRequest(), fasthttp.AcquireResponse()
	defer fasthttp.ReleaseRequest(req)
	defer fasthttp.ReleaseResponse(resp)
	req.SetRequestURI("http://" + c.addr + path)
	req.Header.SetMethod(method)
	if form != "" {
		req.Header.SetContentType("application/x-www-form-urlencoded")
		req.SetBodyString(form)
	}
	if c.token != "" {
		req.Header.Set(fasthttp.HeaderAuthorization, "Bearer "+c.token)
	}
	if err := fasthttp.DoTimeout(req, resp, 10*time.Second); err != nil {
		c.t.Fatalf("%s %s: %v", method, path, err)
	}
	r := response{status: resp.StatusCode()}
	for _, v := range resp.Header.PeekAll(fasthttp.HeaderAuthorization) {
		r.auth = append(r.auth, string(v))
	}
	if len(resp.Header.PeekCookie(sessionName)) > 0 {
		c.t.Errorf("%s %s: a cookie was set in token mode", method, path)
	}
	if len(r.auth) > 0 {
		c.token = strings.TrimPrefix(r.auth[len(r.auth)-1], "Bearer ")
	}
	if b := resp.Body(); len(b) > 0 {
		if err := json.Unmarshal(b, &r.body); err != nil {
			c.t.Fatalf("%s %s: %q: %v", method, path, b, err)
		}
	}
	return r
}

func start(t *testing.T) string {
	t.Helper()
	ts := exampletest.NewServer(t)
	logger := log.New(ts.Log, "", 0)
	srv := &fasthttp.Server{Handler: newAPI(newStore(exampletest.HashKey, exampletest.BlockKey), logger), Logger: logger}
	ts.Start(func(ln net.Listener) error { return srv.Serve(ln) }, srv.Shutdown)
	return ts.Addr()
}

func TestTokenFlow(t *testing.T) {
	addr := start(t)
	c := &client{t: t, addr: addr}

	if r := c.do("GET", "/me", ""); r.status != 401 {
		t.Fatalf("/me without a token: %d %v", r.status, r.body)
	}
	r := c.do("POST", "/login", "user=alice")
	if r.status != 200 || len(r.auth) != 1 || !strings.HasPrefix(r.auth[0], "Bearer ") || c.token == "" {
		t.Fatalf("login: %d %v, Authorization %q", r.status, r.body, r.auth)
	}
	first := c.token
	if r := c.do("GET", "/me", ""); r.status != 200 || r.body["user"] != "alice" || r.body["requests"] != 1.0 {
		t.Fatalf("/me: %d %v", r.status, r.body)
	}
	if r := c.do("GET", "/me", ""); r.body["requests"] != 2.0 {
		t.Fatalf("/me again: %v", r.body)
	}

	// Logging in again renews the ID: the client picks up the new token,
	// and the old one is worthless.
	c.do("POST", "/login", "user=alice")
	if c.token == first {
		t.Fatal("a login kept the token")
	}
	old := &client{t: t, addr: addr, token: first}
	if r := old.do("GET", "/me", ""); r.status != 401 {
		t.Fatalf("the token from before the login: %d %v", r.status, r.body)
	}

	// A tampered token is refused, and the response says "deleted".
	b := []byte(c.token)
	b[len(b)/2] ^= 1
	bad := &client{t: t, addr: addr, token: string(b)}
	if r := bad.do("GET", "/me", ""); r.status != 401 || len(r.auth) != 1 || r.auth[0] != "" {
		t.Fatalf("a tampered token: %d, Authorization %q", r.status, r.auth)
	}

	// Logout: an empty Authorization header, and the token is dead.
	current := c.token
	if r := c.do("POST", "/logout", ""); r.status != 204 || len(r.auth) == 0 || r.auth[0] != "" {
		t.Fatalf("logout: %d, Authorization %q", r.status, r.auth)
	}
	replay := &client{t: t, addr: addr, token: current}
	if r := replay.do("GET", "/me", ""); r.status != 401 {
		t.Fatalf("the token after logout: %d %v", r.status, r.body)
	}
}
