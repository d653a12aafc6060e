package redisstore_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/fasthttp-sessions/sessions"
	"github.com/fasthttp-sessions/sessions/internal/redistest"
	"github.com/fasthttp-sessions/sessions/redisstore"
	"github.com/fasthttp-sessions/sessions/sessionstest"
	"github.com/redis/go-redis/v9"
)

// userKey is the Redis key of the set of user, as the store's doc says.
func userKey(prefix, user string) string {
	sum := sha256.Sum256([]byte(user))
	return prefix + "user:" + hex.EncodeToString(sum[:])
}

// userIDs returns the IDs of the set of user, sorted, failing the test on
// an error.
func userIDs(t *testing.T, ui sessions.UserIndex, user string) []string {
	t.Helper()
	ids, err := ui.UserIDs(context.Background(), user)
	if err != nil {
		t.Fatalf("UserIDs(%q): %v", user, err)
	}
	slices.Sort(ids)
	return ids
}

func sortedIDs(ids ...string) []string {
	ids = slices.Clone(ids)
	slices.Sort(ids)
	return ids
}

// TestUserIndex checks, on a standalone server and on a cluster, what the
// conformance suite's UserKeys (one set per user key, whatever its bytes)
// does not see: a set is a sorted set with no TTL, under KeyPrefix +
// "user:" + the hex SHA-256 of the user key, gone with its last ID; errors
// name the command and wrap go-redis's.
func TestUserIndex(t *testing.T) {
	t.Run("standalone", func(t *testing.T) {
		testUserIndex(t, clientOf(t, redistest.Start(t)))
	})
	t.Run("cluster", func(t *testing.T) {
		testUserIndex(t, clusterClientOf(t, redistest.StartCluster(t)))
	})
}

func testUserIndex(t *testing.T, client redis.UniversalClient) {
	store := redisstore.New(client, keys...)
	store.KeyPrefix = "{x}u:" // a hash tag in the prefix; none from user keys
	ui, ok := store.Backend.(sessions.UserIndex)
	if !ok {
		t.Fatalf("the backend %T is not a sessions.UserIndex", store.Backend)
	}
	ctx := context.Background()
	if ids, err := ui.UserIDs(ctx, "alice"); ids != nil || err != nil {
		t.Fatalf("UserIDs of a user with no set: %v, %v", ids, err)
	}
	a1, a2 := sessionstest.NewID(), sessionstest.NewID()
	for _, id := range []string{a1, a2, a1} {
		if err := ui.AddUserID(ctx, "alice", id); err != nil {
			t.Fatalf("AddUserID(alice, %s): %v", id, err)
		}
	}
	key := userKey("{x}u:", "alice")
	if n := client.ZCard(ctx, key).Val(); n != 2 {
		t.Fatalf("ZCARD %s = %d, want 2", key, n)
	}
	if ttl := client.PTTL(ctx, key).Val(); ttl != -1 {
		t.Fatalf("the set of a user has a TTL (%v): a session refreshed for longer would lose its entry", ttl)
	}

	// The last ID removed takes the set with it.
	for _, id := range []string{a1, a2} {
		if err := ui.RemoveUserID(ctx, "alice", id); err != nil {
			t.Fatal(err)
		}
	}
	if n := client.Exists(ctx, key).Val(); n != 0 {
		t.Fatal("an empty set is left behind")
	}

	// Errors name the command and wrap go-redis's.
	client.Set(ctx, userKey("{x}u:", "dave"), "not a set", 0)
	for what, err := range map[string]error{
		"AddUserID":    ui.AddUserID(ctx, "dave", a1),
		"RemoveUserID": ui.RemoveUserID(ctx, "dave", a1),
		"UserIDs":      func() error { _, err := ui.UserIDs(ctx, "dave"); return err }(),
	} {
		var rerr redis.Error
		if !errors.As(err, &rerr) || !strings.Contains(err.Error(), "WRONGTYPE") {
			t.Errorf("%s on a key of another type: %v does not wrap the redis error", what, err)
		}
		startsWithSessions(t, what, err)
	}
}

// records returns the IDs of the records under prefix on every primary of
// client, sorted: the keys under prefix but those of user sets.
func records(t *testing.T, client *redis.ClusterClient, prefix string) []string {
	t.Helper()
	var (
		mu  sync.Mutex
		ids []string
	)
	err := client.ForEachMaster(context.Background(), func(ctx context.Context, c *redis.Client) error {
		keys, err := c.Keys(ctx, prefix+"*").Result()
		mu.Lock()
		defer mu.Unlock()
		for _, k := range keys {
			if id := strings.TrimPrefix(k, prefix); !strings.HasPrefix(id, "user:") {
				ids = append(ids, id)
			}
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(ids)
	return ids
}

// clockStore returns a store on a new server whose clock is clock.
func clockStore(t *testing.T, clock *sessionstest.Clock) (*redisstore.Store, *redis.Client) {
	client := clientOf(t, redistest.Start(t))
	store := redisstore.New(client, keys...)
	store.KeyPrefix = "p:"
	store.Now = clock.Now
	return store, client
}

// addAll adds ids to the set of user and creates a record for each of live.
func addAll(t *testing.T, store *redisstore.Store, user string, dead, live []string) {
	t.Helper()
	ctx := context.Background()
	ui := store.Backend.(sessions.UserIndex)
	for _, id := range append(slices.Clone(dead), live...) {
		if err := ui.AddUserID(ctx, user, id); err != nil {
			t.Fatal(err)
		}
	}
	for _, id := range live {
		if err := store.Backend.Create(ctx, id, []byte("x"), time.Hour); err != nil {
			t.Fatal(err)
		}
	}
}

func newIDs(n int) []string {
	ids := make([]string, n)
	for i := range ids {
		ids[i] = sessionstest.NewID()
	}
	return ids
}

// TestUserIndexPrune checks that the entries whose record is gone leave
// the set, at UserIDs and at AddUserID, but never before ten minutes
// after they were added (on the store's clock), even in a set over the
// bound; that UserIDs still reports every entry it read; and that sets at
// or under the bound are left alone by AddUserID.
func TestUserIndexPrune(t *testing.T) {
	clock := sessionstest.NewClock()
	store, client := clockStore(t, clock)
	ui := store.Backend.(sessions.UserIndex)
	ctx := context.Background()
	dead, live := newIDs(40), newIDs(5)
	addAll(t, store, "alice", dead, live)
	key := userKey("p:", "alice")
	card := func(want int64, when string) {
		t.Helper()
		if n := client.ZCard(ctx, key).Val(); n != want {
			t.Fatalf("%s: the set holds %d entries, want %d", when, n, want)
		}
	}

	// Young entries stay, over the bound and with their records absent.
	late := sessionstest.NewID()
	for _, step := range []time.Duration{0, 5 * time.Minute, 5 * time.Minute} {
		clock.Advance(step)
		if got := userIDs(t, ui, "alice"); len(got) != 45 {
			t.Fatalf("UserIDs %v after the adds: %d IDs, want 45", step, len(got))
		}
		card(45, "UserIDs within the grace")
	}
	if err := ui.AddUserID(ctx, "alice", late); err != nil { // exactly ten minutes later
		t.Fatal(err)
	}
	card(46, "AddUserID ten minutes after the others")

	// A millisecond later the dead ones go. UserIDs still reports them:
	// it read them, and the caller must see them (see UserIDs).
	clock.Advance(time.Millisecond)
	if got := userIDs(t, ui, "alice"); len(got) != 46 {
		t.Fatalf("UserIDs past the grace: %d IDs, want the 46 it read", len(got))
	}
	card(int64(len(live)+1), "UserIDs past the grace")
	want := sortedIDs(append(slices.Clone(live), late)...)
	if got := userIDs(t, ui, "alice"); !slices.Equal(got, want) {
		t.Fatalf("after pruning: %v, want the live ones and the late one %v", got, want)
	}
	// The live ones were marked as found live: their scores are now.
	for _, id := range live {
		if s := client.ZScore(ctx, key, id).Val(); int64(s) != clock.Now().UnixMilli() {
			t.Errorf("score of a live entry after pruning: %v, want %d", s, clock.Now().UnixMilli())
		}
	}

	// A set at the bound is not pruned by AddUserID, only by UserIDs.
	small := newIDs(31)
	addAll(t, store, "bob", small, nil)
	clock.Advance(11 * time.Minute)
	if err := ui.AddUserID(ctx, "bob", sessionstest.NewID()); err != nil {
		t.Fatal(err)
	}
	if n := client.ZCard(ctx, userKey("p:", "bob")).Val(); n != 32 {
		t.Fatalf("a set of 32 after AddUserID: %d entries", n)
	}
	userIDs(t, ui, "bob")
	if n := client.ZCard(ctx, userKey("p:", "bob")).Val(); n != 1 {
		t.Fatalf("bob's set after UserIDs: %d entries, want the young one", n)
	}
}

// TestUserIndexPruneOnAdd checks that the set of a user who never lists
// their sessions stays bounded: each AddUserID over the bound checks a
// batch of the oldest entries, and the live ones it finds move behind the
// others, so that more live sessions than a batch do not shield the dead
// entries behind them.
func TestUserIndexPruneOnAdd(t *testing.T) {
	clock := sessionstest.NewClock()
	store, client := clockStore(t, clock)
	ui := store.Backend.(sessions.UserIndex)
	ctx := context.Background()
	dead, live := newIDs(60), newIDs(40)
	addAll(t, store, "carol", dead, live)
	clock.Advance(11 * time.Minute)
	key := userKey("p:", "carol")
	adds := 0
	for ; adds < 8 && client.ZCard(ctx, key).Val() > int64(len(live)+adds); adds++ {
		if err := ui.AddUserID(ctx, "carol", sessionstest.NewID()); err != nil {
			t.Fatal(err)
		}
		clock.Advance(time.Second)
	}
	if n := client.ZCard(ctx, key).Val(); n != int64(len(live)+adds) {
		t.Fatalf("after %d AddUserIDs the set holds %d entries, want the %d live ones and the new ones", adds, n, len(live)+adds)
	}
	for _, id := range live {
		if _, err := client.ZScore(ctx, key, id).Result(); err != nil {
			t.Fatalf("a live entry was pruned: %v", err)
		}
	}
	t.Logf("60 dead entries pruned by %d AddUserIDs", adds)
}

// TestUserIndexOutage checks the index methods while Redis does not
// answer: each fails within the store's Timeout with an error that wraps
// the deadline, and works again once Redis is back.
func TestUserIndexOutage(t *testing.T) {
	srv := redistest.Start(t)
	store := redisstore.New(clientOf(t, srv), keys...)
	store.Timeout = 200 * time.Millisecond
	ui := store.Backend.(sessions.UserIndex)
	ctx := context.Background()
	id := sessionstest.NewID()
	srv.Signal(syscall.SIGSTOP)
	resumed := false
	defer func() {
		if !resumed {
			srv.Signal(syscall.SIGCONT)
		}
	}()
	for what, err := range map[string]error{
		"AddUserID":    ui.AddUserID(ctx, "alice", id),
		"RemoveUserID": ui.RemoveUserID(ctx, "alice", id),
		"UserIDs":      func() error { _, err := ui.UserIDs(ctx, "alice"); return err }(),
	} {
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("%s during an outage: %v", what, err)
		}
		startsWithSessions(t, what, err)
	}
	srv.Signal(syscall.SIGCONT)
	resumed = true
	if err := ui.AddUserID(ctx, "alice", id); err != nil {
		t.Fatalf("AddUserID once Redis is back: %v", err)
	}
}

// TestUserIndexFailover checks that the invariant of the index, a live
// record bound to a user is in the user's set, survives a cluster failover
// with WaitReplicas: the set and the record live on different primaries,
// so AddUserID waits for the replica of the set's primary, and fails
// (and so does the login) when it cannot. Without WaitReplicas, a ZADD
// that had not reached the replica is lost with its primary while the
// record lives on: RevokeUser would miss that session.
func TestUserIndexFailover(t *testing.T) {
	t.Parallel()
	cluster := redistest.NewCluster(t, 1)
	client := clusterClientOf(t, cluster.Addrs())
	ctx := context.Background()
	primary := cluster.Nodes[0]
	replica := cluster.ReplicaOf(primary)
	masterOf := func(key string) string {
		t.Helper()
		m, err := client.MasterForKey(ctx, key)
		if err != nil {
			t.Fatal(err)
		}
		return m.Options().Addr
	}
	// Three users whose sets live on primary, and IDs whose records do not.
	var users, ids []string
	for i := 0; len(users) < 3; i++ {
		if u := "user" + string(rune('a'+i%26)) + strings.Repeat("x", i/26); masterOf(userKey("f:", u)) == primary.Addr() {
			users = append(users, u)
		}
	}
	for len(ids) < 3 {
		if id := sessionstest.NewID(); masterOf("f:"+id) != primary.Addr() {
			ids = append(ids, id)
		}
	}
	durable, plain := redisstore.New(client, keys...), redisstore.New(client, keys...)
	durable.KeyPrefix, plain.KeyPrefix = "f:", "f:"
	durable.WaitReplicas, durable.WaitTimeout = 1, 4*time.Second
	bind := func(store *redisstore.Store, user, id string) error {
		if err := store.Backend.(sessions.UserIndex).AddUserID(ctx, user, id); err != nil {
			return err
		}
		return store.Backend.Create(ctx, id, []byte("x"), time.Hour)
	}
	if err := bind(durable, users[0], ids[0]); err != nil {
		t.Fatal(err)
	}
	redistest.WaitSync(t, primary, replica)
	redistest.CutLink(t, primary, replica)
	if err := bind(plain, users[1], ids[1]); err != nil {
		t.Fatalf("without WaitReplicas, with the replica cut off: %v", err)
	}
	durable.WaitTimeout = 100 * time.Millisecond
	mustNotReplicate(t, "AddUserID with the replica cut off", durable.Backend.(sessions.UserIndex).AddUserID(ctx, users[2], ids[2]))
	// A login through the store fails the same way, and leaves no cookie.
	x := do(durable, "", func(s *sessions.Session) { s.SetUser(users[2]); s.RenewID() })
	mustNotReplicate(t, "a login with the replica of the user's set cut off", x.saveErr)
	if x.cookie != "" {
		t.Errorf("a login whose index entry was not confirmed set a cookie: %s", x.header)
	}
	// Nor a record: the only ones are still the two bound above.
	if got, want := records(t, client, "f:"), sortedIDs(ids[:2]...); !slices.Equal(got, want) {
		t.Errorf("records after the failed login: %v, want only %v", got, want)
	}

	primary.Kill()
	cluster.WaitPromoted(replica)
	var got []string
	var err error
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		if got, err = plain.Backend.(sessions.UserIndex).UserIDs(ctx, users[0]); err == nil {
			break
		}
	}
	if err != nil || !slices.Equal(got, ids[:1]) {
		t.Fatalf("the waited entry after the failover: %v, %v; want %v", got, err, ids[:1])
	}
	// The limit without WaitReplicas: the record lives, its entry is gone.
	if _, _, err := plain.Backend.Load(ctx, ids[1]); err != nil {
		t.Fatalf("the record of the unwaited entry: %v", err)
	}
	if got := userIDs(t, plain.Backend.(sessions.UserIndex), users[1]); len(got) != 0 {
		t.Fatalf("the unwaited entry survived the failover (%v): the test shows nothing", got)
	}
}
