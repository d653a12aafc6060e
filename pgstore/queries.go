package pgstore

import (
	"slices"

	"github.com/jackc/pgx/v5"
)

// queries are the statements of a Store for one table name, built once:
// the name is quoted with pgx.Identifier.Sanitize, and everything else is
// a bound parameter.
type queries struct {
	ident pgx.Identifier // a copy of the Table they were built for
	table string         // ident, quoted
	users string         // the table of the user index, quoted

	schema, load, create, update, touch, delete, cleanup string

	// The user index (see users.go).
	addUser, removeUser, userIDs, cleanupUsers string
}

// usersSuffix names the table of the user index after the table of
// records: Table's last part + usersSuffix, in the same schema.
const usersSuffix = "_users"

// usersTable returns the table of the user index of the table ident.
func usersTable(ident pgx.Identifier) pgx.Identifier {
	u := slices.Clone(ident)
	u[len(u)-1] += usersSuffix
	return u
}

func newQueries(ident pgx.Identifier) *queries {
	if len(ident) == 0 {
		ident = pgx.Identifier{DefaultTable}
	}
	t := ident.Sanitize()
	index := pgx.Identifier{ident[len(ident)-1] + "_expires_idx"}.Sanitize()
	uident := usersTable(ident)
	u := uident.Sanitize()
	uindex := pgx.Identifier{uident[len(uident)-1] + "_added_idx"}.Sanitize()
	return &queries{
		ident: slices.Clone(ident),
		table: t,
		users: u,
		schema: `CREATE TABLE IF NOT EXISTS ` + t + ` (
	id      text COLLATE "C" PRIMARY KEY,
	data    bytea       NOT NULL,
	created timestamptz NOT NULL,
	updated timestamptz NOT NULL,
	expires timestamptz NOT NULL
);
CREATE INDEX IF NOT EXISTS ` + index + ` ON ` + t + ` (expires);
CREATE TABLE IF NOT EXISTS ` + u + ` (
	user_key text COLLATE "C" NOT NULL,
	id       text COLLATE "C" NOT NULL,
	added    timestamptz NOT NULL,
	PRIMARY KEY (user_key, id)
);
CREATE INDEX IF NOT EXISTS ` + uindex + ` ON ` + u + ` (added);
`,
		load: `SELECT data, expires FROM ` + t + ` WHERE id = $1 AND expires > $2`,
		// An expired row under the ID is replaced; a live one is left
		// alone and the statement reports 0 rows.
		create: `INSERT INTO ` + t + ` AS s (id, data, created, updated, expires) VALUES ($1, $2, $3, $3, $4)
ON CONFLICT (id) DO UPDATE SET data = excluded.data, created = excluded.created, updated = excluded.updated, expires = excluded.expires
WHERE s.expires <= $3`,
		update: `UPDATE ` + t + ` SET data = $2, updated = $3, expires = $4 WHERE id = $1 AND expires > $3`,
		touch:  `UPDATE ` + t + ` SET updated = $2, expires = $3 WHERE id = $1 AND expires > $2`,
		// An expired row goes too, but only a live one counts.
		delete: `DELETE FROM ` + t + ` WHERE id = $1 RETURNING expires > $2`,
		// MATERIALIZED keeps the locked batch one set, computed once.
		cleanup: `WITH batch AS MATERIALIZED (
	SELECT id FROM ` + t + ` WHERE expires <= $1 ORDER BY expires LIMIT $2 FOR UPDATE SKIP LOCKED
)
DELETE FROM ` + t + ` AS s USING batch WHERE s.id = batch.id`,

		addUser:    `INSERT INTO ` + u + ` (user_key, id, added) VALUES ($1, $2, $3) ON CONFLICT (user_key, id) DO UPDATE SET added = excluded.added`,
		removeUser: `DELETE FROM ` + u + ` WHERE user_key = $1 AND id = $2`,
		userIDs:    `SELECT id FROM ` + u + ` WHERE user_key = $1`,
		// The entries added before $1 (ten minutes ago) whose record is
		// gone or expired at $2, from the cursor $3 on, oldest first;
		// entries being added again or deleted by another Cleanup are
		// skipped. FOR UPDATE checks added again on a row updated since
		// the statement began.
		cleanupUsers: `WITH batch AS MATERIALIZED (
	SELECT user_key, id FROM ` + u + ` AS u
	WHERE added < $1 AND added >= $3 AND NOT EXISTS (SELECT 1 FROM ` + t + ` AS s WHERE s.id = u.id AND s.expires > $2)
	ORDER BY added LIMIT $4 FOR UPDATE SKIP LOCKED
)
DELETE FROM ` + u + ` AS u USING batch WHERE u.user_key = batch.user_key AND u.id = batch.id
RETURNING u.added`,
	}
}

// sql returns the statements for the store's current Table.
func (s *Store) sql() *queries {
	q := s.queries.Load()
	if q == nil || !slices.Equal(q.ident, s.Table) {
		q = newQueries(s.Table)
		s.queries.Store(q)
	}
	return q
}
