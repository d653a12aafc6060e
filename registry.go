package sessions

import (
	"errors"
	"fmt"
	"reflect"

	"github.com/valyala/fasthttp"
)

// Registry caches the sessions of one request, so that every handler and
// middleware that asks for a session name gets the same *Session, and saves
// them all in one call.
//
// A Registry belongs to its request and is not safe for concurrent use. It
// is valid from GetRegistry until the request ends (fasthttp releases it
// after the response is written) or until Clear; after that its methods do
// nothing but return an error, whatever requests came since, so a Registry
// kept too long can never reach another request's sessions.
type Registry struct {
	ctx      *fasthttp.RequestCtx
	sessions []registryEntry
	// inline holds the first sessions, so that a request allocates one
	// Registry and nothing more for them.
	inline   [2]registryEntry
	released bool
	// spare is the first session a store creates for this request (see
	// newStoreSession): allocated with the Registry, it makes the Registry
	// cost no allocation of its own.
	spare      Session
	spareTaken bool
}

// registryCloser is a Registry as the request's user values hold it: an
// io.Closer, which fasthttp closes after the request, releasing the
// Registry, without an exported Close on Registry itself.
type registryCloser Registry

// Close releases the registry at the end of the request.
func (c *registryCloser) Close() error {
	(*Registry)(c).release()
	return nil
}

// requestRegistry returns the Registry of the request, or nil when it has
// none.
func requestRegistry(ctx *fasthttp.RequestCtx) *Registry {
	c, _ := ctx.UserValue(registryKey{}).(*registryCloser)
	return (*Registry)(c)
}

type registryEntry struct {
	name    string
	store   Store
	session *Session
	err     error
}

// registryKey is the user-value key of the request's Registry. It is an
// unexported type, so no other package can read or overwrite the value.
type registryKey struct{}

// errRegistryReleased is returned by a Registry used after its request
// ended or after Clear.
var errRegistryReleased = errors.New("sessions: the Registry was released (its request ended, or Clear was called)")

// GetRegistry returns the Registry of the request, creating it on first use.
//
// The registry lives in the request's user values (ctx.SetUserValue), which
// fasthttp resets after every request, releasing the registry. So sessions
// never leak into the next request served with the same *RequestCtx, and
// calling Clear is optional.
func GetRegistry(ctx *fasthttp.RequestCtx) *Registry {
	if r := requestRegistry(ctx); r != nil {
		return r
	}
	// A Registry is not pooled: one that a handler kept after its request
	// must stay inert instead of becoming another request's.
	r := &Registry{ctx: ctx}
	r.sessions = r.inline[:0]
	ctx.SetUserValue(registryKey{}, (*registryCloser)(r))
	return r
}

// Get returns the session named name from store. The first call for a name
// loads it with store.New; later calls in the same request return the same
// session and the same error, without decoding the cookie again.
//
// It never returns a nil session. An invalid cookie name, or a name that
// another store already holds in this request (two stores cannot share one
// cookie), yields a new session and an error wrapping ErrInvalidName.
func (r *Registry) Get(store Store, name string) (*Session, error) {
	if r.released {
		return NewSession(store, name), errRegistryReleased
	}
	if !validName(name) {
		return NewSession(store, name), errInvalidName(name)
	}
	key := registryStore(store)
	for i := range r.sessions {
		if e := &r.sessions[i]; e.name == name {
			if !sameStore(e.store, key) {
				return NewSession(store, name), fmt.Errorf("%w: cookie %q is already used by another store (%T) in this request",
					ErrInvalidName, name, e.store)
			}
			return e.session, e.err
		}
	}
	s, err := store.New(r.ctx, name)
	if s == nil {
		s = NewSession(store, name)
	}
	r.sessions = append(r.sessions, registryEntry{name: name, store: key, session: s, err: err})
	return s, err
}

// registryStore returns the store that stands for store in the Registry:
// the *ServerStore of a store that embeds one, so that a FilesystemStore and
// its ServerStore count as one store.
func registryStore(store Store) Store {
	if s, ok := store.(interface{ serverStore() *ServerStore }); ok {
		return s.serverStore()
	}
	return store
}

// sameStore reports whether a and b are the same store, without the panic
// that == gives for a store of a type that is not comparable.
func sameStore(a, b Store) bool {
	ta, tb := reflect.TypeOf(a), reflect.TypeOf(b)
	return ta == tb && ta != nil && ta.Comparable() && a == b
}

// Save saves every session of the registry with its own store, and returns
// the errors of those that failed, joined with errors.Join, each naming its
// session.
//
// A session that is new and still empty (no values, no user) is skipped:
// there is nothing to keep, and saving it would give every visitor that
// merely looked at a page a cookie and, with a server-side store, a record.
// (gorilla/sessions saves it; call session.Save to force it.)
func (r *Registry) Save(ctx *fasthttp.RequestCtx) error {
	if r.released {
		return errRegistryReleased
	}
	var errs []error
	for i := range r.sessions {
		s := r.sessions[i].session
		if s.IsNew && len(s.Values) == 0 && s.user == "" && s.server.loadedID == "" &&
			(s.Options == nil || s.Options.MaxAge >= 0) {
			continue
		}
		if err := s.Save(ctx); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// newStoreSession returns a new session of store for the request ctx with
// a copy of opts and nil Values: the caller decodes the values into it, or
// calls afresh. The first one of a request that has a Registry is the
// Registry's spare.
func newStoreSession(ctx *fasthttp.RequestCtx, store Store, name string, opts *Options) *Session {
	var s *Session
	if r := requestRegistry(ctx); r != nil && !r.spareTaken && !r.released {
		r.spareTaken = true
		s = &r.spare
	} else {
		s = new(Session)
	}
	*s = Session{IsNew: true, store: store, name: name, opts: *opts}
	s.Options = &s.opts
	return s
}

// release forgets the sessions for good.
func (r *Registry) release() {
	clear(r.inline[:])
	r.sessions = nil
	r.ctx = nil
	r.released = true
}

// Save saves every session of the request's Registry: it is
// GetRegistry(ctx).Save(ctx), and does nothing when no session was used.
// Like Registry.Save it skips sessions that are new and still empty.
// Call it before the handler returns; a cookie set after the response is
// written never reaches the client.
func Save(ctx *fasthttp.RequestCtx) error {
	if r := requestRegistry(ctx); r != nil {
		return r.Save(ctx)
	}
	return nil
}

// Clear releases the request's Registry now, forgetting its sessions
// without saving them; the request gets a new Registry if it asks again.
// It is optional: fasthttp releases the registry after every request
// anyway. It exists for code ported from gorilla/context and
// clevergo/sessions, and for long handlers that want the memory back early.
// A second call does nothing.
func Clear(ctx *fasthttp.RequestCtx) {
	if r := requestRegistry(ctx); r != nil {
		ctx.RemoveUserValue(registryKey{})
		r.release()
	}
}
