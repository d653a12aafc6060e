package main

import (
	"log"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/fasthttp-sessions/sessions"
	"github.com/fasthttp-sessions/sessions/internal/exampletest"
)

// startServer serves the application on a real loopback listener.
func startServer(t *testing.T, store *sessions.MemoryStore) *exampletest.Server {
	t.Helper()
	ts := exampletest.NewServer(t)
	app := newApp(store, log.New(ts.Log, "", 0))
	ts.Start(app.Listener, app.Shutdown)
	return ts
}

func wantRecords(t *testing.T, what string, store *sessions.MemoryStore, n int) {
	t.Helper()
	if got := store.Len(); got != n {
		t.Errorf("%s: the store holds %d records, want %d", what, got, n)
	}
}

func TestFlow(t *testing.T) {
	store := newStore(exampletest.HashKey, exampletest.BlockKey)
	ts := startServer(t, store)
	b := ts.Browser()

	r := b.Get("/")
	exampletest.WantStatus(t, "anonymous /", r, http.StatusOK)
	exampletest.WantBody(t, "anonymous /", r, `<p id="user">not logged in</p>`)
	exampletest.WantCookies(t, "anonymous /", r)
	r = b.Get("/private")
	exampletest.WantStatus(t, "anonymous /private", r, http.StatusUnauthorized)
	exampletest.WantBody(t, "anonymous /private", r, "not logged in")
	exampletest.WantCookies(t, "anonymous /private", r)
	wantRecords(t, "anonymous visits", store, 0)

	// The middleware saves after the handler: the cookie still arrives.
	r = b.Get("/login?user=" + url.QueryEscape("<b>Ann</b>"))
	exampletest.WantRedirect(t, "/login", r, "/")
	exampletest.WantCookies(t, "/login", r, sessionName)
	if c := r.Cookies[sessionName]; c.MaxAge != 30*24*3600 || !c.HttpOnly || c.SameSite != http.SameSiteLaxMode || c.Path != "/" {
		t.Errorf("session cookie %q: want Path=/, a MaxAge of 30 days, HttpOnly, SameSite=Lax", c.String())
	}
	wantRecords(t, "after login", store, 1)
	annCookie := b.Cookie(sessionName)

	// The flash shows once; user input is escaped.
	r = b.Get("/")
	exampletest.WantStatus(t, "/ after login", r, http.StatusOK)
	exampletest.WantBody(t, "/ after login", r,
		`<p class="flash">Welcome, &lt;b&gt;Ann&lt;/b&gt;!</p>`,
		`<strong id="user">&lt;b&gt;Ann&lt;/b&gt;</strong>`)
	exampletest.WantNoBody(t, "/ after login", r, "<b>Ann")
	// Showing the flash removed it: the record is rewritten, and the ID
	// cookie, young and naming the same ID, is not sent again.
	exampletest.WantCookies(t, "/ after login", r)
	wantRecords(t, "/ after login", store, 1)
	r = b.Get("/")
	exampletest.WantNoBody(t, "second / after login", r, "Welcome")
	exampletest.WantBody(t, "second / after login", r, `<strong id="user">&lt;b&gt;Ann&lt;/b&gt;</strong>`)

	r = b.Get("/private")
	exampletest.WantStatus(t, "/private", r, http.StatusOK)
	exampletest.WantBody(t, "/private", r, "<title>private page of &lt;b&gt;Ann&lt;/b&gt;</title>")

	// A second login renews the ID: the old cookie finds nothing.
	exampletest.WantRedirect(t, "second /login", b.Get("/login?user=Bob"), "/")
	bobCookie := b.Cookie(sessionName)
	if bobCookie == "" || bobCookie == annCookie {
		t.Fatal("the session cookie was not renewed on login")
	}
	// The renewed session's record, and the forwarding marker left under
	// an ID derived from the old one (a logout that raced the login
	// follows it); the logout removes both.
	wantRecords(t, "after a renewed login", store, 2)
	thief := ts.Browser()
	thief.SetCookie(sessionName, annCookie)
	exampletest.WantStatus(t, "/private with the cookie from before the renewal", thief.Get("/private"), http.StatusUnauthorized)
	exampletest.WantBody(t, "/ for Bob", b.Get("/"), `<strong id="user">Bob</strong>`)

	r = b.Get("/logout")
	exampletest.WantRedirect(t, "/logout", r, "/")
	exampletest.WantCookies(t, "/logout", r, sessionName)
	if c := r.Cookies[sessionName]; c.MaxAge >= 0 || c.Value != "" {
		t.Errorf("logout: cookie %q, want a deletion cookie", c.String())
	}
	if v := b.Cookie(sessionName); v != "" {
		t.Errorf("the jar still holds the session cookie %q after logout", v)
	}
	wantRecords(t, "after logout", store, 0)
	exampletest.WantBody(t, "/ after logout", b.Get("/"), `<p id="user">not logged in</p>`)
	exampletest.WantStatus(t, "/private after logout", b.Get("/private"), http.StatusUnauthorized)
	thief.SetCookie(sessionName, bobCookie)
	exampletest.WantStatus(t, "/private with the cookie from before the logout", thief.Get("/private"), http.StatusUnauthorized)

	if n := ts.Listener.Accepted(); n != 1 {
		t.Errorf("%d connections, want 1 kept alive for every request", n)
	}
	if s := ts.Log.String(); s != "" {
		t.Errorf("unexpected server log:\n%s", s)
	}
}

// TestNoCrossTalk interleaves the requests of two browsers on one
// keep-alive connection: fasthttp serves them with the same
// *fasthttp.RequestCtx, and neither may see the other's session.
func TestNoCrossTalk(t *testing.T) {
	store := newStore(exampletest.HashKey, exampletest.BlockKey)
	ts := startServer(t, store)
	ann, bob := ts.Browser(), ts.Browser()
	exampletest.WantRedirect(t, "Ann logs in", ann.Get("/login?user=Ann"), "/")
	exampletest.WantBody(t, "Bob's /", bob.Get("/"), `<p id="user">not logged in</p>`)
	exampletest.WantRedirect(t, "Bob logs in", bob.Get("/login?user=Bob"), "/")
	for range 3 {
		exampletest.WantBody(t, "Ann's /private", ann.Get("/private"), "private page of Ann")
		exampletest.WantBody(t, "Bob's /private", bob.Get("/private"), "private page of Bob")
	}
	exampletest.WantRedirect(t, "Ann logs out", ann.Get("/logout"), "/")
	exampletest.WantStatus(t, "Ann's /private after logout", ann.Get("/private"), http.StatusUnauthorized)
	exampletest.WantStatus(t, "Bob's /private after Ann's logout", bob.Get("/private"), http.StatusOK)
	wantRecords(t, "Bob's session", store, 1)
	if n := ts.Listener.Accepted(); n != 1 {
		t.Errorf("%d connections, want 1 shared by both browsers", n)
	}
}

func TestBadRequests(t *testing.T) {
	store := newStore(exampletest.HashKey, exampletest.BlockKey)
	ts := startServer(t, store)
	b := ts.Browser()
	exampletest.WantStatus(t, "login without a user", b.Get("/login"), http.StatusBadRequest)
	exampletest.WantStatus(t, "login with a blank user", b.Get("/login?user=+"), http.StatusBadRequest)
	exampletest.WantStatus(t, "login with a long user", b.Get("/login?user="+strings.Repeat("x", maxUserLen+1)), http.StatusBadRequest)
	exampletest.WantStatus(t, "unknown path", b.Get("/nope"), http.StatusNotFound)

	// A tampered cookie is logged, ignored and deleted.
	b.SetCookie(sessionName, "tampered")
	r := b.Get("/")
	exampletest.WantBody(t, "/ with a tampered cookie", r, `<p id="user">not logged in</p>`)
	if c := r.Cookies[sessionName]; c == nil || c.MaxAge >= 0 {
		t.Errorf("tampered cookie not deleted: %v", c)
	}
	if !strings.Contains(ts.Log.String(), "ignoring the session cookie") {
		t.Errorf("tampered cookie not logged; log:\n%s", ts.Log)
	}
	wantRecords(t, "after bad requests", store, 0)
}

// TestSaveError checks the middleware's error path: a session that cannot
// be saved turns the handler's response into a 500 without a cookie.
func TestSaveError(t *testing.T) {
	store := newStore(exampletest.HashKey, exampletest.BlockKey)
	store.Options.Path = "/;evil" // Save refuses it: ErrInvalidOptions
	ts := startServer(t, store)
	b := ts.Browser()
	r := b.Get("/login?user=Ann")
	exampletest.WantStatus(t, "/login with a failing Save", r, http.StatusInternalServerError)
	exampletest.WantCookies(t, "/login with a failing Save", r)
	if r.Location != "" {
		t.Errorf("/login with a failing Save: Location %q kept", r.Location)
	}
	if !strings.Contains(ts.Log.String(), "invalid cookie options") {
		t.Errorf("the Save error was not logged; log:\n%s", ts.Log)
	}
	wantRecords(t, "after a failing Save", store, 0)
}

// TestFlashKeptOnError checks that the save middleware saves the session
// also when the handler returned an error: the flash the handler added
// before failing is shown on the next page.
func TestFlashKeptOnError(t *testing.T) {
	store := newStore(exampletest.HashKey, exampletest.BlockKey)
	ts := startServer(t, store)
	b := ts.Browser()
	exampletest.WantRedirect(t, "/login", b.Get("/login?user=Ann"), "/")
	b.Get("/") // the welcome flash, read
	exampletest.WantStatus(t, "/fail", b.Get("/fail"), http.StatusServiceUnavailable)
	r := b.Get("/")
	exampletest.WantBody(t, "/ after /fail", r, `<p class="flash">The last action failed; nothing was changed.</p>`, `<strong id="user">Ann</strong>`)
}
