package main

import (
	"log"
	"net"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/fasthttp-sessions/sessions"
	"github.com/gofiber/fiber/v3"
)

// startServer serves the application on a real loopback listener.
func startServer(t *testing.T, store *sessions.MemoryStore) *testServer {
	t.Helper()
	ts := newTestServer(t)
	app := newApp(store, log.New(ts.log, "", 0))
	ts.start(func(ln net.Listener) error {
		return app.Listener(ln, fiber.ListenConfig{DisableStartupMessage: true})
	}, app.Shutdown)
	return ts
}

func wantRecords(t *testing.T, what string, store *sessions.MemoryStore, n int) {
	t.Helper()
	if got := store.Len(); got != n {
		t.Errorf("%s: the store holds %d records, want %d", what, got, n)
	}
}

func TestFlow(t *testing.T) {
	store := newStore(testHash, testBlock)
	ts := startServer(t, store)
	b := ts.browser()

	r := b.get("/")
	wantStatus(t, "anonymous /", r, http.StatusOK)
	wantBody(t, "anonymous /", r, `<p id="user">not logged in</p>`)
	wantCookies(t, "anonymous /", r)
	r = b.get("/private")
	wantStatus(t, "anonymous /private", r, http.StatusUnauthorized)
	wantBody(t, "anonymous /private", r, "not logged in")
	wantCookies(t, "anonymous /private", r)
	wantRecords(t, "anonymous visits", store, 0)

	// The middleware saves after the handler: the cookie still arrives.
	r = b.get("/login?user=" + url.QueryEscape("<b>Ann</b>"))
	wantRedirect(t, "/login", r, "/")
	wantCookies(t, "/login", r, sessionName)
	if c := r.cookies[sessionName]; c.MaxAge != 30*24*3600 || !c.HttpOnly || c.SameSite != http.SameSiteLaxMode || c.Path != "/" {
		t.Errorf("session cookie %q: want Path=/, a MaxAge of 30 days, HttpOnly, SameSite=Lax", c.String())
	}
	wantRecords(t, "after login", store, 1)
	annCookie := b.cookie(sessionName)

	// The flash shows once; user input is escaped.
	r = b.get("/")
	wantStatus(t, "/ after login", r, http.StatusOK)
	wantBody(t, "/ after login", r,
		`<p class="flash">Welcome, &lt;b&gt;Ann&lt;/b&gt;!</p>`,
		`<strong id="user">&lt;b&gt;Ann&lt;/b&gt;</strong>`)
	wantNoBody(t, "/ after login", r, "<b>Ann")
	wantCookies(t, "/ after login", r, sessionName)
	r = b.get("/")
	wantNoBody(t, "second / after login", r, "Welcome")
	wantBody(t, "second / after login", r, `<strong id="user">&lt;b&gt;Ann&lt;/b&gt;</strong>`)

	r = b.get("/private")
	wantStatus(t, "/private", r, http.StatusOK)
	wantBody(t, "/private", r, "<title>private page of &lt;b&gt;Ann&lt;/b&gt;</title>")

	// A second login renews the ID: the old cookie finds nothing.
	wantRedirect(t, "second /login", b.get("/login?user=Bob"), "/")
	bobCookie := b.cookie(sessionName)
	if bobCookie == "" || bobCookie == annCookie {
		t.Fatal("the session cookie was not renewed on login")
	}
	wantRecords(t, "after a renewed login", store, 1)
	thief := ts.browser()
	thief.setCookie(sessionName, annCookie)
	wantStatus(t, "/private with the cookie from before the renewal", thief.get("/private"), http.StatusUnauthorized)
	wantBody(t, "/ for Bob", b.get("/"), `<strong id="user">Bob</strong>`)

	r = b.get("/logout")
	wantRedirect(t, "/logout", r, "/")
	wantCookies(t, "/logout", r, sessionName)
	if c := r.cookies[sessionName]; c.MaxAge >= 0 || c.Value != "" {
		t.Errorf("logout: cookie %q, want a deletion cookie", c.String())
	}
	if v := b.cookie(sessionName); v != "" {
		t.Errorf("the jar still holds the session cookie %q after logout", v)
	}
	wantRecords(t, "after logout", store, 0)
	wantBody(t, "/ after logout", b.get("/"), `<p id="user">not logged in</p>`)
	wantStatus(t, "/private after logout", b.get("/private"), http.StatusUnauthorized)
	thief.setCookie(sessionName, bobCookie)
	wantStatus(t, "/private with the cookie from before the logout", thief.get("/private"), http.StatusUnauthorized)

	if n := ts.ln.accepted.Load(); n != 1 {
		t.Errorf("%d connections, want 1 kept alive for every request", n)
	}
	if s := ts.log.String(); s != "" {
		t.Errorf("unexpected server log:\n%s", s)
	}
}

// TestNoCrossTalk interleaves the requests of two browsers on one
// keep-alive connection: fasthttp serves them with the same
// *fasthttp.RequestCtx, and neither may see the other's session.
func TestNoCrossTalk(t *testing.T) {
	store := newStore(testHash, testBlock)
	ts := startServer(t, store)
	ann, bob := ts.browser(), ts.browser()
	wantRedirect(t, "Ann logs in", ann.get("/login?user=Ann"), "/")
	wantBody(t, "Bob's /", bob.get("/"), `<p id="user">not logged in</p>`)
	wantRedirect(t, "Bob logs in", bob.get("/login?user=Bob"), "/")
	for range 3 {
		wantBody(t, "Ann's /private", ann.get("/private"), "private page of Ann")
		wantBody(t, "Bob's /private", bob.get("/private"), "private page of Bob")
	}
	wantRedirect(t, "Ann logs out", ann.get("/logout"), "/")
	wantStatus(t, "Ann's /private after logout", ann.get("/private"), http.StatusUnauthorized)
	wantStatus(t, "Bob's /private after Ann's logout", bob.get("/private"), http.StatusOK)
	wantRecords(t, "Bob's session", store, 1)
	if n := ts.ln.accepted.Load(); n != 1 {
		t.Errorf("%d connections, want 1 shared by both browsers", n)
	}
}

func TestBadRequests(t *testing.T) {
	store := newStore(testHash, testBlock)
	ts := startServer(t, store)
	b := ts.browser()
	wantStatus(t, "login without a user", b.get("/login"), http.StatusBadRequest)
	wantStatus(t, "login with a blank user", b.get("/login?user=+"), http.StatusBadRequest)
	wantStatus(t, "login with a long user", b.get("/login?user="+strings.Repeat("x", maxUserLen+1)), http.StatusBadRequest)
	wantStatus(t, "unknown path", b.get("/nope"), http.StatusNotFound)

	// A tampered cookie is logged, ignored and deleted.
	b.setCookie(sessionName, "tampered")
	r := b.get("/")
	wantBody(t, "/ with a tampered cookie", r, `<p id="user">not logged in</p>`)
	if c := r.cookies[sessionName]; c == nil || c.MaxAge >= 0 {
		t.Errorf("tampered cookie not deleted: %v", c)
	}
	if !strings.Contains(ts.log.String(), "ignoring the session cookie") {
		t.Errorf("tampered cookie not logged; log:\n%s", ts.log)
	}
	wantRecords(t, "after bad requests", store, 0)
}

// TestSaveError checks the middleware's error path: a session that cannot
// be saved turns the handler's response into a 500 without a cookie.
func TestSaveError(t *testing.T) {
	store := newStore(testHash, testBlock)
	store.Options.Path = "/;evil" // Save refuses it: ErrInvalidOptions
	ts := startServer(t, store)
	b := ts.browser()
	r := b.get("/login?user=Ann")
	wantStatus(t, "/login with a failing Save", r, http.StatusInternalServerError)
	wantCookies(t, "/login with a failing Save", r)
	if r.location != "" {
		t.Errorf("/login with a failing Save: Location %q kept", r.location)
	}
	if !strings.Contains(ts.log.String(), "invalid cookie options") {
		t.Errorf("the Save error was not logged; log:\n%s", ts.log)
	}
	wantRecords(t, "after a failing Save", store, 0)
}
