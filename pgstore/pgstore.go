// Package pgstore is a session store for
// github.com/fasthttp-sessions/sessions that keeps session values in a
// PostgreSQL table, behind a signed, encrypted ID cookie. It works on a
// github.com/jackc/pgx/v5 pool (*pgxpool.Pool).
//
//	pool, err := pgxpool.New(ctx, "postgres://app@db.internal/app")
//	if err != nil {
//		log.Fatal(err)
//	}
//	store := pgstore.New(pool, hashKey, blockKey)
//	if err := store.CreateTable(ctx); err != nil { // or run Schema in your migrations
//		log.Fatal(err)
//	}
//	defer store.StartCleanup(5 * time.Minute)()
//
// The store is a sessions.ServerStore over a Backend that maps each of its
// methods to one SQL statement (see Store). Everything else (IDs, cookies,
// renewal, revocation of stale saves) is the ServerStore's.
package pgstore

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/fasthttp-sessions/sessions"
	"github.com/fasthttp-sessions/sessions/internal/backendkit"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// Defaults of New.
const (
	// DefaultTable is the name of the table of records.
	DefaultTable = "sessions"

	// DefaultTimeout bounds each statement of the store. Session loads and
	// saves sit on the path of every request, and a healthy PostgreSQL
	// answers them in well under a millisecond; fasthttp never cancels a
	// request's context (its Done closes only at server shutdown), so
	// without a bound of its own a request would wait as long as a lock or
	// a dead connection lasts.
	DefaultTimeout = time.Second

	// DefaultCleanupBatch is how many expired rows one statement of
	// Cleanup deletes at most.
	DefaultCleanupBatch = 1000
)

// DB is what the store needs of a database handle. *pgxpool.Pool
// implements it; so does *pgx.Conn, which is not safe for concurrent use
// and so fits only a program that serves one request at a time. Do not
// pass a pgx.Tx: the store relies on each statement committing on its own.
// Query serves the user index (UserIDs) and the cleanup of that index.
type DB interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

// Store is a sessions.Store that keeps session values in a PostgreSQL table
// and a signed, encrypted ID in the cookie. It embeds *sessions.ServerStore,
// whose Get, New, Save, Options, Codecs, BrowserSessionTTL and Now it
// promotes; the sessions it returns report the *Store as their Store().
//
// # Records
//
// The record of a session is one row of Table (see Schema): its ID, the
// encoded (signed and encrypted) values, when the ID was first written, when
// the row was last written, and when it expires. A row expires its session's
// MaxAge after each write (a Save of a changed session, or a refresh of an
// unchanged one with Touch), or BrowserSessionTTL (zero means 24 hours) for
// a browser-session cookie (MaxAge 0), cut short by the session's
// Options.IdleTimeout and AbsoluteTimeout. What is live is decided by the
// application's clock (the ServerStore's Now, time.Now by default), passed
// to every statement: give every instance of the application a synchronized
// clock. Expired rows are never returned and may be overwritten by a new
// session; Cleanup and StartCleanup delete them.
//
// Each Backend method is one statement, checked by its row count, with
// the clock's time as $now:
//
//	Load    SELECT data, expires WHERE id = $1 AND expires > $now     (no row: ErrRecordNotFound)
//	Create  INSERT ... ON CONFLICT (id) DO UPDATE ... WHERE expires <= $now (0 rows: ErrRecordExists)
//	Update  UPDATE ... WHERE id = $1 AND expires > $now                (0 rows: ErrRecordNotFound)
//	Touch   UPDATE ... SET expires WHERE id = $1 AND expires > $now    (0 rows: ErrRecordNotFound)
//	Delete  DELETE ... WHERE id = $1 RETURNING expires > $now          (none live: ErrRecordNotFound)
//
// IDs and data are always bound parameters, never SQL text; the table's
// name is quoted as an identifier.
//
// # A logout is final
//
// PostgreSQL checks the WHERE clause of an UPDATE, and the conflict of an
// INSERT ... ON CONFLICT, against the row's latest committed version under
// its row lock, so each conditional write is one atomic step with respect
// to the others. The ServerStore writes a loaded session back only with
// Update: once a logout (MaxAge < 0) or a renewal has deleted the row, a
// slower request that loaded the session before finds no live row and its
// Save fails with sessions.ErrSessionRevoked instead of bringing the row
// back. A renewal writes the new ID with Create and then needs its Delete
// of the old ID to find it live. No transaction spans two statements.
// This holds as long as PostgreSQL keeps what it acknowledged: with
// synchronous_commit off, a crash of the server may lose the last
// commits, a logout's DELETE among them; a failover to an asynchronous
// replica may too.
//
// # Log out everywhere
//
// The backend implements sessions.UserIndex, so the ServerStore's
// UserSessions, Revoke and RevokeUser work. The index is a second table,
// Table's name + "_users" (see Schema), one row per entry: user_key, the
// hex SHA-256 of the user key (any bytes fit; compute it in SQL with
// encode(sha256(convert_to('42', 'UTF8')), 'hex')), the session's ID, and
// when the entry was added on the application's clock. It cannot be a
// column of the sessions table: ServerStore adds the entry before it
// creates the row, so that a live row bound to a user is always in the
// index. One statement each:
//
//	AddUserID     INSERT ... ON CONFLICT (user_key, id) DO UPDATE SET added
//	RemoveUserID  DELETE ... WHERE user_key = $1 AND id = $2
//	UserIDs       SELECT id ... WHERE user_key = $1   (the primary key)
//
// Entries of sessions that expired, or that a crash left behind, stay
// until Cleanup deletes them, once their row is gone or expired and ten
// minutes after they were added, never sooner (the row may be about to
// be created). Listing a user's sessions costs the SELECT, then one Load
// per entry.
//
// # Timeouts and failures
//
// Every statement runs under context.WithTimeout(ctx, Timeout). The
// request's *fasthttp.RequestCtx is only cancelled at server shutdown, when
// requests still in flight should finish their saves: the store detaches
// from its cancellation (context.WithoutCancel; its values are kept) and
// relies on Timeout alone. When the deadline passes, pgx gives up on the
// connection; the server may still finish the statement (a write waiting
// for a lock, say), which the conditional statements make harmless: a
// late Update of a deleted row changes nothing. Set statement_timeout or
// lock_timeout on the pool's connections to have the server give up too.
//
// When PostgreSQL cannot be reached, Get and New return a new, empty
// session along with an error, and Save returns an error and sets no
// cookie. The errors of the Backend start with "sessions: postgres" and
// wrap pgx's error. The pool reconnects by itself when the server is back.
//
// A Store is safe for concurrent use once configured, if its DB is: set
// Table, Timeout, Options and the other fields before serving requests, and
// do not change them afterwards.
type Store struct {
	*sessions.ServerStore

	// Table is the table of records, optionally schema-qualified
	// (pgx.Identifier{"myapp", "sessions"}); default DefaultTable in the
	// connection's search_path. Each part is quoted, so it is taken
	// literally (case and all). Give each application sharing a database
	// its own table.
	Table pgx.Identifier

	// Timeout bounds each statement (default DefaultTimeout, one second);
	// zero or less means no bound of the store's own. A Save that renews
	// the ID runs up to three statements, each with its own Timeout.
	Timeout time.Duration

	// CleanupBatch is how many expired rows one statement of Cleanup
	// deletes at most (default DefaultCleanupBatch); zero or less means the
	// default.
	CleanupBatch int

	db      DB
	queries atomic.Pointer[queries]
}

// New returns a Store keeping its records in the table DefaultTable of db,
// with codecs made from keyPairs (see sessions.NewCookieStore for the
// keys), the default Options (Path "/", MaxAge 30 days, HttpOnly,
// SameSite=Lax) and Timeout one second. It runs no statement: create the
// table with CreateTable, or with Schema in a migration. The pool stays
// the caller's: the store never closes it.
func New(db DB, keyPairs ...[]byte) *Store {
	s := &Store{
		Table:   pgx.Identifier{DefaultTable},
		Timeout: DefaultTimeout,
		db:      db,
	}
	s.ServerStore = sessions.NewServerStore(&backend{store: s}, keyPairs...)
	return s
}

// MaxAge sets the MaxAge of the store's Options, and so the lifetime of the
// rows of new sessions, and the MaxAge of every codec: an ID cookie or a
// record encoded longer than age seconds ago is rejected. Set it to the
// longest lifetime any session is given.
func (s *Store) MaxAge(age int) { s.ServerStore.MaxAge(age) }

// DB returns the database handle the store was made with.
func (s *Store) DB() DB { return s.db }

// Schema returns the SQL that CreateTable runs for the store's Table: the
// table of records and its index on expires, then the table of the user
// index, Table's name + "_users" in the same schema, and its index on
// added (both indexes keep Cleanup cheap), all IF NOT EXISTS. Run it in
// your migrations instead of calling CreateTable when the application's
// database user may not create tables.
func (s *Store) Schema() string { return s.sql().schema }

// CreateTable creates the tables and indexes of Schema that do not exist
// yet, and returns nil when they all do. It is safe to call from several
// instances at once. It runs under ctx alone, without Timeout. It refuses
// a Table whose last part is longer than 57 bytes: the name of the table
// of the user index would pass PostgreSQL's limit of 63.
func (s *Store) CreateTable(ctx context.Context) error {
	ident := s.sql().ident // Table, or the default when it is empty
	if name := ident[len(ident)-1]; len(name) > maxTableName {
		return fmt.Errorf("sessions: postgres CREATE TABLE %s: a name of %d bytes; at most %d, so that %q fits PostgreSQL's 63-byte names",
			s.sql().table, len(name), maxTableName, name+usersSuffix)
	}
	schema := s.Schema()
	var err error
	for range 3 {
		_, err = s.db.Exec(ctx, schema)
		if !concurrentCreate(err) {
			break
		}
		// Another instance created the table or its index between this
		// one's IF NOT EXISTS check and its insert into the catalog: now
		// it exists, and the check sees it.
	}
	if err != nil {
		return fmt.Errorf("sessions: postgres CREATE TABLE %s: %w", s.sql().table, err)
	}
	return nil
}

// concurrentCreate reports whether err is what CREATE ... IF NOT EXISTS
// returns when another session creates the same object at the same time:
// unique_violation (in the catalog), duplicate_table or duplicate_object.
func concurrentCreate(err error) bool {
	var pgErr *pgconn.PgError
	if !errors.As(err, &pgErr) {
		return false
	}
	switch pgErr.Code {
	case "23505", "42P07", "42710":
		return true
	}
	return false
}

// Cleanup deletes the rows that had expired when it started, in statements
// of at most CleanupBatch rows each, and returns how many it deleted. Rows
// that another Cleanup (of this or another instance) is deleting at the
// same time are skipped (FOR UPDATE SKIP LOCKED), so instances running it
// at once neither wait for each other nor fail. Then it deletes, the same
// way and in batches of the same size, the entries of the user index
// added more than ten minutes before it started whose session row is gone
// or expired (they are not counted in the result; see "Log out
// everywhere" in Store). Each statement runs under Timeout; ctx cancels
// the whole.
func (s *Store) Cleanup(ctx context.Context) (int64, error) {
	batch := s.CleanupBatch
	if batch <= 0 {
		batch = DefaultCleanupBatch
	}
	now, q := backendkit.Now(s.Now), s.sql()
	var total int64
	for {
		c, cancel := backendkit.Context(ctx, s.Timeout)
		tag, err := s.db.Exec(c, q.cleanup, now, batch)
		cancel()
		if err != nil {
			return total, fmt.Errorf("sessions: postgres cleanup DELETE: %w", err)
		}
		total += tag.RowsAffected()
		if tag.RowsAffected() < int64(batch) {
			break
		}
	}
	_, err := s.cleanupUsers(ctx, now, batch)
	return total, err
}

// StartCleanup runs Cleanup every interval (a minute when interval is zero
// or less) in a goroutine until the returned function is called. That
// function cancels a Cleanup in progress, waits for the goroutine to exit,
// and may be called more than once. Errors of Cleanup are dropped: call
// Cleanup yourself to see them. Every instance of an application may run
// its own.
func (s *Store) StartCleanup(interval time.Duration) (stop func()) {
	return backendkit.StartCleaner(interval, func(ctx context.Context) { _, _ = s.Cleanup(ctx) })
}
