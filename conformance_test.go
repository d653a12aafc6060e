package sessions_test

import (
	"context"
	"errors"
	"sync"
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
		Spoil: spoilRecord,
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
		Spoil: spoilRecord,
	})
}

// outageBackend is a custom Backend, as an application may write one,
// that wraps another and can be told to fail every call: an outage of the
// storage behind it; or to fail every Load of one record: a record that
// its storage holds in a form the backend cannot read.
type outageBackend struct {
	sessions.Backend
	down    atomic.Bool
	spoiled sync.Map // IDs whose Load fails with errSpoiled, until deleted
}

var (
	errOutage  = errors.New("sessions test: the backend is down")
	errSpoiled = errors.New("sessions test: the record cannot be read")
)

func (b *outageBackend) Load(ctx context.Context, id string) ([]byte, time.Time, error) {
	if b.down.Load() {
		return nil, time.Time{}, errOutage
	}
	if _, ok := b.spoiled.Load(id); ok {
		return nil, time.Time{}, errSpoiled
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
	b.spoiled.Delete(id)
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

// outageOf returns the outageBackend of store.
func outageOf(t *testing.T, store sessions.Store) *outageBackend {
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
	return ob
}

// breakBackend takes the outageBackend of store down until repaired.
func breakBackend(t *testing.T, store sessions.Store) func() {
	ob := outageOf(t, store)
	ob.down.Store(true)
	return func() { ob.down.Store(false) }
}

// spoilRecord makes every Load of id by the outageBackend of store fail,
// until a Delete of id. (The stores themselves have no such record: a
// MemoryStore record is a value in a map; the entries a FilesystemStore
// cannot read are planted ones, refused with ErrUnsafeFolder and replaced
// with no Delete, see TestFilesystemUnreadableRecord.)
func spoilRecord(t *testing.T, store sessions.Store, id string) {
	outageOf(t, store).spoiled.Store(id, true)
}
