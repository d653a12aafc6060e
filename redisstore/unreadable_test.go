package redisstore_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/fasthttp-sessions/sessions"
	"github.com/fasthttp-sessions/sessions/internal/redistest"
	"github.com/fasthttp-sessions/sessions/internal/testsrv"
	"github.com/fasthttp-sessions/sessions/redisstore"
	"github.com/valyala/fasthttp"
)

// TestUnreadableRecordDoesNotLockOut: the key a user's cookie names holds
// something Redis refuses to GET (a hash: WRONGTYPE), for good. That is no
// outage that ends: every Load of that key fails the same way. The user
// must still be able to use the site (log in again): a fresh session once
// the unreadable record is out of the way, as for a tampered or expired
// record. Since "a Save after a failed load keeps the cookie and fails",
// every Save of theirs failed until the cookie's MaxAge (30 days) ran out,
// a logout excepted, which the application has no reason to try.
func TestUnreadableRecordDoesNotLockOut(t *testing.T) {
	srv := redistest.Start(t)
	client := clientOf(t, srv)
	store := redisstore.New(client, keys...)
	store.KeyPrefix = "lockout_"
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

	// The key goes bad for good: say another application sharing the
	// database wrote a hash there.
	ctx := context.Background()
	var id string
	keysFound, err := client.Keys(ctx, "lockout_*").Result()
	if err != nil || len(keysFound) != 1 {
		t.Fatalf("keys: %v, %v", keysFound, err)
	}
	id = keysFound[0]
	client.Del(ctx, id)
	client.HSet(ctx, id, "f", "v")

	// Alice logs in again, a few times: at least the second try must work.
	var last string
	for range 3 {
		_, last = c.Get("/?user=alice")
	}
	testsrv.MustContain(t, last, "user=alice", "get=false", "save=<nil>")
}
