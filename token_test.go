package sessions

import (
	"errors"
	"fmt"
	"testing"

	"github.com/valyala/fasthttp"
)

// A TokenHeader that is no HTTP token, or one that HTTP itself uses, is
// refused by every Get and Save; so is TokenOnly without a header.
func TestTokenHeaderRefused(t *testing.T) {
	for _, c := range []struct {
		header string
		only   bool
	}{{"X Session", false}, {"X-Token\r\nX: y", false}, {"", true}, {"Set-Cookie", false}, {"cookie", true}} {
		store := NewMemoryStore(testHash, testBlock)
		store.TokenHeader, store.TokenOnly = c.header, c.only
		var ctx fasthttp.RequestCtx
		ctx.Init(&fasthttp.Request{}, nil, nil)
		s, getErr := store.New(&ctx, "sid")
		s.Values["a"] = 1
		saveErr := s.Save(&ctx)
		if !errors.Is(getErr, ErrInvalidOptions) || !errors.Is(saveErr, ErrInvalidOptions) {
			t.Errorf("TokenHeader %q, TokenOnly %v: Get %v, Save %v", c.header, c.only, getErr, saveErr)
		}
	}
}

// CookieStore takes no tokens from headers: its whole session would travel
// in the header, and an API client that wants stateless tokens is better
// served by a server-side store in token mode. A cookie value sent in a
// header is not read.
func TestCookieStoreIgnoresTokenHeaders(t *testing.T) {
	store := NewCookieStore(testHash, testBlock)
	_, cookie := saveNewCookie(t, store, "alice")
	ts := newTestServer(t, func(ctx *fasthttp.RequestCtx) {
		s, err := store.Get(ctx, "sid")
		fmt.Fprintf(ctx, "new=%v err=%v", s.IsNew, err)
	})
	hc := ts.HostClient(1)
	for _, h := range []string{"X-Session-Token", fasthttp.HeaderAuthorization} {
		req, resp := fasthttp.AcquireRequest(), fasthttp.AcquireResponse()
		req.SetRequestURI("http://test/")
		v := cookie
		if h == fasthttp.HeaderAuthorization {
			v = "Bearer " + v
		}
		req.Header.Set(h, v)
		if err := hc.Do(req, resp); err != nil {
			t.Fatal(err)
		}
		if got := string(resp.Body()); got != "new=true err=<nil>" {
			t.Errorf("%s: %s", h, got)
		}
		fasthttp.ReleaseRequest(req)
		fasthttp.ReleaseResponse(resp)
	}
}
