package redisstore_test

import (
	"errors"
	"log"
	"time"

	"github.com/fasthttp-sessions/sessions/redisstore"
	"github.com/redis/go-redis/v9"
	"github.com/valyala/fasthttp"
)

// A store on Sentinel whose logouts wait for one replica, and a logout
// handler that tells the user when the logout is not confirmed.
func Example_durableLogout() {
	client := redis.NewFailoverClient(&redis.FailoverOptions{
		MasterName:            "mymaster",
		SentinelAddrs:         []string{"10.0.0.1:26379", "10.0.0.2:26379", "10.0.0.3:26379"},
		ContextTimeoutEnabled: true,
	})
	store := redisstore.New(client, keys...)
	store.WaitReplicas = 1                     // replicas that must have every deletion
	store.WaitTimeout = 500 * time.Millisecond // how long Redis waits for them (the default)
	if err := store.CheckClient(); err != nil {
		log.Print(err)
	}

	logout := func(ctx *fasthttp.RequestCtx) {
		s, err := store.Get(ctx, "session")
		if err != nil {
			ctx.Error("session store unavailable", fasthttp.StatusServiceUnavailable)
			return
		}
		s.Options.MaxAge = -1
		err = s.Save(ctx)
		if errors.Is(err, redisstore.ErrNotReplicated) {
			err = s.Save(ctx) // once more, in the same request: it waits again
		}
		if err != nil {
			// The user keeps the cookie: the logout is not certain.
			ctx.Error("your logout is not confirmed yet", fasthttp.StatusServiceUnavailable)
			return
		}
		ctx.Redirect("/", fasthttp.StatusSeeOther)
	}
	_ = fasthttp.RequestHandler(logout)
}

// The setup of the README's Redis section. Compiled, not run: it needs a
// Redis server.
func Example() {
	hashKey, blockKey := keys[0], keys[1] // 32 random bytes each, from your configuration
	client := redis.NewClient(&redis.Options{Addr: "127.0.0.1:6379", ContextTimeoutEnabled: true})
	store := redisstore.New(client, hashKey, blockKey)
	store.KeyPrefix = "myapp:session:" // default "session_"
	if err := store.CheckClient(); err != nil {
		log.Print(err)
	}
}
