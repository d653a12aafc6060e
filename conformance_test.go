package sessions_test

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/fasthttp-sessions/sessions"
	"github.com/fasthttp-sessions/sessions/sessionstest"
)

func TestConformanceCookieStore(t *testing.T) {
	sessionstest.Run(t, sessionstest.Config{
		NewStore: func(t *testing.T, now func() time.Time, keyPairs ...[]byte) sessions.Store {
			s := sessions.NewCookieStore(keyPairs...)
			s.Now = now
			return s
		},
		RealClock: true,
	})
}

func TestConformanceMemoryStore(t *testing.T) {
	sessionstest.Run(t, sessionstest.Config{
		ServerSide: true,
		NewStore: func(t *testing.T, now func() time.Time, keyPairs ...[]byte) sessions.Store {
			s := sessions.NewMemoryStore(keyPairs...)
			s.Now = now
			s.Backend = &outageBackend{Backend: s.Backend}
			return s
		},
		Break: breakBackend,
		// No Spoil: a record of this store is a value in a map, which a
		// Load returns or reports absent; nothing can make it unreadable.
	})
}

func TestConformanceFilesystemStore(t *testing.T) {
	sessionstest.Run(t, sessionstest.Config{
		ServerSide: true,
		NewStore: func(t *testing.T, now func() time.Time, keyPairs ...[]byte) sessions.Store {
			s := sessions.NewFilesystemStore(t.TempDir(), keyPairs...)
			s.Now = now
			s.Backend = &outageBackend{Backend: s.Backend}
			return s
		},
		Break: breakBackend,
		// No Spoil: the entries this store cannot read are those that are
		// no regular file of the server's user (ErrUnsafeFolder: planted,
		// and a new session takes their place with no Delete, see
		// TestFilesystemUnreadableRecord), and a file that reads but does
		// not decode is a tampered record (ErrCookieInvalid); a file of
		// mode 0 is unreadable only to a server not run as root, as the
		// tests here are.
	})
}

// outageBackend is a custom Backend, as an application may write one,
// that wraps another and can be told to fail every call: an outage of the
// storage behind it.
type outageBackend struct {
	sessions.Backend
	down atomic.Bool
}

var errOutage = errors.New("sessions test: the backend is down")

func (b *outageBackend) Load(ctx context.Context, id string) ([]byte, time.Time, error) {
	if b.down.Load() {
		return nil, time.Time{}, errOutage
	}
	return b.Backend.Load(ctx, id)
}

func (b *outageBackend) Create(ctx context.Context, id string, data []byte, ttl time.Duration) error {
	if b.down.Load() {
		return errOutage
	}
	return b.Backend.Create(ctx, id, data, ttl)
}

func (b *outageBackend) Update(ctx context.Context, id string, data []byte, ttl time.Duration) error {
	if b.down.Load() {
		return errOutage
	}
	return b.Backend.Update(ctx, id, data, ttl)
}

func (b *outageBackend) Delete(ctx context.Context, id string) error {
	if b.down.Load() {
		return errOutage
	}
	return b.Backend.Delete(ctx, id)
}

func (b *outageBackend) Touch(ctx context.Context, id string, ttl time.Duration) error {
	t, ok := b.Backend.(sessions.Toucher)
	switch {
	case !ok:
		return errors.ErrUnsupported
	case b.down.Load():
		return errOutage
	}
	return t.Touch(ctx, id, ttl)
}

// The user index of the wrapped backend, when it has one; a backend
// without one makes UserSessions and the rest fail as unsupported.

func (b *outageBackend) AddUserID(ctx context.Context, user, id string) error {
	if b.down.Load() {
		return errOutage
	}
	ui, ok := b.Backend.(sessions.UserIndex)
	if !ok {
		return errors.ErrUnsupported
	}
	return ui.AddUserID(ctx, user, id)
}

func (b *outageBackend) RemoveUserID(ctx context.Context, user, id string) error {
	if ui, ok := b.Backend.(sessions.UserIndex); ok && !b.down.Load() {
		return ui.RemoveUserID(ctx, user, id)
	}
	return nil
}

func (b *outageBackend) UserIDs(ctx context.Context, user string) ([]string, error) {
	ui, ok := b.Backend.(sessions.UserIndex)
	if !ok {
		return nil, errors.ErrUnsupported
	}
	if b.down.Load() {
		return nil, errOutage
	}
	return ui.UserIDs(ctx, user)
}

// breakBackend takes the outageBackend of store down until repaired.
func breakBackend(t *testing.T, store sessions.Store) func() {
	var b sessions.Backend
	switch s := store.(type) {
	case *sessions.MemoryStore:
		b = s.Backend
	case *sessions.FilesystemStore:
		b = s.Backend
	}
	ob, ok := b.(*outageBackend)
	if !ok {
		t.Fatalf("%T has no outageBackend", store)
	}
	ob.down.Store(true)
	return func() { ob.down.Store(false) }
}
