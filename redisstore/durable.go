package redisstore

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/fasthttp-sessions/sessions/internal/backendkit"
	"github.com/redis/go-redis/v9"
)

// Durable writes: with Store.WaitReplicas set, the deletions of records
// (and, on Cluster and Ring, their creations) are followed by WAIT on the
// same connection.

// ErrNotReplicated is wrapped by the error of a write that the Redis master
// applied but that fewer than Store.WaitReplicas replicas confirmed within
// Store.WaitTimeout. For a logout it means that the record is gone from the
// master but may come back if a replica that does not have the deletion is
// promoted: the logout is not certain yet. Saving the same session again,
// in the same request, waits again. Other errors of a waiting call (a
// lost connection, a timeout) leave the write just as unconfirmed.
var ErrNotReplicated = errors.New("sessions: Redis replicas did not confirm the write")

// notReplicated is the error of a write that WAIT did not confirm: its text
// names the command and what WAIT answered, and it matches
// ErrNotReplicated and WAIT's own error, if any.
type notReplicated struct {
	text  string
	cause error
}

func (e *notReplicated) Error() string { return e.text }

func (e *notReplicated) Unwrap() []error {
	if e.cause == nil {
		return []error{ErrNotReplicated}
	}
	return []error{ErrNotReplicated, e.cause}
}

// waitTimeout returns WAIT's timeout: WaitTimeout, or DefaultWaitTimeout
// when it is not set, and never under a millisecond (WAIT n 0 would wait
// for ever).
func (s *Store) waitTimeout() time.Duration {
	if t := s.WaitTimeout; t > 0 {
		return max(t, time.Millisecond)
	}
	return DefaultWaitTimeout
}

// waitsOnCreate reports whether Create waits too: only when the client
// spreads keys over several masters (Cluster, Ring). A single master
// replicates its writes in the order it applied them, so the WAIT after
// the Delete that ends a renewal also covers the renewal's Creates, made
// before it; a WAIT on one node of a cluster covers that node's writes
// only.
func (b *backend) waitsOnCreate() bool {
	if b.store.WaitReplicas <= 0 {
		return false
	}
	_, single := b.store.client.(*redis.Client)
	return !single
}

// master returns a client of the master that holds key; the commands of
// one of its pipelines share one connection.
func (b *backend) master(ctx context.Context, key string) (*redis.Client, error) {
	switch c := b.store.client.(type) {
	case *redis.Client: // standalone, or Sentinel's failover client
		return c, nil
	case *redis.ClusterClient:
		return c.MasterForKey(ctx, key)
	case *redis.Ring:
		return c.GetShardClientForKey(key)
	}
	return nil, errWaitClient(b.store.client)
}

// errWaitClient is the error of WaitReplicas on a client of another type
// than the three whose masters the store can reach.
func errWaitClient(c redis.UniversalClient) error {
	return fmt.Errorf("sessions: redis: WaitReplicas needs a *redis.Client, *redis.ClusterClient or *redis.Ring, not %T", c)
}

// durably sends the commands that queue adds (a write on key, then
// perhaps reads of the same key), then WAIT WaitReplicas, in one pipeline
// over one connection to the master that holds key. It returns sendErr
// when that master could not be found (nothing was sent); otherwise each
// command holds its own reply or error, and waitErr is nil when enough
// replicas confirmed the write within the wait timeout and wraps
// ErrNotReplicated otherwise (it means nothing when the write itself
// failed). what names the write in error messages.
//
// WAIT counts the replicas that have reached the master's replication
// offset as it was right after the last command of the connection that
// sends it, which is why the write and the WAIT must share a connection.
// Redis records that offset after every command, writes or not
// (redis/redis#6393 says so; TestDurableDeleteCoversEarlierDeletes checks
// it): so a DEL that finds nothing, because another request's logout
// removed the key first or because go-redis retried a DEL whose reply was
// lost, still waits for that earlier deletion to reach the replicas, and
// reads queued after the write do not hide it.
func (b *backend) durably(ctx context.Context, what, key string, queue func(context.Context, redis.Pipeliner)) (sendErr, waitErr error) {
	want, timeout := b.store.WaitReplicas, b.store.waitTimeout()
	bound := b.store.Timeout
	if bound > 0 {
		bound += timeout // the time Redis may spend waiting for replicas
	}
	ctx, cancel := backendkit.Context(ctx, bound)
	defer cancel()
	node, err := b.master(ctx, key)
	if b.noteFailure(err) != nil {
		return err, nil
	}
	pipe := node.Pipeline()
	queue(ctx, pipe)
	// Not pipe.Wait: it would stretch the read timeout to the wait's,
	// which CheckClient asks to keep below ReadTimeout instead.
	wait := redis.NewIntCmd(ctx, "wait", want, timeout.Milliseconds())
	_ = pipe.Process(ctx, wait)
	_, err = pipe.Exec(ctx)
	_ = b.noteFailure(err) // each command holds its own error
	acked, err := wait.Result()
	if err != nil {
		return nil, &notReplicated{text: notReplicatedPrefix(what) + ": WAIT: " + err.Error(), cause: err}
	}
	if acked < int64(want) {
		return nil, &notReplicated{text: fmt.Sprintf("%s: WAIT counted %d of %d replicas within %v", notReplicatedPrefix(what), acked, want, timeout)}
	}
	return nil, nil
}

// notReplicatedPrefix starts the text of a notReplicated error of the write
// what, with one "sessions: " prefix.
func notReplicatedPrefix(what string) string {
	return "sessions: redis " + what + ": " + strings.TrimPrefix(ErrNotReplicated.Error(), "sessions: ")
}

// createDurably is Create with a WAIT after the SET NX.
func (b *backend) createDurably(ctx context.Context, id string, data []byte, ttl time.Duration) error {
	key := b.key(id)
	var set *redis.Cmd
	sendErr, waitErr := b.durably(ctx, "SET NX", key, func(ctx context.Context, p redis.Pipeliner) {
		set = p.Do(ctx, "set", key, data, "px", ms(ttl), "nx")
	})
	if sendErr != nil {
		return createResult(sendErr)
	}
	if err := createResult(set.Err()); err != nil {
		return err
	}
	return waitErr
}

// deleteDurably is Delete with a WAIT after the DEL.
func (b *backend) deleteDurably(ctx context.Context, id string) error {
	key := b.key(id)
	var del *redis.IntCmd
	sendErr, waitErr := b.durably(ctx, "DEL", key, func(ctx context.Context, p redis.Pipeliner) {
		del = p.Del(ctx, key)
	})
	if sendErr != nil {
		return deleteResult(0, sendErr)
	}
	n, err := del.Result()
	if err != nil {
		return deleteResult(0, err)
	}
	if waitErr != nil {
		// The key is gone from the master, whether this DEL or an earlier
		// one removed it, but not known to be gone anywhere else.
		return waitErr
	}
	return deleteResult(n, nil)
}
