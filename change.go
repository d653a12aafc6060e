package sessions

import (
	"fmt"
	"hash/maphash"
	"time"

	"github.com/fasthttp-sessions/sessions/internal/compact"
	"github.com/gorilla/securecookie"
)

// Write only what changed.
//
// A store remembers, for each session it loads or writes, a 128-bit hash of
// the session's serialization (its values with their meta entry, in the
// compact format, whose maps are sorted, so that map order cannot make an
// unchanged session look changed), its Options, and when it was last
// written. A Save of a session whose serialization and Options are the
// same writes nothing and sends no cookie, unless its expiry is due for a
// refresh (see refreshDue). The hash is keyed with seeds drawn at start-up,
// so no one can make two different sessions collide on purpose.

var snapshotSeeds = [2]maphash.Seed{maphash.MakeSeed(), maphash.MakeSeed()}

// snapshot is what a store remembers of a session it loaded or wrote.
type snapshot struct {
	ok   bool // loaded or written: the rest is set
	sum  [2]uint64
	opts Options
	// written is when the session's token was last signed (Unix seconds):
	// the signed date of a CookieStore cookie, or of a server-side
	// session's ID cookie or header token, which a Save that only rewrites
	// the record does not sign anew. A refresh is due by its age.
	written int64
	// recordSaved is when a server-side record was last rewritten (its
	// signed date), which a refresh by Toucher.Touch does not change.
	recordSaved int64
	// rewrite asks the next Save to write even an unchanged session: it
	// was read with a retired key, or from a record not bound to its ID.
	rewrite bool
}

func snapshotSum(b []byte) [2]uint64 {
	return [2]uint64{maphash.Bytes(snapshotSeeds[0], b), maphash.Bytes(snapshotSeeds[1], b)}
}

// serializeValues appends the serialization of session's values, with its
// meta entry, to dst: what a store compares to know whether they changed,
// and, for a *Codec on the compact format, what it seals. A value the
// application stored under the reserved metaKey is refused: it would be
// read back as the session's settings.
func serializeValues(dst []byte, session *Session, opts, storeOpts *Options) ([]byte, error) {
	if _, ok := session.Values[metaKey]; ok {
		return dst, fmt.Errorf("%w: the key %q is reserved", ErrSerialize, metaKey)
	}
	meta := putMeta(session, opts, storeOpts)
	dst, err := compact.Append(dst, session.Values)
	if meta {
		delete(session.Values, metaKey)
	}
	return dst, err
}

// compactFirst returns codecs[0] when it is a *Codec on the compact format:
// then what serializeValues returns is what the codec seals.
func compactFirst(codecs []securecookie.Codec) *Codec {
	if len(codecs) > 0 {
		if c, ok := codecs[0].(*Codec); ok {
			if _, compact := c.sz.(CompactSerializer); compact {
				return c
			}
		}
	}
	return nil
}

// sealValues appends the encoding of session's values, with their meta
// entry, signed under name, to dst: what both the cookie and a server-side
// record hold. plain is their serialization by serializeValues, which
// refused a value under the reserved metaKey.
func sealValues(codecs []securecookie.Codec, dst []byte, name string, plain []byte, session *Session, opts, storeOpts *Options) ([]byte, error) {
	if c := compactFirst(codecs); c != nil {
		return c.sealPlain(dst, name, plain)
	}
	meta := putMeta(session, opts, storeOpts)
	dst, err := encodeFirst(codecs, dst, name, session.Values)
	if meta {
		delete(session.Values, metaKey)
	}
	return dst, err
}

// remember records that session was loaded or written as plain (its
// serialization) with opts, at written.
func (s *Session) remember(plain []byte, opts *Options, written int64) {
	s.snap.ok, s.snap.sum, s.snap.opts, s.snap.written, s.snap.rewrite = true, snapshotSum(plain), *opts, written, false
}

// unchanged reports whether session, serialized as plain, and opts are
// what it was loaded or last written with.
func (s *Session) unchanged(plain []byte, opts *Options) bool {
	return s.snap.ok && !s.snap.rewrite && s.snap.opts == *opts && s.snap.sum == snapshotSum(plain)
}

// refreshDue reports whether a Save of an unchanged session at now must
// refresh its expiry anyway: when the age of its token (snapshot.written)
// has reached refreshAfter (RefreshAfter of its store) or, when that is
// zero, a tenth of window, the shortest of its sliding lifetimes (see
// slidingWindow). A negative refreshAfter refreshes on every Save.
func (s *Session) refreshDue(refreshAfter, window time.Duration, now time.Time) bool {
	switch {
	case refreshAfter < 0:
		return true
	case refreshAfter == 0 && window <= 0:
		return false // nothing slides: nothing to refresh
	case refreshAfter == 0:
		refreshAfter = window / 10
	case window > 0:
		refreshAfter = min(refreshAfter, window/2)
	}
	return now.Sub(time.Unix(s.snap.written, 0)) >= refreshAfter
}

// slidingWindow is the shortest of the lifetimes that a write of a session
// with options o restarts: its MaxAge (or, for a server-side record of a
// browser-session cookie, browserTTL), its IdleTimeout, and codecAge, the
// age past which its store's codecs refuse what they signed. Zero for
// none.
func slidingWindow(o *Options, browserTTL, codecAge time.Duration) time.Duration {
	var w time.Duration
	for _, d := range []time.Duration{
		time.Duration(min(o.MaxAge, maxCookieAge)) * time.Second,
		browserTTL, o.IdleTimeout, codecAge,
	} {
		if d > 0 && (w == 0 || d < w) {
			w = d
		}
	}
	return w
}

// codecMaxAge is the MaxAge of the store's first codec, or 0 when it is not
// a *Codec or has none.
func codecMaxAge(codecs []securecookie.Codec) time.Duration {
	if len(codecs) > 0 {
		if c, ok := codecs[0].(*Codec); ok && c.maxAge > 0 {
			return time.Duration(c.maxAge) * time.Second
		}
	}
	return 0
}
