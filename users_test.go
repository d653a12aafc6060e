package sessions_test

import (
	"context"
	"errors"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/fasthttp-sessions/sessions"
	"github.com/fasthttp-sessions/sessions/internal/testsrv"
	"github.com/fasthttp-sessions/sessions/sessionstest"
	"github.com/valyala/fasthttp"
)

// loadFailing is a backend whose Load can be told to fail while the rest,
// its user index included, works: a storage that times out on one read.
type loadFailing struct {
	sessions.Backend
	sessions.UserIndex
	fail atomic.Bool
}

var errLoad = errors.New("sessions test: Load timed out")

func (b *loadFailing) Load(ctx context.Context, id string) ([]byte, time.Time, error) {
	if b.fail.Load() {
		return nil, time.Time{}, errLoad
	}
	return b.Backend.Load(ctx, id)
}

// TestRevokeLoadFailure checks that Revoke reports a failure of the
// backend as such: not as ErrRecordNotFound ("no such session"), which an
// application shows as a handle that names nothing, while the session it
// was asked to end lives on.
func TestRevokeLoadFailure(t *testing.T) {
	mem := sessions.NewMemoryStore(sessionstest.Keys...)
	b := &loadFailing{Backend: mem.Backend, UserIndex: mem.Backend.(sessions.UserIndex)}
	store := sessions.NewServerStore(b, sessionstest.Keys...)
	srv := testsrv.New(t, func(ctx *fasthttp.RequestCtx) {
		s, _ := store.Get(ctx, "sid")
		s.SetUser("alice")
		s.RenewID()
		if err := s.Save(ctx); err != nil {
			t.Errorf("login: %v", err)
		}
		ctx.SetBodyString(s.Handle())
	})
	_, handle := srv.NewClient(1).Get("/")
	b.fail.Store(true)
	err := store.Revoke(context.Background(), "alice", handle)
	if err == nil || errors.Is(err, sessions.ErrRecordNotFound) || !errors.Is(err, errLoad) {
		t.Errorf("Revoke while Load fails: %v; want an error wrapping the backend's, not ErrRecordNotFound", err)
	}
	if err != nil && strings.Count(err.Error(), "sessions: ") != 1 {
		t.Errorf("Revoke while Load fails: %q has not one prefix", err)
	}
	b.fail.Store(false)
	if err := store.Revoke(context.Background(), "alice", handle); err != nil {
		t.Fatalf("Revoke once Load works: %v", err)
	}
}

// TestFailedLogoutUnindexesWhatItDeleted checks that a logout that deleted
// the session's record and then failed (here, reading the forwarding
// marker) still removes the deleted ID from its user's set: the record is
// gone, and an entry naming it would be left for the cleanup.
func TestFailedLogoutUnindexesWhatItDeleted(t *testing.T) {
	mem := sessions.NewMemoryStore(sessionstest.Keys...)
	ui := mem.Backend.(sessions.UserIndex)
	b := &loadFailing{Backend: mem.Backend, UserIndex: ui}
	store := sessions.NewServerStore(b, sessionstest.Keys...)
	srv := testsrv.New(t, func(ctx *fasthttp.RequestCtx) {
		s, _ := store.Get(ctx, "sid")
		if string(ctx.Path()) == "/logout" {
			b.fail.Store(true) // the record was loaded; what follows fails
			defer b.fail.Store(false)
			s.Options.MaxAge = -1
			if err := s.Save(ctx); !errors.Is(err, errLoad) {
				t.Errorf("logout while Load fails: %v, want an error wrapping %v", err, errLoad)
			}
			return
		}
		s.SetUser("alice")
		if err := s.Save(ctx); err != nil {
			t.Errorf("login: %v", err)
		}
	})
	c := srv.NewClient(1)
	c.Get("/login")
	ids, err := ui.UserIDs(context.Background(), "alice")
	if err != nil || len(ids) != 1 {
		t.Fatalf("alice's set after the login: %q, %v; want one ID", ids, err)
	}
	c.Get("/logout")
	if _, _, err := mem.Backend.Load(context.Background(), ids[0]); !errors.Is(err, sessions.ErrRecordNotFound) {
		t.Fatalf("the record after the failed logout: %v, want it deleted", err)
	}
	if ids, err := ui.UserIDs(context.Background(), "alice"); err != nil || len(ids) != 0 {
		t.Errorf("alice's set after a logout that deleted her record and failed: %q, %v; want none", ids, err)
	}
}
