package main

import (
	"log"
	"net"
	"net/http"
	"net/url"
	"path/filepath"
	"strings"
	"testing"

	"github.com/fasthttp-sessions/sessions/internal/exampletest"
	"github.com/valyala/fasthttp"
)

// startServer serves the application on a real loopback listener, with its
// session files in a temporary folder.
func startServer(t *testing.T) (*exampletest.Server, string) {
	t.Helper()
	ts := exampletest.NewServer(t)
	dir := t.TempDir()
	prefs, auth := newStores(dir, exampletest.HashKey, exampletest.BlockKey)
	logger := log.New(ts.Log, "", 0)
	srv := &fasthttp.Server{Handler: newApp(prefs, auth, logger), Logger: logger}
	ts.Start(func(ln net.Listener) error { return srv.Serve(ln) }, srv.Shutdown)
	return ts, dir
}

// files returns how many session files the auth store holds in dir.
func files(t *testing.T, dir string) int {
	t.Helper()
	m, err := filepath.Glob(filepath.Join(dir, "session_*"))
	if err != nil {
		t.Fatal(err)
	}
	return len(m)
}

func TestFlow(t *testing.T) {
	ts, dir := startServer(t)
	b := ts.Browser()

	r := b.Get("/")
	exampletest.WantStatus(t, "anonymous /", r, http.StatusOK)
	exampletest.WantBody(t, "anonymous /", r, `<p id="user">not logged in</p>`, "Theme: light")
	exampletest.WantCookies(t, "anonymous /", r) // nothing changed, nothing saved
	exampletest.WantStatus(t, "anonymous /private", b.Get("/private"), http.StatusUnauthorized)
	if n := files(t, dir); n != 0 {
		t.Errorf("%d session files for an anonymous visitor, want 0", n)
	}

	// The theme is a preference: only the prefs cookie is set.
	r = b.Get("/theme?set=dark")
	exampletest.WantRedirect(t, "/theme", r, "/")
	exampletest.WantCookies(t, "/theme", r, prefsName)
	exampletest.WantBody(t, "/ after /theme", b.Get("/"), "Theme: dark")

	// Logging in touches both sessions; one sessions.Save sets both cookies.
	r = b.Get("/login?user=" + url.QueryEscape("<b>Ann</b>"))
	exampletest.WantRedirect(t, "/login", r, "/")
	exampletest.WantCookies(t, "/login", r, prefsName, authName)
	if c := r.Cookies[prefsName]; c.MaxAge != 365*24*3600 || !c.HttpOnly {
		t.Errorf("prefs cookie: MaxAge %d, HttpOnly %v; want a year, HttpOnly", c.MaxAge, c.HttpOnly)
	}
	if c := r.Cookies[authName]; c.MaxAge != 24*3600 || !c.HttpOnly {
		t.Errorf("auth cookie: MaxAge %d, HttpOnly %v; want a day, HttpOnly", c.MaxAge, c.HttpOnly)
	}
	if n := files(t, dir); n != 1 {
		t.Errorf("%d session files after login, want 1", n)
	}
	annCookie := b.Cookie(authName)

	// The flash shows once; user input is escaped.
	r = b.Get("/")
	exampletest.WantStatus(t, "/ after login", r, http.StatusOK)
	exampletest.WantBody(t, "/ after login", r,
		`<p class="flash">Welcome, &lt;b&gt;Ann&lt;/b&gt;!</p>`,
		`<strong id="user">&lt;b&gt;Ann&lt;/b&gt;</strong>`,
		"Last login: &lt;b&gt;Ann&lt;/b&gt;",
		"Theme: dark")
	exampletest.WantNoBody(t, "/ after login", r, "<b>Ann")
	r = b.Get("/")
	exampletest.WantNoBody(t, "second / after login", r, "Welcome")
	exampletest.WantBody(t, "second / after login", r, `<strong id="user">&lt;b&gt;Ann&lt;/b&gt;</strong>`)
	exampletest.WantCookies(t, "second / after login", r) // no flash read: nothing saved

	r = b.Get("/private")
	exampletest.WantStatus(t, "/private", r, http.StatusOK)
	exampletest.WantBody(t, "/private", r, "<title>private page of &lt;b&gt;Ann&lt;/b&gt;</title>", `class="dark"`)

	// A second login renews the auth ID: the old cookie finds nothing.
	r = b.Get("/login?user=Bob")
	exampletest.WantRedirect(t, "second /login", r, "/")
	bobCookie := b.Cookie(authName)
	if bobCookie == "" || bobCookie == annCookie {
		t.Fatalf("the auth cookie was not renewed on login")
	}
	// The renewed session's file, and the forwarding marker left under a
	// name derived from the old ID (a logout that raced the login follows
	// it); the logout below removes both.
	if n := files(t, dir); n != 2 {
		t.Errorf("%d session files after a renewed login, want 2", n)
	}
	thief := ts.Browser()
	thief.SetCookie(authName, annCookie)
	exampletest.WantStatus(t, "/private with the cookie from before the renewal", thief.Get("/private"), http.StatusUnauthorized)
	exampletest.WantBody(t, "/ for Bob", b.Get("/"), `<strong id="user">Bob</strong>`, "Last login: Bob")

	// Logging out deletes the auth session, file and cookie; the prefs stay.
	r = b.Get("/logout")
	exampletest.WantRedirect(t, "/logout", r, "/")
	exampletest.WantCookies(t, "/logout", r, authName)
	if c := r.Cookies[authName]; c.MaxAge >= 0 || c.Value != "" {
		t.Errorf("logout: auth cookie %q with MaxAge %d, want a deletion cookie", c.Value, c.MaxAge)
	}
	if n := files(t, dir); n != 0 {
		t.Errorf("%d session files after logout, want 0", n)
	}
	if b.Cookie(authName) != "" || b.Cookie(prefsName) == "" {
		t.Errorf("after logout the jar holds auth=%q prefs=%q; want no auth, prefs kept", b.Cookie(authName), b.Cookie(prefsName))
	}
	r = b.Get("/")
	exampletest.WantBody(t, "/ after logout", r, `<p id="user">not logged in</p>`, "Theme: dark", "Last login: Bob")
	exampletest.WantStatus(t, "/private after logout", b.Get("/private"), http.StatusUnauthorized)
	thief.SetCookie(authName, bobCookie)
	exampletest.WantStatus(t, "/private with the cookie from before the logout", thief.Get("/private"), http.StatusUnauthorized)

	if n := ts.Listener.Accepted(); n != 1 {
		t.Errorf("%d connections, want 1 kept alive for every request", n)
	}
	if s := ts.Log.String(); s != "" {
		t.Errorf("unexpected server log:\n%s", s)
	}
}

// TestNoCrossTalk interleaves the requests of two browsers on one
// keep-alive connection: the server serves them with the same
// *fasthttp.RequestCtx, and neither may see the other's sessions.
func TestNoCrossTalk(t *testing.T) {
	ts, _ := startServer(t)
	ann, bob := ts.Browser(), ts.Browser()
	exampletest.WantRedirect(t, "Ann logs in", ann.Get("/login?user=Ann"), "/")
	exampletest.WantBody(t, "Bob's /", bob.Get("/"), `<p id="user">not logged in</p>`, "Theme: light")
	exampletest.WantRedirect(t, "Bob's theme", bob.Get("/theme?set=dark"), "/")
	exampletest.WantRedirect(t, "Bob logs in", bob.Get("/login?user=Bob"), "/")
	for range 3 {
		r := ann.Get("/private")
		exampletest.WantStatus(t, "Ann's /private", r, http.StatusOK)
		exampletest.WantBody(t, "Ann's /private", r, "private page of Ann", `class="light"`)
		r = bob.Get("/private")
		exampletest.WantStatus(t, "Bob's /private", r, http.StatusOK)
		exampletest.WantBody(t, "Bob's /private", r, "private page of Bob", `class="dark"`)
	}
	exampletest.WantRedirect(t, "Ann logs out", ann.Get("/logout"), "/")
	exampletest.WantStatus(t, "Ann's /private after logout", ann.Get("/private"), http.StatusUnauthorized)
	exampletest.WantStatus(t, "Bob's /private after Ann's logout", bob.Get("/private"), http.StatusOK)
	if n := ts.Listener.Accepted(); n != 1 {
		t.Errorf("%d connections, want 1 shared by both browsers", n)
	}
}

func TestBadRequests(t *testing.T) {
	ts, dir := startServer(t)
	b := ts.Browser()
	exampletest.WantStatus(t, "login without a user", b.Get("/login"), http.StatusBadRequest)
	exampletest.WantStatus(t, "login with a blank user", b.Get("/login?user=+"), http.StatusBadRequest)
	exampletest.WantStatus(t, "login with a long user", b.Get("/login?user="+strings.Repeat("x", maxUserLen+1)), http.StatusBadRequest)
	exampletest.WantStatus(t, "unknown theme", b.Get("/theme?set=%3Cscript%3E"), http.StatusBadRequest)
	exampletest.WantStatus(t, "unknown path", b.Get("/nope"), http.StatusNotFound)
	if n := files(t, dir); n != 0 {
		t.Errorf("%d session files after bad requests, want 0", n)
	}

	// A tampered cookie is logged, ignored and deleted.
	b.SetCookie(authName, "tampered")
	r := b.Get("/")
	exampletest.WantBody(t, "/ with a tampered cookie", r, `<p id="user">not logged in</p>`)
	if c := r.Cookies[authName]; c == nil || c.MaxAge >= 0 {
		t.Errorf("tampered cookie not deleted: %v", c)
	}
	if !strings.Contains(ts.Log.String(), `ignoring cookie "auth"`) {
		t.Errorf("tampered cookie not logged; log:\n%s", ts.Log)
	}
}
