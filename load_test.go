package sessions

import (
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/valyala/fasthttp"
)

// loadHandler is the application of the load test: the first request of a
// user stores the name given in the query; every request increments the
// user's counter. The body is "user=NAME n=COUNTER new=ISNEW", from the
// session alone: a request that got another user's session shows that
// user's name.
func loadHandler(store Store) fasthttp.RequestHandler {
	return func(ctx *fasthttp.RequestCtx) {
		s, err := store.Get(ctx, "sid")
		if err != nil {
			ctx.Error("get: "+err.Error(), fasthttp.StatusInternalServerError)
			return
		}
		if s.IsNew {
			s.Values["user"] = string(ctx.QueryArgs().Peek("u"))
		}
		n, _ := s.GetInt("n")
		s.Values["n"] = n + 1
		if err := Save(ctx); err != nil {
			ctx.Error("save: "+err.Error(), fasthttp.StatusInternalServerError)
			return
		}
		fmt.Fprintf(ctx, "user=%s n=%d new=%v", s.GetString("user"), n+1, s.IsNew)
	}
}

// TestLoadNoCrossTalk runs many users at once against each store of the
// core through a real fasthttp server, each with its own cookie jar, half on
// their own keep-alive connection and half sharing a few connections (so
// that one *RequestCtx serves many users in turn). Every response must show
// the user's own name and a counter one higher than the last.
//
// Without the race detector it sends 100,480 requests: 44,800 to each of
// the cookie and memory stores, and 10,880 to the filesystem store, whose
// atomic rename per Save costs about 2 ms of disk time on an ext4 volume
// mounted with discard, so that the run stays within a minute on 2 cores.
// With -race it sends about 5,000 per store; with -short (a developer's
// quick run) it is skipped.
func TestLoadNoCrossTalk(t *testing.T) {
	if testing.Short() {
		t.Skip("the load test is long: run it without -short (CI does, with -race)")
	}
	const users = 64
	perUser := map[storeKind]int{kindCookie: 700, kindMemory: 700, kindFS: 170}
	if raceEnabled {
		perUser = map[storeKind]int{kindCookie: 79, kindMemory: 79, kindFS: 79} // 5,056 per store
	}
	var total atomic.Int64
	start := time.Now()
	for _, kind := range allKinds {
		perUser := perUser[kind]
		t.Run(kind.String(), func(t *testing.T) {
			st := newTestStore(t, kind, "", testHash, testBlock)
			ts := newTestServer(t, loadHandler(st.store))
			shared := ts.HostClient(8)
			var (
				wg   sync.WaitGroup
				done atomic.Int64
			)
			begin := time.Now()
			for u := range users {
				wg.Add(1)
				go func() {
					defer wg.Done()
					c := ts.NewClient(1)
					if u%2 == 1 {
						c.HC = shared
					}
					name := fmt.Sprintf("user%02d", u)
					for i := range perUser {
						code, body, err := c.TryGet("/hit?u=" + name)
						if err != nil {
							t.Errorf("%s, request %d: %v", name, i, err)
							return
						}
						want := fmt.Sprintf("user=%s n=%d new=%v", name, i+1, i == 0)
						if code != fasthttp.StatusOK || body != want {
							t.Errorf("%s, request %d: %d %q, want %q", name, i, code, body, want)
							return
						}
						done.Add(1)
					}
				}()
			}
			wg.Wait()
			elapsed := time.Since(begin)
			n := done.Load()
			total.Add(n)
			if want := int64(users * perUser); n != want {
				t.Fatalf("%d requests checked, want %d", n, want)
			}
			if st.records != nil {
				if got := st.records(); got != users {
					t.Errorf("%d records for %d users", got, users)
				}
			}
			t.Logf("%s: %d users x %d requests = %d requests, all checked, in %v (%.0f req/s)",
				kind, users, perUser, n, elapsed.Round(time.Millisecond), float64(n)/elapsed.Seconds())
		})
	}
	t.Logf("total: %d requests across %d stores in %v (race detector: %v)",
		total.Load(), len(allKinds), time.Since(start).Round(time.Millisecond), raceEnabled)
}
