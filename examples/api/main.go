// Command api is a JSON API whose clients keep no cookies (a mobile app, a
// command-line client, a single-page application on another origin): the
// session's token, its signed ID, travels in an "Authorization: Bearer"
// header, on a server-side store in token mode (ServerStore.TokenHeader,
// TokenOnly). Tampering, expiry, renewal at login and a final logout work
// as with a cookie.
//
// Run it from the repository root, then try it with curl:
//
//	go run ./examples/api
//
//	curl -si -d user=alice http://127.0.0.1:8080/login | grep -i '^authorization'
//	TOKEN=...                                   # the value after "Bearer "
//	curl -s -H "Authorization: Bearer $TOKEN" http://127.0.0.1:8080/me
//	curl -si -X POST -H "Authorization: Bearer $TOKEN" http://127.0.0.1:8080/logout
//
// Routes:
//
//	POST /login (form: user=NAME)   log in; the response's Authorization header carries the token
//	GET  /me                        {"user": ..., "requests": n}; 401 without a valid token
//	POST /logout                    end the session; the response's Authorization header is empty
//
// A response may carry a new token (a login, a refresh of the session's
// expiry): the client replaces its token with it. Keys come from
// SESSION_HASH_KEY and SESSION_BLOCK_KEY (hex), or are random.
package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
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

// sessionName names the session; it is signed into every token.
const sessionName = "api"

func main() {
	addr := flag.String("addr", "127.0.0.1:8080", "address to listen on")
	flag.Parse()
	logger := log.New(os.Stderr, "", log.LstdFlags)
	store := newStore(keys(logger))
	// A store that cannot work (keys too short, a folder others may write)
	// says so here, at start-up, not at the first request.
	if err := store.Check(); err != nil {
		logger.Fatal(err)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		logger.Fatal(err)
	}
	logger.Printf("listening on http://%s", ln.Addr())
	srv := &fasthttp.Server{Handler: newAPI(store, logger), Logger: logger, ReadTimeout: 10 * time.Second}
	go func() {
		<-ctx.Done()
		_ = srv.Shutdown()
	}()
	if err := srv.Serve(ln); err != nil {
		logger.Fatal(err)
	}
}

// keys reads the keys from the environment, or makes random ones.
func keys(logger *log.Logger) (hash, block []byte) {
	hash, errH := hex.DecodeString(os.Getenv("SESSION_HASH_KEY"))
	block, errB := hex.DecodeString(os.Getenv("SESSION_BLOCK_KEY"))
	if errH != nil || errB != nil || len(hash) < 32 || len(block) != 32 {
		logger.Print("no valid SESSION_HASH_KEY and SESSION_BLOCK_KEY: random keys; tokens will not survive a restart")
		hash, block = make([]byte, 32), make([]byte, 32)
		_, _ = rand.Read(hash)
		_, _ = rand.Read(block)
	}
	return hash, block
}

// newStore returns a MemoryStore that takes tokens from the Authorization
// header only. Any server-side store works the same way (FilesystemStore,
// redisstore, pgstore); a MemoryStore serves one process.
func newStore(hash, block []byte) *sessions.MemoryStore {
	store := sessions.NewMemoryStore(hash, block)
	store.TokenHeader = fasthttp.HeaderAuthorization
	store.TokenOnly = true
	store.Options.MaxAge = 7 * 24 * 3600
	store.Options.IdleTimeout = 24 * time.Hour
	return store
}

// newAPI returns the API's handler. sessions.Middleware saves the request's
// session after each handler; a request that raced a logout is simply not
// saved.
func newAPI(store *sessions.MemoryStore, logger *log.Logger) fasthttp.RequestHandler {
	a := &api{store: store, logger: logger}
	routes := func(ctx *fasthttp.RequestCtx) {
		switch path, method := string(ctx.Path()), string(ctx.Method()); {
		case path == "/login" && method == fasthttp.MethodPost:
			a.login(ctx)
		case path == "/me" && method == fasthttp.MethodGet:
			a.me(ctx)
		case path == "/logout" && method == fasthttp.MethodPost:
			a.logout(ctx)
		default:
			reply(ctx, fasthttp.StatusNotFound, map[string]string{"error": "not found"})
		}
	}
	return sessions.Middleware(routes, func(ctx *fasthttp.RequestCtx, err error) {
		logger.Printf("%s %s: saving the session: %v", ctx.Method(), ctx.Path(), err)
		reply(ctx, fasthttp.StatusServiceUnavailable, map[string]string{"error": "session store unavailable"})
	})
}

type api struct {
	store  *sessions.MemoryStore
	logger *log.Logger
}

// session returns the request's session. A token that is refused (tampered
// with, expired, ended by a logout) gives a new, empty session: the client
// is then not logged in.
func (a *api) session(ctx *fasthttp.RequestCtx) *sessions.Session {
	s, err := a.store.Get(ctx, sessionName)
	if err != nil {
		a.logger.Printf("%s %s: %v", ctx.Method(), ctx.Path(), err)
	}
	return s
}

// login binds the session to the user and renews its ID (against session
// fixation): the response carries the new token. A real API checks a
// password here.
func (a *api) login(ctx *fasthttp.RequestCtx) {
	user := strings.TrimSpace(string(ctx.FormValue("user")))
	if user == "" || len(user) > 64 {
		reply(ctx, fasthttp.StatusBadRequest, map[string]string{"error": "a user of 1 to 64 bytes is required"})
		return
	}
	s := a.session(ctx)
	s.SetUser(user)
	s.Values["user"] = user
	s.RenewID()
	reply(ctx, fasthttp.StatusOK, map[string]string{"user": user})
}

// me answers who the token belongs to, and counts the requests.
func (a *api) me(ctx *fasthttp.RequestCtx) {
	s := a.session(ctx)
	user := s.GetString("user")
	if user == "" {
		reply(ctx, fasthttp.StatusUnauthorized, map[string]string{"error": "not logged in"})
		return
	}
	n, _ := s.GetInt("requests")
	s.Values["requests"] = n + 1
	reply(ctx, fasthttp.StatusOK, map[string]any{"user": user, "requests": n + 1})
}

// logout ends the session. When the store cannot end it, the client is
// told so: never answer "logged out" to a logout that did not happen.
func (a *api) logout(ctx *fasthttp.RequestCtx) {
	s := a.session(ctx)
	s.Options.MaxAge = -1
	if err := s.Save(ctx); err != nil && !errors.Is(err, sessions.ErrSessionRevoked) {
		a.logger.Printf("%s %s: logging out: %v", ctx.Method(), ctx.Path(), err)
		reply(ctx, fasthttp.StatusServiceUnavailable, map[string]string{"error": "the logout did not happen; try again"})
		return
	}
	ctx.SetStatusCode(fasthttp.StatusNoContent)
}

func reply(ctx *fasthttp.RequestCtx, status int, v any) {
	ctx.SetStatusCode(status)
	ctx.SetContentType("application/json")
	_ = json.NewEncoder(ctx).Encode(v)
}
