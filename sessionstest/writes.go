package sessionstest

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"time"

	"github.com/fasthttp-sessions/sessions"
	"github.com/valyala/fasthttp"
)

// The tests of this file check that a store writes only what changed: a
// Save of an unchanged session writes nothing and sends no cookie, but now
// and then refreshes its expiry, so that a session in use never expires.

// countingBackend counts the writes of the backend it wraps. It implements
// the optional extensions whatever the wrapped backend does, answering
// errors.ErrUnsupported where it has none, as the Backend documentation
// allows a wrapper to.
type countingBackend struct {
	sessions.Backend
	writes, touches, loads atomic.Int64
}

func (b *countingBackend) Load(ctx context.Context, id string) ([]byte, time.Time, error) {
	b.loads.Add(1)
	return b.Backend.Load(ctx, id)
}

func (b *countingBackend) Create(ctx context.Context, id string, data []byte, ttl time.Duration) error {
	b.writes.Add(1)
	return b.Backend.Create(ctx, id, data, ttl)
}

func (b *countingBackend) Update(ctx context.Context, id string, data []byte, ttl time.Duration) error {
	b.writes.Add(1)
	return b.Backend.Update(ctx, id, data, ttl)
}

func (b *countingBackend) Touch(ctx context.Context, id string, ttl time.Duration) error {
	t, ok := b.Backend.(sessions.Toucher)
	if !ok {
		return errors.ErrUnsupported
	}
	b.touches.Add(1)
	return t.Touch(ctx, id, ttl)
}

func (b *countingBackend) AddUserID(ctx context.Context, user, id string) error {
	if ui, ok := b.Backend.(sessions.UserIndex); ok {
		return ui.AddUserID(ctx, user, id)
	}
	return errors.ErrUnsupported
}

func (b *countingBackend) RemoveUserID(ctx context.Context, user, id string) error {
	if ui, ok := b.Backend.(sessions.UserIndex); ok {
		return ui.RemoveUserID(ctx, user, id)
	}
	return errors.ErrUnsupported
}

func (b *countingBackend) UserIDs(ctx context.Context, user string) ([]string, error) {
	if ui, ok := b.Backend.(sessions.UserIndex); ok {
		return ui.UserIDs(ctx, user)
	}
	return nil, errors.ErrUnsupported
}

// counting wraps the backend of e's server-side store, or returns nil for
// a cookie store.
func (e *env) counting() *countingBackend {
	if !e.cfg.ServerSide {
		return nil
	}
	ss := e.serverStore()
	b := &countingBackend{Backend: ss.Backend}
	ss.Backend = b
	return b
}

// writes is what a request wrote: the backend's writes and touches, and
// the response's cookie (or token).
func (e *env) wrote(b *countingBackend, c *clientT, before [2]int64) (writes, touches int64, cookie bool) {
	if b != nil {
		writes, touches = b.writes.Load()-before[0], b.touches.Load()-before[1]
	}
	return writes, touches, c.SetCookie(cookieName) != ""
}

func snap(b *countingBackend) [2]int64 {
	if b == nil {
		return [2]int64{}
	}
	return [2]int64{b.writes.Load(), b.touches.Load()}
}

// testUnchangedWritesNothing: a request that only reads writes nothing and
// sends no cookie; one that changes the session writes once, whatever the
// number of Saves; a change of Options is a change.
func testUnchangedWritesNothing(e *env) {
	b := e.counting()
	c := e.client()
	e.get(c, "/set?a=1&b=2&c=3&d=4&e=5")
	for range 5 { // a read-only page, many times (map order varies)
		before := snap(b)
		e.get(c, "/", "new=false", "values={a:string=1,b:string=2,c:string=3,d:string=4,e:string=5}")
		if w, t, cookie := e.wrote(b, c, before); w != 0 || t != 0 || cookie {
			e.t.Fatalf("an unchanged session: %d writes, %d touches, cookie sent %v", w, t, cookie)
		}
	}
	// /slow saves twice (the handler's Save, then sessions.Save): once.
	var saves []error
	e.hook = func(ctx *fasthttp.RequestCtx, s *sessions.Session) {
		if string(ctx.Path()) == "/twice" {
			s.Values["f"] = "6"
			saves = append(saves, s.Save(ctx))
		}
	}
	before := snap(b)
	e.get(c, "/twice", "save=nil")
	// A cookie store's cookie is the session; a server-side store's
	// cookie names the same ID as before and is not due for a refresh.
	if w, _, cookie := e.wrote(b, c, before); (b != nil && w != 1) || cookie != !e.cfg.ServerSide || saves[0] != nil {
		e.t.Fatalf("a changed session saved twice: %d writes, cookie %v, first save %v", w, cookie, saves)
	}
	before = snap(b)
	e.get(c, "/remember")
	if w, _, cookie := e.wrote(b, c, before); (b != nil && w != 1) || !cookie {
		e.t.Fatalf("a change of MaxAge: %d writes, cookie %v", w, cookie)
	}
	e.get(c, "/", "new=false", "values={a:string=1,b:string=2,c:string=3,d:string=4,e:string=5,f:string=6}")
}

// testRefreshKeepsSessionAlive: 120 unchanged requests a minute apart keep
// a session with a 30-minute idle timeout alive with at most one refresh
// per three minutes (a tenth of the window), and it ends on time once the
// requests stop.
func testRefreshKeepsSessionAlive(e *env) {
	b := e.counting()
	c := e.client()
	e.get(c, "/set?user=alice")
	e.get(c, "/idle?d=30m")
	before := snap(b)
	cookies := 0
	last := time.Time{}
	for range 120 {
		e.clock.Advance(time.Minute)
		e.get(c, "/", "new=false", "values={user:string=alice}")
		if c.SetCookie(cookieName) != "" {
			cookies++
			last = e.clock.Now()
		}
	}
	w, t, _ := e.wrote(b, c, before)
	if cookies < 120/3-1 || cookies > 120/3 || (b != nil && w+t != int64(cookies)) {
		e.t.Fatalf("120 requests a minute apart: %d refreshed cookies, %d writes and %d touches; want one per 3 minutes", cookies, w, t)
	}
	// The requests stop: the session ends 30 minutes after its last
	// refresh, not earlier, not later.
	e.endsIdle(c, last, 30*time.Minute)
}

// endsIdle checks that the session of c, whose cookie was last signed at
// last, loads until its idle timeout after it and not a second longer.
// (Looked at with New, which saves nothing: a request would refresh it.)
func (e *env) endsIdle(c *clientT, last time.Time, idle time.Duration) {
	e.t.Helper()
	cookie := c.Jar[cookieName]
	loads := func() bool {
		var ctx fasthttp.RequestCtx
		ctx.Init(&fasthttp.Request{}, nil, nil)
		ctx.Request.Header.SetCookie(cookieName, cookie)
		s, _ := e.store.New(&ctx, cookieName)
		return !s.IsNew
	}
	e.clock.Advance(last.Add(idle - time.Second).Sub(e.clock.Now()))
	if !loads() {
		e.t.Fatalf("the session ended before %v after its last cookie", idle)
	}
	e.clock.Advance(time.Second)
	if loads() {
		e.t.Fatal("the session outlived its idle timeout")
	}
}

// testChangesKeepSessionAlive: 120 requests a minute apart that each change
// a session with a 30-minute idle timeout write its record every time but,
// on a server-side store, send the ID cookie only once per three minutes
// (the same rate as the refreshes of an unchanged session); the session
// stays alive throughout, and ends on time once the requests stop.
func testChangesKeepSessionAlive(e *env) {
	b := e.counting()
	c := e.client()
	e.get(c, "/set?user=alice")
	e.get(c, "/idle?d=30m")
	before := snap(b)
	cookies := 0
	last := time.Time{}
	for i := range 120 {
		e.clock.Advance(time.Minute)
		e.get(c, fmt.Sprintf("/set?n=%d", i), "new=false")
		if c.SetCookie(cookieName) != "" {
			cookies++
			last = e.clock.Now()
		}
	}
	w, _, _ := e.wrote(b, c, before)
	switch {
	case !e.cfg.ServerSide && cookies != 120:
		e.t.Fatalf("120 changes of a cookie session: %d cookies", cookies)
	case e.cfg.ServerSide && (cookies < 120/3-1 || cookies > 120/3 || w != 120):
		e.t.Fatalf("120 changes a minute apart: %d ID cookies and %d writes; want one cookie per 3 minutes and 120 writes", cookies, w)
	}
	e.get(c, "/", "new=false", "values={n:string=119,user:string=alice}")
	// The session ends 30 minutes after the cookie was last signed: 27 to
	// 30 minutes after the last request, as documented.
	e.endsIdle(c, last, 30*time.Minute)
}

// testReadOnlyStaleRequest: a request that loaded a session, only read it,
// and ran past a logout, neither revives it nor fails.
func testReadOnlyStaleRequest(e *env) {
	c := e.client()
	e.get(c, "/set?user=alice")
	old := c.Jar[cookieName]
	finish, slow := e.overlapDo(old, func(s *sessions.Session) {})
	e.get(c, "/logout", "save=nil")
	e.clock.Advance(4 * 24 * time.Hour) // a refresh is due: it must not revive it
	if body := finish(); field(body, "save") != "nil" || slow.SetCookie(cookieName) != "" {
		e.t.Fatalf("a read-only request past a logout: %s; Set-Cookie %q", body, slow.SetCookie(cookieName))
	}
	replay := e.client()
	replay.Jar[cookieName] = old
	e.get(replay, "/", "new=true", "values={}")
}

// testTouchContract checks the Toucher of a backend that has one: Touch
// extends a live record's life without changing it, and never revives a
// deleted record.
func testTouchContract(e *env) {
	b := e.serverStore().Backend
	t, ok := b.(sessions.Toucher)
	if ok {
		if err := t.Touch(context.Background(), NewID(), time.Minute); errors.Is(err, errors.ErrUnsupported) {
			ok = false
		}
	}
	if !ok {
		e.t.Skipf("%T is no Toucher", b)
	}
	ctx := context.Background()
	id := NewID()
	if err := b.Create(ctx, id, []byte("data"), time.Hour); err != nil {
		e.t.Fatal(err)
	}
	_, before, err := b.Load(ctx, id)
	if err != nil {
		e.t.Fatal(err)
	}
	if err := t.Touch(ctx, id, 48*time.Hour); err != nil {
		e.t.Fatalf("Touch of a live record: %v", err)
	}
	data, after, err := b.Load(ctx, id)
	if err != nil || string(data) != "data" || !after.After(before.Add(24*time.Hour)) {
		e.t.Fatalf("after Touch: %q, expires %v (was %v), %v", data, after, before, err)
	}
	if err := b.Delete(ctx, id); err != nil {
		e.t.Fatal(err)
	}
	if err := t.Touch(ctx, id, time.Hour); !errors.Is(err, sessions.ErrRecordNotFound) {
		e.t.Fatalf("Touch of a deleted record = %v, want ErrRecordNotFound", err)
	}
	if _, _, err := b.Load(ctx, id); !errors.Is(err, sessions.ErrRecordNotFound) {
		e.t.Fatalf("a Touch revived a deleted record: %v", err)
	}
	if err := t.Touch(ctx, NewID(), time.Hour); !errors.Is(err, sessions.ErrRecordNotFound) {
		e.t.Fatalf("Touch of a record that never was = %v, want ErrRecordNotFound", err)
	}
}

// testLargeRecord: a server-side store keeps a large session (a 110-item
// cart, some 7 KB encoded): the ID cookie is what travels, and records
// have no size limit by default.
func testLargeRecord(e *env) {
	c := e.client()
	var b strings.Builder
	for i := range 110 {
		fmt.Fprintf(&b, "&item%03d=a-product-with-a-fairly-long-name-%03d", i, i)
	}
	e.get(c, "/set?"+b.String()[1:], "save=nil")
	if n := len(c.Jar[cookieName]); n > 400 {
		e.t.Fatalf("the ID cookie is %d bytes", n)
	}
	body := e.get(c, "/", "new=false")
	if !strings.Contains(field(body, "values"), "item109:string=a-product-with-a-fairly-long-name-109") {
		e.t.Fatalf("the large session did not come back whole: %.200s", body)
	}
}
