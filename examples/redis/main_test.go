package main

import (
	"context"
	"log"
	"net"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/fasthttp-sessions/sessions/internal/exampletest"
	"github.com/fasthttp-sessions/sessions/internal/redistest"
	"github.com/redis/go-redis/v9"
	"github.com/valyala/fasthttp"
)

func TestMain(m *testing.M) {
	redis.SetLogger(redistest.QuietLogger{}) // a test stops Redis: no dial errors on stderr
	os.Exit(m.Run())
}

// instance is one instance of the application on a real loopback
// listener, with its own Redis client.
type instance struct {
	*exampletest.Server
	client redis.UniversalClient
}

func startInstance(t *testing.T, r *redistest.Server) *instance {
	t.Helper()
	return startOn(t, []string{r.Addr()}, "", 0, 0)
}

// startOn starts an instance on the Redis at addrs (see newClient), whose
// store waits up to waitTimeout for waitReplicas replicas.
func startOn(t *testing.T, addrs []string, masterName string, waitReplicas int, waitTimeout time.Duration) *instance {
	t.Helper()
	in := &instance{Server: exampletest.NewServer(t), client: newClient(addrs, masterName)}
	// Cleanups run last in, first out: the client is closed once serve has
	// returned.
	t.Cleanup(func() { in.client.Close() })
	logger := log.New(in.Log, "", 0)
	store := newStore(in.client, exampletest.HashKey, exampletest.BlockKey, logger)
	store.Timeout = 500 * time.Millisecond
	store.WaitReplicas, store.WaitTimeout = waitReplicas, waitTimeout
	in.StartContext(func(ctx context.Context, ln net.Listener) error {
		return serve(ctx, ln, newApp(store, logger), logger)
	})
	return in
}

const notLoggedIn = `<p id="user">not logged in</p>`

func loggedInAs(name string) string { return `Logged in as <strong id="user">` + name + `</strong>` }

// sessionKeys returns the session records in Redis with their TTLs.
func sessionKeys(t *testing.T, c redis.UniversalClient) map[string]time.Duration {
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
	r := redistest.Start(t)
	a, b := startInstance(t, r), startInstance(t, r)
	user := exampletest.NewAgent(t, sessionName)

	res := user.Get(a, "/")
	if res.Status != 200 || res.SetCookie != "" {
		t.Fatalf("first visit: %d, Set-Cookie %q", res.Status, res.SetCookie)
	}
	exampletest.Contains(t, "first visit", res.Body, notLoggedIn)
	if n := len(sessionKeys(t, a.client)); n != 0 {
		t.Fatalf("a visit without login stored %d records", n)
	}

	res = user.Get(a, "/login?user=alice")
	exampletest.ExpectRedirectHome(t, "login", res)
	exampletest.Contains(t, "login cookie", res.SetCookie, "session=", "; Path=/", "; HttpOnly", "; SameSite=Lax")
	exampletest.Lacks(t, "browser-session cookie", res.SetCookie, "Max-Age", "Expires")
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
	res = user.Get(b, "/")
	exampletest.Contains(t, "page on the other instance", res.Body, loggedInAs("alice"), `<p class="flash">Welcome, alice!</p>`)
	res = user.Get(a, "/")
	exampletest.Contains(t, "second page", res.Body, loggedInAs("alice"))
	exampletest.Lacks(t, "second page", res.Body, "Welcome")

	// Logging in again moves the session to a new ID: the session's record,
	// and the forwarding marker left under a key derived from the old ID
	// (a logout that raced the login follows it); the logout removes both.
	old := user.Jar[sessionName]
	exampletest.ExpectRedirectHome(t, "login again", user.Do(b, fasthttp.MethodPost, "/login", "user=alice"))
	if user.Jar[sessionName] == old {
		t.Error("a login kept the cookie")
	}
	if keys := sessionKeys(t, a.client); len(keys) != 2 {
		t.Fatalf("records after a second login: %v", keys)
	}
	stolen := exampletest.NewAgent(t, sessionName)
	stolen.Jar[sessionName] = old
	exampletest.Contains(t, "the cookie from before the login", stolen.Get(a, "/").Body, notLoggedIn)

	// Logout through b deletes the record; a copy of the cookie is useless
	// on a.
	copyOfCookie := user.Jar[sessionName]
	res = user.Do(b, fasthttp.MethodPost, "/logout", "")
	exampletest.ExpectRedirectHome(t, "logout", res)
	exampletest.Contains(t, "logout cookie", res.SetCookie, "session=;", "Max-Age=0")
	if keys := sessionKeys(t, a.client); len(keys) != 0 {
		t.Fatalf("records after logout: %v", keys)
	}
	exampletest.Contains(t, "page after logout", user.Get(a, "/").Body, notLoggedIn)
	stolen.Jar[sessionName] = copyOfCookie
	exampletest.Contains(t, "a copy of the logged-out cookie", stolen.Get(a, "/").Body, notLoggedIn)
	for _, in := range []*instance{a, b} {
		if l := in.Log.String(); l != "" {
			t.Errorf("unexpected log: %s", l)
		}
	}
}

func TestRememberMe(t *testing.T) {
	r := redistest.Start(t)
	a := startInstance(t, r)
	user := exampletest.NewAgent(t, sessionName)
	res := user.Do(a, fasthttp.MethodPost, "/login", "user=bob&remember=1")
	exampletest.ExpectRedirectHome(t, "login", res)
	exampletest.Contains(t, "remembered cookie", res.SetCookie, "; Max-Age=2592000", "; Expires=")
	for k, ttl := range sessionKeys(t, a.client) {
		if ttl < 30*24*time.Hour-time.Minute || ttl > 30*24*time.Hour {
			t.Errorf("%s: TTL %v, want 30 days", k, ttl)
		}
	}
	exampletest.Contains(t, "page", user.Get(a, "/").Body, loggedInAs("bob"))
}

// TestRedisDown stops Redis: requests that need the session answer 503
// and keep the user's cookie, instead of logging the user out.
func TestRedisDown(t *testing.T) {
	r := redistest.Start(t)
	a := startInstance(t, r)
	user := exampletest.NewAgent(t, sessionName)
	user.Get(a, "/login?user=carol")
	cookie := user.Jar[sessionName]
	r.Kill()
	for _, path := range []string{"/", "/login?user=dave", "/logout"} {
		res := user.Get(a, path)
		if res.Status != fasthttp.StatusServiceUnavailable || res.SetCookie != "" {
			t.Errorf("GET %s with Redis down: %d, Set-Cookie %q", path, res.Status, res.SetCookie)
		}
	}
	if user.Jar[sessionName] != cookie {
		t.Error("the cookie changed while Redis was down")
	}
	exampletest.Contains(t, "log", a.Log.String(), "loading the session: sessions: ")
}

func TestBadRequests(t *testing.T) {
	r := redistest.Start(t)
	a := startInstance(t, r)
	user := exampletest.NewAgent(t, sessionName)
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
		if res := user.Do(a, c.method, c.path, c.form); res.Status != c.status || res.SetCookie != "" {
			t.Errorf("%s %s = %d (Set-Cookie %q), want %d and no cookie", c.method, c.path, res.Status, res.SetCookie, c.status)
		}
	}
	// A cookie signed with other keys is deleted and logged once.
	user.Jar[sessionName] = "garbage"
	res := user.Get(a, "/")
	exampletest.Contains(t, "page", res.Body, notLoggedIn)
	exampletest.Contains(t, "cookie", res.SetCookie, "Max-Age=0")
	exampletest.Contains(t, "log", a.Log.String(), "ignoring session cookie")
}

func TestCheckClientAdvice(t *testing.T) {
	var buf exampletest.LogBuffer
	c := redis.NewClient(&redis.Options{Addr: "127.0.0.1:1"})
	defer c.Close()
	newStore(c, exampletest.HashKey, exampletest.BlockKey, log.New(&buf, "", 0))
	exampletest.Contains(t, "log", buf.String(), "ContextTimeoutEnabled")
	var buf2 exampletest.LogBuffer
	c2 := newClient([]string{"127.0.0.1:1"}, "")
	defer c2.Close()
	newStore(c2, exampletest.HashKey, exampletest.BlockKey, log.New(&buf2, "", 0))
	if buf2.String() != "" {
		t.Errorf("advice for the example's own client: %s", buf2.String())
	}
}

// TestDurableLogout runs the application with -wait-replicas 1 on a
// master with one replica: logouts succeed while the replica confirms
// them; once it is cut off, a logout answers 503, says that it is not
// confirmed, and leaves the cookie alone.
func TestDurableLogout(t *testing.T) {
	nodes := redistest.StartReplicated(t, 1, nil)
	// While the replica is up, WAIT returns as soon as it confirms.
	a := startOn(t, []string{nodes[0].Addr()}, "", 1, 4*time.Second)
	user := exampletest.NewAgent(t, sessionName)
	exampletest.ExpectRedirectHome(t, "login", user.Get(a, "/login?user=alice"))
	res := user.Do(a, fasthttp.MethodPost, "/logout", "")
	exampletest.ExpectRedirectHome(t, "confirmed logout", res)
	exampletest.Contains(t, "confirmed logout's cookie", res.SetCookie, "Max-Age=0")

	exampletest.ExpectRedirectHome(t, "login", user.Get(a, "/login?user=bob"))
	cookie := user.Jar[sessionName]
	redistest.CutLink(t, nodes[0], nodes[1])
	// Now WAIT can only time out: an instance that gives up sooner.
	a = startOn(t, []string{nodes[0].Addr()}, "", 1, 100*time.Millisecond)
	res = user.Do(a, fasthttp.MethodPost, "/logout", "")
	if res.Status != fasthttp.StatusServiceUnavailable || res.SetCookie != "" || user.Jar[sessionName] != cookie {
		t.Fatalf("logout that the replica cannot confirm: %d, Set-Cookie %q", res.Status, res.SetCookie)
	}
	exampletest.Contains(t, "page", res.Body, "your logout is not confirmed yet")
	exampletest.Contains(t, "log", a.Log.String(), "Redis replicas did not confirm the write")
}

// TestSentinel runs the application on Sentinel (-redis with the
// sentinels' addresses and -master-name).
func TestSentinel(t *testing.T) {
	g := redistest.StartSentinel(t, redistest.SentinelConfig{Replicas: 1})
	a := startOn(t, g.Addrs(), redistest.MasterName, 1, 4*time.Second)
	if _, ok := a.client.(*redis.Client); !ok {
		t.Fatalf("newClient with a master name returned a %T", a.client)
	}
	user := exampletest.NewAgent(t, sessionName)
	exampletest.ExpectRedirectHome(t, "login", user.Get(a, "/login?user=carol"))
	exampletest.Contains(t, "page", user.Get(a, "/").Body, loggedInAs("carol"))
	exampletest.ExpectRedirectHome(t, "logout", user.Do(a, fasthttp.MethodPost, "/logout", ""))
	exampletest.Contains(t, "page after logout", user.Get(a, "/").Body, notLoggedIn)
	if l := a.Log.String(); l != "" {
		t.Errorf("unexpected log: %s", l)
	}
}
