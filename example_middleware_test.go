package sessions_test

import (
	"fmt"

	"github.com/fasthttp-sessions/sessions"
	"github.com/gorilla/securecookie"
	"github.com/valyala/fasthttp"
)

// Middleware saves every session a handler changed, after the handler and
// before fasthttp writes the response: handlers only change their
// sessions. A visitor who only looks at a page gets no cookie.
func ExampleMiddleware() {
	store := sessions.NewCookieStore(securecookie.GenerateRandomKey(32), securecookie.GenerateRandomKey(32))
	handler := func(ctx *fasthttp.RequestCtx) {
		session, _ := store.Get(ctx, "session")
		if string(ctx.Path()) == "/login" {
			session.Values["user"] = "alice"
		}
		fmt.Fprintf(ctx, "user %q", session.GetString("user"))
	}
	server := &fasthttp.Server{Handler: sessions.Middleware(handler, nil)}

	for _, path := range []string{"/", "/login"} {
		var ctx fasthttp.RequestCtx
		ctx.Init(&fasthttp.Request{}, nil, nil)
		ctx.Request.SetRequestURI(path)
		server.Handler(&ctx)
		fmt.Printf("%s: %s, cookie set: %v\n", path, ctx.Response.Body(), ctx.Response.Header.PeekCookie("session") != nil)
	}
	// Output:
	// /: user "", cookie set: false
	// /login: user "alice", cookie set: true
}
