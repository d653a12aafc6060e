// Command redis is a small login application whose sessions live in Redis
// (redisstore): a page that shows who is logged in, a login that stores the
// user name under a new session ID and a one-time "Welcome" flash, an
// optional "remember me", and a logout that deletes the record at once.
// Any number of instances may run against one Redis: a user logged in
// through one is logged in on all.
//
// Start a Redis server, then run it from this folder:
//
//	redis-server --port 6379 &
//	go run . -addr 127.0.0.1:8080 -redis 127.0.0.1:6379
//
// -redis takes one address (a standalone server), several (Redis Cluster),
// or the sentinels' addresses with -master-name (Sentinel):
//
//	go run . -redis 10.0.0.1:26379,10.0.0.2:26379,10.0.0.3:26379 -master-name mymaster -wait-replicas 1
//
// -wait-replicas N makes every logout wait until N replicas have the
// deletion, so that a failover cannot undo it; a logout they do not
// confirm in time answers 503 and says so.
//
// Keys come from -hash-key and -block-key, or else from SESSION_HASH_KEY and
// SESSION_BLOCK_KEY, in hex or base64: a hash key of at least 32 bytes signs
// the ID cookie and the records, a block key of 16, 24 or 32 bytes encrypts
// them. Without a hash key the program generates random keys at start, so
// sessions do not survive a restart, and instances do not share them.
//
// Routes:
//
//	GET  /                          the page: user (or "not logged in"), flash, login form
//	GET  /login?user=NAME[&remember=1], or POST /login (the form): log in, redirect to /
//	GET  /logout, or POST /logout   delete the session, redirect to /
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
	"github.com/fasthttp-sessions/sessions/redisstore"
	"github.com/redis/go-redis/v9"
	"github.com/valyala/fasthttp"
)

const (
	// sessionName is the name of the session and of its cookie.
	sessionName = "session"

	// rememberMaxAge is the lifetime, in seconds, of the cookie and of the
	// Redis record when the user ticks "remember me": 30 days, the store's
	// default MaxAge, so the codecs accept the cookie for all of that time.
	rememberMaxAge = 30 * 24 * 3600

	// maxUserLen bounds the user name.
	maxUserLen = 64
)

func main() {
	addr := flag.String("addr", "127.0.0.1:8080", "address to listen on")
	redisAddrs := flag.String("redis", "127.0.0.1:6379", "address of the Redis server; several, comma-separated, for Redis Cluster or for the sentinels with -master-name")
	masterName := flag.String("master-name", "", "Sentinel's name of the master (Sentinel mode)")
	waitReplicas := flag.Int("wait-replicas", 0, "replicas that must confirm a logout (redisstore's WaitReplicas)")
	hashKey := flag.String("hash-key", "", "hash (signing) key, hex or base64, at least 32 bytes (default $SESSION_HASH_KEY; random when both are unset)")
	blockKey := flag.String("block-key", "", "block (encryption) key, hex or base64, 16, 24 or 32 bytes (default $SESSION_BLOCK_KEY)")
	flag.Parse()

	logger := log.New(os.Stderr, "", log.LstdFlags)
	hash, block, err := loadKeys(firstNonEmpty(*hashKey, os.Getenv("SESSION_HASH_KEY")),
		firstNonEmpty(*blockKey, os.Getenv("SESSION_BLOCK_KEY")), logger)
	if err != nil {
		logger.Fatal(err)
	}
	client := newClient(strings.Split(*redisAddrs, ","), *masterName)
	defer client.Close()
	pingCtx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	err = client.Ping(pingCtx).Err()
	cancel()
	if err != nil {
		logger.Fatalf("cannot reach Redis at %s (is redis-server running?): %v", *redisAddrs, err)
	}
	store := newStore(client, hash, block, logger)
	// A store that cannot work (keys too short, a folder others may write)
	// says so here, at start-up, not at the first request.
	if err := store.Check(); err != nil {
		logger.Fatal(err)
	}
	store.WaitReplicas = *waitReplicas

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, *addr, newApp(store, logger), logger); err != nil {
		logger.Fatal(err)
	}
}

// newClient returns the go-redis client of the store: a standalone client
// for one address, a Redis Cluster client for several, a Sentinel client
// (the sentinels' addresses) when masterName is set.
// ContextTimeoutEnabled lets the store's Timeout interrupt a Redis server
// that stops answering; without it a request would wait for the client's
// ReadTimeout (5 s).
func newClient(addrs []string, masterName string) redis.UniversalClient {
	return redis.NewUniversalClient(&redis.UniversalOptions{
		Addrs:                 addrs,
		MasterName:            masterName,
		ContextTimeoutEnabled: true,
	})
}

// newStore returns the application's Redis store. Its defaults (Path "/",
// HttpOnly, SameSite=Lax, MaxAge 30 days, no Secure) suit plain HTTP; in
// production over HTTPS also set store.Options.Secure = true.
func newStore(client redis.UniversalClient, hashKey, blockKey []byte, logger *log.Logger) *redisstore.Store {
	var store *redisstore.Store
	if blockKey != nil {
		store = redisstore.New(client, hashKey, blockKey)
	} else {
		store = redisstore.New(client, hashKey)
	}
	store.KeyPrefix = "example:session:"
	if err := store.CheckClient(); err != nil {
		logger.Print(err)
	}
	return store
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
		logger.Print("no SESSION_BLOCK_KEY: cookies and records are signed but not encrypted")
		return hash, nil, nil
	}
	if block, err = decodeKey(blockText); err != nil {
		return nil, nil, fmt.Errorf("block key: %w", err)
	}
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

var page = template.Must(template.New("page").Parse(`<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>fasthttp-sessions Redis example</title></head>
<body>
{{range .Flashes}}<p class="flash">{{.}}</p>
{{end}}{{if .User}}<p>Logged in as <strong id="user">{{.User}}</strong>.</p>
<form method="post" action="/logout"><button type="submit">Log out</button></form>
{{else}}<p id="user">not logged in</p>
<form method="post" action="/login">
<label>Name <input name="user" required maxlength="64"></label>
<label><input type="checkbox" name="remember" value="1"> Remember me</label>
<button type="submit">Log in</button>
</form>
{{end}}</body>
</html>
`))

type app struct {
	store  *redisstore.Store
	logger *log.Logger
}

// newApp returns the application's handler. Session errors are logged to
// logger.
func newApp(store *redisstore.Store, logger *log.Logger) fasthttp.RequestHandler {
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

// badCookie reports whether err is about the cookie itself (tampered with,
// signed with other keys, expired, too long), as opposed to Redis.
func badCookie(err error) bool {
	return errors.Is(err, sessions.ErrCookieInvalid) || errors.Is(err, sessions.ErrCookieExpired) ||
		errors.Is(err, sessions.ErrCookieTooLong)
}

// session returns the request's session. A cookie that does not decode is
// no reason to fail the request: the store returns a new session, and
// invalid says so. When Redis cannot be reached the user's session is
// unknown: session answers 503 and returns ok false, rather than showing a
// logged-in user as logged out.
func (a *app) session(ctx *fasthttp.RequestCtx) (s *sessions.Session, invalid, ok bool) {
	s, err := a.store.Get(ctx, sessionName)
	switch {
	case err == nil:
		return s, false, true
	case badCookie(err):
		a.logger.Printf("%s %s: ignoring session cookie: %v", ctx.Method(), ctx.Path(), err)
		return s, true, true
	default:
		a.logger.Printf("%s %s: loading the session: %v", ctx.Method(), ctx.Path(), err)
		ctx.Error("session store unavailable, try again later", fasthttp.StatusServiceUnavailable)
		return s, false, false
	}
}

// save saves the session. On error it answers 500 (503 when Redis failed)
// and returns false.
func (a *app) save(ctx *fasthttp.RequestCtx, s *sessions.Session) bool {
	err := s.Save(ctx)
	if err != nil {
		a.saveFailed(ctx, err)
	}
	return err == nil
}

// saveFailed answers a request whose Save returned err.
func (a *app) saveFailed(ctx *fasthttp.RequestCtx, err error) {
	switch {
	case errors.Is(err, sessions.ErrSessionRevoked):
		// Another request logged this session out (or renewed it) while
		// this one ran: nothing was written. Start over from the page.
		a.logger.Printf("%s %s: %v", ctx.Method(), ctx.Path(), err)
		redirectHome(ctx)
	case errors.Is(err, sessions.ErrInvalidOptions) || errors.Is(err, sessions.ErrInvalidName):
		a.logger.Printf("%s %s: saving the session: %v", ctx.Method(), ctx.Path(), err)
		ctx.Error("internal server error", fasthttp.StatusInternalServerError)
	default:
		a.logger.Printf("%s %s: saving the session: %v", ctx.Method(), ctx.Path(), err)
		ctx.Error("session store unavailable, try again later", fasthttp.StatusServiceUnavailable)
	}
}

// home shows the user and the flashes. Reading the flashes removes them
// from the session, which is then saved so that they are shown only once.
func (a *app) home(ctx *fasthttp.RequestCtx) {
	s, invalid, ok := a.session(ctx)
	if !ok {
		return
	}
	flashes := s.Flashes()
	switch {
	case invalid:
		// Delete the unreadable cookie, so that it is not sent (and
		// logged) again on every request.
		s.Options.MaxAge = -1
		if !a.save(ctx, s) {
			return
		}
	case len(flashes) > 0:
		if !a.save(ctx, s) {
			return
		}
	}
	ctx.SetContentType("text/html; charset=utf-8")
	ctx.Response.Header.Set(fasthttp.HeaderCacheControl, "no-store")
	err := page.Execute(ctx, struct {
		User    string
		Flashes []any
	}{s.GetString("user"), flashes})
	if err != nil {
		a.logger.Printf("rendering the page: %v", err)
	}
}

// login stores the user and a welcome flash under a new session ID, and
// sets the lifetime of the cookie and of the record from "remember me".
//
// A real application logs users in with POST only, checks a password and
// protects the form against CSRF.
func (a *app) login(ctx *fasthttp.RequestCtx) {
	user := strings.TrimSpace(string(ctx.FormValue("user")))
	if user == "" || len(user) > maxUserLen {
		ctx.Error(fmt.Sprintf("a user name of 1 to %d bytes is required", maxUserLen), fasthttp.StatusBadRequest)
		return
	}
	s, _, ok := a.session(ctx) // an invalid cookie is simply replaced
	if !ok {
		return
	}
	// A new ID at login defeats session fixation: the record moves to a
	// new key and the old one is deleted.
	s.RenewID()
	s.Values["user"] = user
	if len(ctx.FormValue("remember")) > 0 {
		s.Options.MaxAge = rememberMaxAge // a 30-day cookie and Redis TTL
	} else {
		s.Options.MaxAge = 0 // a browser-session cookie; the record lives 24 h after each Save
	}
	s.AddFlash("Welcome, " + user + "!")
	if a.save(ctx, s) {
		redirectHome(ctx)
	}
}

// logout deletes the session: MaxAge < 0 makes Save delete the Redis
// record and send a cookie that the browser deletes. A copy of the old
// cookie finds nothing any more.
//
// With WaitReplicas set, Save fails with redisstore.ErrNotReplicated when
// the replicas do not confirm the deletion in time: the record is gone
// from the master, but a failover could bring it back. Saving again in
// the same request waits again (the session still knows its ID); when
// that fails too, the user is told that the logout is not certain, and
// keeps the cookie.
func (a *app) logout(ctx *fasthttp.RequestCtx) {
	s, _, ok := a.session(ctx)
	if !ok {
		return
	}
	s.Options.MaxAge = -1
	err := s.Save(ctx)
	for range 2 {
		if !errors.Is(err, redisstore.ErrNotReplicated) {
			break
		}
		err = s.Save(ctx)
	}
	switch {
	case err == nil:
		redirectHome(ctx)
	case errors.Is(err, redisstore.ErrNotReplicated):
		a.logger.Printf("%s %s: %v", ctx.Method(), ctx.Path(), err)
		ctx.Error("your logout is not confirmed yet: log out again in a moment", fasthttp.StatusServiceUnavailable)
	default:
		a.saveFailed(ctx, err)
	}
}

// redirectHome answers 303 See Other to "/".
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
// gracefully: requests in progress finish, their session saves included
// (the store does not cancel Redis calls at shutdown), for up to 10
// seconds. It closes ln.
func serve(ctx context.Context, ln net.Listener, handler fasthttp.RequestHandler, logger *log.Logger) error {
	srv := &fasthttp.Server{
		Handler:      handler,
		ReadTimeout:  10 * time.Second,
		WriteTimeout: 10 * time.Second,
		IdleTimeout:  time.Minute,
		Logger:       logger,
	}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()

	select {
	case err := <-served:
		return err
	case <-ctx.Done():
	}
	logger.Print("shutting down")
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	err := srv.ShutdownWithContext(shutdownCtx)
	_ = ln.Close() // in case Serve had not registered ln yet
	if serr := <-served; err == nil {
		err = serr
	}
	return err
}
