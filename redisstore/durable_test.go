package redisstore_test

import (
	"context"
	"errors"
	"net"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/fasthttp-sessions/sessions"
	"github.com/fasthttp-sessions/sessions/internal/redistest"
	"github.com/fasthttp-sessions/sessions/redisstore"
	"github.com/fasthttp-sessions/sessions/sessionstest"
	"github.com/redis/go-redis/v9"
	"github.com/valyala/fasthttp"
)

// exists reports whether the server at addr holds key, which must hold no
// glob character. It asks with KEYS, which a cluster replica answers
// without redirecting to its primary.
func exists(t testing.TB, addr, key string) bool {
	t.Helper()
	r, err := redistest.Do(addr, "KEYS", key)
	a, ok := r.([]any)
	if err != nil || !ok {
		t.Fatalf("KEYS %s on %s: %v %v", key, addr, r, err)
	}
	return len(a) == 1
}

// mustNotReplicate checks that err is the error of a write that replicas
// did not confirm.
func mustNotReplicate(t *testing.T, what string, err error) {
	t.Helper()
	if !errors.Is(err, redisstore.ErrNotReplicated) {
		t.Fatalf("%s: %v, want an error wrapping ErrNotReplicated", what, err)
	}
	startsWithSessions(t, what, err)
}

// TestDurableDelete checks WaitReplicas on a master with one replica: a
// Delete returns once the replica has the deletion, and fails with
// ErrNotReplicated, whether the key existed or not, while the replica
// cannot get it.
func TestDurableDelete(t *testing.T) {
	t.Parallel()
	nodes := redistest.StartReplicated(t, 1, nil)
	master, replica := nodes[0], nodes[1]
	store := redisstore.New(clientOf(t, master), keys...)
	store.KeyPrefix = "d:"
	store.WaitReplicas = 1
	// Where a test expects the replica to confirm, WAIT may take as long
	// as it likes: it returns as soon as the replica confirms.
	store.WaitTimeout = 4 * time.Second
	b := store.Backend
	ctx := context.Background()

	id := sessionstest.NewID()
	if err := b.Create(ctx, id, []byte("x"), time.Hour); err != nil {
		t.Fatal(err)
	}
	if err := b.Delete(ctx, id); err != nil {
		t.Fatalf("Delete: %v", err)
	}
	// WAIT returned 1: the replica has applied the DEL.
	if exists(t, replica.Addr(), "d:"+id) {
		t.Fatal("the replica still has the key after a waited Delete returned")
	}
	if err := b.Delete(ctx, id); !errors.Is(err, sessions.ErrRecordNotFound) {
		t.Fatalf("Delete of a deleted key: %v", err)
	}

	// The replica can no longer get the writes.
	id2 := sessionstest.NewID()
	if err := b.Create(ctx, id2, []byte("x"), time.Hour); err != nil {
		t.Fatal(err)
	}
	redistest.WaitSync(t, master, replica)
	redistest.CutLink(t, master, replica)
	store.WaitTimeout = 50 * time.Millisecond // WAIT can only time out now
	err := b.Delete(ctx, id2)
	mustNotReplicate(t, "Delete with the replica cut off", err)
	if want := "sessions: redis DEL: Redis replicas did not confirm the write: WAIT counted 0 of 1 replicas within 50ms"; err.Error() != want {
		t.Errorf("Delete: %q, want %q", err, want)
	}
	if exists(t, master.Addr(), "d:"+id2) || !exists(t, replica.Addr(), "d:"+id2) {
		t.Fatal("the master should have deleted the key and the replica kept it")
	}
	// Again: the key is already gone from the master, but a retry must
	// not pass for a confirmed logout.
	mustNotReplicate(t, "a second Delete", b.Delete(ctx, id2))
	if err := b.Delete(ctx, sessionstest.NewID()); !errors.Is(err, redisstore.ErrNotReplicated) {
		t.Errorf("Delete of a key that never existed, replica cut off: %v", err)
	}

	// A WAIT whose answer never comes is no confirmation either. Here the
	// client gives up reading it (its ReadTimeout is shorter than
	// WaitTimeout, which CheckClient reports) after the DEL's reply came;
	// go-redis then fails the whole pipeline with the read's error.
	impatient := redis.NewClient(&redis.Options{Addr: master.Addr(), ReadTimeout: 100 * time.Millisecond, MaxRetries: -1, ContextTimeoutEnabled: true})
	t.Cleanup(func() { impatient.Close() })
	hasty := redisstore.New(impatient, keys...)
	hasty.KeyPrefix, hasty.WaitReplicas, hasty.WaitTimeout = "d:", 1, time.Second
	if hasty.CheckClient() == nil {
		t.Error("CheckClient does not report a WaitTimeout longer than ReadTimeout")
	}
	err = hasty.Backend.Delete(ctx, id2)
	var netErr net.Error
	if !errors.As(err, &netErr) || !netErr.Timeout() {
		t.Errorf("Delete whose WAIT reply was not read: %v does not wrap the read timeout", err)
	}
	startsWithSessions(t, "Delete whose WAIT reply was not read", err)

	// Nothing else waits on a single master.
	id3 := sessionstest.NewID()
	if err := b.Create(ctx, id3, []byte("x"), time.Hour); err != nil {
		t.Errorf("Create: %v", err)
	}
	if err := b.Update(ctx, id3, []byte("y"), time.Hour); err != nil {
		t.Errorf("Update: %v", err)
	}
	if err := b.(sessions.Toucher).Touch(ctx, id3, time.Hour); err != nil {
		t.Errorf("Touch: %v", err)
	}
}

// TestDurableDeleteCoversEarlierDeletes checks that a Delete that finds
// nothing still waits for the deletion that removed the key before: that
// of another request's logout, or of a first attempt whose reply was lost.
// A DEL that removes nothing is not replicated; the store relies on Redis
// recording the connection's WAIT offset after every command, not only
// after writes. Should a Redis version change that, this test fails.
func TestDurableDeleteCoversEarlierDeletes(t *testing.T) {
	t.Parallel()
	nodes := redistest.StartReplicated(t, 1, nil)
	master, replica := nodes[0], nodes[1]
	// One connection, so that its last write is known: the WAIT of the
	// first Delete below made the master record the replica's
	// acknowledgement of it.
	client := redis.NewClient(&redis.Options{Addr: master.Addr(), PoolSize: 1, ContextTimeoutEnabled: true})
	t.Cleanup(func() { client.Close() })
	store := redisstore.New(client, keys...)
	store.WaitReplicas = 1
	store.WaitTimeout = 4 * time.Second
	b := store.Backend
	ctx := context.Background()
	id, other := sessionstest.NewID(), sessionstest.NewID()
	for _, id := range []string{id, other} {
		if err := b.Create(ctx, id, []byte("x"), time.Hour); err != nil {
			t.Fatal(err)
		}
	}
	if err := b.Delete(ctx, other); err != nil {
		t.Fatal(err)
	}

	// The replica stops reading; another connection deletes the key.
	replica.Signal(syscall.SIGSTOP)
	defer replica.Signal(syscall.SIGCONT)
	if n := clientOf(t, master).Del(ctx, store.KeyPrefix+id).Val(); n != 1 {
		t.Fatalf("DEL from another connection: %d", n)
	}
	store.WaitTimeout = 100 * time.Millisecond
	mustNotReplicate(t, "Delete of a key another connection deleted", b.Delete(ctx, id))

	// Once the replica reads again, the deletion is confirmed, and the
	// key was not there: ErrRecordNotFound, which a logout ignores.
	replica.Signal(syscall.SIGCONT)
	store.WaitTimeout = 4 * time.Second
	if err := b.Delete(ctx, id); !errors.Is(err, sessions.ErrRecordNotFound) {
		t.Fatalf("Delete once the replica is back: %v", err)
	}
}

// TestDurableCluster checks WaitReplicas on a cluster of three primaries
// with a replica each: WAIT runs on the primary of each key, Creates wait
// too, a primary whose replica is cut off fails its keys' deletions and
// creations alone, and a deletion confirmed before its primary is killed
// stays done after the replica takes over.
func TestDurableCluster(t *testing.T) {
	t.Parallel()
	cluster := redistest.NewCluster(t, 1)
	client := clusterClientOf(t, cluster.Addrs())
	store := redisstore.New(client, keys...)
	store.KeyPrefix = "c:"
	store.WaitReplicas = 1
	store.WaitTimeout = 4 * time.Second
	if err := store.CheckClient(); err != nil {
		t.Fatal(err)
	}
	b := store.Backend
	ctx := context.Background()

	// IDs by the primary that holds them, until each primary has two.
	byPrimary := map[string][]string{}
	for len(byPrimary) < 3 || len(byPrimary[cluster.Nodes[0].Addr()]) < 2 ||
		len(byPrimary[cluster.Nodes[1].Addr()]) < 2 || len(byPrimary[cluster.Nodes[2].Addr()]) < 2 {
		id := sessionstest.NewID()
		m, err := client.MasterForKey(ctx, "c:"+id)
		if err != nil {
			t.Fatal(err)
		}
		byPrimary[m.Options().Addr] = append(byPrimary[m.Options().Addr], id)
	}
	for addr, ids := range byPrimary {
		replica := cluster.ReplicaOf(cluster.Node(addr))
		if err := b.Create(ctx, ids[0], []byte("x"), time.Hour); err != nil {
			t.Fatalf("Create on %s: %v", addr, err)
		}
		// Create waited: the primary's replica has the record already.
		if !exists(t, replica.Addr(), "c:"+ids[0]) {
			t.Fatalf("the replica of %s lacks a record a waited Create wrote", addr)
		}
		if err := b.(sessions.Toucher).Touch(ctx, ids[0], 2*time.Hour); err != nil {
			t.Fatalf("Touch on %s: %v", addr, err)
		}
		if err := b.Delete(ctx, ids[0]); err != nil {
			t.Fatalf("Delete on %s: %v", addr, err)
		}
		if exists(t, replica.Addr(), "c:"+ids[0]) {
			t.Fatalf("the replica of %s still has a record a waited Delete removed", addr)
		}
	}

	// Cut the replica of the first primary off: its keys fail, the others'
	// do not.
	cut := cluster.Nodes[0]
	redistest.CutLink(t, cut, cluster.ReplicaOf(cut))
	store.WaitTimeout = 100 * time.Millisecond
	mustNotReplicate(t, "Create on the cut primary", b.Create(ctx, byPrimary[cut.Addr()][1], []byte("x"), time.Hour))
	mustNotReplicate(t, "Delete on the cut primary", b.Delete(ctx, byPrimary[cut.Addr()][1]))
	store.WaitTimeout = 4 * time.Second
	for _, s := range cluster.Nodes[1:3] {
		id := byPrimary[s.Addr()][1]
		if err := b.Create(ctx, id, []byte("x"), time.Hour); err != nil {
			t.Fatalf("Create on %s: %v", s.Addr(), err)
		}
	}

	// A logout confirmed on the second primary survives its death; so
	// does a record created there before.
	primary := cluster.Nodes[1]
	replica := cluster.ReplicaOf(primary)
	kept, gone := byPrimary[primary.Addr()][1], byPrimary[primary.Addr()][0]
	if err := b.Create(ctx, gone, []byte("x"), time.Hour); err != nil {
		t.Fatal(err)
	}
	if err := b.Delete(ctx, gone); err != nil {
		t.Fatal(err)
	}
	killed := time.Now()
	primary.Kill()
	cluster.WaitPromoted(replica)
	t.Logf("cluster failover of %s to %s in %v", primary.Addr(), replica.Addr(), time.Since(killed).Round(time.Millisecond))
	// The same client finds the new primary (after MOVED replies or
	// errors from the dead node, it reloads the cluster's layout).
	var data []byte
	var err error
	deadline := time.Now().Add(30 * time.Second)
	for {
		data, _, err = b.Load(ctx, kept)
		if err == nil || time.Now().After(deadline) {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	if err != nil || string(data) != "x" {
		t.Fatalf("a record created before the failover: %q, %v", data, err)
	}
	t.Logf("first successful load through the same client %v after SIGKILL", time.Since(killed).Round(time.Millisecond))
	if _, _, err := b.Load(ctx, gone); !errors.Is(err, sessions.ErrRecordNotFound) {
		t.Fatalf("a record deleted before the failover: %v", err)
	}
	// The new primary has no replica: waited writes on it fail; the other
	// primaries are unaffected.
	store.WaitTimeout = 100 * time.Millisecond
	mustNotReplicate(t, "Delete on the promoted replica", b.Delete(ctx, kept))
	store.WaitTimeout = 4 * time.Second
	if err := b.Delete(ctx, byPrimary[cluster.Nodes[2].Addr()][1]); err != nil {
		t.Fatalf("Delete on the third primary: %v", err)
	}
}

// TestCheckClientWait checks CheckClient's advice about WaitReplicas.
func TestCheckClientWait(t *testing.T) {
	type wrapped struct{ *redis.Client } // a UniversalClient of another type
	c := redis.NewClient(&redis.Options{Addr: "127.0.0.1:1", ContextTimeoutEnabled: true, ReadTimeout: 300 * time.Millisecond})
	defer c.Close()
	for _, tc := range []struct {
		name   string
		client redis.UniversalClient
		wait   time.Duration
		want   string
	}{
		{"client, default wait", c, 0, "WaitTimeout of 500ms is not below the client's ReadTimeout of 300ms"},
		{"client, short wait", c, 100 * time.Millisecond, ""},
		{"wrapped", wrapped{c}, 100 * time.Millisecond, "WaitReplicas needs a *redis.Client, *redis.ClusterClient or *redis.Ring, not redisstore_test.wrapped"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			store := redisstore.New(tc.client, keys...)
			store.WaitReplicas = 1
			store.WaitTimeout = tc.wait
			err := store.CheckClient()
			if tc.want == "" {
				if err != nil {
					t.Fatalf("CheckClient() = %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("CheckClient() = %v, want %q", err, tc.want)
			}
			startsWithSessions(t, "CheckClient", err)
			store.WaitReplicas = 0
			if err := store.CheckClient(); err != nil {
				t.Errorf("without WaitReplicas: %v", err)
			}
		})
	}
	// Delete says the same.
	store := redisstore.New(wrapped{c}, keys...)
	store.WaitReplicas = 1
	if err := store.Backend.Delete(context.Background(), sessionstest.NewID()); err == nil || !strings.Contains(err.Error(), "WaitReplicas needs") {
		t.Errorf("Delete through a wrapped client: %v", err)
	}
}

// logoutRequest loads the session of cookie in a new request and sets it
// to be deleted; the caller saves it.
func logoutRequest(t *testing.T, store *redisstore.Store, cookie string) (*fasthttp.RequestCtx, *sessions.Session) {
	t.Helper()
	var req fasthttp.Request
	req.Header.SetCookie(cookieName, cookie)
	ctx := new(fasthttp.RequestCtx)
	ctx.Init(&req, nil, nil)
	s, err := store.Get(ctx, cookieName)
	if err != nil {
		t.Fatal(err)
	}
	s.Options.MaxAge = -1
	return ctx, s
}

// sessionCookie returns the session's Set-Cookie of ctx's response, or "".
func sessionCookie(ctx *fasthttp.RequestCtx) string {
	for k, v := range ctx.Response.Header.Cookies() {
		if string(k) == cookieName {
			return string(v)
		}
	}
	return ""
}

// TestLogoutRetry checks that a logout that replicas did not confirm can
// be retried in the same request: the session keeps its ID, the second
// Save waits again, and once the replica has the deletion it succeeds and
// deletes the cookie.
func TestLogoutRetry(t *testing.T) {
	t.Parallel()
	nodes := redistest.StartReplicated(t, 1, nil)
	master, replica := nodes[0], nodes[1]
	store := redisstore.New(clientOf(t, master), keys...)
	store.WaitReplicas = 1
	x := do(store, "", set("user", "alice"))
	if x.saveErr != nil {
		t.Fatal(x.saveErr)
	}
	ctx, s := logoutRequest(t, store, x.cookie)
	if s.IsNew {
		t.Fatal("the session did not load")
	}
	replica.Signal(syscall.SIGSTOP) // connected, but confirms nothing
	defer replica.Signal(syscall.SIGCONT)
	store.WaitTimeout = 100 * time.Millisecond
	mustNotReplicate(t, "logout with the replica stopped", s.Save(ctx))
	if c := sessionCookie(ctx); c != "" {
		t.Fatalf("a logout that was not confirmed set a cookie: %s", c)
	}
	replica.Signal(syscall.SIGCONT)
	store.WaitTimeout = 4 * time.Second // WAIT returns as soon as the replica confirms
	if err := s.Save(ctx); err != nil {
		t.Fatalf("the logout saved again once the replica is back: %v", err)
	}
	if c := strings.ToLower(sessionCookie(ctx)); !strings.Contains(c, "max-age=0") {
		t.Fatalf("the confirmed logout's cookie: %q", c)
	}
}

// TestRetriedLogoutWaits checks that a logout request made again with the
// cookie of a logout that replicas did not confirm does not report
// success before they confirm. The record is already gone from the
// master: ServerStore deletes the cookie's ID anyway, and that Delete
// waits for the earlier DEL.
func TestRetriedLogoutWaits(t *testing.T) {
	t.Parallel()
	nodes := redistest.StartReplicated(t, 1, nil)
	master, replica := nodes[0], nodes[1]
	store := redisstore.New(clientOf(t, master), keys...)
	store.WaitReplicas = 1
	store.WaitTimeout = 100 * time.Millisecond
	x := do(store, "", set("user", "alice"))
	if x.saveErr != nil {
		t.Fatal(x.saveErr)
	}
	redistest.CutLink(t, master, replica)
	ctx, s := logoutRequest(t, store, x.cookie)
	mustNotReplicate(t, "the first logout", s.Save(ctx))
	ctx, s = logoutRequest(t, store, x.cookie)
	err := s.Save(ctx)
	mustNotReplicate(t, "the same logout in a second request", err)
	if c := sessionCookie(ctx); c != "" {
		t.Fatalf("the second logout set a cookie: %s", c)
	}
}

// TestDurableRing checks WaitReplicas on a Ring of two masters, each with
// a replica: Creates and Deletes wait on the master of their key.
func TestDurableRing(t *testing.T) {
	t.Parallel()
	a, b := redistest.StartReplicated(t, 1, nil), redistest.StartReplicated(t, 1, nil)
	replicaOf := map[string]*redistest.Server{a[0].Addr(): a[1], b[0].Addr(): b[1]}
	ring := redis.NewRing(&redis.RingOptions{
		Addrs:                 map[string]string{"a": a[0].Addr(), "b": b[0].Addr()},
		ContextTimeoutEnabled: true,
	})
	t.Cleanup(func() { ring.Close() })
	store := redisstore.New(ring, keys...)
	store.KeyPrefix = "r:"
	store.WaitReplicas = 1
	store.WaitTimeout = 4 * time.Second
	if err := store.CheckClient(); err != nil {
		t.Fatal(err)
	}
	bk := store.Backend
	ctx := context.Background()
	// Two IDs on each master.
	byMaster := map[string][]string{}
	for len(byMaster[a[0].Addr()]) < 2 || len(byMaster[b[0].Addr()]) < 2 {
		id := sessionstest.NewID()
		c, err := ring.GetShardClientForKey("r:" + id)
		if err != nil {
			t.Fatal(err)
		}
		byMaster[c.Options().Addr] = append(byMaster[c.Options().Addr], id)
	}
	for addr, ids := range byMaster {
		if err := bk.Create(ctx, ids[0], []byte("x"), time.Hour); err != nil {
			t.Fatalf("Create on %s: %v", addr, err)
		}
		if !exists(t, replicaOf[addr].Addr(), "r:"+ids[0]) {
			t.Fatalf("the replica of %s lacks a record a waited Create wrote", addr)
		}
		if err := bk.Delete(ctx, ids[0]); err != nil {
			t.Fatalf("Delete on %s: %v", addr, err)
		}
		if exists(t, replicaOf[addr].Addr(), "r:"+ids[0]) {
			t.Fatalf("the replica of %s still has a record a waited Delete removed", addr)
		}
	}
	redistest.CutLink(t, a[0], a[1])
	hasty := redisstore.New(ring, keys...)
	hasty.KeyPrefix, hasty.WaitReplicas, hasty.WaitTimeout = "r:", 1, 100*time.Millisecond
	mustNotReplicate(t, "Create on the cut master", hasty.Backend.Create(ctx, byMaster[a[0].Addr()][1], []byte("x"), time.Hour))
	if err := bk.Create(ctx, byMaster[b[0].Addr()][1], []byte("x"), time.Hour); err != nil {
		t.Fatalf("Create on the other master: %v", err)
	}
}
