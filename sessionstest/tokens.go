package sessionstest

import (
	"strings"
	"time"

	"github.com/valyala/fasthttp"
)

// The tests of this file drive a server-side store in token mode
// (ServerStore.TokenHeader) with a client that keeps no cookies, as an API
// or mobile client does.

const tokenHeader = "X-Session-Token"

// tokenClient sends its token in a header, keeps the one each response
// carries ("" when a response says "deleted"), and never sends a cookie
// unless told to.
type tokenClient struct {
	e      *env
	hc     *fasthttp.HostClient
	auth   bool // Authorization: Bearer, instead of tokenHeader
	token  string
	cookie string // a cookie to send as well, under the session's name
	// sawHeader and sawCookie tell what the last response carried.
	sawHeader, sawCookie bool
}

func (e *env) tokenClient(auth bool) *tokenClient {
	return &tokenClient{e: e, hc: e.srv.HostClient(1), auth: auth}
}

// get sends path and checks the body as env.get does.
func (c *tokenClient) get(path string, want ...string) string {
	c.e.t.Helper()
	req, resp := fasthttp.AcquireRequest(), fasthttp.AcquireResponse()
	defer fasthttp.ReleaseRequest(req)
	defer fasthttp.ReleaseResponse(resp)
	req.SetRequestURI("http://test" + path)
	name := tokenHeader
	if c.auth {
		name = fasthttp.HeaderAuthorization
	}
	if c.token != "" {
		v := c.token
		if c.auth {
			v = "Bearer " + v
		}
		req.Header.Set(name, v)
	}
	if c.cookie != "" {
		req.Header.SetCookie(cookieName, c.cookie)
	}
	if err := c.hc.DoTimeout(req, resp, 30*time.Second); err != nil {
		c.e.t.Fatalf("GET %s: %v", path, err)
	}
	c.sawHeader = false
	if vs := resp.Header.PeekAll(name); len(vs) > 0 {
		c.sawHeader = true
		v := string(vs[len(vs)-1])
		if c.auth {
			v = strings.TrimPrefix(v, "Bearer ")
		}
		c.token = v
	}
	c.sawCookie = len(resp.Header.PeekCookie(cookieName)) > 0
	body := string(resp.Body())
	if resp.StatusCode() != fasthttp.StatusOK {
		c.e.t.Fatalf("GET %s: status %d: %s", path, resp.StatusCode(), body)
	}
	for _, w := range want {
		k, v, _ := strings.Cut(w, "=")
		if got := field(body, k); got != v {
			c.e.t.Fatalf("GET %s: %s=%q, want %q\nbody: %s", path, k, got, v, body)
		}
	}
	return body
}

// testTokens: login, renewal (the client picks up the new token), logout,
// replay of a revoked token, a tampered token, and a token sent as a cookie
// to a store that takes tokens only.
func testTokens(e *env) {
	for _, auth := range []bool{false, true} {
		ss := e.serverStore()
		ss.TokenHeader, ss.TokenOnly = tokenHeader, true
		if auth {
			ss.TokenHeader = fasthttp.HeaderAuthorization
		}
		c := e.tokenClient(auth)
		e.get(e.client(), "/") // a browser: no cookie is set in token mode either
		c.get("/set?user=alice", "new=true", "save=nil")
		if c.token == "" || c.sawCookie {
			e.t.Fatalf("first save: token %q, cookie sent %v", c.token, c.sawCookie)
		}
		first := c.token
		c.get("/", "new=false", "values={user:string=alice}")
		c.get("/renew", "save=nil")
		if c.token == first || c.token == "" {
			e.t.Fatal("a renewal did not send a new token")
		}
		renewed := c.token
		c.get("/", "new=false", "values={user:string=alice}")

		stale := e.tokenClient(auth)
		stale.token = first
		stale.get("/", "new=true", "values={}", "get=nil")

		tampered := e.tokenClient(auth)
		b := []byte(renewed)
		b[len(b)/2] ^= 1
		tampered.token = string(b)
		tampered.get("/", "new=true", "get=invalid")
		if !tampered.sawHeader || tampered.token != "" {
			e.t.Fatalf("a refused token: the response did not say deleted (%v, %q)", tampered.sawHeader, tampered.token)
		}

		asCookie := e.tokenClient(auth)
		asCookie.cookie = renewed
		asCookie.get("/", "new=true", "get=nil", "values={}")

		c.get("/logout", "save=nil")
		if !c.sawHeader || c.token != "" {
			e.t.Fatalf("logout: header sent %v, token %q; want an empty token", c.sawHeader, c.token)
		}
		replay := e.tokenClient(auth)
		replay.token = renewed
		replay.get("/", "new=true", "values={}")
	}
}

// testTokensAndCookies: a store that takes both answers each client in
// the form it used, and a new session in both; the header wins over a
// cookie.
func testTokensAndCookies(e *env) {
	ss := e.serverStore()
	ss.TokenHeader, ss.TokenOnly = tokenHeader, false
	ss.RefreshAfter = -1 // every Save answers: in which form?
	api := e.tokenClient(false)
	api.get("/set?who=api", "new=true")
	if api.token == "" || !api.sawCookie {
		e.t.Fatalf("a new session: token %q, cookie %v; want both", api.token, api.sawCookie)
	}
	api.get("/set?n=1", "new=false")
	if !api.sawHeader || api.sawCookie {
		e.t.Fatalf("a session that came with a header: answered with header %v, cookie %v", api.sawHeader, api.sawCookie)
	}
	browser := e.client()
	e.get(browser, "/set?who=browser", "new=true")
	e.get(browser, "/set?n=2", "new=false", "values={n:string=2,who:string=browser}")
	if browser.SetCookie(cookieName) == "" {
		e.t.Fatal("a session that came with a cookie was not answered with one")
	}
	// Both: the header wins.
	both := e.tokenClient(false)
	both.token, both.cookie = api.token, browser.Jar[cookieName]
	both.get("/", "new=false", "values={n:string=1,who:string=api}")
}
