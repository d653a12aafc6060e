package sessionstest

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"sync"
	"time"

	"github.com/fasthttp-sessions/sessions"
	"github.com/valyala/fasthttp"
)

func testRoundTrip(e *env) {
	c := e.client()
	e.get(c, "/", "new=true", "get=nil", "save=nil")
	if _, ok := c.Jar[cookieName]; ok {
		e.t.Fatal("sessions.Save saved a new, empty session")
	}
	e.get(c, "/setmany", "new=true", "save=nil")
	want := "{7:string=int-key,bool:bool=true,bytes:[]uint8=616263,float64:float64=2.5,int64:int64=-7,int:int=42,string:string=text,time:time.Time=2026-11-21T12:00:00Z,uint8:uint8=200}"
	e.get(c, "/", "new=false", "values="+want)
	e.get(c, "/set?user=alice", "values="+strings.Replace(want, "uint8=200}", "uint8=200,user:string=alice}", 1))
}

func testFlashes(e *env) {
	c := e.client()
	e.get(c, "/flash?m=hello", "save=nil")
	e.get(c, "/flash?m=again", "save=nil")
	e.get(c, "/flashes", "flashes=[hello")
	e.get(c, "/flashes", "flashes=[]", "values={}")
}

func testMaxAgePersistent(e *env) {
	c := e.client()
	e.get(c, "/set?a=1")
	h := c.SetCookie(cookieName)
	for _, w := range []string{"Max-Age=2592000", "Expires=", "Path=/", "HttpOnly", "SameSite=Lax"} {
		if !strings.Contains(h, w) {
			e.t.Errorf("default Set-Cookie %q lacks %q", h, w)
		}
	}
}

func testBrowserSession(e *env) {
	e.resignEverySave()
	c := e.client()
	e.get(c, "/browser")
	h := c.SetCookie(cookieName)
	if strings.Contains(h, "Max-Age") || strings.Contains(h, "Expires") {
		e.t.Fatalf("browser-session cookie %q has an expiry", h)
	}
	// The data survives further requests (gorilla's FilesystemStore loses it).
	e.get(c, "/set?a=1")
	e.get(c, "/browser")
	e.get(c, "/", "new=false", "values={a:string=1}")
	e.get(c, "/set?b=2", "new=false", "values={a:string=1,b:string=2}")
	if h := c.SetCookie(cookieName); h == "" || strings.Contains(h, "Max-Age") {
		e.t.Fatalf("MaxAge 0 was not kept: %q", h)
	}
}

func testDelete(e *env) {
	c := e.client()
	e.get(c, "/set?a=1")
	old := c.Jar[cookieName]
	e.get(c, "/logout", "save=nil")
	h := c.SetCookie(cookieName)
	if !strings.Contains(h, "Max-Age=0") || !strings.Contains(h, "Expires=Thu, 01 Jan 1970") {
		e.t.Fatalf("deletion cookie %q", h)
	}
	if _, ok := c.Jar[cookieName]; ok {
		e.t.Fatal("the client kept the deleted cookie")
	}
	e.get(c, "/", "new=true", "values={}")
	if e.cfg.ServerSide {
		// A stolen copy of the cookie is useless after logout.
		c.Jar[cookieName] = old
		e.get(c, "/", "new=true", "values={}", "get=nil")
	}
}

func testRememberMe(e *env) {
	e.resignEverySave()
	c := e.client()
	e.get(c, "/set?u=1")
	e.get(c, "/remember")
	if h := c.SetCookie(cookieName); !strings.Contains(h, "Max-Age=3600") {
		e.t.Fatalf("remember me: %q", h)
	}
	// Later requests keep the session's own MaxAge without setting it again.
	e.get(c, "/set?v=2", "values={u:string=1,v:string=2}")
	if h := c.SetCookie(cookieName); !strings.Contains(h, "Max-Age=3600") {
		e.t.Fatalf("a later Save forgot the session's MaxAge: %q", h)
	}
	e.get(c, "/browser")
	e.get(c, "/set?w=3")
	if h := c.SetCookie(cookieName); h == "" || strings.Contains(h, "Max-Age") {
		e.t.Fatalf("MaxAge 0 after remember me was not kept: %q", h)
	}
}

func testBadCookies(e *env) {
	c := e.client()
	e.get(c, "/set?a=1")
	good := c.Jar[cookieName]
	flipped := []byte(good)
	flipped[len(flipped)/3] ^= 0x01
	for _, bad := range []struct{ value, get string }{
		{"garbage", "invalid"},
		{string(flipped), "invalid"},
		{strings.Repeat("QUFB", 1500), "toolong|invalid"},
		{good[:len(good)/2], "invalid"},
		{"%00%2e%2e%2f", "invalid"},
	} {
		c2 := e.client()
		c2.Jar[cookieName] = bad.value
		body := e.get(c2, "/set?fresh=1", "new=true", "values={fresh:string=1}", "save=nil")
		if g := field(body, "get"); !strings.Contains("|"+bad.get+"|", "|"+g+"|") {
			e.t.Errorf("cookie %.20q: get=%s, want %s", bad.value, g, bad.get)
		}
		if c2.Jar[cookieName] == bad.value {
			e.t.Errorf("cookie %.20q was not replaced by a fresh session", bad.value)
		}
	}
}

// testNoCrossTalk runs users in parallel over shared keep-alive
// connections: each must see only its own values.
func testNoCrossTalk(e *env) {
	hc := e.srv.HostClient(4)
	var wg sync.WaitGroup
	errs := make(chan error, 16)
	for u := range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c := e.client()
			c.HC = hc
			user := fmt.Sprintf("user%d", u)
			for i := range 30 {
				_, body, err := c.TryGet(fmt.Sprintf("/set?user=%s&i=%d", user, i))
				if err != nil {
					errs <- err
					return
				}
				if want := fmt.Sprintf("values={i:string=%d,user:string=%s}", i, user); !strings.Contains(body, want) {
					errs <- fmt.Errorf("%s got %q, want %s", user, body, want)
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		e.t.Error(err)
	}
}

func testIDs(e *env) {
	c := e.client()
	body := e.get(c, "/set?a=0", "new=true")
	if id := field(body, "id"); !ValidID(id) {
		e.t.Fatalf("ID after the first Save = %q", id)
	}
	ids := map[string]bool{}
	for range 20 {
		c2 := e.client()
		id := field(e.get(c2, "/set?a=1"), "id")
		if ids[id] {
			e.t.Fatalf("ID %s given twice", id)
		}
		ids[id] = true
	}
	id := field(e.get(c, "/set?a=1"), "id")
	if id2 := field(e.get(c, "/", "new=false"), "id"); id2 != id {
		e.t.Fatalf("ID changed from %s to %s on a plain Save", id, id2)
	}
}

func testHostileIDs(e *env) {
	for _, id := range []string{
		"", "../../etc/passwd", "..", "/", "a/b", "session_x", strings.Repeat("A", 51),
		strings.Repeat("A", 53), strings.Repeat("A", 4000), strings.Repeat("a", 52),
		strings.Repeat("A", 51) + "\x00", strings.Repeat("A", 50) + "/.", strings.Repeat("1", 52),
	} {
		enc, err := sessions.NewCookieStore(Keys...).Codecs[0].Encode(cookieName, id)
		if err != nil {
			continue // too long to encode; BadCookies sends over-long cookies
		}
		c := e.client()
		c.Jar[cookieName] = enc
		body := e.get(c, "/set?a=1", "new=true", "get=invalid", "save=nil")
		if got := field(body, "id"); got == id || !ValidID(got) {
			e.t.Fatalf("hostile ID %q: saved under %q", id, got)
		}
	}
}

func testAbsentRecord(e *env) {
	chosen := NewID()
	c := e.client()
	c.Jar[cookieName] = encode(e.t, chosen)
	body := e.get(c, "/set?a=1", "new=true", "get=nil", "save=nil")
	if got := field(body, "id"); got == chosen {
		e.t.Fatal("a session was created under an ID the client chose")
	}
}

func testRenew(e *env) {
	c := e.client()
	id := field(e.get(c, "/set?user=alice"), "id")
	old := c.Jar[cookieName]
	body := e.get(c, "/renew", "new=false", "values={user:string=alice}", "save=nil")
	if nid := field(body, "id"); nid == id || !ValidID(nid) {
		e.t.Fatalf("renewed ID %q (was %q)", nid, id)
	}
	e.get(c, "/", "new=false", "values={user:string=alice}")
	stale := e.client()
	stale.Jar[cookieName] = old
	e.get(stale, "/", "new=true", "values={}")
}

func testDestroyRevokes(e *env) {
	c := e.client()
	e.get(c, "/set?user=alice")
	stolen := e.client()
	stolen.Jar[cookieName] = c.Jar[cookieName]
	e.get(stolen, "/", "new=false", "values={user:string=alice}")
	e.get(c, "/logout")
	e.get(stolen, "/", "new=true", "values={}")
}

// overlap starts a slow request with c's cookie that loads the session and
// waits; it returns a function that lets it finish and returns its body.
// The slow request sets a value and saves.
func (e *env) overlap(cookie string) (finish func() string) {
	finish, _ = e.overlapDo(cookie, func(s *sessions.Session) { s.Values["slow"] = "saved" })
	return finish
}

// overlapDo is overlap with the slow request doing op to the session (and
// then saving it twice, as a handler and then a save-everything middleware
// would: a second Save must not undo what the first refused). It also
// returns the slow request's client, whose jar holds what the response set
// once finish has returned.
func (e *env) overlapDo(cookie string, op func(s *sessions.Session)) (finish func() string, slow *clientT) {
	loaded, release := make(chan struct{}), make(chan struct{})
	e.hook = func(ctx *fasthttp.RequestCtx, s *sessions.Session) {
		if string(ctx.Path()) == "/slow" {
			close(loaded)
			<-release
			op(s)
			_ = s.Save(ctx)
		}
	}
	// A test that fails while the slow request waits must still let it
	// finish, or the server's shutdown waits for it forever.
	var once sync.Once
	unblock := func() { once.Do(func() { close(release) }) }
	e.t.Cleanup(unblock)
	slow = e.client()
	slow.Jar[cookieName] = cookie
	done := make(chan string, 1)
	go func() {
		_, body, err := slow.TryGet("/slow")
		if err != nil {
			body = err.Error()
		}
		done <- body
	}()
	<-loaded
	return func() string {
		unblock()
		return <-done
	}, slow
}

func testStaleSaveAfterLogout(e *env) {
	c := e.client()
	e.get(c, "/set?user=alice")
	old := c.Jar[cookieName]
	finish := e.overlap(old)
	e.get(c, "/logout", "save=nil")
	if body := finish(); field(body, "save") != "revoked" {
		e.t.Fatalf("stale Save after logout: %s", body)
	}
	replay := e.client()
	replay.Jar[cookieName] = old
	e.get(replay, "/", "new=true", "values={}")
}

func testStaleSaveAfterRenew(e *env) {
	c := e.client()
	e.get(c, "/set?user=alice")
	old := c.Jar[cookieName]
	finish := e.overlap(old)
	e.get(c, "/renew", "save=nil")
	if body := finish(); field(body, "save") != "revoked" {
		e.t.Fatalf("stale Save after renewal: %s", body)
	}
	replay := e.client()
	replay.Jar[cookieName] = old
	e.get(replay, "/", "new=true", "values={}")
	e.get(c, "/", "new=false", "values={user:string=alice}")
}

// testConcurrentSavesWhole saves one session from many requests at once,
// each writing a whole set of values: the result is one of the writes,
// whole.
func testConcurrentSavesWhole(e *env) {
	c := e.client()
	e.get(c, "/set?w=0&a=0&b=0")
	cookie := c.Jar[cookieName]
	var wg sync.WaitGroup
	for w := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			tab := e.client()
			for i := range 10 {
				tab.Jar[cookieName] = cookie
				v := fmt.Sprintf("%d-%d", w, i)
				if _, body, err := tab.TryGet("/set?w=" + v + "&a=" + v + "&b=" + v); err != nil || field(body, "save") != "nil" {
					e.t.Errorf("save %s: %v %s", v, err, body)
					return
				}
			}
		}()
	}
	wg.Wait()
	body := e.get(c, "/", "new=false")
	vals := field(body, "values")
	var a, b, w string
	fmt.Sscanf(strings.NewReplacer("{", "", "}", "", ",", " ", ":string=", "=").Replace(vals), "a=%s b=%s w=%s", &a, &b, &w)
	if a == "" || a != b || a != w {
		e.t.Fatalf("concurrent saves left a mix: %s", vals)
	}
}

// testRevocationStress interleaves loads, saves, logouts and renewals of a
// few sessions from many goroutines, straight on the store, and checks that
// no destroyed or renewed-away ID ever answers again.
func testRevocationStress(e *env) {
	n := e.cfg.Stress
	if n == 0 {
		n = 2000
	}
	type slot struct {
		mu     sync.Mutex
		cookie string
	}
	slots := make([]slot, 4)
	var deadMu sync.Mutex
	var dead []string

	request := func(cookie string) *fasthttp.RequestCtx {
		var req fasthttp.Request
		if cookie != "" {
			req.Header.SetCookie(cookieName, cookie)
		}
		ctx := new(fasthttp.RequestCtx)
		ctx.Init(&req, nil, nil)
		return ctx
	}
	newCookie := func() string {
		ctx := request("")
		s, _ := e.store.New(ctx, cookieName)
		s.Values["n"] = 0
		if err := e.store.Save(ctx, s); err != nil {
			e.t.Error(err)
		}
		return string(setCookieValue(ctx))
	}
	answers := func(cookie string) bool {
		s, _ := e.store.New(request(cookie), cookieName)
		return !s.IsNew
	}
	for i := range slots {
		slots[i].cookie = newCookie()
	}
	var wg sync.WaitGroup
	workers := 8
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := rand.New(rand.NewPCG(uint64(w), 1))
			for range n / workers {
				sl := &slots[r.IntN(len(slots))]
				sl.mu.Lock()
				cookie := sl.cookie
				sl.mu.Unlock()
				ctx := request(cookie)
				s, _ := e.store.New(ctx, cookieName)
				op := r.IntN(10)
				switch {
				case op < 6:
					s.Values["n"] = r.Int()
				case op < 8:
					s.Options.MaxAge = -1
				default:
					s.RenewID()
				}
				err := e.store.Save(ctx, s)
				if err != nil && sentinel(err) != "revoked" {
					e.t.Errorf("Save: %v", err)
					return
				}
				if err == nil && op >= 6 && !s.IsNew {
					// This request destroyed or renewed away the old ID.
					deadMu.Lock()
					dead = append(dead, cookie)
					deadMu.Unlock()
					if answers(cookie) {
						e.t.Errorf("an ID answered right after its %s", map[bool]string{true: "renewal", false: "logout"}[op >= 8])
						return
					}
					sl.mu.Lock()
					if sl.cookie == cookie {
						if op >= 8 {
							sl.cookie = string(setCookieValue(ctx))
						} else {
							sl.cookie = newCookie()
						}
					}
					sl.mu.Unlock()
				}
			}
		}()
	}
	wg.Wait()
	for _, cookie := range dead {
		if answers(cookie) {
			e.t.Fatal("a destroyed or renewed-away ID answered again")
		}
	}
	if len(dead) == 0 {
		e.t.Fatal("the stress test destroyed nothing")
	}
}

func testExpiry(e *env) {
	c := e.client()
	e.get(c, "/set?a=1")
	e.clock.Advance(29 * 24 * time.Hour)
	e.get(c, "/", "new=false", "values={a:string=1}")
	e.clock.Advance(31 * 24 * time.Hour)
	// The cookie's own signature has expired too: the store may say so.
	body := e.get(c, "/", "new=true", "values={}")
	if g := field(body, "get"); g != "nil" && g != "expired" {
		e.t.Fatalf("expired session: get=%s", g)
	}
	// Browser-session records are bounded too.
	c2 := e.client()
	e.get(c2, "/set?b=1", "new=true")
	e.get(c2, "/browser", "new=false")
	e.get(c2, "/", "new=false", "values={b:string=1}")
	e.clock.Advance(browserSessionTTL + time.Minute)
	e.get(c2, "/", "new=true", "values={}")
}

func testStaleSaveAfterExpiry(e *env) {
	c := e.client()
	body := e.get(c, "/set?a=1")
	id := field(body, "id")
	var once sync.Once
	e.hook = func(ctx *fasthttp.RequestCtx, s *sessions.Session) {
		if string(ctx.Path()) == "/slow" {
			once.Do(func() { e.clock.Advance(31 * 24 * time.Hour) })
		}
	}
	// The record expired while the request ran: the Save starts a new,
	// empty session under a new ID; the values are not carried over.
	body = e.get(c, "/slow", "new=true", "values={}", "save=nil")
	if nid := field(body, "id"); nid == id || !ValidID(nid) {
		e.t.Fatalf("a Save after expiry kept the old ID %s (now %s)", id, nid)
	}
}

// setCookieValue returns the value of the session cookie in ctx's response.
func setCookieValue(ctx *fasthttp.RequestCtx) []byte {
	ck := fasthttp.AcquireCookie()
	defer fasthttp.ReleaseCookie(ck)
	ck.SetKey(cookieName)
	ctx.Response.Header.Cookie(ck)
	return append([]byte(nil), ck.Value()...)
}
