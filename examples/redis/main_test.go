package main

import (
	"bufio"
	"bytes"
	"context"
	"io"
	"log"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/valyala/fasthttp"
)

var (
	testHash  = bytes.Repeat([]byte{0x42}, 32)
	testBlock = bytes.Repeat([]byte{0x24}, 32)
)

type quietLogger struct{}

func (quietLogger) Printf(context.Context, string, ...any) {}

func TestMain(m *testing.M) {
	redis.SetLogger(quietLogger{}) // a test stops Redis: no dial errors on stderr
	os.Exit(m.Run())
}

// redisServer is a redis-server process of one test.
type redisServer struct {
	addr   string
	dir    string
	cmd    *exec.Cmd
	exited chan struct{}
}

// startRedis starts a redis-server without persistence on a free loopback
// port, and kills it when the test ends. Without redis-server the test is
// skipped, or fails when CI is set.
func startRedis(t *testing.T) *redisServer {
	t.Helper()
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("redis-server not found (CI is set): %v", err)
		}
		t.Skip("redis-server not found: install redis-server (apt-get install redis-server)")
	}
	dir := t.TempDir()
	for range 3 { // the port may be taken between Listen and the start
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		port := l.Addr().(*net.TCPAddr).Port
		l.Close()
		r := &redisServer{addr: net.JoinHostPort("127.0.0.1", strconv.Itoa(port)), dir: dir, exited: make(chan struct{})}
		r.cmd = exec.Command(bin, "--port", strconv.Itoa(port), "--bind", "127.0.0.1",
			"--save", "", "--appendonly", "no", "--dir", dir, "--logfile", filepath.Join(dir, "redis.log"))
		if err := r.cmd.Start(); err != nil {
			t.Fatal(err)
		}
		go func() {
			_ = r.cmd.Wait()
			close(r.exited)
		}()
		t.Cleanup(r.kill)
		if r.waitPing() {
			return r
		}
		r.kill()
	}
	log, _ := os.ReadFile(filepath.Join(dir, "redis.log"))
	t.Fatalf("redis-server did not start; log:\n%s", log)
	return nil
}

func (r *redisServer) waitPing() bool {
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); {
		select {
		case <-r.exited:
			return false
		default:
		}
		if c, err := net.DialTimeout("tcp", r.addr, time.Second); err == nil {
			_ = c.SetDeadline(time.Now().Add(time.Second))
			_, _ = io.WriteString(c, "PING\r\n")
			line, _ := bufio.NewReader(c).ReadString('\n')
			c.Close()
			if strings.HasPrefix(line, "+PONG") {
				return true
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	return false
}

func (r *redisServer) kill() {
	select {
	case <-r.exited:
	default:
		_ = r.cmd.Process.Kill()
		<-r.exited
	}
}

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

// instance is one instance of the application on a real loopback
// listener, with its own Redis client.
type instance struct {
	t      *testing.T
	addr   string
	log    *syncBuffer
	client *redis.Client
}

func startInstance(t *testing.T, r *redisServer) *instance {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	in := &instance{t: t, addr: ln.Addr().String(), log: new(syncBuffer), client: newClient(r.addr)}
	logger := log.New(in.log, "", 0)
	store := newStore(in.client, testHash, testBlock, logger)
	store.Timeout = 500 * time.Millisecond
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- serve(ctx, ln, newApp(store, logger), logger) }()
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
		in.client.Close()
	})
	return in
}

// browser is one user agent: a keep-alive client with its own cookie jar.
type browser struct {
	t   *testing.T
	jar map[string]string
}

type response struct {
	status    int
	body      string
	location  string
	setCookie string // the raw Set-Cookie of the session cookie, or ""
}

// do sends a request to in with the jar's cookies and keeps the cookies of
// the response, as a browser does.
func (b *browser) do(in *instance, method, path, form string) response {
	b.t.Helper()
	req, resp := fasthttp.AcquireRequest(), fasthttp.AcquireResponse()
	defer fasthttp.ReleaseRequest(req)
	defer fasthttp.ReleaseResponse(resp)
	req.Header.SetMethod(method)
	req.SetRequestURI("http://" + in.addr + path)
	if form != "" {
		req.Header.SetContentType("application/x-www-form-urlencoded")
		req.SetBodyString(form)
	}
	for k, v := range b.jar {
		req.Header.SetCookie(k, v)
	}
	if err := fasthttp.DoTimeout(req, resp, 10*time.Second); err != nil {
		b.t.Fatalf("%s %s: %v", method, path, err)
	}
	r := response{status: resp.StatusCode(), body: string(resp.Body()), location: string(resp.Header.Peek(fasthttp.HeaderLocation))}
	for k, v := range resp.Header.Cookies() {
		ck := fasthttp.AcquireCookie()
		if err := ck.ParseBytes(v); err != nil {
			b.t.Fatalf("bad Set-Cookie %q: %v", v, err)
		}
		if string(k) == sessionName {
			r.setCookie = string(v)
		}
		if bytes.Contains(bytes.ToLower(v), []byte("max-age=0")) {
			delete(b.jar, string(k))
		} else {
			b.jar[string(k)] = string(ck.Value())
		}
		fasthttp.ReleaseCookie(ck)
	}
	return r
}

func (b *browser) get(in *instance, path string) response {
	b.t.Helper()
	return b.do(in, fasthttp.MethodGet, path, "")
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

func expectRedirectHome(t *testing.T, what string, r response) {
	t.Helper()
	if r.status != fasthttp.StatusSeeOther || r.location != "/" {
		t.Fatalf("%s: %d Location %q, want 303 to /; body %q", what, r.status, r.location, r.body)
	}
}

const notLoggedIn = `<p id="user">not logged in</p>`

func loggedInAs(name string) string { return `Logged in as <strong id="user">` + name + `</strong>` }

// sessionKeys returns the session records in Redis with their TTLs.
func sessionKeys(t *testing.T, c *redis.Client) map[string]time.Duration {
	t.Helper()
	ctx := context.Background()
	keys, err := c.Keys(ctx, "example:session:*").Result()
	if err != nil {
		t.Fatal(err)
	}
	m := map[string]time.Duration{}
	for _, k := range keys {
		m[k] = c.PTTL(ctx, k).Val()
	}
	return m
}

func TestLoginAcrossInstancesAndLogout(t *testing.T) {
	r := startRedis(t)
	a, b := startInstance(t, r), startInstance(t, r)
	user := &browser{t: t, jar: map[string]string{}}

	res := user.get(a, "/")
	if res.status != 200 || res.setCookie != "" {
		t.Fatalf("first visit: %d, Set-Cookie %q", res.status, res.setCookie)
	}
	contains(t, "first visit", res.body, notLoggedIn)
	if n := len(sessionKeys(t, a.client)); n != 0 {
		t.Fatalf("a visit without login stored %d records", n)
	}

	res = user.get(a, "/login?user=alice")
	expectRedirectHome(t, "login", res)
	contains(t, "login cookie", res.setCookie, "session=", "; Path=/", "; HttpOnly", "; SameSite=Lax")
	lacks(t, "browser-session cookie", res.setCookie, "Max-Age", "Expires")
	keys := sessionKeys(t, a.client)
	if len(keys) != 1 {
		t.Fatalf("records after login: %v", keys)
	}
	for k, ttl := range keys {
		// A browser-session cookie: the record lives 24 h after each Save.
		if ttl < 23*time.Hour || ttl > 24*time.Hour {
			t.Errorf("%s: TTL %v, want 24h", k, ttl)
		}
	}

	// The other instance sees the session; the flash is shown once.
	res = user.get(b, "/")
	contains(t, "page on the other instance", res.body, loggedInAs("alice"), `<p class="flash">Welcome, alice!</p>`)
	res = user.get(a, "/")
	contains(t, "second page", res.body, loggedInAs("alice"))
	lacks(t, "second page", res.body, "Welcome")

	// Logging in again moves the session to a new ID: one record.
	old := user.jar[sessionName]
	expectRedirectHome(t, "login again", user.do(b, fasthttp.MethodPost, "/login", "user=alice"))
	if user.jar[sessionName] == old {
		t.Error("a login kept the cookie")
	}
	if keys := sessionKeys(t, a.client); len(keys) != 1 {
		t.Fatalf("records after a second login: %v", keys)
	}
	stolen := &browser{t: t, jar: map[string]string{sessionName: old}}
	contains(t, "the cookie from before the login", stolen.get(a, "/").body, notLoggedIn)

	// Logout through b deletes the record; a copy of the cookie is useless
	// on a.
	copyOfCookie := user.jar[sessionName]
	res = user.do(b, fasthttp.MethodPost, "/logout", "")
	expectRedirectHome(t, "logout", res)
	contains(t, "logout cookie", res.setCookie, "session=;", "Max-Age=0")
	if keys := sessionKeys(t, a.client); len(keys) != 0 {
		t.Fatalf("records after logout: %v", keys)
	}
	contains(t, "page after logout", user.get(a, "/").body, notLoggedIn)
	stolen.jar[sessionName] = copyOfCookie
	contains(t, "a copy of the logged-out cookie", stolen.get(a, "/").body, notLoggedIn)
	for _, in := range []*instance{a, b} {
		if l := in.log.String(); l != "" {
			t.Errorf("unexpected log: %s", l)
		}
	}
}

func TestRememberMe(t *testing.T) {
	r := startRedis(t)
	a := startInstance(t, r)
	user := &browser{t: t, jar: map[string]string{}}
	res := user.do(a, fasthttp.MethodPost, "/login", "user=bob&remember=1")
	expectRedirectHome(t, "login", res)
	contains(t, "remembered cookie", res.setCookie, "; Max-Age=2592000", "; Expires=")
	for k, ttl := range sessionKeys(t, a.client) {
		if ttl < 30*24*time.Hour-time.Minute || ttl > 30*24*time.Hour {
			t.Errorf("%s: TTL %v, want 30 days", k, ttl)
		}
	}
	contains(t, "page", user.get(a, "/").body, loggedInAs("bob"))
}

// TestRedisDown stops Redis: requests that need the session answer 503
// and keep the user's cookie, instead of logging the user out.
func TestRedisDown(t *testing.T) {
	r := startRedis(t)
	a := startInstance(t, r)
	user := &browser{t: t, jar: map[string]string{}}
	user.get(a, "/login?user=carol")
	cookie := user.jar[sessionName]
	r.kill()
	for _, path := range []string{"/", "/login?user=dave", "/logout"} {
		res := user.get(a, path)
		if res.status != fasthttp.StatusServiceUnavailable || res.setCookie != "" {
			t.Errorf("GET %s with Redis down: %d, Set-Cookie %q", path, res.status, res.setCookie)
		}
	}
	if user.jar[sessionName] != cookie {
		t.Error("the cookie changed while Redis was down")
	}
	contains(t, "log", a.log.String(), "loading the session: sessions: ")
}

func TestBadRequests(t *testing.T) {
	r := startRedis(t)
	a := startInstance(t, r)
	user := &browser{t: t, jar: map[string]string{}}
	for _, c := range []struct {
		method, path, form string
		status             int
	}{
		{"GET", "/login", "", 400},
		{"GET", "/login?user=" + strings.Repeat("x", maxUserLen+1), "", 400},
		{"PUT", "/login", "user=x", 405},
		{"POST", "/", "user=x", 405},
		{"GET", "/nope", "", 404},
	} {
		if res := user.do(a, c.method, c.path, c.form); res.status != c.status || res.setCookie != "" {
			t.Errorf("%s %s = %d (Set-Cookie %q), want %d and no cookie", c.method, c.path, res.status, res.setCookie, c.status)
		}
	}
	// A cookie signed with other keys is deleted and logged once.
	user.jar[sessionName] = "garbage"
	res := user.get(a, "/")
	contains(t, "page", res.body, notLoggedIn)
	contains(t, "cookie", res.setCookie, "Max-Age=0")
	contains(t, "log", a.log.String(), "ignoring session cookie")
}

func TestCheckClientAdvice(t *testing.T) {
	var buf syncBuffer
	c := redis.NewClient(&redis.Options{Addr: "127.0.0.1:1"})
	defer c.Close()
	newStore(c, testHash, testBlock, log.New(&buf, "", 0))
	contains(t, "log", buf.String(), "ContextTimeoutEnabled")
	var buf2 syncBuffer
	c2 := newClient("127.0.0.1:1")
	defer c2.Close()
	newStore(c2, testHash, testBlock, log.New(&buf2, "", 0))
	if buf2.String() != "" {
		t.Errorf("advice for the example's own client: %s", buf2.String())
	}
}
