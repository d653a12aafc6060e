package sessions

import (
	"errors"
	"fmt"
	"time"

	"github.com/valyala/fasthttp"
)

// Loading a server-side session: the ID from the token, the values from
// the record.

// load fills session from the request's cookie and the record it names,
// and reports whether it did; when it did not, New makes session a new one.
// The error is what New reports.
func (s *ServerStore) load(ctx *fasthttp.RequestCtx, session *Session) (bool, error) {
	name := session.name
	if err := s.ready(); err != nil {
		return false, err
	}
	cookie, from, err := s.requestToken(ctx, name)
	if err != nil || len(cookie) == 0 {
		return false, err
	}
	session.server.tokenFrom = from
	if len(cookie) > maxIDCookie {
		return false, fmt.Errorf("%w: an ID cookie of %d bytes (at most %d)", ErrCookieTooLong, len(cookie), maxIDCookie)
	}
	var id string
	signed, err := decodeAny(s.Codecs, name, cookie, &id)
	if err != nil {
		return false, err
	}
	if !validID(id) {
		return false, fmt.Errorf("%w: the cookie holds no valid session ID", ErrCookieInvalid)
	}
	// From here on the cookie is genuine: a logout of this session deletes
	// its ID even when its record cannot be read (see logout).
	session.server.cookieID = id
	data, expires, err := s.Backend.Load(ctx, id)
	if errors.Is(err, ErrRecordNotFound) {
		return false, nil // logged out, renewed or expired: start afresh
	}
	if err != nil {
		if !errors.Is(err, ErrUnsafeFolder) {
			// A planted entry in place of the record is no session of
			// anyone's: a new one may take its place.
			session.server.loadErr = err
		}
		return false, wrapError("loading record", err)
	}
	// Values that no longer decode are dropped alone (err stays for New to
	// report); the rest loads.
	saved, err := s.decodeRecord(id, data, session)
	if err != nil && !isDropped(err) {
		if errors.Is(err, ErrCookieExpired) {
			return false, nil
		}
		return false, recordError(err)
	}
	now := s.now()
	// It was last written or refreshed at its record's signed date, or the
	// ID cookie's, which every refresh signs anew.
	expires = s.liveUntil(session, max(saved, signed), expires)
	if !now.Before(expires) {
		return false, nil
	}
	// The ID cookie's own date bounds the session, as CookieStore's does: a
	// stolen copy older than the session's MaxAge or IdleTimeout is refused
	// even while the user's own, newer cookie keeps the record alive. Its
	// ID stays known: a logout with such a cookie (its user back after the
	// idle timeout, while a copy elsewhere kept the session alive) still
	// ends the session; it is genuine, and ending is all it can do.
	if d := timeoutDeadline(session, signed); !d.IsZero() && !now.Before(d) {
		return false, fmt.Errorf("%w: the ID cookie's MaxAge or idle timeout ended at %v",
			ErrCookieExpired, d.UTC().Format(time.RFC3339))
	}
	session.ID = id
	session.IsNew = false
	session.server.loadedID = id
	session.server.loaded = data
	session.server.expires = expires
	session.server.indexedUser = session.user
	// The token's date, which may be older than the record's: a refresh is
	// due by its age (see snapshot.written).
	session.snap.written = signed
	if err != nil {
		return true, recordError(err)
	}
	return true, nil
}

// liveUntil returns when the record of session, last written or refreshed
// at last (Unix seconds) and reported by the backend to expire at expires,
// ends. The session's own lifetime bounds what the backend reported. A
// Toucher extends a record without signing it anew, and reports the expiry
// each Touch set (the deadlines of the session's own MaxAge and
// IdleTimeout from the last refresh): only the absolute lifetime is checked
// again. Any other backend's record is signed anew at every refresh, and
// its signed date bounds the rest too.
func (s *ServerStore) liveUntil(session *Session, last int64, expires time.Time) time.Time {
	deadlines := []time.Time{absoluteDeadline(session)}
	if _, touches := s.Backend.(Toucher); !touches {
		deadlines = append(deadlines, time.Unix(last, 0).Add(s.ttl(session.Options)), timeoutDeadline(session, last))
	}
	for _, d := range deadlines {
		if !d.IsZero() && (expires.IsZero() || d.Before(expires)) {
			expires = d
		}
	}
	return expires
}

// decodeRecord decodes a record of id into session and returns when it was
// saved. A record that is not bound to id is read as gorilla/sessions
// wrote it (signed under the cookie name), unless RejectUnboundRecords.
func (s *ServerStore) decodeRecord(id string, data []byte, session *Session) (int64, error) {
	session.server.recordName = recordName(id)
	saved, err := decodeValues(s.Codecs, session.server.recordName, data, session, s.Options)
	if err == nil || s.RejectUnboundRecords || !errors.Is(err, ErrCookieInvalid) {
		return saved, err
	}
	session.Values = nil // gob merges into an existing map
	if legacy, lerr := decodeValues(s.Codecs, session.name, data, session, s.Options); lerr == nil {
		session.snap.rewrite = true // bind it to its ID on the next Save
		return legacy, nil
	}
	return 0, err
}
