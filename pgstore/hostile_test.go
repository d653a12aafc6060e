package pgstore_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/fasthttp-sessions/sessions"
	"github.com/fasthttp-sessions/sessions/internal/pgtest"
	"github.com/fasthttp-sessions/sessions/pgstore"
	"github.com/fasthttp-sessions/sessions/sessionstest"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// canary creates a table that SQL injected through a name or an ID would
// drop, and returns a check that it is still there.
func canary(t *testing.T, pool *pgxpool.Pool) func() {
	t.Helper()
	ctx := context.Background()
	if _, err := pool.Exec(ctx, `CREATE TABLE IF NOT EXISTS canary (n int); INSERT INTO canary VALUES (1)`); err != nil {
		t.Fatal(err)
	}
	return func() {
		t.Helper()
		var n int
		if err := pool.QueryRow(ctx, `SELECT count(*) FROM canary`).Scan(&n); err != nil || n == 0 {
			t.Fatalf("the canary table is gone or empty: %d, %v", n, err)
		}
	}
}

// TestHostileIDs calls the Backend with IDs that would change the meaning
// of a statement built by pasting them into SQL. ServerStore never passes
// such IDs (the conformance suite's HostileIDs checks that), but the
// statements must not depend on it: IDs are bound parameters, compared
// literally.
func TestHostileIDs(t *testing.T) {
	pool := poolOf(t, pgtest.Start(t))
	alive := canary(t, pool)
	store := newStore(t, pool, nil)
	b := store.Backend
	ctx := context.Background()
	victim := sessionstest.NewID()
	if err := b.Create(ctx, victim, []byte("victim"), time.Hour); err != nil {
		t.Fatal(err)
	}
	hostile := []string{
		"' OR '1'='1", "x' OR id <> '", "%", "_", `\`, "*", "'; DROP TABLE canary; --",
		`"; DROP TABLE canary; --`, "$1", "' UNION SELECT data, expires FROM " + store.Table.Sanitize() + " --",
		victim[:51] + "_", victim[:10] + "%", "ÄÖÜ€", " " + victim, victim + " ",
	}
	for _, id := range hostile {
		if data, _, err := b.Load(ctx, id); !errors.Is(err, sessions.ErrRecordNotFound) {
			t.Errorf("Load(%q) = %q, %v", id, data, err)
		}
		if err := b.Update(ctx, id, []byte("hostile"), time.Hour); !errors.Is(err, sessions.ErrRecordNotFound) {
			t.Errorf("Update(%q): %v", id, err)
		}
		if err := b.Delete(ctx, id); !errors.Is(err, sessions.ErrRecordNotFound) {
			t.Errorf("Delete(%q): %v", id, err)
		}
		if err := b.(sessions.Toucher).Touch(ctx, id, time.Hour); !errors.Is(err, sessions.ErrRecordNotFound) {
			t.Errorf("Touch(%q): %v", id, err)
		}
		// Created under itself, literally.
		if err := b.Create(ctx, id, []byte(id), time.Hour); err != nil {
			t.Errorf("Create(%q): %v", id, err)
		}
		if data, _, err := b.Load(ctx, id); err != nil || string(data) != id {
			t.Errorf("Load(%q) after Create = %q, %v", id, data, err)
		}
	}
	if n := count(t, store, ""); n != len(hostile)+1 {
		t.Errorf("%d rows, want %d", n, len(hostile)+1)
	}
	if data, _, err := b.Load(ctx, victim); err != nil || string(data) != "victim" {
		t.Errorf("the victim row: %q, %v", data, err)
	}
	for _, id := range hostile {
		if err := b.Delete(ctx, id); err != nil {
			t.Errorf("Delete(%q) of its own row: %v", id, err)
		}
	}
	if n := count(t, store, ""); n != 1 {
		t.Errorf("%d rows after deleting the hostile ones, want the victim alone", n)
	}
	// A NUL byte cannot be stored in text: an error, not a panic.
	if err := b.Create(ctx, "a\x00b", []byte("x"), time.Hour); err == nil {
		t.Error("Create of an ID with a NUL byte succeeded")
	}
	alive()
}

// TestHostileTableNames gives the store table names that would inject SQL
// if they were not quoted: each works as a plain (odd) name.
func TestHostileTableNames(t *testing.T) {
	pool := poolOf(t, pgtest.Start(t))
	alive := canary(t, pool)
	ctx := context.Background()
	if _, err := pool.Exec(ctx, `CREATE SCHEMA "my app"`); err != nil {
		t.Fatal(err)
	}
	for _, table := range []pgx.Identifier{
		{`x"; DROP TABLE canary; --`},
		{`sessions (id text); DROP TABLE canary; CREATE TABLE y`},
		{"Robert'); DROP TABLE canary;--"},
		{"Mixed Case Sessions"},
		{"my app", "sessions"},
		{"canary"[:3] + "\x00nul"},
	} {
		store := pgstore.New(pool, keys...)
		store.Table = table
		if err := store.CreateTable(ctx); err != nil {
			t.Fatalf("CreateTable %s: %v", table.Sanitize(), err)
		}
		c := (&app{store: store}).serve(t).NewClient(1)
		user(t, c, "/login?user=alice", "alice")
		user(t, c, "/", "alice")
		if n := count(t, store, ""); n != 1 {
			t.Errorf("table %s: %d rows", table.Sanitize(), n)
		}
		// The table exists under exactly its name (NUL bytes dropped).
		var found bool
		last := table[len(table)-1]
		schema := "public"
		if len(table) == 2 {
			schema = table[0]
		}
		err := pool.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM pg_tables WHERE schemaname = $1 AND tablename = $2)`,
			schema, strings.ReplaceAll(last, "\x00", "")).Scan(&found)
		if err != nil || !found {
			t.Errorf("no table %q in schema %q: %v", last, schema, err)
		}
		user(t, c, "/logout", "alice")
		user(t, c, "/", "")
		if n := count(t, store, ""); n != 0 {
			t.Errorf("table %s: %d rows after logout", table.Sanitize(), n)
		}
		alive()
	}
}
