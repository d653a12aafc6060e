package sessionstest

import (
	"context"
	"errors"
	"strings"
	"sync"
	"time"

	"github.com/fasthttp-sessions/sessions"
	"github.com/valyala/fasthttp"
)

// The tests of this file check what a logout, a renewal and the cookies
// promise against an attacker and against races (issue 11 of the
// project's tracker).

// testBadCookieCleared: a refused cookie is answered with a deletion
// cookie, once, unless a new session is saved under its name; a cookie
// whose record is merely gone is left alone (it may race a renewal).
func testBadCookieCleared(e *env) {
	c := e.client()
	c.Jar[cookieName] = "garbage"
	e.get(c, "/", "new=true", "get=invalid")
	if got := c.SetCookies(cookieName); len(got) != 1 || !strings.Contains(got[0], "Max-Age=0") {
		e.t.Fatalf("response to a bad cookie: Set-Cookie %q, want one deletion", got)
	}
	if _, ok := c.Jar[cookieName]; ok {
		e.t.Fatal("the bad cookie is still in the jar")
	}
	c.Jar[cookieName] = "garbage"
	e.get(c, "/set?a=1", "new=true", "get=invalid", "save=nil")
	if got := c.SetCookies(cookieName); len(got) != 1 || strings.Contains(got[0], "Max-Age=0") {
		e.t.Fatalf("a new session saved over a bad cookie: Set-Cookie %q, want the new cookie only", got)
	}
	e.get(c, "/", "new=false", "values={a:string=1}")
	if e.cfg.ServerSide {
		gone := e.client()
		gone.Jar[cookieName] = encode(e.t, NewID())
		e.get(gone, "/", "new=true", "get=nil")
		if got := gone.SetCookies(cookieName); len(got) != 0 {
			e.t.Fatalf("a cookie naming no record was answered with %q", got)
		}
	}
}

// testLogoutFollowsRenewal: a request that loaded the session before
// another request renewed its ID logs out afterwards: the renewed session
// ends too.
func testLogoutFollowsRenewal(e *env) {
	c := e.client()
	e.get(c, "/set?user=alice")
	old := c.Jar[cookieName]
	finish, _ := e.overlapDo(old, func(s *sessions.Session) { s.Options.MaxAge = -1 })
	e.get(c, "/renew", "save=nil")
	if body := finish(); field(body, "save") != "nil" {
		e.t.Fatalf("logout after a renewal by another request: %s", body)
	}
	e.get(c, "/", "new=true", "values={}")
	replay := e.client()
	replay.Jar[cookieName] = old
	e.get(replay, "/", "new=true", "values={}")
}

// testRenewalAfterLogout: a renewal from a request that loaded the session
// before another request logged it out is revoked, and gives out no ID.
func testRenewalAfterLogout(e *env) {
	c := e.client()
	e.get(c, "/set?user=alice")
	old := c.Jar[cookieName]
	finish, _ := e.overlapDo(old, func(s *sessions.Session) { s.RenewID() })
	e.get(c, "/logout", "save=nil")
	body := finish()
	if field(body, "save") != "revoked" || field(body, "id") != "" {
		e.t.Fatalf("renewal after a logout by another request: %s", body)
	}
	replay := e.client()
	replay.Jar[cookieName] = old
	e.get(replay, "/", "new=true", "values={}")
}

// testLogoutWithPreRenewalCookie: a browser that never received the
// renewed cookie (the response was lost, or a tab raced the login) logs
// out with the old one: the renewed session ends.
func testLogoutWithPreRenewalCookie(e *env) {
	c := e.client()
	e.get(c, "/set?user=alice")
	stale := e.client()
	stale.Jar[cookieName] = c.Jar[cookieName]
	e.get(c, "/renew", "save=nil")
	e.get(stale, "/logout", "new=true", "save=nil")
	e.get(c, "/", "new=true", "values={}")
}

// testLogoutFollowsRenewalChain: a logout that started before two renewals
// ends the session they led to.
func testLogoutFollowsRenewalChain(e *env) {
	c := e.client()
	e.get(c, "/set?user=alice")
	finish, _ := e.overlapDo(c.Jar[cookieName], func(s *sessions.Session) { s.Options.MaxAge = -1 })
	e.get(c, "/renew", "save=nil")
	e.get(c, "/set?step=2")
	e.get(c, "/renew", "save=nil")
	if body := finish(); field(body, "save") != "nil" {
		e.t.Fatalf("logout after two renewals: %s", body)
	}
	e.get(c, "/", "new=true", "values={}")
}

// testRenewalRace: two requests renew one session at once (two tabs
// logging in): one wins, the other is revoked, and a logout through the old
// cookie still ends the winner.
func testRenewalRace(e *env) {
	c := e.client()
	e.get(c, "/set?user=alice")
	old := c.Jar[cookieName]
	var loaded sync.WaitGroup
	loaded.Add(2)
	release := make(chan struct{})
	e.hook = func(ctx *fasthttp.RequestCtx, s *sessions.Session) {
		if string(ctx.Path()) == "/slowrenew" {
			loaded.Done()
			<-release
			s.RenewID()
		}
	}
	tabs := [2]struct {
		c    *clientT
		body string
	}{{c: e.client()}, {c: e.client()}}
	var done sync.WaitGroup
	for i := range tabs {
		tabs[i].c.Jar[cookieName] = old
		done.Add(1)
		go func() {
			defer done.Done()
			_, body, err := tabs[i].c.TryGet("/slowrenew")
			if err != nil {
				body = err.Error()
			}
			tabs[i].body = body
		}()
	}
	loaded.Wait()
	close(release)
	done.Wait()
	var winner *clientT
	for _, tab := range tabs {
		switch field(tab.body, "save") {
		case "nil":
			if winner != nil {
				e.t.Fatalf("both renewals of one session succeeded: %s | %s", tabs[0].body, tabs[1].body)
			}
			winner = tab.c
		case "revoked":
		default:
			e.t.Fatalf("renewal race: %s", tab.body)
		}
	}
	if winner == nil {
		e.t.Fatalf("neither renewal succeeded: %s | %s", tabs[0].body, tabs[1].body)
	}
	e.get(winner, "/", "new=false", "values={user:string=alice}")
	stale := e.client()
	stale.Jar[cookieName] = old
	e.get(stale, "/logout", "save=nil")
	e.get(winner, "/", "new=true", "values={}")
}

// testOldIDCookieRefused: an ID cookie signed longer ago than the
// session's IdleTimeout (or MaxAge) is refused, as CookieStore refuses such
// a cookie, while the user's own cookie, re-signed as they go, works.
func testOldIDCookieRefused(e *env) {
	c := e.client()
	e.get(c, "/set?user=alice")
	e.get(c, "/idle?d=20m&maxage=3600", "save=nil")
	copied := c.Jar[cookieName]
	stolen := e.client()
	for step := 1; step <= 12; step++ { // two hours, a request every ten minutes
		e.clock.Advance(10 * time.Minute)
		e.get(c, "/", "new=false", "values={user:string=alice}")
		stolen.Jar[cookieName] = copied
		if step == 1 {
			e.get(stolen, "/", "new=false", "values={user:string=alice}")
		}
		if step == 3 {
			e.get(stolen, "/", "new=true", "get=expired", "values={}")
		}
	}
	stolen.Jar[cookieName] = copied
	e.get(stolen, "/", "new=true", "get=expired", "values={}")
	e.get(c, "/", "new=false", "values={user:string=alice}")
}

// serverStore returns the ServerStore behind e's store.
// resignEverySave makes a server-side store send its ID cookie on every
// Save that writes, for the tests that look at the cookie's attributes
// (by default a Save that changes the values re-sends the cookie only when
// a refresh is due). A cookie store sends its cookie on every change.
func (e *env) resignEverySave() {
	if e.cfg.ServerSide {
		e.serverStore().RefreshAfter = -1
	}
}

func (e *env) serverStore() *sessions.ServerStore {
	var ctx fasthttp.RequestCtx
	ctx.Init(&fasthttp.Request{}, nil, nil)
	s, _ := e.store.New(&ctx, cookieName)
	ss, ok := s.Store().(*sessions.ServerStore)
	if !ok {
		e.t.Fatalf("the sessions of a server-side store report %T, not a *sessions.ServerStore", s.Store())
	}
	return ss
}

// testRecordBoundToID: a record copied under another session's ID (by
// whoever can write to the backend) does not load there.
func testRecordBoundToID(e *env) {
	alice, bob := e.client(), e.client()
	idA := field(e.get(alice, "/set?user=alice"), "id")
	idB := field(e.get(bob, "/set?user=bob"), "id")
	b := e.serverStore().Backend
	ctx := context.Background()
	data, _, err := b.Load(ctx, idA)
	if err != nil {
		e.t.Fatal(err)
	}
	if err := b.Update(ctx, idB, data, time.Hour); err != nil {
		e.t.Fatal(err)
	}
	e.get(bob, "/", "new=true", "get=invalid", "values={}")
	e.get(alice, "/", "new=false", "values={user:string=alice}")
}

// testUnboundRecord: a record signed under the cookie name, as
// gorilla/sessions writes them, loads (a migration keeps its sessions) and
// is bound on its next save, unless RejectUnboundRecords.
func testUnboundRecord(e *env) {
	ss := e.serverStore()
	plant := func(user string) *clientT {
		data, err := sessions.NewCookieStore(Keys...).Codecs[0].Encode(cookieName, map[any]any{"user": user})
		if err != nil {
			e.t.Fatal(err)
		}
		id := NewID()
		if err := ss.Backend.Create(context.Background(), id, []byte(data), time.Hour); err != nil {
			e.t.Fatal(err)
		}
		c := e.client()
		c.Jar[cookieName] = encode(e.t, id)
		return c
	}
	carol, dave := plant("carol"), plant("dave")
	e.get(carol, "/set?v=1", "new=false", "get=nil", "values={user:string=carol,v:string=1}")
	ss.RejectUnboundRecords = true
	defer func() { ss.RejectUnboundRecords = false }()
	e.get(carol, "/", "new=false", "values={user:string=carol,v:string=1}") // bound by its save
	e.get(dave, "/", "new=true", "get=invalid", "values={}")
}

// testIDSetByHand: a Save refuses an ID set by hand, on a loaded session as
// on a new one: RenewID is the way to change it.
func testIDSetByHand(e *env) {
	c := e.client()
	e.get(c, "/set?a=1")
	e.get(c, "/handid", "save=options")
	e.get(c, "/", "new=false", "values={a:string=1}")
	e.get(e.client(), "/handid", "new=true", "save=options")
}

// testLogoutDuringOutage: a logout while the backend fails reports the
// failure and keeps the cookie, so that it can be tried again, never
// pretending to have ended a session that may live on; the retry ends it.
func testLogoutDuringOutage(e *env) {
	if e.cfg.Break == nil {
		e.t.Skip("Config.Break is not set")
	}
	c := e.client()
	e.get(c, "/set?user=alice")
	cookie := c.Jar[cookieName]
	repair := e.cfg.Break(e.t, e.store)
	body := e.get(c, "/", "new=true")
	if field(body, "get") == "nil" || c.Jar[cookieName] != cookie {
		e.t.Fatalf("a load during the outage: %s; cookie kept: %v", body, c.Jar[cookieName] == cookie)
	}
	body = e.get(c, "/logout")
	if field(body, "save") == "nil" || c.Jar[cookieName] != cookie {
		e.t.Fatalf("a logout during the outage: %s; cookie kept: %v", body, c.Jar[cookieName] == cookie)
	}
	// The failed logout may have reached the backend after all (a stopped
	// server runs what it queued when it resumes): what counts is that it
	// was reported as failed, and that a retry ends the session for sure.
	repair()
	e.get(c, "/logout", "save=nil")
	replay := e.client()
	replay.Jar[cookieName] = cookie
	e.get(replay, "/", "new=true", "values={}")
}

// testUnreadableRecord: a record that the backend answers for but can
// never read (Config.Spoil) must not lock its user out until the cookie
// expires. The load reports the failure; the next Save deletes the record,
// as a logout would, and a new session takes its place. (An outage keeps
// the cookie instead: see testLogoutDuringOutage.)
func testUnreadableRecord(e *env) {
	if e.cfg.Spoil == nil {
		e.t.Skip("Config.Spoil is not set")
	}
	c := e.client()
	id := field(e.get(c, "/login?user=alice", "save=nil", "user=alice"), "id")
	old := c.Jar[cookieName]
	e.cfg.Spoil(e.t, e.store, id)

	// Alice logs in again.
	body := e.get(c, "/login?user=alice", "new=true", "values={}", "user=alice")
	if field(body, "get") == "nil" {
		e.t.Fatalf("the load of an unreadable record reported no error: %s", body)
	}
	if field(body, "save") != "nil" || c.Jar[cookieName] == old {
		e.t.Fatalf("an unreadable record locks its user out: %s; cookie replaced: %v", body, c.Jar[cookieName] != old)
	}
	if _, _, err := e.serverStore().Backend.Load(context.Background(), id); !errors.Is(err, sessions.ErrRecordNotFound) {
		e.t.Errorf("the unreadable record was not deleted: Load = %v, want ErrRecordNotFound", err)
	}
	e.get(c, "/", "new=false", "get=nil", "save=nil", "user=alice")
	replay := e.client()
	replay.Jar[cookieName] = old
	e.get(replay, "/", "new=true", "get=nil", "values={}", "user=")
}
