package sessions

import (
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/valyala/fasthttp"
)

// Options are the attributes of a session cookie and, for server-side
// stores, the lifetime of the record behind it.
//
// Every store holds default Options and copies them into each session it
// creates, so changing session.Options (for example a longer MaxAge when the
// user ticks "remember me") affects that session only. The zero value is a
// browser-session cookie with no Path, Domain or other attributes.
//
// An Options value is not safe for concurrent modification; stores only read
// theirs, so configure a store's Options before serving requests.
type Options struct {
	// Path is the cookie's Path attribute. Empty writes none, which makes
	// the browser use the directory of the request URL; the stores' default
	// is "/".
	Path string

	// Domain is the cookie's Domain attribute. Empty writes none: the cookie
	// is sent to the exact host that set it only.
	Domain string

	// MaxAge is the lifetime of the cookie in seconds.
	//
	// MaxAge > 0 makes a persistent cookie that the browser keeps for that
	// many seconds (Max-Age and Expires are both written).
	//
	// MaxAge == 0 makes a browser-session cookie: neither Max-Age nor
	// Expires is written and the browser drops the cookie when it closes.
	// Server-side stores keep the record (gorilla/sessions deletes it, which
	// loses the data of every browser-session cookie; this package does not).
	//
	// MaxAge < 0 deletes the session now: Save sends a cookie with
	// Max-Age=0 and an Expires in the past, and server-side stores remove
	// the record.
	//
	// A store's MaxAge method also sets its codecs' MaxAge (as in
	// gorilla/sessions), which rejects any cookie or record signed longer
	// ago than that: the store's MaxAge is the upper bound of every
	// session's lifetime. Give the store the longest MaxAge any session may
	// have (the default, 30 days, suits "remember me") and shorter ones, or
	// 0, to the sessions that need them.
	//
	// Save refuses a MaxAge above about 292 years (the most a
	// time.Duration holds) with an error wrapping ErrInvalidOptions.
	// Browsers cap a cookie's lifetime themselves (Chromium at 400 days).
	MaxAge int

	// Secure restricts the cookie to HTTPS. Required by names that start
	// with "__Secure-", "__Host-", "__Http-" or "__Host-Http-", by
	// SameSite=None and by Partitioned.
	Secure bool

	// HttpOnly hides the cookie from JavaScript (document.cookie).
	// Required by names that start with "__Http-" or "__Host-Http-".
	HttpOnly bool

	// Partitioned sets the CHIPS Partitioned attribute. It requires Secure
	// and Path "/": Save reports an error rather than rewriting the path, as
	// fasthttp's Cookie.SetPartitioned would do silently.
	Partitioned bool

	// SameSite is the cookie's SameSite attribute.
	// fasthttp.CookieSameSiteDisabled (the zero value) writes none,
	// fasthttp.CookieSameSiteDefaultMode writes a bare "SameSite", and
	// fasthttp.CookieSameSiteNoneMode requires Secure.
	SameSite fasthttp.CookieSameSite

	// IdleTimeout expires a session that has not been saved for this long,
	// whatever MaxAge says: a stolen or forgotten session dies when it is
	// not used. Zero means no idle timeout. Every Save that writes
	// restarts it: a Save of a changed session, and of an unchanged one
	// once its expiry is due for a refresh (see the stores' RefreshAfter),
	// so a session in use ends between nine tenths of IdleTimeout and
	// IdleTimeout after its last request by default. The cookie store
	// judges it by the signed date of the cookie, server-side stores by
	// their record's expiry, which is never later than the idle deadline.
	IdleTimeout time.Duration

	// AbsoluteTimeout expires a session this long after its first Save,
	// however much it is used. Zero means none. The creation time travels
	// with the session's values (as MaxAge, IdleTimeout and AbsoluteTimeout
	// do, see below), so it holds for cookie sessions as well as
	// server-side ones, and it survives RenewID.
	AbsoluteTimeout time.Duration

	// MaxAge, IdleTimeout and AbsoluteTimeout are remembered per session:
	// when a session's differ from its store's, they are saved with its
	// values and restored when it is loaded. So "remember me" is one
	// assignment at login, for example MaxAge 30 days and IdleTimeout 7
	// days, and later requests keep it without setting it again. The
	// other attributes (Path, Domain, Secure, ...) always come from the
	// store. A session expires at the earliest of its limits: the cookie's
	// MaxAge (the browser drops it), the idle timeout and the absolute
	// lifetime (the store refuses it).
}

// defaultOptions are the Options of every store created by this package:
// a persistent cookie for 30 days, on every path, hidden from scripts, sent
// on top-level cross-site navigations but not on cross-site subrequests.
//
// gorilla/sessions v1.4.0 defaults to SameSite=None with Secure, which
// browsers drop on plain-HTTP development servers; Lax without Secure works
// on http://localhost and is the right production setting together with
// Secure.
func defaultOptions() *Options {
	return &Options{
		Path:     "/",
		MaxAge:   defaultMaxAge,
		HttpOnly: true,
		SameSite: fasthttp.CookieSameSiteLaxMode,
	}
}

// defaultMaxAge is 30 days, in seconds, as in gorilla/sessions.
const defaultMaxAge = 86400 * 30

// maxCookieAge is the largest MaxAge, in seconds, that Save accepts: about
// 292 years, the most a time.Duration holds (on 32-bit platforms, the most
// an int holds, about 68 years). A larger one would overflow into an
// Expires of "now" and a record TTL of a second.
const maxCookieAge = int(min(math.MaxInt64/int64(time.Second), math.MaxInt))

// validName reports whether name is a non-empty HTTP token (RFC 9110
// section 5.6.2), the only form a cookie name may take.
func validName(name string) bool {
	return name != "" && !strings.ContainsFunc(name, notTokenChar)
}

func notTokenChar(r rune) bool {
	switch {
	case 'a' <= r && r <= 'z', 'A' <= r && r <= 'Z', '0' <= r && r <= '9':
		return false
	}
	return !strings.ContainsRune("!#$%&'*+-.^_`|~", r)
}

// errInvalidName is the error of a cookie name that is not an HTTP token.
func errInvalidName(name string) error {
	return fmt.Errorf("%w: %q is not an HTTP token", ErrInvalidName, name)
}

// validAttr reports whether v can be written as a cookie attribute value:
// no control characters and no ';', so that it cannot end the attribute
// early or inject another one.
func validAttr(v string) bool {
	for i := 0; i < len(v); i++ {
		if c := v[i]; c < 0x20 || c == 0x7f || c == ';' {
			return false
		}
	}
	return true
}

// checkCookie returns an error wrapping ErrInvalidName or ErrInvalidOptions
// when a cookie with this name and these options cannot be written as asked,
// or would be dropped by browsers. The prefix rules are those of RFC 6265bis
// and of Chromium, which also enforces "__Http-" and "__Host-Http-".
func checkCookie(name string, o *Options) error {
	if !validName(name) {
		return errInvalidName(name)
	}
	// prefix is the name's prefix, as the rule errors spell it; browsers
	// match the prefixes ignoring case.
	var prefix string
	if strings.HasPrefix(name, "__") {
		for _, p := range [...]string{"__Host-Http-", "__Host-", "__Http-", "__Secure-"} {
			if len(name) >= len(p) && strings.EqualFold(name[:len(p)], p) {
				prefix = p
				break
			}
		}
	}
	host := strings.HasPrefix(prefix, "__Host-")
	httpOnly := strings.HasSuffix(prefix, "Http-")
	var rule string
	switch {
	case !validAttr(o.Path):
		rule = "Path contains ';' or a control character"
	case !validAttr(o.Domain):
		rule = "Domain contains ';' or a control character"
	case o.MaxAge > maxCookieAge:
		rule = fmt.Sprintf("MaxAge %d is more than %d seconds (292 years)", o.MaxAge, maxCookieAge)
	case o.Partitioned && o.Path != "/":
		rule = `Partitioned requires Path "/"`
	case o.Partitioned && !o.Secure:
		rule = "Partitioned requires Secure"
	case o.SameSite == fasthttp.CookieSameSiteNoneMode && !o.Secure:
		rule = "SameSite=None requires Secure"
	case prefix != "" && !o.Secure:
		rule = "the " + prefix + " prefix requires Secure"
	case host && o.Path != "/":
		rule = "the " + prefix + ` prefix requires Path "/"`
	case host && o.Domain != "":
		rule = "the " + prefix + " prefix forbids Domain"
	case httpOnly && !o.HttpOnly:
		rule = "the " + prefix + " prefix requires HttpOnly"
	default:
		return nil
	}
	return fmt.Errorf("%w: cookie %q: %s", ErrInvalidOptions, name, rule)
}
