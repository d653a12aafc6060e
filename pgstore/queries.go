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

	schema, load, create, update, touch, delete, cleanup string
}

func newQueries(ident pgx.Identifier) *queries {
	if len(ident) == 0 {
		ident = pgx.Identifier{DefaultTable}
	}
	t := ident.Sanitize()
	index := pgx.Identifier{ident[len(ident)-1] + "_expires_idx"}.Sanitize()
	return &queries{
		ident: slices.Clone(ident),
		table: t,
		schema: `CREATE TABLE IF NOT EXISTS ` + t + ` (
	id      text COLLATE "C" PRIMARY KEY,
	data    bytea       NOT NULL,
	created timestamptz NOT NULL,
	updated timestamptz NOT NULL,
	expires timestamptz NOT NULL
);
CREATE INDEX IF NOT EXISTS ` + index + ` ON ` + t + ` (expires);
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
