package bench

import (
	"context"
	"fmt"
	"strconv"
	"sync/atomic"
	"testing"

	"github.com/fasthttp-sessions/sessions"
	"github.com/fasthttp-sessions/sessions/pgstore"
	"github.com/fasthttp-sessions/sessions/redisstore"
	"github.com/redis/go-redis/v9"
	"github.com/valyala/fasthttp"
)

// The cost of "log out everywhere": what the user index adds to a login,
// and what listing a user's sessions costs, on MemoryStore, the Redis
// store and the PostgreSQL store.
//
//	BenchmarkLogin/STORE/anonymous  a login request: Get of an existing session, RenewID, Save
//	BenchmarkLogin/STORE/user       the same with SetUser: one AddUserID more (ZADD+ZCARD+ZRANGEBYSCORE
//	                                in one round trip in Redis, an INSERT in PostgreSQL)
//	BenchmarkUserSessions/STORE/N   UserSessions of a user with N live sessions (1, 100, 10000)
//
// Each login binds a user of its own, as when many users log in, so that
// no set grows over the benchmark. The session a login loads is saved
// before each timed request, with the timer stopped. Redis and PostgreSQL
// are local servers started by the benchmark (the Redis one shared with
// the other benchmarks of the module, under a key prefix of its own).

// userStore is a server-side store with the user index's methods.
type userStore interface {
	sessions.Store
	UserSessions(ctx context.Context, user string) ([]sessions.SessionInfo, error)
}

// namedStore is a store of a sub-benchmark.
type namedStore struct {
	name  string
	store func(b *testing.B) userStore
}

var benchPrefixes atomic.Int64

// userStores are the stores of the benchmarks of this file; each call
// gives a new, empty store (a PostgreSQL server of its own).
var userStores = []namedStore{
	{"Memory", func(*testing.B) userStore { return sessions.NewMemoryStore(hashKey, blockKey) }},
	{"Redis", func(b *testing.B) userStore {
		client := redis.NewClient(&redis.Options{Addr: redisAddr(b), ContextTimeoutEnabled: true})
		b.Cleanup(func() { client.Close() })
		s := redisstore.New(client, hashKey, blockKey)
		s.KeyPrefix = fmt.Sprintf("users%d_", benchPrefixes.Add(1))
		return s
	}},
	{"Postgres", func(b *testing.B) userStore {
		s := pgstore.New(pgPool(b), hashKey, blockKey)
		if err := s.CreateTable(context.Background()); err != nil {
			b.Fatal(err)
		}
		return s
	}},
}

// sessionCookie returns the value of the session's Set-Cookie in ctx's
// response.
func sessionCookie(b *testing.B, ctx *fasthttp.RequestCtx) string {
	ck := fasthttp.AcquireCookie()
	defer fasthttp.ReleaseCookie(ck)
	ck.SetKey("session")
	if !ctx.Response.Header.Cookie(ck) {
		b.Fatal("no session cookie")
	}
	return string(ck.Value())
}

// visit saves a new session holding a value (bound to user, with a new
// ID, when user is not "") and returns its cookie.
func visit(b *testing.B, store userStore, user string) string {
	ctx := newCtx("")
	s, _ := store.New(ctx, "session")
	s.Values["cart"] = "3 items"
	if user != "" {
		s.SetUser(user)
		s.RenewID()
	}
	if err := s.Save(ctx); err != nil {
		b.Fatal(err)
	}
	return sessionCookie(b, ctx)
}

var benchUsers atomic.Int64

func BenchmarkLogin(b *testing.B) {
	for _, ns := range userStores {
		b.Run(ns.name, func(b *testing.B) {
			store := ns.store(b)
			for _, bind := range []bool{false, true} {
				b.Run(map[bool]string{false: "anonymous", true: "user"}[bind], func(b *testing.B) {
					b.ReportAllocs()
					for b.Loop() {
						b.StopTimer()
						ctx := newCtx(visit(b, store, ""))
						user := "user" + strconv.FormatInt(benchUsers.Add(1), 10)
						b.StartTimer()
						s, err := store.Get(ctx, "session")
						if err != nil || s.IsNew {
							b.Fatalf("Get: %v (new=%v)", err, s.IsNew)
						}
						if bind {
							s.SetUser(user)
						}
						s.RenewID()
						if err := s.Save(ctx); err != nil {
							b.Fatal(err)
						}
					}
				})
			}
		})
	}
}

func BenchmarkUserSessions(b *testing.B) {
	for _, ns := range userStores {
		b.Run(ns.name, func(b *testing.B) {
			store := ns.store(b)
			for _, n := range []int{1, 100, 10000} {
				b.Run(strconv.Itoa(n), func(b *testing.B) {
					user := "lister" + strconv.FormatInt(benchUsers.Add(1), 10)
					for range n {
						visit(b, store, user)
					}
					ctx := context.Background()
					b.ReportAllocs()
					for b.Loop() {
						infos, err := store.UserSessions(ctx, user)
						if err != nil || len(infos) != n {
							b.Fatalf("UserSessions: %d sessions, %v; want %d", len(infos), err, n)
						}
					}
				})
			}
		})
	}
}
