package sessions_test

import (
	"errors"
	"fmt"
	"time"

	"github.com/fasthttp-sessions/sessions"
	"github.com/gorilla/securecookie"
	"github.com/valyala/fasthttp"
)

// The quick start: a handler that counts the visits of each browser. Two
// requests are simulated here by calling the handler directly, the second
// one carrying the cookie set by the first, as a browser would.
func Example() {
	// Keys sign (first key) and encrypt (second key, 16, 24 or 32 bytes)
	// the cookie. Load them from your configuration: random keys log every
	// user out when the program restarts.
	store := sessions.NewCookieStore(
		securecookie.GenerateRandomKey(32),
		securecookie.GenerateRandomKey(32),
	)

	handler := func(ctx *fasthttp.RequestCtx) {
		// An invalid cookie (tampered with, expired, old keys) yields an
		// error and a new, empty session, which can be used as is.
		session, _ := store.Get(ctx, "session")
		visits, _ := session.GetInt("visits")
		session.Values["visits"] = visits + 1
		// Save before the handler returns: a cookie set after that never
		// reaches the client.
		if err := session.Save(ctx); err != nil {
			ctx.Error("cannot save the session", fasthttp.StatusInternalServerError)
			return
		}
		fmt.Fprintf(ctx, "visit %d", visits+1)
	}
	// A real program serves it: fasthttp.ListenAndServe(":8080", handler)

	var cookie fasthttp.Cookie // the browser's cookie jar
	cookie.SetKey("session")
	for range 2 {
		var ctx fasthttp.RequestCtx
		ctx.Init(&fasthttp.Request{}, nil, nil)
		if len(cookie.Value()) > 0 {
			ctx.Request.Header.SetCookieBytesKV(cookie.Key(), cookie.Value())
		}
		handler(&ctx)
		ctx.Response.Header.Cookie(&cookie) // keep the Set-Cookie
		fmt.Println(string(ctx.Response.Body()))
	}
	// Output:
	// visit 1
	// visit 2
}

// Flashes are one-time messages: AddFlash stores one in the session, and
// Flashes returns them and removes them. Save the session after reading
// them, or they are shown again.
func ExampleSession_AddFlash() {
	store := sessions.NewCookieStore(securecookie.GenerateRandomKey(32))

	// The login handler adds a flash, then redirects to the page.
	login := func(ctx *fasthttp.RequestCtx) {
		session, _ := store.Get(ctx, "session")
		session.AddFlash("Welcome back!")
		_ = session.Save(ctx)
		ctx.Redirect("/", fasthttp.StatusSeeOther)
	}
	// The page shows the flashes, if any, and saves their removal.
	page := func(ctx *fasthttp.RequestCtx) {
		session, _ := store.Get(ctx, "session")
		if flashes := session.Flashes(); len(flashes) > 0 {
			_ = session.Save(ctx)
			fmt.Fprint(ctx, flashes...)
		} else {
			fmt.Fprint(ctx, "no flash")
		}
	}

	var cookie fasthttp.Cookie // the browser's cookie jar
	cookie.SetKey("session")
	for _, handler := range []fasthttp.RequestHandler{login, page, page} {
		var ctx fasthttp.RequestCtx
		ctx.Init(&fasthttp.Request{}, nil, nil)
		if len(cookie.Value()) > 0 {
			ctx.Request.Header.SetCookieBytesKV(cookie.Key(), cookie.Value())
		}
		handler(&ctx)
		ctx.Response.Header.Cookie(&cookie)
		if body := ctx.Response.Body(); len(body) > 0 {
			fmt.Println(string(body))
		}
	}
	// Output:
	// Welcome back!
	// no flash
}

// To rotate keys, put the new pair first and keep the old pair after it:
// cookies signed with the old keys still decode, and the next Save
// re-encodes them with the new ones, even when nothing else changed. Drop the old pair once the cookies signed with it
// have expired (the store's MaxAge, 30 days by default).
func ExampleNewCookieStore_keyRotation() {
	oldHash, oldBlock := securecookie.GenerateRandomKey(32), securecookie.GenerateRandomKey(32)
	newHash, newBlock := securecookie.GenerateRandomKey(32), securecookie.GenerateRandomKey(32)

	// request returns a new request carrying cookie, if not nil;
	// setCookie returns the session cookie that a response sets.
	request := func(cookie *fasthttp.Cookie) *fasthttp.RequestCtx {
		ctx := new(fasthttp.RequestCtx)
		ctx.Init(&fasthttp.Request{}, nil, nil)
		if cookie != nil {
			ctx.Request.Header.SetCookieBytesKV(cookie.Key(), cookie.Value())
		}
		return ctx
	}
	setCookie := func(ctx *fasthttp.RequestCtx) *fasthttp.Cookie {
		cookie := new(fasthttp.Cookie)
		cookie.SetKey("session")
		ctx.Response.Header.Cookie(cookie)
		return cookie
	}

	// A cookie set before the rotation.
	before := sessions.NewCookieStore(oldHash, oldBlock)
	ctx := request(nil)
	session, _ := before.Get(ctx, "session")
	session.Values["user"] = "alice"
	_ = session.Save(ctx)
	oldCookie := setCookie(ctx)

	// After the rotation: new pair first, old pair second.
	store := sessions.NewCookieStore(newHash, newBlock, oldHash, oldBlock)
	ctx = request(oldCookie)
	session, err := store.Get(ctx, "session")
	fmt.Println("old cookie read:", session.Values["user"], err)
	_ = session.Save(ctx) // re-encoded with the new pair
	newCookie := setCookie(ctx)

	// Once the old pair is dropped, the re-encoded cookie still works and
	// the old one no longer does.
	newOnly := sessions.NewCookieStore(newHash, newBlock)
	for _, cookie := range []*fasthttp.Cookie{newCookie, oldCookie} {
		session, err := newOnly.Get(request(cookie), "session")
		fmt.Println(session.Values["user"], errors.Is(err, sessions.ErrCookieInvalid))
	}
	// Output:
	// old cookie read: alice <nil>
	// alice false
	// <nil> true
}

// Every handler of a request that asks a store for the same session name
// gets the same *Session from the request's Registry, and sessions.Save
// saves all the sessions of the request, from all their stores, at once.
func ExampleGetRegistry() {
	// A long-lived, signed-only cookie for preferences, and a short-lived,
	// encrypted one for authentication.
	prefs := sessions.NewCookieStore(securecookie.GenerateRandomKey(32))
	auth := sessions.NewCookieStore(securecookie.GenerateRandomKey(32), securecookie.GenerateRandomKey(32))
	auth.MaxAge(3600)

	var ctx fasthttp.RequestCtx
	ctx.Init(&fasthttp.Request{}, nil, nil)

	// A middleware and a handler of the same request.
	a, _ := auth.Get(&ctx, "auth")
	a.Values["user"] = "alice"
	p, _ := prefs.Get(&ctx, "prefs")
	p.Values["theme"] = "dark"
	again, _ := sessions.GetRegistry(&ctx).Get(auth, "auth")
	fmt.Println("same session:", again == a)

	if err := sessions.Save(&ctx); err != nil { // both sessions
		fmt.Println(err)
	}
	for name := range ctx.Response.Header.Cookies() {
		fmt.Println("Set-Cookie:", string(name))
	}
	// Output:
	// same session: true
	// Set-Cookie: auth
	// Set-Cookie: prefs
}

// "Remember me": each session starts with a copy of the store's Options, so
// one session's cookie can live longer or shorter than the others'. MaxAge 0
// makes a browser-session cookie, which the browser drops when it closes.
// The session keeps its own MaxAge on every later Save.
func ExampleOptions_rememberMe() {
	store := sessions.NewCookieStore(securecookie.GenerateRandomKey(32))

	handler := func(ctx *fasthttp.RequestCtx) {
		session, _ := store.Get(ctx, "session")
		if string(ctx.Path()) == "/login" {
			session.Values["user"] = string(ctx.FormValue("user"))
			if len(ctx.FormValue("remember")) > 0 {
				session.Options.MaxAge = 30 * 24 * 3600 // 30 days
				session.Options.IdleTimeout = 7 * 24 * time.Hour
			} else {
				session.Options.MaxAge = 0 // until the browser closes
			}
		}
		_ = session.Save(ctx) // with this session's own MaxAge

	}

	for _, login := range []string{"/login?user=alice&remember=1", "/login?user=bob"} {
		var cookie fasthttp.Cookie // this user's browser
		cookie.SetKey("session")
		for _, uri := range []string{login, "/"} {
			var ctx fasthttp.RequestCtx
			ctx.Init(&fasthttp.Request{}, nil, nil)
			ctx.Request.SetRequestURI(uri)
			if len(cookie.Value()) > 0 {
				ctx.Request.Header.SetCookieBytesKV(cookie.Key(), cookie.Value())
			}
			handler(&ctx)
			ctx.Response.Header.Cookie(&cookie)
			fmt.Printf("%s: Max-Age %d\n", uri, cookie.MaxAge())
		}
	}
	// Output:
	// /login?user=alice&remember=1: Max-Age 2592000
	// /: Max-Age 2592000
	// /login?user=bob: Max-Age 0
	// /: Max-Age 0
}

// Clear forgets the sessions of the request without saving them. It is
// optional: fasthttp releases the request's Registry after every request,
// so code ported from gorilla/context can call it or drop the call.
func ExampleClear() {
	store := sessions.NewCookieStore(securecookie.GenerateRandomKey(32))
	var ctx fasthttp.RequestCtx
	ctx.Init(&fasthttp.Request{}, nil, nil)

	session, _ := store.Get(&ctx, "session")
	session.Values["unsaved"] = true

	sessions.Clear(&ctx)
	again, _ := store.Get(&ctx, "session")
	fmt.Println("same session after Clear:", again == session, again.Values["unsaved"])

	sessions.Clear(&ctx)    // the second session is forgotten too
	_ = sessions.Save(&ctx) // so there is nothing to save
	fmt.Println("cookie set:", ctx.Response.Header.PeekCookie("session") != nil)
	// Output:
	// same session after Clear: false <nil>
	// cookie set: false
}
