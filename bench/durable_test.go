package bench

import (
	"testing"
	"time"

	"github.com/fasthttp-sessions/sessions/internal/redistest"
	"github.com/fasthttp-sessions/sessions/redisstore"
	"github.com/redis/go-redis/v9"
	"github.com/valyala/fasthttp"
)

// BenchmarkRedisLogout times one logout request through redisstore (Get
// of a logged-in session, MaxAge -1, Save: a GET+PTTL pipeline, then DEL)
// against a local master with one replica, without and with WaitReplicas
// 1 (the DEL then shares its round trip with a WAIT, which returns once
// the replica has confirmed). The difference is what a durable logout
// costs. The session's record is written before each timed request, with
// the timer stopped. Both sub-benchmarks run on the same servers, one
// after the other: run with -count to interleave them.
func BenchmarkRedisLogout(b *testing.B) {
	nodes := redistest.StartReplicated(b, 1, nil)
	client := redis.NewClient(&redis.Options{Addr: nodes[0].Addr(), ContextTimeoutEnabled: true})
	b.Cleanup(func() { client.Close() })
	for _, wait := range []int{0, 1} {
		name := map[int]string{0: "plain", 1: "WaitReplicas=1"}[wait]
		b.Run(name, func(b *testing.B) {
			store := redisstore.New(client, hashKey, blockKey)
			store.WaitReplicas = wait
			store.WaitTimeout = 4 * time.Second // the replica is up: WAIT returns when it confirms
			login := func() string {
				ctx := newCtx("")
				s, _ := store.New(ctx, "session")
				s.Values["user_id"] = "12345"
				if err := s.Save(ctx); err != nil {
					b.Fatal(err)
				}
				ck := fasthttp.AcquireCookie()
				defer fasthttp.ReleaseCookie(ck)
				ck.SetKey("session")
				ctx.Response.Header.Cookie(ck)
				return string(ck.Value())
			}
			b.ReportAllocs()
			for b.Loop() {
				b.StopTimer()
				ctx := newCtx(login())
				b.StartTimer()
				s, err := store.New(ctx, "session")
				if err != nil || s.IsNew {
					b.Fatalf("Get: %v (new=%v)", err, s.IsNew)
				}
				s.Options.MaxAge = -1
				if err := s.Save(ctx); err != nil {
					b.Fatal(err)
				}
			}
			b.StopTimer()
			// The records really are gone from the replica too.
			if wait > 0 {
				if r, err := redistest.Do(nodes[1].Addr(), "DBSIZE"); err != nil || r != int64(0) {
					b.Errorf("replica holds %v keys (%v) after the logouts", r, err)
				}
			}
		})
	}
}

// newCtx returns a RequestCtx whose request carries the session cookie
// (none when "").
func newCtx(cookie string) *fasthttp.RequestCtx {
	var req fasthttp.Request
	if cookie != "" {
		req.Header.SetCookie("session", cookie)
	}
	ctx := new(fasthttp.RequestCtx)
	ctx.Init(&req, nil, nil)
	return ctx
}
