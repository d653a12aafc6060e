package bench

import (
	"testing"

	"github.com/fasthttp-sessions/sessions"
	fhmemory "github.com/fasthttp/session/v2/providers/memory"
)

// benchRig checks once that the rig really does the round trip of the
// changing scenario (visits 42 -> 43 read back from the response), then
// times its requests.
func benchRig(b *testing.B, r *rig, err error) {
	b.Helper()
	benchScenario(b, r, err, changing)
}

// benchScenario checks once that the rig really does the round trip of sc,
// then times its requests and, for this package's server-side stores,
// reports the backend calls per request (loads/op, writes/op, touches/op).
func benchScenario(b *testing.B, r *rig, err error, sc scenario) {
	b.Helper()
	if err != nil {
		b.Fatal(err)
	}
	if r.close != nil {
		b.Cleanup(r.close)
	}
	if err := checkRoundTrip(r, sc); err != nil {
		b.Fatal(err)
	}
	var before callCounts
	if r.calls != nil {
		before = r.calls.counts()
	}
	b.ReportAllocs()
	n := 0
	for b.Loop() {
		if err := r.serve(); err != nil {
			b.Fatal(err)
		}
		n++
	}
	reportCalls(b, r.calls, before, n)
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
	r, err := newGorillaRig(newGorillaCookieStore(), changing)
	benchRig(b, r, err)
}

func BenchmarkFilesystemStore(b *testing.B) {
	r, err := newOurRig(sessions.NewFilesystemStore(b.TempDir(), hashKey, blockKey), true)
	benchRig(b, r, err)
}

func BenchmarkGorillaFilesystemStore(b *testing.B) {
	r, err := newGorillaRig(newGorillaFilesystemStore(b.TempDir()), changing)
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
	r, err := newFasthttpSessionRig(p, changing)
	benchRig(b, r, err)
}

func BenchmarkFiberSessionMemory(b *testing.B) {
	r, err := newFiberRig(changing)
	benchRig(b, r, err)
}

func BenchmarkSCSMemstore(b *testing.B) {
	r, err := newSCSRig(changing)
	benchRig(b, r, err)
}

func BenchmarkRedisStore(b *testing.B) {
	r, err := newOurRedisRig(redisAddr(b), changing)
	benchRig(b, r, err)
}

func BenchmarkFasthttpSessionRedis(b *testing.B) {
	r, err := newFasthttpSessionRedisRig(redisAddr(b), changing)
	benchRig(b, r, err)
}
