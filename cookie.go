package sessions

import (
	"fmt"
	"time"

	"github.com/fasthttp-sessions/sessions/internal/backendkit"
	"github.com/gorilla/securecookie"
	"github.com/valyala/fasthttp"
)

// CookieStore keeps sessions in signed, and optionally encrypted, cookies.
//
// The whole session travels in the cookie: nothing is stored on the server,
// so it scales to any number of servers, but a session cannot be revoked
// before it expires and its encoded size is capped by the codec's MaxLength
// (4096 bytes by default) and by the server's ReadBufferSize (see the
// README).
//
// A CookieStore is safe for concurrent use once configured; set Codecs and
// Options before serving requests.
type CookieStore struct {
	// Codecs sign (and encrypt) the cookie. The first one encodes; all are
	// tried in order to decode, which is how keys are rotated.
	Codecs []securecookie.Codec

	// Options are copied into every new session.
	Options *Options

	// RefreshAfter is how long after a session was last written a Save of
	// it, unchanged, refreshes its expiry anyway (sends the cookie again,
	// signed anew). Between refreshes, a Save of a session whose values and
	// Options are unchanged writes nothing and sends no cookie. Zero (the
	// default) means a tenth of the session's shortest sliding lifetime: the
	// least of its MaxAge, its IdleTimeout and the store's MaxAge; so a
	// session with a 30-minute idle timeout is refreshed at most every 3
	// minutes while it is used, and ends 27 to 30 minutes after its last
	// request. A positive value is taken as it is, up to half that lifetime;
	// a negative one refreshes on every Save (every Save writes).
	RefreshAfter time.Duration

	// Now returns the current time, for the cookie's Expires and the
	// timeouts. Nil means time.Now; tests set it to move time forward
	// without sleeping.
	Now func() time.Time
}

// NewCookieStore returns a CookieStore for the given key pairs.
//
// Keys come in pairs: a hash key that signs the cookie with HMAC-SHA256
// (32 or 64 random bytes; at least 16), and a block key that encrypts it
// with AES, 16, 24 or 32 bytes long, or nil for signing only. The last block
// key may be left out. Generate them once, for example with
// securecookie.GenerateRandomKey(32) or openssl rand -hex 32, and load them
// from configuration; Check tells at start-up whether they are usable.
//
// To rotate keys, put the new pair first and keep the old pairs after it:
// cookies signed with an old pair still decode, and the next Save re-encodes
// them with the new pair, even when nothing else changed.
//
//	store := sessions.NewCookieStore(newHash, newBlock, oldHash, oldBlock)
//
// The store's Options default to Path "/", MaxAge 30 days, HttpOnly and
// SameSite=Lax, without Secure (set Secure in production over HTTPS).
func NewCookieStore(keyPairs ...[]byte) *CookieStore {
	s := &CookieStore{
		Codecs:  codecsFromPairs(keyPairs...),
		Options: defaultOptions(),
	}
	s.MaxAge(s.Options.MaxAge)
	setCodecsClock(s.Codecs, s.now)
	return s
}

// MaxAge sets the MaxAge of the store's Options and of every codec, so that
// cookies older than age seconds are rejected even when the browser still
// sends them. Zero disables the codecs' expiry check.
func (s *CookieStore) MaxAge(age int) {
	s.Options.MaxAge = age
	setCodecsMaxAge(s.Codecs, age)
}

// MaxLength limits the length of an encoded cookie, in bytes (default
// 4096, as securecookie's); 0 means no limit. A Save of a longer one fails
// with an error wrapping ErrCookieTooLong. Mind fasthttp's ReadBufferSize
// before raising it (see the README).
func (s *CookieStore) MaxLength(l int) {
	setCodecsMaxLength(s.Codecs, l)
}

// SetSerializer sets how every codec of the store turns values into bytes
// and back: nil restores the default, CompactSerializer; use
// securecookie.GobEncoder{} for cookies that gorilla/sessions must read.
// Codecs other than *Codec and *securecookie.SecureCookie are left alone.
// Whatever the serializer, the store reads both formats.
func (s *CookieStore) SetSerializer(sz securecookie.Serializer) {
	setCodecsSerializer(s.Codecs, sz)
}

// Check reports whether the store can work: whether its codecs have usable
// keys (a hash key of at least 16 bytes, a block key of 16, 24 or 32 bytes
// or none) and, for a codec of another type, whether its values carry the
// signed date the store needs. Call it at start-up and stop on its error;
// every Get and Save of a misconfigured store returns the same error.
func (s *CookieStore) Check() error { return checkCodecs(s.Codecs) }

// Get returns the session named name for this request, cached in the
// request's Registry. See Store for the contract.
func (s *CookieStore) Get(ctx *fasthttp.RequestCtx, name string) (*Session, error) {
	return GetRegistry(ctx).Get(s, name)
}

// New decodes the session named name from the request's cookie, or returns
// a new session when there is no valid cookie. See Store for the contract.
func (s *CookieStore) New(ctx *fasthttp.RequestCtx, name string) (*Session, error) {
	session := newStoreSession(ctx, s, name, s.Options)
	err := s.load(ctx, session)
	if err != nil {
		session.afresh(s.Options)
	}
	if del := deletionFor(name, s.Options, err); del != nil {
		setCookie(ctx, name, nil, del, s.now())
	}
	return session, sessionError(name, err)
}

// load decodes the request's cookie into session. With no cookie it makes
// session a new one; on error the caller does.
func (s *CookieStore) load(ctx *fasthttp.RequestCtx, session *Session) error {
	if err := checkCodecsProbe(s.Codecs, false); err != nil {
		return err
	}
	if !validName(session.name) {
		return errInvalidName(session.name)
	}
	value := ctx.Request.Header.Cookie(session.name)
	if len(value) == 0 {
		session.afresh(s.Options)
		return nil
	}
	saved, err := decodeValues(s.Codecs, session.name, value, session, s.Options)
	if err != nil {
		return err
	}
	if d := timeoutDeadline(session, saved); !d.IsZero() && !s.now().Before(d) {
		return fmt.Errorf("%w: its MaxAge, idle timeout or absolute lifetime ended at %v",
			ErrCookieExpired, d.UTC().Format(time.RFC3339))
	}
	session.IsNew = false
	return nil
}

// Save encodes the session's values into its cookie. With Options.MaxAge
// < 0 it sends a deletion cookie instead. On error no cookie is set.
func (s *CookieStore) Save(ctx *fasthttp.RequestCtx, session *Session) error {
	return sessionError(session.name, s.save(ctx, session))
}

func (s *CookieStore) save(ctx *fasthttp.RequestCtx, session *Session) error {
	if err := checkCodecsProbe(s.Codecs, false); err != nil {
		return err
	}
	opts := session.options(s.Options)
	if err := checkCookie(session.name, opts); err != nil {
		return err
	}
	now := s.now()
	if opts.MaxAge < 0 {
		setCookie(ctx, session.name, nil, opts, now)
		return nil
	}
	markCreated(session, opts, now)
	plain := getBuffer()
	defer putBuffer(plain)
	var err error
	if plain.B, err = serializeValues(plain.B[:0], session, opts, s.Options); err != nil {
		return err
	}
	if session.unchanged(plain.B, opts) &&
		!session.refreshDue(s.RefreshAfter, slidingWindow(opts, 0, codecMaxAge(s.Codecs)), now) {
		return nil // nothing to write, and the cookie the browser holds is good
	}
	b := getBuffer()
	defer putBuffer(b)
	if b.B, err = sealValues(s.Codecs, b.B[:0], session.name, plain.B, session, opts, s.Options); err != nil {
		return err
	}
	setCookie(ctx, session.name, b.B, opts, now)
	session.remember(plain.B, opts, now.Unix())
	return nil
}

func (s *CookieStore) now() time.Time { return backendkit.Now(s.Now) }
