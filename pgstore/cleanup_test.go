package pgstore_test

import (
	"context"
	"errors"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/fasthttp-sessions/sessions"
	"github.com/fasthttp-sessions/sessions/internal/pgtest"
	"github.com/fasthttp-sessions/sessions/pgstore"
	"github.com/fasthttp-sessions/sessions/sessionstest"
	"github.com/jackc/pgx/v5/pgxpool"
)

// seed creates n rows with ttl directly through the backend.
func seed(t *testing.T, s *pgstore.Store, n int, ttl time.Duration) {
	t.Helper()
	for range n {
		id := sessionstest.NewID()
		if err := s.Backend.Create(context.Background(), id, []byte("x"), ttl); err != nil {
			t.Fatal(err)
		}
	}
}

func TestCleanup(t *testing.T) {
	clock := sessionstest.NewClock()
	store := newStore(t, poolOf(t, pgtest.Start(t)), clock)
	store.CleanupBatch = 7
	ctx := context.Background()
	seed(t, store, 25, time.Minute)
	seed(t, store, 5, time.Hour)
	if n, err := store.Cleanup(ctx); n != 0 || err != nil {
		t.Fatalf("Cleanup before anything expired: %d, %v", n, err)
	}
	clock.Advance(2 * time.Minute) // the store's clock decides, not the server's
	if n, err := store.Cleanup(ctx); n != 25 || err != nil {
		t.Fatalf("Cleanup = %d, %v; want 25 in batches of 7", n, err)
	}
	if n := count(t, store, ""); n != 5 {
		t.Fatalf("%d rows left, want the 5 live ones", n)
	}
	if n, err := store.Cleanup(ctx); n != 0 || err != nil {
		t.Fatalf("second Cleanup: %d, %v", n, err)
	}
	canceled, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := store.Cleanup(canceled); !errors.Is(err, context.Canceled) {
		t.Errorf("Cleanup with a cancelled context: %v", err)
	}
}

// wrappedBackend wraps a Backend, as sessions.Backend's documentation
// allows (to count calls, to add a fault).
type wrappedBackend struct{ sessions.Backend }

// TestCleanupWrappedBackend checks that Cleanup still works, and does not
// panic, once the application has wrapped the store's Backend.
func TestCleanupWrappedBackend(t *testing.T) {
	clock := sessionstest.NewClock()
	store := newStore(t, poolOf(t, pgtest.Start(t)), clock)
	seed(t, store, 3, time.Minute)
	store.Backend = wrappedBackend{store.Backend}
	clock.Advance(2 * time.Minute)
	if n, err := store.Cleanup(context.Background()); n != 3 || err != nil {
		t.Fatalf("Cleanup through a wrapped Backend = %d, %v; want 3", n, err)
	}
}

// TestCleanupInstances runs Cleanup from several instances (each its own
// pool) at once: together they delete every expired row once, without
// errors, and leave the live ones.
func TestCleanupInstances(t *testing.T) {
	srv := pgtest.Start(t)
	clock := sessionstest.NewClock()
	first := newStore(t, poolOf(t, srv), clock)
	seed(t, first, 600, time.Minute)
	seed(t, first, 20, time.Hour)
	clock.Advance(2 * time.Minute)
	var (
		wg    sync.WaitGroup
		mu    sync.Mutex
		total int64
	)
	for i := range 4 {
		s := first
		if i > 0 {
			s = pgstore.New(poolOf(t, srv), keys...)
			s.Table, s.Now = first.Table, clock.Now
		}
		s.CleanupBatch = 50
		wg.Go(func() {
			n, err := s.Cleanup(context.Background())
			if err != nil {
				t.Errorf("Cleanup: %v", err)
			}
			mu.Lock()
			total += n
			mu.Unlock()
		})
	}
	wg.Wait()
	if left := count(t, first, ""); total != 600 || left != 20 {
		t.Fatalf("instances deleted %d rows (want 600), %d left (want 20)", total, left)
	}

	// A row that another instance's Cleanup holds is skipped, not waited
	// for (which would end in a timeout).
	seed(t, first, 5, time.Minute)
	clock.Advance(2 * time.Minute)
	ctx := context.Background()
	tx, err := first.DB().(*pgxpool.Pool).Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback(ctx)
	if _, err := tx.Exec(ctx, "SELECT 1 FROM "+first.Table.Sanitize()+" WHERE expires <= $1 LIMIT 1 FOR UPDATE", clock.Now()); err != nil {
		t.Fatal(err)
	}
	first.Timeout = 500 * time.Millisecond
	if n, err := first.Cleanup(ctx); n != 4 || err != nil {
		t.Errorf("Cleanup beside a locked expired row: %d, %v; want the 4 others", n, err)
	}
}

// cleanerRunning reports whether a goroutine of StartCleanup (started by
// backendkit.StartCleaner) is alive.
func cleanerRunning() bool {
	buf := make([]byte, 1<<20)
	return strings.Contains(string(buf[:runtime.Stack(buf, true)]), "backendkit.StartCleaner.func")
}

func TestStartCleanup(t *testing.T) {
	pool := poolOf(t, pgtest.Start(t))
	clock := sessionstest.NewClock()
	store := newStore(t, pool, clock)
	seed(t, store, 10, time.Minute)
	clock.Advance(2 * time.Minute)
	stop := store.StartCleanup(10 * time.Millisecond)
	waitFor(t, 10*time.Second, "the cleaner deleting the expired rows", func() bool { return count(t, store, "") == 0 })
	if !cleanerRunning() {
		t.Fatal("no goroutine of StartCleanup found while it runs: the check below is blind")
	}
	stop()
	stop() // a second call is harmless
	if cleanerRunning() {
		t.Fatal("the cleaner's goroutine outlived stop")
	}

	// stop cancels a Cleanup that waits: here for a table lock, with no
	// Timeout to end it.
	store.Timeout = 0
	seed(t, store, 3, time.Minute)
	clock.Advance(2 * time.Minute)
	ctx := context.Background()
	tx, err := pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback(ctx)
	if _, err := tx.Exec(ctx, "LOCK TABLE "+store.Table.Sanitize()+" IN ACCESS EXCLUSIVE MODE"); err != nil {
		t.Fatal(err)
	}
	stop = store.StartCleanup(time.Millisecond)
	waitFor(t, 10*time.Second, "the cleaner waiting for the lock", func() bool {
		var waiting bool
		err := pool.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND query LIKE 'WITH batch%')`).Scan(&waiting)
		return err == nil && waiting
	})
	stopped := make(chan struct{})
	go func() { stop(); close(stopped) }()
	select {
	case <-stopped:
	case <-time.After(10 * time.Second):
		t.Fatal("stop did not return while Cleanup waited for a lock")
	}
	if cleanerRunning() {
		t.Fatal("the cleaner's goroutine outlived stop")
	}
	// (The server may still run the abandoned DELETE once the lock goes:
	// it deletes only expired rows, so that is harmless.)
}
