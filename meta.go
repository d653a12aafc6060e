package sessions

import (
	"strconv"
	"strings"
)

// metaKey is the reserved Values key under which a session's own settings
// travel with its values, so that they outlive the request that set them.
// Today that is its MaxAge when it differs from the store's ("remember me":
// a session given MaxAge 30 days at login keeps it on every later Save,
// where gorilla/sessions falls back to the store's MaxAge).
//
// The entry is added while the values are encoded and removed when they are
// decoded: callers never see it in Values. A session with the store's
// MaxAge carries no entry, so its encoding is what gorilla/sessions writes.
const metaKey = "_sessions_meta"

// putMeta adds the metaKey entry to s.Values when s has settings of its own
// to keep, and reports whether it did; the caller removes it after encoding.
func putMeta(s *Session, opts, storeOpts *Options) bool {
	if opts.MaxAge < 0 || opts.MaxAge == storeOpts.MaxAge {
		return false
	}
	s.Values[metaKey] = "maxage=" + strconv.Itoa(opts.MaxAge)
	return true
}

// takeMeta removes the metaKey entry from s.Values and applies it to
// s.Options. Unknown or malformed entries are ignored.
func takeMeta(s *Session) {
	v, ok := s.Values[metaKey]
	if !ok {
		return
	}
	delete(s.Values, metaKey)
	str, _ := v.(string)
	for field := range strings.FieldsSeq(str) {
		k, val, _ := strings.Cut(field, "=")
		if k == "maxage" {
			if n, err := strconv.Atoi(val); err == nil && n >= 0 {
				s.Options.MaxAge = n
			}
		}
	}
}
