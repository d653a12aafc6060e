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
	"errors"
	"fmt"
	"time"

	"github.com/fasthttp-sessions/sessions"
	"github.com/redis/go-redis/v9"
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

	// DefaultWaitTimeout is how long Redis waits for the replicas' answer
	// to WAIT when Store.WaitReplicas is set and Store.WaitTimeout is not.
	// A replica on the same network confirms in about a round trip; half a
	// second rides out a busy moment without holding a logout for long
	// when a replica is down.
	DefaultWaitTimeout = 500 * time.Millisecond
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
// The record of a session is the string key KeyPrefix+ID holding the encoded
// (signed and encrypted) values, with a Redis TTL: the session's MaxAge
// after each write (a Save of a changed session, or a refresh of an
// unchanged one with Touch), or BrowserSessionTTL (default 24 hours) for a
// browser-session cookie (MaxAge 0), cut short by the session's
// Options.IdleTimeout and AbsoluteTimeout (the ServerStore computes it and
// passes it to the Backend). Redis removes expired records itself: there is
// no cleanup to run. The TTL runs on the Redis server's clock: the
// ServerStore's Now does not move it.
//
// The Backend methods are one Redis command each (two, pipelined, for
// Load), each touching one key, so they work unchanged on Redis Cluster;
// the backend also implements sessions.Toucher, and sessions.UserIndex
// (see "Log out everywhere" below):
//
//	Load    GET key + PTTL key, in one pipeline (a missing key: ErrRecordNotFound)
//	Create  SET key data PX ttl NX              (nil reply: ErrRecordExists)
//	Update  SET key data PX ttl XX              (nil reply: ErrRecordNotFound)
//	Delete  DEL key                             (0: ErrRecordNotFound)
//	Touch   PEXPIRE key ttl                     (0: ErrRecordNotFound)
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
// On Redis Cluster, go-redis reloads the cluster's layout by itself only
// on a MOVED reply and every ClusterStateReloadInterval (a minute): after a
// failover it would keep sending a dead primary's keys there. The store
// asks the client to reload the layout after every failed call, so that
// the same client finds the promoted replica within a second or so.
//
// A command that go-redis retries after a network error although its first
// attempt was applied errs on the safe side: a retried DEL finds nothing
// and the renewal reports ErrSessionRevoked (the user is logged out); a
// retried SET NX leaves an unused record that expires with its TTL.
//
// # Durable logouts
//
// What Redis itself can lose, the above cannot enforce. Replication is
// asynchronous: the master acknowledges a DEL before any replica has it,
// so a failover (Sentinel, Cluster) that promotes a replica may lose the
// last writes, a logout among them, and bring a logged-out record back
// until its TTL ends. So may a restart with appendfsync everysec (up to
// about a second of writes).
//
// WaitReplicas closes most of that hole for deletions: each Delete (a
// logout, the old ID of a renewal) then sends DEL key and WAIT
// WaitReplicas WaitTimeout over one connection, in one round trip, and
// fails with an error wrapping ErrNotReplicated unless that many replicas
// confirmed the deletion in time, whether this DEL or an earlier one (a
// concurrent logout) removed the key; Save returns that error and, for a
// logout, sets no cookie. On one master (standalone or Sentinel) writes
// replicate in order, so the WAIT after a renewal's Delete covers its
// Creates too. On Redis Cluster and Ring each master replicates its own
// keys, so Create waits as well (SET NX, then WAIT on the master of that
// key). Update and Touch never wait: losing one loses recent values or a
// TTL extension, never a logout; an application that logs users out by
// removing values and saving (an Update) should set MaxAge < 0 or call
// RenewID instead.
//
// WAIT is not consensus: a replica that confirmed may itself fail or
// restart without the data, and Sentinel or Cluster may still promote a
// replica that did not confirm (Sentinel prefers, among the replicas it
// deems healthy, the lowest replica-priority and then the largest
// replication offset it last saw). With WaitReplicas equal to the number
// of replicas every candidate has the deletion, but then a single replica
// down makes every logout fail; WaitReplicas below the number of replicas
// keeps logouts working through a failover. See the README.
//
// # Log out everywhere
//
// The user index that ServerStore's UserSessions, Revoke and RevokeUser
// read is one sorted set per user key, under KeyPrefix + "user:" + the
// lowercase hex SHA-256 of the user key: its members are the session IDs,
// its scores the time (milliseconds of the store's clock, Now) each entry
// was added or last found to name a live record. AddUserID is ZADD (with
// ZCARD and ZRANGEBYSCORE in the same round trip), RemoveUserID ZREM,
// UserIDs ZRANGE; each touches that one key. The set has no TTL, so that a
// session refreshed for months keeps its entry. Entries whose record is
// gone are pruned by AddUserID (when the set holds more than 32) and by
// UserIDs: EXISTS on their records, pipelined, then a one-key script that
// removes them only if they are still more than ten minutes old, and
// marks the others as found live. What stays for a user who never comes
// back is their set as it was then: a few IDs.
//
// Nothing is atomic across the set and the records (they live in other
// slots on Cluster): ServerStore adds an entry before it creates its
// record and removes it after it deleted the record, and pruning waits ten
// minutes, so a live record bound to a user is always in the user's set.
// On one master, replication keeps that order through a failover. On
// Cluster and Ring the set's master is usually another than the record's,
// so with WaitReplicas set AddUserID waits for replicas like Create, and
// fails with ErrNotReplicated (failing the login) when they do not
// confirm; without it, a failover may lose an entry whose record lives on,
// and RevokeUser would miss that session.
//
// # Timeouts
//
// Every Redis call runs under context.WithTimeout(ctx, Timeout), or
// Timeout plus the wait timeout for a call that waits for replicas. The
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
// Timeout, WaitReplicas, Options and the other fields before serving
// requests, and do not change them afterwards.
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

	// WaitReplicas, when positive, makes every deletion of a record wait
	// until at least that many replicas of its master have it (WAIT), and
	// fail with an error wrapping ErrNotReplicated when they do not
	// confirm within WaitTimeout; on Cluster and Ring the creations of
	// records, and the additions to a user's index, wait too. Zero (the default) does not wait: a failover may
	// then undo a logout. See "Durable logouts" above. It needs a
	// *redis.Client (standalone or Sentinel), *redis.ClusterClient or
	// *redis.Ring; keep it below the number of replicas, or the loss of
	// one replica makes every logout fail.
	WaitReplicas int

	// WaitTimeout is how long Redis waits for WaitReplicas replicas, the
	// timeout of WAIT (default DefaultWaitTimeout, half a second). A call
	// that waits runs under Timeout + WaitTimeout. Keep it below the
	// client's ReadTimeout (go-redis reads a pipeline's replies with it),
	// or a slow confirmation turns into a read timeout.
	WaitTimeout time.Duration

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
// read or write. With WaitReplicas set, it also reports a client of
// another type (whose masters the store cannot reach, so every Delete
// fails) and a WaitTimeout that is not below the client's ReadTimeout. It
// returns nil when it finds nothing, including for client types it does
// not know when WaitReplicas is not set. Call it once at start-up and log
// the error.
func (s *Store) CheckClient() error {
	var (
		known, enabled bool
		read           time.Duration
	)
	switch c := s.client.(type) {
	case *redis.Client:
		o := c.Options()
		known, enabled, read = true, o.ContextTimeoutEnabled, o.ReadTimeout
	case *redis.ClusterClient:
		o := c.Options()
		known, enabled, read = true, o.ContextTimeoutEnabled, o.ReadTimeout
	case *redis.Ring:
		o := c.Options()
		known, enabled, read = true, o.ContextTimeoutEnabled, o.ReadTimeout
	}
	var errs []error
	if known && !enabled && s.Timeout > 0 {
		var bound string
		switch {
		case read < 0:
			bound = "ever: the client has no ReadTimeout"
		case read == 0: // a Ring's shards take go-redis's default
			bound = "the client's default ReadTimeout (5s in go-redis v9.22)"
		default:
			bound = "its ReadTimeout of " + read.String()
		}
		errs = append(errs, fmt.Errorf("%w: the store's Timeout of %v cannot interrupt a Redis server that stops answering; requests would wait for %s; set ContextTimeoutEnabled: true in the client's options",
			ErrContextTimeoutDisabled, s.Timeout, bound))
	}
	if s.WaitReplicas > 0 {
		if read == 0 {
			read = 5 * time.Second // go-redis's default
		}
		wait := s.waitTimeout()
		switch {
		case !known:
			errs = append(errs, errWaitClient(s.client))
		case read > 0 && wait >= read:
			errs = append(errs, fmt.Errorf("sessions: redis: the store's WaitTimeout of %v is not below the client's ReadTimeout of %v: a slow WAIT would end in a read timeout, which go-redis retries", wait, read))
		}
	}
	return errors.Join(errs...)
}
