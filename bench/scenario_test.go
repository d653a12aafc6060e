package bench

// The scenarios, identical for every library: a request carries a session
// cookie for a session holding user_id="12345", name="Alice Example" and
// visits=42. In the changing scenario the handler gets the session,
// increments visits and saves it, and the response carries the Set-Cookie.
// In the read-only scenario the handler gets the session, reads visits
// (which must be 42) and saves it the way the library's users do (for
// this package sessions.Save, which writes nothing for an unchanged
// session; gorilla, fasthttp/session and Fiber write on every Save; scs
// commits only a modified session).
//
// Each library is wrapped in a rig: serve runs one request of the scenario
// the way a server would (reset the response, put the cookie on the
// request, call the handler, release the per-request state), and visits
// reads back, through the library itself, the visits held by the session
// that the last response's cookie names (in the read-only scenario, the
// request's cookie when the response sets none). The benchmarks, the
// round-trip tests and the allocation test all use the same rigs.

import (
	"crypto/rand"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"time"

	"github.com/alexedwards/scs/v2"
	"github.com/alexedwards/scs/v2/memstore"
	"github.com/fasthttp-sessions/sessions"
	fhsession "github.com/fasthttp/session/v2"
	"github.com/gofiber/fiber/v2"
	fibersession "github.com/gofiber/fiber/v2/middleware/session"
	gsessions "github.com/gorilla/sessions"
	"github.com/valyala/fasthttp"
)

// cookieName is the session cookie's name for every library that lets us
// choose it.
const cookieName = "session"

// maxAge is the session lifetime given to every library: 30 days, the
// default of gorilla/sessions and of this package.
const maxAge = 30 * 24 * time.Hour

// The scenario's values.
const (
	userID      = "12345"
	userName    = "Alice Example"
	startVisits = 42
)

// hashKey (HMAC-SHA256) and blockKey (AES-256) are used by every library
// that signs or encrypts.
var hashKey, blockKey = randomKey(), randomKey()

func randomKey() []byte {
	k := make([]byte, 32)
	if _, err := rand.Read(k); err != nil {
		panic(err)
	}
	return k
}

// scenario is what a request does with the session.
type scenario int

const (
	// changing: visits++ and save; the figures of the history.
	changing scenario = iota
	// readOnly: read visits (42) and save, unchanged.
	readOnly
)

// visit is what a request of sc does with n, the visits it read: changing,
// it stores next = n+1 (store is true); read-only, it stores nothing, and
// fails unless it read 42.
func (sc scenario) visit(n int) (next int, store bool, err error) {
	if sc == changing {
		return n + 1, true, nil
	}
	if n != startVisits {
		return 0, false, fmt.Errorf("a read-only request read visits=%d, want %d", n, startVisits)
	}
	return n, false, nil
}

type rig struct {
	// serve runs one request of the scenario.
	serve func() error
	// visits returns the visits of the session named by the Set-Cookie of
	// the last response, read back through the library (in the read-only
	// scenario, of the request's session when the response set no cookie).
	visits func() (int, error)
	// close releases what the rig holds (servers, goroutines); may be nil.
	close func()
	// calls counts the backend calls of this package's server-side stores;
	// nil for the others.
	calls *countingBackend
	// store is this package's store of the rig, and response the response
	// of its last request; nil for the others.
	store    sessions.Store
	response *fasthttp.Response
}

// checkRoundTrip runs one request of sc and checks that the response's
// cookie (or, read-only, the request's when the response sets none) names
// a session whose visits went from 42 to 43 (read-only: stayed 42).
func checkRoundTrip(r *rig, sc scenario) error {
	if err := r.serve(); err != nil {
		return fmt.Errorf("serve: %w", err)
	}
	n, err := r.visits()
	if err != nil {
		return fmt.Errorf("reading back: %w", err)
	}
	want := startVisits + 1
	if sc == readOnly {
		want = startVisits
	}
	if n != want {
		return fmt.Errorf("visits read back from the response: %d, want %d", n, want)
	}
	return nil
}

// toInt converts the integer types the libraries' decoders produce.
func toInt(v any) (int, error) {
	switch n := v.(type) {
	case int:
		return n, nil
	case int64:
		return int(n), nil
	case int32:
		return int(n), nil
	case uint64:
		return int(n), nil
	case uint32:
		return int(n), nil
	case float64:
		return int(n), nil
	}
	return 0, fmt.Errorf("visits holds %T (%v), not an integer", v, v)
}

// ---- fasthttp plumbing ----

var remoteAddr = &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 40000}

// newRequestCtx returns a RequestCtx for GET uri, initialised once as the
// server does for a connection.
func newRequestCtx(uri string) *fasthttp.RequestCtx {
	var req fasthttp.Request
	req.Header.SetMethod(fasthttp.MethodGet)
	req.SetRequestURI(uri)
	req.Header.SetHost("example.com")
	ctx := new(fasthttp.RequestCtx)
	ctx.Init(&req, remoteAddr, nil)
	return ctx
}

// fastServe returns serve for a fasthttp handler: per request it resets the
// response, sets the request's cookie, calls the handler and then resets
// the user values, which is what fasthttp's Request.Reset does to them
// after the response is written (closing the sessions Registry).
func fastServe(ctx *fasthttp.RequestCtx, name string, value []byte, h func(*fasthttp.RequestCtx) error) func() error {
	return func() error {
		ctx.Response.Reset()
		ctx.Request.Header.SetCookieBytesKV([]byte(name), value)
		err := h(ctx)
		ctx.Request.ResetUserValues()
		return err
	}
}

// responseCookie returns the value of the Set-Cookie named name in resp.
func responseCookie(resp *fasthttp.Response, name string) ([]byte, error) {
	c := fasthttp.AcquireCookie()
	defer fasthttp.ReleaseCookie(c)
	c.SetKey(name)
	if !resp.Header.Cookie(c) || len(c.Value()) == 0 {
		return nil, fmt.Errorf("the response has no Set-Cookie %q", name)
	}
	return append([]byte(nil), c.Value()...), nil
}

// ---- this package ----

// ourSeed saves a new session with the scenario's values in store and
// returns its cookie value.
func ourSeed(store sessions.Store) ([]byte, error) {
	ctx := newRequestCtx("/")
	s, err := store.New(ctx, cookieName)
	if err != nil {
		return nil, err
	}
	s.Values["user_id"] = userID
	s.Values["name"] = userName
	s.Values["visits"] = startVisits
	if err := store.Save(ctx, s); err != nil {
		return nil, err
	}
	return responseCookie(&ctx.Response, cookieName)
}

// ourDirect is the handler straight from the store: New and Save.
func ourDirect(store sessions.Store, sc scenario) func(*fasthttp.RequestCtx) error {
	return func(ctx *fasthttp.RequestCtx) error {
		s, err := store.New(ctx, cookieName)
		if err != nil {
			return err
		}
		n, err := s.GetInt("visits")
		if err != nil {
			return err
		}
		next, set, err := sc.visit(n)
		if err != nil {
			return err
		}
		if set {
			s.Values["visits"] = next
		}
		return store.Save(ctx, s)
	}
}

// ourRegistry is the handler as applications write it: Get through the
// request's Registry and the package-level Save.
func ourRegistry(store sessions.Store, sc scenario) func(*fasthttp.RequestCtx) error {
	return func(ctx *fasthttp.RequestCtx) error {
		s, err := sessions.GetRegistry(ctx).Get(store, cookieName)
		if err != nil {
			return err
		}
		n, err := s.GetInt("visits")
		if err != nil {
			return err
		}
		next, set, err := sc.visit(n)
		if err != nil {
			return err
		}
		if set {
			s.Values["visits"] = next
		}
		return sessions.Save(ctx)
	}
}

// lastCookie returns the cookie of the last response, or sent (the
// request's cookie) when the response set none: a read-only request sends
// no cookie, nor does a change of a server-side session whose ID cookie is
// not due for a refresh. (A cookie store's change that sent no cookie
// reads back the old visits, and fails the check.)
func lastCookie(resp *fasthttp.Response, sc scenario, sent []byte) ([]byte, error) {
	value, err := responseCookie(resp, cookieName)
	if err != nil && sent != nil {
		return sent, nil
	}
	return value, err
}

// ourVisits reads back the session named by the last response's cookie
// (read-only: or by sent).
func ourVisits(store sessions.Store, resp *fasthttp.Response, sc scenario, sent []byte) func() (int, error) {
	return func() (int, error) {
		value, err := lastCookie(resp, sc, sent)
		if err != nil {
			return 0, err
		}
		ctx := newRequestCtx("/")
		ctx.Request.Header.SetCookieBytesKV([]byte(cookieName), value)
		s, err := store.New(ctx, cookieName)
		if err != nil {
			return 0, err
		}
		if s.IsNew {
			return 0, errors.New("the response's cookie names no saved session")
		}
		if s.GetString("user_id") != userID || s.GetString("name") != userName {
			return 0, fmt.Errorf("values lost: %v", s.Values)
		}
		return s.GetInt("visits")
	}
}

// newOurRig returns the rig of one of this package's stores for the
// changing scenario; registry selects the Registry handler over the direct
// one.
func newOurRig(store sessions.Store, registry bool) (*rig, error) {
	return newOurScenarioRig(store, registry, changing)
}

// newOurScenarioRig returns the rig of one of this package's stores for
// sc. The backend of a server-side store is wrapped to count its calls
// (after the seeding, which creates the session).
func newOurScenarioRig(store sessions.Store, registry bool, sc scenario) (*rig, error) {
	value, err := ourSeed(store)
	if err != nil {
		return nil, fmt.Errorf("seeding: %w", err)
	}
	h := ourDirect(store, sc)
	if registry {
		h = ourRegistry(store, sc)
	}
	ctx := newRequestCtx("/")
	return &rig{
		serve:    fastServe(ctx, cookieName, value, h),
		visits:   ourVisits(store, &ctx.Response, sc, value),
		calls:    countCalls(store),
		store:    store,
		response: &ctx.Response,
	}, nil
}

func newOurCookieStore() *sessions.CookieStore {
	return sessions.NewCookieStore(hashKey, blockKey)
}

// ---- the floor: fasthttp without sessions ----

// newBareRig reads a cookie and sets one with the same attributes as a
// session cookie, without any session machinery. Its "visits" check only
// verifies that the cookie made it to the response.
func newBareRig() (*rig, error) {
	value, err := ourSeed(newOurCookieStore()) // a cookie of realistic size
	if err != nil {
		return nil, err
	}
	ctx := newRequestCtx("/")
	h := func(ctx *fasthttp.RequestCtx) error {
		v := ctx.Request.Header.Cookie(cookieName)
		if len(v) == 0 {
			return errors.New("no cookie")
		}
		c := fasthttp.AcquireCookie()
		c.SetKey(cookieName)
		c.SetValueBytes(v)
		c.SetPath("/")
		c.SetMaxAge(int(maxAge / time.Second))
		c.SetHTTPOnly(true)
		c.SetSameSite(fasthttp.CookieSameSiteLaxMode)
		ctx.Response.Header.SetCookie(c)
		fasthttp.ReleaseCookie(c)
		return nil
	}
	return &rig{
		serve: fastServe(ctx, cookieName, value, h),
		visits: func() (int, error) {
			got, err := responseCookie(&ctx.Response, cookieName)
			if err != nil {
				return 0, err
			}
			if string(got) != string(value) {
				return 0, errors.New("the response's cookie differs from the request's")
			}
			return startVisits + 1, nil // nothing to count: the cookie made the trip
		},
	}, nil
}

// ---- gorilla/sessions on net/http ----

// newGorillaRig runs sc with a gorilla/sessions store. Each
// request gets a fresh *http.Request copied from a template, as net/http
// gives each request its own (gorilla keeps its registry in the request's
// context, so reusing one request would skip the decoding).
func newGorillaRig(store gsessions.Store, sc scenario) (*rig, error) {
	seed := httptest.NewRequest(http.MethodGet, "/", nil)
	w := httptest.NewRecorder()
	s, err := store.New(seed, cookieName)
	if err != nil {
		return nil, err
	}
	s.Values["user_id"] = userID
	s.Values["name"] = userName
	s.Values["visits"] = startVisits
	if err := s.Save(seed, w); err != nil {
		return nil, err
	}
	cookie, err := recorderCookie(w)
	if err != nil {
		return nil, err
	}
	tmpl := httptest.NewRequest(http.MethodGet, "/", nil)
	tmpl.AddCookie(cookie)
	handler := func(w http.ResponseWriter, r *http.Request) error {
		s, err := store.Get(r, cookieName)
		if err != nil {
			return err
		}
		n, err := toInt(s.Values["visits"])
		if err != nil {
			return err
		}
		next, set, err := sc.visit(n)
		if err != nil {
			return err
		}
		if set {
			s.Values["visits"] = next
		}
		return s.Save(r, w)
	}
	req := new(http.Request)
	var last *httptest.ResponseRecorder
	return &rig{
		serve: func() error {
			*req = *tmpl
			last = httptest.NewRecorder()
			return handler(last, req)
		},
		visits: func() (int, error) {
			c, err := lastRecorderCookie(last, sc, cookie)
			if err != nil {
				return 0, err
			}
			r := httptest.NewRequest(http.MethodGet, "/", nil)
			r.AddCookie(c)
			s, err := store.New(r, cookieName)
			if err != nil {
				return 0, err
			}
			if s.IsNew || s.Values["user_id"] != userID || s.Values["name"] != userName {
				return 0, fmt.Errorf("values lost: %v", s.Values)
			}
			return toInt(s.Values["visits"])
		},
	}, nil
}

// gorillaOptions gives gorilla's cookies the attributes of ours.
func gorillaOptions() *gsessions.Options {
	return &gsessions.Options{Path: "/", MaxAge: int(maxAge / time.Second), HttpOnly: true, SameSite: http.SameSiteLaxMode}
}

func newGorillaCookieStore() *gsessions.CookieStore {
	s := gsessions.NewCookieStore(hashKey, blockKey)
	s.Options = gorillaOptions()
	return s
}

func newGorillaFilesystemStore(dir string) *gsessions.FilesystemStore {
	s := gsessions.NewFilesystemStore(dir, hashKey, blockKey)
	s.Options = gorillaOptions()
	return s
}

func recorderCookie(w *httptest.ResponseRecorder) (*http.Cookie, error) {
	if w == nil {
		return nil, errors.New("no response yet")
	}
	for _, c := range w.Result().Cookies() {
		if c.Name == cookieName && c.Value != "" {
			return &http.Cookie{Name: c.Name, Value: c.Value}, nil
		}
	}
	return nil, fmt.Errorf("the response has no Set-Cookie %q", cookieName)
}

// lastRecorderCookie returns the session cookie of w, or in the read-only
// scenario sent (the request's cookie) when w set none.
func lastRecorderCookie(w *httptest.ResponseRecorder, sc scenario, sent *http.Cookie) (*http.Cookie, error) {
	c, err := recorderCookie(w)
	if err != nil && sc == readOnly && w != nil {
		return sent, nil
	}
	return c, err
}

// ---- fasthttp/session v2 ----

// newFasthttpSessionRig runs sc with fasthttp/session v2 over
// provider. It neither signs nor encrypts: the cookie holds the raw ID.
func newFasthttpSessionRig(provider fhsession.Provider, sc scenario) (*rig, error) {
	cfg := fhsession.NewDefaultConfig()
	cfg.CookieName = cookieName
	cfg.Expiration = maxAge
	cfg.CookieSameSite = fasthttp.CookieSameSiteLaxMode
	sess := fhsession.New(cfg)
	if err := sess.SetProvider(provider); err != nil {
		return nil, err
	}
	seed := newRequestCtx("/")
	st, err := sess.Get(seed)
	if err != nil {
		return nil, err
	}
	st.Set("user_id", userID)
	st.Set("name", userName)
	st.Set("visits", startVisits)
	if err := sess.Save(seed, st); err != nil {
		return nil, err
	}
	value, err := responseCookie(&seed.Response, cookieName)
	if err != nil {
		return nil, err
	}
	h := func(ctx *fasthttp.RequestCtx) error {
		st, err := sess.Get(ctx)
		if err != nil {
			return err
		}
		n, err := toInt(st.Get("visits"))
		if err != nil {
			return err
		}
		next, set, err := sc.visit(n)
		if err != nil {
			return err
		}
		if set {
			st.Set("visits", next)
		}
		return sess.Save(ctx, st)
	}
	ctx := newRequestCtx("/")
	return &rig{
		serve: fastServe(ctx, cookieName, value, h),
		visits: func() (int, error) {
			v, err := lastCookie(&ctx.Response, sc, value)
			if err != nil {
				return 0, err
			}
			rc := newRequestCtx("/")
			rc.Request.Header.SetCookieBytesKV([]byte(cookieName), v)
			st, err := sess.Get(rc)
			if err != nil {
				return 0, err
			}
			if st.Get("user_id") != userID || st.Get("name") != userName {
				return 0, fmt.Errorf("values lost: %v", st.GetAll())
			}
			return toInt(st.Get("visits"))
		},
	}, nil
}

// ---- Fiber v2 session middleware, memory storage ----

// newFiberRig runs sc through a Fiber app's handler, with the session
// middleware's default memory storage.
func newFiberRig(sc scenario) (*rig, error) {
	app := fiber.New(fiber.Config{DisableStartupMessage: true})
	store := fibersession.New(fibersession.Config{
		Expiration:     maxAge,
		KeyLookup:      "cookie:" + cookieName,
		CookiePath:     "/",
		CookieHTTPOnly: true,
		CookieSameSite: "Lax",
	})
	app.Get("/seed", func(c *fiber.Ctx) error {
		s, err := store.Get(c)
		if err != nil {
			return err
		}
		s.Set("user_id", userID)
		s.Set("name", userName)
		s.Set("visits", startVisits)
		return s.Save()
	})
	app.Get("/", func(c *fiber.Ctx) error {
		s, err := store.Get(c)
		if err != nil {
			return err
		}
		n, err := toInt(s.Get("visits"))
		if err != nil {
			return err
		}
		next, set, err := sc.visit(n)
		if err != nil {
			return err
		}
		if set {
			s.Set("visits", next)
		}
		return s.Save()
	})
	app.Get("/read", func(c *fiber.Ctx) error {
		s, err := store.Get(c)
		if err != nil {
			return err
		}
		if s.Fresh() || s.Get("user_id") != userID || s.Get("name") != userName {
			return c.Status(http.StatusNotFound).SendString("values lost")
		}
		n, err := toInt(s.Get("visits"))
		if err != nil {
			return err
		}
		return c.SendString(strconv.Itoa(n))
	})
	h := app.Handler()
	call := func(ctx *fasthttp.RequestCtx) error {
		h(ctx)
		if code := ctx.Response.StatusCode(); code != http.StatusOK {
			return fmt.Errorf("status %d: %s", code, ctx.Response.Body())
		}
		return nil
	}
	seed := newRequestCtx("/seed")
	if err := call(seed); err != nil {
		return nil, err
	}
	value, err := responseCookie(&seed.Response, cookieName)
	if err != nil {
		return nil, err
	}
	ctx := newRequestCtx("/")
	return &rig{
		serve: fastServe(ctx, cookieName, value, call),
		visits: func() (int, error) {
			v, err := lastCookie(&ctx.Response, sc, value)
			if err != nil {
				return 0, err
			}
			rc := newRequestCtx("/read")
			rc.Request.Header.SetCookieBytesKV([]byte(cookieName), v)
			if err := call(rc); err != nil {
				return 0, err
			}
			return strconv.Atoi(string(rc.Response.Body()))
		},
		close: func() { _ = app.Shutdown() },
	}, nil
}

// ---- alexedwards/scs v2, memstore, on net/http ----

func newSCSRig(sc scenario) (*rig, error) {
	// No cleanup goroutine: it does not touch the request path, and
	// memstore's StopCleanup races with the goroutine's start.
	return newSCSRigOn(memstore.NewWithCleanupInterval(0), sc)
}

// newSCSRigOn runs sc with scs over store: LoadAndSave, which commits
// (and sets the cookie) only when the handler modified the session.
func newSCSRigOn(store scs.Store, sc scenario) (*rig, error) {
	sm := scs.New()
	sm.Store = store
	sm.Lifetime = maxAge
	sm.Cookie.Name = cookieName
	sm.Cookie.Path = "/"
	sm.Cookie.HttpOnly = true
	sm.Cookie.SameSite = http.SameSiteLaxMode
	sm.Cookie.Persist = true

	seed := sm.LoadAndSave(http.HandlerFunc(func(_ http.ResponseWriter, r *http.Request) {
		sm.Put(r.Context(), "user_id", userID)
		sm.Put(r.Context(), "name", userName)
		sm.Put(r.Context(), "visits", startVisits)
	}))
	var herr error
	h := sm.LoadAndSave(http.HandlerFunc(func(_ http.ResponseWriter, r *http.Request) {
		n, ok := sm.Get(r.Context(), "visits").(int)
		if !ok {
			herr = fmt.Errorf("visits holds %T", sm.Get(r.Context(), "visits"))
			return
		}
		next, set, err := sc.visit(n)
		if err != nil {
			herr = err
			return
		}
		if set {
			sm.Put(r.Context(), "visits", next)
		}
	}))
	read := sm.LoadAndSave(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if sm.GetString(r.Context(), "user_id") != userID || sm.GetString(r.Context(), "name") != userName {
			http.Error(w, "values lost", http.StatusNotFound)
			return
		}
		_, _ = w.Write([]byte(strconv.Itoa(sm.GetInt(r.Context(), "visits"))))
	}))

	w := httptest.NewRecorder()
	seed.ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/", nil))
	cookie, err := recorderCookie(w)
	if err != nil {
		return nil, err
	}
	tmpl := httptest.NewRequest(http.MethodGet, "/", nil)
	tmpl.AddCookie(cookie)
	req := new(http.Request)
	var last *httptest.ResponseRecorder
	return &rig{
		serve: func() error {
			*req = *tmpl
			last = httptest.NewRecorder()
			herr = nil
			h.ServeHTTP(last, req)
			if herr != nil {
				return herr
			}
			if last.Code != http.StatusOK {
				return fmt.Errorf("status %d: %s", last.Code, last.Body)
			}
			return nil
		},
		visits: func() (int, error) {
			c, err := lastRecorderCookie(last, sc, cookie)
			if err != nil {
				return 0, err
			}
			r := httptest.NewRequest(http.MethodGet, "/", nil)
			r.AddCookie(c)
			w := httptest.NewRecorder()
			read.ServeHTTP(w, r)
			if w.Code != http.StatusOK {
				return 0, fmt.Errorf("status %d: %s", w.Code, w.Body)
			}
			return strconv.Atoi(w.Body.String())
		},
	}, nil
}
