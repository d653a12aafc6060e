// Package testsrv runs a real fasthttp server on an in-memory listener and
// real keep-alive clients with their own cookie jars, for the tests of this
// repository. It depends on fasthttp only.
package testsrv

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

// Server is a fasthttp server on an in-memory listener, shut down when the
// test ends. It is safe for concurrent use.
type Server struct {
	t   testing.TB
	ln  *fasthttputil.InmemoryListener
	srv *fasthttp.Server
	wg  sync.WaitGroup
}

// New starts a server for h and stops it when t ends. Its ReadBufferSize is
// 16 KiB, so that over-long cookies reach the handler instead of getting a
// 431 from fasthttp.
func New(t testing.TB, h fasthttp.RequestHandler) *Server {
	t.Helper()
	s := &Server{t: t, ln: fasthttputil.NewInmemoryListener(), srv: &fasthttp.Server{Handler: h, ReadBufferSize: 16 << 10}}
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		_ = s.srv.Serve(s.ln)
	}()
	t.Cleanup(func() {
		_ = s.srv.Shutdown()
		_ = s.ln.Close()
		s.wg.Wait()
	})
	return s
}

// HostClient returns a new keep-alive client of the server with at most
// maxConns connections (0: no limit).
func (s *Server) HostClient(maxConns int) *fasthttp.HostClient {
	return &fasthttp.HostClient{
		Addr:               "test",
		MaxConns:           maxConns,
		MaxConnWaitTimeout: 30 * time.Second,
		ReadBufferSize:     16 << 10,
		WriteBufferSize:    16 << 10,
		Dial:               func(string) (net.Conn, error) { return s.ln.Dial() },
	}
}

// Client is one user: a keep-alive client with its own cookie jar. It is
// not safe for concurrent use; give each goroutine its own.
type Client struct {
	t testing.TB
	// HC sends the requests; clients may share one to share connections.
	HC *fasthttp.HostClient
	// Jar holds the cookies the client sends, by name.
	Jar  map[string]string
	last *fasthttp.Response
}

// NewClient returns a client of the server with its own jar and at most
// maxConns connections; 1 puts every request on one keep-alive connection.
func (s *Server) NewClient(maxConns int) *Client {
	return &Client{t: s.t, HC: s.HostClient(maxConns), Jar: map[string]string{}}
}

// Get sends a GET with the jar's cookies, stores the response's cookies in
// the jar (dropping those deleted with Max-Age=0) and returns the status and
// the body. A transport error fails the test.
func (c *Client) Get(path string) (int, string) {
	c.t.Helper()
	code, body, err := c.TryGet(path)
	if err != nil {
		c.t.Fatalf("GET %s: %v", path, err)
	}
	return code, body
}

// TryGet is Get returning the transport error instead of failing the test;
// use it from goroutines other than the test's.
func (c *Client) TryGet(path string) (int, string, error) {
	req := fasthttp.AcquireRequest()
	defer fasthttp.ReleaseRequest(req)
	resp := fasthttp.AcquireResponse()
	req.SetRequestURI("http://test" + path)
	for k, v := range c.Jar {
		req.Header.SetCookie(k, v)
	}
	if err := c.HC.DoTimeout(req, resp, 30*time.Second); err != nil {
		fasthttp.ReleaseResponse(resp)
		return 0, "", err
	}
	for k, v := range resp.Header.Cookies() {
		ck := fasthttp.AcquireCookie()
		if err := ck.ParseBytes(v); err == nil {
			if bytes.Contains(bytes.ToLower(v), []byte("max-age=0")) {
				delete(c.Jar, string(k))
			} else {
				c.Jar[string(k)] = string(ck.Value())
			}
		}
		fasthttp.ReleaseCookie(ck)
	}
	if c.last != nil {
		fasthttp.ReleaseResponse(c.last)
	}
	c.last = resp
	return resp.StatusCode(), string(resp.Body()), nil
}

// SetCookie returns the raw Set-Cookie value for name in the last response,
// or "" when it set none.
func (c *Client) SetCookie(name string) string {
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

// SetCookies returns the raw Set-Cookie values for name in the last
// response, in order.
func (c *Client) SetCookies(name string) []string {
	if c.last == nil {
		return nil
	}
	var all []string
	for k, v := range c.last.Header.Cookies() {
		if string(k) == name {
			all = append(all, string(v))
		}
	}
	return all
}

// MustContain fails the test unless got contains every one of wants.
func MustContain(t testing.TB, got string, wants ...string) {
	t.Helper()
	for _, w := range wants {
		if !strings.Contains(got, w) {
			t.Errorf("%q does not contain %q", got, w)
		}
	}
}
