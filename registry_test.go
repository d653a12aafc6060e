package sessions

import (
	"fmt"
	"runtime"
	"strings"
	"testing"

	"github.com/valyala/fasthttp"
)

// TestRegistryHeapFlatWithoutClear serves a million requests (a hundred
// thousand under -race) that each use the Registry and never call Clear,
// over one keep-alive connection, and checks that the live heap does not
// grow: fasthttp closes the registry with the request's user values.
func TestRegistryHeapFlatWithoutClear(t *testing.T) {
	n := 1_000_000
	if raceEnabled || testing.Short() {
		n = 100_000
	}
	store := NewCookieStore(testHash, testBlock)
	ts := newTestServer(t, func(ctx *fasthttp.RequestCtx) {
		s, err := GetRegistry(ctx).Get(store, "s")
		if err != nil || !s.IsNew || len(s.Values) != 0 {
			ctx.SetStatusCode(500)
			return
		}
		s.Values["payload"] = strings.Repeat("x", 256)
		t2, _ := GetRegistry(ctx).Get(store, "t")
		t2.Values["n"] = 1
	})
	hc := ts.NewClient(1).HC
	req, resp := fasthttp.AcquireRequest(), fasthttp.AcquireResponse()
	req.SetRequestURI("http://test/")
	do := func(count int) {
		for i := 0; i < count; i++ {
			if err := hc.Do(req, resp); err != nil || resp.StatusCode() != 200 {
				t.Fatalf("request %d: %v %d", i, err, resp.StatusCode())
			}
		}
	}
	heap := func() uint64 {
		runtime.GC()
		runtime.GC()
		var m runtime.MemStats
		runtime.ReadMemStats(&m)
		return m.HeapAlloc
	}
	do(10_000) // warm up pools and buffers
	before := heap()
	do(n)
	after := heap()
	t.Logf("%d requests: live heap %d KiB before, %d KiB after", n, before>>10, after>>10)
	if after > before+2<<20 {
		t.Fatalf("live heap grew from %d to %d bytes over %d requests", before, after, n)
	}
}

// TestRegistryClosedAfterRequest checks that the server closes the registry
// (returning it to the pool, empty) once the request is over.
func TestRegistryClosedAfterRequest(t *testing.T) {
	store := NewCookieStore(testHash)
	var held *Registry
	ts := newTestServer(t, func(ctx *fasthttp.RequestCtx) {
		if held != nil && (held.ctx != nil || len(held.sessions) != 0) {
			fmt.Fprint(ctx, "previous registry still holds its request")
			return
		}
		held = GetRegistry(ctx)
		_, _ = held.Get(store, "s")
		fmt.Fprint(ctx, "ok")
	})
	c := ts.NewClient(1)
	for i := 0; i < 3; i++ {
		if _, body := c.Get("/"); body != "ok" {
			t.Fatal(body)
		}
	}
}
