package redisstore_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/fasthttp-sessions/sessions"
	"github.com/fasthttp-sessions/sessions/internal/redistest"
	"github.com/fasthttp-sessions/sessions/internal/testsrv"
	"github.com/fasthttp-sessions/sessions/redisstore"
	"github.com/fasthttp-sessions/sessions/sessionstest"
	"github.com/redis/go-redis/v9"
	"github.com/valyala/fasthttp"
)

const cookieName = "sid"

var keys = sessionstest.Keys

// conformance runs the conformance suite on stores over client, each store
// under its own KeyPrefix.
func conformance(t *testing.T, client redis.UniversalClient, brk func(*testing.T, sessions.Store) func()) {
	var n atomic.Int64
	sessionstest.Run(t, sessionstest.Config{
		ServerSide: true,
		RealClock:  true,
		NewStore: func(t *testing.T, now func() time.Time, keyPairs ...[]byte) sessions.Store {
			s := redisstore.New(client, keyPairs...)
			s.KeyPrefix = fmt.Sprintf("conformance%d_", n.Add(1))
			s.Now = now
			return s
		},
		Break: brk,
		// Another application sharing the database writes a hash where
		// the record was: every GET of it fails with WRONGTYPE.
		Spoil: func(t *testing.T, store sessions.Store, id string) {
			ctx := context.Background()
			key := store.(*redisstore.Store).KeyPrefix + id
			if n, err := client.Del(ctx, key).Result(); n != 1 || err != nil {
				t.Fatalf("DEL %s: %d, %v", key, n, err)
			}
			if err := client.HSet(ctx, key, "f", "v").Err(); err != nil {
				t.Fatal(err)
			}
		},
	})
}

func TestConformance(t *testing.T) {
	srv := redistest.Start(t)
	// An outage: the server stops answering (SIGSTOP), and every call
	// runs into the store's Timeout.
	conformance(t, clientOf(t, srv), func(t *testing.T, store sessions.Store) func() {
		store.(*redisstore.Store).Timeout = 300 * time.Millisecond
		srv.Signal(syscall.SIGSTOP)
		return func() { srv.Signal(syscall.SIGCONT) }
	})
}

func TestConformanceCluster(t *testing.T) {
	addrs := redistest.StartCluster(t)
	client := clusterClientOf(t, addrs)
	conformance(t, client, nil)
	// The records really are spread over the three primaries.
	var withKeys atomic.Int64
	err := client.ForEachMaster(context.Background(), func(ctx context.Context, c *redis.Client) error {
		n, err := c.DBSize(ctx).Result()
		if n > 0 {
			withKeys.Add(1)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if withKeys.Load() < 2 {
		t.Errorf("records on %d of 3 primaries", withKeys.Load())
	}
}

// exchange is one request straight on the store: it loads the session from
// cookie (none when ""), lets fn change it, and saves it.
type exchange struct {
	session *sessions.Session
	getErr  error
	saveErr error
	// cookie is the session cookie the response set, "" when none.
	cookie string
	// header is the raw Set-Cookie.
	header string
}

func do(store sessions.Store, cookie string, fn func(*sessions.Session)) exchange {
	var req fasthttp.Request
	if cookie != "" {
		req.Header.SetCookie(cookieName, cookie)
	}
	ctx := new(fasthttp.RequestCtx)
	ctx.Init(&req, nil, nil)
	var x exchange
	x.session, x.getErr = store.Get(ctx, cookieName)
	if fn != nil {
		fn(x.session)
	}
	x.saveErr = x.session.Save(ctx)
	ck := fasthttp.AcquireCookie()
	defer fasthttp.ReleaseCookie(ck)
	ck.SetKey(cookieName)
	if ctx.Response.Header.Cookie(ck) {
		x.cookie = string(ck.Value())
		x.header = ck.String()
	}
	return x
}

func set(k string, v any) func(*sessions.Session) {
	return func(s *sessions.Session) { s.Values[k] = v }
}

// startsWithSessions checks the project's error prefix.
func startsWithSessions(t *testing.T, what string, err error) {
	t.Helper()
	if err == nil || !strings.HasPrefix(err.Error(), "sessions: ") {
		t.Errorf("%s: error %v does not start with \"sessions: \"", what, err)
	}
}

func TestBackend(t *testing.T) {
	srv := redistest.Start(t)
	client := clientOf(t, srv)
	store := redisstore.New(client, keys...)
	store.KeyPrefix = "b:"
	b := store.Backend
	ctx := context.Background()
	id := sessionstest.NewID()

	if _, _, err := b.Load(ctx, id); !errors.Is(err, sessions.ErrRecordNotFound) {
		t.Fatalf("Load of a missing key: %v", err)
	}
	if err := b.Update(ctx, id, []byte("x"), time.Minute); !errors.Is(err, sessions.ErrRecordNotFound) {
		t.Fatalf("Update of a missing key: %v", err)
	}
	if err := b.Delete(ctx, id); !errors.Is(err, sessions.ErrRecordNotFound) {
		t.Fatalf("Delete of a missing key: %v", err)
	}
	if n := client.Exists(ctx, "b:"+id).Val(); n != 0 {
		t.Fatal("Update of a missing key created it")
	}
	if err := b.Create(ctx, id, []byte("one"), time.Minute); err != nil {
		t.Fatal(err)
	}
	if err := b.Create(ctx, id, []byte("two"), time.Minute); !errors.Is(err, sessions.ErrRecordExists) {
		t.Fatalf("second Create: %v", err)
	}
	data, expires, err := b.Load(ctx, id)
	if err != nil || string(data) != "one" {
		t.Fatalf("Load = %q, %v", data, err)
	}
	if d := time.Until(expires); d < 58*time.Second || d > time.Minute {
		t.Fatalf("Load: expires in %v, want about a minute", d)
	}
	// Touch extends the TTL without rewriting the record.
	toucher, ok := b.(sessions.Toucher)
	if !ok {
		t.Fatalf("the backend %T is not a sessions.Toucher", b)
	}
	if err := toucher.Touch(ctx, id, 2*time.Hour); err != nil {
		t.Fatalf("Touch: %v", err)
	}
	if d := client.PTTL(ctx, "b:"+id).Val(); d < 2*time.Hour-time.Minute || d > 2*time.Hour {
		t.Fatalf("after Touch the PTTL is %v, want about two hours", d)
	}
	if got := client.Get(ctx, "b:"+id).Val(); got != "one" {
		t.Fatalf("after Touch the key holds %q", got)
	}
	missing := sessionstest.NewID()
	if err := toucher.Touch(ctx, missing, time.Hour); !errors.Is(err, sessions.ErrRecordNotFound) {
		t.Fatalf("Touch of a missing key: %v", err)
	}
	if n := client.Exists(ctx, "b:"+missing).Val(); n != 0 {
		t.Fatal("Touch of a missing key created it")
	}
	if err := b.Update(ctx, id, []byte("three"), time.Hour); err != nil {
		t.Fatal(err)
	}
	if got := client.Get(ctx, "b:"+id).Val(); got != "three" {
		t.Fatalf("after Update the key holds %q", got)
	}
	if d := client.PTTL(ctx, "b:"+id).Val(); d < 59*time.Minute || d > time.Hour {
		t.Fatalf("after Update the PTTL is %v, want about an hour", d)
	}
	// A key without a TTL (not written by the store) never expires.
	client.Persist(ctx, "b:"+id)
	if _, expires, err := b.Load(ctx, id); err != nil || !expires.IsZero() {
		t.Fatalf("Load of a key without TTL: expires %v, %v", expires, err)
	}
	// A sub-millisecond TTL is rounded up: Redis rejects PX 0.
	id2 := sessionstest.NewID()
	if err := b.Create(ctx, id2, []byte("x"), time.Microsecond); err != nil {
		t.Fatalf("Create with a 1µs TTL: %v", err)
	}
	if err := b.Delete(ctx, id); err != nil {
		t.Fatal(err)
	}
	if err := b.Update(ctx, id, []byte("stale"), time.Minute); !errors.Is(err, sessions.ErrRecordNotFound) {
		t.Fatalf("Update after Delete: %v", err)
	}
	if n := client.Exists(ctx, "b:"+id).Val(); n != 0 {
		t.Fatal("a stale Update revived a deleted key")
	}
	if err := toucher.Touch(ctx, id, time.Hour); !errors.Is(err, sessions.ErrRecordNotFound) {
		t.Fatalf("Touch after Delete: %v", err)
	}
	if n := client.Exists(ctx, "b:"+id).Val(); n != 0 {
		t.Fatal("a Touch revived a deleted key")
	}

	// Redis errors are wrapped and start with "sessions: ".
	client.HSet(ctx, "b:"+id, "f", "v")
	_, _, err = b.Load(ctx, id)
	var rerr redis.Error
	if !errors.As(err, &rerr) {
		t.Errorf("Load of a hash: %v does not wrap the redis error", err)
	}
	startsWithSessions(t, "Load of a hash", err)
	// SET XX replaces a key of any type: not an error.
	if err := b.Update(ctx, id, []byte("x"), time.Minute); err != nil {
		t.Errorf("Update of a hash: %v", err)
	}
}

func TestTTL(t *testing.T) {
	srv := redistest.Start(t)
	client := clientOf(t, srv)
	ctx := context.Background()
	store := redisstore.New(client, keys...)
	store.KeyPrefix = "myapp:"
	pttl := func(id string) time.Duration {
		t.Helper()
		d, err := client.PTTL(ctx, "myapp:"+id).Result()
		if err != nil {
			t.Fatal(err)
		}
		return d
	}

	x := do(store, "", func(s *sessions.Session) { s.Values["a"] = 1; s.Options.MaxAge = 60 })
	if x.saveErr != nil {
		t.Fatal(x.saveErr)
	}
	if d := pttl(x.session.ID); d < 59*time.Second || d > 60*time.Second {
		t.Errorf("MaxAge 60: PTTL %v", d)
	}
	// The default MaxAge: 30 days.
	x = do(store, "", set("a", 1))
	if d := pttl(x.session.ID); d < 30*24*time.Hour-time.Minute || d > 30*24*time.Hour {
		t.Errorf("default MaxAge: PTTL %v", d)
	}
	// MaxAge 0: 24 hours, or BrowserSessionTTL.
	browser := func(s *sessions.Session) { s.Values["a"] = 1; s.Options.MaxAge = 0 }
	x = do(store, "", browser)
	if d := pttl(x.session.ID); d < 24*time.Hour-time.Minute || d > 24*time.Hour {
		t.Errorf("MaxAge 0: PTTL %v, want 24h", d)
	}
	store.BrowserSessionTTL = 2 * time.Hour
	x = do(store, "", browser)
	if d := pttl(x.session.ID); d < 2*time.Hour-time.Minute || d > 2*time.Hour {
		t.Errorf("MaxAge 0 with BrowserSessionTTL 2h: PTTL %v", d)
	}
	// An idle timeout cuts the TTL short.
	idle := do(store, "", func(s *sessions.Session) { s.Values["a"] = 1; s.Options.IdleTimeout = 10 * time.Minute })
	if d := pttl(idle.session.ID); d < 9*time.Minute || d > 10*time.Minute {
		t.Errorf("IdleTimeout 10m: PTTL %v", d)
	}
	// A later Save sets the TTL again.
	client.PExpire(ctx, "myapp:"+x.session.ID, time.Minute)
	y := do(store, x.cookie, set("b", 2))
	if y.getErr != nil || y.saveErr != nil || y.session.IsNew {
		t.Fatalf("reload: %v %v new=%v", y.getErr, y.saveErr, y.session.IsNew)
	}
	if d := pttl(x.session.ID); d < 2*time.Hour-time.Minute {
		t.Errorf("a Save did not renew the TTL: %v", d)
	}

	// Logout deletes the key.
	id := x.session.ID
	z := do(store, x.cookie, func(s *sessions.Session) { s.Options.MaxAge = -1 })
	if z.saveErr != nil {
		t.Fatal(z.saveErr)
	}
	if n := client.Exists(ctx, "myapp:"+id).Val(); n != 0 {
		t.Error("logout left the key")
	}

	// Redis expires records itself: the cookie then yields a new session
	// and no error.
	x = do(store, "", set("a", 1))
	client.PExpire(ctx, "myapp:"+x.session.ID, 20*time.Millisecond)
	time.Sleep(50 * time.Millisecond)
	y = do(store, x.cookie, nil)
	if y.getErr != nil || !y.session.IsNew || len(y.session.Values) != 0 || y.session.ID == x.session.ID {
		t.Errorf("after Redis expired the key: err=%v new=%v values=%v id=%s", y.getErr, y.session.IsNew, y.session.Values, y.session.ID)
	}

	// KeyPrefix is honoured: nothing under the default prefix, and every
	// key under ours holds a valid ID.
	all, err := client.Keys(ctx, "*").Result()
	if err != nil {
		t.Fatal(err)
	}
	if len(all) == 0 {
		t.Fatal("no keys at all")
	}
	for _, k := range all {
		id, ok := strings.CutPrefix(k, "myapp:")
		if !ok || !sessionstest.ValidID(id) {
			t.Errorf("key %q is not KeyPrefix+ID", k)
		}
	}
}

// app is a minimal application on a store: /set?user=NAME logs in (with a
// new ID), /logout logs out, / shows.
func app(store *redisstore.Store) fasthttp.RequestHandler {
	return func(ctx *fasthttp.RequestCtx) {
		s, getErr := store.Get(ctx, cookieName)
		switch string(ctx.Path()) {
		case "/set":
			s.RenewID()
			s.Values["user"] = string(ctx.QueryArgs().Peek("user"))
		case "/logout":
			s.Options.MaxAge = -1
		}
		saveErr := sessions.Save(ctx)
		fmt.Fprintf(ctx, "new=%v user=%s get=%v save=%v", s.IsNew, s.GetString("user"), getErr, saveErr)
	}
}

func TestTwoInstances(t *testing.T) {
	srv := redistest.Start(t)
	// Two application instances: each its own client, store and server.
	a := testsrv.New(t, app(redisstore.New(clientOf(t, srv), keys...)))
	b := testsrv.New(t, app(redisstore.New(clientOf(t, srv), keys...)))

	ca := a.NewClient(1)
	_, body := ca.Get("/set?user=alice")
	testsrv.MustContain(t, body, "user=alice", "save=<nil>")
	cookie := ca.Jar[cookieName]

	cb := b.NewClient(1)
	cb.Jar[cookieName] = cookie
	_, body = cb.Get("/")
	testsrv.MustContain(t, body, "new=false", "user=alice", "get=<nil>", "save=<nil>")

	// A logout through one instance is seen by the other.
	_, body = cb.Get("/logout")
	testsrv.MustContain(t, body, "save=<nil>")
	_, body = ca.Get("/")
	testsrv.MustContain(t, body, "new=true", "user= ", "get=<nil>")
	// Logging in again through a gives a new cookie that b reads.
	_, body = ca.Get("/set?user=bob")
	testsrv.MustContain(t, body, "user=bob", "save=<nil>")
	if ca.Jar[cookieName] == cookie {
		t.Fatal("the new login kept the logged-out cookie")
	}
	cb.Jar[cookieName] = ca.Jar[cookieName]
	_, body = cb.Get("/")
	testsrv.MustContain(t, body, "new=false", "user=bob")
}

func TestSessionOwner(t *testing.T) {
	srv := redistest.Start(t)
	store := redisstore.New(clientOf(t, srv), keys...)
	x := do(store, "", nil)
	if x.session.Store() != sessions.Store(store.ServerStore) {
		t.Errorf("Store() = %T", x.session.Store())
	}
	if store.Options == nil || store.Options.MaxAge != 30*24*3600 || store.KeyPrefix != "session_" || store.Timeout != time.Second {
		t.Errorf("defaults: %+v %q %v", store.Options, store.KeyPrefix, store.Timeout)
	}
	store.MaxAge(600)
	if store.Options.MaxAge != 600 {
		t.Error("MaxAge did not set Options.MaxAge")
	}
	if store.Client() == nil {
		t.Error("Client() is nil")
	}
}

func TestCheckClient(t *testing.T) {
	for _, tc := range []struct {
		name   string
		client redis.UniversalClient
		bad    bool
	}{
		{"client without", redis.NewClient(&redis.Options{Addr: "127.0.0.1:1"}), true},
		{"client with", redis.NewClient(&redis.Options{Addr: "127.0.0.1:1", ContextTimeoutEnabled: true}), false},
		{"failover without", redis.NewFailoverClient(&redis.FailoverOptions{MasterName: "m", SentinelAddrs: []string{"127.0.0.1:1"}}), true},
		{"cluster without", redis.NewClusterClient(&redis.ClusterOptions{Addrs: []string{"127.0.0.1:1"}}), true},
		{"cluster with", redis.NewClusterClient(&redis.ClusterOptions{Addrs: []string{"127.0.0.1:1"}, ContextTimeoutEnabled: true}), false},
		{"ring without", redis.NewRing(&redis.RingOptions{Addrs: map[string]string{"a": "127.0.0.1:1"}}), true},
		{"universal with", redis.NewUniversalClient(&redis.UniversalOptions{Addrs: []string{"127.0.0.1:1"}, ContextTimeoutEnabled: true}), false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			defer tc.client.Close()
			err := redisstore.New(tc.client, keys...).CheckClient()
			if tc.bad != errors.Is(err, redisstore.ErrContextTimeoutDisabled) || (!tc.bad && err != nil) {
				t.Fatalf("CheckClient() = %v", err)
			}
			if tc.bad {
				startsWithSessions(t, "CheckClient", err)
				if !strings.Contains(err.Error(), "ReadTimeout") || !strings.Contains(err.Error(), "5s") {
					t.Errorf("CheckClient() = %v: no ReadTimeout", err)
				}
			}
		})
	}
}

// TestRedisRestart stops Redis under a running store, checks that requests
// fail cleanly, restarts it and checks that the data and the client are
// back.
func TestRedisRestart(t *testing.T) {
	srv := redistest.Start(t, "--appendonly", "yes", "--appendfsync", "always")
	var dials atomic.Int64
	dialer := &net.Dialer{}
	client := redis.NewClient(&redis.Options{
		Addr:        srv.Addr(),
		DialTimeout: 200 * time.Millisecond,
		MaxRetries:  1,
		// A pool this large never reaches go-redis's breaker (which opens
		// after PoolSize failed dials and then probes in the background):
		// every dial counted below is one of the request's own attempts.
		PoolSize:              100,
		ContextTimeoutEnabled: true,
		Dialer: func(ctx context.Context, network, addr string) (net.Conn, error) {
			dials.Add(1)
			return dialer.DialContext(ctx, network, addr)
		},
	})
	t.Cleanup(func() { client.Close() })
	store := redisstore.New(client, keys...)
	store.Timeout = 500 * time.Millisecond

	var cookies []string
	for i := range 3 {
		x := do(store, "", set("n", i))
		if x.saveErr != nil {
			t.Fatal(x.saveErr)
		}
		cookies = append(cookies, x.cookie)
	}

	srv.Stop()
	// Each Redis call dials at most DialerRetries (5) times per attempt,
	// and makes at most 1+MaxRetries attempts; a request makes at most two
	// calls (Load, then the SET NX of its Save).
	const maxDials = 2 * 5 * (1 + 1)
	for i, cookie := range append(cookies, "") {
		before := dials.Load()
		x := do(store, cookie, set("m", i))
		n := dials.Load() - before
		t.Logf("Redis down, request %d: %d dials\n\tGet: %v\n\tSave: %v", i, n, x.getErr, x.saveErr)
		if n < 1 || n > maxDials {
			t.Errorf("request %d dialled %d times, want 1 to %d", i, n, maxDials)
		}
		if cookie != "" {
			if x.getErr == nil || errors.Is(x.getErr, sessions.ErrRecordNotFound) {
				t.Fatalf("Get with Redis down: %v", x.getErr)
			}
			startsWithSessions(t, "Get", x.getErr)
			// go-redis's own retries (five dials 100 ms apart, a back-off,
			// five more) outlast Timeout: the store's deadline ends them.
			if !errors.Is(x.getErr, context.DeadlineExceeded) {
				t.Errorf("Get error %v: the store's deadline was not hit", x.getErr)
			}
		}
		// Get still gives a usable new session (do set a value in it).
		if !x.session.IsNew || x.session.ID != "" || x.session.Values["m"] != i || x.session.Options == nil {
			t.Errorf("session with Redis down: new=%v id=%q values=%v", x.session.IsNew, x.session.ID, x.session.Values)
		}
		if x.saveErr == nil {
			t.Fatal("Save with Redis down returned nil")
		}
		startsWithSessions(t, "Save", x.saveErr)
		if !errors.Is(x.saveErr, context.DeadlineExceeded) {
			t.Errorf("Save error %v: the store's deadline was not hit", x.saveErr)
		}
		if x.header != "" {
			t.Errorf("Save with Redis down set a cookie: %s", x.header)
		}
	}

	srv.Restart()
	// The same client reconnects by itself (go-redis probes about once a
	// second once its breaker has opened).
	deadline := time.Now().Add(10 * time.Second)
	for {
		x := do(store, cookies[0], nil)
		if x.getErr == nil && x.saveErr == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no recovery 10s after the restart: %v / %v", x.getErr, x.saveErr)
		}
		time.Sleep(50 * time.Millisecond)
	}
	for i, cookie := range cookies {
		x := do(store, cookie, set("after", true))
		if x.getErr != nil || x.saveErr != nil || x.session.IsNew || x.session.Values["n"] != i {
			t.Errorf("session %d after the restart: %v %v new=%v values=%v", i, x.getErr, x.saveErr, x.session.IsNew, x.session.Values)
		}
	}
	x := do(store, "", set("fresh", true))
	if x.saveErr != nil || x.cookie == "" {
		t.Fatalf("new session after the restart: %v", x.saveErr)
	}
	if y := do(store, x.cookie, nil); y.getErr != nil || y.session.Values["fresh"] != true {
		t.Fatalf("reading it back: %v %v", y.getErr, y.session.Values)
	}
}

// TestRedisHung freezes Redis (SIGSTOP): with ContextTimeoutEnabled the
// store's Timeout bounds the request. The client has no read or write
// timeout of its own, so nothing but the store's deadline can end a call
// while Redis is frozen: the request returning at all is the proof.
func TestRedisHung(t *testing.T) {
	srv := redistest.Start(t)
	client := redis.NewClient(&redis.Options{
		Addr:                  srv.Addr(),
		ReadTimeout:           -1, // no timeout: only a context deadline applies
		WriteTimeout:          -1,
		ContextTimeoutEnabled: true,
	})
	t.Cleanup(func() { client.Close() })
	var calls, bounded atomic.Int64
	client.AddHook(deadlineHook{calls: &calls, bounded: &bounded})
	store := redisstore.New(client, keys...)
	store.Timeout = 300 * time.Millisecond
	x := do(store, "", set("a", 1))
	if x.saveErr != nil {
		t.Fatal(x.saveErr)
	}
	srv.Signal(syscall.SIGSTOP)
	done := make(chan exchange, 1)
	var touchErr error
	go func() {
		y := do(store, x.cookie, nil)
		touchErr = store.Backend.(sessions.Toucher).Touch(context.Background(), x.session.ID, time.Hour)
		done <- y
	}()
	var y exchange
	select {
	case y = <-done:
	case <-time.After(time.Minute): // a safety net, not a measure: the calls end after 3 × 300 ms
		srv.Signal(syscall.SIGCONT)
		<-done
		t.Fatal("the request did not return while Redis was frozen: Timeout does not bound it")
	}
	srv.Signal(syscall.SIGCONT)
	t.Logf("Redis frozen:\n\tGet: %v\n\tSave: %v\n\tTouch: %v", y.getErr, y.saveErr, touchErr)
	if y.getErr == nil || y.saveErr == nil || !y.session.IsNew {
		t.Fatalf("with Redis frozen: get=%v save=%v new=%v", y.getErr, y.saveErr, y.session.IsNew)
	}
	for what, err := range map[string]error{"Get": y.getErr, "Save": y.saveErr, "Touch": touchErr} {
		startsWithSessions(t, what, err)
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("%s error %v does not wrap the deadline", what, err)
		}
	}
	if n, b := calls.Load(), bounded.Load(); n == 0 || b != n {
		t.Errorf("%d of %d Redis calls had a deadline", b, n)
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		z := do(store, x.cookie, nil)
		if z.getErr == nil && !z.session.IsNew {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no recovery after SIGCONT: %v", z.getErr)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// deadlineHook counts the commands and pipelines a client runs, and those
// whose context has a deadline.
type deadlineHook struct{ calls, bounded *atomic.Int64 }

func (h deadlineHook) count(ctx context.Context) {
	h.calls.Add(1)
	if _, ok := ctx.Deadline(); ok {
		h.bounded.Add(1)
	}
}

func (deadlineHook) DialHook(next redis.DialHook) redis.DialHook { return next }

func (h deadlineHook) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		h.count(ctx)
		return next(ctx, cmd)
	}
}

func (h deadlineHook) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		h.count(ctx)
		return next(ctx, cmds)
	}
}

// BenchmarkGetSave loads and saves the reference session (three values)
// from a standalone local Redis: one GET+PTTL pipeline and one SET XX.
func BenchmarkGetSave(b *testing.B) {
	srv := redistest.Start(b)
	client := clientOf(b, srv)
	store := redisstore.New(client, keys...)
	x := do(store, "", func(s *sessions.Session) {
		s.Values["user_id"] = "12345"
		s.Values["name"] = "Alice Example"
		s.Values["visits"] = 42
	})
	if x.saveErr != nil {
		b.Fatal(x.saveErr)
	}
	var req fasthttp.Request
	req.Header.SetCookie(cookieName, x.cookie)
	ctx := new(fasthttp.RequestCtx)
	ctx.Init(&req, nil, nil)
	b.ReportAllocs()
	for b.Loop() {
		s, err := store.Get(ctx, cookieName)
		if err != nil || s.IsNew {
			b.Fatalf("Get: %v (new=%v)", err, s.IsNew)
		}
		n, _ := s.GetInt("visits")
		s.Values["visits"] = n + 1
		if err := s.Save(ctx); err != nil {
			b.Fatal(err)
		}
		sessions.Clear(ctx)
		ctx.Response.Reset()
	}
}
