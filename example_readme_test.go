package sessions_test

import (
	"fmt"
	"log"
	"os"

	"github.com/fasthttp-sessions/sessions"
	"github.com/gorilla/securecookie"
	"github.com/valyala/fasthttp"
)

// The stores of the core, as the README's "Stores" section makes them
// (redisstore and pgstore, in their own modules, have their own Examples).
// Compiled, not run: the folder is the application's.
func Example_stores() {
	hashKey, blockKey := securecookie.GenerateRandomKey(32), securecookie.GenerateRandomKey(32)

	cookies := sessions.NewCookieStore(hashKey, blockKey)
	files := sessions.NewFilesystemStore("/var/lib/myapp/sessions", hashKey, blockKey)
	memory := sessions.NewMemoryStore(hashKey, blockKey)

	for _, store := range []interface{ Check() error }{cookies, files, memory} {
		if err := store.Check(); err != nil {
			log.Fatal(err) // a short key, or a folder others can write to
		}
	}
}

// Flashes under the default key and under another, as in the README's
// "Flashes" section: shown once, then gone.
func ExampleSession_Flashes() {
	store := sessions.NewCookieStore(securecookie.GenerateRandomKey(32))
	var cookie fasthttp.Cookie // the browser's cookie jar
	cookie.SetKey("session")
	request := func(handler func(ctx *fasthttp.RequestCtx, session *sessions.Session)) {
		var ctx fasthttp.RequestCtx
		ctx.Init(&fasthttp.Request{}, nil, nil)
		if len(cookie.Value()) > 0 {
			ctx.Request.Header.SetCookieBytesKV(cookie.Key(), cookie.Value())
		}
		session, _ := store.Get(&ctx, "session")
		handler(&ctx, session)
		ctx.Response.Header.Cookie(&cookie)
		fmt.Printf("%q\n", ctx.Response.Body())
	}

	request(func(ctx *fasthttp.RequestCtx, session *sessions.Session) {
		session.AddFlash("Welcome back!")       // stored under "_flash", as gorilla
		session.AddFlash("Bad input", "errors") // under another key
		session.Save(ctx)
	})
	request(func(ctx *fasthttp.RequestCtx, session *sessions.Session) {
		for _, f := range session.Flashes() { // returns and removes them
			fmt.Fprintln(ctx, f)
		}
		session.Save(ctx) // save after reading, or they are shown again
	})
	request(func(ctx *fasthttp.RequestCtx, session *sessions.Session) {
		fmt.Fprintln(ctx, session.Flashes(), session.Flashes("errors"))
		session.Save(ctx)
	})
	// Output:
	// ""
	// "Welcome back!\n"
	// "[] [Bad input]\n"
}

// Two sessions of two stores in one request, saved by one call, as in the
// README's Registry section.
func ExampleSave() {
	folder, err := os.MkdirTemp("", "sessions-example")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(folder)
	cookieStore := sessions.NewCookieStore(securecookie.GenerateRandomKey(32))
	fileStore := sessions.NewFilesystemStore(folder, securecookie.GenerateRandomKey(32), securecookie.GenerateRandomKey(32))
	var ctx fasthttp.RequestCtx
	ctx.Init(&fasthttp.Request{}, nil, nil)

	prefs, _ := cookieStore.Get(&ctx, "prefs")
	auth, _ := fileStore.Get(&ctx, "auth")
	prefs.Values["theme"] = "dark"
	auth.Values["user"] = "ann"
	if err := sessions.Save(&ctx); err != nil { // errors.Join of each failure
		fmt.Println(err)
	}

	for name := range ctx.Response.Header.Cookies() {
		fmt.Println("Set-Cookie:", string(name))
	}
	// Output:
	// Set-Cookie: prefs
	// Set-Cookie: auth
}
