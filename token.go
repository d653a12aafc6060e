package sessions

import (
	"bytes"
	"fmt"
	"strings"
	"time"

	"github.com/valyala/fasthttp"
)

// Tokens: the signed ID of a server-side session in a request header, for
// clients that keep no cookies (ServerStore.TokenHeader).

// bearer is the scheme of an Authorization header that carries a token.
const bearer = "Bearer "

// checkTokenHeader reports a TokenHeader that cannot carry a token.
func (s *ServerStore) checkTokenHeader() error {
	h := s.TokenHeader
	switch {
	case h == "" && s.TokenOnly:
		return fmt.Errorf("%w: TokenOnly needs a TokenHeader", ErrInvalidOptions)
	case h == "":
		return nil
	case !validName(h):
		return fmt.Errorf("%w: TokenHeader %q is not an HTTP token", ErrInvalidOptions, h)
	}
	for _, reserved := range []string{"Cookie", "Set-Cookie", "Host", "Content-Length", "Content-Type", "Transfer-Encoding", "Connection"} {
		if strings.EqualFold(h, reserved) {
			return fmt.Errorf("%w: TokenHeader %q is reserved for HTTP itself", ErrInvalidOptions, h)
		}
	}
	return nil
}

// requestToken returns what the request carries for the session named
// name, and where it came from: the token of the TokenHeader when there is
// one (it wins over a cookie: a client that sends it chose it, where a
// browser sends its cookies on its own), else the cookie, unless TokenOnly.
func (s *ServerStore) requestToken(ctx *fasthttp.RequestCtx, name string) (value []byte, from uint8, err error) {
	if !validName(name) {
		return nil, tokenNone, errInvalidName(name)
	}
	if s.TokenHeader != "" {
		v := ctx.Request.Header.Peek(s.TokenHeader)
		if strings.EqualFold(s.TokenHeader, fasthttp.HeaderAuthorization) {
			if len(v) <= len(bearer) || !bytes.EqualFold(v[:len(bearer)], []byte(bearer)) {
				v = nil
			} else {
				v = bytes.TrimSpace(v[len(bearer):])
			}
		}
		if len(v) > 0 || s.TokenOnly {
			return v, tokenHeader, nil
		}
	}
	return ctx.Request.Header.Cookie(name), tokenCookie, nil
}

// Where the token of a request came from.
const (
	tokenNone   uint8 = iota // none, or one that was refused
	tokenCookie              // the cookie
	tokenHeader              // the TokenHeader
)

// sendToken sends a session's new token: in the TokenHeader when the
// request's token came from it (or the store takes no cookies), in the
// cookie when it came from the cookie, and in both when the request had no
// usable token and the store takes both. A nil value sends what says
// "deleted": an empty header value, a deletion cookie (opts.MaxAge < 0).
func (s *ServerStore) sendToken(ctx *fasthttp.RequestCtx, name string, from uint8, value []byte, opts *Options, now time.Time) {
	if s.TokenHeader != "" && (s.TokenOnly || from != tokenCookie) {
		switch {
		case value == nil:
			ctx.Response.Header.Set(s.TokenHeader, "")
		case strings.EqualFold(s.TokenHeader, fasthttp.HeaderAuthorization):
			b := getBuffer()
			b.B = append(append(b.B[:0], bearer...), value...)
			ctx.Response.Header.SetBytesV(s.TokenHeader, b.B)
			putBuffer(b)
		default:
			ctx.Response.Header.SetBytesV(s.TokenHeader, value)
		}
	}
	if !s.TokenOnly && from != tokenHeader {
		setCookie(ctx, name, value, opts, now)
	}
}
