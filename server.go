package sessions

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/gorilla/securecookie"
	"github.com/valyala/fasthttp"
)

// DefaultBrowserSessionTTL is how long a server-side store keeps the record
// of a browser-session cookie (MaxAge 0) after its last Save, unless
// ServerStore.BrowserSessionTTL says otherwise. The browser forgets such a
// cookie when it closes, but the server cannot know when that happens:
// without a bound the record would live forever.
const DefaultBrowserSessionTTL = 24 * time.Hour

// ServerStore is a Store that keeps session values in a Backend and only a
// signed, encrypted ID in the cookie. It is the machinery shared by
// FilesystemStore, MemoryStore and the redisstore module, exported so that a
// store for any other backend needs only to implement Backend.
//
// What it does for every backend:
//   - IDs of 32 random bytes (NewID), checked with ValidID before they
//     touch the backend; a cookie naming a missing record yields a new
//     session with a new ID, never one under an ID the client chose;
//   - the ID cookie and the record, both encoded with Codecs, which sign
//     (and encrypt) them and date them;
//   - expiry: a record lives for the session's MaxAge after each Save, or
//     BrowserSessionTTL for a browser-session cookie (MaxAge 0);
//   - Session.RenewID: the values move to a new ID on Save and the old
//     record is deleted;
//   - MaxAge < 0: the record is deleted at once and the cookie with it;
//   - revocation: a stale Save never revives a destroyed or renewed
//     record (ErrSessionRevoked; see Backend).
//
// A ServerStore is safe for concurrent use once configured; set its fields
// before serving requests.
type ServerStore struct {
	// Codecs sign and encrypt the ID cookie and the records. The first one
	// encodes; all are tried in order to decode (key rotation).
	Codecs []securecookie.Codec

	// Options are copied into every new session.
	Options *Options

	// Backend keeps the records.
	Backend Backend

	// BrowserSessionTTL bounds the records of browser-session cookies
	// (MaxAge 0). Zero means DefaultBrowserSessionTTL.
	BrowserSessionTTL time.Duration

	// Now returns the current time. Nil means time.Now; tests set it to
	// move time forward without sleeping.
	Now func() time.Time

	// Rand is the source of session IDs. Nil means crypto/rand.Reader.
	Rand io.Reader

	// Owner is the store that sessions report as theirs (Session.Store)
	// and that the Registry asks for them: the store that embeds this
	// ServerStore, such as a FilesystemStore. Nil means the ServerStore
	// itself.
	Owner Store
}

// NewServerStore returns a ServerStore over backend with codecs made from
// keyPairs (see NewCookieStore for the keys) and the default Options: Path
// "/", MaxAge 30 days, HttpOnly, SameSite=Lax.
func NewServerStore(backend Backend, keyPairs ...[]byte) *ServerStore {
	s := &ServerStore{
		Codecs:  CodecsFromPairs(keyPairs...),
		Options: defaultOptions(),
		Backend: backend,
	}
	s.MaxAge(s.Options.MaxAge)
	setCodecsClock(s.Codecs, s.now)
	return s
}

// MaxAge sets the MaxAge of the store's Options and of every codec.
func (s *ServerStore) MaxAge(age int) {
	s.Options.MaxAge = age
	setCodecsMaxAge(s.Codecs, age)
}

// Get returns the session named name for this request, cached in the
// request's Registry. See Store for the contract.
func (s *ServerStore) Get(ctx *fasthttp.RequestCtx, name string) (*Session, error) {
	return GetRegistry(ctx).Get(s.owner(), name)
}

// New loads the session named name: it decodes the ID from the request's
// cookie and the values from the backend's record. See Store for the
// contract.
func (s *ServerStore) New(ctx *fasthttp.RequestCtx, name string) (*Session, error) {
	return s.load(ctx, s.owner(), name)
}

func (s *ServerStore) owner() Store {
	if s.Owner != nil {
		return s.Owner
	}
	return s
}

// Save writes the session's record and sets its ID cookie. See Store and
// ServerStore for what each MaxAge does, renewal and revocation.
func (s *ServerStore) Save(ctx *fasthttp.RequestCtx, session *Session) error {
	return s.save(ctx, session)
}

func (s *ServerStore) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

// ttl is how long the record of a session with these options lives after a
// Save.
func (s *ServerStore) ttl(o *Options) time.Duration {
	if o.MaxAge > 0 {
		return time.Duration(o.MaxAge) * time.Second
	}
	if s.BrowserSessionTTL > 0 {
		return s.BrowserSessionTTL
	}
	return DefaultBrowserSessionTTL
}

// recordTTL is how long the record of session lives after a Save now: its
// MaxAge (or BrowserSessionTTL), cut short by its idle timeout and its
// absolute lifetime. It is at least a second, so a Save never writes a
// record that is already expired.
func (s *ServerStore) recordTTL(session *Session, o *Options, now time.Time) time.Duration {
	ttl := s.ttl(o)
	if o.IdleTimeout > 0 && o.IdleTimeout < ttl {
		ttl = o.IdleTimeout
	}
	if o.AbsoluteTimeout > 0 && session.created != 0 {
		if left := time.Unix(session.created, 0).Add(o.AbsoluteTimeout).Sub(now); left < ttl {
			ttl = left
		}
	}
	return max(ttl, time.Second)
}

// load implements New for owner, the store the session reports as its own
// (a FilesystemStore or MemoryStore embedding s, or s itself).
func (s *ServerStore) load(ctx *fasthttp.RequestCtx, owner Store, name string) (*Session, error) {
	session := newStoreSession(owner, name, s.Options)
	if !validName(name) {
		return session.afresh(s.Options), fmt.Errorf("%w: %q is not an HTTP token", ErrInvalidName, name)
	}
	cookie := ctx.Request.Header.Cookie(name)
	if len(cookie) == 0 {
		return session.afresh(s.Options), nil
	}
	var id string
	if _, err := decodeAny(s.Codecs, name, cookie, &id); err != nil {
		return session.afresh(s.Options), fmt.Errorf("sessions: session %q: %w", name, err)
	}
	if !ValidID(id) {
		return session.afresh(s.Options), fmt.Errorf("%w: session %q: the cookie holds no valid session ID", ErrCookieInvalid, name)
	}
	data, expires, err := s.Backend.Load(ctx, id)
	if errors.Is(err, ErrRecordNotFound) {
		return session.afresh(s.Options), nil // logged out, renewed or expired: start afresh
	}
	if err != nil {
		return session.afresh(s.Options), fmt.Errorf("sessions: session %q: loading record: %w", name, err)
	}
	saved, err := decodeValues(s.Codecs, data, session)
	if err != nil {
		if errors.Is(err, ErrCookieExpired) {
			return session.afresh(s.Options), nil
		}
		return session.afresh(s.Options), fmt.Errorf("sessions: session %q: record: %w", name, err)
	}
	// The record's own lifetime, from its signed save time and the settings
	// it was saved with, bounds what the backend reported.
	now := s.now()
	for _, d := range []time.Time{time.Unix(saved, 0).Add(s.ttl(session.Options)), timeoutDeadline(session, saved)} {
		if !d.IsZero() && (expires.IsZero() || d.Before(expires)) {
			expires = d
		}
	}
	if !now.Before(expires) {
		return session.afresh(s.Options), nil
	}
	session.ID = id
	session.IsNew = false
	session.server = serverState{loadedID: id, expires: expires}
	return session, nil
}

// save implements Save; see Backend for the atomicity it relies on.
func (s *ServerStore) save(ctx *fasthttp.RequestCtx, session *Session) error {
	opts := session.Options
	if opts == nil {
		opts = s.Options
	}
	name := session.name
	if err := checkCookie(name, opts); err != nil {
		return err
	}
	st := &session.server
	now := s.now()

	if opts.MaxAge < 0 {
		if st.loadedID != "" {
			if err := s.Backend.Delete(ctx, st.loadedID); err != nil && !errors.Is(err, ErrRecordNotFound) {
				return fmt.Errorf("sessions: session %q: deleting record: %w", name, err)
			}
		}
		*st = serverState{}
		session.ID = ""
		setCookie(ctx, name, nil, opts, now)
		return nil
	}

	if st.revoked {
		return fmt.Errorf("sessions: session %q: %w", name, ErrSessionRevoked)
	}
	if st.loadedID != "" && !now.Before(st.expires) {
		// The record expired while the request ran: the session is over.
		// Its values are not carried to a new ID (that would let a request
		// that loaded it just before its deadline outlive the idle and
		// absolute timeouts, or a logout that happened meanwhile); what is
		// saved is a new, empty session under a new ID.
		if err := s.Backend.Delete(ctx, st.loadedID); err != nil && !errors.Is(err, ErrRecordNotFound) {
			return fmt.Errorf("sessions: session %q: deleting the expired record: %w", name, err)
		}
		session.afresh(s.Options)
		opts = session.Options
		*st = serverState{}
		session.ID = ""
	}
	markCreated(session, opts, now)
	b := getBuffer()
	defer putBuffer(b)
	var err error
	b.B, err = encodeValues(s.Codecs, b.B[:0], session, opts, s.Options)
	if err != nil {
		return fmt.Errorf("sessions: session %q: %w", name, err)
	}
	ttl := s.recordTTL(session, opts, now)

	id := session.ID
	switch {
	case st.loadedID != "" && (st.renew || id != st.loadedID):
		// Renewal, or an ID changed by hand: the values move to a new ID
		// and the old record goes.
		if id, err = s.create(ctx, b.B, ttl); err != nil {
			return fmt.Errorf("sessions: session %q: %w", name, err)
		}
		err := s.Backend.Delete(ctx, st.loadedID)
		if errors.Is(err, ErrRecordNotFound) {
			// Another request destroyed or renewed the old record first:
			// this renewal must not bring its values back.
			s.revoke(session)
			return errors.Join(
				fmt.Errorf("sessions: session %q: %w", name, ErrSessionRevoked),
				s.deleteQuietly(ctx, id))
		}
		if err != nil {
			return errors.Join(
				fmt.Errorf("sessions: session %q: deleting the old record: %w", name, err),
				s.deleteQuietly(ctx, id))
		}
	case st.loadedID != "":
		err := s.Backend.Update(ctx, id, b.B, ttl)
		if errors.Is(err, ErrRecordNotFound) {
			// Destroyed or renewed by another request since this one
			// loaded it: never bring it back.
			s.revoke(session)
			return fmt.Errorf("sessions: session %q: %w", name, ErrSessionRevoked)
		}
		if err != nil {
			return fmt.Errorf("sessions: session %q: saving record: %w", name, err)
		}
	case id != "":
		// A new session given an ID by the application.
		if !ValidID(id) {
			return fmt.Errorf("%w: session %q: %q is not a valid session ID", ErrInvalidOptions, name, id)
		}
		if err := s.Backend.Create(ctx, id, b.B, ttl); err != nil {
			return fmt.Errorf("sessions: session %q: saving record: %w", name, err)
		}
	default:
		if id, err = s.create(ctx, b.B, ttl); err != nil {
			return fmt.Errorf("sessions: session %q: %w", name, err)
		}
	}
	session.ID = id
	*st = serverState{loadedID: id, expires: now.Add(ttl)}

	b.B, err = encodeFirst(s.Codecs, b.B[:0], name, id)
	if err != nil {
		return fmt.Errorf("sessions: session %q: encoding the ID: %w", name, err)
	}
	setCookie(ctx, name, b.B, opts, now)
	return nil
}

// create stores data under a new ID and returns the ID.
func (s *ServerStore) create(ctx context.Context, data []byte, ttl time.Duration) (string, error) {
	for range 3 {
		id, err := NewID(s.Rand)
		if err != nil {
			return "", err
		}
		err = s.Backend.Create(ctx, id, data, ttl)
		if !errors.Is(err, ErrRecordExists) {
			if err != nil {
				return "", fmt.Errorf("saving record: %w", err)
			}
			return id, nil
		}
	}
	return "", fmt.Errorf("saving record: %w: three new IDs were taken (is Rand random?)", ErrRecordExists)
}

// revoke marks session as revoked: it keeps its values for the request to
// read, but no Save will ever write them again, under its ID or another.
func (s *ServerStore) revoke(session *Session) {
	session.server = serverState{revoked: true}
	session.ID = ""
}

// deleteQuietly removes a record this request has just created and must not
// keep.
func (s *ServerStore) deleteQuietly(ctx context.Context, id string) error {
	if err := s.Backend.Delete(ctx, id); err != nil && !errors.Is(err, ErrRecordNotFound) {
		return fmt.Errorf("sessions: deleting record: %w", err)
	}
	return nil
}
