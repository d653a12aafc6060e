package main

import (
	"log"
	"net"
	"net/http"
	"net/url"
	"path/filepath"
	"strings"
	"testing"

	"github.com/valyala/fasthttp"
)

// startServer serves the application on a real loopback listener, with its
// session files in a temporary folder.
func startServer(t *testing.T) (*testServer, string) {
	t.Helper()
	ts := newTestServer(t)
	dir := t.TempDir()
	prefs, auth := newStores(dir, testHash, testBlock)
	logger := log.New(ts.log, "", 0)
	srv := &fasthttp.Server{Handler: newApp(prefs, auth, logger), Logger: logger}
	ts.start(func(ln net.Listener) error { return srv.Serve(ln) }, srv.Shutdown)
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
	b := ts.browser()

	r := b.get("/")
	wantStatus(t, "anonymous /", r, http.StatusOK)
	wantBody(t, "anonymous /", r, `<p id="user">not logged in</p>`, "Theme: light")
	wantCookies(t, "anonymous /", r) // nothing changed, nothing saved
	wantStatus(t, "anonymous /private", b.get("/private"), http.StatusUnauthorized)
	if n := files(t, dir); n != 0 {
		t.Errorf("%d session files for an anonymous visitor, want 0", n)
	}

	// The theme is a preference: only the prefs cookie is set.
	r = b.get("/theme?set=dark")
	wantRedirect(t, "/theme", r, "/")
	wantCookies(t, "/theme", r, prefsName)
	wantBody(t, "/ after /theme", b.get("/"), "Theme: dark")

	// Logging in touches both sessions; one sessions.Save sets both cookies.
	r = b.get("/login?user=" + url.QueryEscape("<b>Ann</b>"))
	wantRedirect(t, "/login", r, "/")
	wantCookies(t, "/login", r, prefsName, authName)
	if c := r.cookies[prefsName]; c.MaxAge != 365*24*3600 || !c.HttpOnly {
		t.Errorf("prefs cookie: MaxAge %d, HttpOnly %v; want a year, HttpOnly", c.MaxAge, c.HttpOnly)
	}
	if c := r.cookies[authName]; c.MaxAge != 24*3600 || !c.HttpOnly {
		t.Errorf("auth cookie: MaxAge %d, HttpOnly %v; want a day, HttpOnly", c.MaxAge, c.HttpOnly)
	}
	if n := files(t, dir); n != 1 {
		t.Errorf("%d session files after login, want 1", n)
	}
	annCookie := b.cookie(authName)

	// The flash shows once; user input is escaped.
	r = b.get("/")
	wantStatus(t, "/ after login", r, http.StatusOK)
	wantBody(t, "/ after login", r,
		`<p class="flash">Welcome, &lt;b&gt;Ann&lt;/b&gt;!</p>`,
		`<strong id="user">&lt;b&gt;Ann&lt;/b&gt;</strong>`,
		"Last login: &lt;b&gt;Ann&lt;/b&gt;",
		"Theme: dark")
	wantNoBody(t, "/ after login", r, "<b>Ann")
	r = b.get("/")
	wantNoBody(t, "second / after login", r, "Welcome")
	wantBody(t, "second / after login", r, `<strong id="user">&lt;b&gt;Ann&lt;/b&gt;</strong>`)
	wantCookies(t, "second / after login", r) // no flash read: nothing saved

	r = b.get("/private")
	wantStatus(t, "/private", r, http.StatusOK)
	wantBody(t, "/private", r, "<title>private page of &lt;b&gt;Ann&lt;/b&gt;</title>", `class="dark"`)

	// A second login renews the auth ID: the old cookie finds nothing.
	r = b.get("/login?user=Bob")
	wantRedirect(t, "second /login", r, "/")
	bobCookie := b.cookie(authName)
	if bobCookie == "" || bobCookie == annCookie {
		t.Fatalf("the auth cookie was not renewed on login")
	}
	if n := files(t, dir); n != 1 {
		t.Errorf("%d session files after a renewed login, want 1", n)
	}
	thief := ts.browser()
	thief.setCookie(authName, annCookie)
	wantStatus(t, "/private with the cookie from before the renewal", thief.get("/private"), http.StatusUnauthorized)
	wantBody(t, "/ for Bob", b.get("/"), `<strong id="user">Bob</strong>`, "Last login: Bob")

	// Logging out deletes the auth session, file and cookie; the prefs stay.
	r = b.get("/logout")
	wantRedirect(t, "/logout", r, "/")
	wantCookies(t, "/logout", r, authName)
	if c := r.cookies[authName]; c.MaxAge >= 0 || c.Value != "" {
		t.Errorf("logout: auth cookie %q with MaxAge %d, want a deletion cookie", c.Value, c.MaxAge)
	}
	if n := files(t, dir); n != 0 {
		t.Errorf("%d session files after logout, want 0", n)
	}
	if b.cookie(authName) != "" || b.cookie(prefsName) == "" {
		t.Errorf("after logout the jar holds auth=%q prefs=%q; want no auth, prefs kept", b.cookie(authName), b.cookie(prefsName))
	}
	r = b.get("/")
	wantBody(t, "/ after logout", r, `<p id="user">not logged in</p>`, "Theme: dark", "Last login: Bob")
	wantStatus(t, "/private after logout", b.get("/private"), http.StatusUnauthorized)
	thief.setCookie(authName, bobCookie)
	wantStatus(t, "/private with the cookie from before the logout", thief.get("/private"), http.StatusUnauthorized)

	if n := ts.ln.accepted.Load(); n != 1 {
		t.Errorf("%d connections, want 1 kept alive for every request", n)
	}
	if s := ts.log.String(); s != "" {
		t.Errorf("unexpected server log:\n%s", s)
	}
}

// TestNoCrossTalk interleaves the requests of two browsers on one
// keep-alive connection: the server serves them with the same
// *fasthttp.RequestCtx, and neither may see the other's sessions.
func TestNoCrossTalk(t *testing.T) {
	ts, _ := startServer(t)
	ann, bob := ts.browser(), ts.browser()
	wantRedirect(t, "Ann logs in", ann.get("/login?user=Ann"), "/")
	wantBody(t, "Bob's /", bob.get("/"), `<p id="user">not logged in</p>`, "Theme: light")
	wantRedirect(t, "Bob's theme", bob.get("/theme?set=dark"), "/")
	wantRedirect(t, "Bob logs in", bob.get("/login?user=Bob"), "/")
	for range 3 {
		r := ann.get("/private")
		wantStatus(t, "Ann's /private", r, http.StatusOK)
		wantBody(t, "Ann's /private", r, "private page of Ann", `class="light"`)
		r = bob.get("/private")
		wantStatus(t, "Bob's /private", r, http.StatusOK)
		wantBody(t, "Bob's /private", r, "private page of Bob", `class="dark"`)
	}
	wantRedirect(t, "Ann logs out", ann.get("/logout"), "/")
	wantStatus(t, "Ann's /private after logout", ann.get("/private"), http.StatusUnauthorized)
	wantStatus(t, "Bob's /private after Ann's logout", bob.get("/private"), http.StatusOK)
	if n := ts.ln.accepted.Load(); n != 1 {
		t.Errorf("%d connections, want 1 shared by both browsers", n)
	}
}

func TestBadRequests(t *testing.T) {
	ts, dir := startServer(t)
	b := ts.browser()
	wantStatus(t, "login without a user", b.get("/login"), http.StatusBadRequest)
	wantStatus(t, "login with a blank user", b.get("/login?user=+"), http.StatusBadRequest)
	wantStatus(t, "login with a long user", b.get("/login?user="+strings.Repeat("x", maxUserLen+1)), http.StatusBadRequest)
	wantStatus(t, "unknown theme", b.get("/theme?set=%3Cscript%3E"), http.StatusBadRequest)
	wantStatus(t, "unknown path", b.get("/nope"), http.StatusNotFound)
	if n := files(t, dir); n != 0 {
		t.Errorf("%d session files after bad requests, want 0", n)
	}

	// A tampered cookie is logged, ignored and deleted.
	b.setCookie(authName, "tampered")
	r := b.get("/")
	wantBody(t, "/ with a tampered cookie", r, `<p id="user">not logged in</p>`)
	if c := r.cookies[authName]; c == nil || c.MaxAge >= 0 {
		t.Errorf("tampered cookie not deleted: %v", c)
	}
	if !strings.Contains(ts.log.String(), `ignoring cookie "auth"`) {
		t.Errorf("tampered cookie not logged; log:\n%s", ts.log)
	}
}
