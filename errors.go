package sessions

import (
	"errors"
	"strconv"
	"strings"

	"github.com/fasthttp-sessions/sessions/internal/compact"
)

// Sentinel errors. Every error returned by this package starts with
// "sessions: " and wraps one of these (and, where there is one, the
// underlying cause), so callers match them with errors.Is.
var (
	// ErrInvalidName reports a cookie name that is not an HTTP token
	// (RFC 9110, section 5.6.2), or one that another store already uses in
	// the same request.
	ErrInvalidName = errors.New("sessions: invalid cookie name")

	// ErrInvalidOptions reports Options that cannot be written as a cookie,
	// such as a "__Host-" name without Secure, or Partitioned with a Path
	// other than "/", and a session whose ID was changed by hand.
	ErrInvalidOptions = errors.New("sessions: invalid cookie options")

	// ErrInvalidKey reports a store whose codecs cannot work: a hash key
	// empty or shorter than 16 bytes, a block key that is not nil or 16,
	// 24 or 32 bytes long, no codec at all, a nil codec, or a codec whose
	// values are not in securecookie's format (they carry no date).
	ErrInvalidKey = errors.New("sessions: invalid key")

	// ErrCookieInvalid reports a cookie value, or a server-side record,
	// that was rejected: malformed, not base64, signed with another key or
	// under another name (or, for a record, under another ID), tampered
	// with, dated in the future, or holding data that does not
	// deserialize.
	ErrCookieInvalid = errors.New("sessions: invalid cookie")

	// ErrCookieExpired reports a cookie (or server-side record) whose
	// signed timestamp is older than the codec's MaxAge, or a cookie older
	// than its session's MaxAge, idle timeout or absolute lifetime.
	ErrCookieExpired = errors.New("sessions: cookie expired")

	// ErrCookieTooLong reports an encoded value longer than the store's
	// MaxLength: on Save the session is not written and no cookie is sent;
	// on Get the cookie is refused as an invalid one is: a new session,
	// this error, and a deletion cookie in the response.
	ErrCookieTooLong = errors.New("sessions: encoded value too long")

	// ErrSerialize reports values that the serializer cannot encode, such as
	// a custom type that was not registered with gob.Register. Its text is
	// "sessions: cannot serialize values".
	ErrSerialize = compact.ErrEncode

	// ErrDeserialize reports serialized data that is corrupt or truncated,
	// or values of a type the running program no longer knows. Its text is
	// "sessions: cannot deserialize values".
	ErrDeserialize = compact.ErrDecode

	// ErrUnsafeFolder reports a FilesystemStore folder that a user other
	// than the server's could write (it belongs to another user, or its
	// group or everybody may write it), or an entry in it that the store
	// refuses to use: a symbolic link, a FIFO, a device or a file of
	// another user where a session or lock file should be. The store never
	// reads, writes or follows such an entry.
	ErrUnsafeFolder = errors.New("sessions: unsafe folder")

	// ErrValueMissing is returned by the typed accessors of Session when the
	// key is not set.
	ErrValueMissing = errors.New("sessions: value missing")

	// ErrValueType is returned by the typed accessors of Session when the
	// value has a type that cannot be converted to the one asked for.
	ErrValueType = errors.New("sessions: value has the wrong type")
)

// Errors of server-side stores and their backends.
var (
	// ErrRecordNotFound is returned by Backend.Load, Backend.Update and
	// Toucher.Touch when no live record exists under the ID.
	ErrRecordNotFound = errors.New("sessions: record not found")

	// ErrRecordExists is returned by Backend.Create when a record already
	// exists under the ID.
	ErrRecordExists = errors.New("sessions: record exists")

	// ErrSessionRevoked is returned by Save for a session whose record was
	// destroyed (by a logout, MaxAge < 0) or renewed to another ID since the
	// session was loaded, typically by another request of the same user
	// that finished first. Nothing is written and no cookie is set, so the
	// destroyed session stays destroyed. Treat it as "logged out": the
	// request raced a logout or a login, and the browser already holds the
	// cookie that the other request set.
	ErrSessionRevoked = errors.New("sessions: session was destroyed or renewed by another request")
)

// contextError is an error with context in front of another: its text has
// one "sessions: " prefix, and it unwraps to the error it was given.
type contextError struct {
	msg string
	err error
}

func (e *contextError) Error() string { return e.msg }
func (e *contextError) Unwrap() error { return e.err }

// withContext returns err with context in front, as
// "sessions: <context>: <err without its prefix>", or nil for a nil err.
func withContext(context string, err error) error {
	if err == nil {
		return nil
	}
	return &contextError{msg: "sessions: " + context + ": " + strings.TrimPrefix(err.Error(), "sessions: "), err: err}
}

// wrapError returns err with context in front and without its own
// "sessions: " prefix, for a caller that adds the prefix (sessionError,
// withContext) further out.
func wrapError(context string, err error) error {
	return &contextError{msg: context + ": " + strings.TrimPrefix(err.Error(), "sessions: "), err: err}
}

// sessionError returns err naming the session it concerns. The stores
// add it once, in their exported methods, and the functions they call
// never name the session, so that a chain names it once.
func sessionError(name string, err error) error {
	if err == nil {
		return nil // quoting the name costs ~100 ns on every request
	}
	return withContext("session "+strconv.Quote(name), err)
}

// recordError returns err, an error of decoding a server-side record, as a
// record's error: the codec's errors speak of cookies.
func recordError(err error) error {
	msg := strings.TrimPrefix(err.Error(), "sessions: ")
	if rest, ok := strings.CutPrefix(msg, "invalid cookie"); ok {
		msg = "invalid record" + rest
	} else {
		msg = "record: " + msg
	}
	return &contextError{msg: "sessions: " + msg, err: err}
}

// isDropped reports whether err says that some values of a session could
// not be decoded and were dropped, the rest being usable.
func isDropped(err error) bool {
	var d *compact.DroppedError
	return errors.As(err, &d)
}

// chainError is an error whose text is built once, so that "sessions: "
// appears once in it, and which unwraps to several errors.
type chainError struct {
	msg  string
	errs []error
}

func (e *chainError) Error() string   { return e.msg }
func (e *chainError) Unwrap() []error { return e.errs }

// sentinelError returns err if it starts with "sessions: " and wraps
// sentinel, else an error reading "<sentinel>: <err without its
// "sessions: ">" that wraps both.
func sentinelError(sentinel, err error) error {
	msg := err.Error()
	if rest, ok := strings.CutPrefix(msg, "sessions: "); ok && errors.Is(err, sentinel) {
		return err
	} else if ok {
		msg = rest
	}
	return &chainError{sentinel.Error() + ": " + msg, []error{sentinel, err}}
}
