//go:build !race

package sessions

import "testing"

// TestRequestPathAllocs locks in the allocations of the reference request
// (load a three-value session, increment a counter, save) on a reused
// RequestCtx, straight from the store and through the Registry. Each
// encryption and decryption costs one allocation in cipher.NewCTR (512
// bytes, the expanded key it copies), where the hand-written CTR it
// replaced had none: one more for a cookie session, four (two of each) for
// a server-side one, whose record name, bound to the ID, costs one more;
// decoding gives the serializer the decrypted slice itself, which saves
// the copy its strings used to need.
func TestRequestPathAllocs(t *testing.T) {
	for _, c := range []struct {
		name   string
		store  Store
		direct bool
		max    float64
	}{
		{"CookieStore", NewCookieStore(testHash, testBlock), true, 8},
		{"CookieStore via Registry", NewCookieStore(testHash, testBlock), false, 8},
		{"MemoryStore", NewMemoryStore(testHash, testBlock), true, 16},
	} {
		t.Run(c.name, func(t *testing.T) {
			ctx, cookie, h := scenario(t, c.store, c.direct)
			got := testing.AllocsPerRun(200, func() {
				ctx.Response.Reset()
				ctx.Request.Header.SetCookieBytesKV([]byte("session"), cookie)
				h(ctx)
				ctx.Request.ResetUserValues()
			})
			if got > c.max {
				t.Errorf("%v allocations per request, want <= %v", got, c.max)
			}
		})
	}
}
