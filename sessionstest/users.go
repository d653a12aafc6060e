package sessionstest

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"

	"github.com/fasthttp-sessions/sessions"
	"github.com/valyala/fasthttp"
)

// The tests of this file check "log out everywhere": the user index of
// server-side stores whose Backend implements sessions.UserIndex.

// userOp runs the user operations of the suite's handler (see handle) and
// returns what they report, as " key=value" fields.
func (e *env) userOp(ctx *fasthttp.RequestCtx, s *sessions.Session) string {
	path := string(ctx.Path())
	switch path {
	case "/login", "/devices", "/revoke", "/others", "/revokeall":
	default:
		return ""
	}
	ss, ok := s.Store().(*sessions.ServerStore)
	if !ok {
		return " op=nostore"
	}
	q := ctx.QueryArgs()
	switch path {
	case "/login":
		s.SetUser(string(q.Peek("user")))
		s.RenewID()
		return ""
	case "/devices":
		infos, err := ss.UserSessions(ctx, s.User())
		var handles []string
		for _, info := range infos {
			handles = append(handles, info.Handle)
			if info.Created.IsZero() || info.LastSaved.IsZero() || !info.Expires.After(info.LastSaved) || info.UserAgent == "" {
				return fmt.Sprintf(" devices=bad-info(%+v)", info)
			}
		}
		slices.Sort(handles)
		return fmt.Sprintf(" devices=%s list=%s", strings.Join(handles, ","), sentinel(err))
	case "/revoke":
		return " revoke=" + sentinel(ss.Revoke(ctx, s.User(), string(q.Peek("h"))))
	case "/others":
		n, err := ss.RevokeUser(ctx, s.User(), s)
		return fmt.Sprintf(" ended=%d revoke=%s", n, sentinel(err))
	default: // "/revokeall"
		n, err := ss.RevokeUser(ctx, string(q.Peek("user")), nil)
		return fmt.Sprintf(" ended=%d revoke=%s", n, sentinel(err))
	}
}

// index returns the user index of e's store, or skips the test.
func (e *env) index() sessions.UserIndex {
	b := e.serverStore().Backend
	ui, ok := b.(sessions.UserIndex)
	if ok {
		_, err := ui.UserIDs(context.Background(), "sessionstest-probe")
		ok = !errors.Is(err, errors.ErrUnsupported)
	}
	if !ok {
		e.t.Skipf("%T keeps no user index", b)
	}
	return ui
}

// devices logs in n clients as user and returns them with their handles.
func (e *env) devices(user string, n int) ([]*clientT, []string) {
	var cs []*clientT
	var hs []string
	for range n {
		c := e.client()
		e.get(c, "/set?device=x")
		body := e.get(c, "/login?user="+user, "save=nil", "user="+user)
		h := field(body, "handle")
		if h == "" || strings.Contains(strings.ToUpper(field(body, "id")), strings.ToUpper(h)) {
			e.t.Fatalf("handle %q of ID %s", h, field(body, "id"))
		}
		cs, hs = append(cs, c), append(hs, h)
	}
	return cs, hs
}

func sorted(s []string) string {
	s = slices.Clone(s)
	slices.Sort(s)
	return strings.Join(s, ",")
}

// testUserSessions: a user's sessions are listed with their handles; the
// binding survives the renewal of the login and later saves; a logout
// takes a session off the list; another user's are not there.
func testUserSessions(e *env) {
	e.index()
	alice, handles := e.devices("alice", 3)
	_, bobs := e.devices("bob", 1)
	e.get(alice[0], "/set?cart=1", "user=alice")
	e.get(alice[0], "/devices", "devices="+sorted(handles), "list=nil")
	e.get(e.client(), "/devices", "devices=", "list=nil") // no user
	e.get(alice[2], "/logout", "save=nil")
	e.get(alice[1], "/devices", "devices="+sorted(handles[:2]))
	bob := e.client()
	e.get(bob, "/login?user=bob")
	e.get(bob, "/devices", "devices="+sorted([]string{bobs[0], field(e.get(bob, "/"), "handle")}))
	// A handle is no cookie.
	c := e.client()
	c.Jar[cookieName] = handles[0]
	e.get(c, "/", "new=true", "get=invalid")
}

// testRevokeOne: Revoke ends one session of the user, and nothing for a
// handle of another user, a made-up handle or one already ended.
func testRevokeOne(e *env) {
	e.index()
	alice, handles := e.devices("alice", 3)
	_, bobs := e.devices("bob", 1)
	e.get(alice[0], "/revoke?h="+handles[1], "revoke=nil")
	e.get(alice[1], "/", "new=true", "values={}")
	e.get(alice[2], "/", "new=false", "user=alice")
	for _, h := range []string{handles[1], bobs[0], "made-up", strings.Repeat("a", 26), ""} {
		e.get(alice[0], "/revoke?h="+h, "revoke=notfound")
	}
	e.get(alice[2], "/", "new=false", "user=alice")
	e.get(alice[0], "/devices", "devices="+sorted([]string{handles[0], handles[2]}))
}

// testUserKeys: as the UserIndex contract says, user keys are arbitrary
// strings: each has a set of its own whatever its bytes (empty, binary, a
// case or a space apart, long, the syntax of a backend's keys or
// queries); an ID added twice is listed once; removing an ID takes it out
// of that user's set only, and removing one that is not there is no
// error.
func testUserKeys(e *env) {
	ui := e.index()
	ctx := context.Background()
	add := func(user, id string) {
		if err := ui.AddUserID(ctx, user, id); err != nil {
			e.t.Fatalf("AddUserID(%q, %s): %v", user, id, err)
		}
	}
	ids := func(user string) string {
		ids, err := ui.UserIDs(ctx, user)
		if err != nil {
			e.t.Fatalf("UserIDs(%q): %v", user, err)
		}
		return sorted(ids)
	}
	a1, a2, b1 := NewID(), NewID(), NewID()
	add("alice", a1)
	add("alice", a2)
	add("alice", a1) // again
	add("bob", b1)
	alice := sorted([]string{a1, a2})
	if got := ids("alice"); got != alice {
		e.t.Fatalf("alice's IDs: %s, want %s", got, alice)
	}
	if got := ids("bob"); got != b1 {
		e.t.Fatalf("bob's IDs: %s, want %s", got, b1)
	}
	odd := []string{"", "\x00\xff", "alice ", "ALICE", strings.Repeat("é", 512), "{tag}", "{tag}2",
		"*", "%", "user:alice", "../alice", "'; DROP TABLE sessions; --", "bob' OR '1'='1"}
	for i, u := range odd {
		id := NewID()
		add(u, id)
		if got := ids(u); got != id {
			e.t.Fatalf("user %d (%q): %s, want only %s", i, u, got, id)
		}
	}
	if got := ids("alice"); got != alice {
		e.t.Fatalf("alice's IDs after the odd users: %s, want %s", got, alice)
	}
	for _, x := range []struct{ user, id string }{{"alice", a1}, {"alice", a1}, {"alice", b1}, {"carol", a2}} {
		if err := ui.RemoveUserID(ctx, x.user, x.id); err != nil {
			e.t.Fatalf("RemoveUserID(%s, %s): %v", x.user, x.id, err)
		}
	}
	if got := ids("alice"); got != a2 {
		e.t.Fatalf("alice's IDs after RemoveUserID: %s, want %s", got, a2)
	}
	if got := ids("bob"); got != b1 {
		e.t.Fatalf("bob's IDs after removing his ID from alice's set: %s, want %s", got, b1)
	}
	if got := ids("carol"); got != "" {
		e.t.Fatalf("carol, who never had a set: %s, want none", got)
	}
}

// testRevokeUser: RevokeUser ends every session of the user but the one
// kept; the index of the user is empty once they are all gone.
func testRevokeUser(e *env) {
	ui := e.index()
	alice, _ := e.devices("alice", 3)
	bob, _ := e.devices("bob", 1)
	e.get(alice[0], "/others", "ended=2", "revoke=nil")
	e.get(alice[0], "/", "new=false", "user=alice")
	for _, c := range alice[1:] {
		e.get(c, "/", "new=true", "values={}")
	}
	e.get(bob[0], "/revokeall?user=alice", "ended=1", "revoke=nil", "user=bob")
	e.get(alice[0], "/", "new=true", "values={}")
	e.get(bob[0], "/", "new=false", "user=bob")
	e.get(bob[0], "/revokeall?user=alice", "ended=0", "revoke=nil")
	if ids, err := ui.UserIDs(context.Background(), "alice"); err != nil || len(ids) != 0 {
		e.t.Fatalf("alice's index after RevokeUser: %v, %v", ids, err)
	}
}

// testRevokeUserStaleSave: a request that loaded a session before
// RevokeUser and saves after it is revoked.
func testRevokeUserStaleSave(e *env) {
	e.index()
	alice, _ := e.devices("alice", 2)
	finish := e.overlap(alice[1].Jar[cookieName])
	e.get(alice[0], "/others", "ended=1")
	if body := finish(); field(body, "save") != "revoked" {
		e.t.Fatalf("a stale save after RevokeUser: %s", body)
	}
	e.get(alice[1], "/", "new=true", "values={}")
}

// testRevokeUserRacingRenewal: a renewal in flight while RevokeUser runs
// lets no new ID escape, whichever finishes first.
func testRevokeUserRacingRenewal(e *env) {
	e.index()
	for _, renewFirst := range []bool{true, false} {
		alice, _ := e.devices("alice", 1)
		admin := e.client()
		finish, slowClient := e.overlapDo(alice[0].Jar[cookieName], func(s *sessions.Session) { s.RenewID() })
		var slow string
		if renewFirst {
			slow = finish()
			e.get(admin, "/revokeall?user=alice", "revoke=nil")
		} else {
			e.get(admin, "/revokeall?user=alice", "ended=1", "revoke=nil")
			slow = finish()
		}
		// Whatever the slow renewal reported, its new ID (if it gave one
		// out) is dead, and so is the old one.
		if s := field(slow, "save"); s != "nil" && s != "revoked" {
			e.t.Fatalf("renewal racing RevokeUser: %s", slow)
		}
		e.get(slowClient, "/", "new=true", "values={}", "user=")
		e.get(alice[0], "/", "new=true", "values={}", "user=")
	}
}

// testRevokeUserConcurrent: many sessions of a user saved, renewed and
// revoked at once: after RevokeUser returns, none of those that existed
// answers.
func testRevokeUserConcurrent(e *env) {
	e.index()
	alice, _ := e.devices("alice", 8)
	before := make([]string, len(alice))
	for i, c := range alice {
		before[i] = c.Jar[cookieName]
	}
	var wg sync.WaitGroup
	for i, c := range alice {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range 5 {
				path := fmt.Sprintf("/set?n=%d", j)
				if (i+j)%3 == 0 {
					path = "/renew"
				}
				if _, _, err := c.TryGet(path); err != nil {
					e.t.Error(err)
					return
				}
			}
		}()
	}
	e.get(e.client(), "/revokeall?user=alice", "revoke=nil")
	wg.Wait()
	for i, c := range alice {
		old := e.client()
		old.Jar[cookieName] = before[i]
		e.get(old, "/", "new=true", "values={}")
		// What the device holds now is a session started after the
		// revocation, not alice's.
		e.get(c, "/", "user=")
	}
}
