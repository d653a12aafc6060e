package sessions

import (
	"errors"
	"strings"
)

// Sentinel errors. Every error returned by this package starts with
// "sessions: " and wraps one of these (and, where there is one, the
// underlying cause), so callers match them with errors.Is.
var (
	// ErrInvalidName reports a cookie name that is not an HTTP token
	// (RFC 9110, section 5.6.2).
	ErrInvalidName = errors.New("sessions: invalid cookie name")

	// ErrInvalidOptions reports Options that cannot be written as a cookie,
	// such as a "__Host-" name without Secure, or Partitioned with a Path
	// other than "/".
	ErrInvalidOptions = errors.New("sessions: invalid cookie options")

	// ErrInvalidKey reports a misconfigured codec: a hash key empty or
	// shorter than 16 bytes, a block key that is not nil or 16, 24 or 32
	// bytes long, no codec at all, or a codec whose values are not in
	// securecookie's format.
	ErrInvalidKey = errors.New("sessions: invalid key")

	// ErrCookieInvalid reports a cookie value that was rejected: malformed,
	// not base64, signed with another key or under another name, tampered
	// with, dated in the future, or holding data that does not deserialize.
	ErrCookieInvalid = errors.New("sessions: invalid cookie")

	// ErrCookieExpired reports a cookie (or server-side record) whose
	// signed timestamp is older than the codec's MaxAge.
	ErrCookieExpired = errors.New("sessions: cookie expired")

	// ErrCookieTooLong reports an encoded value longer than the codec's
	// MaxLength: on Save the session is not written and no cookie is sent;
	// on Get the cookie is ignored.
	ErrCookieTooLong = errors.New("sessions: encoded value too long")

	// ErrSerialize reports values that the serializer cannot encode, such as
	// a custom type that was not registered with gob.Register.
	ErrSerialize = errors.New("sessions: cannot serialize values")

	// ErrDeserialize reports serialized data that is corrupt or truncated.
	ErrDeserialize = errors.New("sessions: cannot deserialize values")

	// ErrValueMissing is returned by the typed accessors of Session when the
	// key is not set.
	ErrValueMissing = errors.New("sessions: value missing")

	// ErrValueType is returned by the typed accessors of Session when the
	// value has a type that cannot be converted to the one asked for.
	ErrValueType = errors.New("sessions: value has the wrong type")
)

// errExchangeUnsupported reports a file system that cannot swap two files
// atomically.
var errExchangeUnsupported = errors.New("sessions: atomic exchange not supported")

// chainError is an error whose text is built once, so that "sessions: "
// appears once in it, and which unwraps to several errors.
type chainError struct {
	msg  string
	errs []error
}

func (e *chainError) Error() string   { return e.msg }
func (e *chainError) Unwrap() []error { return e.errs }

// wrapError returns err if it starts with "sessions: " and wraps sentinel,
// else an error reading "<sentinel>: <err without its "sessions: ">" that
// wraps both.
func wrapError(sentinel, err error) error {
	msg := err.Error()
	if rest, ok := strings.CutPrefix(msg, "sessions: "); ok && errors.Is(err, sentinel) {
		return err
	} else if ok {
		msg = rest
	}
	return &chainError{sentinel.Error() + ": " + msg, []error{sentinel, err}}
}
