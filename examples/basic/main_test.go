package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"io"
	"log"
	"net"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/fasthttp-sessions/sessions"
	"github.com/valyala/fasthttp"
)

var (
	testHash  = bytes.Repeat([]byte{0x42}, 32)
	testBlock = bytes.Repeat([]byte{0x24}, 32)
)

// syncBuffer is a log destination that tests can read while the server
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

// testServer is the application served by serve on a real loopback
// listener.
type testServer struct {
	t   *testing.T
	ln  *countingListener
	log *syncBuffer
}

func startServer(t *testing.T, store *sessions.CookieStore) *testServer {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ts := &testServer{t: t, ln: &countingListener{Listener: l}, log: new(syncBuffer)}
	logger := log.New(ts.log, "", 0)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- serve(ctx, ts.ln, newApp(store, logger), logger) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("serve: %v", err)
			}
		case <-time.After(15 * time.Second):
			t.Error("serve did not return after its context was cancelled")
		}
	})
	return ts
}

// browser is one user agent: a keep-alive client (one connection at most)
// with its own cookie jar.
type browser struct {
	t   *testing.T
	hc  *fasthttp.HostClient
	jar map[string]string
}

func (ts *testServer) browser() *browser {
	b := &browser{
		t:   ts.t,
		hc:  &fasthttp.HostClient{Addr: ts.ln.Addr().String(), MaxConns: 1},
		jar: map[string]string{},
	}
	ts.t.Cleanup(b.hc.CloseIdleConnections)
	return b
}

// response is what a test looks at in a response.
type response struct {
	status    int
	body      string
	location  string
	setCookie string // the raw Set-Cookie of the session cookie, or ""
}

// do sends a request with the jar's cookies and keeps the cookies of the
// response, as a browser does: a cookie with Max-Age=0 is deleted. form,
// when not empty, is sent as an urlencoded POST body.
func (b *browser) do(method, path, form string) response {
	b.t.Helper()
	req, resp := fasthttp.AcquireRequest(), fasthttp.AcquireResponse()
	defer fasthttp.ReleaseRequest(req)
	defer fasthttp.ReleaseResponse(resp)
	req.Header.SetMethod(method)
	req.SetRequestURI("http://" + b.hc.Addr + path)
	if form != "" {
		req.Header.SetContentType("application/x-www-form-urlencoded")
		req.SetBodyString(form)
	}
	for k, v := range b.jar {
		req.Header.SetCookie(k, v)
	}
	if err := b.hc.DoTimeout(req, resp, 10*time.Second); err != nil {
		b.t.Fatalf("%s %s: %v", method, path, err)
	}
	r := response{
		status:   resp.StatusCode(),
		body:     string(resp.Body()),
		location: string(resp.Header.Peek(fasthttp.HeaderLocation)),
	}
	for k, v := range resp.Header.Cookies() {
		ck := fasthttp.AcquireCookie()
		if err := ck.ParseBytes(v); err != nil {
			b.t.Fatalf("%s %s: bad Set-Cookie %q: %v", method, path, v, err)
		}
		if string(k) == sessionName {
			r.setCookie = string(v)
		}
		if bytes.Contains(bytes.ToLower(v), []byte("max-age=0")) || len(ck.Value()) == 0 {
			delete(b.jar, string(k))
		} else {
			b.jar[string(k)] = string(ck.Value())
		}
		fasthttp.ReleaseCookie(ck)
	}
	return r
}

func (b *browser) get(path string) response {
	b.t.Helper()
	return b.do(fasthttp.MethodGet, path, "")
}

// expectRedirectHome checks a 303 to "/".
func expectRedirectHome(t *testing.T, what string, r response) {
	t.Helper()
	if r.status != fasthttp.StatusSeeOther || r.location != "/" {
		t.Fatalf("%s: %d Location %q, want 303 to /; body %q", what, r.status, r.location, r.body)
	}
}

func contains(t *testing.T, what, got string, wants ...string) {
	t.Helper()
	for _, w := range wants {
		if !strings.Contains(got, w) {
			t.Errorf("%s: %q does not contain %q", what, got, w)
		}
	}
}

func lacks(t *testing.T, what, got string, unwanted ...string) {
	t.Helper()
	for _, w := range unwanted {
		if strings.Contains(got, w) {
			t.Errorf("%s: %q contains %q", what, got, w)
		}
	}
}

const (
	notLoggedIn = `<p id="user">not logged in</p>`
	flashClass  = `class="flash"`
)

func loggedInAs(name string) string { return `Logged in as <strong id="user">` + name + `</strong>` }

func TestLoginFlashLogout(t *testing.T) {
	ts := startServer(t, newStore(testHash, testBlock, false))
	b := ts.browser()

	r := b.get("/")
	if r.status != 200 || r.setCookie != "" {
		t.Fatalf("first visit: %d, Set-Cookie %q", r.status, r.setCookie)
	}
	contains(t, "first visit", r.body, notLoggedIn, `<form method="post" action="/login">`)

	r = b.get("/login?user=alice")
	expectRedirectHome(t, "login", r)
	contains(t, "login cookie", r.setCookie, "session=", "; Path=/", "; HttpOnly", "; SameSite=Lax")
	lacks(t, "login cookie without remember me", r.setCookie, "Max-Age", "Expires", "Secure")

	// The flash is shown on the first page load only; the user on both.
	r = b.get("/")
	contains(t, "page after login", r.body, loggedInAs("alice"), `<p class="flash">Welcome, alice!</p>`)
	// Consuming the flash saves the session again: still a browser-session
	// cookie, although the store's default MaxAge is 30 days.
	contains(t, "cookie after reading the flash", r.setCookie, "; Path=/", "; HttpOnly", "; SameSite=Lax")
	lacks(t, "cookie after reading the flash", r.setCookie, "Max-Age", "Expires")

	r = b.get("/")
	contains(t, "second page", r.body, loggedInAs("alice"))
	lacks(t, "second page", r.body, flashClass, "Welcome")
	if r.setCookie != "" {
		t.Errorf("a page without flashes set a cookie: %q", r.setCookie)
	}

	r = b.get("/logout")
	expectRedirectHome(t, "logout", r)
	contains(t, "logout cookie", r.setCookie, "session=;", "Max-Age=0", "Expires=Thu, 01 Jan 1970 00:00:01 GMT", "; Path=/")
	if len(b.jar) != 0 {
		t.Fatalf("jar after logout: %v", b.jar)
	}

	r = b.get("/")
	contains(t, "page after logout", r.body, notLoggedIn)
	lacks(t, "page after logout", r.body, flashClass, "alice")

	if n := ts.ln.accepted.Load(); n != 1 {
		t.Errorf("the server accepted %d connections, want 1 keep-alive connection", n)
	}
	if log := ts.log.String(); log != "" {
		t.Errorf("unexpected log: %s", log)
	}
}

func TestRememberMe(t *testing.T) {
	ts := startServer(t, newStore(testHash, testBlock, false))
	b := ts.browser()

	// The form on / posts user and remember=1.
	r := b.do(fasthttp.MethodPost, "/login", "user=bob&remember=1")
	expectRedirectHome(t, "login", r)
	contains(t, "remembered cookie", r.setCookie, "; Max-Age=2592000", "; Expires=", "; HttpOnly", "; SameSite=Lax", "; Path=/")

	// Saved again when the flash is read: the choice is kept.
	r = b.get("/")
	contains(t, "page", r.body, loggedInAs("bob"), "Welcome, bob!")
	contains(t, "cookie after reading the flash", r.setCookie, "; Max-Age=2592000")

	// Logging in again without remember me goes back to a browser-session
	// cookie.
	r = b.do(fasthttp.MethodPost, "/login", "user=bob")
	expectRedirectHome(t, "login again", r)
	lacks(t, "cookie without remember me", r.setCookie, "Max-Age", "Expires")
}

func TestHostileNameIsEscaped(t *testing.T) {
	ts := startServer(t, newStore(testHash, testBlock, false))
	b := ts.browser()
	r := b.do(fasthttp.MethodPost, "/login", "user=%3Cscript%3Ealert(1)%3C%2Fscript%3E")
	expectRedirectHome(t, "login", r)
	r = b.get("/")
	const escaped = "&lt;script&gt;alert(1)&lt;/script&gt;"
	contains(t, "page", r.body, loggedInAs(escaped), "Welcome, "+escaped+"!")
	lacks(t, "page", r.body, "<script>", "</script>")
}

func TestSameSiteNone(t *testing.T) {
	ts := startServer(t, newStore(testHash, testBlock, true))
	b := ts.browser()
	r := b.get("/login?user=carol")
	expectRedirectHome(t, "login", r)
	contains(t, "cookie", r.setCookie, "; SameSite=None", "; Secure", "; HttpOnly", "; Path=/")
}

func TestSignedOnlyCookie(t *testing.T) {
	ts := startServer(t, newStore(testHash, nil, false))
	b := ts.browser()
	b.get("/login?user=dave")
	contains(t, "page", b.get("/").body, loggedInAs("dave"))
}

// TestCookieFromOtherKeys is a restart with new random keys: the old cookie
// no longer decodes, the user is logged out, the cookie is deleted and the
// error logged once.
func TestCookieFromOtherKeys(t *testing.T) {
	before := startServer(t, newStore(testHash, testBlock, false))
	b := before.browser()
	b.get("/login?user=erin")
	cookie := b.jar[sessionName]
	if cookie == "" {
		t.Fatal("no cookie after login")
	}

	after := startServer(t, newStore(bytes.Repeat([]byte{1}, 32), bytes.Repeat([]byte{2}, 32), false))
	b2 := after.browser()
	b2.jar[sessionName] = cookie
	r := b2.get("/")
	contains(t, "page", r.body, notLoggedIn)
	contains(t, "cookie", r.setCookie, "session=;", "Max-Age=0")
	contains(t, "log", after.log.String(), "ignoring session cookie", "sessions: invalid cookie")

	r = b2.get("/")
	contains(t, "page", r.body, notLoggedIn)
	if strings.Count(after.log.String(), "\n") != 1 {
		t.Errorf("log: %q, want one line", after.log.String())
	}
}

func TestBadRequests(t *testing.T) {
	ts := startServer(t, newStore(testHash, testBlock, false))
	b := ts.browser()
	for _, c := range []struct {
		method, path, form string
		status             int
	}{
		{"GET", "/login", "", 400},
		{"GET", "/login?user=%20%20", "", 400},
		{"GET", "/login?user=" + strings.Repeat("x", maxUserLen+1), "", 400},
		{"POST", "/login", "user=", 400},
		{"PUT", "/login", "user=x", 405},
		{"POST", "/", "user=x", 405},
		{"GET", "/nope", "", 404},
	} {
		if r := b.do(c.method, c.path, c.form); r.status != c.status || r.setCookie != "" {
			t.Errorf("%s %s %q = %d (Set-Cookie %q), want %d and no cookie", c.method, c.path, c.form, r.status, r.setCookie, c.status)
		}
	}
	if r := b.get("/login?user=" + strings.Repeat("x", maxUserLen)); r.status != fasthttp.StatusSeeOther {
		t.Errorf("longest name: %d", r.status)
	}
}

// TestRunStopsOnCancel starts run, makes a request over a keep-alive
// connection that stays open, cancels the context, and checks that run
// returns and leaves no goroutine serving behind.
func TestRunStopsOnCancel(t *testing.T) {
	logs := new(syncBuffer)
	logger := log.New(logs, "", 0)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, "127.0.0.1:0", newApp(newStore(testHash, testBlock, false), logger), logger)
	}()

	// run logs its address once it listens.
	var addr string
	for deadline := time.Now().Add(10 * time.Second); addr == ""; {
		if time.Now().After(deadline) {
			t.Fatalf("run did not log its address: %q", logs.String())
		}
		if _, rest, ok := strings.Cut(logs.String(), "listening on http://"); ok {
			addr, _, _ = strings.Cut(rest, "\n")
		} else {
			time.Sleep(10 * time.Millisecond)
		}
	}
	hc := &fasthttp.HostClient{Addr: addr, MaxConns: 1}
	statusCode, _, err := hc.Get(nil, "http://"+addr+"/")
	if err != nil || statusCode != 200 {
		t.Fatalf("GET /: %d %v", statusCode, err)
	}

	cancel() // the client's connection is idle and open
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("run: %v", err)
		}
	case <-time.After(15 * time.Second):
		t.Fatal("run did not return after its context was cancelled")
	}
	contains(t, "log", logs.String(), "shutting down")
	if _, _, err := hc.Get(nil, "http://"+addr+"/"); err == nil {
		t.Error("the server still answers after run returned")
	}
	hc.CloseIdleConnections()

	// No goroutine may still serve a connection or run the server. Left
	// out: fasthttp's process-wide helpers (the Date header updater, the
	// default dialer's cache cleaner) and the worker pool's cleaner, which
	// sleeps up to Server.MaxIdleWorkerDuration (10 s) before it sees the
	// stop.
	serving := []string{
		"fasthttp.(*Server).Serve(",
		"fasthttp.(*Server).serveConn(",
		"fasthttp.(*workerPool).workerFunc(",
		"examples/basic.serve(",
		"examples/basic.run(",
	}
	var left string
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if left = goroutinesWith(serving...); left == "" {
			return
		}
	}
	t.Fatalf("goroutines left after run returned:\n%s", left)
}

func TestRunListenError(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	logger := log.New(io.Discard, "", 0)
	// The address is taken: run fails at once instead of serving.
	if err := run(context.Background(), l.Addr().String(), newApp(newStore(testHash, nil, false), logger), logger); err == nil {
		t.Fatal("run on a busy address returned nil")
	}
}

func TestLoadKeys(t *testing.T) {
	logs := new(syncBuffer)
	logger := log.New(logs, "", 0)
	hex32 := strings.Repeat("ab", 32)
	b64_32 := base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{0xab}, 32))
	for _, c := range []struct {
		name, hash, block string
		hashLen, blockLen int
		wantErr           bool
		wantLog           string
	}{
		{name: "random", hashLen: 32, blockLen: 32, wantLog: "will not survive a restart"},
		{name: "hex", hash: hex32, block: strings.Repeat("cd", 16), hashLen: 32, blockLen: 16},
		{name: "base64", hash: b64_32, block: b64_32, hashLen: 32, blockLen: 32},
		{name: "unpadded base64url", hash: strings.TrimRight(b64_32, "="), block: "_-_-_-_-_-_-_-_-_-_-_-_-_-_-_-_-", hashLen: 32, blockLen: 24},
		{name: "spaces", hash: " " + hex32 + "\n", hashLen: 32, wantLog: "signed but not encrypted"},
		{name: "hash only", hash: hex32, hashLen: 32, wantLog: "signed but not encrypted"},
		{name: "block only", block: hex32, wantErr: true},
		{name: "short hash", hash: strings.Repeat("ab", 16), wantErr: true},
		{name: "bad block length", hash: hex32, block: strings.Repeat("ab", 20), wantErr: true},
		{name: "not a key", hash: "not a key!", wantErr: true},
	} {
		t.Run(c.name, func(t *testing.T) {
			hash, block, err := loadKeys(c.hash, c.block, logger)
			if c.wantErr {
				if err == nil {
					t.Fatalf("no error; keys %x %x", hash, block)
				}
				return
			}
			if err != nil || len(hash) != c.hashLen || len(block) != c.blockLen {
				t.Fatalf("= %d-byte hash, %d-byte block, %v; want %d and %d", len(hash), len(block), err, c.hashLen, c.blockLen)
			}
			if c.wantLog != "" {
				contains(t, "log", logs.String(), c.wantLog)
			}
		})
	}
	a, _, _ := loadKeys("", "", logger)
	b, _, _ := loadKeys("", "", logger)
	if bytes.Equal(a, b) {
		t.Error("two random hash keys are equal")
	}
}

// goroutinesWith returns the stacks of the goroutines that have one of the
// given substrings in their stack.
func goroutinesWith(substrings ...string) string {
	buf := make([]byte, 1<<20)
	var found []string
	for _, g := range strings.Split(string(buf[:runtime.Stack(buf, true)]), "\n\n") {
		for _, s := range substrings {
			if strings.Contains(g, s) {
				found = append(found, g)
				break
			}
		}
	}
	return strings.Join(found, "\n\n")
}
