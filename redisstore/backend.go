package redisstore

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/fasthttp-sessions/sessions"
	"github.com/fasthttp-sessions/sessions/internal/backendkit"
	"github.com/redis/go-redis/v9"
)

// backend is the sessions.Backend of Store, a sessions.Toucher and a
// sessions.UserIndex (see users.go): one single-key Redis command per
// method (see Store), followed by WAIT when the store waits for replicas
// (see durable.go). It reads its settings from its store.
type backend struct {
	store *Store
}

var (
	_ sessions.Toucher   = (*backend)(nil)
	_ sessions.UserIndex = (*backend)(nil)
)

func (b *backend) key(id string) string { return b.store.KeyPrefix + id }

// noteFailure returns err. When err is a failure (not a nil reply) and
// the client is a cluster client, it first asks the client to reload the
// cluster's layout, in the background: go-redis reloads it by itself only
// on a MOVED or READONLY reply and every ClusterStateReloadInterval (a
// minute), so after a failover it would keep sending a dead primary's
// keys to that primary until then. Reloads are coalesced; this costs
// nothing on success.
func (b *backend) noteFailure(err error) error {
	if err != nil && !errors.Is(err, redis.Nil) {
		if cc, ok := b.store.client.(*redis.ClusterClient); ok {
			cc.ReloadState(context.Background())
		}
	}
	return err
}

// ms returns ttl in whole milliseconds for PX, at least 1 (Redis rejects
// PX 0).
func ms(ttl time.Duration) int64 { return max(ttl.Milliseconds(), 1) }

func (b *backend) Load(ctx context.Context, id string) ([]byte, time.Time, error) {
	ctx, cancel := backendkit.Context(ctx, b.store.Timeout)
	defer cancel()
	key := b.key(id)
	pipe := b.store.client.Pipeline()
	get := pipe.Get(ctx, key)
	pttl := pipe.PTTL(ctx, key)
	// Exec reports a missing key as redis.Nil, from GET.
	if _, err := pipe.Exec(ctx); b.noteFailure(err) != nil && !errors.Is(err, redis.Nil) {
		return nil, time.Time{}, fmt.Errorf("sessions: redis GET+PTTL: %w", err)
	}
	// Any other error of either command was Exec's.
	data, err := get.Bytes()
	if errors.Is(err, redis.Nil) {
		return nil, time.Time{}, sessions.ErrRecordNotFound
	}
	left := pttl.Val()
	// The two commands are pipelined, not atomic: PTTL answers -2 when the
	// key went between them (a logout), -1 when it has no TTL (written by
	// something else than this store); go-redis passes both through as
	// nanoseconds.
	switch {
	case left == -2:
		return nil, time.Time{}, sessions.ErrRecordNotFound
	case left < 0:
		return data, time.Time{}, nil
	}
	// The TTL runs on the Redis server's clock; the expiry is reported on
	// the store's, which is what ServerStore compares it with.
	return data, backendkit.Now(b.store.Now).Add(left), nil
}

func (b *backend) Create(ctx context.Context, id string, data []byte, ttl time.Duration) error {
	if b.waitsOnCreate() {
		return b.createDurably(ctx, id, data, ttl)
	}
	ctx, cancel := backendkit.Context(ctx, b.store.Timeout)
	defer cancel()
	return createResult(b.noteFailure(b.store.client.Do(ctx, "set", b.key(id), data, "px", ms(ttl), "nx").Err()))
}

// createResult maps the outcome of SET NX to Create's.
func createResult(err error) error {
	if errors.Is(err, redis.Nil) {
		return sessions.ErrRecordExists
	}
	if err != nil {
		return fmt.Errorf("sessions: redis SET NX: %w", err)
	}
	return nil
}

func (b *backend) Update(ctx context.Context, id string, data []byte, ttl time.Duration) error {
	ctx, cancel := backendkit.Context(ctx, b.store.Timeout)
	defer cancel()
	err := b.noteFailure(b.store.client.Do(ctx, "set", b.key(id), data, "px", ms(ttl), "xx").Err())
	if errors.Is(err, redis.Nil) {
		return sessions.ErrRecordNotFound
	}
	if err != nil {
		return fmt.Errorf("sessions: redis SET XX: %w", err)
	}
	return nil
}

func (b *backend) Delete(ctx context.Context, id string) error {
	if b.store.WaitReplicas > 0 {
		return b.deleteDurably(ctx, id)
	}
	ctx, cancel := backendkit.Context(ctx, b.store.Timeout)
	defer cancel()
	n, err := b.store.client.Del(ctx, b.key(id)).Result()
	return deleteResult(n, b.noteFailure(err))
}

// deleteResult maps the outcome of DEL to Delete's.
func deleteResult(n int64, err error) error {
	if err != nil {
		return fmt.Errorf("sessions: redis DEL: %w", err)
	}
	if n == 0 {
		return sessions.ErrRecordNotFound
	}
	return nil
}

// Touch sets the TTL of the record under id with PEXPIRE, which Redis
// applies only to an existing key (a missing or expired key answers 0:
// ErrRecordNotFound, and nothing is written). Like SET XX, it checks and
// writes in one step, so it never revives a record that a logout or a
// renewal deleted.
func (b *backend) Touch(ctx context.Context, id string, ttl time.Duration) error {
	ctx, cancel := backendkit.Context(ctx, b.store.Timeout)
	defer cancel()
	// Not client.PExpire: it would send a TTL under a millisecond as 0,
	// which deletes the key.
	n, err := b.store.client.Do(ctx, "pexpire", b.key(id), ms(ttl)).Int64()
	if b.noteFailure(err) != nil {
		return fmt.Errorf("sessions: redis PEXPIRE: %w", err)
	}
	if n == 0 {
		return sessions.ErrRecordNotFound
	}
	return nil
}
