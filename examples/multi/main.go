// Command multi uses two sessions from two different stores in one request,
// with plain fasthttp:
//
//   - "prefs", a CookieStore session that keeps the visitor's preferences
//     (a colour theme, the last user name) in the cookie itself, for a year,
//     across logins and logouts;
//   - "auth", a FilesystemStore session that keeps who is logged in on the
//     server, in a folder, behind a signed ID cookie.
//
// Each handler gets the sessions it needs with store.Get(ctx, name); the
// request's Registry remembers them, and one sessions.Save(ctx) before the
// handler returns saves them all, each with its own store.
//
// Run it from the repository root:
//
//	go run ./examples/multi
//	go run ./examples/multi -addr 127.0.0.1:9000 -dir /var/lib/myapp/sessions
//
// Without -dir the session files go to a temporary folder removed at exit.
// Keys come from SESSION_HASH_KEY (hex, at least 32 bytes) and
// SESSION_BLOCK_KEY (hex, 16, 24 or 32 bytes); without them the program uses
// random keys, and sessions do not survive a restart.
//
// Routes:
//
//	GET /                   public page: the flash (once), the user or "not logged in", the theme
//	GET /login?user=NAME    log in: stores the user, adds a flash, renews the ID, redirects to /
//	GET /private            the logged-in user's page; 401 when not logged in
//	GET /logout             deletes the auth session (the prefs stay), redirects to /
//	GET /theme?set=dark     sets the theme (light or dark), redirects to /
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
	"github.com/valyala/fasthttp"
)

const (
	// prefsName and authName are the names of the two sessions, and of
	// their cookies.
	prefsName = "prefs"
	authName  = "auth"

	// maxUserLen bounds the user name.
	maxUserLen = 64
)

func main() {
	addr := flag.String("addr", "127.0.0.1:8080", "address to listen on")
	dir := flag.String("dir", "", "folder for the session files (default: a temporary folder, removed at exit)")
	flag.Parse()
	logger := log.New(os.Stderr, "", log.LstdFlags)

	if err := run(*addr, *dir, logger); err != nil {
		logger.Fatal(err)
	}
}

func run(addr, dir string, logger *log.Logger) error {
	if dir == "" {
		tmp, err := os.MkdirTemp("", "multi-sessions-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(tmp)
		dir = tmp
	}
	hash, block, err := loadKeys(logger)
	if err != nil {
		return err
	}
	prefs, auth := newStores(dir, hash, block)
	// A store that cannot work (keys too short, a folder others may write)
	// says so here, at start-up, not at the first request.
	if err := errors.Join(prefs.Check(), auth.Check()); err != nil {
		logger.Fatal(err)
	}
	stopCleanup := auth.StartCleanup(time.Hour)
	defer stopCleanup()

	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	logger.Printf("listening on http://%s, session files in %s", ln.Addr(), dir)
	srv := &fasthttp.Server{
		Handler:      newApp(prefs, auth, logger),
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

// newStores returns the two stores. They may share keys: the cookie name is
// part of what securecookie signs, so a "prefs" cookie is never accepted as
// an "auth" cookie or the other way round.
func newStores(dir string, hash, block []byte) (*sessions.CookieStore, *sessions.FilesystemStore) {
	prefs := sessions.NewCookieStore(hash, block)
	prefs.MaxAge(365 * 24 * 3600) // preferences last a year
	auth := sessions.NewFilesystemStore(dir, hash, block)
	auth.MaxAge(24 * 3600) // a login lasts a day
	return prefs, auth
}

// app holds the two stores.
type app struct {
	prefs  *sessions.CookieStore
	auth   *sessions.FilesystemStore
	logger *log.Logger
}

// newApp returns the application's handler. Session errors are logged to
// logger.
func newApp(prefs *sessions.CookieStore, auth *sessions.FilesystemStore, logger *log.Logger) fasthttp.RequestHandler {
	a := &app{prefs: prefs, auth: auth, logger: logger}
	return func(ctx *fasthttp.RequestCtx) {
		if !ctx.IsGet() && !ctx.IsHead() {
			ctx.Response.Header.Set(fasthttp.HeaderAllow, "GET, HEAD")
			ctx.Error("method not allowed", fasthttp.StatusMethodNotAllowed)
			return
		}
		switch string(ctx.Path()) {
		case "/":
			a.home(ctx)
		case "/login":
			a.login(ctx)
		case "/private":
			a.private(ctx)
		case "/logout":
			a.logout(ctx)
		case "/theme":
			a.theme(ctx)
		default:
			ctx.Error("not found", fasthttp.StatusNotFound)
		}
	}
}

// get returns the session named name from store. A cookie that does not
// decode (keys changed, expired, tampered with) is no reason to fail the
// request: the store returns a new, empty session along with the error,
// which is logged; invalid reports it, so that the caller can delete the
// cookie.
func (a *app) get(ctx *fasthttp.RequestCtx, store sessions.Store, name string) *sessions.Session {
	s, err := store.Get(ctx, name)
	if err != nil {
		a.logger.Printf("%s %s: ignoring cookie %q: %v", ctx.Method(), ctx.Path(), name, err)
	}
	return s
}

// save saves every session this request got, with one call, whatever their
// stores. On error it answers 500 and returns false.
func (a *app) save(ctx *fasthttp.RequestCtx) bool {
	if err := sessions.Save(ctx); err != nil {
		a.logger.Printf("%s %s: %v", ctx.Method(), ctx.Path(), err)
		ctx.Error("internal server error", fasthttp.StatusInternalServerError)
		return false
	}
	return true
}

var page = template.Must(template.New("page").Parse(`<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>{{.Title}}</title></head>
<body class="{{.Theme}}">
{{range .Flashes}}<p class="flash">{{.}}</p>
{{end}}{{if .User}}<p>Logged in as <strong id="user">{{.User}}</strong>.</p>
{{else}}<p id="user">not logged in</p>
{{end}}{{if .LastUser}}<p id="last">Last login: {{.LastUser}}</p>
{{end}}<p id="theme">Theme: {{.Theme}}</p>
<p><a href="/private">Private page</a> · <a href="/theme?set=light">Light</a> · <a href="/theme?set=dark">Dark</a> · <a href="/logout">Log out</a></p>
</body>
</html>
`))

// pageData is what the page shows; html/template escapes every field.
type pageData struct {
	Title    string
	Theme    string
	User     string
	LastUser string
	Flashes  []any
}

// render writes the page with the given status.
func (a *app) render(ctx *fasthttp.RequestCtx, status int, d pageData) {
	if d.Theme == "" {
		d.Theme = "light"
	}
	ctx.SetStatusCode(status)
	ctx.SetContentType("text/html; charset=utf-8")
	ctx.Response.Header.Set(fasthttp.HeaderCacheControl, "no-store")
	if err := page.Execute(ctx, d); err != nil {
		a.logger.Printf("rendering the page: %v", err)
	}
}

// home shows the flashes, the user and the preferences. Reading the flashes
// removes them from the auth session, which is then saved so that they are
// shown once. A request that changed nothing saves nothing: a visitor
// without a login gets no session file.
func (a *app) home(ctx *fasthttp.RequestCtx) {
	// An unreadable cookie gives a new session, and its store answers with
	// a deletion cookie so that the browser stops sending it.
	prefs := a.get(ctx, a.prefs, prefsName)
	auth := a.get(ctx, a.auth, authName)
	flashes := auth.Flashes()
	if len(flashes) > 0 && !a.save(ctx) {
		return
	}
	a.render(ctx, fasthttp.StatusOK, pageData{
		Title:    "multi: two stores, one request",
		Theme:    prefs.GetString("theme"),
		User:     auth.GetString("user"),
		LastUser: prefs.GetString("last_user"),
		Flashes:  flashes,
	})
}

// login stores the user in the auth session and the user name in the
// preferences, and saves both with one sessions.Save.
//
// A real application logs users in with POST only, checks a password and
// protects the form against CSRF.
func (a *app) login(ctx *fasthttp.RequestCtx) {
	user := strings.TrimSpace(string(ctx.QueryArgs().Peek("user")))
	if user == "" || len(user) > maxUserLen {
		ctx.Error(fmt.Sprintf("a user name of 1 to %d bytes is required", maxUserLen), fasthttp.StatusBadRequest)
		return
	}
	auth := a.get(ctx, a.auth, authName) // an invalid cookie is simply replaced
	prefs := a.get(ctx, a.prefs, prefsName)
	// Logging in is a privilege change: move the auth session to a new ID
	// against session fixation.
	auth.RenewID()
	auth.Values["user"] = user
	auth.AddFlash("Welcome, " + user + "!")
	prefs.Values["last_user"] = user
	if a.save(ctx) {
		redirect(ctx, "/")
	}
}

// private is the page that needs a login.
func (a *app) private(ctx *fasthttp.RequestCtx) {
	auth := a.get(ctx, a.auth, authName)
	prefs := a.get(ctx, a.prefs, prefsName)
	user := auth.GetString("user")
	if user == "" {
		a.render(ctx, fasthttp.StatusUnauthorized, pageData{Title: "not logged in", Theme: prefs.GetString("theme")})
		return
	}
	a.render(ctx, fasthttp.StatusOK, pageData{Title: "private page of " + user, Theme: prefs.GetString("theme"), User: user})
}

// logout deletes the auth session: its file is removed and its cookie
// deleted. The preferences are not touched, and stay.
//
// When the file cannot be removed, the user is told so and stays logged
// in (the cookie is kept, so that they can try again): never answer
// "logged out" to a logout that did not happen.
func (a *app) logout(ctx *fasthttp.RequestCtx) {
	auth := a.get(ctx, a.auth, authName)
	auth.Options.MaxAge = -1
	if err := auth.Save(ctx); err != nil {
		a.logger.Printf("%s %s: logging out: %v", ctx.Method(), ctx.Path(), err)
		ctx.Error("Logging out failed: you are still logged in. Please try again.", fasthttp.StatusInternalServerError)
		return
	}
	redirect(ctx, "/")
}

// theme sets the theme preference.
func (a *app) theme(ctx *fasthttp.RequestCtx) {
	theme := string(ctx.QueryArgs().Peek("set"))
	if theme != "light" && theme != "dark" {
		ctx.Error(`set must be "light" or "dark"`, fasthttp.StatusBadRequest)
		return
	}
	prefs := a.get(ctx, a.prefs, prefsName)
	prefs.Values["theme"] = theme
	if a.save(ctx) {
		redirect(ctx, "/")
	}
}

// redirect answers 303 See Other to a relative location.
func redirect(ctx *fasthttp.RequestCtx, location string) {
	ctx.Response.Header.Set(fasthttp.HeaderLocation, location)
	ctx.SetStatusCode(fasthttp.StatusSeeOther)
}
