package browser

import (
	"errors"
	"fmt"
	"net"
	"strconv"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/fasthttp-sessions/sessions"
	"github.com/valyala/fasthttp"
)

// prefixCase is a cookie name with the attributes a Save is asked to write.
type prefixCase struct {
	name string
	opts sessions.Options
}

var prefixCases = []prefixCase{
	{"plain", sessions.Options{Path: "/"}},
	{"__Secure-ok", sessions.Options{Path: "/", Secure: true}},
	{"__Secure-insecure", sessions.Options{Path: "/"}},
	{"__Host-ok", sessions.Options{Path: "/", Secure: true}},
	{"__Host-path", sessions.Options{Path: "/sub", Secure: true}},
	{"__Http-ok", sessions.Options{Path: "/", Secure: true, HttpOnly: true}},
	{"__Http-scripts", sessions.Options{Path: "/", Secure: true}},
	{"__Http-insecure", sessions.Options{Path: "/", HttpOnly: true}},
	{"__Host-Http-ok", sessions.Options{Path: "/", Secure: true, HttpOnly: true}},
	{"__Host-Http-scripts", sessions.Options{Path: "/", Secure: true}},
	{"__Host-Http-insecure", sessions.Options{Path: "/", HttpOnly: true}},
	{"__Host-Http-path", sessions.Options{Path: "/sub", Secure: true, HttpOnly: true}},
}

// TestCookiePrefixes: what Save accepts, Chromium stores; what Save refuses
// (ErrInvalidOptions), Chromium drops when the same Set-Cookie is written
// without Save's checks. Secure cookies are accepted from http://localhost,
// which browsers treat as a secure context.
func TestCookiePrefixes(t *testing.T) {
	ctx := testContext(t)
	store := sessions.NewCookieStore([]byte("e2e-prefix-test-hash-key-0123456"))
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &fasthttp.Server{Handler: func(ctx *fasthttp.RequestCtx) {
		i, err := strconv.Atoi(string(ctx.QueryArgs().Peek("case")))
		if err != nil || i < 0 || i >= len(prefixCases) {
			ctx.Error("bad case", fasthttp.StatusBadRequest)
			return
		}
		c := prefixCases[i]
		ctx.SetContentType("text/plain")
		if string(ctx.Path()) == "/raw" {
			// The same attributes, written without Save's checks.
			ck := fasthttp.AcquireCookie()
			defer fasthttp.ReleaseCookie(ck)
			ck.SetKey(c.name)
			ck.SetValue("raw")
			ck.SetPath(c.opts.Path)
			ck.SetSecure(c.opts.Secure)
			ck.SetHTTPOnly(c.opts.HttpOnly)
			ctx.Response.Header.SetCookie(ck)
			return
		}
		s, _ := store.New(ctx, c.name)
		s.Values["k"] = "v"
		opts := c.opts
		s.Options = &opts
		switch err := s.Save(ctx); {
		case err == nil:
			fmt.Fprint(ctx, "accepted")
		case errors.Is(err, sessions.ErrInvalidOptions):
			fmt.Fprint(ctx, "refused")
		default:
			fmt.Fprintf(ctx, "error: %v", err)
		}
	}}
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { _ = srv.Shutdown() })
	port := ln.Addr().(*net.TCPAddr).Port
	ctx, _ = startBrowser(t, ctx, t.TempDir())

	stored := func(name, path string) bool {
		url := fmt.Sprintf("http://localhost:%d%s", port, path)
		return findCookie(cookiesFor(t, ctx, url), name, "localhost") != nil
	}
	accepted := 0
	for i, c := range prefixCases {
		url := fmt.Sprintf("http://localhost:%d/set?case=%d", port, i)
		var body string
		run(t, ctx, "navigating to "+url, chromedp.Navigate(url))
		body = run(t, ctx, "reading the page", chromedp.Evaluate[string](`document.body.innerText`))
		path := c.opts.Path
		switch body {
		case "accepted":
			accepted++
			if !stored(c.name, path) {
				t.Errorf("%s %+v: Save accepted it, Chromium did not store it", c.name, c.opts)
			}
		case "refused":
			if stored(c.name, path) {
				t.Errorf("%s: Save refused it, yet a cookie is stored", c.name)
			}
			raw := fmt.Sprintf("http://localhost:%d/raw?case=%d", port, i)
			run(t, ctx, "navigating to "+raw, chromedp.Navigate(raw))
			if stored(c.name, path) {
				t.Errorf("%s %+v: Save refused it, but Chromium stores it when written anyway", c.name, c.opts)
			}
		default:
			t.Errorf("%s: %s", c.name, body)
		}
	}
	if accepted != 5 {
		t.Errorf("Save accepted %d of the cases, want 5 (plain and the four *-ok)", accepted)
	}
}
