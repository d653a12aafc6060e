// Command loadserver is the server side of bench/load.sh: one HTTP server
// running the benchmark scenario, on loopback, for wrk to load.
//
//	loadserver -mode=bare|cookie|gorilla -addr 127.0.0.1:0
//	loadserver -mode=redis|redis-read|fhredis|fhredis-read -redis 127.0.0.1:6379 -addr 127.0.0.1:0
//
// Modes:
//
//	cookie        fasthttp, this package's CookieStore (HMAC-SHA256 +
//	              AES-256), through the request's Registry: Get, visits++,
//	              sessions.Save
//	gorilla       net/http, gorilla/sessions' CookieStore with the same keys
//	bare          fasthttp without sessions: reads the cookie, sets it back
//	redis         fasthttp, this package's redisstore on the Redis server
//	              at -redis, through the Registry: Get, visits++,
//	              sessions.Save (a pipelined GET+PTTL, then SET ... XX)
//	redis-read    the same, read-only: Get, read visits, sessions.Save,
//	              which writes nothing for an unchanged session (one round
//	              trip per request)
//	fhredis       fasthttp, fasthttp/session v2's Redis provider on the same
//	              server: Get, visits++, Save (GET, then SET)
//	fhredis-read  the same, read-only: Get, read visits, Save (which still
//	              writes: GET, then SET)
//
// Both Redis stores use go-redis v9 with its default pool.
//
// Routes: GET /login creates the session (user_id "12345", name "Alice
// Example", visits 42) and sets its cookie; GET / is the scenario: it
// loads the session from the request's cookie, increments visits (or, in
// the -read modes, only reads them), saves it, and answers "visits=N" (500
// when the cookie is missing or invalid, so that wrk counts it as an
// error). In bare mode /login sets a cookie of the same size and / answers
// "ok" when the request carries one.
//
// Once listening it prints "addr=HOST:PORT" on standard output. With
// -cpuprofile FILE it profiles itself until SIGINT or SIGTERM.
//
// It is also its own client, so that load.sh needs nothing but wrk:
//
//	loadserver -fetch http://127.0.0.1:PORT/login            prints the session cookie's value
//	loadserver -fetch http://127.0.0.1:PORT/ -cookie VALUE   prints the response body
//	loadserver -freeport                                     prints a free loopback TCP port
package main

import (
	"crypto/rand"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"os"
	"os/signal"
	"runtime/pprof"
	"strconv"
	"syscall"
	"time"

	"github.com/fasthttp-sessions/sessions"
	"github.com/fasthttp-sessions/sessions/redisstore"
	fhsession "github.com/fasthttp/session/v2"
	fhredis "github.com/fasthttp/session/v2/providers/redis"
	gsessions "github.com/gorilla/sessions"
	"github.com/redis/go-redis/v9"
	"github.com/valyala/fasthttp"
)

const cookieName = "session"

func main() {
	mode := flag.String("mode", "cookie", "bare, cookie, gorilla, redis, redis-read, fhredis or fhredis-read")
	redisAddr := flag.String("redis", "", "the Redis server of the redis modes (HOST:PORT)")
	freeport := flag.Bool("freeport", false, "print a free loopback TCP port and exit")
	addr := flag.String("addr", "127.0.0.1:0", "address to listen on (loopback only)")
	fetch := flag.String("fetch", "", "act as a client: GET this URL and print the session cookie (/login) or the body")
	cookie := flag.String("cookie", "", "with -fetch: the session cookie's value to send")
	cpuprofile := flag.String("cpuprofile", "", "write a CPU profile to this file until SIGINT or SIGTERM")
	flag.Parse()
	log.SetFlags(0)
	log.SetPrefix("loadserver: ")

	if *freeport {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			log.Fatal(err)
		}
		fmt.Println(l.Addr().(*net.TCPAddr).Port)
		_ = l.Close()
		return
	}
	if *fetch != "" {
		if err := get(*fetch, *cookie); err != nil {
			log.Fatal(err)
		}
		return
	}

	host, _, err := net.SplitHostPort(*addr)
	if err != nil {
		log.Fatal(err)
	}
	if ip := net.ParseIP(host); host != "localhost" && (ip == nil || !ip.IsLoopback()) {
		log.Fatalf("-addr %s: listen on a loopback address only", *addr)
	}
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		log.Fatal(err)
	}
	if *cpuprofile != "" {
		profile(*cpuprofile)
	}
	hashKey, blockKey := key(), key()
	switch *mode {
	case "cookie":
		serveFast(ln, ourHandler(sessions.NewCookieStore(hashKey, blockKey), false))
	case "redis", "redis-read":
		client := redis.NewClient(&redis.Options{Addr: needRedis(*redisAddr), ContextTimeoutEnabled: true})
		serveFast(ln, ourHandler(redisstore.New(client, hashKey, blockKey), *mode == "redis-read"))
	case "fhredis", "fhredis-read":
		h, err := fhRedisHandler(needRedis(*redisAddr), *mode == "fhredis-read")
		if err != nil {
			log.Fatal(err)
		}
		serveFast(ln, h)
	case "bare":
		serveFast(ln, bareHandler(hashKey, blockKey))
	case "gorilla":
		fmt.Printf("addr=%s\n", ln.Addr())
		srv := &http.Server{Handler: gorillaHandler(gsessions.NewCookieStore(hashKey, blockKey)), ReadHeaderTimeout: 10 * time.Second}
		log.Fatal(srv.Serve(ln))
	default:
		log.Fatalf("unknown -mode %q: want bare, cookie, gorilla, redis, redis-read, fhredis or fhredis-read", *mode)
	}
}

// profile starts a CPU profile into path and stops it, then exits, on
// SIGINT or SIGTERM.
func profile(path string) {
	f, err := os.Create(path)
	if err != nil {
		log.Fatal(err)
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		log.Fatal(err)
	}
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGINT, syscall.SIGTERM)
	go func() {
		<-sig
		pprof.StopCPUProfile()
		if err := f.Close(); err != nil {
			log.Fatal(err)
		}
		os.Exit(0)
	}()
}

func key() []byte {
	k := make([]byte, 32)
	if _, err := rand.Read(k); err != nil {
		log.Fatal(err)
	}
	return k
}

func serveFast(ln net.Listener, h fasthttp.RequestHandler) {
	fmt.Printf("addr=%s\n", ln.Addr())
	srv := &fasthttp.Server{Handler: h, ReadTimeout: 10 * time.Second}
	log.Fatal(srv.Serve(ln))
}

func login(s *sessions.Session) {
	s.Values["user_id"] = "12345"
	s.Values["name"] = "Alice Example"
	s.Values["visits"] = 42
}

// needRedis returns addr, or exits when the mode needs a Redis server and
// -redis names none.
func needRedis(addr string) string {
	if addr == "" {
		log.Fatal("this -mode needs -redis HOST:PORT")
	}
	return addr
}

// ourHandler is the scenario with one of this package's stores, written as
// an application writes it; readOnly only reads visits.
func ourHandler(store sessions.Store, readOnly bool) fasthttp.RequestHandler {
	return func(ctx *fasthttp.RequestCtx) {
		s, err := store.Get(ctx, cookieName)
		if err != nil {
			ctx.Error(err.Error(), fasthttp.StatusInternalServerError)
			return
		}
		switch string(ctx.Path()) {
		case "/login":
			login(s)
		case "/":
			if s.IsNew {
				ctx.Error("no session", fasthttp.StatusInternalServerError)
				return
			}
			n, err := s.GetInt("visits")
			if err != nil {
				ctx.Error(err.Error(), fasthttp.StatusInternalServerError)
				return
			}
			if !readOnly {
				s.Values["visits"] = n + 1
			}
		default:
			ctx.Error("not found", fasthttp.StatusNotFound)
			return
		}
		if err := sessions.Save(ctx); err != nil {
			ctx.Error(err.Error(), fasthttp.StatusInternalServerError)
			return
		}
		n, _ := s.GetInt("visits")
		var buf [32]byte
		ctx.Response.SetBody(strconv.AppendInt(append(buf[:0], "visits="...), int64(n), 10))
	}
}

// fhRedisHandler is the scenario with fasthttp/session v2's Redis
// provider, written as its README shows; readOnly only reads visits.
func fhRedisHandler(addr string, readOnly bool) (fasthttp.RequestHandler, error) {
	provider, err := fhredis.New(fhredis.Config{KeyPrefix: "fhsession", Addr: addr})
	if err != nil {
		return nil, err
	}
	cfg := fhsession.NewDefaultConfig()
	cfg.CookieName = cookieName
	cfg.Expiration = 30 * 24 * time.Hour
	cfg.CookieSameSite = fasthttp.CookieSameSiteLaxMode
	sess := fhsession.New(cfg)
	if err := sess.SetProvider(provider); err != nil {
		return nil, err
	}
	return func(ctx *fasthttp.RequestCtx) {
		st, err := sess.Get(ctx)
		if err != nil {
			ctx.Error(err.Error(), fasthttp.StatusInternalServerError)
			return
		}
		var n int
		switch string(ctx.Path()) {
		case "/login":
			st.Set("user_id", "12345")
			st.Set("name", "Alice Example")
			st.Set("visits", 42)
			n = 42
		case "/":
			// Its MessagePack records give back int64.
			switch v := st.Get("visits").(type) {
			case int:
				n = v
			case int64:
				n = int(v)
			default:
				ctx.Error(fmt.Sprintf("no session (visits holds %T)", v), fasthttp.StatusInternalServerError)
				return
			}
			if !readOnly {
				n++
				st.Set("visits", n)
			}
		default:
			ctx.Error("not found", fasthttp.StatusNotFound)
			return
		}
		if err := sess.Save(ctx, st); err != nil {
			ctx.Error(err.Error(), fasthttp.StatusInternalServerError)
			return
		}
		var buf [32]byte
		ctx.Response.SetBody(strconv.AppendInt(append(buf[:0], "visits="...), int64(n), 10))
	}, nil
}

// bareHandler reads the cookie and sets it back with a session cookie's
// attributes, without sessions: the floor. Its /login cookie is a real
// session cookie, so that requests carry the same bytes as in cookie mode.
func bareHandler(hashKey, blockKey []byte) fasthttp.RequestHandler {
	store := sessions.NewCookieStore(hashKey, blockKey)
	return func(ctx *fasthttp.RequestCtx) {
		switch string(ctx.Path()) {
		case "/login":
			s, _ := store.New(ctx, cookieName)
			login(s)
			if err := store.Save(ctx, s); err != nil {
				ctx.Error(err.Error(), fasthttp.StatusInternalServerError)
			}
			return
		case "/":
		default:
			ctx.Error("not found", fasthttp.StatusNotFound)
			return
		}
		v := ctx.Request.Header.Cookie(cookieName)
		if len(v) == 0 {
			ctx.Error("no cookie", fasthttp.StatusInternalServerError)
			return
		}
		c := fasthttp.AcquireCookie()
		c.SetKey(cookieName)
		c.SetValueBytes(v)
		c.SetPath("/")
		c.SetMaxAge(30 * 86400)
		c.SetHTTPOnly(true)
		c.SetSameSite(fasthttp.CookieSameSiteLaxMode)
		ctx.Response.Header.SetCookie(c)
		fasthttp.ReleaseCookie(c)
		ctx.Response.SetBodyString("ok")
	}
}

// gorillaHandler is the scenario with gorilla/sessions on net/http.
func gorillaHandler(store *gsessions.CookieStore) http.Handler {
	store.Options.HttpOnly = true
	store.Options.SameSite = http.SameSiteLaxMode
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s, err := store.Get(r, cookieName)
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		switch r.URL.Path {
		case "/login":
			s.Values["user_id"] = "12345"
			s.Values["name"] = "Alice Example"
			s.Values["visits"] = 42
		case "/":
			n, ok := s.Values["visits"].(int)
			if s.IsNew || !ok {
				http.Error(w, "no session", http.StatusInternalServerError)
				return
			}
			s.Values["visits"] = n + 1
		default:
			http.NotFound(w, r)
			return
		}
		if err := s.Save(r, w); err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		_, _ = fmt.Fprintf(w, "visits=%d", s.Values["visits"])
	})
}

// get is the -fetch client.
func get(url, cookie string) error {
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	if cookie != "" {
		req.AddCookie(&http.Cookie{Name: cookieName, Value: cookie})
	}
	client := &http.Client{Timeout: 10 * time.Second}
	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: %s: %s", url, resp.Status, body)
	}
	if cookie == "" {
		for _, c := range resp.Cookies() {
			if c.Name == cookieName && c.Value != "" {
				fmt.Println(c.Value)
				return nil
			}
		}
		return errors.New("the response carries no session cookie")
	}
	_, err = os.Stdout.Write(append(body, '\n'))
	return err
}
