// Package sessions provides cookie and server-side sessions for fasthttp.
//
// It is a port of github.com/gorilla/sessions to github.com/valyala/fasthttp:
// the same stores, Session, Options, flashes and key rotation, with a
// *fasthttp.RequestCtx in place of the *http.Request and http.ResponseWriter.
// Cookies are signed, and optionally encrypted, in the format of
// github.com/gorilla/securecookie, by Codec, a faster implementation of it;
// values are serialized by CompactSerializer, a compact binary format that
// also reads the gob data gorilla/sessions writes.
//
// # Quick start
//
//	var store = sessions.NewCookieStore(hashKey, blockKey)
//
//	func handler(ctx *fasthttp.RequestCtx) {
//		session, err := store.Get(ctx, "session")
//		if err != nil {
//			// A cookie that is invalid, tampered with or expired: session
//			// is a new, empty one, which can be used as is.
//			log.Printf("session: %v", err)
//		}
//		visits, _ := session.GetInt("visits")
//		session.Values["visits"] = visits + 1
//		if err := session.Save(ctx); err != nil {
//			ctx.Error("internal error", fasthttp.StatusInternalServerError)
//			return
//		}
//		fmt.Fprintf(ctx, "visit %d", visits+1)
//	}
//
// The hash key signs the cookie and the block key, which may be nil,
// encrypts it: NewCookieStore says which keys it takes and how to generate
// them. A refused key fails every Save, and every Get of a cookie, with an
// error wrapping ErrInvalidKey that says what is wrong (the store's Check
// tells at start-up). Load the keys from configuration: new keys make
// every existing cookie invalid.
//
// Save before the handler returns. fasthttp writes the response headers
// after the handler returns, so saving after writing the body is fine, but
// a cookie set after the handler returned (from another goroutine, or from
// an io.Closer that fasthttp runs when it resets the request) never reaches
// the client.
//
// A complete application with login, logout, flashes and "remember me" is
// in examples/basic: go run ./examples/basic.
//
// # Stores
//
// Every store implements Store; its documentation states the contract they
// all follow.
//
//   - CookieStore keeps the whole session in the cookie. Nothing is stored
//     on the server, so it needs no cleanup and works across any number of
//     servers, but a session cannot be revoked before it expires and its
//     size is limited (see "Cookie size" below).
//   - FilesystemStore and MemoryStore keep the values on the server and
//     only a signed, encrypted ID in the cookie (or, for clients without
//     cookies, in a header: ServerStore.TokenHeader). They are built on
//     ServerStore, which does the ID, cookie, expiry, renewal and
//     revocation work for any Backend; the redisstore and pgstore modules
//     provide Redis and PostgreSQL backends. ServerStore also lists and
//     ends the sessions of one user (UserSessions, Revoke, RevokeUser) on
//     a backend that keeps a UserIndex.
//
// A Save of a session that did not change since it was loaded writes
// nothing and sends no cookie, except, now and then, to refresh its expiry
// (see the stores' RefreshAfter). Middleware saves every session a handler
// changed, after the handler.
//
// A store is safe for concurrent use once configured: set its Options and
// codecs before serving requests, and call its Check method at start-up. A
// Session belongs to the request that loaded it and is not safe for
// concurrent use.
//
// Errors start with "sessions: " and wrap the sentinel errors of this
// package (ErrCookieInvalid, ErrCookieExpired, ErrCookieTooLong,
// ErrInvalidOptions, ...), to be matched with errors.Is. Get and New never
// return a nil session: with an invalid cookie they return a new session
// together with the error.
//
// # Options
//
// Every store holds default Options and copies them into each new session.
// The defaults of the stores of this package are:
//
//	Path:     "/"
//	MaxAge:   30 days (86400 * 30)
//	HttpOnly: true
//	SameSite: Lax
//	Secure:   false
//
// They differ from gorilla/sessions v1.4.0, whose CookieStore defaults to
// SameSite=None with Secure and no HttpOnly: browsers refuse a Secure
// cookie set over plain HTTP (except from localhost and 127.0.0.1), which
// silently broke sessions on plain-HTTP development servers and test
// setups, and SameSite=None offers the cookie to every cross-site request.
// Lax without Secure works over plain HTTP and keeps the cookie off
// cross-site subrequests and form POSTs. In production over HTTPS set
// Secure as well:
//
//	store.Options.Secure = true
//
// Cookie rules are checked on Save, which returns an error wrapping
// ErrInvalidOptions (and sets no cookie) rather than writing a cookie that
// browsers would drop: SameSite=None and Partitioned need Secure, the
// "__Host-", "__Secure-", "__Http-" and "__Host-Http-" name prefixes need
// their attributes, and a MaxAge may not exceed about 292 years.
//
// MaxAge > 0 makes a persistent cookie, MaxAge 0 a browser-session cookie
// (dropped when the browser closes), and MaxAge < 0 deletes the session on
// Save. A session's own Options may be changed without affecting other
// sessions, which is how "remember me" works:
//
//	if rememberMe {
//		session.Options.MaxAge = 30 * 24 * 3600
//	} else {
//		session.Options.MaxAge = 0
//	}
//
// A session whose MaxAge, IdleTimeout or AbsoluteTimeout differs from the
// store's keeps it on later requests, where gorilla/sessions starts from
// the store's Options again (see Options); the other attributes apply to
// the Saves of the request that set them. The stores carry those three
// with the values, under a reserved key hidden from Values, which an
// application running gorilla/sessions on the same cookie sees as one
// extra value. The store's MaxAge method also sets the codecs' MaxAge,
// which bounds every session's lifetime whatever the session's own MaxAge:
// give the store the longest (see Options.MaxAge).
//
// # Flashes
//
// Flash messages last until they are read: AddFlash stores one and Flashes
// returns them and removes them from the session, which must then be saved
// so that they are shown only once. They are kept under the "_flash" key
// (or the key given), as in gorilla/sessions.
//
// # Key rotation
//
// NewCookieStore and the other constructors take key pairs: the first pair
// encodes, all are tried in order to decode, so a new pair put first, with
// the old one after it, rotates the keys without ending any session (see
// NewCookieStore). Remove the old pair once the store's MaxAge has passed
// since the rotation: by then every cookie it signed has been re-encoded or
// has expired. The cookie name is signed too: renaming a cookie
// invalidates it.
//
// # The Registry
//
// store.Get returns the session from the request's Registry (see
// Registry.Get), so that middleware and handlers share one *Session per
// name; New always loads afresh and bypasses the Registry.
// sessions.Save(ctx) saves every session of the request, from all their
// stores, at once, except new sessions that are still empty (see
// Registry.Save). A cookie name belongs to one store: a second store
// asking for it in the same request gets an error wrapping ErrInvalidName
// (gorilla/sessions returns the first store's session).
//
// A cookie that a store refuses (tampered with, expired, signed with a
// retired key) is answered with a deletion cookie, so that the browser stops
// sending it; saving a new session under the name replaces it.
//
// fasthttp releases the Registry after every request (see GetRegistry):
// unlike gorilla/context, nothing leaks into the next request served with
// the same *RequestCtx, so Clear is optional.
//
// # Cookie size and fasthttp's ReadBufferSize
//
// A CookieStore cookie may be up to 4096 bytes once encoded (the codec's
// MaxLength; a larger session fails to save with ErrCookieTooLong), and
// encoding roughly doubles the size of the values. But
// fasthttp.Server.ReadBufferSize, 4096 bytes by default, bounds the whole
// request header, all its cookies included: a session cookie near
// MaxLength makes the server answer 431 Request Header Fields Too Large,
// before any handler runs, to every later request of that browser, logout
// included. Either raise the server's buffer:
//
//	server := &fasthttp.Server{Handler: handler, ReadBufferSize: 16 << 10}
//
// or keep cookie sessions small (an ID, a user name, a few flags) and keep
// anything larger in a server-side store. A fasthttp.Client that receives
// such a cookie needs a larger ReadBufferSize too. Browsers themselves
// limit a cookie's name and value to about 4096 bytes together.
//
// # Porting from gorilla/sessions
//
// The API is the same, with the request context in place of the request
// and response writer:
//
//	gorilla/sessions (net/http)             this package (fasthttp)
//	store.Get(r, "name")                    store.Get(ctx, "name")
//	store.New(r, "name")                    store.New(ctx, "name")
//	session.Save(r, w)                      session.Save(ctx)
//	store.Save(r, w, session)               store.Save(ctx, session)
//	sessions.Save(r, w)                     sessions.Save(ctx)
//	sessions.GetRegistry(r)                 sessions.GetRegistry(ctx)
//	context.Clear(r), context.ClearHandler  optional: sessions.Clear(ctx)
//	Options.SameSite http.SameSite          Options.SameSite fasthttp.CookieSameSite
//
// Check the defaults (see Options above): code that relied on gorilla's
// Secure default should set Secure explicitly. This package reads the
// cookies and session files of a gorilla/sessions application with the same
// cookie name and key pairs, in the same order; for gorilla to read the
// cookies this package writes, select gob on every codec:
//
//	store.SetSerializer(securecookie.GobEncoder{})
//
// gorilla cannot read the FilesystemStore files this package saves, whatever
// the serializer: they are signed under their ID. Migrating a folder from
// gorilla works; sharing one with a gorilla application does not.
//
// Custom types need gob.Register under the same names on both sides, and a
// stored pointer (&Cart{}) comes back as the value it points to (Cart), as
// with gob. Values written with gob are trusted: whatever is decoded has
// passed the codec's HMAC check first, as in gorilla/sessions.
//
// # Porting from clevergo/sessions
//
// clevergo/sessions, an earlier fasthttp port of gorilla/sessions, already
// took a *fasthttp.RequestCtx: store.Get(ctx, name) and session.Save(ctx)
// stay as they are. Replace the import, drop defer context.Clear(ctx) (or
// replace it with sessions.Clear(ctx)), and check the Options defaults as
// above.
package sessions
