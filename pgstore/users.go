package pgstore

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// The user index (sessions.UserIndex): one row per entry in the table
// Table + "_users" (see Schema), keyed by the hex SHA-256 of the user key
// and the session ID, with the time the entry was added on the
// application's clock. A column of the sessions table would not do:
// ServerStore adds the entry before it creates the record.

// userIndexGrace is the ten minutes of sessions.UserIndex: Cleanup never
// deletes an entry added less than that ago, whether its row exists or
// not (ServerStore adds the entry a moment before it creates the row).
const userIndexGrace = 10 * time.Minute

// maxTableName is the longest name of Table's last part whose user index
// table, that name + "_users", fits PostgreSQL's 63-byte identifiers.
const maxTableName = 63 - len(usersSuffix)

// userKey is the user_key of user: the hex SHA-256 of its bytes, so that
// any user key (NUL bytes, invalid UTF-8, 1024 bytes) fits a text column
// of fixed width.
func userKey(user string) string {
	sum := sha256.Sum256([]byte(user))
	return hex.EncodeToString(sum[:])
}

// AddUserID adds id to the set of user, or sets the time of an entry that
// is already there to now: INSERT ... ON CONFLICT DO UPDATE.
func (b *backend) AddUserID(ctx context.Context, user, id string) error {
	ctx, cancel := b.context(ctx)
	defer cancel()
	if _, err := b.store.db.Exec(ctx, b.store.sql().addUser, userKey(user), id, b.now()); err != nil {
		return fmt.Errorf("sessions: postgres INSERT into the user index: %w", err)
	}
	return nil
}

// RemoveUserID deletes the entry of id in the set of user, if there is
// one.
func (b *backend) RemoveUserID(ctx context.Context, user, id string) error {
	ctx, cancel := b.context(ctx)
	defer cancel()
	if _, err := b.store.db.Exec(ctx, b.store.sql().removeUser, userKey(user), id); err != nil {
		return fmt.Errorf("sessions: postgres DELETE from the user index: %w", err)
	}
	return nil
}

// UserIDs returns the IDs of the entries of user, through the primary
// key; Cleanup, not UserIDs, removes the entries whose row is gone.
func (b *backend) UserIDs(ctx context.Context, user string) ([]string, error) {
	ctx, cancel := b.context(ctx)
	defer cancel()
	rows, err := b.store.db.Query(ctx, b.store.sql().userIDs, userKey(user))
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
// userIndexGrace before now whose row is gone or expired at now, in
// statements of at most batch entries each, oldest first: each statement
// carries on from the oldest time the previous one reached, so that the
// live entries it passed are not read again. It returns how many it
// deleted.
func (s *Store) cleanupUsers(ctx context.Context, now time.Time, batch int) (int64, error) {
	b, q := &backend{store: s}, s.sql()
	var (
		total  int64
		cursor time.Time // the zero time: from the first entry on
	)
	for {
		c, cancel := b.context(ctx)
		rows, err := s.db.Query(c, q.cleanupUsers, now.Add(-userIndexGrace), now, cursor, batch)
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
