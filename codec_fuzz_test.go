package sessions

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/securecookie"
)

// codecSignInner returns base64url(inner + "|" + HMAC(name|inner)): inner is
// meant to be "date|value", so the fuzzer reaches the code after the MAC
// check (timestamp, inner base64, decryption, deserialization).
func codecSignInner(hashKey []byte, name string, inner []byte) []byte {
	m := hmac.New(sha256.New, hashKey)
	m.Write([]byte(name))
	m.Write([]byte{'|'})
	m.Write(inner)
	b := append(bytes.Clone(inner), '|')
	return base64.URLEncoding.AppendEncode(nil, m.Sum(b))
}

// securecookie's error texts; "expired timestamp" is unexported and "the
// value is too long" is a plain string error.
const (
	scExpired = "securecookie: expired timestamp"
	scTooLong = "securecookie: the value is too long"
)

func checkCodecDecodeError(t *testing.T, what string, ts int64, err error) {
	t.Helper()
	if err == nil {
		return
	}
	if ts != 0 {
		t.Fatalf("%s: timestamp %d with error %v", what, ts, err)
	}
	if !strings.HasPrefix(err.Error(), "sessions: ") {
		t.Fatalf("%s: error %q lacks the prefix", what, err)
	}
	if !errors.Is(err, ErrCookieInvalid) && !errors.Is(err, ErrCookieExpired) && !errors.Is(err, ErrCookieTooLong) {
		t.Fatalf("%s: error %q wraps no decode sentinel", what, err)
	}
}

// codecSameVerdict compares Codec with securecookie on one input: both accept it
// with the same result or both reject it for the same class of reason. The
// exceptions are Codec's future-timestamp rule, which securecookie lacks,
// and the second in which the MaxAge boundary may pass between the calls.
func codecSameVerdict(t *testing.T, what string, ourErr error, ours []byte, refErr error, ref []byte) {
	t.Helper()
	if errors.Is(ourErr, errTimestampFuture) && refErr == nil {
		return
	}
	if (ourErr == nil) != (refErr == nil) {
		if errors.Is(ourErr, ErrCookieExpired) || (refErr != nil && strings.HasPrefix(refErr.Error(), scExpired)) {
			return
		}
		t.Fatalf("%s: Codec %v, securecookie %v", what, ourErr, refErr)
	}
	if ourErr == nil {
		if !bytes.Equal(ours, ref) {
			t.Fatalf("%s: Codec decoded %q, securecookie %q", what, ours, ref)
		}
		return
	}
	refExpired := strings.HasPrefix(refErr.Error(), scExpired)
	refTooLong := strings.HasPrefix(refErr.Error(), scTooLong)
	if errors.Is(ourErr, ErrCookieExpired) != refExpired || errors.Is(ourErr, ErrCookieTooLong) != refTooLong {
		t.Fatalf("%s: Codec %v, securecookie %v", what, ourErr, refErr)
	}
}

func FuzzCodecDecode(f *testing.F) {
	nop := securecookie.NopEncoder{}
	plain := NewCodec(codecHashKey, nil).SetSerializer(nop)
	enc := NewCodec(codecHashKey, codecBlockKey).SetSerializer(nop)
	compact := NewCodec(codecHashKey, codecBlockKey) // default serializer
	refPlain := securecookie.New(codecHashKey, nil).SetSerializer(nop)
	refEnc := securecookie.New(codecHashKey, codecBlockKey).SetSerializer(nop)
	mixed := []securecookie.Codec{enc, refPlain}

	// Seeds: valid values of every codec, their truncations and bit flips,
	// securecookie's, and garbage.
	var seeds [][]byte
	for _, c := range []*Codec{plain, enc} {
		for _, p := range []string{"", "v", "hello, world", strings.Repeat("abc", 60)} {
			b, _ := c.appendEncode(nil, "n", []byte(p))
			seeds = append(seeds, b, b[:len(b)/2], b[:len(b)-1], b[:len(b)-4])
			flipped := bytes.Clone(b)
			flipped[len(flipped)/3] ^= 0x20
			seeds = append(seeds, flipped)
		}
	}
	if b, err := compact.appendEncode(nil, "n", map[any]any{"user_id": "12345", "visits": 42}); err == nil {
		seeds = append(seeds, b)
	}
	for _, c := range []*securecookie.SecureCookie{refPlain, refEnc} {
		s, _ := c.Encode("n", []byte("from securecookie"))
		seeds = append(seeds, []byte(s))
	}
	now := strconv.FormatInt(time.Now().Unix(), 10)
	seeds = append(seeds,
		nil, []byte("|"), []byte("||"), []byte("===="), []byte("!!!!"), []byte("AAAA\nAAAA"),
		[]byte(base64.URLEncoding.EncodeToString([]byte("1|2|3"))),
		[]byte(now+"|"+base64.URLEncoding.EncodeToString([]byte("inner"))),
		[]byte(now+"|"+base64.URLEncoding.EncodeToString(make([]byte, 40))),
		[]byte("99999999999|dg=="), []byte("-1|dg=="), []byte("+0|"), []byte("1|***"),
		bytes.Repeat([]byte("A"), 4100),
	)
	for _, s := range seeds {
		f.Add("n", s)
	}
	f.Add("", []byte("fA=="))
	f.Add("a|b", []byte(now+"|dg=="))

	f.Fuzz(func(t *testing.T, name string, value []byte) {
		// 1. The input as an encoded value.
		for _, c := range []*Codec{plain, enc, compact} {
			var dst any = new([]byte)
			if c == compact {
				dst = &map[any]any{}
			}
			ts, err := c.decodeBytes(name, value, dst)
			checkCodecDecodeError(t, "DecodeBytes", ts, err)
		}
		ts, err := decodeAny(mixed, name, value, new([]byte))
		checkCodecDecodeError(t, "decodeAny", ts, err)
		for _, p := range []struct {
			ours *Codec
			ref  *securecookie.SecureCookie
		}{{plain, refPlain}, {enc, refEnc}} {
			var ours, ref []byte
			_, ourErr := p.ours.decodeBytes(name, value, &ours)
			refErr := p.ref.Decode(name, string(value), &ref)
			codecSameVerdict(t, "raw", ourErr, ours, refErr, ref)
		}

		// 2. The input signed, as "date|value" (not for the default
		// serializer: it trusts encoding/gob with authenticated data).
		signed := codecSignInner(codecHashKey, name, value)
		for _, p := range []struct {
			ours *Codec
			ref  *securecookie.SecureCookie
		}{{plain, refPlain}, {enc, refEnc}} {
			var ours, ref []byte
			ts, ourErr := p.ours.decodeBytes(name, signed, &ours)
			checkCodecDecodeError(t, "signed", ts, ourErr)
			refErr := p.ref.Decode(name, string(signed), &ref)
			codecSameVerdict(t, "signed", ourErr, ours, refErr, ref)
		}
	})
}
