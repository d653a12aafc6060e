package sessions

// Each test here reproduces a defect found in a review of the stores; its
// comment describes the defect as it was, and the test checks that it is
// gone.

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/valyala/fasthttp"
)

// Review finding 1: after Save returned ErrSessionRevoked, a second Save of the same
// *Session (e.g. the handler's session.Save followed by a middleware's
// sessions.Save(ctx)) re-creates the destroyed record under its OLD ID.
func TestRegressionRevokedSessionRevivedBySecondSave(t *testing.T) {
	for _, renew := range []bool{false, true} {
		store := NewMemoryStore(testHash, testBlock)
		_, cookie := saveNew(t, store, map[any]any{"user": "alice"})

		// Request A (slow) loads the session.
		ctxA := requestWithCookie("sid", cookie)
		a, err := store.Get(ctxA, "sid")
		if err != nil || a.IsNew {
			t.Fatal(err)
		}
		oldID := a.ID

		// Request B logs out.
		ctxB := requestWithCookie("sid", cookie)
		b, _ := store.Get(ctxB, "sid")
		b.Options.MaxAge = -1
		if err := b.Save(ctxB); err != nil {
			t.Fatal(err)
		}

		// Request A changes the session and saves: revoked, as documented.
		// (An unchanged session writes nothing, and is no error.)
		a.Values["cart"] = "full"
		if renew {
			a.RenewID()
		}
		if err := a.Save(ctxA); !errors.Is(err, ErrSessionRevoked) {
			t.Fatalf("renew=%v: first save: %v", renew, err)
		}
		// ... and then the end-of-request middleware saves the registry.
		err = Save(ctxA)
		t.Logf("renew=%v: second save err=%v, Set-Cookie=%q", renew, err, ctxA.Response.Header.PeekCookie("sid"))

		// The stolen cookie works again.
		s, err := load(t, store, cookie)
		if err == nil && !s.IsNew {
			t.Errorf("renew=%v: logout undone: old cookie loads ID %s (was %s) user=%v",
				renew, s.ID, oldID, s.Values["user"])
		}
	}
}

// Review finding 2: a request that loads the session just before its absolute deadline
// and saves just after it gives the logged-in values a brand-new absolute
// lifetime under a new ID.
func TestRegressionAbsoluteTimeoutResetByStraddlingRequest(t *testing.T) {
	clock := &testClock{now: time.Unix(1_700_000_000, 0)}
	store := NewMemoryStore(testHash, testBlock)
	store.Now = clock.Now
	store.Options.AbsoluteTimeout = time.Hour

	_, cookie := saveNew(t, store, map[any]any{"user": "alice"})

	clock.Advance(time.Hour - 100*time.Millisecond)
	ctx := requestWithCookie("sid", cookie)
	s, err := store.Get(ctx, "sid")
	if err != nil || s.IsNew {
		t.Fatalf("load before deadline: %v new=%v", err, s.IsNew)
	}
	clock.Advance(200 * time.Millisecond) // handler runs 200 ms
	if err := s.Save(ctx); err != nil {
		t.Fatal(err)
	}
	newCookie := cookieValue(t, ctx, "sid")

	// 59 minutes after the absolute deadline, the user is still logged in.
	clock.Advance(59 * time.Minute)
	s2, err := load(t, store, newCookie)
	if err == nil && !s2.IsNew && s2.Values["user"] == "alice" {
		t.Errorf("session alive %v after its absolute deadline (AbsoluteTimeout=1h)", 59*time.Minute)
	}
}

// Review finding 3: SECURITY.md says the signed timestamp bounds a cookie's life (MaxAge)
// "whatever the browser does with the cookie". CookieStore only enforces the
// store's MaxAge; a session's own shorter MaxAge is not checked on replay,
// while ServerStore does check it.
func TestRegressionCookieStoreIgnoresSessionMaxAgeOnReplay(t *testing.T) {
	clock := &testClock{now: time.Unix(1_700_000_000, 0)}
	store := NewCookieStore(testHash, testBlock)
	store.Now = clock.Now
	setCodecsClock(store.Codecs, store.now)

	var ctx fasthttp.RequestCtx
	ctx.Init(&fasthttp.Request{}, nil, nil)
	s, _ := store.New(&ctx, "sid")
	s.Values["user"] = "alice"
	s.Options.MaxAge = 600 // 10-minute session, not "remember me"
	if err := s.Save(&ctx); err != nil {
		t.Fatal(err)
	}
	cookie := cookieValue(t, &ctx, "sid")

	clock.Advance(24 * time.Hour)
	s2, err := load(t, store, cookie)
	if err == nil && !s2.IsNew {
		t.Errorf("cookie with MaxAge=600 accepted 24h later (MaxAge restored from meta: %d)", s2.Options.MaxAge)
	}

	// Same scenario on a server store is refused.
	ms := NewMemoryStore(testHash, testBlock)
	ms.Now = clock.Now
	setCodecsClock(ms.Codecs, ms.now)
	var ctx2 fasthttp.RequestCtx
	ctx2.Init(&fasthttp.Request{}, nil, nil)
	m, _ := ms.New(&ctx2, "sid")
	m.Values["user"] = "alice"
	m.Options.MaxAge = 600
	_ = m.Save(&ctx2)
	c2 := cookieValue(t, &ctx2, "sid")
	clock.Advance(time.Hour)
	m2, _ := load(t, ms, c2)
	t.Logf("memory store after 1h: new=%v (refused, as expected)", m2.IsNew)
}

// Review finding 4: Registry.Close was exported (io.Closer) and not
// idempotent. A handler that closed its registry (defer
// GetRegistry(ctx).Close()) put it in the pool while the ctx still held it;
// fasthttp closed it again at the end of the request: the same *Registry was
// then handed to two requests at once. Registry.Close is gone (Clear is the
// one way to release a registry early), and registries are not pooled.
func TestRegressionRegistryDoubleCloseSharesRegistry(t *testing.T) {
	store := NewCookieStore(testHash, testBlock)
	_, aliceCookie := saveNewCookie(t, store, "alice")

	var ctx1 fasthttp.RequestCtx
	ctx1.Init(&fasthttp.Request{}, nil, nil)
	GetRegistry(&ctx1)
	Clear(&ctx1)         // user code
	Clear(&ctx1)         // twice
	ctx1.Request.Reset() // fasthttp after the response: closes what is left

	// Two concurrent requests now get two registries.
	ctxAlice := requestWithCookie("sid", aliceCookie)
	ra := GetRegistry(ctxAlice)
	_, _ = store.Get(ctxAlice, "sid") // Alice's handler loads her session
	ctxBob := requestWithCookie("other", "x")
	rb := GetRegistry(ctxBob)
	s, _ := store.Get(ctxBob, "sid") // Bob (no cookie) asks for his
	if ra == rb || s.Values["user"] != nil {
		t.Errorf("two requests share one *Registry (%v); Bob got user=%v", ra == rb, s.Values["user"])
	}
}

func saveNewCookie(t *testing.T, store *CookieStore, user string) (*Session, string) {
	var ctx fasthttp.RequestCtx
	ctx.Init(&fasthttp.Request{}, nil, nil)
	s, _ := store.New(&ctx, "sid")
	s.Values["user"] = user
	if err := s.Save(&ctx); err != nil {
		t.Fatal(err)
	}
	return s, cookieValue(t, &ctx, "sid")
}

// Review finding 5: FilesystemStore.Delete removed only this process's
// partner file, so a logout left the previous version of the values of
// another process (or of this one before a restart) on disk. Saves now
// rename a new file over the old one and keep no copy: after a logout the
// folder holds nothing of the session, without Cleanup.
func TestRegressionLogoutLeavesNoOldVersion(t *testing.T) {
	dir := t.TempDir()
	store, _ := newFSStore(t, dir)
	other, _ := newFSStore(t, dir) // another process on the folder
	_, cookie := saveNew(t, store, map[any]any{"user": "alice", "secret": "v1"})
	for i, s := range []*FilesystemStore{store, other} {
		ctx := requestWithCookie("sid", cookie)
		session, _ := s.New(ctx, "sid")
		session.Values["secret"] = fmt.Sprint("v", i+2)
		if err := s.Save(ctx, session); err != nil {
			t.Fatal(err)
		}
	}
	ctx := requestWithCookie("sid", cookie)
	s, _ := store.New(ctx, "sid")
	s.Options.MaxAge = -1
	if err := store.Save(ctx, s); err != nil {
		t.Fatal(err)
	}
	wantFolder(t, dir)
}

// Review finding 2b: the "expired while the request ran" branch ignored a
// logout that happened meanwhile: the values came back under a new ID. Now
// the Save writes an empty new session.
func TestRegressionLogoutIgnoredWhenRecordExpiresMidRequest(t *testing.T) {
	clock := &testClock{now: time.Unix(1_700_000_000, 0)}
	store := NewMemoryStore(testHash, testBlock)
	store.Now = clock.Now
	store.Options.IdleTimeout = 30 * time.Minute
	_, cookie := saveNew(t, store, map[any]any{"user": "alice"})

	clock.Advance(30*time.Minute - 100*time.Millisecond)
	ctxA := requestWithCookie("sid", cookie) // attacker's request with the stolen cookie
	a, _ := store.Get(ctxA, "sid")
	if a.IsNew {
		t.Fatal("not loaded")
	}
	ctxB := requestWithCookie("sid", cookie) // victim logs out
	b, _ := store.Get(ctxB, "sid")
	b.Options.MaxAge = -1
	if err := b.Save(ctxB); err != nil {
		t.Fatal(err)
	}
	clock.Advance(200 * time.Millisecond)
	if err := a.Save(ctxA); err == nil {
		if s, _ := load(t, store, cookieValue(t, ctxA, "sid")); s.Values["user"] != nil {
			t.Errorf("the logged-out values came back under a new ID: user=%v", s.Values["user"])
		}
	}
}

// Review finding 7: "_sessions_meta" is an ordinary Values key: an application value under
// it vanishes on load, and if its content is attacker-influenced (e.g. form
// field names copied into Values), it rewrites the session's timeouts.
func TestRegressionMetaKeyNotReserved(t *testing.T) {
	clock := &testClock{now: time.Unix(1_700_000_000, 0)}
	store := NewMemoryStore(testHash, testBlock)
	store.Now = clock.Now
	store.Options.IdleTimeout = 30 * time.Minute
	var ctx0 fasthttp.RequestCtx
	ctx0.Init(&fasthttp.Request{}, nil, nil)
	s1, _ := store.New(&ctx0, "sid")
	s1.Values["user"] = "mallory"
	s1.Values[metaKey] = "idle=0"
	if err := store.Save(&ctx0, s1); !errors.Is(err, ErrSerialize) {
		t.Fatalf("a value under the reserved key was saved: %v", err)
	}
	delete(s1.Values, metaKey)
	if err := store.Save(&ctx0, s1); err != nil {
		t.Fatal(err)
	}
	cookie := cookieValue(t, &ctx0, "sid")
	clock.Advance(10 * time.Minute)
	ctx := requestWithCookie("sid", cookie)
	s0, _ := store.New(ctx, "sid")
	if err := store.Save(ctx, s0); err != nil { // an ordinary request
		t.Fatal(err)
	}
	clock.Advance(3 * time.Hour)
	s, _ := load(t, store, cookie)
	if !s.IsNew {
		t.Errorf("idle-30m session alive after 3h: idle=%v abs=%v", s.Options.IdleTimeout, s.Options.AbsoluteTimeout)
	}
}
