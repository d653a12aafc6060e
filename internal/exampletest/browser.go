package exampletest

import (
	"io"
	"net/http"
	"net/http/cookiejar"
	"strings"
	"testing"
	"time"
)

// Browser is one user agent of a Server: a net/http client with its own
// cookie jar that does not follow redirects, so that the test sees each
// response. All the browsers of a server share one keep-alive connection.
// A Browser must be used from the test's goroutine only, as Get may call
// t.Fatal.
type Browser struct {
	t      testing.TB
	s      *Server
	jar    *cookiejar.Jar
	client *http.Client
}

// Browser returns a new browser of the server with an empty cookie jar.
func (s *Server) Browser() *Browser {
	jar, err := cookiejar.New(nil)
	if err != nil {
		s.t.Fatal(err)
	}
	return &Browser{t: s.t, s: s, jar: jar, client: &http.Client{
		Transport:     s.transport,
		Jar:           jar,
		Timeout:       10 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}}
}

// Response is what a test looks at in a response to a Browser. It is a
// plain value: safe to read from any goroutine, not to write concurrently.
type Response struct {
	Status   int
	Body     string
	Location string
	// Cookies are the response's Set-Cookie headers, by cookie name.
	Cookies map[string]*http.Cookie
}

// Get sends a GET for path with the jar's cookies and stores the
// response's cookies in the jar. A transport error fails the test; two
// Set-Cookie headers for one name are an error.
func (b *Browser) Get(path string) Response {
	b.t.Helper()
	resp, err := b.client.Get(b.s.URL.String() + path)
	if err != nil {
		b.t.Fatalf("GET %s: %v", path, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		b.t.Fatalf("GET %s: reading the body: %v", path, err)
	}
	r := Response{Status: resp.StatusCode, Body: string(body), Location: resp.Header.Get("Location"), Cookies: map[string]*http.Cookie{}}
	for _, c := range resp.Cookies() {
		if _, dup := r.Cookies[c.Name]; dup {
			b.t.Errorf("GET %s: two Set-Cookie headers for %q", path, c.Name)
		}
		r.Cookies[c.Name] = c
	}
	return r
}

// Cookie returns the value of the jar's cookie name, or "".
func (b *Browser) Cookie(name string) string {
	for _, c := range b.jar.Cookies(b.s.URL) {
		if c.Name == name {
			return c.Value
		}
	}
	return ""
}

// SetCookie puts a cookie in the jar, as a stolen or replayed cookie.
func (b *Browser) SetCookie(name, value string) {
	b.jar.SetCookies(b.s.URL, []*http.Cookie{{Name: name, Value: value, Path: "/"}})
}

// WantStatus fails the test unless r has the status.
func WantStatus(t testing.TB, what string, r Response, status int) {
	t.Helper()
	if r.Status != status {
		t.Fatalf("%s: status %d, want %d; body: %s", what, r.Status, status, r.Body)
	}
}

// WantRedirect fails the test unless r is a 303; it reports an error
// unless r redirects to location.
func WantRedirect(t testing.TB, what string, r Response, location string) {
	t.Helper()
	WantStatus(t, what, r, http.StatusSeeOther)
	if r.Location != location {
		t.Errorf("%s: Location %q, want %q", what, r.Location, location)
	}
}

// WantBody reports an error unless r's body contains every one of wants.
func WantBody(t testing.TB, what string, r Response, wants ...string) {
	t.Helper()
	for _, w := range wants {
		if !strings.Contains(r.Body, w) {
			t.Errorf("%s: body does not contain %q:\n%s", what, w, r.Body)
		}
	}
}

// WantNoBody reports an error for every one of unwanted that r's body
// contains.
func WantNoBody(t testing.TB, what string, r Response, unwanted ...string) {
	t.Helper()
	for _, w := range unwanted {
		if strings.Contains(r.Body, w) {
			t.Errorf("%s: body contains %q:\n%s", what, w, r.Body)
		}
	}
}

// WantCookies reports an error unless the response set exactly the cookies
// named.
func WantCookies(t testing.TB, what string, r Response, names ...string) {
	t.Helper()
	if len(r.Cookies) != len(names) {
		t.Errorf("%s: %d Set-Cookie headers %v, want %v", what, len(r.Cookies), r.Cookies, names)
	}
	for _, n := range names {
		if r.Cookies[n] == nil {
			t.Errorf("%s: no Set-Cookie for %q", what, n)
		}
	}
}
