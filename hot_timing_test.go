package sessions

import (
	"testing"

	"github.com/valyala/fasthttp"
)

// scenario prepares a RequestCtx carrying the reference session cookie of
// store and returns the handler of the reference scenario: load the
// session, increment visits, save.
func scenario(b testing.TB, store Store, direct bool) (*fasthttp.RequestCtx, []byte, func(*fasthttp.RequestCtx)) {
	var ctx fasthttp.RequestCtx
	ctx.Init(&fasthttp.Request{}, nil, nil)
	s, _ := store.New(&ctx, "session")
	s.Values["user_id"] = "12345"
	s.Values["name"] = "Alice Example"
	s.Values["visits"] = 42
	if err := store.Save(&ctx, s); err != nil {
		b.Fatal(err)
	}
	cookie := []byte(cookieValue(b, &ctx, "session"))
	h := func(ctx *fasthttp.RequestCtx) {
		var s *Session
		var err error
		if direct {
			s, err = store.New(ctx, "session")
		} else {
			s, err = GetRegistry(ctx).Get(store, "session")
		}
		if err != nil {
			b.Fatal(err)
		}
		n, _ := s.GetInt("visits")
		s.Values["visits"] = n + 1
		if direct {
			err = store.Save(ctx, s)
		} else {
			err = Save(ctx)
		}
		if err != nil {
			b.Fatal(err)
		}
	}
	return &ctx, cookie, h
}

func benchScenario(b *testing.B, store Store, direct bool) {
	ctx, cookie, h := scenario(b, store, direct)
	b.ReportAllocs()
	for b.Loop() {
		ctx.Response.Reset()
		ctx.Request.Header.SetCookieBytesKV([]byte("session"), cookie)
		h(ctx)
		ctx.Request.ResetUserValues() // what fasthttp does after the request
	}
}

func BenchmarkCookieStoreGetSave(b *testing.B) {
	benchScenario(b, NewCookieStore(testHash, testBlock), true)
}

func BenchmarkCookieStoreRegistryGetSave(b *testing.B) {
	benchScenario(b, NewCookieStore(testHash, testBlock), false)
}

func BenchmarkMemoryStoreGetSave(b *testing.B) {
	benchScenario(b, NewMemoryStore(testHash, testBlock), true)
}

func BenchmarkFilesystemStoreGetSave(b *testing.B) {
	benchScenario(b, NewFilesystemStore(b.TempDir(), testHash, testBlock), true)
}
