package bench

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/fasthttp-sessions/sessions"
	"github.com/fasthttp-sessions/sessions/pgstore"
	"github.com/fasthttp-sessions/sessions/redisstore"
)

// countingBackend wraps the Backend of one of this package's server-side
// stores and counts its calls, so that the benchmarks report how many
// loads, writes and touches a request costs. It implements the optional
// sessions.Toucher and sessions.UserIndex whatever the wrapped backend
// does, forwarding to it, and answers an error wrapping
// errors.ErrUnsupported where the wrapped one lacks them, which ServerStore
// treats as absent. It is safe for concurrent use.
type countingBackend struct {
	sessions.Backend
	loads, writes, touches, deletes atomic.Int64
}

// callCounts is what a countingBackend counted.
type callCounts struct {
	loads, writes, touches, deletes int64
}

func (b *countingBackend) counts() callCounts {
	return callCounts{b.loads.Load(), b.writes.Load(), b.touches.Load(), b.deletes.Load()}
}

func (c callCounts) minus(d callCounts) callCounts {
	return callCounts{c.loads - d.loads, c.writes - d.writes, c.touches - d.touches, c.deletes - d.deletes}
}

func (c callCounts) String() string {
	return fmt.Sprintf("%d loads, %d writes, %d touches, %d deletes", c.loads, c.writes, c.touches, c.deletes)
}

func (b *countingBackend) Load(ctx context.Context, id string) ([]byte, time.Time, error) {
	b.loads.Add(1)
	return b.Backend.Load(ctx, id)
}

func (b *countingBackend) Create(ctx context.Context, id string, data []byte, ttl time.Duration) error {
	b.writes.Add(1)
	return b.Backend.Create(ctx, id, data, ttl)
}

func (b *countingBackend) Update(ctx context.Context, id string, data []byte, ttl time.Duration) error {
	b.writes.Add(1)
	return b.Backend.Update(ctx, id, data, ttl)
}

func (b *countingBackend) Delete(ctx context.Context, id string) error {
	b.deletes.Add(1)
	return b.Backend.Delete(ctx, id)
}

// unsupported is the answer for an extension the wrapped backend lacks.
func (b *countingBackend) unsupported(what string) error {
	return fmt.Errorf("counting %T: no %s: %w", b.Backend, what, errors.ErrUnsupported)
}

func (b *countingBackend) Touch(ctx context.Context, id string, ttl time.Duration) error {
	t, ok := b.Backend.(sessions.Toucher)
	if !ok {
		return b.unsupported("Touch")
	}
	b.touches.Add(1)
	return t.Touch(ctx, id, ttl)
}

func (b *countingBackend) AddUserID(ctx context.Context, user, id string) error {
	if ui, ok := b.Backend.(sessions.UserIndex); ok {
		return ui.AddUserID(ctx, user, id)
	}
	return b.unsupported("user index")
}

func (b *countingBackend) RemoveUserID(ctx context.Context, user, id string) error {
	if ui, ok := b.Backend.(sessions.UserIndex); ok {
		return ui.RemoveUserID(ctx, user, id)
	}
	return b.unsupported("user index")
}

func (b *countingBackend) UserIDs(ctx context.Context, user string) ([]string, error) {
	if ui, ok := b.Backend.(sessions.UserIndex); ok {
		return ui.UserIDs(ctx, user)
	}
	return nil, b.unsupported("user index")
}

// serverStoreOf returns the ServerStore of one of this package's
// server-side stores, or nil for a cookie store.
func serverStoreOf(store sessions.Store) *sessions.ServerStore {
	switch s := store.(type) {
	case *sessions.ServerStore:
		return s
	case *sessions.MemoryStore:
		return s.ServerStore
	case *sessions.FilesystemStore:
		return s.ServerStore
	case *redisstore.Store:
		return s.ServerStore
	case *pgstore.Store:
		return s.ServerStore
	}
	return nil
}

// countCalls wraps the backend of store, when it is server-side, in a
// countingBackend and returns it; nil for a cookie store.
func countCalls(store sessions.Store) *countingBackend {
	ss := serverStoreOf(store)
	if ss == nil {
		return nil
	}
	b := &countingBackend{Backend: ss.Backend}
	ss.Backend = b
	return b
}

// reportCalls reports the backend calls per request counted since before,
// over n requests: loads/op, writes/op (Create and Update), touches/op.
func reportCalls(b *testing.B, c *countingBackend, before callCounts, n int) {
	if c == nil || n == 0 {
		return
	}
	d := c.counts().minus(before)
	b.ReportMetric(float64(d.loads)/float64(n), "loads/op")
	b.ReportMetric(float64(d.writes)/float64(n), "writes/op")
	b.ReportMetric(float64(d.touches)/float64(n), "touches/op")
	if d.deletes != 0 {
		b.ReportMetric(float64(d.deletes)/float64(n), "deletes/op")
	}
}
