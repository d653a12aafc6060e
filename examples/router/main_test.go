package main

import (
	"log"
	"net"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/fasthttp-sessions/sessions/internal/exampletest"
	"github.com/valyala/fasthttp"
)

// startServer serves the application on a real loopback listener.
func startServer(t *testing.T) *exampletest.Server {
	t.Helper()
	ts := exampletest.NewServer(t)
	logger := log.New(ts.Log, "", 0)
	srv := &fasthttp.Server{Handler: newApp(newStore(exampletest.HashKey, exampletest.BlockKey), logger), Logger: logger}
	ts.Start(func(ln net.Listener) error { return srv.Serve(ln) }, srv.Shutdown)
	return ts
}

func TestFlow(t *testing.T) {
	ts := startServer(t)
	b := ts.Browser()

	r := b.Get("/")
	exampletest.WantStatus(t, "anonymous /", r, http.StatusOK)
	exampletest.WantBody(t, "anonymous /", r, `<p id="user">not logged in</p>`)
	exampletest.WantCookies(t, "anonymous /", r) // nothing changed, nothing saved
	exampletest.WantStatus(t, "anonymous /private", b.Get("/private"), http.StatusUnauthorized)

	r = b.Get("/login?user=" + url.QueryEscape("<b>Ann</b>"))
	exampletest.WantRedirect(t, "/login", r, "/")
	exampletest.WantCookies(t, "/login", r, sessionName)
	if c := r.Cookies[sessionName]; c.MaxAge != 30*24*3600 || !c.HttpOnly || c.SameSite != http.SameSiteLaxMode || c.Path != "/" {
		t.Errorf("session cookie %q: want Path=/, a MaxAge of 30 days, HttpOnly, SameSite=Lax", r.Cookies[sessionName].String())
	}

	// The flash shows once; user input is escaped.
	r = b.Get("/")
	exampletest.WantStatus(t, "/ after login", r, http.StatusOK)
	exampletest.WantBody(t, "/ after login", r,
		`<p class="flash">Welcome, &lt;b&gt;Ann&lt;/b&gt;!</p>`,
		`<strong id="user">&lt;b&gt;Ann&lt;/b&gt;</strong>`)
	exampletest.WantNoBody(t, "/ after login", r, "<b>Ann")
	exampletest.WantCookies(t, "/ after login", r, sessionName) // the flash was removed
	r = b.Get("/")
	exampletest.WantNoBody(t, "second / after login", r, "Welcome")
	exampletest.WantBody(t, "second / after login", r, `<strong id="user">&lt;b&gt;Ann&lt;/b&gt;</strong>`)
	exampletest.WantCookies(t, "second / after login", r)

	r = b.Get("/private")
	exampletest.WantStatus(t, "/private", r, http.StatusOK)
	exampletest.WantBody(t, "/private", r, "<title>private page of &lt;b&gt;Ann&lt;/b&gt;</title>")

	r = b.Get("/logout")
	exampletest.WantRedirect(t, "/logout", r, "/")
	exampletest.WantCookies(t, "/logout", r, sessionName)
	if c := r.Cookies[sessionName]; c.MaxAge >= 0 || c.Value != "" {
		t.Errorf("logout: cookie %q, want a deletion cookie", c.String())
	}
	if v := b.Cookie(sessionName); v != "" {
		t.Errorf("the jar still holds the session cookie %q after logout", v)
	}
	exampletest.WantBody(t, "/ after logout", b.Get("/"), `<p id="user">not logged in</p>`)
	exampletest.WantStatus(t, "/private after logout", b.Get("/private"), http.StatusUnauthorized)

	if n := ts.Listener.Accepted(); n != 1 {
		t.Errorf("%d connections, want 1 kept alive for every request", n)
	}
	if s := ts.Log.String(); s != "" {
		t.Errorf("unexpected server log:\n%s", s)
	}
}

// TestNoCrossTalk interleaves the requests of two browsers on one
// keep-alive connection: the server serves them with the same
// *fasthttp.RequestCtx, and neither may see the other's session.
func TestNoCrossTalk(t *testing.T) {
	ts := startServer(t)
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
	if n := ts.Listener.Accepted(); n != 1 {
		t.Errorf("%d connections, want 1 shared by both browsers", n)
	}
}

func TestBadRequests(t *testing.T) {
	ts := startServer(t)
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
}
