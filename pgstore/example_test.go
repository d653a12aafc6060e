package pgstore_test

import (
	"context"
	"errors"
	"log"
	"os"
	"time"

	"github.com/fasthttp-sessions/sessions"
	"github.com/fasthttp-sessions/sessions/pgstore"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/valyala/fasthttp"
)

// The setup of the README: a pool, the store on its own table, the table
// created at start, expired rows deleted every five minutes, and a handler
// that tells a bad cookie from a database that failed.
func Example() {
	ctx := context.Background()
	pool, err := pgxpool.New(ctx, os.Getenv("DATABASE_URL"))
	if err != nil {
		log.Fatal(err)
	}
	defer pool.Close()
	hashKey, blockKey := keys[0], keys[1] // 32 random bytes each, from your configuration
	store := pgstore.New(pool, hashKey, blockKey)
	store.Table = pgx.Identifier{"myapp", "sessions"} // default "sessions"
	store.Options.Secure = true                       // over HTTPS
	if err := store.CreateTable(ctx); err != nil {    // or run store.Schema() in a migration
		log.Fatal(err)
	}
	stop := store.StartCleanup(5 * time.Minute)
	defer stop()

	handler := func(ctx *fasthttp.RequestCtx) {
		s, err := store.Get(ctx, "session")
		if err != nil && !errors.Is(err, sessions.ErrCookieInvalid) && !errors.Is(err, sessions.ErrCookieExpired) {
			// PostgreSQL failed: the user's real session is unknown.
			ctx.Error("try again later", fasthttp.StatusServiceUnavailable)
			return
		}
		s.Values["user"] = "alice"
		if err := sessions.Save(ctx); err != nil {
			ctx.Error("try again later", fasthttp.StatusServiceUnavailable)
		}
	}
	_ = fasthttp.ListenAndServe("127.0.0.1:8080", handler)
}
