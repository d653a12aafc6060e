package pgstore

import (
	"context"
	"fmt"
	"time"

	"github.com/fasthttp-sessions/sessions/internal/backendkit"
	"github.com/jackc/pgx/v5"
)

// The user index (sessions.UserIndex): one row per entry in the table
// Table + "_users" (see Schema), keyed by the hex SHA-256 of the user key
// and the session ID, with the time the entry was added on the
// application's clock. A column of the sessions table would not do:
// ServerStore adds the entry before it creates the record.

// maxTableName is the longest name of Table's last part whose user index
// table, that name + "_users", fits PostgreSQL's 63-byte identifiers.
const maxTableName = 63 - len(usersSuffix)

// AddUserID adds id to the set of user, or sets the time of an entry that
// is already there to now: INSERT ... ON CONFLICT DO UPDATE.
func (b *backend) AddUserID(ctx context.Context, user, id string) error {
	ctx, cancel := backendkit.Context(ctx, b.store.Timeout)
	defer cancel()
	if _, err := b.store.db.Exec(ctx, b.store.sql().addUser, backendkit.UserKey(user), id, backendkit.Now(b.store.Now)); err != nil {
		return fmt.Errorf("sessions: postgres INSERT into the user index: %w", err)
	}
	return nil
}

// RemoveUserID deletes the entry of id in the set of user, if there is
// one.
func (b *backend) RemoveUserID(ctx context.Context, user, id string) error {
	ctx, cancel := backendkit.Context(ctx, b.store.Timeout)
	defer cancel()
	if _, err := b.store.db.Exec(ctx, b.store.sql().removeUser, backendkit.UserKey(user), id); err != nil {
		return fmt.Errorf("sessions: postgres DELETE from the user index: %w", err)
	}
	return nil
}

// UserIDs returns the IDs of the entries of user, through the primary
// key; Cleanup, not UserIDs, removes the entries whose row is gone.
func (b *backend) UserIDs(ctx context.Context, user string) ([]string, error) {
	ctx, cancel := backendkit.Context(ctx, b.store.Timeout)
	defer cancel()
	rows, err := b.store.db.Query(ctx, b.store.sql().userIDs, backendkit.UserKey(user))
	if err == nil {
		var ids []string
		if ids, err = pgx.CollectRows(rows, pgx.RowTo[string]); err == nil {
			if len(ids) == 0 {
				return nil, nil
			}
			return ids, nil
		}
	}
	return nil, fmt.Errorf("sessions: postgres SELECT from the user index: %w", err)
}

// cleanupUsers deletes the entries of the user index added more than
// backendkit.UserIndexGrace before now whose row is gone or expired at now, in
// statements of at most batch entries each, oldest first: each statement
// carries on from the oldest time the previous one reached, so that the
// live entries it passed are not read again. It returns how many it
// deleted.
func (s *Store) cleanupUsers(ctx context.Context, now time.Time, batch int) (int64, error) {
	q := s.sql()
	var (
		total  int64
		cursor time.Time // the zero time: from the first entry on
	)
	for {
		c, cancel := backendkit.Context(ctx, s.Timeout)
		rows, err := s.db.Query(c, q.cleanupUsers, now.Add(-backendkit.UserIndexGrace), now, cursor, batch)
		var added []time.Time
		if err == nil {
			added, err = pgx.CollectRows(rows, pgx.RowTo[time.Time])
		}
		cancel()
		if err != nil {
			return total, fmt.Errorf("sessions: postgres cleanup DELETE from the user index: %w", err)
		}
		total += int64(len(added))
		if len(added) < batch {
			return total, nil
		}
		for _, a := range added {
			if a.After(cursor) {
				cursor = a
			}
		}
	}
}
