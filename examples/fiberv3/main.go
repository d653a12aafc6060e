// Command fiberv3 is the login flow of fasthttp-sessions on Fiber v3
// (github.com/gofiber/fiber/v3), with a MemoryStore: the values stay on the
// server and the cookie holds only a signed, encrypted session ID.
//
// Fiber runs on fasthttp, and in v3 c.RequestCtx() is the request's
// *fasthttp.RequestCtx (in v2 it was c.Context(); in v3 c.Context() is a
// context.Context), so the stores are used as they are:
//
//	s, err := store.Get(c.RequestCtx(), "session")
//
// A small middleware, saveSessions, saves every session the request used
// once, after the handlers ran, so that the handlers need not. That works
// because Fiber only builds the response in the *fasthttp.RequestCtx and
// fasthttp writes it after Fiber's handler chain has returned: a cookie set
// there still reaches the client.
//
// Do not keep c.RequestCtx() (nor c, nor a session) after the handler
// returns: Fiber and fasthttp reuse them for the next request.
//
// Fiber v3's own c.Redirect().With(...) flash messages travel in a cookie of
// their own ("fiber_flash"); this example keeps its flash in the session.
//
// Run it from this folder:
//
//	cd examples/fiberv3 && go run .
//	cd examples/fiberv3 && go run . -addr 127.0.0.1:9000
//
// Keys come from SESSION_HASH_KEY (hex, at least 32 bytes) and
// SESSION_BLOCK_KEY (hex, 16, 24 or 32 bytes); without them the program uses
// random keys. Sessions live in memory and do not survive a restart anyway.
//
// It runs one process, on purpose: a MemoryStore keeps the sessions in the
// memory of the process, so this program must not run with Fiber's
// Prefork: true, where every CPU has a process of its own and a user's
// requests, spread over them, would find the session only in the one that
// created it. For Prefork, use a FilesystemStore on a folder of the
// machine, which the processes share
// (sessions.NewFilesystemStore("/var/lib/myapp/sessions", hash, block)),
// or a redisstore.Store.
//
// Routes:
//
//	GET /                   public page: the flash (once), the user or "not logged in"
//	GET /login?user=NAME    log in: stores the user, adds a flash, renews the ID, redirects to /
//	GET /private            the logged-in user's page; 401 when not logged in
//	GET /logout             deletes the session, redirects to /
//	GET /fail               adds a flash and fails (503): the flash is kept
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
	"github.com/gofiber/fiber/v3"
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
	if err := run(*addr, logger); err != nil {
		logger.Fatal(err)
	}
}

func run(addr string, logger *log.Logger) error {
	hash, block, err := loadKeys(logger)
	if err != nil {
		return err
	}
	store := newStore(hash, block)
	// A store that cannot work (keys too short, a folder others may write)
	// says so here, at start-up, not at the first request.
	if err := store.Check(); err != nil {
		logger.Fatal(err)
	}
	stopCleanup := store.StartCleanup(time.Minute)
	defer stopCleanup()
	app := newApp(store, logger)

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	// Listen returns once GracefulContext is cancelled and the server has
	// shut down.
	return app.Listen(addr, fiber.ListenConfig{
		DisableStartupMessage: true,
		GracefulContext:       ctx,
		ShutdownTimeout:       10 * time.Second,
		ListenerAddrFunc:      func(a net.Addr) { logger.Printf("listening on http://%s", a) },
	})
}

// loadKeys reads the hash and block keys from SESSION_HASH_KEY and
// SESSION_BLOCK_KEY, in hex, or makes random ones when neither is set.
func loadKeys(logger *log.Logger) (hash, block []byte, err error) {
	hashHex, blockHex := os.Getenv("SESSION_HASH_KEY"), os.Getenv("SESSION_BLOCK_KEY")
	if hashHex == "" && blockHex == "" {
		logger.Print("no SESSION_HASH_KEY: using random keys")
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

// newStore returns the application's MemoryStore, with the defaults: Path
// "/", MaxAge 30 days, HttpOnly, SameSite=Lax. Over HTTPS also set
// store.Options.Secure = true.
func newStore(hash, block []byte) *sessions.MemoryStore {
	return sessions.NewMemoryStore(hash, block)
}

// saveSessions is the middleware that saves, once per request, every
// session the handlers changed: it runs the rest of the chain, then
// sessions.Save, also when a handler returned an error, so that what it
// did before the error (a flash that explains it) is kept. Register it
// before the routes that use sessions. A session that is new and empty, or
// unchanged, is not written: visitors without a session get no record.
//
// ErrSessionRevoked is not an error: the request raced a logout or a login
// of the same browser, which set the cookie the browser now holds, and
// nothing was written. Any other failed Save discards the response and
// answers 500. (With several sessions per request, check each of
// errors.Join's errors: one revoked session should not hide the failure of
// another.)
func saveSessions(logger *log.Logger) fiber.Handler {
	return func(c fiber.Ctx) error {
		err := c.Next()
		if serr := sessions.Save(c.RequestCtx()); serr != nil && !errors.Is(serr, sessions.ErrSessionRevoked) {
			logger.Printf("%s %s: %v", c.Method(), c.Path(), serr)
			c.Response().Reset()
			return fiber.ErrInternalServerError
		}
		return err
	}
}

// handlers holds what the handlers share.
type handlers struct {
	store  *sessions.MemoryStore
	logger *log.Logger
}

// newApp returns the Fiber application with its middleware and routes, not
// yet listening. Session errors are logged to logger.
func newApp(store *sessions.MemoryStore, logger *log.Logger) *fiber.App {
	h := &handlers{store: store, logger: logger}
	app := fiber.New(fiber.Config{
		ReadTimeout:  10 * time.Second,
		WriteTimeout: 10 * time.Second,
		IdleTimeout:  time.Minute,
	})
	app.Use(saveSessions(logger))
	app.Get("/", h.home)
	app.Get("/login", h.login)
	app.Get("/private", h.private)
	app.Get("/logout", h.logout)
	app.Get("/fail", h.fail)
	return app
}

// session returns the request's session. A cookie that does not decode
// (keys changed, expired, tampered with) or names a session that is gone is
// no reason to fail the request: the store returns a new, empty session
// along with the error, if any, which is logged; invalid reports it, so that
// the caller can delete the cookie.
func (h *handlers) session(c fiber.Ctx) (s *sessions.Session, invalid bool) {
	s, err := h.store.Get(c.RequestCtx(), sessionName)
	if err != nil {
		h.logger.Printf("%s %s: ignoring the session cookie: %v", c.Method(), c.Path(), err)
	}
	return s, err != nil
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

func render(c fiber.Ctx, d pageData) error {
	c.Type("html", "utf-8")
	c.Set(fiber.HeaderCacheControl, "no-store")
	return page.Execute(c, d)
}

// home is the public page. Reading the flashes removes them from the
// session; the middleware saves it, so they are shown only once.
func (h *handlers) home(c fiber.Ctx) error {
	// An unreadable cookie gives a new session, and the store answers with
	// a deletion cookie so that the browser stops sending it.
	s, _ := h.session(c)
	return render(c, pageData{Title: "Fiber v3 example", User: s.GetString("user"), Flashes: s.Flashes()})
}

// login stores the user and a welcome flash, and moves the session to a new
// ID.
//
// A real application logs users in with POST only, checks a password and
// protects the form against CSRF.
func (h *handlers) login(c fiber.Ctx) error {
	// Fiber's c.Query returns a string that points into the request's
	// buffer, which fasthttp reuses for the next request: copy what is
	// kept, here in the session.
	user := strings.Clone(strings.TrimSpace(c.Query("user")))
	if user == "" || len(user) > maxUserLen {
		return fiber.NewError(fiber.StatusBadRequest, fmt.Sprintf("a user name of 1 to %d bytes is required", maxUserLen))
	}
	s, _ := h.session(c) // an invalid cookie is simply replaced
	// Logging in is a privilege change: the session gets a new ID on Save,
	// against session fixation.
	s.RenewID()
	s.Values["user"] = user
	s.AddFlash("Welcome, " + user + "!")
	return c.Redirect().Status(fiber.StatusSeeOther).To("/")
}

// fail is a handler that fails after it added a flash explaining why: the
// middleware saves it all the same, and the next page shows it.
func (h *handlers) fail(c fiber.Ctx) error {
	s, _ := h.session(c)
	s.AddFlash("The last action failed; nothing was changed.")
	return fiber.NewError(fiber.StatusServiceUnavailable, "try again later")
}

// private is the page that needs a login.
func (h *handlers) private(c fiber.Ctx) error {
	s, _ := h.session(c)
	user := s.GetString("user")
	if user == "" {
		return fiber.NewError(fiber.StatusUnauthorized, "not logged in")
	}
	return render(c, pageData{Title: "private page of " + user, User: user})
}

// logout deletes the session: the record at once, and the cookie (MaxAge
// < 0 makes Save send a cookie that the browser deletes).
func (h *handlers) logout(c fiber.Ctx) error {
	s, _ := h.session(c)
	s.Options.MaxAge = -1
	return c.Redirect().Status(fiber.StatusSeeOther).To("/")
}
