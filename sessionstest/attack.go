package sessionstest

import (
	"strings"
	"time"

	"github.com/fasthttp-sessions/sessions"
	"github.com/valyala/fasthttp"
)

// Tests from the outside security review (wip/attack): each one drives a
// hole in a promise of README.md or SECURITY.md as a user would meet it.

// testStaleRefreshKeepsNewerWrite: a request that only read a session must
// not undo what another request saved meanwhile. Once the record's
// signature is older than half the store's MaxAge, a refresh rewrites the
// record (Toucher.Touch is not used), and it rewrote the values this
// request loaded, over the newer ones.
func testStaleRefreshKeepsNewerWrite(e *env) {
	c := e.client()
	e.get(c, "/set?role=admin")
	// Half the store's MaxAge (30 days) later, a refresh rewrites the
	// record rather than touch it.
	e.clock.Advance(16 * 24 * time.Hour)
	finish, _ := e.overlapDo(c.Jar[cookieName], func(s *sessions.Session) {}) // only reads
	e.get(c, "/set?role=user", "save=nil", "values={role:string=user}")       // a demotion
	if body := finish(); field(body, "save") != "nil" {
		e.t.Fatalf("the read-only request: %s", body)
	}
	e.get(c, "/", "values={role:string=user}")
}

// testOutageDoesNotOrphanSession: a request whose genuine cookie named a
// live record that the backend could not read (a timeout, an outage that
// ended a moment later) must not replace that cookie with a new session
// while the record lives on: the browser would lose the session (nothing
// saved is lost), and its logout would end the new session only, leaving a
// stolen copy of the old cookie usable after the logout.
func testOutageDoesNotOrphanSession(e *env) {
	if e.cfg.Break == nil {
		e.t.Skip("Config.Break is not set")
	}
	c := e.client()
	e.get(c, "/set?user=alice&cart=3")
	stolen := c.Jar[cookieName]

	repair := e.cfg.Break(e.t, e.store)
	repaired := false
	e.hook = func(ctx *fasthttp.RequestCtx, s *sessions.Session) {
		if !repaired {
			repair() // the outage ends while the request runs
			repaired = true
		}
	}
	// A changing request whose load failed: a handler that ignores Get's
	// error, as with gorilla.
	body := e.get(c, "/set?flash=hello")
	e.hook = nil
	e.get(c, "/logout", "save=nil")

	thief := e.client()
	thief.Jar[cookieName] = stolen
	if got := e.get(thief, "/"); field(got, "new") != "true" {
		e.t.Errorf("a stolen copy of the cookie still loads the session after its user logged out:\n"+
			"request during the outage: %s\nthe thief's request: %s", body, got)
	}
}

// testTouchedSessionListed: a session kept alive by refreshes (Touch, no
// rewrite) is live: UserSessions must list it and Revoke must end it. The
// index readers judged it by its record's signed date, which a Touch does
// not change, as if it had expired.
func testTouchedSessionListed(e *env) {
	c := e.client()
	body := e.get(c, "/login?user=alice", "save=nil", "user=alice")
	handle := field(body, "handle")
	e.get(c, "/idle?d=30m", "save=nil", "handle="+handle)
	// Read-only use for 35 minutes: refreshed every 5 (Touch, where the
	// backend has it), never idle 30.
	for range 7 {
		e.clock.Advance(5 * time.Minute)
		e.get(c, "/", "new=false", "user=alice")
	}
	other := e.client()
	e.get(other, "/login?user=alice", "save=nil")
	if body := e.get(other, "/devices"); !strings.Contains(field(body, "devices"), handle) {
		e.t.Errorf("UserSessions does not list a live session: %s (its handle %s)", body, handle)
	}
	e.get(other, "/revoke?h="+handle, "revoke=nil")
	e.get(c, "/", "new=true")
}

// testSlowRequestKeepsRefreshedSession: a request that loaded a session
// shortly before its idle deadline, and ran past it (an upload, a slow
// page), must not end the session when another request of its user
// refreshed it meanwhile: the session is live. It deleted the record as
// expired, by what it had seen at load time, and even a read-only request
// left its user logged out.
func testSlowRequestKeepsRefreshedSession(e *env) {
	c := e.client()
	e.get(c, "/set?user=alice")
	e.get(c, "/idle?d=30m", "save=nil")
	e.clock.Advance(29 * time.Minute)
	finish, _ := e.overlapDo(c.Jar[cookieName], func(s *sessions.Session) {}) // only reads
	e.get(c, "/", "new=false", "values={user:string=alice}")                  // a refresh: live for 30 more minutes
	e.clock.Advance(2 * time.Minute)
	if body := finish(); field(body, "save") != "nil" {
		e.t.Errorf("the slow request: %s", body)
	}
	e.get(c, "/", "new=false", "values={user:string=alice}")
}

// testLogoutWithIdleCookieEndsSession: a user back after their idle
// timeout clicks "log out" while someone else holds a copy of their cookie
// and keeps the session alive with it. The logout reported success (its
// cookie was refused as too old, so it deleted nothing) and the copy kept
// working.
func testLogoutWithIdleCookieEndsSession(e *env) {
	c := e.client()
	e.get(c, "/set?user=alice")
	e.get(c, "/idle?d=30m", "save=nil")
	thief := e.client()
	thief.Jar[cookieName] = c.Jar[cookieName]
	for range 8 { // the thief keeps it alive; its user is away for 40 minutes
		e.clock.Advance(5 * time.Minute)
		e.get(thief, "/", "new=false", "values={user:string=alice}")
	}
	body := e.get(c, "/logout")
	if got := e.get(thief, "/"); field(got, "new") != "true" {
		e.t.Errorf("the logout answered %s, and the thief's copy still loads the session: %s", body, got)
	}
}
