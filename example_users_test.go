package sessions_test

import (
	"fmt"

	"github.com/fasthttp-sessions/sessions"
	"github.com/gorilla/securecookie"
	"github.com/valyala/fasthttp"
)

// "Log out everywhere" on a server-side store (here a MemoryStore; the
// FilesystemStore, the Redis store and the PostgreSQL store have the same
// methods): a login binds the session to its user, a "your devices" page
// lists the user's sessions, and "log out other devices" ends all of them
// but the one in use. Two browsers of one user are simulated by calling
// the handler directly, each with its own cookie and User-Agent.
func ExampleServerStore_RevokeUser() {
	store := sessions.NewMemoryStore(securecookie.GenerateRandomKey(32), securecookie.GenerateRandomKey(32))

	handler := func(ctx *fasthttp.RequestCtx) {
		session, _ := store.Get(ctx, "session")
		user := session.User()
		switch string(ctx.Path()) {
		case "/login": // a real application checks a password, with POST
			// Bind the session to the user, and give it a new ID.
			session.SetUser(string(ctx.QueryArgs().Peek("user")))
			session.RenewID()
		case "/devices":
			if user == "" {
				fmt.Fprint(ctx, "not logged in")
				return
			}
			// The user's sessions; Handle names each without revealing
			// its ID, and tells the one of this request.
			infos, err := store.UserSessions(ctx, user)
			if err != nil {
				ctx.Error("cannot list your devices", fasthttp.StatusInternalServerError)
				return
			}
			for _, info := range infos {
				if info.Handle == session.Handle() {
					fmt.Fprintf(ctx, "this device: %s; ", info.UserAgent)
				}
			}
			fmt.Fprintf(ctx, "%d devices", len(infos))
			// store.Revoke(ctx, user, handle) ends one of them.
		case "/others": // after a password change, say; with POST
			n, err := store.RevokeUser(ctx, user, session)
			if err != nil {
				ctx.Error("try again", fasthttp.StatusInternalServerError)
				return
			}
			fmt.Fprintf(ctx, "%d other devices logged out", n)
		}
		if err := session.Save(ctx); err != nil {
			ctx.Error("cannot save the session", fasthttp.StatusInternalServerError)
		}
	}

	laptop, phone := &browser{agent: "Laptop"}, &browser{agent: "Phone"}
	laptop.get(handler, "/login?user=alice")
	phone.get(handler, "/login?user=alice")
	fmt.Println(laptop.get(handler, "/devices"))
	fmt.Println(phone.get(handler, "/devices"))
	fmt.Println(laptop.get(handler, "/others"))
	fmt.Println(phone.get(handler, "/devices"))
	fmt.Println(laptop.get(handler, "/devices"))
	// Output:
	// this device: Laptop; 2 devices
	// this device: Phone; 2 devices
	// 1 other devices logged out
	// not logged in
	// this device: Laptop; 1 devices
}

// browser is a simulated browser: a User-Agent and a cookie jar of one
// cookie.
type browser struct {
	agent  string
	cookie fasthttp.Cookie
}

// get runs handler on a request for path carrying the browser's cookie,
// keeps the cookie of the response, and returns the body.
func (b *browser) get(handler fasthttp.RequestHandler, path string) string {
	var ctx fasthttp.RequestCtx
	ctx.Init(&fasthttp.Request{}, nil, nil)
	ctx.Request.SetRequestURI(path)
	ctx.Request.Header.SetUserAgent(b.agent)
	if len(b.cookie.Value()) > 0 {
		ctx.Request.Header.SetCookieBytesKV(b.cookie.Key(), b.cookie.Value())
	}
	handler(&ctx)
	b.cookie.SetKey("session")
	ctx.Response.Header.Cookie(&b.cookie)
	return string(ctx.Response.Body())
}
