package sessions

import (
	"errors"
	"io"
	"time"

	"github.com/fasthttp-sessions/sessions/internal/backendkit"
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
// FilesystemStore, MemoryStore and the redisstore and pgstore modules,
// exported so that a store for any other backend needs only to implement
// Backend; sessions of a store that embeds a *ServerStore report that
// *ServerStore as their Store.
//
// What it does for every backend:
//   - IDs of 32 random bytes (52 characters of A–Z and 2–7), checked before
//     they touch the backend; a cookie naming a missing record yields a new
//     session with a new ID, never one under an ID the client chose;
//   - the ID cookie and the record, both encoded with Codecs, which sign
//     (and encrypt) them and date them; a record is signed under its ID, so
//     that a record copied under another ID does not load;
//   - expiry: a record lives for the session's MaxAge after each write (a
//     Save of a changed session, or a refresh of an unchanged one, see
//     RefreshAfter), or BrowserSessionTTL for a browser-session cookie
//     (MaxAge 0), cut short by its IdleTimeout and AbsoluteTimeout; an ID
//     cookie signed longer ago than the session's MaxAge or IdleTimeout is
//     refused, as CookieStore refuses such a cookie;
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

	// RefreshAfter is how long after a session's token (its ID cookie or
	// header) was last signed a Save of it, unchanged, refreshes its expiry
	// anyway (extends the record's life with Toucher.Touch, or rewrites it,
	// and re-signs the token). Between refreshes, a Save of a session whose
	// values and Options are unchanged writes nothing and sends no cookie,
	// and a Save that changes its values rewrites the record but sends no
	// token either: the client's names the same ID and is young enough. A
	// new ID (a new session, RenewID) or a change of Options always sends
	// one. Zero (the default) means a tenth
	// of the session's shortest sliding lifetime: the least of its MaxAge,
	// its IdleTimeout and the store's MaxAge, and BrowserSessionTTL for a
	// browser-session cookie; so a session with a 30-minute idle timeout is
	// refreshed at most every 3 minutes while it is used, and ends 27 to 30
	// minutes after its last request. A positive value is taken as it is, up
	// to half that lifetime; a negative one refreshes on every Save (every
	// Save writes).
	RefreshAfter time.Duration

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
	if del := deletionFor(name, s.Options, err); del != nil {
		s.sendToken(ctx, name, session.server.tokenFrom, nil, del, s.now())
	}
	return session, sessionError(name, err)
}

// Save writes the session's record, and sets its ID cookie when the ID or
// the Options changed or a refresh is due (see RefreshAfter). See Store and
// ServerStore for what each MaxAge does, renewal and revocation.
func (s *ServerStore) Save(ctx *fasthttp.RequestCtx, session *Session) error {
	return sessionError(session.name, s.save(ctx, session))
}

func (s *ServerStore) now() time.Time { return backendkit.Now(s.Now) }

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
	if o.IdleTimeout > 0 {
		ttl = min(ttl, o.IdleTimeout)
	}
	if o.AbsoluteTimeout > 0 && session.created != 0 {
		ttl = min(ttl, time.Unix(session.created, 0).Add(o.AbsoluteTimeout).Sub(now))
	}
	return max(ttl, time.Second)
}
