package redisstore_test

import (
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/fasthttp-sessions/sessions"
	"github.com/fasthttp-sessions/sessions/internal/redistest"
	"github.com/fasthttp-sessions/sessions/internal/testsrv"
	"github.com/fasthttp-sessions/sessions/redisstore"
	"github.com/redis/go-redis/v9"
	"github.com/valyala/fasthttp"
)

// shop is the application of the failover tests: /login?user=NAME logs in
// under a new ID, /visit counts visits, /logout logs out, / shows. When Get
// fails for another reason than a bad cookie (Redis is unreachable) it
// answers 503 without saving, so that an outage never logs a user out; a
// failed Save answers 503 too. Every response lists, one per line, what
// the handler saw: new, user, visits, get, save.
func shop(store *redisstore.Store) fasthttp.RequestHandler {
	return func(ctx *fasthttp.RequestCtx) {
		s, getErr := store.Get(ctx, cookieName)
		visits, _ := s.GetInt("visits")
		report := func(saveErr error) {
			fmt.Fprintf(ctx, "new=%v\nuser=%s\nvisits=%d\nget=%v\nsave=%v\n", s.IsNew, s.GetString("user"), visits, getErr, saveErr)
		}
		if getErr != nil {
			ctx.SetStatusCode(fasthttp.StatusServiceUnavailable)
			report(nil)
			return
		}
		switch string(ctx.Path()) {
		case "/login":
			s.RenewID()
			s.Values["user"] = string(ctx.QueryArgs().Peek("user"))
		case "/visit":
			visits++
			s.Values["visits"] = visits
		case "/logout":
			s.Options.MaxAge = -1
		}
		var saveErr error
		if string(ctx.Path()) != "/" {
			saveErr = s.Save(ctx)
		}
		if saveErr != nil {
			ctx.SetStatusCode(fasthttp.StatusServiceUnavailable)
		}
		report(saveErr)
	}
}

// page is one response of shop.
type page struct {
	code   int
	f      map[string]string // new, user, visits, get, save
	cookie string            // the Set-Cookie for the session, "" when none
}

func (p page) String() string {
	return fmt.Sprintf("%d %v Set-Cookie %q", p.code, p.f, p.cookie)
}

// visit sends GET path with c's cookies and returns the response; a
// transport error is returned, not fatal, so that goroutines may call it.
func visit(c *testsrv.Client, path string) (page, error) {
	code, body, err := c.TryGet(path)
	if err != nil {
		return page{}, err
	}
	p := page{code: code, f: map[string]string{}, cookie: c.SetCookie(cookieName)}
	for line := range strings.SplitSeq(strings.TrimSpace(body), "\n") {
		k, v, _ := strings.Cut(line, "=")
		p.f[k] = v
	}
	return p, nil
}

func mustVisit(t *testing.T, c *testsrv.Client, path string) page {
	t.Helper()
	p, err := visit(c, path)
	if err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
	return p
}

// loggedIn checks that p shows user's existing session, saved.
func loggedIn(t *testing.T, what string, p page, user string) {
	t.Helper()
	if p.code != 200 || p.f["new"] != "false" || p.f["user"] != user || p.f["get"] != "<nil>" || p.f["save"] != "<nil>" {
		t.Fatalf("%s: %v, want %s's session", what, p, user)
	}
}

// login logs c in as user and fails the test unless the login was saved
// and set a cookie.
func login(t *testing.T, c *testsrv.Client, user string) {
	t.Helper()
	p := mustVisit(t, c, "/login?user="+user)
	if p.code != 200 || p.f["user"] != user || p.f["save"] != "<nil>" || p.cookie == "" {
		t.Fatalf("login of %s: %v", user, p)
	}
}

// loggedOut checks that p shows a new, empty session, without error.
func loggedOut(t *testing.T, what string, p page) {
	t.Helper()
	if p.code != 200 || p.f["new"] != "true" || p.f["user"] != "" || p.f["get"] != "<nil>" {
		t.Fatalf("%s: %v, want a new session", what, p)
	}
}

// untilServed sends GET path with c until the answer is not a 503 (the
// application reaches Redis again), up to a minute, and returns it.
func untilServed(t *testing.T, c *testsrv.Client, path string) page {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for {
		p := mustVisit(t, c, path)
		if p.code != fasthttp.StatusServiceUnavailable {
			return p
		}
		if time.Now().After(deadline) {
			t.Fatalf("GET %s: still %v a minute after the failover", path, p)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// failoverClient returns a Sentinel client of g, closed when the test ends.
func failoverClient(t *testing.T, g *redistest.Sentinel) *redis.Client {
	c := redis.NewFailoverClient(&redis.FailoverOptions{
		MasterName:            redistest.MasterName,
		SentinelAddrs:         g.Addrs(),
		ContextTimeoutEnabled: true,
	})
	t.Cleanup(func() { c.Close() })
	return c
}

// newStore returns a store over client with a short Timeout, so that
// requests during a failover fail fast.
func newStore(t *testing.T, client redis.UniversalClient) *redisstore.Store {
	t.Helper()
	s := redisstore.New(client, keys...)
	s.Timeout = 500 * time.Millisecond
	if err := s.CheckClient(); err != nil {
		t.Fatal(err)
	}
	return s
}

// TestSentinelFailover kills the master under two running applications,
// one on redis.NewFailoverClient, one on redis.NewUniversalClient with
// MasterName, while users keep visiting: requests fail cleanly while no
// master is reachable, every replicated session is readable after Sentinel
// promotes a replica, through the same clients, and saves work again.
func TestSentinelFailover(t *testing.T) {
	t.Parallel()
	g := redistest.StartSentinel(t, redistest.SentinelConfig{Replicas: 2})
	universal := redis.NewUniversalClient(&redis.UniversalOptions{
		Addrs:                 g.Addrs(),
		MasterName:            redistest.MasterName,
		ContextTimeoutEnabled: true,
	})
	t.Cleanup(func() { universal.Close() })
	apps := []*testsrv.Server{
		testsrv.New(t, shop(newStore(t, failoverClient(t, g)))),
		testsrv.New(t, shop(newStore(t, universal))),
	}

	type user struct {
		name string
		c    *testsrv.Client
	}
	var users []user
	for i := range 6 {
		u := user{fmt.Sprintf("user%d", i), apps[i%2].NewClient(1)}
		login(t, u.c, u.name)
		users = append(users, u)
	}
	// What must survive is what the replicas have: an acknowledged write
	// that no replica has yet may be lost (see TestLogoutLostWithoutWait).
	master := g.Master()
	redistest.WaitSync(t, master, g.Replicas(master)...)
	staleCookie := users[0].c.Jar[cookieName]

	// Users keep visiting during the failover, each through its own
	// instance and cookie jar.
	stop := make(chan struct{})
	var (
		wg       sync.WaitGroup
		mu       sync.Mutex
		problems []string
		served   = map[int]int{} // responses by status
	)
	for _, u := range users {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				before := u.c.Jar[cookieName]
				p, err := visit(u.c, "/visit")
				var problem string
				switch {
				case err != nil:
					problem = err.Error()
				case p.f["user"] != u.name && p.f["user"] != "":
					problem = "another user's session"
				case p.code == 200 && (p.f["new"] != "false" || p.f["user"] != u.name || p.f["save"] != "<nil>"):
					problem = "a 200 without the user's saved session"
				case p.code == 503 && p.cookie != "":
					problem = "a failed request set a cookie"
				case p.code == 503 && u.c.Jar[cookieName] != before:
					problem = "a failed request changed the cookie"
				case p.code == 503 && p.f["get"] != "<nil>" && (p.f["new"] != "true" || p.f["user"] != "" || p.f["visits"] != "0" || !strings.HasPrefix(p.f["get"], "sessions: ")):
					problem = "a failed Get without a new, empty session and a sessions error"
				case p.code == 503 && p.f["get"] == "<nil>" && !strings.HasPrefix(p.f["save"], "sessions: "):
					problem = "a failed Save without a sessions error"
				case p.code != 200 && p.code != 503:
					problem = "unexpected status"
				}
				mu.Lock()
				served[p.code]++
				if problem != "" {
					problems = append(problems, fmt.Sprintf("%s: %s: %v", u.name, problem, p))
				}
				mu.Unlock()
				time.Sleep(20 * time.Millisecond) // a user's pace, not a wait for an event
			}
		}()
	}

	killed := time.Now()
	old := g.KillMaster()
	// Straight after the kill, through the first instance: a user with a
	// session gets a Get error and a usable new session, a newcomer
	// logging in gets a Save error and no cookie.
	returning := apps[0].NewClient(1)
	returning.Jar[cookieName] = staleCookie
	got := mustVisit(t, returning, "/visit")
	newcomer := apps[0].NewClient(1)
	attempt := mustVisit(t, newcomer, "/login?user=newcomer")
	if g.AllName(old) {
		// No sentinel named another master yet, so no client could reach
		// one: both requests ran while there was none.
		if got.code != 503 || got.f["new"] != "true" || got.f["user"] != "" || !strings.HasPrefix(got.f["get"], "sessions: ") || got.cookie != "" {
			t.Errorf("a request with a session while no master is reachable: %v", got)
		}
		if returning.Jar[cookieName] != staleCookie {
			t.Error("a failed Get changed the user's cookie")
		}
		if attempt.code != 503 || !strings.HasPrefix(attempt.f["save"], "sessions: ") || attempt.cookie != "" || newcomer.Jar[cookieName] != "" {
			t.Errorf("a login while no master is reachable: %v", attempt)
		}
	} else {
		t.Logf("the failover was over before the first requests ended (%v, %v): no request ran without a master", got, attempt)
	}

	// The first successful save through each instance's client.
	for i, app := range apps {
		p := untilServed(t, app.NewClient(1), fmt.Sprintf("/login?user=probe%d", i))
		if p.code != 200 || p.f["save"] != "<nil>" || p.cookie == "" {
			t.Fatalf("instance %d after the failover: %v", i, p)
		}
		t.Logf("instance %d (%s): first successful save %v after SIGKILL", i, []string{"NewFailoverClient", "NewUniversalClient"}[i], time.Since(killed).Round(time.Millisecond))
	}
	promoted := g.WaitFailover(old)
	t.Logf("all sentinels name %s as master %v after SIGKILL", promoted.Addr(), time.Since(killed).Round(time.Millisecond))
	close(stop)
	wg.Wait()
	t.Logf("responses during the test: %v", served)
	for _, p := range problems {
		t.Error(p)
	}

	// Every user is still logged in, and saves.
	for _, u := range users {
		p := untilServed(t, u.c, "/visit")
		loggedIn(t, u.name+" after the failover", p, u.name)
	}
	// A new login through one instance is read through the other, and a
	// logout is seen by both.
	carol := apps[0].NewClient(1)
	login(t, carol, "carol")
	other := apps[1].NewClient(1)
	other.Jar[cookieName] = carol.Jar[cookieName]
	loggedIn(t, "carol through the other instance", mustVisit(t, other, "/visit"), "carol")
	if p := mustVisit(t, other, "/logout"); p.code != 200 || !strings.Contains(strings.ToLower(p.cookie), "max-age=0") {
		t.Fatalf("logout after the failover: %v", p)
	}
	loggedOut(t, "carol's cookie after the logout", mustVisit(t, carol, "/"))
}

// TestDurableLogout logs out with WaitReplicas and kills the master as
// soon as the logout's Save has returned: the replica Sentinel promotes has
// the deletion, and a stolen copy of the cookie gets a new session.
func TestDurableLogout(t *testing.T) {
	t.Parallel()
	g := redistest.StartSentinel(t, redistest.SentinelConfig{Replicas: 1})
	client := failoverClient(t, g)
	store := newStore(t, client)
	store.WaitReplicas = 1
	store.WaitTimeout = 4 * time.Second // the replica is up: WAIT returns when it confirms
	app := testsrv.New(t, shop(store))
	// The same application with a short WaitTimeout, for when WAIT can
	// only time out.
	hasty := newStore(t, client)
	hasty.WaitReplicas = 1
	hasty.WaitTimeout = 100 * time.Millisecond
	hastyApp := testsrv.New(t, shop(hasty))

	alice := app.NewClient(1)
	login(t, alice, "alice")
	thief := app.NewClient(1)
	thief.Jar[cookieName] = alice.Jar[cookieName]
	p := mustVisit(t, alice, "/logout")
	if p.code != 200 || p.f["save"] != "<nil>" || !strings.Contains(strings.ToLower(p.cookie), "max-age=0") {
		t.Fatalf("logout: %v", p)
	}
	old := g.KillMaster()
	g.WaitFailover(old)
	loggedOut(t, "the stolen cookie after the failover", untilServed(t, thief, "/"))

	// The promoted replica has no replica of its own: a logout cannot be
	// confirmed, and says so (WaitReplicas must stay below the number of
	// replicas for logouts to work through a failover).
	bob := hastyApp.NewClient(1)
	login(t, bob, "bob")
	p = mustVisit(t, bob, "/logout")
	if p.code != 503 || !strings.Contains(p.f["save"], "Redis replicas did not confirm") || p.cookie != "" {
		t.Fatalf("logout with no replica: %v", p)
	}
	// The same, straight on the store: the error wraps ErrNotReplicated.
	dave := do(hasty, "", set("user", "dave"))
	if dave.saveErr != nil {
		t.Fatal(dave.saveErr)
	}
	x := do(hasty, dave.cookie, func(s *sessions.Session) { s.Options.MaxAge = -1 })
	mustNotReplicate(t, "Save of a logout with no replica", x.saveErr)
	if x.header != "" {
		t.Errorf("a logout that was not confirmed set a cookie: %s", x.header)
	}
}

// TestLogoutLostWithoutWait shows the default's limit: with the replica
// cut off from the master, a logout succeeds on the master alone, and once
// Sentinel promotes the replica the session is back. With WaitReplicas the
// same logout fails and says that it is not certain.
func TestLogoutLostWithoutWait(t *testing.T) {
	t.Parallel()
	g := redistest.StartSentinel(t, redistest.SentinelConfig{Replicas: 1})
	client := failoverClient(t, g)
	plain := newStore(t, client)
	durable := newStore(t, client)
	durable.WaitReplicas = 1
	durable.WaitTimeout = 100 * time.Millisecond // the replica is cut off: WAIT can only time out
	plainApp, durableApp := testsrv.New(t, shop(plain)), testsrv.New(t, shop(durable))

	alice, bob := plainApp.NewClient(1), durableApp.NewClient(1)
	login(t, alice, "alice")
	login(t, bob, "bob")
	carol := do(durable, "", set("user", "carol"))
	if carol.saveErr != nil {
		t.Fatal(carol.saveErr)
	}
	thief := plainApp.NewClient(1)
	thief.Jar[cookieName] = alice.Jar[cookieName]
	master, replica := g.Master(), g.Replicas(g.Master())[0]
	redistest.WaitSync(t, master, replica)
	redistest.CutLink(t, master, replica) // the DELs below cannot reach it

	if p := mustVisit(t, alice, "/logout"); p.code != 200 || p.f["save"] != "<nil>" || !strings.Contains(strings.ToLower(p.cookie), "max-age=0") {
		t.Fatalf("alice's logout without WaitReplicas: %v", p)
	}
	p := mustVisit(t, bob, "/logout")
	if p.code != 503 || !strings.Contains(p.f["save"], "Redis replicas did not confirm the write: WAIT counted 0 of 1 replicas") || p.cookie != "" {
		t.Fatalf("bob's logout with WaitReplicas: %v", p)
	}
	x := do(durable, carol.cookie, func(s *sessions.Session) { s.Options.MaxAge = -1 })
	mustNotReplicate(t, "Save of a logout", x.saveErr)
	if x.header != "" {
		t.Errorf("a logout that was not confirmed set a cookie: %s", x.header)
	}

	old := g.KillMaster()
	if promoted := g.WaitFailover(old); promoted != replica {
		t.Fatalf("promoted %s, not the replica %s", promoted.Addr(), replica.Addr())
	}
	// The limit of the default: alice's logout is undone.
	loggedIn(t, "the stolen copy of alice's cookie after the failover", untilServed(t, thief, "/visit"), "alice")
	// Bob was told his logout was not certain: it was not.
	loggedIn(t, "bob after the failover", untilServed(t, bob, "/visit"), "bob")
}

// TestWaitIsNotConsensus shows what WaitReplicas cannot promise: the one
// replica that confirmed a logout is not the one Sentinel promotes (it has
// replica-priority 0, and the other was cut off), so the logout is undone
// although its Save succeeded. WaitReplicas equal to the number of
// replicas, or replica priorities that favour the confirming replicas,
// avoid this.
func TestWaitIsNotConsensus(t *testing.T) {
	t.Parallel()
	g := redistest.StartSentinel(t, redistest.SentinelConfig{Replicas: 2, NodeArgs: func(i int) []string {
		if i == 2 {
			return []string{"--replica-priority", "0"} // never promoted
		}
		return nil
	}})
	store := newStore(t, failoverClient(t, g))
	store.WaitReplicas = 1
	store.WaitTimeout = 4 * time.Second
	app := testsrv.New(t, shop(store))
	master, candidate, confirmer := g.Nodes[0], g.Nodes[1], g.Nodes[2]

	alice := app.NewClient(1)
	login(t, alice, "alice")
	thief := app.NewClient(1)
	thief.Jar[cookieName] = alice.Jar[cookieName]
	redistest.WaitSync(t, master, candidate, confirmer)
	redistest.CutLink(t, master, candidate)
	if p := mustVisit(t, alice, "/logout"); p.code != 200 || p.f["save"] != "<nil>" {
		t.Fatalf("logout confirmed by one replica: %v", p)
	}
	old := g.KillMaster()
	if promoted := g.WaitFailover(old); promoted != candidate {
		t.Fatalf("promoted %s, not %s", promoted.Addr(), candidate.Addr())
	}
	loggedIn(t, "the stolen cookie after the failover", untilServed(t, thief, "/visit"), "alice")
}
