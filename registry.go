package sessions

import (
	"errors"
	"fmt"
	"sync"

	"github.com/valyala/fasthttp"
)

// Registry caches the sessions of one request, so that every handler and
// middleware that asks for a session name gets the same *Session, and saves
// them all in one call.
//
// A Registry belongs to its request and is not safe for concurrent use. It
// is valid from GetRegistry until the request ends (fasthttp closes it after
// the response is written) or until Clear; do not keep it longer, since it
// is then reused for another request.
type Registry struct {
	ctx      *fasthttp.RequestCtx
	sessions []registryEntry
	// handle is what the request's user values hold: fasthttp closes it
	// after the request, and only it releases the registry then, so that a
	// Registry.Close of the application (which removes the handle first)
	// and fasthttp's close never both release it.
	handle registryHandle
}

// registryHandle is the io.Closer stored in the request's user values.
type registryHandle struct{ r *Registry }

// Close releases the registry at the end of the request.
func (h *registryHandle) Close() error {
	h.r.release()
	return nil
}

type registryEntry struct {
	name    string
	session *Session
	err     error
}

var registryPool = sync.Pool{New: func() any {
	r := &Registry{sessions: make([]registryEntry, 0, 4)}
	r.handle.r = r
	return r
}}

// Get returns the session named name from store. The first call for a name
// loads it with store.New; later calls in the same request return the same
// session and the same error, without decoding the cookie again.
//
// It never returns a nil session. An invalid cookie name yields a new
// session and an error wrapping ErrInvalidName.
func (r *Registry) Get(store Store, name string) (*Session, error) {
	for i := range r.sessions {
		if e := &r.sessions[i]; e.name == name {
			return e.session, e.err
		}
	}
	var (
		s   *Session
		err error
	)
	if !validName(name) {
		err = fmt.Errorf("%w: %q is not an HTTP token", ErrInvalidName, name)
	} else {
		s, err = store.New(r.ctx, name)
	}
	if s == nil {
		s = NewSession(store, name)
	}
	r.sessions = append(r.sessions, registryEntry{name: name, session: s, err: err})
	return s, err
}

// Save saves every session of the registry with its own store, and returns
// the errors of those that failed, joined with errors.Join, each naming its
// session.
//
// A session that is new and still empty is skipped: there is nothing to
// keep, and saving it would give every visitor that merely looked at a page
// a cookie and, with a server-side store, a record. (gorilla/sessions saves
// it; call session.Save to force it.)
func (r *Registry) Save(ctx *fasthttp.RequestCtx) error {
	var errs []error
	for i := range r.sessions {
		e := &r.sessions[i]
		if s := e.session; s.IsNew && len(s.Values) == 0 && s.server.loadedID == "" &&
			(s.Options == nil || s.Options.MaxAge >= 0) {
			continue
		}
		if err := e.session.Save(ctx); err != nil {
			errs = append(errs, fmt.Errorf("sessions: saving session %q: %w", e.name, err))
		}
	}
	return errors.Join(errs...)
}

// Close releases the registry now, as Clear does: it forgets its sessions
// without saving them and removes itself from the request, which then gets
// a new registry if it asks again. Calling it is optional: fasthttp
// releases the registry after every request (the request's user values
// hold an io.Closer for it). A second call does nothing. It always returns
// nil.
func (r *Registry) Close() error {
	if r.ctx == nil {
		return nil
	}
	r.ctx.RemoveUserValue(registryKey{})
	r.release()
	return nil
}

// release forgets the sessions and returns r to the pool.
func (r *Registry) release() {
	clear(r.sessions)
	r.sessions = r.sessions[:0]
	r.ctx = nil
	registryPool.Put(r)
}
