package main

import (
	"bytes"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// This file drives the example like a browser: a real HTTP client (net/http,
// with a cookie jar) talks to the server over a real loopback listener, on
// one keep-alive connection.

var (
	testHash  = bytes.Repeat([]byte{0x42}, 32)
	testBlock = bytes.Repeat([]byte{0x24}, 32)
)

// countingListener counts the connections it accepts.
type countingListener struct {
	net.Listener
	accepted atomic.Int64
}

func (l *countingListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err == nil {
		l.accepted.Add(1)
	}
	return c, err
}

// syncBuffer is a log destination that the test reads while the server
// writes to it.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// testServer is the application on a real loopback listener.
type testServer struct {
	t   *testing.T
	ln  *countingListener
	url *url.URL
	log *syncBuffer
	// transport is shared by the browsers of the test: at most one
	// connection, kept alive, so that every request goes through the same
	// server connection and so the same *fasthttp.RequestCtx.
	transport *http.Transport
}

// newTestServer listens on 127.0.0.1:0; start serves on it.
func newTestServer(t *testing.T) *testServer {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	return &testServer{
		t:         t,
		ln:        &countingListener{Listener: l},
		url:       &url.URL{Scheme: "http", Host: l.Addr().String()},
		log:       new(syncBuffer),
		transport: &http.Transport{MaxConnsPerHost: 1, MaxIdleConnsPerHost: 1},
	}
}

// start runs serve(ln) in a goroutine; when the test ends it calls shutdown
// and waits for serve to return.
func (ts *testServer) start(serve func(net.Listener) error, shutdown func() error) {
	t := ts.t
	done := make(chan error, 1)
	go func() { done <- serve(ts.ln) }()
	t.Cleanup(func() {
		ts.transport.CloseIdleConnections()
		if err := shutdown(); err != nil {
			t.Errorf("shutdown: %v", err)
		}
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("serve: %v", err)
			}
		case <-time.After(10 * time.Second):
			t.Error("the server did not stop")
		}
		if t.Failed() {
			t.Logf("server log:\n%s", ts.log)
		}
	})
}

// browser is one user agent: an HTTP client with its own cookie jar that
// does not follow redirects, so that the test sees each response.
type browser struct {
	t      *testing.T
	ts     *testServer
	jar    *cookiejar.Jar
	client *http.Client
}

func (ts *testServer) browser() *browser {
	jar, err := cookiejar.New(nil)
	if err != nil {
		ts.t.Fatal(err)
	}
	return &browser{t: ts.t, ts: ts, jar: jar, client: &http.Client{
		Transport:     ts.transport,
		Jar:           jar,
		Timeout:       10 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}}
}

// response is what a test looks at in a response.
type response struct {
	status   int
	body     string
	location string
	// cookies are the response's Set-Cookie headers, by cookie name.
	cookies map[string]*http.Cookie
}

func (b *browser) get(path string) response {
	b.t.Helper()
	resp, err := b.client.Get(b.ts.url.String() + path)
	if err != nil {
		b.t.Fatalf("GET %s: %v", path, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		b.t.Fatalf("GET %s: reading the body: %v", path, err)
	}
	r := response{status: resp.StatusCode, body: string(body), location: resp.Header.Get("Location"), cookies: map[string]*http.Cookie{}}
	for _, c := range resp.Cookies() {
		if _, dup := r.cookies[c.Name]; dup {
			b.t.Errorf("GET %s: two Set-Cookie headers for %q", path, c.Name)
		}
		r.cookies[c.Name] = c
	}
	return r
}

// cookie returns the value of the jar's cookie name, or "".
func (b *browser) cookie(name string) string {
	for _, c := range b.jar.Cookies(b.ts.url) {
		if c.Name == name {
			return c.Value
		}
	}
	return ""
}

// setCookie puts a cookie in the jar, as a stolen or replayed cookie.
func (b *browser) setCookie(name, value string) {
	b.jar.SetCookies(b.ts.url, []*http.Cookie{{Name: name, Value: value, Path: "/"}})
}

func wantStatus(t *testing.T, what string, r response, status int) {
	t.Helper()
	if r.status != status {
		t.Fatalf("%s: status %d, want %d; body: %s", what, r.status, status, r.body)
	}
}

func wantRedirect(t *testing.T, what string, r response, location string) {
	t.Helper()
	wantStatus(t, what, r, http.StatusSeeOther)
	if r.location != location {
		t.Errorf("%s: Location %q, want %q", what, r.location, location)
	}
}

func wantBody(t *testing.T, what string, r response, wants ...string) {
	t.Helper()
	for _, w := range wants {
		if !strings.Contains(r.body, w) {
			t.Errorf("%s: body does not contain %q:\n%s", what, w, r.body)
		}
	}
}

func wantNoBody(t *testing.T, what string, r response, unwanted ...string) {
	t.Helper()
	for _, w := range unwanted {
		if strings.Contains(r.body, w) {
			t.Errorf("%s: body contains %q:\n%s", what, w, r.body)
		}
	}
}

// wantCookies checks that the response set exactly the cookies named.
func wantCookies(t *testing.T, what string, r response, names ...string) {
	t.Helper()
	if len(r.cookies) != len(names) {
		t.Errorf("%s: %d Set-Cookie headers %v, want %v", what, len(r.cookies), r.cookies, names)
	}
	for _, n := range names {
		if r.cookies[n] == nil {
			t.Errorf("%s: no Set-Cookie for %q", what, n)
		}
	}
}
