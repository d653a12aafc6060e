package sessions

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/valyala/fasthttp"
)

// timeoutHandler is the application of the timeout tests:
//
//	/login?user=NAME[&maxage=SECONDS][&idle=DURATION][&abs=DURATION]
//	        stores the user and n=0, and gives the session its own MaxAge,
//	        IdleTimeout and AbsoluteTimeout ("remember me")
//	/visit  increments n
//	/renew  asks for a new ID
//	/       only loads (and saves a loaded session)
//
// Every request saves with Save. The body is "new=… user=… n=… id=…
// maxage=… idle=… abs=… get=… save=…", errors named by sentinel.
func timeoutHandler(store Store) fasthttp.RequestHandler {
	return func(ctx *fasthttp.RequestCtx) {
		s, getErr := store.Get(ctx, "sid")
		isNew := s.IsNew
		args := ctx.QueryArgs()
		switch string(ctx.Path()) {
		case "/login":
			s.Values["user"] = string(args.Peek("user"))
			s.Values["n"] = 0
			if args.Has("maxage") {
				s.Options.MaxAge = args.GetUintOrZero("maxage")
			}
			for _, o := range []struct {
				arg string
				d   *time.Duration
			}{{"idle", &s.Options.IdleTimeout}, {"abs", &s.Options.AbsoluteTimeout}} {
				if v := args.Peek(o.arg); len(v) > 0 {
					d, err := time.ParseDuration(string(v))
					if err != nil {
						ctx.Error(err.Error(), fasthttp.StatusBadRequest)
						return
					}
					*o.d = d
				}
			}
		case "/visit":
			n, _ := s.GetInt("n")
			s.Values["n"] = n + 1
		case "/renew":
			s.RenewID()
		}
		saveErr := Save(ctx)
		fmt.Fprintf(ctx, "new=%v user=%s n=%v id=%s maxage=%d idle=%v abs=%v get=%s save=%s",
			isNew, s.GetString("user"), s.Values["n"], s.ID, s.Options.MaxAge, s.Options.IdleTimeout,
			s.Options.AbsoluteTimeout, sentinelName(getErr), sentinelName(saveErr))
	}
}

// sentinelName names the sentinel err wraps, and flags an error whose
// message does not start "sessions: ".
func sentinelName(err error) string {
	if err == nil {
		return "nil"
	}
	if !strings.HasPrefix(err.Error(), "sessions: ") {
		return "unprefixed(" + strings.ReplaceAll(err.Error(), " ", "_") + ")"
	}
	for _, s := range []struct {
		err  error
		name string
	}{
		{ErrSessionRevoked, "revoked"},
		{ErrCookieExpired, "expired"},
		{ErrCookieTooLong, "toolong"},
		{ErrCookieInvalid, "invalid"},
	} {
		if errors.Is(err, s.err) {
			return s.name
		}
	}
	return "other(" + strings.ReplaceAll(err.Error(), " ", "_") + ")"
}

// bodyField returns the value of "key=" in a handler's body.
func bodyField(body, key string) string {
	for f := range strings.FieldsSeq(body) {
		if v, ok := strings.CutPrefix(f, key+"="); ok {
			return v
		}
	}
	return ""
}

// timeoutStep advances the clock, sends a request and checks the body.
type timeoutStep struct {
	advance time.Duration
	path    string
	// want holds key=value pairs the body must have. "get=EXPIRED" means
	// what the contract says for an expired session: ErrCookieExpired from
	// the cookie store, no error from server-side stores. "id=changed" and
	// "id=same" compare the ID with that of the previous step
	// (server-side stores only).
	want string
	// setCookie, when not "", must be in the response's Set-Cookie.
	setCookie string
}

// expired is the want of a step whose session has expired: the user gets
// a new, empty session (saved under a new ID by /visit).
const expired = "new=true user= get=EXPIRED save=nil"

type timeoutScenario struct {
	name string
	// kinds are the stores to run on; nil means all.
	kinds []storeKind
	// setup configures the store before the first request.
	setup func(st *testStore)
	steps []timeoutStep
}

// runTimeoutScenario runs sc on a store of kind with an injected clock,
// started at the current time and moved forward by the steps only.
func runTimeoutScenario(t *testing.T, kind storeKind, sc timeoutScenario) {
	t.Helper()
	clock := &testClock{now: time.Now()}
	st := newTestStore(t, kind, "", testHash, testBlock)
	st.setNow(clock.Now)
	if sc.setup != nil {
		sc.setup(st)
	}
	ts := newTestServer(t, timeoutHandler(st.store))
	c := ts.NewClient(1)
	var elapsed time.Duration
	prevID := ""
	for i, step := range sc.steps {
		clock.Advance(step.advance)
		elapsed += step.advance
		code, body := c.Get(step.path)
		if code != fasthttp.StatusOK {
			t.Fatalf("step %d (%s after %v): status %d: %s", i, step.path, elapsed, code, body)
		}
		id := bodyField(body, "id")
		for w := range strings.FieldsSeq(step.want) {
			k, v, _ := strings.Cut(w, "=")
			got := bodyField(body, k)
			switch {
			case k == "get" && v == "EXPIRED":
				v = "nil"
				if kind == kindCookie {
					v = "expired"
				}
			case k == "id" && (v == "changed" || v == "same"):
				if kind == kindCookie {
					continue
				}
				if !validID(id) || (v == "changed") != (id != prevID) {
					t.Fatalf("step %d (%s after %v): ID %q, previous %q, want it %s\nbody: %s", i, step.path, elapsed, id, prevID, v, body)
				}
				continue
			}
			if got != v {
				t.Fatalf("step %d (%s after %v): %s=%q, want %q\nbody: %s", i, step.path, elapsed, k, got, v, body)
			}
		}
		if step.setCookie != "" && !strings.Contains(c.SetCookie("sid"), step.setCookie) {
			t.Fatalf("step %d (%s after %v): Set-Cookie %q does not contain %q", i, step.path, elapsed, c.SetCookie("sid"), step.setCookie)
		}
		prevID = id
	}
}

func runTimeoutScenarios(t *testing.T, scenarios []timeoutScenario) {
	t.Helper()
	for _, sc := range scenarios {
		kinds := sc.kinds
		if kinds == nil {
			kinds = allKinds
		}
		for _, kind := range kinds {
			t.Run(sc.name+"/"+kind.String(), func(t *testing.T) { runTimeoutScenario(t, kind, sc) })
		}
	}
}

// every repeats step n times.
func every(n int, step timeoutStep) []timeoutStep {
	steps := make([]timeoutStep, n)
	for i := range steps {
		steps[i] = step
		steps[i].want = strings.ReplaceAll(step.want, "N", fmt.Sprint(i+1))
	}
	return steps
}

func steps(parts ...[]timeoutStep) []timeoutStep {
	var all []timeoutStep
	for _, p := range parts {
		all = append(all, p...)
	}
	return all
}

func idle(d time.Duration) func(*testStore) {
	return func(st *testStore) { st.opts.IdleTimeout = d }
}

func TestIdleTimeout(t *testing.T) {
	login := timeoutStep{path: "/login?user=alice", want: "new=true user=alice n=0 save=nil"}
	runTimeoutScenarios(t, []timeoutScenario{
		{
			name:  "used within the timeout",
			setup: idle(30 * time.Minute),
			steps: []timeoutStep{login, {advance: 29 * time.Minute, path: "/visit", want: "new=false user=alice n=1 get=nil id=same"}},
		},
		{
			name:  "idle past the timeout",
			setup: idle(30 * time.Minute),
			steps: []timeoutStep{
				login,
				{advance: 31 * time.Minute, path: "/", want: expired},
			},
		},
		{
			// The new session that replaces an expired one is saved and
			// lives on (under a new ID).
			name:  "the new session after expiry",
			setup: idle(30 * time.Minute),
			steps: []timeoutStep{
				login,
				{advance: 31 * time.Minute, path: "/visit", want: expired + " n=1 id=changed"},
				{advance: 10 * time.Minute, path: "/visit", want: "new=false user= n=2 get=nil id=same"},
			},
		},
		{
			// Every Save restarts the idle timeout: a session used every
			// 20 minutes outlives a 30-minute timeout many times over.
			name:  "restarted by every save",
			setup: idle(30 * time.Minute),
			steps: steps(
				[]timeoutStep{login},
				every(9, timeoutStep{advance: 20 * time.Minute, path: "/visit", want: "new=false user=alice n=N get=nil id=same"}),
				[]timeoutStep{{advance: 30 * time.Minute, path: "/", want: expired}},
			),
		},
	})
}

func TestAbsoluteTimeout(t *testing.T) {
	login := timeoutStep{path: "/login?user=alice", want: "new=true user=alice n=0 save=nil"}
	runTimeoutScenarios(t, []timeoutScenario{
		{
			// Saved every 10 minutes, it still dies two hours after its
			// creation.
			name:  "dies however much it is used",
			setup: func(st *testStore) { st.opts.AbsoluteTimeout = 2 * time.Hour },
			steps: steps(
				[]timeoutStep{login},
				every(11, timeoutStep{advance: 10 * time.Minute, path: "/visit", want: "new=false user=alice n=N get=nil id=same"}),
				[]timeoutStep{{advance: 10 * time.Minute, path: "/visit", want: expired + " n=1 id=changed"}},
			),
		},
		{
			// With an idle timeout too: saved every 5 minutes, it never
			// idles out, and dies at its absolute lifetime.
			name: "continuous use with an idle timeout",
			setup: func(st *testStore) {
				st.opts.IdleTimeout = 30 * time.Minute
				st.opts.AbsoluteTimeout = 2 * time.Hour
			},
			steps: steps(
				[]timeoutStep{login},
				every(23, timeoutStep{advance: 5 * time.Minute, path: "/visit", want: "new=false user=alice n=N get=nil id=same"}),
				[]timeoutStep{{advance: 5 * time.Minute, path: "/", want: expired}},
			),
		},
		{
			// An AbsoluteTimeout given to one session at login is kept by
			// later saves that do not set it.
			name: "set per session at login",
			steps: []timeoutStep{
				{path: "/login?user=alice&abs=1h", want: "new=true abs=1h0m0s save=nil"},
				{advance: 50 * time.Minute, path: "/visit", want: "new=false user=alice n=1 abs=1h0m0s get=nil"},
				{advance: 11 * time.Minute, path: "/", want: expired + " abs=0s"},
			},
		},
	})
}

// TestRememberMe gives one session a longer MaxAge and IdleTimeout at login
// ("remember me"); later saves keep them without setting them again.
func TestRememberMe(t *testing.T) {
	const rememberMe = "maxage=2592000&idle=12h"
	shortStore := func(st *testStore) {
		st.maxAge(86400)
		st.opts.IdleTimeout = 30 * time.Minute
	}
	month := "Max-Age=2592000"
	runTimeoutScenarios(t, []timeoutScenario{
		{
			name:  "ticked",
			setup: shortStore,
			steps: []timeoutStep{
				{path: "/login?user=alice&" + rememberMe, want: "new=true maxage=2592000 idle=12h0m0s save=nil", setCookie: month},
				{advance: 11 * time.Hour, path: "/visit", want: "new=false user=alice n=1 maxage=2592000 idle=12h0m0s get=nil id=same", setCookie: month},
				// 22 hours after login, 11 after the last save.
				{advance: 11 * time.Hour, path: "/visit", want: "new=false user=alice n=2 maxage=2592000 idle=12h0m0s get=nil id=same", setCookie: month},
				{advance: 12*time.Hour + time.Minute, path: "/", want: expired + " maxage=86400 idle=30m0s"},
			},
		},
		{
			// The settings of a session that expired die with it: the new
			// session has the store's.
			name:  "expired by its own absolute timeout",
			setup: shortStore,
			steps: []timeoutStep{
				{path: "/login?user=alice&abs=1h&" + rememberMe, want: "new=true maxage=2592000 idle=12h0m0s abs=1h0m0s save=nil", setCookie: month},
				{advance: 61 * time.Minute, path: "/", want: expired + " maxage=86400 idle=30m0s abs=0s"},
				{path: "/visit", want: "new=true n=1 maxage=86400 idle=30m0s abs=0s save=nil", setCookie: "Max-Age=86400"},
			},
		},
		{
			name:  "not ticked",
			setup: shortStore,
			steps: []timeoutStep{
				{path: "/login?user=bob", want: "new=true maxage=86400 idle=30m0s save=nil", setCookie: "Max-Age=86400"},
				{advance: 29 * time.Minute, path: "/visit", want: "new=false user=bob n=1 idle=30m0s get=nil", setCookie: "Max-Age=86400"},
				{advance: 31 * time.Minute, path: "/", want: expired},
			},
		},
	})
}

// TestStoreMaxAgeBoundsSessions gives one session a MaxAge of 30 days in a
// store whose MaxAge is one hour. As Options.MaxAge documents, the store's
// MaxAge (which is also its codecs' MaxAge, as in gorilla/sessions) bounds
// every session: two days later the session is gone, although the browser
// would still send the cookie.
func TestStoreMaxAgeBoundsSessions(t *testing.T) {
	const rememberMe = "maxage=2592000"
	hourStore := func(st *testStore) { st.maxAge(3600) }
	month := "Max-Age=2592000"
	login := timeoutStep{path: "/login?user=alice&" + rememberMe, want: "new=true maxage=2592000 idle=0s save=nil", setCookie: month}
	runTimeoutScenarios(t, []timeoutScenario{{
		name:  "on the store's clock",
		kinds: []storeKind{kindCookie, kindMemory},
		setup: hourStore,
		steps: []timeoutStep{
			login,
			{advance: 59 * time.Minute, path: "/visit", want: "new=false user=alice n=1 maxage=2592000 get=nil", setCookie: month},
			{advance: 48 * time.Hour, path: "/visit", want: "new=true user= maxage=3600"},
		},
	}})
}

// TestRenewKeepsCreationTime renews the ID of a session with an absolute
// lifetime: the lifetime still counts from its creation, not from the
// renewal. (The cookie store has no ID and ignores RenewID; its creation
// time must hold all the same.)
func TestRenewKeepsCreationTime(t *testing.T) {
	runTimeoutScenarios(t, []timeoutScenario{{
		name:  "absolute timeout",
		setup: func(st *testStore) { st.opts.AbsoluteTimeout = 2 * time.Hour },
		steps: []timeoutStep{
			{path: "/login?user=alice", want: "new=true save=nil"},
			{advance: time.Hour, path: "/renew", want: "new=false user=alice n=0 get=nil save=nil id=changed"},
			{advance: 59 * time.Minute, path: "/visit", want: "new=false user=alice n=1 get=nil id=same"},
			// Two hours and a minute after creation, 61 minutes after the
			// renewal.
			{advance: 2 * time.Minute, path: "/", want: expired},
		},
	}, {
		name: "idle and absolute timeouts",
		setup: func(st *testStore) {
			st.opts.IdleTimeout = 45 * time.Minute
			st.opts.AbsoluteTimeout = 2 * time.Hour
		},
		steps: []timeoutStep{
			{path: "/login?user=alice", want: "new=true save=nil"},
			{advance: 40 * time.Minute, path: "/renew", want: "new=false user=alice get=nil save=nil id=changed"},
			{advance: 40 * time.Minute, path: "/renew", want: "new=false user=alice get=nil save=nil id=changed"},
			{advance: 39 * time.Minute, path: "/visit", want: "new=false user=alice n=1 get=nil id=same"},
			{advance: 2 * time.Minute, path: "/", want: expired},
		},
	}})
}
