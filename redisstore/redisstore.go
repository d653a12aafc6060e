// Package redisstore is a session store for
// github.com/fasthttp-sessions/sessions that keeps session values in Redis,
// behind a signed, encrypted ID cookie. It works with any go-redis v9
// client: a standalone server (*redis.Client), Redis Cluster
// (*redis.ClusterClient), Sentinel (redis.NewFailoverClient) or whatever
// redis.NewUniversalClient returns.
//
//	client := redis.NewClient(&redis.Options{
//		Addr:                  "127.0.0.1:6379",
//		ContextTimeoutEnabled: true, // let Store.Timeout bound socket reads
//	})
//	store := redisstore.New(client, hashKey, blockKey)
//	if err := store.CheckClient(); err != nil {
//		log.Print(err)
//	}
//
// The store is a sessions.ServerStore over a Backend that maps each of its
// methods to one single-key Redis command (see Store). Everything else (IDs,
// cookies, renewal, revocation of stale saves) is the ServerStore's.
package redisstore

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/fasthttp-sessions/sessions"
	"github.com/redis/go-redis/v9"
	"github.com/valyala/fasthttp"
)

// Defaults of New.
const (
	// DefaultKeyPrefix starts the key of every record: the key of a session
	// is DefaultKeyPrefix followed by its ID, like the file names of
	// sessions.FilesystemStore.
	DefaultKeyPrefix = "session_"

	// DefaultTimeout bounds each Redis command of the store. Session loads
	// and saves sit on the path of every request, and a healthy Redis
	// answers them in well under a millisecond; fasthttp never cancels a
	// request's context (its Done closes only at server shutdown), so
	// without a bound of its own a request would wait as long as the client
	// keeps retrying. One second is long enough to ride out a busy moment
	// or a reconnection, and short enough that a Redis outage turns into
	// fast errors instead of a pile of stuck requests.
	DefaultTimeout = time.Second
)

// ErrContextTimeoutDisabled is wrapped by the error of CheckClient when the
// client ignores context deadlines on socket reads and writes.
var ErrContextTimeoutDisabled = errors.New("sessions: the Redis client ignores context deadlines on socket reads and writes (ContextTimeoutEnabled is false)")

// Store is a sessions.Store that keeps session values in Redis and a
// signed, encrypted ID in the cookie. It embeds *sessions.ServerStore, whose
// Get, New, Save, Options, Codecs and BrowserSessionTTL it promotes; the
// sessions it returns report the *Store as their Store().
//
// # Records
//
// The record of a session is the string key KeyPrefix+ID holding the
// encoded (signed and encrypted) values, with a Redis TTL: the session's
// MaxAge after each Save, or BrowserSessionTTL (default 24 hours) for a
// browser-session cookie
// (MaxAge 0), cut short by the session's Options.IdleTimeout and
// AbsoluteTimeout (the ServerStore computes it and passes it to the
// Backend). Redis removes expired records itself: there is no cleanup to
// run. The TTL runs on the Redis server's clock: the ServerStore's Now does
// not move it.
//
// The Backend methods are one Redis command each (two, pipelined, for
// Load), each touching one key, so they work unchanged on Redis Cluster:
//
//	Load    GET key + PTTL key, in one pipeline (a missing key: ErrRecordNotFound)
//	Create  SET key data PX ttl NX              (nil reply: ErrRecordExists)
//	Update  SET key data PX ttl XX              (nil reply: ErrRecordNotFound)
//	Delete  DEL key                             (0: ErrRecordNotFound)
//
// # A logout is final
//
// Redis runs each command alone, so SET ... NX and SET ... XX check the
// key's existence (an expired key counts as missing) and write it in one
// atomic step, and DEL reports whether it removed a live key. The
// ServerStore writes a loaded session back only with SET XX: once a logout
// (MaxAge < 0) or a renewal has run DEL on the ID, a slower request that
// loaded the session before fails to save with sessions.ErrSessionRevoked
// instead of bringing the record back. A renewal writes the new ID with
// SET NX and then needs its DEL of the old ID to return 1; when another
// request removed it first, the renewal is revoked too. No MULTI, WATCH or
// Lua is needed, so nothing crosses hash slots.
//
// What Redis itself can lose, this cannot enforce: replication is
// asynchronous, so a failover (Sentinel, Cluster) may drop the last writes
// the old primary acknowledged, a DEL among them, and bring a logged-out
// record back until its TTL ends; so may a restart with appendfsync
// everysec (up to about a second of writes) or without persistence (all
// sessions are lost, which is safe). A command that go-redis retries after
// a network error although its first attempt was applied errs on the safe
// side: a retried DEL finds nothing and the renewal reports
// ErrSessionRevoked (the user is logged out); a retried SET NX leaves an
// unused record that expires with its TTL.
//
// # Timeouts
//
// Every Redis call runs under context.WithTimeout(ctx, Timeout). The
// request's *fasthttp.RequestCtx is only cancelled at server shutdown, when
// requests still in flight should finish their saves: the store detaches
// from its cancellation (context.WithoutCancel; its values are kept) and
// relies on Timeout alone. go-redis applies a context deadline to waiting
// for a pooled connection, dialling and retry back-offs, but to socket reads
// and writes only when the client was made with ContextTimeoutEnabled:
// true. Without it, a Redis server that accepts connections but does not
// answer holds each request for the client's ReadTimeout (5 seconds by
// default) whatever Timeout says. Set ContextTimeoutEnabled on the client,
// and call CheckClient at start-up to catch a client made without it.
//
// Load errors are not fatal to a request: Get and New then return a new,
// empty session along with an error that wraps the client's error, and
// Save returns an error (and sets no cookie). All the errors of the Backend
// start with "sessions: " and wrap the go-redis error.
//
// A Store is safe for concurrent use once configured: set KeyPrefix,
// Timeout, Options and the other fields before serving requests, and do
// not change them afterwards.
type Store struct {
	*sessions.ServerStore

	// KeyPrefix starts the Redis key of every record (default
	// DefaultKeyPrefix, "session_"). Give each application sharing a Redis
	// database its own prefix. On Redis Cluster, do not put a hash tag
	// ({...}) in it unless you mean to keep every session in one slot.
	KeyPrefix string

	// Timeout bounds each Redis command (default DefaultTimeout, one
	// second); zero or less means no bound of the store's own. A Save that
	// renews the ID runs up to three commands, each with its own Timeout.
	// See the type's documentation for ContextTimeoutEnabled.
	Timeout time.Duration

	client redis.UniversalClient
}

// New returns a Store keeping its records in Redis through client, with
// codecs made from keyPairs (see sessions.NewCookieStore for the keys), the
// default Options (Path "/", MaxAge 30 days, HttpOnly, SameSite=Lax),
// KeyPrefix "session_" and Timeout one second. The client stays the
// caller's: the store never closes it.
func New(client redis.UniversalClient, keyPairs ...[]byte) *Store {
	s := &Store{
		KeyPrefix: DefaultKeyPrefix,
		Timeout:   DefaultTimeout,
		client:    client,
	}
	s.ServerStore = sessions.NewServerStore(&backend{store: s}, keyPairs...)
	return s
}

// MaxAge sets the MaxAge of the store's Options, and so the Redis TTL of
// the records of new sessions, and the MaxAge of every codec: an ID cookie
// or a record encoded longer than age seconds ago is rejected. Set it to
// the longest lifetime any session is given.
func (s *Store) MaxAge(age int) { s.ServerStore.MaxAge(age) }

// Client returns the Redis client the store was made with.
func (s *Store) Client() redis.UniversalClient { return s.client }

// CheckClient returns an error wrapping ErrContextTimeoutDisabled when the
// store's client is a *redis.Client (standalone, or Sentinel from
// redis.NewFailoverClient), *redis.ClusterClient or *redis.Ring made
// without ContextTimeoutEnabled, so that Timeout cannot interrupt a socket
// read or write. It returns nil otherwise, including for client types it
// does not know. Call it once at start-up and log the error: it is advice,
// and the store works either way.
func (s *Store) CheckClient() error {
	var (
		enabled bool
		read    time.Duration
	)
	switch c := s.client.(type) {
	case *redis.Client:
		o := c.Options()
		enabled, read = o.ContextTimeoutEnabled, o.ReadTimeout
	case *redis.ClusterClient:
		o := c.Options()
		enabled, read = o.ContextTimeoutEnabled, o.ReadTimeout
	case *redis.Ring:
		o := c.Options()
		enabled, read = o.ContextTimeoutEnabled, o.ReadTimeout
	default:
		return nil
	}
	if enabled || s.Timeout <= 0 {
		return nil
	}
	var bound string
	switch {
	case read < 0:
		bound = "ever: the client has no ReadTimeout"
	case read == 0: // a Ring's shards take go-redis's default
		bound = "the client's default ReadTimeout (5s in go-redis v9.22)"
	default:
		bound = "its ReadTimeout of " + read.String()
	}
	return fmt.Errorf("%w: the store's Timeout of %v cannot interrupt a Redis server that stops answering; requests would wait for %s; set ContextTimeoutEnabled: true in the client's options",
		ErrContextTimeoutDisabled, s.Timeout, bound)
}

// backend is the sessions.Backend of Store: one single-key Redis command
// per method (see Store). It reads KeyPrefix and Timeout from its store.
type backend struct {
	store *Store
}

// context returns the context of one Redis call: ctx detached from
// fasthttp's shutdown-only cancellation, bounded by Timeout.
func (b *backend) context(ctx context.Context) (context.Context, context.CancelFunc) {
	if _, ok := ctx.(*fasthttp.RequestCtx); ok {
		// RequestCtx.Done is the server's shutdown channel: requests still
		// running at shutdown should complete their saves, and deriving
		// from it would cost a goroutine per call.
		ctx = context.WithoutCancel(ctx)
	}
	if t := b.store.Timeout; t > 0 {
		return context.WithTimeout(ctx, t)
	}
	return ctx, func() {}
}

func (b *backend) key(id string) string { return b.store.KeyPrefix + id }

// ms returns ttl in whole milliseconds for PX, at least 1 (Redis rejects
// PX 0).
func ms(ttl time.Duration) int64 { return max(ttl.Milliseconds(), 1) }

func (b *backend) Load(ctx context.Context, id string) ([]byte, time.Time, error) {
	ctx, cancel := b.context(ctx)
	defer cancel()
	key := b.key(id)
	pipe := b.store.client.Pipeline()
	get := pipe.Get(ctx, key)
	pttl := pipe.PTTL(ctx, key)
	// Exec reports a missing key as redis.Nil, from GET.
	if _, err := pipe.Exec(ctx); err != nil && !errors.Is(err, redis.Nil) {
		return nil, time.Time{}, fmt.Errorf("sessions: redis GET+PTTL: %w", err)
	}
	data, err := get.Bytes()
	if errors.Is(err, redis.Nil) {
		return nil, time.Time{}, sessions.ErrRecordNotFound
	}
	if err != nil {
		return nil, time.Time{}, fmt.Errorf("sessions: redis GET: %w", err)
	}
	left, err := pttl.Result()
	if err != nil {
		return nil, time.Time{}, fmt.Errorf("sessions: redis PTTL: %w", err)
	}
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
	return data, time.Now().Add(left), nil
}

func (b *backend) Create(ctx context.Context, id string, data []byte, ttl time.Duration) error {
	ctx, cancel := b.context(ctx)
	defer cancel()
	err := b.store.client.Do(ctx, "set", b.key(id), data, "px", ms(ttl), "nx").Err()
	if errors.Is(err, redis.Nil) {
		return sessions.ErrRecordExists
	}
	if err != nil {
		return fmt.Errorf("sessions: redis SET NX: %w", err)
	}
	return nil
}

func (b *backend) Update(ctx context.Context, id string, data []byte, ttl time.Duration) error {
	ctx, cancel := b.context(ctx)
	defer cancel()
	err := b.store.client.Do(ctx, "set", b.key(id), data, "px", ms(ttl), "xx").Err()
	if errors.Is(err, redis.Nil) {
		return sessions.ErrRecordNotFound
	}
	if err != nil {
		return fmt.Errorf("sessions: redis SET XX: %w", err)
	}
	return nil
}

func (b *backend) Delete(ctx context.Context, id string) error {
	ctx, cancel := b.context(ctx)
	defer cancel()
	n, err := b.store.client.Del(ctx, b.key(id)).Result()
	if err != nil {
		return fmt.Errorf("sessions: redis DEL: %w", err)
	}
	if n == 0 {
		return sessions.ErrRecordNotFound
	}
	return nil
}
