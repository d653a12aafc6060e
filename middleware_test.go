package sessions

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/valyala/fasthttp"
)

// TestMiddleware drives Middleware through a real server: it saves what the
// handler changed, treats a revoked session as logged out (no 500, no
// cookie), and hands other errors to onError, or answers 500.
func TestMiddleware(t *testing.T) {
	store := NewMemoryStore(testHash, testBlock)
	loaded, release := make(chan struct{}), make(chan struct{})
	app := func(ctx *fasthttp.RequestCtx) {
		s, _ := store.Get(ctx, "sid")
		switch string(ctx.Path()) {
		case "/set":
			s.Values["user"] = string(ctx.QueryArgs().Peek("user"))
		case "/logout":
			s.Options.MaxAge = -1
		case "/slow":
			close(loaded)
			<-release
			s.Values["slow"] = "late"
		case "/big":
			other, _ := NewCookieStore(testHash, testBlock).Get(ctx, "big")
			other.Values["x"] = strings.Repeat("x", 5000)
		}
		fmt.Fprintf(ctx, "user=%v", s.Values["user"])
	}
	var got []error
	withHook := Middleware(app, func(ctx *fasthttp.RequestCtx, err error) {
		got = append(got, err)
		ctx.SetStatusCode(fasthttp.StatusServiceUnavailable)
	})
	plain := Middleware(app, nil)
	ts := newTestServer(t, func(ctx *fasthttp.RequestCtx) {
		if len(ctx.QueryArgs().Peek("hook")) > 0 {
			withHook(ctx)
		} else {
			plain(ctx)
		}
	})

	c := ts.NewClient(1)
	if code, body := c.Get("/set?user=alice"); code != 200 || body != "user=alice" || c.Jar["sid"] == "" {
		t.Fatalf("/set: %d %q, jar %v", code, body, c.Jar)
	}
	if _, body := c.Get("/"); body != "user=alice" {
		t.Fatalf("the change was not saved: %q", body)
	}

	// A request in flight during a logout changes the session: revoked.
	slow := ts.NewClient(1)
	slow.Jar["sid"] = c.Jar["sid"]
	done := make(chan [2]string)
	go func() {
		code, body, err := slow.TryGet("/slow")
		done <- [2]string{fmt.Sprint(code, err), body + "|" + slow.SetCookie("sid")}
	}()
	<-loaded
	c.Get("/logout")
	close(release)
	if r := <-done; r[0] != "200 <nil>" || r[1] != "user=alice|" {
		t.Fatalf("a revoked session: %v, want 200 and no cookie", r)
	}

	// Other errors: 500 by default, or onError.
	if code, _ := c.Get("/big"); code != fasthttp.StatusInternalServerError {
		t.Fatalf("a failing Save answered %d, want 500", code)
	}
	if code, _ := c.Get("/big?hook=1"); code != fasthttp.StatusServiceUnavailable || len(got) != 1 || !errors.Is(got[0], ErrCookieTooLong) {
		t.Fatalf("onError: status %d, errors %v", code, got)
	}
}

func TestWithoutRevoked(t *testing.T) {
	other := errors.New("other")
	revoked := sessionError("a", ErrSessionRevoked)
	for _, c := range []struct {
		in   error
		want []error
	}{
		{nil, nil},
		{revoked, nil},
		{errors.Join(revoked, revoked), nil},
		{errors.Join(revoked, other), []error{other}},
		{other, []error{other}},
	} {
		got := withoutRevoked(c.in)
		if len(c.want) == 0 {
			if got != nil {
				t.Errorf("withoutRevoked(%v) = %v, want nil", c.in, got)
			}
			continue
		}
		if got == nil || errors.Is(got, ErrSessionRevoked) || !errors.Is(got, c.want[0]) {
			t.Errorf("withoutRevoked(%v) = %v, want %v", c.in, got, c.want)
		}
	}
}
