package sessions

import (
	"errors"
	"strconv"
	"time"

	"github.com/valyala/fasthttp"
)

// deletionFor returns the Options of the deletion cookie (a copy of opts
// with MaxAge -1) that answers a request whose cookie (or token) for name
// New refused with err: tampered with, signed with a retired key, expired,
// too long. The client then stops sending it, and a Save of a new session
// replaces it. It returns nil when err says nothing against the cookie (a
// backend failure, a misconfigured store, values of a record that no
// longer decode), or when opts cannot write a cookie called name.
func deletionFor(name string, opts *Options, err error) *Options {
	refused := errors.Is(err, ErrCookieInvalid) || errors.Is(err, ErrCookieExpired) || errors.Is(err, ErrCookieTooLong)
	if !refused || isDropped(err) || errors.Is(err, ErrInvalidKey) {
		return nil
	}
	del := *opts
	del.MaxAge = -1
	if checkCookie(name, &del) != nil {
		return nil
	}
	return &del
}

// expiredDate is the Expires written on a deletion cookie, as net/http and
// gorilla/sessions write it.
var expiredDate = time.Unix(1, 0).UTC()

// appendSetCookie appends the value of a Set-Cookie header for a session
// cookie to dst. A negative MaxAge writes a deletion cookie with an empty
// value, Max-Age=0 and an Expires in the past. The options must have passed
// checkCookie.
func appendSetCookie(dst []byte, name string, value []byte, o *Options, now time.Time) []byte {
	dst = append(dst, name...)
	dst = append(dst, '=')
	if o.MaxAge >= 0 {
		dst = append(dst, value...)
	}
	if o.Path != "" {
		dst = append(dst, "; Path="...)
		dst = append(dst, o.Path...)
	}
	if o.Domain != "" {
		dst = append(dst, "; Domain="...)
		dst = append(dst, o.Domain...)
	}
	switch {
	case o.MaxAge > 0:
		dst = append(dst, "; Max-Age="...)
		dst = strconv.AppendInt(dst, int64(o.MaxAge), 10)
		dst = append(dst, "; Expires="...)
		dst = fasthttp.AppendHTTPDate(dst, now.Add(time.Duration(o.MaxAge)*time.Second))
	case o.MaxAge < 0:
		dst = append(dst, "; Max-Age=0; Expires="...)
		dst = fasthttp.AppendHTTPDate(dst, expiredDate)
	}
	if o.HttpOnly {
		dst = append(dst, "; HttpOnly"...)
	}
	if o.Secure {
		dst = append(dst, "; Secure"...)
	}
	switch o.SameSite {
	case fasthttp.CookieSameSiteDefaultMode:
		dst = append(dst, "; SameSite"...)
	case fasthttp.CookieSameSiteLaxMode:
		dst = append(dst, "; SameSite=Lax"...)
	case fasthttp.CookieSameSiteStrictMode:
		dst = append(dst, "; SameSite=Strict"...)
	case fasthttp.CookieSameSiteNoneMode:
		dst = append(dst, "; SameSite=None"...)
	}
	if o.Partitioned {
		dst = append(dst, "; Partitioned"...)
	}
	return dst
}

// setCookie replaces any Set-Cookie for name in the response with one built
// from value and o. It writes the header itself rather than through
// fasthttp.Cookie so that a deletion cookie carries both Max-Age=0 and an
// Expires in the past, and so that no attribute is rewritten silently.
func setCookie(ctx *fasthttp.RequestCtx, name string, value []byte, o *Options, now time.Time) {
	b := getBuffer()
	b.B = appendSetCookie(b.B[:0], name, value, o, now)
	ctx.Response.Header.DelCookie(name)
	ctx.Response.Header.SetBytesV(fasthttp.HeaderSetCookie, b.B)
	putBuffer(b)
}
