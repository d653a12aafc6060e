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
	"testing"
	"time"

	"github.com/fasthttp-sessions/sessions"
	"github.com/fasthttp-sessions/sessions/internal/exampletest"
	"github.com/valyala/fasthttp"
)

// startServer serves the application with store on a real loopback
// listener until the test ends.
func startServer(t *testing.T, store *sessions.CookieStore) *exampletest.Server {
	t.Helper()
	ts := exampletest.NewServer(t)
	logger := log.New(ts.Log, "", 0)
	ts.StartContext(func(ctx context.Context, ln net.Listener) error {
		return serve(ctx, ln, newApp(store, logger), logger)
	})
	return ts
}

const (
	notLoggedIn = `<p id="user">not logged in</p>`
	flashClass  = `class="flash"`
)

func loggedInAs(name string) string { return `Logged in as <strong id="user">` + name + `</strong>` }

func TestLoginFlashLogout(t *testing.T) {
	ts := startServer(t, newStore(exampletest.HashKey, exampletest.BlockKey, false))
	b := exampletest.NewAgent(t, sessionName)

	r := b.Get(ts, "/")
	if r.Status != 200 || r.SetCookie != "" {
		t.Fatalf("first visit: %d, Set-Cookie %q", r.Status, r.SetCookie)
	}
	exampletest.Contains(t, "first visit", r.Body, notLoggedIn, `<form method="post" action="/login">`)

	r = b.Get(ts, "/login?user=alice")
	exampletest.ExpectRedirectHome(t, "login", r)
	exampletest.Contains(t, "login cookie", r.SetCookie, "session=", "; Path=/", "; HttpOnly", "; SameSite=Lax")
	exampletest.Lacks(t, "login cookie without remember me", r.SetCookie, "Max-Age", "Expires", "Secure")

	// The flash is shown on the first page load only; the user on both.
	r = b.Get(ts, "/")
	exampletest.Contains(t, "page after login", r.Body, loggedInAs("alice"), `<p class="flash">Welcome, alice!</p>`)
	// Consuming the flash saves the session again: still a browser-session
	// cookie, although the store's default MaxAge is 30 days.
	exampletest.Contains(t, "cookie after reading the flash", r.SetCookie, "; Path=/", "; HttpOnly", "; SameSite=Lax")
	exampletest.Lacks(t, "cookie after reading the flash", r.SetCookie, "Max-Age", "Expires")

	r = b.Get(ts, "/")
	exampletest.Contains(t, "second page", r.Body, loggedInAs("alice"))
	exampletest.Lacks(t, "second page", r.Body, flashClass, "Welcome")
	if r.SetCookie != "" {
		t.Errorf("a page without flashes set a cookie: %q", r.SetCookie)
	}

	r = b.Get(ts, "/logout")
	exampletest.ExpectRedirectHome(t, "logout", r)
	exampletest.Contains(t, "logout cookie", r.SetCookie, "session=;", "Max-Age=0", "Expires=Thu, 01 Jan 1970 00:00:01 GMT", "; Path=/")
	if len(b.Jar) != 0 {
		t.Fatalf("jar after logout: %v", b.Jar)
	}

	r = b.Get(ts, "/")
	exampletest.Contains(t, "page after logout", r.Body, notLoggedIn)
	exampletest.Lacks(t, "page after logout", r.Body, flashClass, "alice")

	if n := ts.Listener.Accepted(); n != 1 {
		t.Errorf("the server accepted %d connections, want 1 keep-alive connection", n)
	}
	if log := ts.Log.String(); log != "" {
		t.Errorf("unexpected log: %s", log)
	}
}

func TestRememberMe(t *testing.T) {
	ts := startServer(t, newStore(exampletest.HashKey, exampletest.BlockKey, false))
	b := exampletest.NewAgent(t, sessionName)

	// The form on / posts user and remember=1.
	r := b.Do(ts, fasthttp.MethodPost, "/login", "user=bob&remember=1")
	exampletest.ExpectRedirectHome(t, "login", r)
	exampletest.Contains(t, "remembered cookie", r.SetCookie, "; Max-Age=2592000", "; Expires=", "; HttpOnly", "; SameSite=Lax", "; Path=/")

	// Saved again when the flash is read: the choice is kept.
	r = b.Get(ts, "/")
	exampletest.Contains(t, "page", r.Body, loggedInAs("bob"), "Welcome, bob!")
	exampletest.Contains(t, "cookie after reading the flash", r.SetCookie, "; Max-Age=2592000")

	// Logging in again without remember me goes back to a browser-session
	// cookie.
	r = b.Do(ts, fasthttp.MethodPost, "/login", "user=bob")
	exampletest.ExpectRedirectHome(t, "login again", r)
	exampletest.Lacks(t, "cookie without remember me", r.SetCookie, "Max-Age", "Expires")
}

func TestHostileNameIsEscaped(t *testing.T) {
	ts := startServer(t, newStore(exampletest.HashKey, exampletest.BlockKey, false))
	b := exampletest.NewAgent(t, sessionName)
	r := b.Do(ts, fasthttp.MethodPost, "/login", "user=%3Cscript%3Ealert(1)%3C%2Fscript%3E")
	exampletest.ExpectRedirectHome(t, "login", r)
	r = b.Get(ts, "/")
	const escaped = "&lt;script&gt;alert(1)&lt;/script&gt;"
	exampletest.Contains(t, "page", r.Body, loggedInAs(escaped), "Welcome, "+escaped+"!")
	exampletest.Lacks(t, "page", r.Body, "<script>", "</script>")
}

func TestSameSiteNone(t *testing.T) {
	ts := startServer(t, newStore(exampletest.HashKey, exampletest.BlockKey, true))
	b := exampletest.NewAgent(t, sessionName)
	r := b.Get(ts, "/login?user=carol")
	exampletest.ExpectRedirectHome(t, "login", r)
	exampletest.Contains(t, "cookie", r.SetCookie, "; SameSite=None", "; Secure", "; HttpOnly", "; Path=/")
}

func TestSignedOnlyCookie(t *testing.T) {
	ts := startServer(t, newStore(exampletest.HashKey, nil, false))
	b := exampletest.NewAgent(t, sessionName)
	b.Get(ts, "/login?user=dave")
	exampletest.Contains(t, "page", b.Get(ts, "/").Body, loggedInAs("dave"))
}

// TestCookieFromOtherKeys is a restart with new random keys: the old cookie
// no longer decodes, the user is logged out, the cookie is deleted and the
// error logged once.
func TestCookieFromOtherKeys(t *testing.T) {
	before := startServer(t, newStore(exampletest.HashKey, exampletest.BlockKey, false))
	b := exampletest.NewAgent(t, sessionName)
	b.Get(before, "/login?user=erin")
	cookie := b.Jar[sessionName]
	if cookie == "" {
		t.Fatal("no cookie after login")
	}

	after := startServer(t, newStore(bytes.Repeat([]byte{1}, 32), bytes.Repeat([]byte{2}, 32), false))
	b2 := exampletest.NewAgent(t, sessionName)
	b2.Jar[sessionName] = cookie
	r := b2.Get(after, "/")
	exampletest.Contains(t, "page", r.Body, notLoggedIn)
	exampletest.Contains(t, "cookie", r.SetCookie, "session=;", "Max-Age=0")
	exampletest.Contains(t, "log", after.Log.String(), "ignoring session cookie", `sessions: session "session": invalid cookie`)

	r = b2.Get(after, "/")
	exampletest.Contains(t, "page", r.Body, notLoggedIn)
	if strings.Count(after.Log.String(), "\n") != 1 {
		t.Errorf("log: %q, want one line", after.Log.String())
	}
}

func TestBadRequests(t *testing.T) {
	ts := startServer(t, newStore(exampletest.HashKey, exampletest.BlockKey, false))
	b := exampletest.NewAgent(t, sessionName)
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
		if r := b.Do(ts, c.method, c.path, c.form); r.Status != c.status || r.SetCookie != "" {
			t.Errorf("%s %s %q = %d (Set-Cookie %q), want %d and no cookie", c.method, c.path, c.form, r.Status, r.SetCookie, c.status)
		}
	}
	if r := b.Get(ts, "/login?user="+strings.Repeat("x", maxUserLen)); r.Status != fasthttp.StatusSeeOther {
		t.Errorf("longest name: %d", r.Status)
	}
}

// TestRunStopsOnCancel starts run, makes a request over a keep-alive
// connection that stays open, cancels the context, and checks that run
// returns and leaves no goroutine serving behind.
func TestRunStopsOnCancel(t *testing.T) {
	logs := new(exampletest.LogBuffer)
	logger := log.New(logs, "", 0)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, "127.0.0.1:0", newApp(newStore(exampletest.HashKey, exampletest.BlockKey, false), logger), logger)
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
	exampletest.Contains(t, "log", logs.String(), "shutting down")
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
	if err := run(context.Background(), l.Addr().String(), newApp(newStore(exampletest.HashKey, nil, false), logger), logger); err == nil {
		t.Fatal("run on a busy address returned nil")
	}
}

func TestLoadKeys(t *testing.T) {
	logs := new(exampletest.LogBuffer)
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
				exampletest.Contains(t, "log", logs.String(), c.wantLog)
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
