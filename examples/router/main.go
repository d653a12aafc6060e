// Command router is the login flow of fasthttp-sessions on
// github.com/fasthttp/router, with a CookieStore: the whole session travels
// in a signed, encrypted cookie.
//
// fasthttp/router handlers are plain fasthttp.RequestHandlers, so sessions
// are used exactly as with bare fasthttp: store.Get(ctx, name) in the
// handler, and session.Save(ctx) before the handler writes its response and
// returns. The router's path parameters live in the same user values as the
// request's session Registry, under keys that never collide.
//
// Run it from this folder:
//
//	cd examples/router && go run .
//	cd examples/router && go run . -addr 127.0.0.1:9000
//
// Keys come from SESSION_HASH_KEY (hex, at least 32 bytes) and
// SESSION_BLOCK_KEY (hex, 16, 24 or 32 bytes); without them the program uses
// random keys, and sessions do not survive a restart.
//
// Routes:
//
//	GET /                   public page: the flash (once), the user or "not logged in"
//	GET /login?user=NAME    log in: stores the user, adds a flash, redirects to /
//	GET /private            the logged-in user's page; 401 when not logged in
//	GET /logout             deletes the session, redirects to /
package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"html/template"
	"log"
	"net"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/fasthttp-sessions/sessions"
	"github.com/fasthttp/router"
	"github.com/valyala/fasthttp"
)

const (
	// sessionName is the name of the session and of its cookie.
	sessionName = "session"

	// maxUserLen bounds the user name, so that the cookie stays small.
	maxUserLen = 64
)

func main() {
	addr := flag.String("addr", "127.0.0.1:8080", "address to listen on")
	flag.Parse()
	logger := log.New(os.Stderr, "", log.LstdFlags)
	if err := run(*addr, logger); err != nil {
		logger.Fatal(err)
	}
}

func run(addr string, logger *log.Logger) error {
	hash, block, err := loadKeys(logger)
	if err != nil {
		return err
	}
	// A store that cannot work (keys too short) says so here, at start-up,
	// not at the first request.
	store := newStore(hash, block)
	if err := store.Check(); err != nil {
		return err
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	logger.Printf("listening on http://%s", ln.Addr())
	srv := &fasthttp.Server{
		Handler:      newApp(store, logger),
		ReadTimeout:  10 * time.Second,
		WriteTimeout: 10 * time.Second,
		IdleTimeout:  time.Minute,
		Logger:       logger,
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	select {
	case err := <-served:
		return err
	case <-ctx.Done():
	}
	logger.Print("shutting down")
	err = srv.Shutdown()
	_ = ln.Close()
	if serr := <-served; err == nil {
		err = serr
	}
	return err
}

// loadKeys reads the hash and block keys from SESSION_HASH_KEY and
// SESSION_BLOCK_KEY, in hex, or makes random ones when neither is set.
func loadKeys(logger *log.Logger) (hash, block []byte, err error) {
	hashHex, blockHex := os.Getenv("SESSION_HASH_KEY"), os.Getenv("SESSION_BLOCK_KEY")
	if hashHex == "" && blockHex == "" {
		logger.Print("no SESSION_HASH_KEY: using random keys; sessions will not survive a restart")
		hash, block = make([]byte, 32), make([]byte, 32)
		_, _ = rand.Read(hash) // crypto/rand.Read never fails (Go 1.24+)
		_, _ = rand.Read(block)
		return hash, block, nil
	}
	if hash, err = hex.DecodeString(hashHex); err != nil || len(hash) < 32 {
		return nil, nil, errors.New("SESSION_HASH_KEY: want at least 32 bytes in hex")
	}
	if block, err = hex.DecodeString(blockHex); err != nil || (len(block) != 16 && len(block) != 24 && len(block) != 32) {
		return nil, nil, errors.New("SESSION_BLOCK_KEY: want 16, 24 or 32 bytes in hex")
	}
	return hash, block, nil
}

// newStore returns the application's CookieStore, with the defaults: Path
// "/", MaxAge 30 days, HttpOnly, SameSite=Lax. Over HTTPS also set
// store.Options.Secure = true.
func newStore(hash, block []byte) *sessions.CookieStore {
	return sessions.NewCookieStore(hash, block)
}

// app holds what the handlers share.
type app struct {
	store  *sessions.CookieStore
	logger *log.Logger
}

// newApp returns the application: a router with its routes. Session errors
// are logged to logger.
func newApp(store *sessions.CookieStore, logger *log.Logger) fasthttp.RequestHandler {
	a := &app{store: store, logger: logger}
	r := router.New()
	r.GET("/", a.home)
	r.GET("/login", a.login)
	r.GET("/private", a.private)
	r.GET("/logout", a.logout)
	return r.Handler
}

// session returns the request's session. A cookie that does not decode
// (keys changed, expired, tampered with) is no reason to fail the request:
// the store returns a new, empty session along with the error, which is
// logged; invalid reports it, so that the caller can delete the cookie.
func (a *app) session(ctx *fasthttp.RequestCtx) (s *sessions.Session, invalid bool) {
	s, err := a.store.Get(ctx, sessionName)
	if err != nil {
		a.logger.Printf("%s %s: ignoring the session cookie: %v", ctx.Method(), ctx.Path(), err)
	}
	return s, err != nil
}

// save saves the session; it must run before the handler returns. On error
// it answers 500 and returns false.
func (a *app) save(ctx *fasthttp.RequestCtx, s *sessions.Session) bool {
	if err := s.Save(ctx); err != nil {
		a.logger.Printf("%s %s: saving the session: %v", ctx.Method(), ctx.Path(), err)
		ctx.Error("internal server error", fasthttp.StatusInternalServerError)
		return false
	}
	return true
}

var page = template.Must(template.New("page").Parse(`<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>{{.Title}}</title></head>
<body>
{{range .Flashes}}<p class="flash">{{.}}</p>
{{end}}{{if .User}}<p>Logged in as <strong id="user">{{.User}}</strong>.</p>
<p><a href="/private">Private page</a> · <a href="/logout">Log out</a></p>
{{else}}<p id="user">not logged in</p>
<p>Log in with <a href="/login?user=Ann">/login?user=Ann</a>.</p>
{{end}}</body>
</html>
`))

// pageData is what the page shows; html/template escapes every field.
type pageData struct {
	Title   string
	User    string
	Flashes []any
}

func (a *app) render(ctx *fasthttp.RequestCtx, status int, d pageData) {
	ctx.SetStatusCode(status)
	ctx.SetContentType("text/html; charset=utf-8")
	ctx.Response.Header.Set(fasthttp.HeaderCacheControl, "no-store")
	if err := page.Execute(ctx, d); err != nil {
		a.logger.Printf("rendering the page: %v", err)
	}
}

// home is the public page. Reading the flashes removes them from the
// session, which is then saved so that they are shown only once.
func (a *app) home(ctx *fasthttp.RequestCtx) {
	s, invalid := a.session(ctx)
	flashes := s.Flashes()
	if invalid {
		// Delete the unreadable cookie, so that it is not sent (and
		// logged) again on every request.
		s.Options.MaxAge = -1
	}
	if (invalid || len(flashes) > 0) && !a.save(ctx, s) {
		return
	}
	a.render(ctx, fasthttp.StatusOK, pageData{Title: "router example", User: s.GetString("user"), Flashes: flashes})
}

// login stores the user and a welcome flash.
//
// A real application logs users in with POST only, checks a password and
// protects the form against CSRF.
func (a *app) login(ctx *fasthttp.RequestCtx) {
	user := strings.TrimSpace(string(ctx.QueryArgs().Peek("user")))
	if user == "" || len(user) > maxUserLen {
		ctx.Error(fmt.Sprintf("a user name of 1 to %d bytes is required", maxUserLen), fasthttp.StatusBadRequest)
		return
	}
	s, _ := a.session(ctx) // an invalid cookie is simply replaced
	// Logging in is a privilege change: server-side stores move the session
	// to a new ID against session fixation. CookieStore has no ID and
	// ignores it; it is here so that swapping the store keeps the app safe.
	s.RenewID()
	s.Values["user"] = user
	s.AddFlash("Welcome, " + user + "!")
	if a.save(ctx, s) {
		redirect(ctx, "/")
	}
}

// private is the page that needs a login.
func (a *app) private(ctx *fasthttp.RequestCtx) {
	s, _ := a.session(ctx)
	user := s.GetString("user")
	if user == "" {
		a.render(ctx, fasthttp.StatusUnauthorized, pageData{Title: "not logged in"})
		return
	}
	a.render(ctx, fasthttp.StatusOK, pageData{Title: "private page of " + user, User: user})
}

// logout deletes the session: MaxAge < 0 makes Save send a cookie that the
// browser deletes at once.
//
// A CookieStore cannot revoke a cookie: a copy taken before the logout
// stays valid until it expires. Use a server-side store (MemoryStore,
// FilesystemStore, redisstore) when that matters.
//
// When the logout cannot be done (a server-side store whose backend is
// down), the user is told so and stays logged in: never answer "logged
// out" to a logout that did not happen.
func (a *app) logout(ctx *fasthttp.RequestCtx) {
	s, _ := a.session(ctx)
	s.Options.MaxAge = -1
	if err := s.Save(ctx); err != nil {
		a.logger.Printf("%s %s: logging out: %v", ctx.Method(), ctx.Path(), err)
		ctx.Error("Logging out failed: you are still logged in. Please try again.", fasthttp.StatusInternalServerError)
		return
	}
	redirect(ctx, "/")
}

// redirect answers 303 See Other to a relative location.
func redirect(ctx *fasthttp.RequestCtx, location string) {
	ctx.Response.Header.Set(fasthttp.HeaderLocation, location)
	ctx.SetStatusCode(fasthttp.StatusSeeOther)
}
