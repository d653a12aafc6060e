package sessions

import (
	"context"
	"time"

	"github.com/fasthttp-sessions/sessions/internal/backendkit"
)

// Backend is where a ServerStore keeps its records: the encoded values of
// one session under its ID. FilesystemStore and MemoryStore are ServerStores
// over the backends of this package; the redisstore and pgstore modules
// provide one for Redis and one for PostgreSQL; implement Backend to keep
// sessions anywhere else, and let ServerStore do the rest (IDs, cookies,
// expiry, renewal, revocation).
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

// UserIndex is an optional extension of Backend: a backend that implements
// it keeps, for each user key (see Session.SetUser), the set of the IDs of
// that user's sessions, so that ServerStore can list them (UserSessions)
// and end them (Revoke, RevokeUser: "log out everywhere"). Without it those
// methods return an error wrapping errors.ErrUnsupported.
//
// The index must live where the records live, so that every process and
// machine sharing the records shares it, and survive what they survive. User
// keys are arbitrary strings; IDs are session IDs (52 characters of A–Z and
// 2–7). Each method is one atomic step on one user's set, and must be safe
// for concurrent use.
//
// # How ServerStore uses it
//
// ServerStore adds an ID to its user's set before it creates a record bound
// to that user (a new session, the new ID of a renewal) or binds an existing
// record to that user, and removes it only after it deleted that record
// itself (a logout, a renewal, Revoke, RevokeUser). So a live record bound
// to a user is always in that user's set, which is what makes RevokeUser
// final; the set may also name records that are gone (expired, or lost to
// a crash between two steps) or that were bound to another user since,
// which ServerStore skips. Entries carry no expiry of their own: a record
// refreshed for months keeps its entry.
//
// A backend that wraps another (to count calls, to add a fault) may
// implement UserIndex whatever the wrapped one does, and return errors
// wrapping errors.ErrUnsupported when it has none: ServerStore then writes
// no index, and UserSessions, Revoke and RevokeUser return that error.
//
// A backend should drop the entries whose record has been gone for a
// while, so that sets do not grow without bound (MemoryStore's and
// FilesystemStore's Cleanup do), but never one whose record is merely
// absent now: ServerStore adds the entry a moment before it creates the
// record. Wait at least ten minutes after adding an entry before dropping
// it for that reason.
type UserIndex interface {
	// AddUserID adds id to the set of user. Adding an ID that is already
	// there is not an error.
	AddUserID(ctx context.Context, user, id string) error

	// RemoveUserID removes id from the set of user. Removing an ID that is
	// not there is not an error.
	RemoveUserID(ctx context.Context, user, id string) error

	// UserIDs returns the IDs in the set of user, in any order; none (and a
	// nil error) for a user with no set. It returns every ID present when
	// it was called, even one it drops at that moment (its record gone):
	// a renewal may be between creating the new ID's record and deleting
	// the old one, and RevokeUser follows the old ID's forwarding marker.
	UserIDs(ctx context.Context, user string) ([]string, error)
}

// userIndexGrace is the ten minutes of the UserIndex documentation, shared
// with the backend modules.
const userIndexGrace = backendkit.UserIndexGrace
