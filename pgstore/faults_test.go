package pgstore_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/fasthttp-sessions/sessions/internal/pgtest"
	"github.com/fasthttp-sessions/sessions/internal/testsrv"
	"github.com/fasthttp-sessions/sessions/pgstore"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
)

// TestServerStopped stops PostgreSQL while requests run, checks that they
// fail cleanly, then restarts it and checks that the same pool recovers
// and that the sessions are still there; once after a fast shutdown, once
// after a crash (immediate shutdown).
func TestServerStopped(t *testing.T) {
	srv := pgtest.Start(t)
	store := newStore(t, poolOf(t, srv), nil)
	store.Timeout = 500 * time.Millisecond
	a := &app{store: store}
	ts := a.serve(t)
	users := []string{"alice", "bob", "carol"}
	clients := make([]*testsrv.Client, len(users))
	for i, name := range users {
		clients[i] = ts.NewClient(1)
		user(t, clients[i], "/login?user="+name, name)
	}
	a.take()

	for _, down := range []struct {
		name string
		stop func() error
	}{{"fast", srv.Stop}, {"immediate", srv.Crash}} {
		t.Run(down.name, func(t *testing.T) {
			// Requests run while the server goes down.
			var wg sync.WaitGroup
			done := make(chan struct{})
			for i := range users {
				c := ts.NewClient(1)
				c.Jar[cookieName] = clients[i].Jar[cookieName]
				wg.Go(func() {
					for {
						select {
						case <-done:
							return
						default:
						}
						if _, _, err := c.TryGet("/"); err != nil {
							t.Errorf("request while the server stops: %v", err)
							return
						}
					}
				})
			}
			waitFor(t, 10*time.Second, "requests before the stop", func() bool { return a.count() >= 10 })
			a.take()
			if err := down.stop(); err != nil {
				t.Fatal(err)
			}
			stopped := a.count()
			waitFor(t, 10*time.Second, "requests after the stop", func() bool { return a.count() >= stopped+10 })
			close(done)
			wg.Wait()
			// Requests that loaded their session before the stop may
			// have saved it, or failed to; every other one failed to
			// load it and got a new session.
			seen := map[string]bool{}
			failed := 0
			for _, o := range a.take() {
				for _, err := range []error{o.getErr, o.saveErr} {
					if err != nil && !seen[err.Error()] {
						seen[err.Error()] = true
						t.Logf("server going down: %v", err)
					}
				}
				if o.getErr == nil {
					if o.saveErr != nil {
						checkStoreError(t, "Save while the server stops", o.saveErr)
					}
					continue
				}
				failed++
				checkStoreError(t, "Get with the server down", o.getErr)
				if !o.isNew || o.saveErr != nil {
					t.Errorf("server down: new=%v save=%v", o.isNew, o.saveErr)
				}
			}
			if failed < 10 {
				t.Errorf("%d requests failed with the server down, want at least 10", failed)
			}

			// A login gets a usable new session, but its Save fails and
			// sets no cookie: the user keeps the old one.
			c := clients[0]
			cookie := c.Jar[cookieName]
			user(t, c, "/login?user=mallory", "mallory")
			o := a.take()[0]
			checkStoreError(t, "Get of a login", o.getErr)
			checkStoreError(t, "Save of a login", o.saveErr)
			if h := c.SetCookie(cookieName); h != "" || c.Jar[cookieName] != cookie {
				t.Errorf("a failed Save set a cookie: %q", h)
			}

			if err := srv.Restart(); err != nil {
				t.Fatal(err)
			}
			// The same pool reconnects; the sessions were kept.
			waitFor(t, 10*time.Second, "recovery", func() bool {
				_, body := c.Get("/")
				return body == "user=alice"
			})
			for i, name := range users {
				user(t, clients[i], "/", name)
			}
			for _, o := range a.take() {
				if o.getErr != nil || o.saveErr != nil || o.isNew {
					if o.path == "/" && o.isNew { // a request of waitFor before recovery
						continue
					}
					t.Errorf("after the restart: %+v", o)
				}
			}
			fresh := ts.NewClient(1)
			user(t, fresh, "/login?user=dave", "dave")
			user(t, fresh, "/", "dave")
			user(t, fresh, "/logout", "dave")
		})
	}
}

// TestStatementTimeout holds locks in another transaction, so that the
// store's statements wait: Timeout cuts them.
func TestStatementTimeout(t *testing.T) {
	pool := poolOf(t, pgtest.Start(t))
	store := newStore(t, pool, nil)
	store.Timeout = 300 * time.Millisecond
	a := &app{store: store}
	c := a.serve(t).NewClient(1)
	user(t, c, "/login?user=alice", "alice")
	a.take()
	ctx := context.Background()
	// A row lock: the Load passes, the Save's UPDATE waits (a Save of a
	// changed session: an unchanged one would write nothing).
	tx := lockRows(t, pool, store)
	start := time.Now()
	user(t, c, "/bump", "alice")
	elapsed := time.Since(start)
	o := a.take()[0]
	if o.getErr != nil || o.isNew {
		t.Fatalf("Load under a row lock: %v new=%v", o.getErr, o.isNew)
	}
	checkStoreError(t, "Save under a row lock", o.saveErr)
	if !pgconn.Timeout(o.saveErr) && !errors.Is(o.saveErr, context.DeadlineExceeded) {
		t.Errorf("Save under a row lock: %v is no timeout", o.saveErr)
	}
	t.Logf("Save under a row lock returned after %v: %v", elapsed.Round(time.Millisecond), o.saveErr)
	if elapsed > 5*time.Second {
		t.Errorf("a request took %v with Timeout %v", elapsed, store.Timeout)
	}

	// A table lock: the Load waits too; the request gets a new session.
	if _, err := tx.Exec(ctx, "LOCK TABLE "+store.Table.Sanitize()+" IN ACCESS EXCLUSIVE MODE"); err != nil {
		t.Fatal(err)
	}
	user(t, c, "/", "")
	o = a.take()[0]
	checkStoreError(t, "Load under a table lock", o.getErr)
	if !o.isNew {
		t.Error("Load under a table lock did not give a new session")
	}

	// Once the locks are gone, the session is there as before.
	if err := tx.Rollback(ctx); err != nil {
		t.Fatal(err)
	}
	user(t, c, "/", "alice")
	if o := a.take()[0]; o.getErr != nil || o.saveErr != nil || o.isNew {
		t.Errorf("after the locks: %+v", o)
	}
}

// lockRows locks every row of the store's table in a transaction of its
// own, rolled back when the test ends unless the test ends it first.
func lockRows(t *testing.T, pool *pgxpool.Pool, store *pgstore.Store) pgx.Tx {
	t.Helper()
	ctx := context.Background()
	tx, err := pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = tx.Rollback(ctx) })
	if _, err := tx.Exec(ctx, "SELECT 1 FROM "+store.Table.Sanitize()+" FOR UPDATE"); err != nil {
		t.Fatal(err)
	}
	return tx
}

// TestServerStatementTimeout checks the README's way to have the server
// give up on a statement too: with statement_timeout in the connection
// string, a Save that waits for a row lock is cancelled by PostgreSQL
// (query_canceled, 57014), not by the store's Timeout, and the session is
// there once the lock is gone.
func TestServerStatementTimeout(t *testing.T) {
	ctx := context.Background()
	pool, err := pgxpool.New(ctx, pgtest.Start(t).URL()+"&statement_timeout=300")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	store := newStore(t, pool, nil)
	store.Timeout = 10 * time.Second // far beyond the server's 300 ms
	a := &app{store: store}
	c := a.serve(t).NewClient(1)
	user(t, c, "/login?user=alice", "alice")
	a.take()
	tx := lockRows(t, pool, store)
	user(t, c, "/bump", "alice")
	o := a.take()[0]
	checkStoreError(t, "Save under a row lock", o.saveErr)
	var pgErr *pgconn.PgError
	if !errors.As(o.saveErr, &pgErr) || pgErr.Code != "57014" {
		t.Errorf("Save under a row lock: %v, want the server's query_canceled (57014)", o.saveErr)
	}
	if err := tx.Rollback(ctx); err != nil {
		t.Fatal(err)
	}
	user(t, c, "/", "alice")
	if o := a.take()[0]; o.getErr != nil || o.saveErr != nil || o.isNew {
		t.Errorf("after the lock: %+v", o)
	}
}
