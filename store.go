package sessions

import "github.com/valyala/fasthttp"

// Store loads and saves sessions. CookieStore keeps the values in the
// cookie itself; FilesystemStore, MemoryStore and stores built on
// ServerStore (such as the Redis and PostgreSQL stores of the redisstore and
// pgstore modules) keep them on the server and put only a signed ID in the
// cookie.
//
// # Contract
//
// Every implementation must follow these rules, which the stores of this
// package follow and test with one shared conformance suite:
//
//   - New never returns a nil session. It loads the session named name from
//     the request's cookie when there is a valid one (IsNew false), and
//     otherwise returns a new, empty session (IsNew true) carrying a copy of
//     the store's Options.
//   - A missing cookie is not an error: New returns a new session and a nil
//     error. A cookie that is malformed, tampered with, signed with an
//     unknown key, too long or expired yields a new session and an error
//     that wraps ErrCookieInvalid, ErrCookieExpired or ErrCookieTooLong, so
//     callers may log it and carry on with the fresh session. A server-side
//     record that is missing or expired behind a valid cookie yields a new
//     session and a nil error. A backend failure yields a new session and
//     an error that wraps the backend's error.
//   - Get returns the session cached for this request by the Registry (see
//     GetRegistry), calling New only the first time a name is asked for, so
//     that all the handlers of one request share one *Session.
//   - Save writes the session and sets its cookie in the response. With
//     Options.MaxAge > 0 the cookie persists for MaxAge seconds; with 0 it
//     is a browser-session cookie (server-side data is kept, bounded by the
//     store's own expiry); with MaxAge < 0 the cookie is deleted (Max-Age=0
//     and an Expires in the past) and server-side data is removed at once.
//     A session that cannot be written (a value that does not serialize, an
//     encoded cookie over the codec's MaxLength, invalid Options, a backend
//     failure) returns an error and sets no cookie.
//   - Server-side stores never revive a record: a session loaded from a
//     record that was since destroyed, or renewed to another ID, fails to
//     save with an error wrapping ErrSessionRevoked and sets no cookie; a
//     session whose record merely expired while the request ran is saved as
//     a new, empty session under a new ID. A session that was found revoked
//     stays revoked: every later Save of it fails the same way. See
//     Backend for how each backend makes that check atomic.
//   - Store methods are safe for concurrent use by many requests; the
//     sessions they return are not shared between requests.
type Store interface {
	// Get returns the session named name for this request, from the
	// request's Registry.
	Get(ctx *fasthttp.RequestCtx, name string) (*Session, error)

	// New loads the session named name from the request, or creates a new
	// one. It never returns a nil session.
	New(ctx *fasthttp.RequestCtx, name string) (*Session, error)

	// Save writes the session and sets its cookie in the response.
	Save(ctx *fasthttp.RequestCtx, s *Session) error
}
