//go:build !race

package bench

import "testing"

// maxCookieStoreAllocs bounds the allocations of one request of the
// scenario through this package's CookieStore.
const maxCookieStoreAllocs = 40

// TestCookieStoreAllocs keeps the CookieStore request path, direct and
// through the Registry, at most maxCookieStoreAllocs allocations, and the
// Registry at no allocation more than the direct path.
func TestCookieStoreAllocs(t *testing.T) {
	allocs := map[bool]float64{}
	for _, registry := range []bool{false, true} {
		r, err := newOurRig(newOurCookieStore(), registry)
		if err != nil {
			t.Fatal(err)
		}
		if err := checkRoundTrip(r, changing); err != nil {
			t.Fatal(err)
		}
		var serr error
		n := testing.AllocsPerRun(200, func() {
			if err := r.serve(); err != nil {
				serr = err
			}
		})
		if serr != nil {
			t.Fatal(serr)
		}
		t.Logf("registry=%v: %.1f allocs per request", registry, n)
		if n > maxCookieStoreAllocs {
			t.Errorf("registry=%v: %.1f allocs per request, want at most %d", registry, n, maxCookieStoreAllocs)
		}
		allocs[registry] = n
	}
	if allocs[true] > allocs[false] {
		t.Errorf("the Registry costs %.1f allocs per request more than the direct path, want 0", allocs[true]-allocs[false])
	}
}
