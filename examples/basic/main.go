// Command basic is a small login application built on sessions.CookieStore:
// a page that shows who is logged in, a login that stores the user name and
// a one-time "Welcome" flash, an optional "remember me", and a logout.
//
// Run it from the repository root:
//
//	go run ./examples/basic
//	go run ./examples/basic -addr 127.0.0.1:9000 -hash-key "$(openssl rand -hex 32)"
//
// Keys come from -hash-key and -block-key, or else from the SESSION_HASH_KEY
// and SESSION_BLOCK_KEY environment variables, in hex or base64. The hash key
// signs the cookie (at least 32 bytes); the block key encrypts it (16, 24 or
// 32 bytes) and may be left out for a signed-only cookie. Without a hash key
// the program generates random keys at start, so sessions do not survive a
// restart.
//
// Routes:
//
//	GET  /                          the page: user (or "not logged in"), flash, login form
//	GET  /login?user=NAME[&remember=1], or POST /login (the form): log in, redirect to /
//	GET  /logout                    delete the session, redirect to /
package main

import (
	"context"
	"crypto/rand"
	"encoding/base64"
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
	"github.com/valyala/fasthttp"
)

const (
	// sessionName is the name of the session and of its cookie.
	sessionName = "session"

	// rememberMaxAge is the cookie lifetime, in seconds, when the user ticks
	// "remember me": 30 days, the store's default MaxAge, so the codec still
	// accepts the cookie for all of that time.
	rememberMaxAge = 30 * 24 * 3600

	// maxUserLen bounds the user name, so that the cookie stays small.
	maxUserLen = 64
)

func main() {
	addr := flag.String("addr", "127.0.0.1:8080", "address to listen on")
	hashKey := flag.String("hash-key", "", "hash (signing) key, hex or base64, at least 32 bytes (default $SESSION_HASH_KEY; random when both are unset)")
	blockKey := flag.String("block-key", "", "block (encryption) key, hex or base64, 16, 24 or 32 bytes (default $SESSION_BLOCK_KEY)")
	sameSiteNone := flag.Bool("samesite-none", false, "send the cookie with SameSite=None and Secure, for cross-site use (needs HTTPS, or localhost)")
	flag.Parse()

	logger := log.New(os.Stderr, "", log.LstdFlags)
	hash, block, err := loadKeys(firstNonEmpty(*hashKey, os.Getenv("SESSION_HASH_KEY")),
		firstNonEmpty(*blockKey, os.Getenv("SESSION_BLOCK_KEY")), logger)
	if err != nil {
		logger.Fatal(err)
	}
	store := newStore(hash, block, *sameSiteNone)
	// A store that cannot work (keys too short, a folder others may write)
	// says so here, at start-up, not at the first request.
	if err := store.Check(); err != nil {
		logger.Fatal(err)
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, *addr, newApp(store, logger), logger); err != nil {
		logger.Fatal(err)
	}
}

func firstNonEmpty(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// loadKeys decodes the hash and block keys. With no hash key it generates
// random keys and says so; a block key without a hash key is an error.
func loadKeys(hashText, blockText string, logger *log.Logger) (hash, block []byte, err error) {
	if hashText == "" {
		if blockText != "" {
			return nil, nil, errors.New("a block key needs a hash key: set -hash-key or SESSION_HASH_KEY too")
		}
		hash, block = make([]byte, 32), make([]byte, 32)
		_, _ = rand.Read(hash) // crypto/rand.Read never fails (Go 1.24+)
		_, _ = rand.Read(block)
		logger.Print("no SESSION_HASH_KEY: using random keys; sessions will not survive a restart")
		return hash, block, nil
	}
	if hash, err = decodeKey(hashText); err != nil {
		return nil, nil, fmt.Errorf("hash key: %w", err)
	}
	if len(hash) < 32 {
		return nil, nil, fmt.Errorf("hash key: %d bytes, want at least 32", len(hash))
	}
	if blockText == "" {
		logger.Print("no SESSION_BLOCK_KEY: cookies are signed but not encrypted")
		return hash, nil, nil
	}
	if block, err = decodeKey(blockText); err != nil {
		return nil, nil, fmt.Errorf("block key: %w", err)
	}
	// securecookie would only report a bad block key at the first request.
	if n := len(block); n != 16 && n != 24 && n != 32 {
		return nil, nil, fmt.Errorf("block key: %d bytes, want 16, 24 or 32", n)
	}
	return hash, block, nil
}

// decodeKey decodes a key written in hex or in base64 (standard or URL
// alphabet, padded or not). Hex is tried first.
func decodeKey(s string) ([]byte, error) {
	s = strings.TrimSpace(s)
	if b, err := hex.DecodeString(s); err == nil && len(b) > 0 {
		return b, nil
	}
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		if b, err := enc.DecodeString(s); err == nil && len(b) > 0 {
			return b, nil
		}
	}
	return nil, errors.New("not hex or base64")
}

// newStore returns the application's CookieStore. Its defaults (Path "/",
// HttpOnly, SameSite=Lax, MaxAge 30 days, no Secure) suit plain HTTP; in
// production over HTTPS also set store.Options.Secure = true.
//
// With sameSiteNone the cookie is sent with SameSite=None and Secure, so
// that it may also accompany cross-site requests (an iframe, a fetch from
// another origin) where the browser allows third-party cookies; a fresh
// Chromium profile does not. Browsers accept a Secure cookie only over
// HTTPS or from localhost: with this flag, open http://localhost:8080 or
// http://127.0.0.1:8080 (or serve HTTPS), not a LAN address, or the browser
// silently drops the cookie (the e2e/browser test checks all three).
func newStore(hashKey, blockKey []byte, sameSiteNone bool) *sessions.CookieStore {
	var store *sessions.CookieStore
	if blockKey != nil {
		store = sessions.NewCookieStore(hashKey, blockKey)
	} else {
		store = sessions.NewCookieStore(hashKey)
	}
	if sameSiteNone {
		store.Options.SameSite = fasthttp.CookieSameSiteNoneMode
		store.Options.Secure = true
	}
	return store
}

var page = template.Must(template.New("page").Parse(`<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>fasthttp-sessions example</title></head>
<body>
{{range .Flashes}}<p class="flash">{{.}}</p>
{{end}}{{if .User}}<p>Logged in as <strong id="user">{{.User}}</strong>.</p>
<p><a href="/logout">Log out</a></p>
<p class="note">This example keeps the whole session in a signed cookie
(CookieStore). Logging out deletes the cookie in this browser; a copy of it
taken before (from another browser, or by a thief) keeps working until it
expires, because nothing on the server remembers the logout. For a logout
that ends every copy, use a server-side store: see examples/multi or
examples/redis.</p>
{{else}}<p id="user">not logged in</p>
<form method="post" action="/login">
<label>Name <input name="user" required maxlength="64"></label>
<label><input type="checkbox" name="remember" value="1"> Remember me</label>
<button type="submit">Log in</button>
</form>
{{end}}</body>
</html>
`))

// newApp returns the application's handler. Session errors are logged to
// logger.
func newApp(store *sessions.CookieStore, logger *log.Logger) fasthttp.RequestHandler {
	a := &app{store: store, logger: logger}
	return func(ctx *fasthttp.RequestCtx) {
		switch string(ctx.Path()) {
		case "/":
			if allow(ctx, fasthttp.MethodGet, fasthttp.MethodHead) {
				a.home(ctx)
			}
		case "/login":
			if allow(ctx, fasthttp.MethodGet, fasthttp.MethodPost) {
				a.login(ctx)
			}
		case "/logout":
			if allow(ctx, fasthttp.MethodGet, fasthttp.MethodPost) {
				a.logout(ctx)
			}
		default:
			ctx.Error("not found", fasthttp.StatusNotFound)
		}
	}
}

type app struct {
	store  *sessions.CookieStore
	logger *log.Logger
}

// allow answers 405 unless the request's method is one of methods.
func allow(ctx *fasthttp.RequestCtx, methods ...string) bool {
	for _, m := range methods {
		if string(ctx.Method()) == m {
			return true
		}
	}
	ctx.Response.Header.Set(fasthttp.HeaderAllow, strings.Join(methods, ", "))
	ctx.Error("method not allowed", fasthttp.StatusMethodNotAllowed)
	return false
}

// session returns the request's session. A cookie that does not decode
// (keys changed by a restart, expired, tampered with) is no reason to fail
// the request: the store returns a new, empty session along with the error,
// which is logged.
func (a *app) session(ctx *fasthttp.RequestCtx) *sessions.Session {
	s, err := a.store.Get(ctx, sessionName)
	if err != nil {
		a.logger.Printf("%s %s: ignoring session cookie: %v", ctx.Method(), ctx.Path(), err)
	}
	return s
}

// save saves the session. On error it answers 500 and returns false.
//
// ErrSessionRevoked is not an error of the application: with a server-side
// store it means another request of the same browser logged out or logged
// in while this one ran, and the browser already holds what that request
// set. This request then carries on as logged out. (CookieStore never
// returns it; it is handled so that swapping the store keeps the app
// right.)
func (a *app) save(ctx *fasthttp.RequestCtx, s *sessions.Session) bool {
	err := s.Save(ctx)
	switch {
	case err == nil, errors.Is(err, sessions.ErrSessionRevoked):
		return true
	}
	a.logger.Printf("%s %s: saving the session: %v", ctx.Method(), ctx.Path(), err)
	ctx.Error("internal server error", fasthttp.StatusInternalServerError)
	return false
}

// home shows the user and the flashes. Reading the flashes removes them
// from the session, which is then saved so that they are shown only once.
func (a *app) home(ctx *fasthttp.RequestCtx) {
	// An unreadable cookie (keys changed, expired, tampered with) gives a
	// new session, and the store answers with a deletion cookie so that
	// the browser stops sending it.
	s := a.session(ctx)
	flashes := s.Flashes()
	if len(flashes) > 0 && !a.save(ctx, s) {
		return
	}
	ctx.SetContentType("text/html; charset=utf-8")
	ctx.Response.Header.Set(fasthttp.HeaderCacheControl, "no-store")
	// html/template escapes the user name and the flashes.
	err := page.Execute(ctx, struct {
		User    string
		Flashes []any
	}{s.GetString("user"), flashes})
	if err != nil {
		a.logger.Printf("rendering the page: %v", err)
	}
}

// login stores the user and a welcome flash, and sets the cookie's lifetime
// from the "remember me" box.
//
// A real application logs users in with POST only, checks a password and
// protects the form against CSRF: SameSite=Lax still sends the cookie on a
// top-level GET from another site, so GET /login?user=... could be triggered
// by any page the user visits.
func (a *app) login(ctx *fasthttp.RequestCtx) {
	user := strings.TrimSpace(string(ctx.FormValue("user")))
	if user == "" || len(user) > maxUserLen {
		ctx.Error(fmt.Sprintf("a user name of 1 to %d bytes is required", maxUserLen), fasthttp.StatusBadRequest)
		return
	}
	s := a.session(ctx) // an invalid cookie is simply replaced
	// Log-in is a privilege change: server-side stores move the session to
	// a new ID against session fixation. CookieStore has no ID, and ignores
	// it; it is here so that swapping the store keeps the app safe.
	s.RenewID()
	s.Values["user"] = user
	// "Remember me" sets this session's cookie lifetime. The session keeps
	// it on every later Save, until the next login or logout.
	if len(ctx.FormValue("remember")) > 0 {
		s.Options.MaxAge = rememberMaxAge
	} else {
		s.Options.MaxAge = 0 // a browser-session cookie
	}
	s.AddFlash("Welcome, " + user + "!")
	if a.save(ctx, s) {
		redirectHome(ctx)
	}
}

// logout deletes the session: MaxAge < 0 makes Save send a cookie that the
// browser deletes at once (and a server-side store delete the record).
// When that fails (a server-side store whose backend is down), the user is
// told so, and stays logged in: the cookie is kept so that they can try
// again. Never answer "logged out" to a logout that did not happen.
func (a *app) logout(ctx *fasthttp.RequestCtx) {
	s := a.session(ctx)
	s.Options.MaxAge = -1
	if err := s.Save(ctx); err != nil && !errors.Is(err, sessions.ErrSessionRevoked) {
		a.logger.Printf("%s %s: logging out: %v", ctx.Method(), ctx.Path(), err)
		ctx.Error("Logging out failed: you are still logged in. Please try again.", fasthttp.StatusInternalServerError)
		return
	}
	redirectHome(ctx)
}

// redirectHome answers 303 See Other to "/". The Location is relative, so
// it stays right behind a proxy (ctx.Redirect would make it absolute from
// the request's Host and scheme).
func redirectHome(ctx *fasthttp.RequestCtx) {
	ctx.Response.Header.Set(fasthttp.HeaderLocation, "/")
	ctx.SetStatusCode(fasthttp.StatusSeeOther)
}

// run listens on addr and serves handler until ctx is cancelled.
func run(ctx context.Context, addr string, handler fasthttp.RequestHandler, logger *log.Logger) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	logger.Printf("listening on http://%s", ln.Addr())
	return serve(ctx, ln, handler, logger)
}

// serve serves handler on ln until ctx is cancelled, then shuts down
// gracefully: it stops accepting, closes idle keep-alive connections, lets
// requests in progress finish (for up to 10 seconds) and returns. It closes
// ln.
func serve(ctx context.Context, ln net.Listener, handler fasthttp.RequestHandler, logger *log.Logger) error {
	srv := &fasthttp.Server{
		Handler: handler,
		// fasthttp's default of 4096 bytes bounds the whole request
		// header, cookies included: a session cookie near the codec's
		// 4096-byte MaxLength would be answered 431. See the package
		// documentation of sessions.
		ReadBufferSize: 16 << 10,
		ReadTimeout:    10 * time.Second,
		WriteTimeout:   10 * time.Second,
		IdleTimeout:    time.Minute,
		Logger:         logger,
	}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()

	select {
	case err := <-served: // the listener failed
		return err
	case <-ctx.Done():
	}
	logger.Print("shutting down")
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	err := srv.ShutdownWithContext(shutdownCtx)
	// Shutdown closes the listeners Serve has registered. Should ctx be
	// cancelled before Serve got that far, Shutdown would find none and
	// Serve would run on: closing ln ourselves makes it return.
	_ = ln.Close()
	if serr := <-served; err == nil {
		err = serr
	}
	return err
}
