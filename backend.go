package sessions

import (
	"context"
	"time"
)

// Backend is where a ServerStore keeps its records: the encoded values of
// one session under its ID. FilesystemStore and MemoryStore are ServerStores
// over the backends of this package; the redisstore module provides one for
// Redis; implement Backend to keep sessions anywhere else, and let
// ServerStore do the rest (IDs, cookies, expiry, renewal, revocation).
//
// IDs reaching a backend are always exactly 52 characters of A–Z and 2–7:
// ServerStore checks every ID before it calls the backend.
// Data is opaque bytes, already signed (and encrypted) by the store's codec.
//
// # Atomicity: a logout is final
//
// Create and Update are conditional writes, and each must check its
// condition and write in one atomic step with respect to the other methods
// (for example a lock held across check and write, SET NX / SET XX in
// Redis, INSERT / UPDATE ... WHERE in SQL). ServerStore builds the
// guarantee that no stale request revives a session on them: a session
// loaded from a record is only ever written back with Update, which fails
// once the record was deleted by a logout or by an ID renewal; a renewal
// writes the new ID with Create and then needs Delete of the old ID to find
// it still there; new IDs are only ever written with Create.
//
// A Backend must be safe for concurrent use.
type Backend interface {
	// Load returns the record stored under id and when it expires (the zero
	// time if it never does). A missing or expired record returns
	// ErrRecordNotFound. The store does not modify the returned slice.
	Load(ctx context.Context, id string) (data []byte, expires time.Time, err error)

	// Create stores a new record under id, to expire after ttl, only if no
	// live record exists under id; otherwise it returns ErrRecordExists.
	Create(ctx context.Context, id string, data []byte, ttl time.Duration) error

	// Update replaces the record under id and sets it to expire after ttl,
	// only if a live record exists under id; otherwise it returns
	// ErrRecordNotFound.
	Update(ctx context.Context, id string, data []byte, ttl time.Duration) error

	// Delete removes the record under id. When no live record existed it
	// returns ErrRecordNotFound: ServerStore ignores that on logout, and
	// uses it to detect that a renewal lost the race against another
	// request that destroyed the record first.
	Delete(ctx context.Context, id string) error
}

// Toucher is an optional extension of Backend: a backend that implements it
// can extend the life of a record without rewriting it (EXPIRE in Redis, a
// new modification time on a file, a field in memory, an UPDATE of one
// column in SQL). ServerStore uses it to refresh the expiry of a session
// that is in use but unchanged; for a backend without it, it rewrites the
// record with Update.
//
// Touch sets the record under id to expire after ttl, only if a live record
// exists under id; otherwise it returns ErrRecordNotFound and writes
// nothing. Like Update, it must check and write in one atomic step with
// respect to the other methods, so that a touch never revives a record that
// a logout or a renewal removed. It must be safe for concurrent use.
type Toucher interface {
	Touch(ctx context.Context, id string, ttl time.Duration) error
}
