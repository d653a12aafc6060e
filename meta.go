package sessions

import (
	"encoding/base64"
	"strconv"
	"strings"
	"time"

	"github.com/gorilla/securecookie"
)

// metaKey is the reserved Values key under which a session's own settings
// travel with its values, so that they outlive the request that set them:
// its MaxAge, IdleTimeout and AbsoluteTimeout when they differ from the
// store's ("remember me": a session given MaxAge 30 days at login keeps it
// on every later Save, where gorilla/sessions falls back to the store's
// MaxAge), its creation time when it has an absolute lifetime, and, for a
// server-side session that was renewed, the ID it was renewed from (so
// that its logout also removes the forwarding marker of that ID).
//
// The entry is added while the values are encoded and removed when they are
// decoded: callers never see it in Values. A session with the store's
// settings and no absolute lifetime carries no entry, so its encoding is
// what gorilla/sessions writes.
const metaKey = "_sessions_meta"

// putMeta adds the metaKey entry to s.Values when s has settings of its own
// to keep, and reports whether it did; the caller removes it after encoding.
func putMeta(s *Session, opts, storeOpts *Options) bool {
	// On the stack unless a long user key or User-Agent outgrows it: this
	// runs on every Save, which serializes the values to compare them.
	b := make([]byte, 0, 256)
	if opts.MaxAge >= 0 && opts.MaxAge != storeOpts.MaxAge {
		b = strconv.AppendInt(append(b, " maxage="...), int64(opts.MaxAge), 10)
	}
	if opts.IdleTimeout != storeOpts.IdleTimeout {
		b = strconv.AppendInt(append(b, " idle="...), int64(opts.IdleTimeout), 10)
	}
	if opts.AbsoluteTimeout != storeOpts.AbsoluteTimeout {
		b = strconv.AppendInt(append(b, " abs="...), int64(opts.AbsoluteTimeout), 10)
	}
	if s.created != 0 && (opts.AbsoluteTimeout > 0 || s.user != "") {
		b = strconv.AppendInt(append(b, " created="...), s.created, 10)
	}
	if s.from != "" {
		b = append(append(b, " from="...), s.from...)
	}
	if s.user != "" {
		b = base64.RawURLEncoding.AppendEncode(append(b, " user="...), []byte(s.user))
		if s.agent != "" {
			b = base64.RawURLEncoding.AppendEncode(append(b, " ua="...), []byte(s.agent))
		}
	}
	if len(b) == 0 {
		return false
	}
	s.Values[metaKey] = string(b[1:])
	return true
}

// takeMeta removes the metaKey entry from s.Values and applies it to s.
// Unknown or malformed fields are ignored.
func takeMeta(s *Session) {
	v, ok := s.Values[metaKey]
	if !ok {
		return
	}
	delete(s.Values, metaKey)
	str, _ := v.(string)
	var buf [256]byte // the decoded user key or User-Agent, on the stack
	for field := range strings.FieldsSeq(str) {
		k, val, _ := strings.Cut(field, "=")
		switch k {
		case "from":
			if validID(val) {
				s.from = val
			}
			continue
		case "user", "ua":
			if b, err := base64.RawURLEncoding.AppendDecode(buf[:0], []byte(val)); err == nil && k == "user" {
				s.user = string(b)
			} else if err == nil {
				s.agent = string(b)
			}
			continue
		}
		n, err := strconv.ParseInt(val, 10, 64)
		if err != nil || n < 0 {
			continue
		}
		switch k {
		case "maxage":
			// A 64-bit server may have written more than an int holds
			// here: the largest MaxAge, rather than a wrapped one.
			s.Options.MaxAge = int(min(n, int64(maxCookieAge)))
		case "idle":
			s.Options.IdleTimeout = time.Duration(n)
		case "abs":
			s.Options.AbsoluteTimeout = time.Duration(n)
		case "created":
			s.created = n
		}
	}
}

// timeoutDeadline returns when a session last saved at saved (Unix
// seconds) expires by its own MaxAge, idle timeout and absolute lifetime,
// or the zero time when it has none of them. The signed save time bounds
// them whatever the browser does with the cookie.
func timeoutDeadline(s *Session, saved int64) time.Time {
	var d time.Time
	if m := s.Options.MaxAge; m > 0 {
		d = time.Unix(saved, 0).Add(time.Duration(m) * time.Second)
	}
	if t := s.Options.IdleTimeout; t > 0 && (d.IsZero() || time.Unix(saved, 0).Add(t).Before(d)) {
		d = time.Unix(saved, 0).Add(t)
	}
	if a := absoluteDeadline(s); !a.IsZero() && (d.IsZero() || a.Before(d)) {
		d = a
	}
	return d
}

// absoluteDeadline returns when a session's absolute lifetime ends, or the
// zero time when it has none.
func absoluteDeadline(s *Session) time.Time {
	if t := s.Options.AbsoluteTimeout; t > 0 && s.created != 0 {
		return time.Unix(s.created, 0).Add(t)
	}
	return time.Time{}
}

// markCreated dates a session's creation at its first Save (for a session
// with an absolute lifetime), or at the Save that binds it to a user.
func markCreated(s *Session, opts *Options, now time.Time) {
	if s.created == 0 && (opts.AbsoluteTimeout > 0 || s.user != "") {
		s.created = now.Unix()
	}
}

// decodeValues decodes data, signed under name, into session's values and
// settings, remembers what it decoded (see snapshot), and returns when it
// was saved (Unix seconds). On error the caller must call session.afresh:
// the values may be partly decoded (but see compact.DroppedError: then the
// rest of them is usable).
func decodeValues(codecs []securecookie.Codec, name string, data []byte, session *Session, storeOpts *Options) (int64, error) {
	saved, plain, at, err := decodePlain(codecs, name, data, &session.Values)
	if err != nil && !isDropped(err) {
		return 0, err
	}
	if session.Values == nil {
		session.Values = make(map[any]any)
	}
	takeMeta(session)
	if compactFirst(codecs[at:]) == nil || plain == nil {
		// The codec's bytes are not the compact serialization the stores
		// compare: serialize what was decoded instead.
		b := getBuffer()
		plain, _ = serializeValues(b.B[:0], session, session.Options, storeOpts)
		defer putBuffer(b)
	}
	session.remember(plain, session.Options, saved)
	session.snap.recordSaved = saved
	// Re-encode with the first codec what another one (a retired key)
	// decoded.
	session.snap.rewrite = at > 0
	return saved, err
}
