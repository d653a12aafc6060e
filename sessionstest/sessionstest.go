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
	"crypto/rand"
	"encoding/base32"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/fasthttp-sessions/sessions"
	"github.com/fasthttp-sessions/sessions/internal/testsrv"
	"github.com/valyala/fasthttp"
)

// Config describes the store under test. Run reads it and calls NewStore
// and Break from one subtest at a time, never concurrently; the stores that
// NewStore returns are used concurrently, as a server uses them.
type Config struct {
	// NewStore returns a new, empty store that signs with keyPairs (as
	// sessions.NewCookieStore takes them) and reads the current time from
	// now. The store must use the default codecs of this package for those
	// keys, and the default Options.
	NewStore func(t *testing.T, now func() time.Time, keyPairs ...[]byte) sessions.Store

	// ServerSide enables the tests of server-side stores: session IDs,
	// hostile IDs, renewal, destroy, revocation of stale saves.
	ServerSide bool

	// RealClock says that the store's records expire on a clock of their
	// own (a Redis store, whose TTLs run on the server's clock), though the
	// store reads now for everything else: the tests that need a record to
	// expire on now are skipped.
	RealClock bool

	// Stress is the number of operations of the revocation stress test;
	// 0 means 2000.
	Stress int

	// Break, when set, makes the backend of store fail until the returned
	// function repairs it: every call returns an error, or waits for the
	// store's own timeout (for example a Redis server stopped with
	// SIGSTOP). The test of a logout during an outage needs it, and is
	// skipped without it.
	Break func(t *testing.T, store sessions.Store) (repair func())

	// Spoil, when set, makes the record of id, which store has just saved,
	// unreadable for good, as an operator or another application sharing
	// the storage might (for a Redis store: a key of another type). From
	// then on every Load of id by the store's backend must fail, the
	// backend still answering: with an error that wraps neither
	// sessions.ErrRecordNotFound nor sessions.ErrUnsafeFolder and that
	// says no outage (no timeout, no lost connection); a Delete of id must
	// still remove it. The test that such a record does not lock its user
	// out needs it, and is skipped without it.
	Spoil func(t *testing.T, store sessions.Store, id string)
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
	// clock marks the tests that need records to expire on the injected
	// clock (skipped with RealClock).
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
		{"BadCookieCleared", false, false, testBadCookieCleared},
		{"LogoutFollowsRenewal", true, false, testLogoutFollowsRenewal},
		{"RenewalAfterLogout", true, false, testRenewalAfterLogout},
		{"LogoutWithPreRenewalCookie", true, false, testLogoutWithPreRenewalCookie},
		{"LogoutFollowsRenewalChain", true, false, testLogoutFollowsRenewalChain},
		{"RenewalRace", true, false, testRenewalRace},
		{"OldIDCookieRefused", true, false, testOldIDCookieRefused},
		{"RecordBoundToID", true, false, testRecordBoundToID},
		{"UnboundRecord", true, false, testUnboundRecord},
		{"IDSetByHand", true, false, testIDSetByHand},
		{"LogoutDuringOutage", true, false, testLogoutDuringOutage},
		{"UnreadableRecord", true, false, testUnreadableRecord},
		{"UserSessions", true, false, testUserSessions},
		{"RevokeOne", true, false, testRevokeOne},
		{"RevokeUser", true, false, testRevokeUser},
		{"UserKeys", true, false, testUserKeys},
		{"RevokeUserStaleSave", true, false, testRevokeUserStaleSave},
		{"RevokeUserRacingRenewal", true, false, testRevokeUserRacingRenewal},
		{"RevokeUserConcurrent", true, false, testRevokeUserConcurrent},
		{"Tokens", true, false, testTokens},
		{"TokensAndCookies", true, false, testTokensAndCookies},
		{"UnchangedWritesNothing", false, false, testUnchangedWritesNothing},
		{"RefreshKeepsSessionAlive", false, false, testRefreshKeepsSessionAlive},
		{"ChangesKeepSessionAlive", false, false, testChangesKeepSessionAlive},
		{"ReadOnlyStaleRequest", true, false, testReadOnlyStaleRequest},
		{"TouchContract", true, false, testTouchContract},
		{"LargeRecord", true, false, testLargeRecord},
		{"StaleRefreshKeepsNewerWrite", true, false, testStaleRefreshKeepsNewerWrite},
		{"OutageDoesNotOrphanSession", true, false, testOutageDoesNotOrphanSession},
		{"TouchedSessionListed", true, false, testTouchedSessionListed},
		{"SlowRequestKeepsSession", true, false, testSlowRequestKeepsRefreshedSession},
		{"LogoutWithIdleCookie", true, false, testLogoutWithIdleCookieEndsSession},
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
//	/idle?d=&maxage= sets the session's IdleTimeout (and MaxAge)
//	/handid         sets the session's ID by hand
//	/login?user=u   binds the session to u and renews its ID
//	/devices        lists the sessions of the session's user
//	/revoke?h=      revokes the session of handle h of the session's user
//	/others         revokes the other sessions of the session's user
//	/revokeall?user=u revokes every session of u
//	/               only loads and saves
//
// The body is "new=<IsNew> id=<ID> values=<sorted values> flashes=<flashes>
// get=<Get error> save=<Save error> user=<User> handle=<Handle>", with the
// errors as sentinel names, and what the user operations report.
func (e *env) handle(ctx *fasthttp.RequestCtx) {
	s, getErr := e.store.Get(ctx, cookieName)
	if e.hook != nil {
		e.hook(ctx, s)
	}
	var flashes []any
	var extra string
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
	case "/idle":
		// /idle?d=20m&maxage=3600 gives the session its own timeouts.
		if d, err := time.ParseDuration(string(ctx.QueryArgs().Peek("d"))); err == nil {
			s.Options.IdleTimeout = d
		}
		if n, err := ctx.QueryArgs().GetUint("maxage"); err == nil {
			s.Options.MaxAge = n
		}
	case "/handid":
		s.Values["h"] = "1"
		s.ID = strings.Repeat("A", 52)
	default:
		extra = e.userOp(ctx, s)
	}
	saveErr := sessions.Save(ctx)
	fmt.Fprintf(ctx, "new=%v id=%s values=%s flashes=%v get=%s save=%s user=%s handle=%s%s",
		s.IsNew, s.ID, render(s.Values), flashes, sentinel(getErr), sentinel(saveErr), s.User(), s.Handle(), extra)
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
	slices.Sort(parts)
	return "{" + strings.Join(parts, ",") + "}"
}

// browserSessionTTL is how long the stores keep the record of a
// browser-session cookie when BrowserSessionTTL is not set.
const browserSessionTTL = 24 * time.Hour

// ValidID reports whether id has the form of the session IDs of
// server-side stores: 52 characters of the base32 alphabet, A–Z and 2–7
// (32 random bytes). Every ID that reaches a sessions.Backend has it.
func ValidID(id string) bool {
	return len(id) == 52 && strings.Trim(id, "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567") == ""
}

// NewID returns a new random ID of the form ValidID checks, for the tests
// of a Backend.
func NewID() string {
	var b [32]byte
	_, _ = rand.Read(b[:])
	return base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(b[:])
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
		{sessions.ErrRecordNotFound, "notfound"},
		{errors.ErrUnsupported, "unsupported"},
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

// clientT is one user of the suite's server, with its own cookie jar.
type clientT = testsrv.Client

func (e *env) client() *clientT { return e.srv.NewClient(1) }

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
