package pgstore_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/fasthttp-sessions/sessions"
	"github.com/fasthttp-sessions/sessions/internal/pgtest"
	"github.com/fasthttp-sessions/sessions/internal/testsrv"
	"github.com/valyala/fasthttp"
)

// TestUnreadableRowDoesNotLockOut: the row a user's cookie names cannot be
// read for good (an operator pinned it with expires = 'infinity', which
// does not scan into a time.Time). PostgreSQL answers, every time, with
// the same error: no outage that ends. The user must still be able to log
// in again (a fresh session in place of the unreadable row), not fail
// every Save until the cookie's MaxAge (30 days) runs out.
func TestUnreadableRowDoesNotLockOut(t *testing.T) {
	pool := poolOf(t, pgtest.Start(t))
	store := newStore(t, pool, nil)
	h := testsrv.New(t, func(ctx *fasthttp.RequestCtx) {
		s, getErr := store.Get(ctx, cookieName)
		if v := ctx.QueryArgs().Peek("user"); len(v) > 0 {
			s.Values["user"] = string(v) // a login
			s.RenewID()
		}
		fmt.Fprintf(ctx, "new=%v user=%v get=%v save=%v", s.IsNew, s.Values["user"], getErr != nil, sessions.Save(ctx))
	})
	c := h.NewClient(1)
	_, body := c.Get("/?user=alice")
	testsrv.MustContain(t, body, "save=<nil>")

	if _, err := pool.Exec(context.Background(), "UPDATE "+store.Table.Sanitize()+" SET expires = 'infinity'"); err != nil {
		t.Fatal(err)
	}
	_, body = c.Get("/")
	testsrv.MustContain(t, body, "get=true") // the row is unreadable

	var last string
	for range 3 {
		_, last = c.Get("/?user=alice")
	}
	testsrv.MustContain(t, last, "user=alice", "get=false", "save=<nil>")
}
