package pgstore_test

import (
	"context"
	"errors"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/fasthttp-sessions/sessions"
	"github.com/fasthttp-sessions/sessions/internal/pgtest"
	"github.com/fasthttp-sessions/sessions/pgstore"
	"github.com/fasthttp-sessions/sessions/sessionstest"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/valyala/fasthttp"
)

// TestConformance runs the whole suite, the expiry tests included: the
// store decides what is live by its Now.
func TestConformance(t *testing.T) {
	pool := poolOf(t, pgtest.Start(t))
	sessionstest.Run(t, sessionstest.Config{
		ServerSide: true,
		NewStore: func(t *testing.T, now func() time.Time, keyPairs ...[]byte) sessions.Store {
			s := pgstore.New(pool, keyPairs...)
			s.Table = pgx.Identifier{"conformance_" + strings.ReplaceAll(t.Name(), "/", "_")}
			s.Now = now
			if err := s.CreateTable(context.Background()); err != nil {
				t.Fatal(err)
			}
			return s
		},
		// An operator pins the row with expires = 'infinity', which does
		// not scan into a time.Time: every Load of it fails.
		Spoil: func(t *testing.T, store sessions.Store, id string) {
			s := store.(*pgstore.Store)
			tag, err := s.DB().Exec(context.Background(), "UPDATE "+s.Table.Sanitize()+" SET expires = 'infinity' WHERE id = $1", id)
			if err != nil || tag.RowsAffected() != 1 {
				t.Fatalf("spoiling the row: %v, %v", tag, err)
			}
		},
	})
}

func TestBackend(t *testing.T) {
	clock := sessionstest.NewClock()
	store := newStore(t, poolOf(t, pgtest.Start(t)), clock)
	b := store.Backend
	touch := b.(sessions.Toucher)
	ctx := context.Background()
	id := sessionstest.NewID()
	row := func() (data string, created, updated, expires time.Time) {
		t.Helper()
		err := store.DB().QueryRow(ctx, "SELECT convert_from(data, 'UTF8'), created, updated, expires FROM "+store.Table.Sanitize()+" WHERE id = $1", id).
			Scan(&data, &created, &updated, &expires)
		if err != nil {
			t.Fatal(err)
		}
		return
	}
	same := func(a, b time.Time) bool { return a.Sub(b).Abs() < time.Millisecond } // PostgreSQL keeps µs

	// Nothing there yet.
	if _, _, err := b.Load(ctx, id); !errors.Is(err, sessions.ErrRecordNotFound) {
		t.Fatalf("Load of a missing row: %v", err)
	}
	if err := b.Update(ctx, id, []byte("x"), time.Minute); !errors.Is(err, sessions.ErrRecordNotFound) {
		t.Fatalf("Update of a missing row: %v", err)
	}
	if err := touch.Touch(ctx, id, time.Minute); !errors.Is(err, sessions.ErrRecordNotFound) {
		t.Fatalf("Touch of a missing row: %v", err)
	}
	if err := b.Delete(ctx, id); !errors.Is(err, sessions.ErrRecordNotFound) {
		t.Fatalf("Delete of a missing row: %v", err)
	}
	if n := count(t, store, ""); n != 0 {
		t.Fatalf("Update or Touch of a missing row wrote %d rows", n)
	}

	// Create, once.
	t0 := clock.Now()
	if err := b.Create(ctx, id, []byte("one"), time.Minute); err != nil {
		t.Fatal(err)
	}
	if err := b.Create(ctx, id, []byte("two"), time.Minute); !errors.Is(err, sessions.ErrRecordExists) {
		t.Fatalf("second Create: %v", err)
	}
	data, expires, err := b.Load(ctx, id)
	if err != nil || string(data) != "one" || !same(expires, t0.Add(time.Minute)) {
		t.Fatalf("Load = %q, %v, %v; want one, %v", data, expires, err, t0.Add(time.Minute))
	}
	if _, created, updated, _ := row(); !same(created, t0) || !same(updated, t0) {
		t.Errorf("after Create: created %v, updated %v, want %v", created, updated, t0)
	}

	// Update rewrites data and expiry; Touch only the expiry.
	clock.Advance(10 * time.Second)
	t1 := clock.Now()
	if err := b.Update(ctx, id, []byte("three"), time.Hour); err != nil {
		t.Fatal(err)
	}
	if data, created, updated, expires := row(); data != "three" || !same(created, t0) || !same(updated, t1) || !same(expires, t1.Add(time.Hour)) {
		t.Errorf("after Update: %q created %v updated %v expires %v", data, created, updated, expires)
	}
	clock.Advance(10 * time.Second)
	t2 := clock.Now()
	if err := touch.Touch(ctx, id, 2*time.Hour); err != nil {
		t.Fatal(err)
	}
	if data, created, updated, expires := row(); data != "three" || !same(created, t0) || !same(updated, t2) || !same(expires, t2.Add(2*time.Hour)) {
		t.Errorf("after Touch: %q created %v updated %v expires %v", data, created, updated, expires)
	}

	// Expired by the store's clock: gone for every method, and Delete
	// removes the row but reports no live record.
	clock.Advance(2*time.Hour + time.Second)
	if _, _, err := b.Load(ctx, id); !errors.Is(err, sessions.ErrRecordNotFound) {
		t.Fatalf("Load of an expired row: %v", err)
	}
	if err := b.Update(ctx, id, []byte("stale"), time.Hour); !errors.Is(err, sessions.ErrRecordNotFound) {
		t.Fatalf("Update of an expired row: %v", err)
	}
	if err := touch.Touch(ctx, id, time.Hour); !errors.Is(err, sessions.ErrRecordNotFound) {
		t.Fatalf("Touch of an expired row: %v", err)
	}
	if data, _, _, _ := row(); data != "three" {
		t.Fatalf("a write to an expired row changed it to %q", data)
	}
	// Create replaces an expired row, created included.
	t3 := clock.Now()
	if err := b.Create(ctx, id, []byte("four"), time.Minute); err != nil {
		t.Fatalf("Create over an expired row: %v", err)
	}
	if data, created, _, _ := row(); data != "four" || !same(created, t3) {
		t.Errorf("Create over an expired row: %q created %v", data, created)
	}
	if err := b.Delete(ctx, id); err != nil {
		t.Fatalf("Delete of a live row: %v", err)
	}
	for _, f := range []func() error{
		func() error { return b.Update(ctx, id, []byte("stale"), time.Minute) },
		func() error { return touch.Touch(ctx, id, time.Minute) },
		func() error { _, _, err := b.Load(ctx, id); return err },
	} {
		if err := f(); !errors.Is(err, sessions.ErrRecordNotFound) {
			t.Fatalf("after Delete: %v", err)
		}
	}
	if err := b.Create(ctx, id, []byte("five"), time.Minute); err != nil {
		t.Fatal(err)
	}
	clock.Advance(2 * time.Minute)
	if err := b.Delete(ctx, id); !errors.Is(err, sessions.ErrRecordNotFound) {
		t.Fatalf("Delete of an expired row: %v", err)
	}
	if n := count(t, store, ""); n != 0 {
		t.Fatalf("Delete of an expired row left %d rows", n)
	}
}

// TestCreateRace creates one ID from many goroutines at once: exactly one
// wins, live or over an expired row.
func TestCreateRace(t *testing.T) {
	clock := sessionstest.NewClock()
	store := newStore(t, poolOf(t, pgtest.Start(t)), clock)
	ctx := context.Background()
	for round, expired := range []bool{false, true} {
		id := sessionstest.NewID()
		if expired {
			if err := store.Backend.Create(ctx, id, []byte("old"), time.Second); err != nil {
				t.Fatal(err)
			}
			clock.Advance(time.Minute)
		}
		var (
			wg     sync.WaitGroup
			mu     sync.Mutex
			won    int
			failed []error
		)
		for range 8 {
			wg.Go(func() {
				err := store.Backend.Create(ctx, id, []byte("new"), time.Hour)
				mu.Lock()
				defer mu.Unlock()
				switch {
				case err == nil:
					won++
				case !errors.Is(err, sessions.ErrRecordExists):
					failed = append(failed, err)
				}
			})
		}
		wg.Wait()
		if won != 1 || len(failed) > 0 {
			t.Errorf("round %d: %d Creates won, errors %v", round, won, failed)
		}
	}
}

func TestDefaults(t *testing.T) {
	store := pgstore.New(nil, keys...)
	if store.Table.Sanitize() != `"sessions"` || store.Timeout != time.Second || store.CleanupBatch != 0 {
		t.Errorf("defaults: table %s, timeout %v, batch %d", store.Table.Sanitize(), store.Timeout, store.CleanupBatch)
	}
	if store.Options == nil || store.Options.MaxAge != 30*24*3600 || !store.Options.HttpOnly {
		t.Errorf("default Options: %+v", store.Options)
	}
	store.MaxAge(600)
	if store.Options.MaxAge != 600 {
		t.Error("MaxAge did not set Options.MaxAge")
	}
	if _, ok := store.Backend.(sessions.Toucher); !ok {
		t.Error("the backend is no sessions.Toucher")
	}
	ctx := new(fasthttp.RequestCtx)
	ctx.Init(new(fasthttp.Request), nil, nil)
	s, err := store.New(ctx, cookieName)
	// The sessions of a store that embeds a ServerStore report it.
	if err != nil || s.Store() != sessions.Store(store.ServerStore) {
		t.Errorf("New: %v, Store() = %T", err, s.Store())
	}
}

// TestSchema checks CreateTable against the SQL the READMEs show, and that
// it is idempotent, also when several instances run it at once.
func TestSchema(t *testing.T) {
	pool := poolOf(t, pgtest.Start(t))
	store := pgstore.New(pool, keys...)
	schema := store.Schema()
	for _, readme := range []string{"README.md", "../README.md"} {
		b, err := os.ReadFile(readme)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(string(b), "```sql\n"+schema+"```\n") {
			t.Errorf("%s does not show the schema of the default table:\n%s", readme, schema)
		}
	}
	ctx := context.Background()
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for range 4 {
		wg.Go(func() { errs <- store.CreateTable(ctx) })
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Errorf("concurrent CreateTable: %v", err)
		}
	}
	if err := store.CreateTable(ctx); err != nil {
		t.Fatalf("CreateTable again: %v", err)
	}
	var columns string
	err := pool.QueryRow(ctx, `SELECT string_agg(column_name || ' ' || data_type, ', ' ORDER BY ordinal_position)
		FROM information_schema.columns WHERE table_name = 'sessions'`).Scan(&columns)
	if want := "id text, data bytea, created timestamp with time zone, updated timestamp with time zone, expires timestamp with time zone"; err != nil || columns != want {
		t.Errorf("columns: %q, %v; want %q", columns, err, want)
	}
	var index string
	err = pool.QueryRow(ctx, `SELECT indexdef FROM pg_indexes WHERE tablename = 'sessions' AND indexname = 'sessions_expires_idx'`).Scan(&index)
	if err != nil || !strings.HasSuffix(index, "USING btree (expires)") {
		t.Errorf("index on expires: %q, %v", index, err)
	}
	// Cleanup can use it: with sequential scans off (the table is tiny),
	// the plan of its batch is an index scan.
	if p := plan(t, pool, `SELECT id FROM sessions WHERE expires <= now() ORDER BY expires LIMIT 1000 FOR UPDATE SKIP LOCKED`); !strings.Contains(p, "sessions_expires_idx") {
		t.Errorf("the cleanup batch does not use the index:\n%s", p)
	}
}

// TestCreateTableUpgrade checks what the README promises a database made
// by a version before the user index: the next CreateTable adds the table
// of the index beside the old table, whose sessions stay, and leaves both
// tables as a CreateTable on an empty database makes them.
func TestCreateTableUpgrade(t *testing.T) {
	pool := poolOf(t, pgtest.Start(t))
	ctx := context.Background()
	// The Schema of those versions (before cdb198e), for the table "old".
	const before = `CREATE TABLE IF NOT EXISTS "old" (
	id      text COLLATE "C" PRIMARY KEY,
	data    bytea       NOT NULL,
	created timestamptz NOT NULL,
	updated timestamptz NOT NULL,
	expires timestamptz NOT NULL
);
CREATE INDEX IF NOT EXISTS "old_expires_idx" ON "old" (expires);
`
	if _, err := pool.Exec(ctx, before); err != nil {
		t.Fatal(err)
	}
	store := pgstore.New(pool, keys...)
	store.Table = pgx.Identifier{"old"}
	c := (&app{store: store}).serve(t).NewClient(1)
	user(t, c, "/login?user=alice", "alice") // a session of the old version
	if err := store.CreateTable(ctx); err != nil {
		t.Fatalf("CreateTable over the old version's table: %v", err)
	}
	user(t, c, "/", "alice")

	fresh := pgstore.New(pool, keys...)
	fresh.Table = pgx.Identifier{"new"}
	if err := fresh.CreateTable(ctx); err != nil {
		t.Fatal(err)
	}
	if got, want := catalog(t, pool, "old"), catalog(t, pool, "new"); got != want {
		t.Errorf("the upgraded tables:\n%s\nwant those of a new database:\n%s", got, want)
	}
	ui := store.Backend.(sessions.UserIndex)
	id := sessionstest.NewID()
	if err := ui.AddUserID(ctx, "alice", id); err != nil {
		t.Fatalf("AddUserID on the upgraded tables: %v", err)
	}
	if ids, err := ui.UserIDs(ctx, "alice"); err != nil || len(ids) != 1 || ids[0] != id {
		t.Fatalf("UserIDs on the upgraded tables: %v, %v; want [%s]", ids, err, id)
	}
}

// catalog describes the columns and indexes of the table name and of its
// user index table, with name written as T.
func catalog(t *testing.T, pool *pgxpool.Pool, name string) string {
	t.Helper()
	var columns, indexes string
	err := pool.QueryRow(context.Background(), `SELECT
	(SELECT string_agg(table_name || '.' || column_name || ' ' || data_type || ' ' || is_nullable || ' ' || coalesce(collation_name, '-'), E'\n' ORDER BY table_name, ordinal_position)
		FROM information_schema.columns WHERE table_schema = 'public' AND table_name::text IN ($1::text, $1::text || '_users')),
	(SELECT string_agg(indexdef, E'\n' ORDER BY indexname)
		FROM pg_indexes WHERE schemaname = 'public' AND tablename::text IN ($1::text, $1::text || '_users'))`, name).Scan(&columns, &indexes)
	if err != nil {
		t.Fatal(err)
	}
	return strings.ReplaceAll(columns+"\n"+indexes, name, "T")
}

// plan returns the plan PostgreSQL makes for query with sequential scans
// off: on a tiny table it would scan anyway, but the test wants to know
// whether an index can serve the query.
func plan(t *testing.T, pool *pgxpool.Pool, query string) string {
	t.Helper()
	ctx := context.Background()
	conn, err := pool.Acquire(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Release()
	if _, err := conn.Exec(ctx, "SET enable_seqscan = off"); err != nil {
		t.Fatal(err)
	}
	rows, err := conn.Query(ctx, "EXPLAIN "+query)
	if err != nil {
		t.Fatal(err)
	}
	lines, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		t.Fatal(err)
	}
	return strings.Join(lines, "\n")
}
