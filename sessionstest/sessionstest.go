// Package sessionstest is the conformance suite of the sessions.Store
// contract. Every store of this repository passes it, and so should a
// custom store: call Run from a test of yours.
//
//	func TestConformance(t *testing.T) {
//		sessionstest.Run(t, sessionstest.Config{
//			ServerSide: true,
//			NewStore: func(t *testing.T, now func() time.Time, keyPairs ...[]byte) sessions.Store {
//				s := mystore.New(db, keyPairs...)
//				s.Now = now
//				return s
//			},
//		})
//	}
//
// The suite drives the store through a real fasthttp server on an
// in-memory listener with keep-alive clients, as an application would.
package sessionstest

import (
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/fasthttp-sessions/sessions"
	"github.com/fasthttp-sessions/sessions/internal/testsrv"
	"github.com/valyala/fasthttp"
)

// Config describes the store under test.
type Config struct {
	// NewStore returns a new, empty store that signs with keyPairs (as
	// sessions.NewCookieStore takes them) and reads the current time from
	// now. The store must use the default codecs of this package for those
	// keys, and the default Options.
	NewStore func(t *testing.T, now func() time.Time, keyPairs ...[]byte) sessions.Store

	// ServerSide enables the tests of server-side stores: session IDs,
	// hostile IDs, renewal, destroy, revocation of stale saves.
	ServerSide bool

	// RealClock says that the store ignores now for expiry (a Redis store,
	// whose TTLs run on the server's clock): the tests that move time
	// forward are skipped.
	RealClock bool

	// Stress is the number of operations of the revocation stress test;
	// 0 means 2000.
	Stress int
}

// Clock is a settable clock for stores under test. It is safe for
// concurrent use.
type Clock struct {
	mu  sync.Mutex
	now time.Time
}

// NewClock returns a clock set to the current time.
func NewClock() *Clock { return &Clock{now: time.Now()} }

// Now returns the clock's time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// Advance moves the clock forward by d.
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

// Keys are the key pairs the suite gives NewStore: an HMAC key and an AES
// key.
var Keys = [][]byte{[]byte("sessionstest-hash-key-0123456789"), []byte("sessionstest-block-key-012345678")}

const cookieName = "sid"

// env is one store under test behind a real server.
type env struct {
	t     *testing.T
	cfg   Config
	clock *Clock
	store sessions.Store
	srv   *testsrv.Server
	// hook, when set, runs in the handler after the session is loaded.
	hook func(ctx *fasthttp.RequestCtx, s *sessions.Session)
}

// Run runs the conformance suite as subtests of t.
func Run(t *testing.T, cfg Config) {
	tests := []struct {
		name       string
		serverSide bool
		clock      bool
		fn         func(*env)
	}{
		{"RoundTrip", false, false, testRoundTrip},
		{"Flashes", false, false, testFlashes},
		{"MaxAgePersistent", false, false, testMaxAgePersistent},
		{"MaxAgeBrowserSession", false, false, testBrowserSession},
		{"MaxAgeDelete", false, false, testDelete},
		{"RememberMe", false, false, testRememberMe},
		{"BadCookies", false, false, testBadCookies},
		{"NoCrossTalk", false, false, testNoCrossTalk},
		{"IDs", true, false, testIDs},
		{"HostileIDs", true, false, testHostileIDs},
		{"AbsentRecord", true, false, testAbsentRecord},
		{"Renew", true, false, testRenew},
		{"DestroyRevokes", true, false, testDestroyRevokes},
		{"StaleSaveAfterLogout", true, false, testStaleSaveAfterLogout},
		{"StaleSaveAfterRenew", true, false, testStaleSaveAfterRenew},
		{"ConcurrentSavesWhole", true, false, testConcurrentSavesWhole},
		{"RevocationStress", true, false, testRevocationStress},
		{"Expiry", true, true, testExpiry},
		{"StaleSaveAfterExpiry", true, true, testStaleSaveAfterExpiry},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if tc.serverSide && !cfg.ServerSide {
				t.Skip("server-side stores only")
			}
			if tc.clock && cfg.RealClock {
				t.Skip("the store runs on a real clock")
			}
			e := &env{t: t, cfg: cfg, clock: NewClock()}
			e.store = cfg.NewStore(t, e.clock.Now, Keys...)
			e.srv = testsrv.New(t, e.handle)
			tc.fn(e)
		})
	}
}

// handle is the application the suite drives:
//
//	/set?k=v&k2=v2  stores string values
//	/setmany        stores one value of each common type
//	/flash?m=text   adds a flash
//	/remember       sets MaxAge to one hour
//	/browser        sets MaxAge to 0
//	/logout         sets MaxAge to -1
//	/renew          asks for a new ID
//	/               only loads and saves
//
// The body is "new=<IsNew> id=<ID> values=<sorted values> flashes=<flashes>
// get=<Get error> save=<Save error>", with the errors as sentinel names.
func (e *env) handle(ctx *fasthttp.RequestCtx) {
	s, getErr := e.store.Get(ctx, cookieName)
	if e.hook != nil {
		e.hook(ctx, s)
	}
	var flashes []any
	switch string(ctx.Path()) {
	case "/set":
		for k, v := range ctx.QueryArgs().All() {
			s.Values[string(k)] = string(v)
		}
	case "/setmany":
		s.Values["string"] = "text"
		s.Values["int"] = 42
		s.Values["int64"] = int64(-7)
		s.Values["uint8"] = uint8(200)
		s.Values["float64"] = 2.5
		s.Values["bool"] = true
		s.Values["bytes"] = []byte("abc")
		s.Values["time"] = time.Date(2026, 11, 21, 12, 0, 0, 0, time.UTC)
		s.Values[7] = "int-key"
	case "/flash":
		s.AddFlash(string(ctx.QueryArgs().Peek("m")))
	case "/flashes":
		flashes = s.Flashes()
	case "/remember":
		s.Options.MaxAge = 3600
	case "/browser":
		s.Options.MaxAge = 0
	case "/logout":
		s.Options.MaxAge = -1
	case "/renew":
		s.RenewID()
	}
	saveErr := sessions.Save(ctx)
	fmt.Fprintf(ctx, "new=%v id=%s values=%s flashes=%v get=%s save=%s",
		s.IsNew, s.ID, render(s.Values), flashes, sentinel(getErr), sentinel(saveErr))
}

func render(values map[any]any) string {
	parts := make([]string, 0, len(values))
	for k, v := range values {
		typ := fmt.Sprintf("%T", v)
		switch x := v.(type) {
		case time.Time:
			v = x.UTC().Format(time.RFC3339)
		case []byte:
			v = fmt.Sprintf("%x", x)
		}
		parts = append(parts, fmt.Sprintf("%v:%s=%v", k, typ, v))
	}
	sortStrings(parts)
	return "{" + strings.Join(parts, ",") + "}"
}

func sortStrings(a []string) {
	for i := 1; i < len(a); i++ {
		for j := i; j > 0 && a[j] < a[j-1]; j-- {
			a[j], a[j-1] = a[j-1], a[j]
		}
	}
}

// sentinel names the sentinel error err wraps.
func sentinel(err error) string {
	if err == nil {
		return "nil"
	}
	for _, s := range []struct {
		err  error
		name string
	}{
		{sessions.ErrSessionRevoked, "revoked"},
		{sessions.ErrCookieExpired, "expired"},
		{sessions.ErrCookieTooLong, "toolong"},
		{sessions.ErrCookieInvalid, "invalid"},
		{sessions.ErrInvalidName, "name"},
		{sessions.ErrInvalidOptions, "options"},
	} {
		if errors.Is(err, s.err) {
			return s.name
		}
	}
	return "other(" + err.Error() + ")"
}

// field returns the value of "key=" in a handler's body.
func field(body, key string) string {
	for f := range strings.FieldsSeq(body) {
		if v, ok := strings.CutPrefix(f, key+"="); ok {
			return v
		}
	}
	return ""
}

func (e *env) client() *testsrv.Client { return e.srv.NewClient(1) }

// get sends path and checks that the body has each of the key=value pairs.
func (e *env) get(c *testsrv.Client, path string, want ...string) string {
	e.t.Helper()
	code, body := c.Get(path)
	if code != fasthttp.StatusOK {
		e.t.Fatalf("GET %s: status %d: %s", path, code, body)
	}
	for _, w := range want {
		k, v, _ := strings.Cut(w, "=")
		if got := field(body, k); got != v {
			e.t.Fatalf("GET %s: %s=%q, want %q\nbody: %s", path, k, got, v, body)
		}
	}
	return body
}

// encode signs value as a cookie of the suite's name with the suite's keys.
func encode(t *testing.T, value any) string {
	t.Helper()
	enc, err := sessions.NewCookieStore(Keys...).Codecs[0].Encode(cookieName, value)
	if err != nil {
		t.Fatal(err)
	}
	return enc
}
