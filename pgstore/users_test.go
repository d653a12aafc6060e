package pgstore_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/fasthttp-sessions/sessions"
	"github.com/fasthttp-sessions/sessions/internal/pgtest"
	"github.com/fasthttp-sessions/sessions/pgstore"
	"github.com/fasthttp-sessions/sessions/sessionstest"
	"github.com/jackc/pgx/v5"
)

// usersOf returns the user index table of store, quoted.
func usersOf(s *pgstore.Store) string {
	return pgx.Identifier{s.Table[len(s.Table)-1] + "_users"}.Sanitize()
}

// entries returns the number of entries of the store's user index
// matching where (SQL, with args).
func entries(t testing.TB, s *pgstore.Store, where string, args ...any) int {
	t.Helper()
	var n int
	q := "SELECT count(*) FROM " + usersOf(s)
	if where != "" {
		q += " WHERE " + where
	}
	if err := s.DB().QueryRow(context.Background(), q, args...).Scan(&n); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	return n
}

func hexSHA256(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}

// userIDs returns the IDs of the set of user, sorted.
func userIDs(t *testing.T, ui sessions.UserIndex, user string) []string {
	t.Helper()
	ids, err := ui.UserIDs(context.Background(), user)
	if err != nil {
		t.Fatalf("UserIDs(%q): %v", user, err)
	}
	slices.Sort(ids)
	return ids
}

func sortedIDs(ids ...string) []string {
	ids = slices.Clone(ids)
	slices.Sort(ids)
	return ids
}

func newIDs(n int) []string {
	ids := make([]string, n)
	for i := range ids {
		ids[i] = sessionstest.NewID()
	}
	return ids
}

// TestUserIndex checks what the conformance suite's UserKeys (one set per
// user key, whatever its bytes) does not see: a set is keyed by the hex
// SHA-256 of the user key, with the time of the last add on the store's
// clock; user keys that are SQL change no statement; errors name the
// statement and wrap pgx's.
func TestUserIndex(t *testing.T) {
	pool := poolOf(t, pgtest.Start(t))
	alive := canary(t, pool)
	clock := sessionstest.NewClock()
	store := newStore(t, pool, clock)
	ui, ok := store.Backend.(sessions.UserIndex)
	if !ok {
		t.Fatalf("the backend %T is not a sessions.UserIndex", store.Backend)
	}
	ctx := context.Background()
	if ids, err := ui.UserIDs(ctx, "alice"); ids != nil || err != nil {
		t.Fatalf("UserIDs of a user with no entry: %v, %v", ids, err)
	}
	a1 := sessionstest.NewID()
	if err := ui.AddUserID(ctx, "alice", a1); err != nil {
		t.Fatal(err)
	}
	clock.Advance(time.Minute)
	if err := ui.AddUserID(ctx, "alice", a1); err != nil { // again: a new time
		t.Fatal(err)
	}
	var added time.Time
	err := pool.QueryRow(ctx, "SELECT added FROM "+usersOf(store)+" WHERE user_key = $1 AND id = $2", hexSHA256("alice"), a1).Scan(&added)
	if err != nil || added.Sub(clock.Now()).Abs() > time.Millisecond {
		t.Fatalf("the entry added again: added %v, %v; want %v", added, err, clock.Now())
	}

	// User keys that are SQL: each its own set, and the canary lives.
	for i, u := range []string{"'; DROP TABLE canary; --", "%", "bob' OR '1'='1"} {
		id := sessionstest.NewID()
		if err := ui.AddUserID(ctx, u, id); err != nil {
			t.Fatalf("AddUserID(%q): %v", u, err)
		}
		if got := userIDs(t, ui, u); !slices.Equal(got, []string{id}) {
			t.Fatalf("user %d (%q): %v, want only %s", i, u, got, id)
		}
	}
	alive()

	// Errors name the statement and wrap pgx's.
	if _, err := pool.Exec(ctx, "DROP TABLE "+usersOf(store)); err != nil {
		t.Fatal(err)
	}
	for what, err := range map[string]error{
		"AddUserID":    ui.AddUserID(ctx, "alice", a1),
		"RemoveUserID": ui.RemoveUserID(ctx, "alice", a1),
		"UserIDs":      func() error { _, err := ui.UserIDs(ctx, "alice"); return err }(),
	} {
		checkStoreError(t, what, err)
	}
}

// TestUserIndexCleanup checks that Cleanup deletes the entries whose row
// is gone or expired, never one added ten minutes ago or less, in batches
// that carry on past live entries and past entries added at the same
// time.
func TestUserIndexCleanup(t *testing.T) {
	pool := poolOf(t, pgtest.Start(t))
	clock := sessionstest.NewClock()
	store := newStore(t, pool, clock)
	store.CleanupBatch = 7
	ui := store.Backend.(sessions.UserIndex)
	ctx := context.Background()
	add := func(user string, ids []string, ttl time.Duration) {
		t.Helper()
		for _, id := range ids {
			if err := ui.AddUserID(ctx, user, id); err != nil {
				t.Fatal(err)
			}
			if ttl > 0 {
				if err := store.Backend.Create(ctx, id, []byte("x"), ttl); err != nil {
					t.Fatal(err)
				}
			}
		}
	}
	// At one time: entries with no row, with a row that expires, with a
	// live row, for two users.
	dead, expiring, live := newIDs(25), newIDs(5), newIDs(12)
	add("alice", dead[:20], 0)
	add("bob", dead[20:], 0)
	add("alice", expiring, 5*time.Minute)
	add("alice", live[:6], time.Hour)
	add("bob", live[6:], time.Hour)
	cleanup := func(when string) {
		t.Helper()
		if _, err := store.Cleanup(ctx); err != nil {
			t.Fatalf("Cleanup %s: %v", when, err)
		}
	}
	for _, step := range []time.Duration{0, 6 * time.Minute, 4 * time.Minute} {
		clock.Advance(step)
		cleanup("within the grace")
		if n := entries(t, store, ""); n != 42 {
			t.Fatalf("Cleanup %v within the grace left %d entries, want all 42", step, n)
		}
	}
	// An old entry added again is young again.
	again := dead[0]
	add("alice", []string{again}, 0)
	clock.Advance(time.Millisecond)
	cleanup("past the grace")
	want := sortedIDs(append([]string{again}, live[:6]...)...)
	if got := userIDs(t, ui, "alice"); !slices.Equal(got, want) {
		t.Fatalf("alice's entries after Cleanup: %v, want the live ones and the one added again %v", got, want)
	}
	if got := userIDs(t, ui, "bob"); !slices.Equal(got, sortedIDs(live[6:]...)) {
		t.Fatalf("bob's entries after Cleanup: %v", got)
	}

	// Live and dead entries at many times, interleaved: every dead one
	// goes, in batches of 7.
	var live2 []string
	for i := range 40 {
		id := sessionstest.NewID()
		if i%2 == 0 {
			add("carol", []string{id}, 2*time.Hour)
			live2 = append(live2, id)
		} else {
			add("carol", []string{id}, 0)
		}
		clock.Advance(time.Second)
	}
	clock.Advance(11 * time.Minute)
	cleanup("of interleaved entries")
	if got := userIDs(t, ui, "carol"); !slices.Equal(got, sortedIDs(live2...)) {
		t.Fatalf("carol's entries after Cleanup: %d, want the 20 live ones", len(got))
	}
}

// TestUserIndexCleanupLocked checks that Cleanup skips an entry that
// another transaction holds (another instance's Cleanup, an AddUserID of
// the same entry) instead of waiting for it, and deletes the others, the
// entry of an expired row that the cleanup of rows skipped included.
func TestUserIndexCleanupLocked(t *testing.T) {
	pool := poolOf(t, pgtest.Start(t))
	clock := sessionstest.NewClock()
	store := newStore(t, pool, clock)
	ui := store.Backend.(sessions.UserIndex)
	ctx := context.Background()
	ids := newIDs(5)
	for _, id := range ids {
		if err := ui.AddUserID(ctx, "alice", id); err != nil {
			t.Fatal(err)
		}
	}
	expired := ids[1]
	if err := store.Backend.Create(ctx, expired, []byte("x"), time.Minute); err != nil {
		t.Fatal(err)
	}
	clock.Advance(11 * time.Minute)
	tx, err := pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback(ctx)
	if _, err := tx.Exec(ctx, "SELECT 1 FROM "+usersOf(store)+" WHERE id = $1 FOR UPDATE", ids[0]); err != nil {
		t.Fatal(err)
	}
	if _, err := tx.Exec(ctx, "SELECT 1 FROM "+store.Table.Sanitize()+" WHERE id = $1 FOR UPDATE", expired); err != nil {
		t.Fatal(err)
	}
	store.Timeout = 500 * time.Millisecond
	if n, err := store.Cleanup(ctx); n != 0 || err != nil {
		t.Fatalf("Cleanup beside a locked entry and a locked row: %d, %v; want 0 rows, no error", n, err)
	}
	if n := count(t, store, "id = $1", expired); n != 1 {
		t.Fatal("the locked expired row was deleted: the check below is blind")
	}
	if got := userIDs(t, ui, "alice"); !slices.Equal(got, ids[:1]) {
		t.Fatalf("after Cleanup: %v, want only the locked entry %s", got, ids[0])
	}
}

// TestUserIndexSchema checks the table of the user index: its columns, its
// index on added, which the cleanup's batches use, and the limit on the
// length of Table's name.
func TestUserIndexSchema(t *testing.T) {
	pool := poolOf(t, pgtest.Start(t))
	ctx := context.Background()
	store := pgstore.New(pool, keys...)
	store.Table = pgx.Identifier{"public", "Sess"} // a schema and a case kept
	if err := store.CreateTable(ctx); err != nil {
		t.Fatal(err)
	}
	var columns string
	err := pool.QueryRow(ctx, `SELECT string_agg(column_name || ' ' || data_type, ', ' ORDER BY ordinal_position)
		FROM information_schema.columns WHERE table_schema = 'public' AND table_name = 'Sess_users'`).Scan(&columns)
	if want := "user_key text, id text, added timestamp with time zone"; err != nil || columns != want {
		t.Errorf("columns: %q, %v; want %q", columns, err, want)
	}
	if p := plan(t, pool, `SELECT user_key, id FROM "public"."Sess_users" WHERE added < now() AND added >= now() - interval '1 day' ORDER BY added LIMIT 1000 FOR UPDATE SKIP LOCKED`); !strings.Contains(p, "Sess_users_added_idx") {
		t.Errorf("the cleanup batch of the user index does not use its index:\n%s", p)
	}

	for _, tc := range []struct {
		n  int
		ok bool
	}{{57, true}, {58, false}, {63, false}} {
		s := pgstore.New(pool, keys...)
		s.Table = pgx.Identifier{strings.Repeat("t", tc.n)}
		err := s.CreateTable(ctx)
		if (err == nil) != tc.ok {
			t.Errorf("CreateTable of a name of %d bytes: %v", tc.n, err)
		}
		if err != nil && !strings.Contains(err.Error(), "63-byte") {
			t.Errorf("CreateTable of a name of %d bytes: %v does not say why", tc.n, err)
		}
	}
}
