package bench

import (
	"testing"

	"github.com/fasthttp-sessions/sessions"
	fhmemory "github.com/fasthttp/session/v2/providers/memory"
)

// The read-only scenario (see scenario_test.go): the request loads the
// session, reads visits (42) and saves the way the library's users do.
// This package's sessions.Save writes nothing and sends no cookie for an
// unchanged session until its expiry is due for a refresh (a tenth of its
// shortest sliding lifetime: 3 days for the 30-day MaxAge here, so never
// within a benchmark); gorilla, fasthttp/session and Fiber encode, write
// and set the cookie on every Save; scs commits only a modified session.
//
//	BenchmarkReadOnly/LIBRARY         the read-only request
//	BenchmarkReadOnlyRefresh/STORE    the same request with RefreshAfter -1,
//	                                  so that every Save refreshes: what a
//	                                  refresh costs when one is due (a
//	                                  Toucher.Touch and a new cookie for
//	                                  server-side stores, a new cookie for
//	                                  CookieStore)

// namedRig makes the rig of one library for one benchmark or test.
type namedRig struct {
	name string
	make func(tb testing.TB) (*rig, error)
}

// ours returns the maker of a rig of one of this package's stores, through
// the Registry, for sc; refreshAll makes every Save refresh the expiry.
func ours(name string, store func(tb testing.TB) sessions.Store, sc scenario, refreshAll bool) namedRig {
	return namedRig{name, func(tb testing.TB) (*rig, error) {
		r, err := newOurScenarioRig(store(tb), true, sc)
		if err == nil && refreshAll {
			r.refreshAll()
		}
		return r, err
	}}
}

// refreshAll sets the RefreshAfter of the rig's store (one of this
// package's) to -1: every Save of an unchanged session refreshes it.
func (r *rig) refreshAll() {
	if c, ok := r.store.(*sessions.CookieStore); ok {
		c.RefreshAfter = -1
	} else {
		serverStoreOf(r.store).RefreshAfter = -1
	}
}

func cookieStore(testing.TB) sessions.Store { return newOurCookieStore() }
func memoryStore(testing.TB) sessions.Store { return sessions.NewMemoryStore(hashKey, blockKey) }
func filesystemStore(tb testing.TB) sessions.Store {
	return sessions.NewFilesystemStore(tb.TempDir(), hashKey, blockKey)
}

// readOnlyRigs are the rigs of the read-only scenario, each of this
// package's stores beside its peers.
var readOnlyRigs = []namedRig{
	ours("CookieStore", cookieStore, readOnly, false),
	{"GorillaCookieStore", func(testing.TB) (*rig, error) { return newGorillaRig(newGorillaCookieStore(), readOnly) }},
	ours("FilesystemStore", filesystemStore, readOnly, false),
	{"GorillaFilesystemStore", func(tb testing.TB) (*rig, error) {
		return newGorillaRig(newGorillaFilesystemStore(tb.TempDir()), readOnly)
	}},
	ours("MemoryStore", memoryStore, readOnly, false),
	{"FasthttpSessionMemory", func(testing.TB) (*rig, error) {
		p, err := fhmemory.New(fhmemory.Config{})
		if err != nil {
			return nil, err
		}
		return newFasthttpSessionRig(p, readOnly)
	}},
	{"FiberSessionMemory", func(testing.TB) (*rig, error) { return newFiberRig(readOnly) }},
	{"SCSMemstore", func(testing.TB) (*rig, error) { return newSCSRig(readOnly) }},
	{"RedisStore", func(tb testing.TB) (*rig, error) { return newOurRedisRig(redisAddr(tb), readOnly) }},
	{"FasthttpSessionRedis", func(tb testing.TB) (*rig, error) { return newFasthttpSessionRedisRig(redisAddr(tb), readOnly) }},
	{"PostgresStore", func(tb testing.TB) (*rig, error) { return newOurPostgresRig(tb, readOnly) }},
	{"SCSPostgres", func(tb testing.TB) (*rig, error) { return newSCSPostgresRig(tb, readOnly) }},
}

// refreshRigs are the rigs of the read-only scenario on this package's
// stores with a refresh on every Save.
var refreshRigs = []namedRig{
	ours("CookieStore", cookieStore, readOnly, true),
	ours("FilesystemStore", filesystemStore, readOnly, true),
	ours("MemoryStore", memoryStore, readOnly, true),
	{"RedisStore", func(tb testing.TB) (*rig, error) {
		r, err := newOurRedisRig(redisAddr(tb), readOnly)
		if err == nil {
			r.refreshAll()
		}
		return r, err
	}},
	{"PostgresStore", func(tb testing.TB) (*rig, error) {
		r, err := newOurPostgresRig(tb, readOnly)
		if err == nil {
			r.refreshAll()
		}
		return r, err
	}},
}

func BenchmarkReadOnly(b *testing.B) {
	for _, nr := range readOnlyRigs {
		b.Run(nr.name, func(b *testing.B) {
			r, err := nr.make(b)
			benchScenario(b, r, err, readOnly)
		})
	}
}

func BenchmarkReadOnlyRefresh(b *testing.B) {
	for _, nr := range refreshRigs {
		b.Run(nr.name, func(b *testing.B) {
			r, err := nr.make(b)
			benchScenario(b, r, err, readOnly)
		})
	}
}

// TestReadOnlyRoundTrip runs every rig of the read-only benchmarks a few
// times: each request reads visits=42, and the session still loads with
// visits 42 from the last response's cookie (or the request's, when the
// response set none).
func TestReadOnlyRoundTrip(t *testing.T) {
	for _, set := range []struct {
		name string
		rigs []namedRig
	}{{"ReadOnly", readOnlyRigs}, {"ReadOnlyRefresh", refreshRigs}} {
		for _, nr := range set.rigs {
			t.Run(set.name+"/"+nr.name, func(t *testing.T) {
				r, err := nr.make(t)
				if err != nil {
					t.Fatal(err)
				}
				if r.close != nil {
					t.Cleanup(r.close)
				}
				for i := range 4 {
					if err := checkRoundTrip(r, readOnly); err != nil {
						t.Fatalf("request %d: %v", i+1, err)
					}
				}
			})
		}
	}
}

// TestBackendCalls checks what the benchmarks report of this package's
// server-side stores: per request of the changing scenario one load and
// one write; of the read-only one, one load, no write, no touch and no
// Set-Cookie; with a refresh on every Save, one load and one touch (and a
// cookie), or one more load and one write for a backend without Touch.
func TestBackendCalls(t *testing.T) {
	type want struct {
		calls  callCounts // per request
		cookie bool
	}
	stores := []struct {
		name string
		make func(tb testing.TB, sc scenario) (*rig, error)
	}{
		{"MemoryStore", func(tb testing.TB, sc scenario) (*rig, error) {
			return newOurScenarioRig(memoryStore(tb), true, sc)
		}},
		{"FilesystemStore", func(tb testing.TB, sc scenario) (*rig, error) {
			return newOurScenarioRig(filesystemStore(tb), true, sc)
		}},
		{"RedisStore", func(tb testing.TB, sc scenario) (*rig, error) { return newOurRedisRig(redisAddr(tb), sc) }},
		{"PostgresStore", newOurPostgresRig},
		{"NoToucher", func(tb testing.TB, sc scenario) (*rig, error) {
			// A backend with none of the optional extensions: the
			// counting wrapper answers ErrUnsupported for them.
			st := sessions.NewMemoryStore(hashKey, blockKey)
			st.Backend = struct{ sessions.Backend }{st.Backend}
			return newOurScenarioRig(st, true, sc)
		}},
	}
	const n = 5
	for _, st := range stores {
		for _, tc := range []struct {
			name    string
			sc      scenario
			refresh bool
			want    want
		}{
			// A change rewrites the record; the ID cookie is re-sent only
			// when its refresh is due.
			{"changing", changing, false, want{callCounts{loads: 1, writes: 1}, false}},
			{"changing, refresh on every Save", changing, true, want{callCounts{loads: 1, writes: 1}, true}},
			{"read-only", readOnly, false, want{callCounts{loads: 1}, false}},
			{"read-only, refresh on every Save", readOnly, true, want{callCounts{loads: 1, touches: 1}, true}},
		} {
			t.Run(st.name+"/"+tc.name, func(t *testing.T) {
				r, err := st.make(t, tc.sc)
				if err != nil {
					t.Fatal(err)
				}
				if r.close != nil {
					t.Cleanup(r.close)
				}
				if tc.refresh {
					r.refreshAll()
				}
				w := tc.want
				if st.name == "NoToucher" && tc.refresh && tc.sc == readOnly {
					// A refresh that rewrites an unchanged record reads
					// it again first, so as not to write stale values
					// over a newer save.
					w.calls = callCounts{loads: 2, writes: 1}
				}
				// As in the benchmarks: the round trip, then the count.
				if err := checkRoundTrip(r, tc.sc); err != nil {
					t.Fatal(err)
				}
				before := r.calls.counts()
				for i := range n {
					if err := r.serve(); err != nil {
						t.Fatalf("request %d: %v", i+1, err)
					}
					_, err := responseCookie(r.response, cookieName)
					if cookie := err == nil; cookie != w.cookie {
						t.Fatalf("request %d: Set-Cookie sent: %v, want %v", i+1, cookie, w.cookie)
					}
				}
				got := r.calls.counts().minus(before)
				wantN := callCounts{w.calls.loads * n, w.calls.writes * n, w.calls.touches * n, w.calls.deletes * n}
				if got != wantN {
					t.Fatalf("%d requests: %v, want %v", n, got, wantN)
				}
			})
		}
	}
}
