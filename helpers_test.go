package sessions

// Helpers shared by the tests of this package: one copy each.

import (
	"sync"
	"testing"
	"time"

	"github.com/valyala/fasthttp"
)

// testClock is the settable clock of the tests of this package (the tests
// of other packages use sessionstest.Clock). It is safe for concurrent use.
type testClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *testClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }

// Advance moves the clock forward by d.
func (c *testClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

// Set sets the clock to the Unix time sec.
func (c *testClock) Set(sec int64) {
	c.mu.Lock()
	c.now = time.Unix(sec, 0)
	c.mu.Unlock()
}

func newFSStore(t testing.TB, dir string) (*FilesystemStore, *testClock) {
	clock := &testClock{now: time.Now()}
	s := NewFilesystemStore(dir, testHash, testBlock)
	s.Now = clock.Now
	return s, clock
}

// saveNew saves a new session with values through the store, straight on a
// RequestCtx, and returns the session and its cookie value.
func saveNew(t testing.TB, s Store, values map[any]any) (*Session, string) {
	t.Helper()
	var ctx fasthttp.RequestCtx
	ctx.Init(&fasthttp.Request{}, nil, nil)
	session, err := s.New(&ctx, "sid")
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range values {
		session.Values[k] = v
	}
	if err := s.Save(&ctx, session); err != nil {
		t.Fatal(err)
	}
	return session, cookieValue(t, &ctx, "sid")
}

// load loads the session of cookie through the store.
func load(t testing.TB, s Store, cookie string) (*Session, error) {
	t.Helper()
	return s.New(requestWithCookie("sid", cookie), "sid")
}

// requestWithCookie returns an initialised RequestCtx whose request carries
// the cookie name=value.
func requestWithCookie(name, value string) *fasthttp.RequestCtx {
	var req fasthttp.Request
	req.Header.SetCookie(name, value)
	ctx := new(fasthttp.RequestCtx)
	ctx.Init(&req, nil, nil)
	return ctx
}

// cookieValue returns the value of the Set-Cookie for name in ctx's
// response.
func cookieValue(t testing.TB, ctx *fasthttp.RequestCtx, name string) string {
	t.Helper()
	ck := fasthttp.AcquireCookie()
	defer fasthttp.ReleaseCookie(ck)
	ck.SetKey(name)
	if !ctx.Response.Header.Cookie(ck) {
		t.Fatalf("no Set-Cookie for %q", name)
	}
	return string(ck.Value())
}
