package bench

import (
	"testing"

	"github.com/fasthttp-sessions/sessions"
	fhmemory "github.com/fasthttp/session/v2/providers/memory"
)

// benchRig checks once that the rig really does the round trip (visits 42
// -> 43 read back from the response), then times its requests.
func benchRig(b *testing.B, r *rig, err error) {
	b.Helper()
	if err != nil {
		b.Fatal(err)
	}
	if r.close != nil {
		b.Cleanup(r.close)
	}
	if err := checkRoundTrip(r); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if err := r.serve(); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkBareFasthttp is the floor: a fasthttp handler that reads a
// cookie and sets one, without sessions.
func BenchmarkBareFasthttp(b *testing.B) {
	r, err := newBareRig()
	benchRig(b, r, err)
}

// BenchmarkCookieStore is this package's CookieStore straight from the
// store: New and Save, on a reused RequestCtx.
func BenchmarkCookieStore(b *testing.B) {
	r, err := newOurRig(newOurCookieStore(), false)
	benchRig(b, r, err)
}

// BenchmarkCookieStoreRegistry is the same through the request's Registry
// (GetRegistry(ctx).Get and sessions.Save), released after each request as
// fasthttp does.
func BenchmarkCookieStoreRegistry(b *testing.B) {
	r, err := newOurRig(newOurCookieStore(), true)
	benchRig(b, r, err)
}

// BenchmarkGorillaCookieStore is gorilla/sessions' CookieStore on net/http.
func BenchmarkGorillaCookieStore(b *testing.B) {
	r, err := newGorillaRig(newGorillaCookieStore())
	benchRig(b, r, err)
}

func BenchmarkFilesystemStore(b *testing.B) {
	r, err := newOurRig(sessions.NewFilesystemStore(b.TempDir(), hashKey, blockKey), true)
	benchRig(b, r, err)
}

func BenchmarkGorillaFilesystemStore(b *testing.B) {
	r, err := newGorillaRig(newGorillaFilesystemStore(b.TempDir()))
	benchRig(b, r, err)
}

func BenchmarkMemoryStore(b *testing.B) {
	r, err := newOurRig(sessions.NewMemoryStore(hashKey, blockKey), true)
	benchRig(b, r, err)
}

// BenchmarkFasthttpSessionMemory is fasthttp/session v2's memory provider:
// no signing, no encryption, the raw ID in the cookie.
func BenchmarkFasthttpSessionMemory(b *testing.B) {
	p, err := fhmemory.New(fhmemory.Config{})
	if err != nil {
		b.Fatal(err)
	}
	r, err := newFasthttpSessionRig(p)
	benchRig(b, r, err)
}

func BenchmarkFiberSessionMemory(b *testing.B) {
	r, err := newFiberRig()
	benchRig(b, r, err)
}

func BenchmarkSCSMemstore(b *testing.B) {
	r, err := newSCSRig()
	benchRig(b, r, err)
}

func BenchmarkRedisStore(b *testing.B) {
	r, err := newOurRedisRig(redisAddr(b), true)
	benchRig(b, r, err)
}

func BenchmarkFasthttpSessionRedis(b *testing.B) {
	r, err := newFasthttpSessionRedisRig(redisAddr(b))
	benchRig(b, r, err)
}
