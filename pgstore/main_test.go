package pgstore_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/fasthttp-sessions/sessions"
	"github.com/fasthttp-sessions/sessions/internal/pgtest"
	"github.com/fasthttp-sessions/sessions/internal/testsrv"
	"github.com/fasthttp-sessions/sessions/pgstore"
	"github.com/fasthttp-sessions/sessions/sessionstest"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/valyala/fasthttp"
)

const cookieName = "sid"

var keys = sessionstest.Keys

// poolOf returns a new pool of srv, closed when the test ends.
func poolOf(t testing.TB, srv *pgtest.Server) *pgxpool.Pool {
	t.Helper()
	pool, err := pgxpool.New(context.Background(), srv.URL())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	return pool
}

var tables atomic.Int64

// newStore returns a store over pool with a table of its own, created,
// and the clock's time (when clock is not nil).
func newStore(t testing.TB, pool *pgxpool.Pool, clock *sessionstest.Clock) *pgstore.Store {
	t.Helper()
	s := pgstore.New(pool, keys...)
	s.Table = pgx.Identifier{fmt.Sprintf("sessions_%d", tables.Add(1))}
	if clock != nil {
		s.Now = clock.Now
	}
	if err := s.CreateTable(context.Background()); err != nil {
		t.Fatal(err)
	}
	return s
}

// count returns the number of rows of the store's table matching where
// (SQL, with args).
func count(t testing.TB, s *pgstore.Store, where string, args ...any) int {
	t.Helper()
	var n int
	q := "SELECT count(*) FROM " + s.Table.Sanitize()
	if where != "" {
		q += " WHERE " + where
	}
	if err := s.DB().QueryRow(context.Background(), q, args...).Scan(&n); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	return n
}

// outcome is what the handler of an app saw in one request.
type outcome struct {
	path            string
	getErr, saveErr error
	isNew           bool
}

// app is an application on a store, recording what every request saw:
//
//	/login?user=NAME  a new ID holding user=NAME
//	/logout           MaxAge -1
//	/                 reads, and saves when the session is not new
//
// The body is "user=NAME" ("user=" for none).
type app struct {
	store *pgstore.Store
	mu    sync.Mutex
	seen  []outcome
}

func (a *app) handle(ctx *fasthttp.RequestCtx) {
	s, getErr := a.store.Get(ctx, cookieName)
	o := outcome{path: string(ctx.Path()), getErr: getErr, isNew: s.IsNew}
	switch o.path {
	case "/login":
		s.RenewID()
		s.Values["user"] = string(ctx.QueryArgs().Peek("user"))
		o.saveErr = s.Save(ctx)
	case "/logout":
		s.Options.MaxAge = -1
		o.saveErr = s.Save(ctx)
	case "/bump": // a change, so that Save writes
		n, _ := s.GetInt("bump")
		s.Values["bump"] = n + 1
		o.saveErr = s.Save(ctx)
	default:
		if !s.IsNew {
			o.saveErr = s.Save(ctx)
		}
	}
	a.mu.Lock()
	a.seen = append(a.seen, o)
	a.mu.Unlock()
	fmt.Fprintf(ctx, "user=%s", s.GetString("user"))
}

// take returns what the requests saw since the last call.
func (a *app) take() []outcome {
	a.mu.Lock()
	defer a.mu.Unlock()
	seen := a.seen
	a.seen = nil
	return seen
}

// count returns how many requests ran since the last take.
func (a *app) count() int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return len(a.seen)
}

// serve runs the app on a test server.
func (a *app) serve(t testing.TB) *testsrv.Server { return testsrv.New(t, a.handle) }

// user sends path as c and checks the user the page shows.
func user(t testing.TB, c *testsrv.Client, path, want string) {
	t.Helper()
	if _, body := c.Get(path); body != "user="+want {
		t.Fatalf("GET %s: %q, want user=%s", path, body, want)
	}
}

// fromPgx reports whether err wraps an error of pgx or of the network
// beneath it, not only this project's text.
func fromPgx(err error) bool {
	var (
		pgErr      *pgconn.PgError
		connectErr *pgconn.ConnectError
		netErr     net.Error
	)
	return errors.As(err, &pgErr) || errors.As(err, &connectErr) || errors.As(err, &netErr) ||
		pgconn.Timeout(err) || errors.Is(err, context.DeadlineExceeded) ||
		errors.Is(err, pgconn.ErrConnClosed) || errors.Is(err, io.ErrUnexpectedEOF) || pgconn.SafeToRetry(err)
}

// checkStoreError checks an error of the store while PostgreSQL fails: one
// "sessions: " prefix, and pgx's error inside.
func checkStoreError(t testing.TB, what string, err error) {
	t.Helper()
	if err == nil {
		t.Errorf("%s: no error", what)
		return
	}
	if !strings.HasPrefix(err.Error(), "sessions: ") {
		t.Errorf("%s: %q does not start with \"sessions: \"", what, err)
	}
	if !strings.Contains(err.Error(), "postgres") || !fromPgx(err) {
		t.Errorf("%s: %v (%T) does not wrap an error of pgx", what, err, errors.Unwrap(err))
	}
	if errors.Is(err, sessions.ErrRecordNotFound) || errors.Is(err, sessions.ErrSessionRevoked) {
		t.Errorf("%s: a failure reported as %v", what, err)
	}
}

// waitFor calls ok every 20ms until it returns true, failing the test after
// limit.
func waitFor(t testing.TB, limit time.Duration, what string, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within %v", what, limit)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
