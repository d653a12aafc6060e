package compat

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"reflect"
	"sync"
	"testing"
	"time"

	gsessions "github.com/gorilla/sessions"

	"github.com/gorilla/securecookie"
	"github.com/valyala/fasthttp"
	"github.com/valyala/fasthttp/fasthttputil"

	"github.com/fasthttp-sessions/sessions"
)

// cookieName is the session name on both sides. It must be the same: it is
// part of the cookie's MAC.
const cookieName = "session"

// key returns a new random key of n bytes.
func key(t testing.TB, n int) []byte {
	t.Helper()
	k := securecookie.GenerateRandomKey(n)
	if k == nil {
		t.Fatalf("cannot generate a %d-byte key", n)
	}
	return k
}

// keyPair returns a new random hash key (32 bytes) and AES-256 block key.
func keyPair(t testing.TB) (hash, block []byte) {
	return key(t, 32), key(t, 32)
}

// useGob makes every codec of one of our stores serialize with gob, the only
// serializer gorilla/sessions speaks. The core's codecs are *sessions.Codec,
// whose default serializer is sessions.CompactSerializer;
// *securecookie.SecureCookie (gob is already its default) is handled too,
// for stores given such codecs by hand.
func useGob(t testing.TB, codecs []securecookie.Codec) {
	t.Helper()
	if len(codecs) == 0 {
		t.Fatal("useGob: the store has no codecs")
	}
	for i, c := range codecs {
		switch c := c.(type) {
		case *sessions.Codec:
			c.SetSerializer(securecookie.GobEncoder{})
		case *securecookie.SecureCookie:
			c.SetSerializer(securecookie.GobEncoder{})
		default:
			t.Fatalf("useGob: codec %d is a %T, which this helper cannot configure", i, c)
		}
	}
}

// ourStore returns one of our CookieStores for the key pairs, serializing
// with gob.
func ourStore(t testing.TB, keyPairs ...[]byte) *sessions.CookieStore {
	t.Helper()
	s := sessions.NewCookieStore(keyPairs...)
	useGob(t, s.Codecs)
	return s
}

// ---------------------------------------------------------------------------
// Our side: a fasthttp.Server on an in-memory listener, reached by a
// fasthttp.HostClient with one keep-alive connection.

type fastServer struct {
	client *fasthttp.HostClient

	// lastSetCookie is the whole Set-Cookie header of the session cookie
	// in the last response, or "".
	lastSetCookie string
}

// startFast serves h until the test ends. All requests of the returned
// server's client go over one keep-alive connection.
func startFast(t testing.TB, h fasthttp.RequestHandler) *fastServer {
	t.Helper()
	ln := fasthttputil.NewInmemoryListener()
	srv := &fasthttp.Server{Handler: h, ReadTimeout: 10 * time.Second, WriteTimeout: 10 * time.Second}
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ln) }()
	t.Cleanup(func() {
		if err := srv.Shutdown(); err != nil {
			t.Errorf("fasthttp server shutdown: %v", err)
		}
		if err := <-done; err != nil {
			t.Errorf("fasthttp server: %v", err)
		}
	})
	return &fastServer{client: &fasthttp.HostClient{
		Addr:        "compat.test",
		Dial:        func(string) (net.Conn, error) { return ln.Dial() },
		MaxConns:    1,
		ReadTimeout: 10 * time.Second,
	}}
}

// get sends GET path, with the session cookie set to cookie unless it is
// empty, and returns the value of the session cookie that the response sets,
// or "" when it sets none.
func (s *fastServer) get(t testing.TB, path, cookie string) (setCookie string) {
	t.Helper()
	return s.getNamed(t, path, cookieName, cookie)
}

// getNamed is get with the request's cookie sent under name; the returned
// value is still that of the response's cookieName cookie.
func (s *fastServer) getNamed(t testing.TB, path, name, cookie string) (setCookie string) {
	t.Helper()
	req := fasthttp.AcquireRequest()
	resp := fasthttp.AcquireResponse()
	defer fasthttp.ReleaseRequest(req)
	defer fasthttp.ReleaseResponse(resp)
	req.SetRequestURI("http://compat.test" + path)
	if cookie != "" {
		req.Header.SetCookie(name, cookie)
	}
	if err := s.client.DoTimeout(req, resp, 10*time.Second); err != nil {
		t.Fatalf("fasthttp GET %s: %v", path, err)
	}
	if resp.StatusCode() != fasthttp.StatusOK {
		t.Fatalf("fasthttp GET %s: status %d: %s", path, resp.StatusCode(), resp.Body())
	}
	raw := ""
	for key, value := range resp.Header.Cookies() {
		if string(key) == cookieName {
			raw = string(value)
		}
	}
	s.lastSetCookie = raw
	if raw == "" {
		return ""
	}
	c, err := http.ParseSetCookie(raw)
	if err != nil {
		t.Fatalf("fasthttp GET %s: net/http cannot parse our Set-Cookie %q: %v", path, raw, err)
	}
	return c.Value
}

// ---------------------------------------------------------------------------
// gorilla's side: net/http through httptest and http.Client.

type gorillaServer struct {
	srv *httptest.Server

	// lastSetCookie is the whole Set-Cookie header of the session cookie
	// in the last response, or "".
	lastSetCookie string
}

func startGorilla(t testing.TB, h http.HandlerFunc) *gorillaServer {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return &gorillaServer{srv: srv}
}

// get is fastServer.get for net/http.
func (s *gorillaServer) get(t testing.TB, path, cookie string) (setCookie string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, s.srv.URL+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	if cookie != "" {
		req.AddCookie(&http.Cookie{Name: cookieName, Value: cookie})
	}
	resp, err := s.srv.Client().Do(req)
	if err != nil {
		t.Fatalf("net/http GET %s: %v", path, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("net/http GET %s: status %d", path, resp.StatusCode)
	}
	s.lastSetCookie = ""
	for _, c := range resp.Cookies() {
		if c.Name == cookieName {
			s.lastSetCookie = c.Raw
			return c.Value
		}
	}
	return ""
}

// ---------------------------------------------------------------------------
// What a handler saw, sent from the server goroutine to the test.

type seen struct {
	err     error
	isNew   bool
	values  map[any]any // without the flashes
	flashes []any
	saveErr error
	maxAge  int // the session's Options.MaxAge after loading

	// connID and connReq tell which connection, and which request on it,
	// our handler served (0 on gorilla's side).
	connID  uint64
	connReq uint64
}

// recorder collects what handlers saw, in order.
type recorder struct {
	mu   sync.Mutex
	seen []seen
}

func (r *recorder) add(s seen) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.seen = append(r.seen, s)
}

// last returns what the last handler saw; the request has completed, so the
// handler has returned.
func (r *recorder) last(t testing.TB) seen {
	t.Helper()
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.seen) == 0 {
		t.Fatal("no handler ran")
	}
	return r.seen[len(r.seen)-1]
}

// cloneValues copies a session's values, so that what a handler saw does not
// change after it returns.
func cloneValues(v map[any]any) map[any]any {
	c := make(map[any]any, len(v))
	for k, x := range v {
		c[k] = x
	}
	return c
}

// ourReader serves a handler that loads the session from store, reads (and
// so removes) its flashes, saves it and records what it saw.
func ourReader(store sessions.Store, rec *recorder) fasthttp.RequestHandler {
	return func(ctx *fasthttp.RequestCtx) {
		s, err := store.Get(ctx, cookieName)
		got := seen{err: err, isNew: s.IsNew, maxAge: s.Options.MaxAge, connID: ctx.ConnID(), connReq: ctx.ConnRequestNum()}
		got.flashes = s.Flashes()
		got.values = cloneValues(s.Values)
		got.saveErr = s.Save(ctx)
		rec.add(got)
	}
}

// ourWriter serves a handler that stores values and flashes in a session of
// store and saves it.
func ourWriter(t testing.TB, store sessions.Store, values map[any]any, flashes ...any) fasthttp.RequestHandler {
	return ourWriterWith(t, store, nil, values, flashes...)
}

// ourWriterWith is ourWriter that first sets the session's Options to a copy
// of opts, unless opts is nil.
func ourWriterWith(t testing.TB, store sessions.Store, opts *sessions.Options, values map[any]any, flashes ...any) fasthttp.RequestHandler {
	return func(ctx *fasthttp.RequestCtx) {
		s, err := store.Get(ctx, cookieName)
		if err != nil {
			t.Errorf("our writer: Get: %v", err)
		}
		if opts != nil {
			o := *opts
			s.Options = &o
		}
		for k, v := range values {
			s.Values[k] = v
		}
		for _, f := range flashes {
			s.AddFlash(f)
		}
		if err := s.Save(ctx); err != nil {
			t.Errorf("our writer: Save: %v", err)
			ctx.Error(err.Error(), fasthttp.StatusInternalServerError)
		}
	}
}

// gorillaReader is ourReader for gorilla/sessions.
func gorillaReader(store gsessions.Store, rec *recorder) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		s, err := store.Get(r, cookieName)
		got := seen{err: err, isNew: s.IsNew, maxAge: s.Options.MaxAge}
		got.flashes = s.Flashes()
		got.values = cloneValues(s.Values)
		got.saveErr = s.Save(r, w)
		rec.add(got)
	}
}

// gorillaWriter is ourWriter for gorilla/sessions.
func gorillaWriter(t testing.TB, store gsessions.Store, values map[any]any, flashes ...any) http.HandlerFunc {
	return gorillaWriterWith(t, store, nil, values, flashes...)
}

// gorillaWriterWith is ourWriterWith for gorilla/sessions.
func gorillaWriterWith(t testing.TB, store gsessions.Store, opts *gsessions.Options, values map[any]any, flashes ...any) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		s, err := store.Get(r, cookieName)
		if err != nil {
			t.Errorf("gorilla writer: Get: %v", err)
		}
		if opts != nil {
			o := *opts
			s.Options = &o
		}
		for k, v := range values {
			s.Values[k] = v
		}
		for _, f := range flashes {
			s.AddFlash(f)
		}
		if err := s.Save(r, w); err != nil {
			t.Errorf("gorilla writer: Save: %v", err)
			http.Error(w, err.Error(), http.StatusInternalServerError)
		}
	}
}

// check compares what a handler saw with what it should have seen.
func check(t testing.TB, who string, got seen, wantNew bool, wantValues map[any]any, wantFlashes []any) {
	t.Helper()
	if got.err != nil {
		t.Errorf("%s: Get: %v", who, got.err)
	}
	if got.saveErr != nil {
		t.Errorf("%s: Save: %v", who, got.saveErr)
	}
	if got.isNew != wantNew {
		t.Errorf("%s: IsNew = %v, want %v", who, got.isNew, wantNew)
	}
	if !reflect.DeepEqual(got.values, wantValues) {
		t.Errorf("%s: Values = %s, want %s", who, show(got.values), show(wantValues))
	}
	if !reflect.DeepEqual(got.flashes, wantFlashes) {
		t.Errorf("%s: Flashes() = %#v, want %#v", who, got.flashes, wantFlashes)
	}
}

// show prints a values map with the type of every key and value, so that a
// 42 that came back as an int64 is visible.
func show(m map[any]any) string {
	s := "{"
	for k, v := range m {
		s += fmt.Sprintf("%#v: %#v, ", k, v)
	}
	return s + "}"
}

// errIs reports whether err wraps any of targets.
func errIs(err error, targets ...error) bool {
	for _, t := range targets {
		if errors.Is(err, t) {
			return true
		}
	}
	return false
}
