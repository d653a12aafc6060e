package sessions

import (
	"bytes"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/valyala/fasthttp"
	"github.com/valyala/fasthttp/fasthttputil"
)

// testServer is a real fasthttp server on an in-memory listener; clients
// made by newClient talk to it over keep-alive connections.
type testServer struct {
	t   testing.TB
	ln  *fasthttputil.InmemoryListener
	srv *fasthttp.Server
	wg  sync.WaitGroup
}

func newTestServer(t testing.TB, h fasthttp.RequestHandler) *testServer {
	t.Helper()
	ts := &testServer{t: t, ln: fasthttputil.NewInmemoryListener(), srv: &fasthttp.Server{Handler: h}}
	ts.wg.Add(1)
	go func() {
		defer ts.wg.Done()
		_ = ts.srv.Serve(ts.ln)
	}()
	t.Cleanup(func() {
		_ = ts.srv.Shutdown()
		_ = ts.ln.Close()
		ts.wg.Wait()
	})
	return ts
}

// testClient is one user: a keep-alive HTTP client with its own cookie jar.
type testClient struct {
	t    testing.TB
	hc   *fasthttp.HostClient
	jar  map[string]string
	last *fasthttp.Response
}

// newClient returns a client with its own cookie jar. maxConns bounds its
// connections, 1 forces every request onto one keep-alive connection.
func (ts *testServer) newClient(maxConns int) *testClient {
	return &testClient{
		t: ts.t,
		hc: &fasthttp.HostClient{
			Addr:     "test",
			MaxConns: maxConns,
			Dial:     func(string) (net.Conn, error) { return ts.ln.Dial() },
		},
		jar: map[string]string{},
	}
}

// get sends a GET with the jar's cookies, stores the response's cookies in
// the jar (dropping those with Max-Age=0) and returns the status and body.
func (c *testClient) get(path string) (int, string) {
	c.t.Helper()
	req := fasthttp.AcquireRequest()
	defer fasthttp.ReleaseRequest(req)
	resp := fasthttp.AcquireResponse()
	req.SetRequestURI("http://test" + path)
	for k, v := range c.jar {
		req.Header.SetCookie(k, v)
	}
	if err := c.hc.DoTimeout(req, resp, 10*time.Second); err != nil {
		c.t.Fatalf("GET %s: %v", path, err)
	}
	for k, v := range resp.Header.Cookies() {
		ck := fasthttp.AcquireCookie()
		if err := ck.ParseBytes(v); err != nil {
			c.t.Fatalf("GET %s: bad Set-Cookie %q: %v", path, v, err)
		}
		if ck.MaxAge() < 0 || bytes.Contains(bytes.ToLower(v), []byte("max-age=0")) {
			delete(c.jar, string(k))
		} else {
			c.jar[string(k)] = string(ck.Value())
		}
		fasthttp.ReleaseCookie(ck)
	}
	if c.last != nil {
		fasthttp.ReleaseResponse(c.last)
	}
	c.last = resp
	return resp.StatusCode(), string(resp.Body())
}

// setCookieHeader returns the raw Set-Cookie value for name in the last
// response, or "".
func (c *testClient) setCookieHeader(name string) string {
	if c.last == nil {
		return ""
	}
	for k, v := range c.last.Header.Cookies() {
		if string(k) == name {
			return string(v)
		}
	}
	return ""
}

func mustContain(t testing.TB, got string, wants ...string) {
	t.Helper()
	for _, w := range wants {
		if !strings.Contains(got, w) {
			t.Errorf("%q does not contain %q", got, w)
		}
	}
}
