package main

import (
	"context"
	"log"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/fasthttp-sessions/sessions/internal/exampletest"
	"github.com/fasthttp-sessions/sessions/internal/pgtest"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/valyala/fasthttp"
)

// instance is one instance of the application on a real loopback
// listener, with its own pool.
type instance struct {
	*exampletest.Server
	pool *pgxpool.Pool
}

func startInstance(t *testing.T, db *pgtest.Server) *instance {
	t.Helper()
	pool, err := pgxpool.New(context.Background(), db.URL())
	if err != nil {
		t.Fatal(err)
	}
	// Cleanups run last in, first out: the pool is closed once serve has
	// returned.
	t.Cleanup(pool.Close)
	in := &instance{Server: exampletest.NewServer(t), pool: pool}
	store, err := newStore(pool, exampletest.HashKey, exampletest.BlockKey)
	if err != nil {
		t.Fatal(err)
	}
	store.Timeout = 500 * time.Millisecond
	t.Cleanup(store.StartCleanup(cleanupInterval))
	logger := log.New(in.Log, "", 0)
	in.StartContext(func(ctx context.Context, ln net.Listener) error {
		return serve(ctx, ln, newApp(store, logger), logger)
	})
	return in
}

const notLoggedIn = `<p id="user">not logged in</p>`

func loggedInAs(name string) string { return `Logged in as <strong id="user">` + name + `</strong>` }

// rows returns the live session rows, by ID, with the time each has left.
func rows(t *testing.T, pool *pgxpool.Pool) map[string]time.Duration {
	t.Helper()
	r, err := pool.Query(context.Background(), "SELECT id, expires FROM "+table.Sanitize()+" WHERE expires > now()")
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	m := map[string]time.Duration{}
	for r.Next() {
		var (
			id      string
			expires time.Time
		)
		if err := r.Scan(&id, &expires); err != nil {
			t.Fatal(err)
		}
		m[id] = time.Until(expires)
	}
	if err := r.Err(); err != nil {
		t.Fatal(err)
	}
	return m
}

func TestLoginAcrossInstancesAndLogout(t *testing.T) {
	db := pgtest.Start(t)
	a, b := startInstance(t, db), startInstance(t, db)
	user := exampletest.NewAgent(t, sessionName)

	res := user.Get(a, "/")
	if res.Status != 200 || res.SetCookie != "" {
		t.Fatalf("first visit: %d, Set-Cookie %q", res.Status, res.SetCookie)
	}
	exampletest.Contains(t, "first visit", res.Body, notLoggedIn)
	if n := len(rows(t, a.pool)); n != 0 {
		t.Fatalf("a visit without login stored %d rows", n)
	}
	if res := user.Get(a, "/private"); res.Status != fasthttp.StatusUnauthorized {
		t.Fatalf("private page before login: %d", res.Status)
	}

	res = user.Get(a, "/login?user=alice")
	exampletest.ExpectRedirectHome(t, "login", res)
	exampletest.Contains(t, "login cookie", res.SetCookie, "session=", "; Path=/", "; HttpOnly", "; SameSite=Lax")
	exampletest.Lacks(t, "browser-session cookie", res.SetCookie, "Max-Age", "Expires")
	live := rows(t, a.pool)
	if len(live) != 1 {
		t.Fatalf("rows after login: %v", live)
	}
	for id, left := range live {
		// A browser-session cookie: the row lives 24 h after each Save.
		if left < 23*time.Hour || left > 24*time.Hour {
			t.Errorf("%s: expires in %v, want 24h", id, left)
		}
	}

	// The other instance sees the session; the flash is shown once.
	res = user.Get(b, "/")
	exampletest.Contains(t, "page on the other instance", res.Body, loggedInAs("alice"), `<p class="flash">Welcome, alice!</p>`)
	res = user.Get(a, "/")
	exampletest.Contains(t, "second page", res.Body, loggedInAs("alice"))
	exampletest.Lacks(t, "second page", res.Body, "Welcome")
	res = user.Get(b, "/private")
	if res.Status != 200 {
		t.Fatalf("private page: %d %q", res.Status, res.Body)
	}
	exampletest.Contains(t, "private page", res.Body, "Private page of <strong>alice</strong>")

	// Logging in again moves the session to a new ID: the session's row,
	// and the forwarding marker left under a name derived from the old ID
	// (a logout that raced the login follows it); the logout removes both.
	old := user.Jar[sessionName]
	exampletest.ExpectRedirectHome(t, "login again", user.Do(b, fasthttp.MethodPost, "/login", "user=alice"))
	if user.Jar[sessionName] == old {
		t.Error("a login kept the cookie")
	}
	if live := rows(t, a.pool); len(live) != 2 {
		t.Fatalf("rows after a second login: %v", live)
	}
	stolen := exampletest.NewAgent(t, sessionName)
	stolen.Jar[sessionName] = old
	exampletest.Contains(t, "the cookie from before the login", stolen.Get(a, "/").Body, notLoggedIn)

	// Logout through b deletes the row; a copy of the cookie is useless
	// on a.
	copyOfCookie := user.Jar[sessionName]
	res = user.Do(b, fasthttp.MethodPost, "/logout", "")
	exampletest.ExpectRedirectHome(t, "logout", res)
	exampletest.Contains(t, "logout cookie", res.SetCookie, "session=;", "Max-Age=0")
	if live := rows(t, a.pool); len(live) != 0 {
		t.Fatalf("rows after logout: %v", live)
	}
	exampletest.Contains(t, "page after logout", user.Get(a, "/").Body, notLoggedIn)
	stolen.Jar[sessionName] = copyOfCookie
	exampletest.Contains(t, "a copy of the logged-out cookie", stolen.Get(a, "/").Body, notLoggedIn)
	if res := stolen.Get(a, "/private"); res.Status != fasthttp.StatusUnauthorized {
		t.Errorf("private page with the logged-out cookie: %d", res.Status)
	}
	for _, in := range []*instance{a, b} {
		if l := in.Log.String(); l != "" {
			t.Errorf("unexpected log: %s", l)
		}
	}
}

func TestRememberMe(t *testing.T) {
	a := startInstance(t, pgtest.Start(t))
	user := exampletest.NewAgent(t, sessionName)
	res := user.Do(a, fasthttp.MethodPost, "/login", "user=bob&remember=1")
	exampletest.ExpectRedirectHome(t, "login", res)
	exampletest.Contains(t, "remembered cookie", res.SetCookie, "; Max-Age=2592000", "; Expires=")
	for id, left := range rows(t, a.pool) {
		if left < 30*24*time.Hour-time.Minute || left > 30*24*time.Hour {
			t.Errorf("%s: expires in %v, want 30 days", id, left)
		}
	}
	exampletest.Contains(t, "page", user.Get(a, "/").Body, loggedInAs("bob"))
}

// TestDatabaseDown stops PostgreSQL: requests that need the session answer
// 503 and keep the user's cookie, instead of logging the user out; once it
// is back, so is the user's session.
func TestDatabaseDown(t *testing.T) {
	db := pgtest.Start(t)
	a := startInstance(t, db)
	user := exampletest.NewAgent(t, sessionName)
	user.Get(a, "/login?user=carol")
	cookie := user.Jar[sessionName]
	if err := db.Stop(); err != nil {
		t.Fatal(err)
	}
	for _, path := range []string{"/", "/private", "/login?user=dave", "/logout"} {
		res := user.Get(a, path)
		if res.Status != fasthttp.StatusServiceUnavailable || res.SetCookie != "" {
			t.Errorf("GET %s with PostgreSQL down: %d, Set-Cookie %q", path, res.Status, res.SetCookie)
		}
	}
	if user.Jar[sessionName] != cookie {
		t.Error("the cookie changed while PostgreSQL was down")
	}
	exampletest.Contains(t, "log", a.Log.String(), "loading the session: sessions: ")
	if err := db.Restart(); err != nil {
		t.Fatal(err)
	}
	exampletest.Contains(t, "page after the restart", user.Get(a, "/").Body, loggedInAs("carol"))
}

func TestNoDatabase(t *testing.T) {
	// A server that is gone: newStore fails within its own deadline.
	db := pgtest.Start(t)
	pool, err := pgxpool.New(context.Background(), db.URL())
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	db.Close()
	if _, err := newStore(pool, exampletest.HashKey, nil); err == nil || !strings.Contains(err.Error(), "CREATE TABLE") {
		t.Fatalf("newStore without a server: %v", err)
	}
}

func TestBadRequests(t *testing.T) {
	a := startInstance(t, pgtest.Start(t))
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
		{"POST", "/private", "", 405},
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
