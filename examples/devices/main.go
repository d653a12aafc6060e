// Command devices is a "your devices" page on sessions.MemoryStore, with
// plain fasthttp: a user logs in from several browsers, sees the list of
// their sessions (when each logged in, was last used and expires, and from
// which browser), and can end one of them, or all but the one in use
// ("log out other devices"), as after a password change.
//
// The session is bound to its user with Session.SetUser at login; the
// store keeps an index of each user's sessions, which ServerStore's
// UserSessions, Revoke and RevokeUser read. FilesystemStore, the Redis
// store and the PostgreSQL store have the same methods; a CookieStore
// session cannot be listed or ended this way.
//
// Run it from the repository root, then open http://127.0.0.1:8080 in two
// browsers (or a private window):
//
//	go run ./examples/devices
//
// Sessions live in memory, so a restart ends them all anyway: the keys
// are random, made at each start.
//
// Routes (every change is a POST, saved by sessions.Middleware):
//
//	GET  /         the login form, or the list of the user's sessions
//	POST /login    user=NAME: log in (SetUser, RenewID), redirect to /
//	POST /revoke   handle=H: end the user's session H, redirect to /
//	POST /others   end every session of the user but this one, redirect to /
//	POST /logout   end this session, redirect to /
//
// A real application checks a password at login and protects every POST
// against cross-site request forgery (a CSRF token in each form, checked
// on submission): SameSite=Lax, the store's default, keeps the cookie off
// cross-site POSTs in current browsers, but not off requests from a
// sibling subdomain.
package main

import (
	"context"
	"crypto/rand"
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

	// maxUserLen bounds the user name.
	maxUserLen = 64
)

func main() {
	addr := flag.String("addr", "127.0.0.1:8080", "address to listen on")
	flag.Parse()
	logger := log.New(os.Stderr, "", log.LstdFlags)
	hash, block := make([]byte, 32), make([]byte, 32)
	_, _ = rand.Read(hash) // crypto/rand.Read never fails (Go 1.24+)
	_, _ = rand.Read(block)
	store := sessions.NewMemoryStore(hash, block)
	// A store that cannot work (keys too short, a folder others may write)
	// says so here, at start-up, not at the first request.
	if err := store.Check(); err != nil {
		logger.Fatal(err)
	}
	defer store.StartCleanup(10 * time.Minute)()
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		logger.Fatal(err)
	}
	logger.Printf("listening on http://%s", ln.Addr())
	srv := &fasthttp.Server{Handler: newApp(store, logger), ReadTimeout: 10 * time.Second, IdleTimeout: time.Minute, Logger: logger}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	go func() {
		<-ctx.Done()
		_ = srv.Shutdown()
	}()
	if err := srv.Serve(ln); err != nil {
		logger.Print(err)
	}
}

var page = template.Must(template.New("page").Parse(`<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>Your devices</title></head>
<body>
{{range .Flashes}}<p class="flash">{{.}}</p>
{{end}}{{if .User}}<p>Logged in as <strong id="user">{{.User}}</strong>.</p>
<h1>Your devices</h1>
<table>
<tr><th>Session</th><th>Browser</th><th>Logged in</th><th>Last saved</th><th>Expires</th><th></th></tr>
{{range .Devices}}<tr id="{{.Handle}}"{{if .This}} class="this"{{end}}>
<td><code>{{printf "%.8s" .Handle}}</code>{{if .This}} <strong>this device</strong>{{end}}</td>
<td>{{.UserAgent}}</td>
<td>{{.Created.UTC.Format "2006-01-02 15:04 MST"}}</td>
<td>{{.LastSaved.UTC.Format "2006-01-02 15:04 MST"}}</td>
<td>{{.Expires.UTC.Format "2006-01-02 15:04 MST"}}</td>
<td>{{if .This}}<form method="post" action="/logout"><button>Log out</button></form>
{{else}}<form method="post" action="/revoke"><input type="hidden" name="handle" value="{{.Handle}}"><button>Log this device out</button></form>
{{end}}</td>
</tr>
{{end}}</table>
<form method="post" action="/others"><button>Log out all other devices</button></form>
{{else}}<p id="user">not logged in</p>
<form method="post" action="/login">
<label>Name <input name="user" required maxlength="64"></label>
<button type="submit">Log in</button>
</form>
{{end}}</body>
</html>
`))

// device is a row of the page: a session of the user, and whether it is
// the one of this request.
type device struct {
	sessions.SessionInfo
	This bool
}

type app struct {
	store  *sessions.MemoryStore
	logger *log.Logger
}

// newApp returns the application's handler, wrapped in sessions.Middleware,
// which saves the request's session after the handler: the handlers only
// change it. Save errors are logged and answered 500; a session that a
// concurrent request (another tab logging out) ended is not an error.
func newApp(store *sessions.MemoryStore, logger *log.Logger) fasthttp.RequestHandler {
	a := &app{store: store, logger: logger}
	routes := map[string]struct {
		method string
		handle func(*fasthttp.RequestCtx, *sessions.Session)
	}{
		"/":       {fasthttp.MethodGet, a.home},
		"/login":  {fasthttp.MethodPost, a.login},
		"/revoke": {fasthttp.MethodPost, a.loggedIn(a.revoke)},
		"/others": {fasthttp.MethodPost, a.loggedIn(a.others)},
		"/logout": {fasthttp.MethodPost, a.logout},
	}
	return sessions.Middleware(func(ctx *fasthttp.RequestCtx) {
		r, ok := routes[string(ctx.Path())]
		switch {
		case !ok:
			ctx.Error("not found", fasthttp.StatusNotFound)
			return
		case string(ctx.Method()) != r.method:
			ctx.Response.Header.Set(fasthttp.HeaderAllow, r.method)
			ctx.Error("method not allowed", fasthttp.StatusMethodNotAllowed)
			return
		}
		s, err := store.Get(ctx, sessionName)
		if err != nil {
			// A bad or expired cookie: s is a new session, use it.
			logger.Printf("%s %s: ignoring the session cookie: %v", ctx.Method(), ctx.Path(), err)
		}
		r.handle(ctx, s)
	}, func(ctx *fasthttp.RequestCtx, err error) {
		logger.Printf("%s %s: saving the session: %v", ctx.Method(), ctx.Path(), err)
		ctx.Error("internal server error", fasthttp.StatusInternalServerError)
	})
}

// loggedIn answers 401 to a request without a logged-in session, and
// passes the others to next.
func (a *app) loggedIn(next func(*fasthttp.RequestCtx, *sessions.Session)) func(*fasthttp.RequestCtx, *sessions.Session) {
	return func(ctx *fasthttp.RequestCtx, s *sessions.Session) {
		if s.User() == "" {
			sessions.Clear(ctx) // nothing to save
			ctx.Error("not logged in", fasthttp.StatusUnauthorized)
			return
		}
		next(ctx, s)
	}
}

// redirectHome answers 303 See Other to "/".
func redirectHome(ctx *fasthttp.RequestCtx) {
	ctx.Redirect("/", fasthttp.StatusSeeOther)
}

// home shows the login form, or the user's sessions with this one marked.
func (a *app) home(ctx *fasthttp.RequestCtx, s *sessions.Session) {
	data := struct {
		User    string
		Flashes []any
		Devices []device
	}{User: s.User()}
	if s.IsNew {
		sessions.Clear(ctx) // a visitor without a session: create none
	} else {
		data.Flashes = s.Flashes() // removed, so saved by the middleware
	}
	if data.User != "" {
		infos, err := a.store.UserSessions(ctx, data.User)
		if err != nil {
			a.logger.Printf("listing the sessions of %q: %v", data.User, err)
			ctx.Error("internal server error", fasthttp.StatusInternalServerError)
			return
		}
		for _, info := range infos {
			data.Devices = append(data.Devices, device{info, info.Handle == s.Handle()})
		}
	}
	ctx.SetContentType("text/html; charset=utf-8")
	ctx.Response.Header.Set(fasthttp.HeaderCacheControl, "no-store")
	if err := page.Execute(ctx, data); err != nil {
		a.logger.Printf("rendering the page: %v", err)
	}
}

// login binds the session to the user and moves it to a new ID (against
// session fixation): the store lists it among the user's sessions from
// the Save on.
func (a *app) login(ctx *fasthttp.RequestCtx, s *sessions.Session) {
	user := strings.TrimSpace(string(ctx.PostArgs().Peek("user")))
	if user == "" || len(user) > maxUserLen {
		sessions.Clear(ctx)
		ctx.Error(fmt.Sprintf("a user name of 1 to %d bytes is required", maxUserLen), fasthttp.StatusBadRequest)
		return
	}
	s.SetUser(user)
	s.RenewID()
	s.AddFlash("Welcome, " + user + "!")
	redirectHome(ctx)
}

// revoke ends one session of the user, named by its handle. A handle of
// another user's session, of an ended one or a made-up one ends nothing.
func (a *app) revoke(ctx *fasthttp.RequestCtx, s *sessions.Session) {
	err := a.store.Revoke(ctx, s.User(), string(ctx.PostArgs().Peek("handle")))
	switch {
	case errors.Is(err, sessions.ErrRecordNotFound):
		sessions.Clear(ctx)
		ctx.Error("no such session", fasthttp.StatusNotFound)
		return
	case err != nil:
		a.logger.Printf("revoking a session of %q: %v", s.User(), err)
		sessions.Clear(ctx)
		ctx.Error("internal server error", fasthttp.StatusInternalServerError)
		return
	}
	s.AddFlash("That device is logged out.")
	redirectHome(ctx)
}

// others ends every session of the user but this one.
func (a *app) others(ctx *fasthttp.RequestCtx, s *sessions.Session) {
	n, err := a.store.RevokeUser(ctx, s.User(), s)
	if err != nil {
		// Some may have ended: say so, and let the user try again.
		a.logger.Printf("revoking the other sessions of %q: %v", s.User(), err)
		sessions.Clear(ctx)
		ctx.Error("not every other device could be logged out; try again", fasthttp.StatusInternalServerError)
		return
	}
	s.AddFlash(fmt.Sprintf("%d other devices logged out.", n))
	redirectHome(ctx)
}

// logout ends this session: the middleware's Save deletes its record and
// its cookie.
func (a *app) logout(ctx *fasthttp.RequestCtx, s *sessions.Session) {
	s.Options.MaxAge = -1
	redirectHome(ctx)
}
