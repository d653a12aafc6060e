package sessions

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"testing"

	"github.com/gorilla/securecookie"
	"github.com/valyala/fasthttp"
)

var (
	testHash  = []byte("0123456789abcdef0123456789abcdef")
	testBlock = []byte("fedcba9876543210fedcba9876543210")
	oldHash   = []byte("old-hash-key-old-hash-key-old-ha")
	oldBlock  = []byte("old-block-key-16")
)

// appHandler is the small application most tests drive: /login?user=NAME
// stores the user and a flash, / shows the user and the flashes, /logout
// deletes the session. Errors of Get are shown, not fatal, as a real
// application would treat them.
func appHandler(store Store, name string) fasthttp.RequestHandler {
	return func(ctx *fasthttp.RequestCtx) {
		s, err := store.Get(ctx, name)
		if err != nil {
			fmt.Fprintf(ctx, "get-error=%v;", err)
		}
		switch string(ctx.Path()) {
		case "/login":
			s.Values["user"] = string(ctx.QueryArgs().Peek("user"))
			s.AddFlash("welcome " + s.GetString("user"))
		case "/logout":
			s.Options.MaxAge = -1
		case "/visit":
			n, _ := s.GetInt("visits")
			s.Values["visits"] = n + 1
		}
		fmt.Fprintf(ctx, "new=%v user=%s flashes=%v visits=%v", s.IsNew, s.GetString("user"), s.Flashes(), s.Values["visits"])
		if err := Save(ctx); err != nil {
			ctx.SetStatusCode(fasthttp.StatusInternalServerError)
			fmt.Fprintf(ctx, " save-error=%v", err)
		}
	}
}

func TestCookieStoreLoginFlashLogout(t *testing.T) {
	store := NewCookieStore(testHash, testBlock)
	ts := newTestServer(t, appHandler(store, "session"))
	c := ts.NewClient(1)

	steps := []struct{ path, want string }{
		{"/", "new=true user= flashes=[] visits=<nil>"},
		{"/login?user=alice", "new=true user=alice flashes=[welcome alice] visits=<nil>"},
		{"/", "new=false user=alice flashes=[] visits=<nil>"},
		{"/visit", "new=false user=alice flashes=[] visits=1"},
		{"/visit", "new=false user=alice flashes=[] visits=2"},
		{"/logout", "new=false user=alice flashes=[] visits=2"},
		{"/", "new=true user= flashes=[] visits=<nil>"},
	}
	for _, st := range steps {
		code, body := c.Get(st.path)
		if code != 200 || body != st.want {
			t.Fatalf("GET %s = %d %q, want 200 %q", st.path, code, body, st.want)
		}
	}
}

func TestCookieStoreFlashShownOnce(t *testing.T) {
	store := NewCookieStore(testHash, testBlock)
	ts := newTestServer(t, appHandler(store, "session"))
	c := ts.NewClient(1)
	c.Get("/login?user=bob")
	// The login response showed the flash; consume nothing more.
	_, body := c.Get("/")
	mustContain(t, body, "flashes=[]")

	// A flash added and not read in the same request is shown once later.
	ts2 := newTestServer(t, func(ctx *fasthttp.RequestCtx) {
		s, _ := store.Get(ctx, "s")
		if string(ctx.Path()) == "/add" {
			s.AddFlash("one")
			s.AddFlash("two", "custom")
		} else {
			fmt.Fprintf(ctx, "%v %v", s.Flashes(), s.Flashes("custom"))
		}
		if err := s.Save(ctx); err != nil {
			t.Error(err)
		}
	})
	c2 := ts2.NewClient(1)
	c2.Get("/add")
	if _, body := c2.Get("/read"); body != "[one] [two]" {
		t.Fatalf("first read = %q", body)
	}
	if _, body := c2.Get("/read"); body != "[] []" {
		t.Fatalf("second read = %q, want the flashes gone", body)
	}
}

// TestRegistryNoCrossTalkOnReusedCtx alternates two users on one keep-alive
// connection, so that fasthttp serves them all with the same *RequestCtx,
// and never calls Clear: each request must see its own session only.
func TestRegistryNoCrossTalkOnReusedCtx(t *testing.T) {
	store := NewCookieStore(testHash, testBlock)
	var ctxs = map[*fasthttp.RequestCtx]int{}
	ts := newTestServer(t, func(ctx *fasthttp.RequestCtx) {
		ctxs[ctx]++ // the server has one connection: no concurrent access
		appHandler(store, "session")(ctx)
	})
	alice, bob := ts.NewClient(1), ts.NewClient(1)
	// Both clients dial the same listener; force one connection for both by
	// sharing the HostClient, with separate jars.
	bob.HC = alice.HC
	alice.Get("/login?user=alice")
	for i := 0; i < 50; i++ {
		_, body := bob.Get("/")
		if !strings.Contains(body, " user= ") {
			t.Fatalf("request %d of bob (no cookie) saw %q", i, body)
		}
		_, body = alice.Get("/")
		if !strings.HasPrefix(body, "new=false user=alice ") {
			t.Fatalf("request %d of alice saw %q", i, body)
		}
	}
	bob.Get("/login?user=bob")
	for i := 0; i < 50; i++ {
		if _, body := alice.Get("/"); !strings.Contains(body, "user=alice ") {
			t.Fatalf("alice saw %q", body)
		}
		if _, body := bob.Get("/"); !strings.Contains(body, "user=bob ") {
			t.Fatalf("bob saw %q", body)
		}
	}
	if len(ctxs) != 1 {
		t.Fatalf("served with %d RequestCtx values, want 1 reused", len(ctxs))
	}
}

func TestRegistryCachesSessionAndError(t *testing.T) {
	store := NewCookieStore(testHash, testBlock)
	ts := newTestServer(t, func(ctx *fasthttp.RequestCtx) {
		r := GetRegistry(ctx)
		if GetRegistry(ctx) != r {
			t.Error("GetRegistry returned two registries for one request")
		}
		s1, err1 := r.Get(store, "a")
		s2, err2 := store.Get(ctx, "a")
		if s1 != s2 || !errors.Is(err2, err1) && err1 != err2 {
			t.Errorf("second Get returned %p,%v; want %p,%v", s2, err2, s1, err1)
		}
		b, _ := r.Get(store, "b")
		if b == s1 {
			t.Error("two names share one session")
		}
		s1.Values["n"] = 1
		b.Values["n"] = 2
		if err := Save(ctx); err != nil {
			t.Error(err)
		}
		fmt.Fprintf(ctx, "%v", err1)
	})
	c := ts.NewClient(1)
	c.Jar["a"] = "tampered"
	_, body := c.Get("/")
	mustContain(t, body, `sessions: session "a": invalid cookie`)
	if c.Jar["a"] == "tampered" || c.Jar["b"] == "" {
		t.Fatalf("Save did not set both cookies: %v", c.Jar)
	}
	// Both cookies are valid now.
	if _, body := c.Get("/"); body != "<nil>" {
		t.Fatalf("second request: %q", body)
	}
}

func TestRegistrySaveJoinsErrors(t *testing.T) {
	store := NewCookieStore(testHash, testBlock)
	ts := newTestServer(t, func(ctx *fasthttp.RequestCtx) {
		a, _ := store.Get(ctx, "a")
		a.Values["big"] = strings.Repeat("x", 5000)
		b, _ := store.Get(ctx, "b")
		b.Values["x"] = 1
		b.Options.SameSite = fasthttp.CookieSameSiteNoneMode
		ok, _ := store.Get(ctx, "ok")
		ok.Values["x"] = 1
		err := Save(ctx)
		fmt.Fprintf(ctx, "%v|%v|%v", errors.Is(err, ErrCookieTooLong), errors.Is(err, ErrInvalidOptions), err)
	})
	c := ts.NewClient(1)
	_, body := c.Get("/")
	mustContain(t, body, "true|true|", `sessions: session "a": encoded value too long`, `sessions: session "b": invalid cookie options`)
	if c.Jar["ok"] == "" {
		t.Error("the valid session was not saved")
	}
	if c.SetCookie("a") != "" || c.SetCookie("b") != "" {
		t.Error("a failed Save wrote a cookie")
	}
}

func TestRegistryInvalidName(t *testing.T) {
	store := NewCookieStore(testHash, testBlock)
	for _, name := range []string{"", "a b", "a;b", "a=b", "sess\x00", "é", `a"b`} {
		var ctx fasthttp.RequestCtx
		ctx.Init(&fasthttp.Request{}, nil, nil)
		s, err := GetRegistry(&ctx).Get(store, name)
		if s == nil || !s.IsNew || !errors.Is(err, ErrInvalidName) {
			t.Errorf("Get(%q) = %v, %v; want a new session and ErrInvalidName", name, s, err)
		}
		if _, err := store.New(&ctx, name); !errors.Is(err, ErrInvalidName) {
			t.Errorf("New(%q) error = %v", name, err)
		}
		if err := s.Save(&ctx); !errors.Is(err, ErrInvalidName) {
			t.Errorf("Save(%q) error = %v", name, err)
		}
		Clear(&ctx)
	}
}

func TestClearReleasesRegistry(t *testing.T) {
	store := NewCookieStore(testHash, testBlock)
	var ctx fasthttp.RequestCtx
	ctx.Init(&fasthttp.Request{}, nil, nil)
	s, _ := GetRegistry(&ctx).Get(store, "s")
	s.Values["x"] = 1
	Clear(&ctx)
	if ctx.UserValue(registryKey{}) != nil {
		t.Fatal("Clear left the registry in the user values")
	}
	s2, _ := GetRegistry(&ctx).Get(store, "s")
	if s2 == s || len(s2.Values) != 0 {
		t.Fatal("after Clear the registry still returned the old session")
	}
	if err := Save(&ctx); err != nil {
		t.Fatal(err)
	}
	Clear(&ctx)
	Clear(&ctx) // a second Clear does nothing
	if err := Save(&ctx); err != nil {
		t.Fatalf("Save without a registry: %v", err)
	}
}

func TestCookieAttributes(t *testing.T) {
	type tc struct {
		name    string
		cookie  string
		opts    Options
		want    []string
		notWant []string
		err     error
		only64  bool // the MaxAge is above math.MaxInt on a 32-bit platform
	}
	run := func(t *testing.T, c tc) {
		t.Helper()
		if c.only64 && strconv.IntSize < 64 {
			t.Skip("needs a MaxAge above what a 32-bit int holds")
		}
		store := NewCookieStore(testHash)
		var ctx fasthttp.RequestCtx
		ctx.Init(&fasthttp.Request{}, nil, nil)
		s, _ := store.New(&ctx, c.cookie)
		opts := c.opts
		s.Options = &opts
		s.Values["k"] = "v"
		err := store.Save(&ctx, s)
		got := string(ctx.Response.Header.PeekCookie(c.cookie))
		if c.err != nil {
			if !errors.Is(err, c.err) {
				t.Fatalf("Save error = %v, want %v", err, c.err)
			}
			if got != "" {
				t.Fatalf("failed Save wrote %q", got)
			}
			return
		}
		if err != nil {
			t.Fatalf("Save: %v", err)
		}
		mustContain(t, got, c.want...)
		for _, nw := range c.notWant {
			if strings.Contains(got, nw) {
				t.Errorf("%q contains %q", got, nw)
			}
		}
	}
	lax := fasthttp.CookieSameSiteLaxMode
	// The largest MaxAge: 292 years, the most a time.Duration holds, or
	// with a 32-bit int, the most an int holds (68 years). overMax is one
	// more, clamped so that it compiles with a 32-bit int (only64 cases).
	maxAgeAttr := "Max-Age=9223372036"
	if strconv.IntSize == 32 {
		maxAgeAttr = "Max-Age=2147483647"
	}
	overMax := int(min(int64(maxCookieAge)+1, math.MaxInt))
	for _, c := range []tc{
		{name: "defaults", cookie: "s", opts: *defaultOptions(), want: []string{"Path=/", "Max-Age=2592000", "Expires=", "HttpOnly", "SameSite=Lax"}, notWant: []string{"Secure", "Domain", "Partitioned"}},
		{name: "browser session", cookie: "s", opts: Options{Path: "/", MaxAge: 0}, want: []string{"s=", "Path=/"}, notWant: []string{"Max-Age", "Expires"}},
		{name: "delete", cookie: "s", opts: Options{Path: "/", MaxAge: -1}, want: []string{"s=; ", "Max-Age=0", "Expires=Thu, 01 Jan 1970 00:00:01 GMT"}},
		{name: "all attributes", cookie: "s", opts: Options{Path: "/", Domain: "example.com", MaxAge: 60, Secure: true, HttpOnly: true, Partitioned: true, SameSite: fasthttp.CookieSameSiteNoneMode}, want: []string{"Domain=example.com", "Max-Age=60", "Secure", "HttpOnly", "SameSite=None", "Partitioned"}},
		{name: "strict", cookie: "s", opts: Options{SameSite: fasthttp.CookieSameSiteStrictMode}, want: []string{"SameSite=Strict"}, notWant: []string{"Path="}},
		{name: "partitioned path", cookie: "s", opts: Options{Path: "/app", Secure: true, Partitioned: true}, err: ErrInvalidOptions},
		{name: "partitioned insecure", cookie: "s", opts: Options{Path: "/", Partitioned: true}, err: ErrInvalidOptions},
		{name: "none insecure", cookie: "s", opts: Options{SameSite: fasthttp.CookieSameSiteNoneMode}, err: ErrInvalidOptions},
		{name: "host ok", cookie: "__Host-s", opts: Options{Path: "/", Secure: true, SameSite: lax}, want: []string{"__Host-s=", "Secure"}},
		{name: "host insecure", cookie: "__Host-s", opts: Options{Path: "/"}, err: ErrInvalidOptions},
		{name: "host path", cookie: "__Host-s", opts: Options{Path: "/a", Secure: true}, err: ErrInvalidOptions},
		{name: "host domain", cookie: "__host-s", opts: Options{Path: "/", Secure: true, Domain: "example.com"}, err: ErrInvalidOptions},
		{name: "secure prefix", cookie: "__Secure-s", opts: Options{Path: "/"}, err: ErrInvalidOptions},
		{name: "secure prefix ok", cookie: "__Secure-s", opts: Options{Path: "/x", Secure: true}, want: []string{"Path=/x", "Secure"}},
		{name: "path injection", cookie: "s", opts: Options{Path: "/; Domain=evil"}, err: ErrInvalidOptions},
		{name: "domain injection", cookie: "s", opts: Options{Domain: "a\r\nX: y"}, err: ErrInvalidOptions},
		// Chromium drops __Http- and __Host-Http- cookies without Secure
		// and HttpOnly (and __Host-Http- ones with a Domain or a Path
		// other than "/"), as e2e/browser shows.
		{name: "http prefix ok", cookie: "__Http-s", opts: Options{Path: "/x", Secure: true, HttpOnly: true}, want: []string{"__Http-s=", "Secure", "HttpOnly"}},
		{name: "http prefix insecure", cookie: "__Http-s", opts: Options{Path: "/", HttpOnly: true}, err: ErrInvalidOptions},
		{name: "http prefix scripts", cookie: "__http-s", opts: Options{Path: "/", Secure: true}, err: ErrInvalidOptions},
		{name: "host-http ok", cookie: "__Host-Http-s", opts: Options{Path: "/", Secure: true, HttpOnly: true}, want: []string{"__Host-Http-s=", "Secure", "HttpOnly"}},
		{name: "host-http scripts", cookie: "__Host-Http-s", opts: Options{Path: "/", Secure: true}, err: ErrInvalidOptions},
		{name: "host-http insecure", cookie: "__Host-Http-s", opts: Options{Path: "/", HttpOnly: true}, err: ErrInvalidOptions},
		{name: "host-http path", cookie: "__Host-Http-s", opts: Options{Path: "/a", Secure: true, HttpOnly: true}, err: ErrInvalidOptions},
		{name: "host-http domain", cookie: "__Host-Http-s", opts: Options{Path: "/", Secure: true, HttpOnly: true, Domain: "example.com"}, err: ErrInvalidOptions},
		// A MaxAge past what a time.Duration holds used to overflow into an
		// Expires of "now".
		{name: "maxage largest", cookie: "s", opts: Options{Path: "/", MaxAge: maxCookieAge}, want: []string{maxAgeAttr, "Expires="}},
		{name: "maxage overflow", cookie: "s", opts: Options{Path: "/", MaxAge: overMax}, err: ErrInvalidOptions, only64: true},
		{name: "maxage absurd", cookie: "s", opts: Options{Path: "/", MaxAge: math.MaxInt}, err: ErrInvalidOptions, only64: true},
	} {
		t.Run(c.name, func(t *testing.T) { run(t, c) })
	}
}

func TestCookieStoreRuleErrorSaysWhich(t *testing.T) {
	store := NewCookieStore(testHash)
	for _, tc := range []struct {
		name string
		opts Options
		want string
	}{
		{"__Host-id", Options{Path: "/"}, "__Host- prefix requires Secure"},
		{"__Http-id", Options{Path: "/", Secure: true}, "the __Http- prefix requires HttpOnly"},
		{"__Host-Http-id", Options{Path: "/", Secure: true}, "the __Host-Http- prefix requires HttpOnly"},
		{"__Host-Http-id", Options{Path: "/", HttpOnly: true}, "the __Host-Http- prefix requires Secure"},
	} {
		var ctx fasthttp.RequestCtx
		ctx.Init(&fasthttp.Request{}, nil, nil)
		s, _ := store.New(&ctx, tc.name)
		*s.Options = tc.opts
		err := store.Save(&ctx, s)
		if !errors.Is(err, ErrInvalidOptions) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s %+v: error = %v, want %q", tc.name, tc.opts, err, tc.want)
		}
	}
}

func TestCookieStoreTooLong(t *testing.T) {
	store := NewCookieStore(testHash, testBlock)
	ts := newTestServer(t, func(ctx *fasthttp.RequestCtx) {
		s, _ := store.Get(ctx, "s")
		s.Values["big"] = strings.Repeat("x", 4000)
		err := s.Save(ctx)
		fmt.Fprintf(ctx, "%v %v", errors.Is(err, ErrCookieTooLong), err)
	})
	c := ts.NewClient(1)
	_, body := c.Get("/")
	if !strings.HasPrefix(body, "true ") || c.SetCookie("s") != "" {
		t.Fatalf("body %q, Set-Cookie %q", body, c.SetCookie("s"))
	}
}

func TestCookieStoreKeyRotation(t *testing.T) {
	oldStore := NewCookieStore(oldHash, oldBlock)
	rotated := NewCookieStore(testHash, testBlock, oldHash, oldBlock)
	newOnly := NewCookieStore(testHash, testBlock)

	var ctx fasthttp.RequestCtx
	ctx.Init(&fasthttp.Request{}, nil, nil)
	s, _ := oldStore.New(&ctx, "s")
	s.Values["user"] = "carol"
	if err := oldStore.Save(&ctx, s); err != nil {
		t.Fatal(err)
	}
	oldCookie := cookieValue(t, &ctx, "s")

	ctx2 := requestWithCookie("s", oldCookie)
	s2, err := rotated.New(ctx2, "s")
	if err != nil || s2.IsNew || s2.Values["user"] != "carol" {
		t.Fatalf("rotated store read the old cookie as %v, %v, %v", s2.Values, s2.IsNew, err)
	}
	if err := rotated.Save(ctx2, s2); err != nil {
		t.Fatal(err)
	}
	newCookie := cookieValue(t, ctx2, "s")

	if s3, err := newOnly.New(requestWithCookie("s", newCookie), "s"); err != nil || s3.Values["user"] != "carol" {
		t.Fatalf("re-encoded cookie is not under the new key: %v %v", s3.Values, err)
	}
	if _, err := oldStore.New(requestWithCookie("s", newCookie), "s"); !errors.Is(err, ErrCookieInvalid) {
		t.Fatalf("old key still reads the re-encoded cookie: %v", err)
	}
	if _, err := newOnly.New(requestWithCookie("s", oldCookie), "s"); !errors.Is(err, ErrCookieInvalid) {
		t.Fatalf("rotated-out key still accepted: %v", err)
	}
}

func TestCookieStoreBadCookies(t *testing.T) {
	store := NewCookieStore(testHash, testBlock)
	valid := func(name string) string {
		var ctx fasthttp.RequestCtx
		ctx.Init(&fasthttp.Request{}, nil, nil)
		s, _ := store.New(&ctx, name)
		s.Values["user"] = "mallory"
		if err := store.Save(&ctx, s); err != nil {
			t.Fatal(err)
		}
		return cookieValue(t, &ctx, name)
	}
	good := valid("s")
	flip := []byte(good)
	flip[len(flip)/2] ^= 1
	// An expired cookie: encoded long ago by a codec of the same keys.
	expired := encodeAt(t, "s", map[any]any{"user": "old"}, 0, testHash, testBlock)
	for _, c := range []struct {
		name, value string
		want        error
	}{
		{"garbage", "not-base64!!", ErrCookieInvalid},
		{"flipped byte", string(flip), ErrCookieInvalid},
		{"other name", valid("other"), ErrCookieInvalid},
		{"too long", strings.Repeat("A", 5000), ErrCookieTooLong},
		{"expired", expired, ErrCookieExpired},
		{"unsigned", "dXNlcj1hZG1pbg==", ErrCookieInvalid},
	} {
		t.Run(c.name, func(t *testing.T) {
			s, err := store.New(requestWithCookie("s", c.value), "s")
			if !errors.Is(err, c.want) || !strings.HasPrefix(err.Error(), "sessions: ") {
				t.Fatalf("error = %v, want %v", err, c.want)
			}
			if s == nil || !s.IsNew || len(s.Values) != 0 {
				t.Fatalf("session = %+v, want a fresh one", s)
			}
		})
	}
}

func TestCookieStoreNilOptionsUseStore(t *testing.T) {
	store := NewCookieStore(testHash)
	var ctx fasthttp.RequestCtx
	ctx.Init(&fasthttp.Request{}, nil, nil)
	s := NewSession(store, "s")
	s.Options = nil
	if err := store.Save(&ctx, s); err != nil {
		t.Fatal(err)
	}
	mustContain(t, string(ctx.Response.Header.PeekCookie("s")), "Path=/", "HttpOnly", "SameSite=Lax")
}

func TestSessionCopiesStoreOptions(t *testing.T) {
	store := NewCookieStore(testHash)
	var ctx fasthttp.RequestCtx
	ctx.Init(&fasthttp.Request{}, nil, nil)
	s, _ := store.New(&ctx, "s")
	s.Options.MaxAge = 3600
	if store.Options.MaxAge != defaultMaxAge {
		t.Fatal("changing a session's Options changed the store's")
	}
	if s.Name() != "s" || s.Store() != Store(store) {
		t.Fatalf("Name %q Store %v", s.Name(), s.Store())
	}
}

// encodeAt encodes v as securecookie does, but dated unixTime, to make
// expired and future cookies without waiting.
func encodeAt(t testing.TB, name string, v any, unixTime int64, hashKey, blockKey []byte) string {
	t.Helper()
	enc, err := securecookie.New(hashKey, blockKey).Encode(name, v)
	if err != nil {
		t.Fatal(err)
	}
	raw, err := base64.URLEncoding.DecodeString(enc)
	if err != nil {
		t.Fatal(err)
	}
	parts := bytes.SplitN(raw, []byte("|"), 3)
	// Re-sign "date|value" with another date: the MAC covers name|date|value.
	body := fmt.Appendf(nil, "%d|%s", unixTime, parts[1])
	mac := hmac.New(sha256.New, hashKey)
	mac.Write([]byte(name + "|"))
	mac.Write(body)
	return base64.URLEncoding.EncodeToString(append(append(body, '|'), mac.Sum(nil)...))
}
