package bench

import (
	"context"
	"testing"

	"github.com/alexedwards/scs/pgxstore"
	"github.com/fasthttp-sessions/sessions/internal/pgtest"
	"github.com/fasthttp-sessions/sessions/pgstore"
	"github.com/jackc/pgx/v5/pgxpool"
)

// The PostgreSQL benchmarks each start their own server (internal/pgtest:
// initdb in a temporary folder, a free loopback port, fsync off), so that
// no run depends on a database it did not make. Without PostgreSQL they
// are skipped, or fail when CI is set.

// pgPool starts a server for tb and returns a pool of it; both are closed
// when tb ends.
func pgPool(tb testing.TB) *pgxpool.Pool {
	tb.Helper()
	srv := pgtest.Start(tb)
	pool, err := pgxpool.New(context.Background(), srv.URL())
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(pool.Close)
	return pool
}

// newOurPostgresRig runs sc with pgstore, through the Registry.
func newOurPostgresRig(tb testing.TB, sc scenario) (*rig, error) {
	store := pgstore.New(pgPool(tb), hashKey, blockKey)
	if err := store.CreateTable(context.Background()); err != nil {
		return nil, err
	}
	return newOurScenarioRig(store, true, sc)
}

// scsSchema is the table of scs's pgxstore, from its README.
const scsSchema = `CREATE TABLE sessions (token TEXT PRIMARY KEY, data BYTEA NOT NULL, expiry TIMESTAMPTZ NOT NULL);
CREATE INDEX sessions_expiry_idx ON sessions (expiry);`

// newSCSPostgresRig runs sc with alexedwards/scs over its pgx store,
// without its cleanup goroutine.
func newSCSPostgresRig(tb testing.TB, sc scenario) (*rig, error) {
	pool := pgPool(tb)
	if _, err := pool.Exec(context.Background(), scsSchema); err != nil {
		return nil, err
	}
	return newSCSRigOn(pgxstore.NewWithCleanupInterval(pool, 0), sc)
}

// BenchmarkPostgresStore is pgstore on a local PostgreSQL: one SELECT and
// one UPDATE per request.
func BenchmarkPostgresStore(b *testing.B) {
	r, err := newOurPostgresRig(b, changing)
	benchRig(b, r, err)
}

// BenchmarkSCSPostgres is alexedwards/scs's pgxstore on net/http: a SELECT
// and an upsert per request; the cookie holds the raw token.
func BenchmarkSCSPostgres(b *testing.B) {
	r, err := newSCSPostgresRig(b, changing)
	benchRig(b, r, err)
}
