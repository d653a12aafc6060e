package pgstore_test

import (
	"testing"

	"github.com/fasthttp-sessions/sessions/internal/pgtest"
	"github.com/fasthttp-sessions/sessions/pgstore"
)

// TestTwoInstances runs two application instances, each with its own pool
// and store, on one table: a session made through one is the same session
// through the other, and a logout or a renewal through one holds on both.
func TestTwoInstances(t *testing.T) {
	srv := pgtest.Start(t)
	storeA := newStore(t, poolOf(t, srv), nil)
	storeB := pgstore.New(poolOf(t, srv), keys...)
	storeB.Table = storeA.Table
	a, b := (&app{store: storeA}).serve(t), (&app{store: storeB}).serve(t)

	ca, cb := a.NewClient(1), b.NewClient(1)
	user(t, ca, "/login?user=alice", "alice")
	cb.Jar[cookieName] = ca.Jar[cookieName]
	user(t, cb, "/", "alice")

	// A renewal through b: the old cookie is dead on a.
	old := cb.Jar[cookieName]
	user(t, cb, "/login?user=alice2", "alice2")
	if cb.Jar[cookieName] == old {
		t.Fatal("the login kept the cookie")
	}
	ca.Jar[cookieName] = old
	user(t, ca, "/", "")
	ca.Jar[cookieName] = cb.Jar[cookieName]
	user(t, ca, "/", "alice2")

	// A logout through a: b's copy of the cookie finds nothing.
	user(t, ca, "/logout", "alice2")
	user(t, cb, "/", "")
	if n := count(t, storeA, ""); n != 0 {
		t.Errorf("%d rows after the logout", n)
	}
}
