package main

import (
	"bytes"
	"html/template"
	"log"
	"net"
	"net/url"
	"regexp"
	"slices"
	"testing"
	"time"

	"github.com/fasthttp-sessions/sessions"
	"github.com/fasthttp-sessions/sessions/internal/exampletest"
	"github.com/valyala/fasthttp"
)

// client is one browser of a test: its own user agent and session cookie,
// one keep-alive connection. (exampletest.Agent sends no User-Agent of
// its own choosing, which the page shows.)
type client struct {
	t      *testing.T
	agent  string
	cookie string
	hc     *fasthttp.HostClient
}

// newClient returns a browser of ts that sends the User-Agent agent.
func newClient(t *testing.T, ts *exampletest.Server, agent string) *client {
	c := &client{t: t, agent: agent, hc: &fasthttp.HostClient{Addr: ts.Addr(), MaxConns: 1}}
	t.Cleanup(c.hc.CloseIdleConnections)
	return c
}

// do sends a request (a POST of form when form is not nil) with the
// session cookie, keeps the cookie the response sets, and returns the
// status and the body.
func (c *client) do(method, path string, form url.Values) (int, string) {
	c.t.Helper()
	req, resp := fasthttp.AcquireRequest(), fasthttp.AcquireResponse()
	defer fasthttp.ReleaseRequest(req)
	defer fasthttp.ReleaseResponse(resp)
	req.Header.SetMethod(method)
	req.SetRequestURI("http://" + c.hc.Addr + path)
	req.Header.SetUserAgent(c.agent)
	if form != nil {
		req.Header.SetContentType("application/x-www-form-urlencoded")
		req.SetBodyString(form.Encode())
	}
	if c.cookie != "" {
		req.Header.SetCookie(sessionName, c.cookie)
	}
	if err := c.hc.DoTimeout(req, resp, 10*time.Second); err != nil {
		c.t.Fatalf("%s %s: %v", method, path, err)
	}
	ck := fasthttp.AcquireCookie()
	defer fasthttp.ReleaseCookie(ck)
	ck.SetKey(sessionName)
	if resp.Header.Cookie(ck) {
		c.cookie = string(ck.Value())
		if ck.MaxAge() < 0 || bytes.Contains(bytes.ToLower(resp.Header.PeekCookie(sessionName)), []byte("max-age=0")) {
			c.cookie = ""
		}
	}
	return resp.StatusCode(), string(resp.Body())
}

// post sends a form and expects the redirect to "/".
func (c *client) post(path string, form url.Values) {
	c.t.Helper()
	if status, body := c.do(fasthttp.MethodPost, path, form); status != fasthttp.StatusSeeOther {
		c.t.Fatalf("POST %s as %s: %d %s, want 303", path, c.agent, status, body)
	}
}

// home returns the page of "/".
func (c *client) home() string {
	c.t.Helper()
	status, body := c.do(fasthttp.MethodGet, "/", nil)
	if status != fasthttp.StatusOK {
		c.t.Fatalf("GET / as %s: %d %s", c.agent, status, body)
	}
	return body
}

// login logs the client in as user and returns the handle of its session,
// as its page marks it.
func (c *client) login(user string) string {
	c.t.Helper()
	c.post("/login", url.Values{"user": {user}})
	body := c.home()
	welcome := "Welcome, " + template.HTMLEscapeString(user) + "!"
	exampletest.Contains(c.t, "the first page after login", body, welcome)
	exampletest.Lacks(c.t, "the second page after login", c.home(), welcome)
	return c.handleIn(body)
}

var thisRow = regexp.MustCompile(`<tr id="([a-z2-7]+)" class="this">`)

// handle returns the handle of the row the client's page marks as this
// device.
func (c *client) handle() string {
	c.t.Helper()
	return c.handleIn(c.home())
}

// handleIn returns the handle of the row body marks as this device.
func (c *client) handleIn(body string) string {
	c.t.Helper()
	m := thisRow.FindAllStringSubmatch(body, -1)
	if len(m) != 1 {
		c.t.Fatalf("%s: %d rows marked as this device:\n%s", c.agent, len(m), body)
	}
	return m[0][1]
}

var (
	row  = regexp.MustCompile(`<tr id="([a-z2-7]+)"`)
	date = `\d{4}-\d{2}-\d{2} \d{2}:\d{2} UTC`
	// cells is a row's agent and three dates.
	cells = regexp.MustCompile(`<td>([^<]*)</td>\n<td>(` + date + `)</td>\n<td>(` + date + `)</td>\n<td>(` + date + `)</td>`)
)

// devices returns the handles of the rows of the client's page, and fails
// unless each row shows an agent and three dates.
func (c *client) devices() []string {
	c.t.Helper()
	body := c.home()
	var hs []string
	for _, m := range row.FindAllStringSubmatch(body, -1) {
		hs = append(hs, m[1])
	}
	if n := len(cells.FindAllString(body, -1)); n != len(hs) {
		c.t.Fatalf("%s: %d rows, %d with an agent and three dates:\n%s", c.agent, len(hs), n, body)
	}
	return hs
}

// wantDevices fails unless the client's page lists exactly handles.
func (c *client) wantDevices(what string, handles ...string) {
	c.t.Helper()
	got := c.devices()
	if !slices.Equal(slices.Sorted(slices.Values(got)), slices.Sorted(slices.Values(handles))) {
		c.t.Fatalf("%s: %s lists %v, want %v", what, c.agent, got, handles)
	}
}

// loggedOut fails unless the client's page is the login form.
func (c *client) loggedOut(what string) {
	c.t.Helper()
	exampletest.Contains(c.t, what, c.home(), `<p id="user">not logged in</p>`)
}

// startServer serves the application on a real loopback listener.
func startServer(t *testing.T) (*exampletest.Server, *sessions.MemoryStore) {
	t.Helper()
	ts := exampletest.NewServer(t)
	store := sessions.NewMemoryStore(exampletest.HashKey, exampletest.BlockKey)
	logger := log.New(ts.Log, "", 0)
	srv := &fasthttp.Server{Handler: newApp(store, logger), Logger: logger}
	ts.Start(func(ln net.Listener) error { return srv.Serve(ln) }, srv.Shutdown)
	return ts, store
}

func TestDevices(t *testing.T) {
	ts, store := startServer(t)
	laptop, phone, tablet := newClient(t, ts, "Laptop/1.0"), newClient(t, ts, "Phone/2.0"), newClient(t, ts, "Tablet/3.0")
	bob := newClient(t, ts, "Bob/1.0")
	laptop.loggedOut("before login")

	// Three devices of alice, one of bob: each sees its own user's list,
	// with its own row marked, and the browser each logged in with.
	hLaptop := laptop.login("alice")
	hPhone, hTablet := phone.login("alice"), tablet.login("alice")
	hBob := bob.login("bob")
	body := laptop.home()
	exampletest.Contains(t, "alice's list", body, `<strong id="user">alice</strong>`,
		"<td>Laptop/1.0</td>", "<td>Phone/2.0</td>", "<td>Tablet/3.0</td>")
	exampletest.Lacks(t, "alice's list", body, "Bob/1.0", hBob)
	laptop.wantDevices("alice's list", hLaptop, hPhone, hTablet)
	phone.wantDevices("alice's list from the phone", hLaptop, hPhone, hTablet)
	bob.wantDevices("bob's list", hBob)
	if laptop.handle() != hLaptop || phone.handle() != hPhone {
		t.Fatal("the row marked as this device moved")
	}

	// Revoke one: the phone is logged out; the others are not.
	stolen := phone.cookie
	laptop.post("/revoke", url.Values{"handle": {hPhone}})
	exampletest.Contains(t, "after revoking the phone", laptop.home(), "That device is logged out.")
	phone.loggedOut("the revoked phone")
	thief := newClient(t, ts, "Thief/1.0")
	thief.cookie = stolen
	thief.loggedOut("a copy of the revoked phone's cookie")
	laptop.wantDevices("after revoking the phone", hLaptop, hTablet)
	tablet.wantDevices("the tablet after the phone was revoked", hLaptop, hTablet)

	// A handle of another user's session, of an ended one, or a made-up
	// one ends nothing.
	for _, h := range []string{hBob, hPhone, "aaaaaaaaaaaaaaaaaaaaaaaaaa", ""} {
		if status, _ := laptop.do(fasthttp.MethodPost, "/revoke", url.Values{"handle": {h}}); status != fasthttp.StatusNotFound {
			t.Errorf("revoking handle %q: %d, want 404", h, status)
		}
	}
	bob.wantDevices("bob after alice tried his handle", hBob)
	laptop.wantDevices("after the bad handles", hLaptop, hTablet)
	// Without a login, or with GET, nothing.
	anon := newClient(t, ts, "Anon/1.0")
	for _, p := range []string{"/revoke", "/others"} {
		if status, _ := anon.do(fasthttp.MethodPost, p, url.Values{"handle": {hTablet}}); status != fasthttp.StatusUnauthorized {
			t.Errorf("POST %s without a login: %d, want 401", p, status)
		}
		if status, _ := laptop.do(fasthttp.MethodGet, p+"?handle="+hTablet, nil); status != fasthttp.StatusMethodNotAllowed {
			t.Errorf("GET %s: %d, want 405", p, status)
		}
	}
	if anon.cookie != "" {
		t.Error("a refused request created a session")
	}
	tablet.wantDevices("the tablet after the refused requests", hLaptop, hTablet)

	// Log out the other devices: the phone logs in again first.
	hPhone2 := phone.login("alice")
	laptop.wantDevices("the phone logged in again", hLaptop, hPhone2, hTablet)
	stolen = tablet.cookie
	laptop.post("/others", nil)
	exampletest.Contains(t, "after logging out the others", laptop.home(), "2 other devices logged out.")
	phone.loggedOut("the phone after log out other devices")
	tablet.loggedOut("the tablet after log out other devices")
	thief.cookie = stolen
	thief.loggedOut("a copy of the tablet's cookie")
	laptop.wantDevices("alone", hLaptop)
	bob.wantDevices("bob after alice logged out her other devices", hBob)

	// Log out: the last of alice's sessions; bob's lives on.
	stolen = laptop.cookie
	laptop.post("/logout", nil)
	if laptop.cookie != "" {
		t.Error("the logout did not delete the cookie")
	}
	laptop.loggedOut("after logout")
	thief.cookie = stolen
	thief.loggedOut("a copy of the laptop's cookie")
	if infos, err := store.UserSessions(t.Context(), "alice"); err != nil || len(infos) != 0 {
		t.Errorf("alice's sessions after the logout: %v, %v", infos, err)
	}
	bob.wantDevices("bob at the end", hBob)
}

// TestEscaping checks that the user name and the user agent, which come
// from the client, are escaped on the page.
func TestEscaping(t *testing.T) {
	ts, _ := startServer(t)
	c := newClient(t, ts, `<script>alert("ua")</script>`)
	c.login("<b>eve</b>")
	body := c.home()
	exampletest.Contains(t, "the page", body, "&lt;b&gt;eve&lt;/b&gt;", "&lt;script&gt;alert(&#34;ua&#34;)&lt;/script&gt;")
	exampletest.Lacks(t, "the page", body, "<b>eve</b>", "<script>")
}
