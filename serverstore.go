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

// defaultBrowserSessionTTL is how long a server-side store keeps the record
// of a browser-session cookie (MaxAge 0) after its last Save when
// ServerStore.BrowserSessionTTL is zero.
const defaultBrowserSessionTTL = 24 * time.Hour

// maxIDCookie bounds the length of an ID cookie: a real one is about 200
// bytes, and anything much longer is refused before it is decoded.
const maxIDCookie = 1024

// ServerStore is a Store that keeps session values in a Backend and only a
// signed, encrypted ID in the cookie. It is the machinery shared by
// FilesystemStore, MemoryStore and the redisstore module, exported so that a
// store for any other backend needs only to implement Backend; sessions of
// a store that embeds a *ServerStore report that *ServerStore as their
// Store.
//
// What it does for every backend:
//   - IDs of 32 random bytes (52 characters of A–Z and 2–7), checked before
//     they touch the backend; a cookie naming a missing record yields a new
//     session with a new ID, never one under an ID the client chose;
//   - the ID cookie and the record, both encoded with Codecs, which sign
//     (and encrypt) them and date them; a record is signed under its ID, so
//     that a record copied under another ID does not load;
//   - expiry: a record lives for the session's MaxAge after each Save, or
//     BrowserSessionTTL for a browser-session cookie (MaxAge 0), cut short
//     by its IdleTimeout and AbsoluteTimeout; an ID cookie signed longer
//     ago than the session's MaxAge or IdleTimeout is refused, as
//     CookieStore refuses such a cookie;
//   - Session.RenewID: the values move to a new ID on Save and the old
//     record is replaced by a forwarding marker, so that a logout racing
//     the renewal still ends the renewed session;
//   - MaxAge < 0: the record is deleted at once, with every record renewed
//     from it, and the cookie with it; when that cannot be done (the backend
//     failed), Save returns the error and keeps the cookie, so that the
//     logout can be tried again;
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
	// (MaxAge 0). Zero means 24 hours.
	BrowserSessionTTL time.Duration

	// RejectUnboundRecords refuses records that are not signed under their
	// ID, which is how gorilla/sessions' FilesystemStore writes them. By
	// default (false) such records are read, so that a site migrating from
	// gorilla/sessions keeps its sessions, and each is bound to its ID on
	// its next Save. Set it once every session has been saved since the
	// migration or has expired (after the store's MaxAge): until then,
	// whoever can write to the backend can copy such a record under
	// another session's ID (see SECURITY.md).
	RejectUnboundRecords bool

	// TokenHeader names a request header that carries the session's token,
	// for clients that keep no cookies (mobile apps, command-line clients,
	// single-page applications on another origin): the same signed, dated
	// ID the cookie holds, so tampering, expiry, renewal, revocation and "a
	// logout is final" work as with the cookie. "" (the default) means
	// cookies only. With "Authorization", the token comes as
	// "Authorization: Bearer <token>"; with any other name, such as
	// "X-Session-Token", as the bare value.
	//
	// A token in the header wins over the cookie: a client that sends it
	// chose to. Save answers in the header the request's token came from
	// (the response header of the same name, "Bearer " included for
	// Authorization), and a session that came with neither in both the
	// header and the cookie (unless TokenOnly); clients replace their token
	// with any new one a response carries (a new session, a renewal, a
	// refresh of the expiry). A logout answers with the header present and
	// empty. Unlike a cookie, a header is never sent by a browser on its
	// own, so a session carried only in a header cannot be used by
	// cross-site request forgery; the cookie rules (prefixes, SameSite) do
	// not apply to it. A store carries one session per request in its
	// header: give each session name its own store (and header).
	TokenHeader string

	// TokenOnly makes the store ignore cookies: it reads tokens from
	// TokenHeader only (a cookie is not even looked at) and never sets a
	// cookie. It needs a TokenHeader.
	TokenOnly bool

	// Now returns the current time. Nil means time.Now; tests set it to
	// move time forward without sleeping.
	Now func() time.Time

	// Rand is the source of session IDs. Nil means crypto/rand.Reader.
	Rand io.Reader
}

// NewServerStore returns a ServerStore over backend with codecs made from
// keyPairs (see NewCookieStore for the keys) and the default Options: Path
// "/", MaxAge 30 days, HttpOnly, SameSite=Lax. Records have no size limit
// (see MaxLength).
func NewServerStore(backend Backend, keyPairs ...[]byte) *ServerStore {
	s := &ServerStore{
		Codecs:  codecsFromPairs(keyPairs...),
		Options: defaultOptions(),
		Backend: backend,
	}
	s.MaxAge(s.Options.MaxAge)
	s.MaxLength(0)
	setCodecsClock(s.Codecs, s.now)
	return s
}

// serverStore returns s. Through embedding, it tells the Registry which
// ServerStore a FilesystemStore, a MemoryStore or another embedding store
// is.
func (s *ServerStore) serverStore() *ServerStore { return s }

// MaxAge sets the MaxAge of the store's Options and of every codec: an ID
// cookie or a record signed longer than age seconds ago is refused. Set it
// to the longest lifetime any session is given.
func (s *ServerStore) MaxAge(age int) {
	s.Options.MaxAge = age
	setCodecsMaxAge(s.Codecs, age)
}

// MaxLength limits the length of an encoded record, in bytes; a Save of a
// longer one fails with an error wrapping ErrCookieTooLong. 0 (the default)
// means no limit. The ID cookie is always short, whatever the values hold.
func (s *ServerStore) MaxLength(l int) {
	setCodecsMaxLength(s.Codecs, l)
}

// SetSerializer sets how every codec of the store turns values into bytes
// and back: nil restores the default, CompactSerializer; use
// securecookie.GobEncoder{} for records that gorilla/sessions must read
// (but see RejectUnboundRecords: gorilla cannot read records bound to
// their ID). Codecs other than *Codec and *securecookie.SecureCookie are
// left alone. Whatever the serializer, the store reads both formats.
func (s *ServerStore) SetSerializer(sz securecookie.Serializer) {
	setCodecsSerializer(s.Codecs, sz)
}

// Check reports whether the store can work: its codecs (see
// CookieStore.Check) and its TokenHeader. Call it at start-up and stop on
// its error; every Get and Save of a misconfigured store returns the same
// error. Stores built on a ServerStore may check more (FilesystemStore
// checks its folder).
func (s *ServerStore) Check() error {
	return errors.Join(checkCodecs(s.Codecs), s.checkTokenHeader())
}

// ready returns what makes every Get and Save fail: the checks of Check
// that cost nothing.
func (s *ServerStore) ready() error {
	if err := checkCodecsProbe(s.Codecs, false); err != nil {
		return err
	}
	return s.checkTokenHeader()
}

// Get returns the session named name for this request, cached in the
// request's Registry. See Store for the contract.
func (s *ServerStore) Get(ctx *fasthttp.RequestCtx, name string) (*Session, error) {
	return GetRegistry(ctx).Get(s, name)
}

// New loads the session named name: it decodes the ID from the request's
// cookie and the values from the backend's record. See Store for the
// contract.
func (s *ServerStore) New(ctx *fasthttp.RequestCtx, name string) (*Session, error) {
	session := newStoreSession(ctx, s, name, s.Options)
	loaded, err := s.load(ctx, session)
	if !loaded {
		session.afresh(s.Options)
	}
	if err != nil && badCookie(err) {
		// Tell the client to drop the token it sent, so that it does not
		// send it (and have it refused) again.
		del := *s.Options
		del.MaxAge = -1
		if checkCookie(name, &del) == nil {
			s.sendToken(ctx, name, session.server.tokenFrom, nil, &del, s.now())
		}
	}
	return session, sessionError(name, err)
}

// Save writes the session's record and sets its ID cookie. See Store and
// ServerStore for what each MaxAge does, renewal and revocation.
func (s *ServerStore) Save(ctx *fasthttp.RequestCtx, session *Session) error {
	return sessionError(session.name, s.save(ctx, session))
}

func (s *ServerStore) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

// ttl is how long the record of a session with these options lives after a
// Save, before its timeouts cut it short.
func (s *ServerStore) ttl(o *Options) time.Duration {
	if o.MaxAge > 0 {
		return time.Duration(min(o.MaxAge, maxCookieAge)) * time.Second
	}
	if s.BrowserSessionTTL > 0 {
		return s.BrowserSessionTTL
	}
	return defaultBrowserSessionTTL
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

// load fills session from the request's cookie and the record it names,
// and reports whether it did; when it did not, New makes session a new one.
// The error is what New reports.
func (s *ServerStore) load(ctx *fasthttp.RequestCtx, session *Session) (bool, error) {
	name := session.name
	if err := s.ready(); err != nil {
		return false, err
	}
	cookie, fromHeader, err := s.requestToken(ctx, name)
	if err != nil || len(cookie) == 0 {
		return false, err
	}
	session.server.tokenFrom = tokenCookie
	if fromHeader {
		session.server.tokenFrom = tokenHeader
	}
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
		return false, wrapError("loading record", err)
	}
	saved, err := s.decodeRecord(id, data, session)
	dropped := err != nil && isDropped(err)
	switch {
	case dropped:
		// Values that no longer decode are dropped alone; the rest loads.
	case errors.Is(err, ErrCookieExpired):
		return false, nil
	case err != nil:
		return false, recordError(err)
	}
	now := s.now()
	// The session's own lifetime, counted from its last save, bounds what
	// the backend reported.
	last := max(saved, signed)
	for _, d := range []time.Time{time.Unix(last, 0).Add(s.ttl(session.Options)), timeoutDeadline(session, last)} {
		if !d.IsZero() && (expires.IsZero() || d.Before(expires)) {
			expires = d
		}
	}
	if !now.Before(expires) {
		return false, nil
	}
	// The ID cookie's own date bounds the session, as CookieStore's does: a
	// stolen copy older than the session's MaxAge or IdleTimeout is refused
	// even while the user's own, newer cookie keeps the record alive.
	if d := timeoutDeadline(session, signed); !d.IsZero() && !now.Before(d) {
		session.server.cookieID = ""
		return false, fmt.Errorf("%w: the ID cookie's MaxAge or idle timeout ended at %v",
			ErrCookieExpired, d.UTC().Format(time.RFC3339))
	}
	session.ID = id
	session.IsNew = false
	session.server.loadedID = id
	session.server.expires = expires
	session.server.indexedUser = session.user
	if dropped {
		return true, recordError(err)
	}
	return true, nil
}

// decodeRecord decodes a record of id into session and returns when it was
// saved. A record that is not bound to id is read as gorilla/sessions
// wrote it (signed under the cookie name), unless RejectUnboundRecords.
func (s *ServerStore) decodeRecord(id string, data []byte, session *Session) (int64, error) {
	session.server.recordName = recordName(id)
	saved, err := decodeValues(s.Codecs, session.server.recordName, data, session)
	if err == nil || s.RejectUnboundRecords || !errors.Is(err, ErrCookieInvalid) {
		return saved, err
	}
	session.Values = nil // gob merges into an existing map
	if legacy, lerr := decodeValues(s.Codecs, session.name, data, session); lerr == nil {
		return legacy, nil
	}
	return 0, err
}

// save implements Save; see Backend for the atomicity it relies on.
func (s *ServerStore) save(ctx *fasthttp.RequestCtx, session *Session) error {
	opts := session.options(s.Options)
	if err := s.ready(); err != nil {
		return err
	}
	if s.TokenOnly {
		// No cookie is written: only the name (which signs the token) and
		// the lifetime must be valid.
		if !validName(session.name) {
			return errInvalidName(session.name)
		}
		if opts.MaxAge > maxCookieAge {
			return checkCookie(session.name, &Options{MaxAge: opts.MaxAge})
		}
	} else if err := checkCookie(session.name, opts); err != nil {
		return err
	}
	st := &session.server
	if session.ID != st.loadedID {
		return fmt.Errorf("%w: the session's ID was changed by hand (%q); call RenewID to give it a new one",
			ErrInvalidOptions, session.ID)
	}
	if len(session.user) > maxUserKey {
		return fmt.Errorf("%w: a user key of %d bytes (at most %d)", ErrInvalidOptions, len(session.user), maxUserKey)
	}
	now := s.now()
	if opts.MaxAge < 0 {
		return s.logout(ctx, session, opts, now)
	}
	if st.revoked {
		return ErrSessionRevoked
	}
	if st.loadedID != "" && !now.Before(st.expires) {
		// The record expired while the request ran: the session is over.
		// Its values are not carried to a new ID (that would let a request
		// that loaded it just before its deadline outlive the idle and
		// absolute timeouts, or a logout that happened meanwhile); what is
		// saved is a new, empty session under a new ID.
		if err := s.Backend.Delete(ctx, st.loadedID); err != nil && !errors.Is(err, ErrRecordNotFound) {
			return wrapError("deleting the expired record", err)
		}
		s.indexRemove(ctx, st.indexedUser, st.loadedID)
		session.afresh(s.Options)
		opts = session.Options
		session.server = serverState{tokenFrom: st.tokenFrom}
		session.ID = ""
	}
	if session.user != "" && session.user != st.indexedUser {
		// Bound to a user by this request (a login): what a "your
		// devices" page shows of it.
		session.agent = string(ctx.UserAgent()[:min(len(ctx.UserAgent()), maxUserAgent)])
	}
	markCreated(session, opts, now)
	ttl := s.recordTTL(session, opts, now)

	var id string
	var err error
	switch {
	case st.loadedID != "" && st.renew:
		id, err = s.renew(ctx, session, opts, ttl, now)
	case st.loadedID != "":
		id = st.loadedID
		err = s.update(ctx, session, opts, ttl)
	default:
		id, err = s.create(ctx, session, opts, ttl)
	}
	if err != nil {
		return err
	}
	session.ID = id
	from := session.server.tokenFrom
	rname := session.server.recordName
	if id != session.server.loadedID {
		rname = ""
	}
	session.server = serverState{cookieID: id, loadedID: id, expires: now.Add(ttl), indexedUser: session.user, tokenFrom: from, recordName: rname}
	return s.setToken(ctx, session.name, from, id, opts, now)
}

// setToken sends the signed ID of the session named name: its cookie, or
// its TokenHeader (see sendToken).
func (s *ServerStore) setToken(ctx *fasthttp.RequestCtx, name string, from uint8, id string, opts *Options, now time.Time) error {
	b := getBuffer()
	defer putBuffer(b)
	var err error
	if b.B, err = encodeFirst(s.Codecs, b.B[:0], name, id); err != nil {
		return wrapError("encoding the ID", err)
	}
	s.sendToken(ctx, name, from, b.B, opts, now)
	return nil
}

// update writes a loaded session back under its ID, only while its record
// lives.
func (s *ServerStore) update(ctx context.Context, session *Session, opts *Options, ttl time.Duration) error {
	id, indexed := session.server.loadedID, session.server.indexedUser
	b := getBuffer()
	defer putBuffer(b)
	var err error
	name := session.server.recordName
	if name == "" {
		name = recordName(id)
	}
	if b.B, err = encodeValues(s.Codecs, b.B[:0], name, session, opts, s.Options); err != nil {
		return err
	}
	if session.user != indexed {
		if err := s.indexAdd(ctx, session.user, id); err != nil {
			return err
		}
	}
	err = s.Backend.Update(ctx, id, b.B, ttl)
	if errors.Is(err, ErrRecordNotFound) {
		// Destroyed or renewed by another request since this one loaded
		// it: never bring it back.
		s.revoke(session)
		return ErrSessionRevoked
	}
	if err != nil {
		return wrapError("saving record", err)
	}
	return nil
}

// create stores the session under a new ID and returns the ID.
func (s *ServerStore) create(ctx context.Context, session *Session, opts *Options, ttl time.Duration) (string, error) {
	b := getBuffer()
	defer putBuffer(b)
	for range 3 {
		id, err := newID(s.Rand)
		if err != nil {
			return "", err
		}
		if b.B, err = encodeValues(s.Codecs, b.B[:0], recordName(id), session, opts, s.Options); err != nil {
			return "", err
		}
		// The index first: a live record bound to a user is always in the
		// user's index (see UserIndex).
		if err := s.indexAdd(ctx, session.user, id); err != nil {
			return "", err
		}
		err = s.Backend.Create(ctx, id, b.B, ttl)
		if err == nil {
			return id, nil
		}
		s.indexRemove(ctx, session.user, id)
		if !errors.Is(err, ErrRecordExists) {
			return "", wrapError("saving record", err)
		}
	}
	return "", fmt.Errorf("saving record: %w: three new IDs were taken (is Rand random?)", ErrRecordExists)
}

// revoke marks session as revoked: it keeps its values for the request to
// read, but no Save will ever write them again, under its ID or another.
// A logout of it still deletes what its cookie names.
func (s *ServerStore) revoke(session *Session) {
	session.server = serverState{cookieID: session.server.cookieID, tokenFrom: session.server.tokenFrom, revoked: true}
	session.ID = ""
}

// deleteQuietly removes a record this request has just written and must not
// keep, and its entry in the user index.
func (s *ServerStore) deleteQuietly(ctx context.Context, id, user string) error {
	if err := s.Backend.Delete(ctx, id); err != nil && !errors.Is(err, ErrRecordNotFound) {
		return wrapError("deleting record", err)
	}
	s.indexRemove(ctx, user, id)
	return nil
}

// maxUserKey bounds the user key of a session (SetUser), and maxUserAgent
// the User-Agent kept with a session bound to a user.
const (
	maxUserKey   = 1024
	maxUserAgent = 256
)

// indexAdd adds id to the set of user in the backend's user index, if the
// backend has one and user is not "".
func (s *ServerStore) indexAdd(ctx context.Context, user, id string) error {
	ui, ok := s.Backend.(UserIndex)
	if !ok || user == "" {
		return nil
	}
	if err := ui.AddUserID(ctx, user, id); err != nil && !errors.Is(err, errors.ErrUnsupported) {
		return wrapError("adding the session to its user's index", err)
	}
	return nil
}

// indexRemove removes id from the set of user once this store deleted its
// record (never on a mere absence: the record may be about to be created;
// see UserIndex). A failure leaves an entry that names a record that is
// gone, which UserSessions and RevokeUser skip and the backend's cleanup
// removes.
func (s *ServerStore) indexRemove(ctx context.Context, user, id string) {
	if ui, ok := s.Backend.(UserIndex); ok && user != "" {
		_ = ui.RemoveUserID(ctx, user, id)
	}
}
