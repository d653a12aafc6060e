package bench

import (
	"testing"

	"github.com/fasthttp-sessions/sessions"
	fhmemory "github.com/fasthttp/session/v2/providers/memory"
)

// TestRoundTrip runs every rig of the benchmarks a few times and checks the
// scenario's round trip (visits 42 -> 43 read back from the response), so
// that CI exercises what the benchmarks measure.
func TestRoundTrip(t *testing.T) {
	rigs := []struct {
		name string
		make func(t *testing.T) (*rig, error)
	}{
		{"BareFasthttp", func(*testing.T) (*rig, error) { return newBareRig() }},
		{"CookieStore", func(*testing.T) (*rig, error) { return newOurRig(newOurCookieStore(), false) }},
		{"CookieStoreRegistry", func(*testing.T) (*rig, error) { return newOurRig(newOurCookieStore(), true) }},
		{"GorillaCookieStore", func(*testing.T) (*rig, error) { return newGorillaRig(newGorillaCookieStore(), changing) }},
		{"FilesystemStore", func(t *testing.T) (*rig, error) {
			return newOurRig(sessions.NewFilesystemStore(t.TempDir(), hashKey, blockKey), true)
		}},
		{"GorillaFilesystemStore", func(t *testing.T) (*rig, error) {
			return newGorillaRig(newGorillaFilesystemStore(t.TempDir()), changing)
		}},
		{"MemoryStore", func(*testing.T) (*rig, error) {
			return newOurRig(sessions.NewMemoryStore(hashKey, blockKey), true)
		}},
		{"FasthttpSessionMemory", func(t *testing.T) (*rig, error) {
			p, err := fhmemory.New(fhmemory.Config{})
			if err != nil {
				t.Fatal(err)
			}
			return newFasthttpSessionRig(p, changing)
		}},
		{"FiberSessionMemory", func(*testing.T) (*rig, error) { return newFiberRig(changing) }},
		{"SCSMemstore", func(*testing.T) (*rig, error) { return newSCSRig(changing) }},
		{"RedisStore", func(t *testing.T) (*rig, error) { return newOurRedisRig(redisAddr(t), changing) }},
		{"FasthttpSessionRedis", func(t *testing.T) (*rig, error) { return newFasthttpSessionRedisRig(redisAddr(t), changing) }},
		{"PostgresStore", func(t *testing.T) (*rig, error) { return newOurPostgresRig(t, changing) }},
		{"SCSPostgres", func(t *testing.T) (*rig, error) { return newSCSPostgresRig(t, changing) }},
	}
	for _, tc := range rigs {
		t.Run(tc.name, func(t *testing.T) {
			r, err := tc.make(t)
			if err != nil {
				t.Fatal(err)
			}
			if r.close != nil {
				t.Cleanup(r.close)
			}
			if err := checkRoundTrip(r, changing); err != nil {
				t.Fatal(err)
			}
			// Later requests repeat the work: cookie stores go from 42 to
			// 43 again, server-side stores count on.
			for i := range 3 {
				if err := r.serve(); err != nil {
					t.Fatalf("request %d: %v", i+2, err)
				}
			}
			n, err := r.visits()
			if err != nil {
				t.Fatal(err)
			}
			if n != startVisits+1 && n != startVisits+4 {
				t.Fatalf("after 4 requests visits = %d, want %d (cookie) or %d (server-side)", n, startVisits+1, startVisits+4)
			}
		})
	}
}
