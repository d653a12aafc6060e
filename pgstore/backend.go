package pgstore

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/fasthttp-sessions/sessions"
	"github.com/fasthttp-sessions/sessions/internal/backendkit"
	"github.com/jackc/pgx/v5"
)

// backend is the sessions.Backend, sessions.Toucher and
// sessions.UserIndex (see users.go) of Store: one statement per method
// (see Store). It reads Table, Timeout and Now from its store.
type backend struct {
	store *Store
}

var (
	_ sessions.Toucher   = (*backend)(nil)
	_ sessions.UserIndex = (*backend)(nil)
)

func (b *backend) Load(ctx context.Context, id string) ([]byte, time.Time, error) {
	ctx, cancel := backendkit.Context(ctx, b.store.Timeout)
	defer cancel()
	var (
		data    []byte
		expires time.Time
	)
	err := b.store.db.QueryRow(ctx, b.store.sql().load, id, backendkit.Now(b.store.Now)).Scan(&data, &expires)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, time.Time{}, sessions.ErrRecordNotFound
	}
	if err != nil {
		return nil, time.Time{}, fmt.Errorf("sessions: postgres SELECT: %w", err)
	}
	return data, expires, nil
}

func (b *backend) Create(ctx context.Context, id string, data []byte, ttl time.Duration) error {
	now := backendkit.Now(b.store.Now)
	return b.write(ctx, "INSERT", sessions.ErrRecordExists, b.store.sql().create, id, data, now, now.Add(ttl))
}

func (b *backend) Update(ctx context.Context, id string, data []byte, ttl time.Duration) error {
	now := backendkit.Now(b.store.Now)
	return b.write(ctx, "UPDATE", sessions.ErrRecordNotFound, b.store.sql().update, id, data, now, now.Add(ttl))
}

// Touch sets the expiry of the live row under id to ttl from now, leaving
// its data alone.
func (b *backend) Touch(ctx context.Context, id string, ttl time.Duration) error {
	now := backendkit.Now(b.store.Now)
	return b.write(ctx, "UPDATE", sessions.ErrRecordNotFound, b.store.sql().touch, id, now, now.Add(ttl))
}

// write runs the conditional statement sql (an INSERT or UPDATE, named by
// verb in errors) with args, and returns none when it wrote no row.
func (b *backend) write(ctx context.Context, verb string, none error, sql string, args ...any) error {
	ctx, cancel := backendkit.Context(ctx, b.store.Timeout)
	defer cancel()
	tag, err := b.store.db.Exec(ctx, sql, args...)
	if err != nil {
		return fmt.Errorf("sessions: postgres %s: %w", verb, err)
	}
	if tag.RowsAffected() == 0 {
		return none
	}
	return nil
}

func (b *backend) Delete(ctx context.Context, id string) error {
	ctx, cancel := backendkit.Context(ctx, b.store.Timeout)
	defer cancel()
	var live bool
	err := b.store.db.QueryRow(ctx, b.store.sql().delete, id, backendkit.Now(b.store.Now)).Scan(&live)
	if errors.Is(err, pgx.ErrNoRows) {
		return sessions.ErrRecordNotFound
	}
	if err != nil {
		return fmt.Errorf("sessions: postgres DELETE: %w", err)
	}
	if !live {
		return sessions.ErrRecordNotFound
	}
	return nil
}
