package sessions

import (
	"bytes"
	"cmp"
	"crypto/aes"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/fasthttp-sessions/sessions/internal/compact"
	"github.com/gorilla/securecookie"
)

// The stores hold []securecookie.Codec, as gorilla/sessions does, so that
// any codec may go there. *Codec takes the fast paths; any other codec must
// write securecookie's format, whose signed date the stores read.

// encodeFirst encodes value with codecs[0] and appends the result to dst.
func encodeFirst(codecs []securecookie.Codec, dst []byte, name string, value any) ([]byte, error) {
	if len(codecs) == 0 {
		return dst, errNoCodecs
	}
	switch c := codecs[0].(type) {
	case nil:
		return dst, errNilCodec
	case *Codec:
		return c.appendEncode(dst, name, value)
	default:
		s, err := c.Encode(name, value)
		if err != nil {
			return dst, classifyError(err, true)
		}
		return append(dst, s...), nil
	}
}

// decodeAny decodes value with each codec in turn and returns the signed
// date from the first that succeeds, or that left out values it could not
// decode (with its *compact.DroppedError). When all fail it returns 0 and the
// most telling error: expired (the value was genuine), else a configuration
// error, else too long, else invalid.
func decodeAny(codecs []securecookie.Codec, name string, value []byte, dst any) (ts int64, err error) {
	ts, _, _, err = decodePlain(codecs, name, value, dst)
	return ts, err
}

// decodePlain is decodeAny that also returns the serialized value, when
// a *Codec decoded it (nil otherwise; the caller must not modify it), and
// the index of the codec that did.
func decodePlain(codecs []securecookie.Codec, name string, value []byte, dst any) (ts int64, plain []byte, at int, err error) {
	if len(codecs) == 0 {
		return 0, nil, 0, errNoCodecs
	}
	var best error
	for i, codec := range codecs {
		plain = nil
		switch c := codec.(type) {
		case nil:
			err = errNilCodec
		case *Codec:
			if plain, ts, err = c.openPlain(name, value); err == nil {
				err = c.deserialize(plain, dst)
			}
		default:
			err = c.Decode(name, string(value), dst) // it may keep the string
			if dv := asDropped(err); err != nil && dv == nil {
				err = classifyError(err, false)
			} else if ts = signedTimestamp(value); ts == 0 {
				err = undatedCodecError(i, c)
			} else if dv != nil {
				err = dv
			}
		}
		if _, dropped := err.(*compact.DroppedError); err == nil || dropped {
			return ts, plain, i, err
		}
		if best == nil || decodeErrorRank(err) > decodeErrorRank(best) {
			best = err
		}
	}
	return 0, nil, 0, best
}

func decodeErrorRank(err error) int {
	for i, s := range [...]error{ErrCookieExpired, ErrInvalidKey, ErrCookieTooLong} {
		if errors.Is(err, s) {
			return 3 - i
		}
	}
	return 0
}

// checkCodecs returns nil when every codec is usable, else an error
// wrapping ErrInvalidKey that names the first one that is not: nil, a
// *Codec with a bad key, or another codec that cannot encode and decode a
// probe value or whose values carry no date in securecookie's format. A
// codec that is not a *Codec costs a probe: call it at start-up.
func checkCodecs(codecs []securecookie.Codec) error { return checkCodecsProbe(codecs, true) }

// checkCodecsProbe is checkCodecs; without probe, it checks only what costs
// nothing (no codec, a nil one, a *Codec's keys), for every Get and Save.
func checkCodecsProbe(codecs []securecookie.Codec, probe bool) error {
	if len(codecs) == 0 {
		return errNoCodecs
	}
	for i, codec := range codecs {
		var err error
		switch c := codec.(type) {
		case nil:
			err = errNilCodec
		case *Codec:
			err = c.check()
		default:
			if !probe {
				continue
			}
			var s string
			if s, err = c.Encode("probe", map[any]any{}); err == nil && signedTimestamp([]byte(s)) == 0 {
				return undatedCodecError(i, c)
			} else if err == nil {
				if err = c.Decode("probe", s, new(map[any]any)); err != nil && errors.Is(classifyError(err, false), ErrCookieExpired) {
					err = nil // a negative MaxAge, but the codec reads its dates
				}
			}
		}
		if err != nil {
			msg := strings.TrimPrefix(strings.TrimPrefix(err.Error(), ErrInvalidKey.Error()+": "), "sessions: ")
			return &chainError{fmt.Sprintf("%v: codec %d (%T): %s", ErrInvalidKey, i, codec, msg), []error{ErrInvalidKey, err}}
		}
	}
	return nil
}

func undatedCodecError(i int, c securecookie.Codec) error {
	return fmt.Errorf("%w: codec %d (%T) does not write securecookie's format: its values carry no signed date", ErrInvalidKey, i, c)
}

// signedTimestamp returns the date of a value in securecookie's format
// (base64 of "date|value|mac"), or 0.
func signedTimestamp(value []byte) int64 {
	b, err := base64.URLEncoding.AppendDecode(nil, value)
	if i := bytes.IndexByte(b, '|'); err == nil && i > 0 && bytes.Count(b, []byte("|")) >= 2 {
		if ts, err := strconv.ParseUint(string(b[:i]), 10, 63); err == nil {
			return int64(ts)
		}
	}
	return 0
}

// asDropped returns the *compact.DroppedError in err's chain, if any, also
// behind a securecookie error (which has Cause, not Unwrap).
func asDropped(err error) *compact.DroppedError {
	var dv *compact.DroppedError
	var se securecookie.Error
	if errors.As(err, &dv) || errors.As(err, &se) && errors.As(se.Cause(), &dv) {
		return dv
	}
	return nil
}

// classifyError maps an error of another codec's Encode (encoding) or
// Decode to this package's sentinels. securecookie's "expired timestamp"
// is unexported and its "the value is too long" is a plain string error.
func classifyError(err error, encoding bool) error {
	sentinel := ErrCookieInvalid
	if encoding {
		sentinel = ErrSerialize
	}
	for _, s := range [...]error{ErrCookieExpired, ErrCookieTooLong, ErrInvalidKey, sentinel} {
		if errors.Is(err, s) {
			return sentinelError(s, err)
		}
	}
	var se securecookie.Error
	var kse aes.KeySizeError
	switch msg := err.Error(); {
	case strings.HasPrefix(msg, "securecookie: expired timestamp"):
		sentinel = ErrCookieExpired
	case strings.HasPrefix(msg, "securecookie: the value is too long"):
		sentinel = ErrCookieTooLong
	case errors.As(err, &se) && se.IsUsage() &&
		(!encoding || strings.HasSuffix(msg, "key is not set") || errors.As(se.Cause(), &kse)):
		sentinel = ErrInvalidKey // securecookie's configuration errors
	}
	return sentinelError(sentinel, err)
}

// setCodecsMaxAge, setCodecsMaxLength, setCodecsClock and
// setCodecsSerializer configure the codecs they know: *Codec and
// *securecookie.SecureCookie (the clock: *Codec only, so that a store's
// injected clock drives its whole expiry). A nil serializer restores each
// one's default: CompactSerializer for *Codec, gob for securecookie.

func setCodecsMaxAge(codecs []securecookie.Codec, age int) {
	eachCodec(codecs, func(c *Codec) { c.MaxAge(age) }, func(c *securecookie.SecureCookie) { c.MaxAge(age) })
}

func setCodecsMaxLength(codecs []securecookie.Codec, l int) {
	eachCodec(codecs, func(c *Codec) { c.MaxLength(l) }, func(c *securecookie.SecureCookie) { c.MaxLength(l) })
}

func setCodecsClock(codecs []securecookie.Codec, now func() time.Time) {
	eachCodec(codecs, func(c *Codec) { c.setClock(now) }, func(*securecookie.SecureCookie) {})
}

func setCodecsSerializer(codecs []securecookie.Codec, sz securecookie.Serializer) {
	gob := cmp.Or(sz, securecookie.Serializer(securecookie.GobEncoder{}))
	eachCodec(codecs, func(c *Codec) { c.SetSerializer(sz) }, func(c *securecookie.SecureCookie) { c.SetSerializer(gob) })
}

func eachCodec(codecs []securecookie.Codec, codec func(*Codec), sc func(*securecookie.SecureCookie)) {
	for _, c := range codecs {
		switch c := c.(type) {
		case *Codec:
			codec(c)
		case *securecookie.SecureCookie:
			sc(c)
		}
	}
}
