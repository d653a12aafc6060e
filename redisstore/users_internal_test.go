package redisstore

import (
	"context"
	"testing"
	"time"

	"github.com/fasthttp-sessions/sessions/internal/backendkit"
	"github.com/fasthttp-sessions/sessions/internal/redistest"
	"github.com/fasthttp-sessions/sessions/sessionstest"
	"github.com/redis/go-redis/v9"
)

// TestPruneSparesYoungEntries checks the last step of prune on its own:
// an entry whose record was found gone is removed only if it is still
// older than the grace when the script runs, so that an entry added again
// between the EXISTS and the removal (or one a caller wrongly took for
// old) stays.
func TestPruneSparesYoungEntries(t *testing.T) {
	client := redis.NewClient(&redis.Options{Addr: redistest.Start(t).Addr(), ContextTimeoutEnabled: true})
	t.Cleanup(func() { client.Close() })
	clock := sessionstest.NewClock()
	store := New(client, sessionstest.Keys...)
	store.Now = clock.Now
	b := store.Backend.(*backend)
	ctx := context.Background()
	old, young := sessionstest.NewID(), sessionstest.NewID()
	if err := b.AddUserID(ctx, "alice", old); err != nil {
		t.Fatal(err)
	}
	clock.Advance(backendkit.UserIndexGrace)
	if err := b.AddUserID(ctx, "alice", young); err != nil { // or added again
		t.Fatal(err)
	}
	clock.Advance(time.Millisecond)
	n, err := b.prune(ctx, b.userKey("alice"), []string{old, young}, clock.Now())
	if err != nil || n != 1 {
		t.Fatalf("prune = %d, %v; want the old entry removed", n, err)
	}
	ids, err := client.ZRange(ctx, b.userKey("alice"), 0, -1).Result()
	if err != nil || len(ids) != 1 || ids[0] != young {
		t.Fatalf("left after prune: %v, %v; want only the young entry", ids, err)
	}
}
