package sessions

import (
	"encoding/gob"
	"fmt"
	"math"
	"reflect"
	"strconv"
	"time"

	"github.com/valyala/fasthttp"
)

// flashesKey is the key under which AddFlash stores flashes when no other
// key is given; the same as gorilla/sessions, so that flashes interoperate.
const flashesKey = "_flash"

// Session holds the values of one named session of one request.
//
// A Session is not safe for concurrent use: it belongs to the request that
// loaded it. Values is a plain map owned by the session; stores serialize it
// on Save and never share it with another request.
type Session struct {
	// ID identifies the session in a server-side store. It is empty for
	// cookie sessions, and for a server-side session until its first Save.
	// The store sets it: call RenewID to give a session a new ID. A Save of
	// a server-side session whose ID was changed by hand fails with an
	// error wrapping ErrInvalidOptions (gorilla/sessions honours an ID set
	// on a new session and silently replaces one set on a loaded session;
	// one rule is simpler, and IDs chosen by the application invite
	// session fixation).
	ID string

	// Values are the session's data. Keys and values must be encodable by
	// the store's serializer: the default encodes the common types itself
	// and any other type with encoding/gob, which needs gob.Register.
	Values map[any]any

	// Options are the cookie attributes used when the session is saved. The
	// store copies its own Options into each session it creates, so this
	// session's Options may be changed without affecting others.
	Options *Options

	// IsNew is true when the session was not loaded from a valid cookie (or
	// a live record) of this request.
	IsNew bool

	store Store
	name  string

	// created is when the session was first saved (Unix seconds), kept
	// only for sessions with an absolute lifetime; 0 when unknown.
	created int64

	// from is the ID this server-side session was renewed from, kept so
	// that its logout removes that ID's forwarding marker (see revoke.go).
	from string

	// snap is what the store remembers of the session as loaded or last
	// written, to write only what changed (see change.go).
	snap snapshot

	// user is the user key the session is bound to (SetUser), and agent
	// the User-Agent of the request that bound it; both are saved with
	// the values.
	user, agent string

	// opts holds the copy of the store's Options that the stores of this
	// package point Options at, saving an allocation per request.
	opts Options

	// server is the bookkeeping of server-side stores (see ServerStore).
	server serverState
}

// NewSession returns a new, empty session for the store and cookie name,
// with IsNew set and empty Options. Stores call it from their New method and
// then copy their own Options into it.
func NewSession(store Store, name string) *Session {
	s := &Session{store: store, name: name}
	return s.afresh(&Options{})
}

// afresh makes s a new, empty session with a copy of opts, as a store
// returns it when there is no usable cookie or record, and returns s.
func (s *Session) afresh(opts *Options) *Session {
	if s.Values == nil {
		s.Values = make(map[any]any)
	} else {
		clear(s.Values)
	}
	s.opts = *opts
	s.Options = &s.opts
	s.created = 0
	s.from = ""
	s.user, s.agent = "", ""
	s.snap = snapshot{}
	s.IsNew = true
	return s
}

// options returns the session's Options, or fallback (the store's) when
// they were set to nil.
func (s *Session) options(fallback *Options) *Options {
	if s.Options != nil {
		return s.Options
	}
	return fallback
}

// Name returns the name of the session, which is the name of its cookie.
func (s *Session) Name() string { return s.name }

// Store returns the store that created the session.
func (s *Session) Store() Store { return s.store }

// Save saves the session with its store: it is a shortcut for
// s.Store().Save(ctx, s). Call it, or the package-level Save, before the
// handler returns: fasthttp writes the headers after the handler returns,
// and a cookie set later never reaches the client.
func (s *Session) Save(ctx *fasthttp.RequestCtx) error {
	if s.store == nil {
		return fmt.Errorf("%w: session %q has no store", ErrInvalidOptions, s.name)
	}
	return s.store.Save(ctx, s)
}

// AddFlash adds a flash message to the session. A flash lasts until it is
// read with Flashes. The optional vars[0] is the key to store it under;
// the default is "_flash", as in gorilla/sessions.
func (s *Session) AddFlash(value any, vars ...string) {
	key := flashKey(vars)
	flashes, _ := s.Values[key].([]any)
	s.Values[key] = append(flashes, value)
}

// Flashes returns the flash messages stored under vars[0] (default
// "_flash") and removes them from the session, so that each is seen once.
// Save the session afterwards to make the removal stick. It returns nil when
// there are none.
func (s *Session) Flashes(vars ...string) []any {
	key := flashKey(vars)
	v, ok := s.Values[key]
	if !ok {
		return nil
	}
	delete(s.Values, key)
	flashes, _ := v.([]any)
	return flashes
}

// flashKey returns vars[0], or flashesKey when vars is empty.
func flashKey(vars []string) string {
	if len(vars) > 0 {
		return vars[0]
	}
	return flashesKey
}

// Get returns the value stored under key, or nil when there is none.
func (s *Session) Get(key any) any { return s.Values[key] }

// Set stores value under key.
func (s *Session) Set(key, value any) { s.Values[key] = value }

// Delete removes the value stored under key, if any.
func (s *Session) Delete(key any) { delete(s.Values, key) }

// GetString returns the string stored under key, or "" when the key is
// missing or holds another type.
func (s *Session) GetString(key any) string {
	v, _ := s.Values[key].(string)
	return v
}

// GetInt returns the value under key as an int, converted as GetInt64
// converts it, when it fits. The error wraps ErrValueMissing or
// ErrValueType.
func (s *Session) GetInt(key any) (int, error) {
	n, err := s.GetInt64(key)
	if err != nil {
		return 0, err
	}
	if n < math.MinInt || n > math.MaxInt {
		return 0, fmt.Errorf("%w: %v does not fit in an int", ErrValueType, n)
	}
	return int(n), nil
}

// GetInt64 returns the value under key as an int64. A value of any integer
// kind converts when it fits (named types such as `type Role int` too), and
// so does a string holding a decimal integer. The error wraps
// ErrValueMissing or ErrValueType.
func (s *Session) GetInt64(key any) (int64, error) {
	v, ok := s.Values[key]
	if !ok {
		return 0, fmt.Errorf("%w: %v", ErrValueMissing, key)
	}
	switch rv := reflect.ValueOf(v); {
	case rv.CanInt():
		return rv.Int(), nil
	case rv.CanUint() && rv.Uint() > math.MaxInt64:
		return 0, fmt.Errorf("%w: %v does not fit in an int64", ErrValueType, v)
	case rv.CanUint():
		return int64(rv.Uint()), nil
	}
	n, ok := v.(string)
	if !ok {
		return 0, fmt.Errorf("%w: %v holds %T, not an integer", ErrValueType, key, v)
	}
	i, err := strconv.ParseInt(n, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("%w: %q is not a decimal integer: %w", ErrValueType, n, err)
	}
	return i, nil
}

// GetFloat64 returns the value under key as a float64. A value of any
// float or integer kind converts, and so does a string holding a decimal
// number. The error wraps ErrValueMissing or ErrValueType.
func (s *Session) GetFloat64(key any) (float64, error) {
	v, ok := s.Values[key]
	if !ok {
		return 0, fmt.Errorf("%w: %v", ErrValueMissing, key)
	}
	switch rv := reflect.ValueOf(v); {
	case rv.CanFloat():
		return rv.Float(), nil
	case rv.CanInt():
		return float64(rv.Int()), nil
	case rv.CanUint():
		return float64(rv.Uint()), nil
	}
	f, ok := v.(string)
	if !ok {
		return 0, fmt.Errorf("%w: %v holds %T, not a number", ErrValueType, key, v)
	}
	x, err := strconv.ParseFloat(f, 64)
	if err != nil {
		return 0, fmt.Errorf("%w: %q is not a number: %w", ErrValueType, f, err)
	}
	return x, nil
}

// GetBool returns the value under key as a bool. A string converts as
// strconv.ParseBool does ("true", "false", "1", "0", ...). The error wraps
// ErrValueMissing or ErrValueType.
func (s *Session) GetBool(key any) (bool, error) {
	v, ok := s.Values[key]
	if !ok {
		return false, fmt.Errorf("%w: %v", ErrValueMissing, key)
	}
	switch b := v.(type) {
	case bool:
		return b, nil
	case string:
		x, err := strconv.ParseBool(b)
		if err != nil {
			return false, fmt.Errorf("%w: %q is not a boolean: %w", ErrValueType, b, err)
		}
		return x, nil
	}
	return false, fmt.Errorf("%w: %v holds %T, not a bool", ErrValueType, key, v)
}

// RenewID asks a server-side store to give the session a new ID on its next
// Save, keeping its values: the record under the old ID is removed and the
// old cookie finds nothing any more. Call it when the user logs in (or their
// privileges change) to defeat session fixation. A logout that raced the
// renewal, from a request that still held the old ID, ends the renewed
// session too. Cookie stores have no ID, and ignore it.
func (s *Session) RenewID() { s.server.renew = true }

// SetUser binds the session to an application's user key, such as the
// user's ID, so that all the sessions of one user can be listed and ended
// together ("log out everywhere": ServerStore.UserSessions, Revoke and
// RevokeUser); "" unbinds it. The binding is saved with the session and
// survives RenewID: the usual login is SetUser, RenewID, then Save. A user
// key is at most 1024 bytes (Save refuses a longer one with an error
// wrapping ErrInvalidOptions). CookieStore sessions carry it too, but a
// cookie session cannot be listed or revoked.
func (s *Session) SetUser(user string) { s.user = user }

// User returns the user key the session is bound to, or "".
func (s *Session) User() string { return s.user }

// Handle returns a handle of the session: a non-secret name of it, that a
// "your devices" page may show and hand back to ServerStore.Revoke. It is
// "" until the session has an ID (a server-side session once saved), and
// changes when the ID is renewed. It is a truncated SHA-256 of the ID: it
// cannot be turned into the ID, nor used as a cookie.
func (s *Session) Handle() string {
	if s.ID == "" {
		return ""
	}
	return handleOf(s.ID)
}

// serverState is what a server-side store remembers about the record a
// session was loaded from.
type serverState struct {
	// cookieID is the ID the request's cookie carried, once its signature
	// was verified, even when its record could not be loaded: a logout
	// deletes it.
	cookieID string
	// loadErr is the backend's error when the record cookieID names could
	// not be read: a Save keeps the cookie rather than replace the session,
	// which may live on, with a new one, unless the record still cannot be
	// read and can be deleted (see clearUnreadable).
	loadErr error
	// loadedID is the ID of the record the session was loaded from, or ""
	// when the session is new or its record was removed by a Save.
	loadedID string
	// loaded is the record as the backend returned it, while nothing in
	// this request wrote it: a refresh that must rewrite it checks that no
	// other request did (see refresh).
	loaded []byte
	// expires is when that record expires: the earliest of what the
	// backend reported at load time and the session's own limits (its
	// MaxAge or BrowserSessionTTL, idle timeout, absolute lifetime), then
	// now plus the TTL of each Save.
	expires time.Time
	// renew asks the next Save to move the session to a new ID.
	renew bool
	// revoked marks a session whose record another request destroyed or
	// renewed away: every later Save of it fails with ErrSessionRevoked.
	revoked bool
	// quiet marks a session revoked while it was only read (a refresh found
	// its record gone): a Save of it unchanged is no error.
	quiet bool
	// indexedUser is the user key under which loadedID is in the
	// backend's user index: the session's user when it was loaded or last
	// saved.
	indexedUser string
	// tokenFrom says where the request's token came from (tokenNone,
	// tokenCookie, tokenHeader): Save answers there.
	tokenFrom uint8
	// recordName is recordName(loadedID), kept from the load for the
	// save ("" when not computed yet).
	recordName string
}

func init() {
	// Flashes are stored as []any; gob needs the type registered to encode
	// it inside the Values map, as gorilla/sessions registers it.
	gob.Register([]any{})
}
