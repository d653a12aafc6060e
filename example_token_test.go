package sessions_test

import (
	"fmt"
	"strings"

	"github.com/fasthttp-sessions/sessions"
	"github.com/gorilla/securecookie"
	"github.com/valyala/fasthttp"
)

// A client that keeps no cookies carries the session's token in a header.
// Save answers a new session with the token in the response header of the
// same name; the client sends it back.
func ExampleServerStore_tokenHeader() {
	hashKey, blockKey := securecookie.GenerateRandomKey(32), securecookie.GenerateRandomKey(32)
	store := sessions.NewMemoryStore(hashKey, blockKey)
	store.TokenHeader = "Authorization" // "Authorization: Bearer <token>"; or a header of your own, "X-Session-Token"
	store.TokenOnly = true              // ignore cookies, set none

	handler := func(ctx *fasthttp.RequestCtx) {
		session, _ := store.Get(ctx, "session")
		if string(ctx.Path()) == "/login" {
			session.Values["user"] = "alice"
			session.RenewID()
		}
		if err := session.Save(ctx); err != nil {
			ctx.Error("cannot save the session", fasthttp.StatusInternalServerError)
			return
		}
		fmt.Fprintf(ctx, "user %q", session.GetString("user"))
	}

	var token string // what the client keeps
	for _, path := range []string{"/login", "/me"} {
		var ctx fasthttp.RequestCtx
		ctx.Init(&fasthttp.Request{}, nil, nil)
		ctx.Request.SetRequestURI(path)
		if token != "" {
			ctx.Request.Header.Set("Authorization", token)
		}
		handler(&ctx)
		if h := string(ctx.Response.Header.Peek("Authorization")); h != "" {
			token = h
		}
		fmt.Printf("%s: %s, Bearer token: %v, cookie set: %v\n", path, ctx.Response.Body(),
			strings.HasPrefix(token, "Bearer "), ctx.Response.Header.PeekCookie("session") != nil)
	}
	// Output:
	// /login: user "alice", Bearer token: true, cookie set: false
	// /me: user "alice", Bearer token: true, cookie set: false
}
