package sessions

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/securecookie"
)

var (
	codecHashKey      = []byte("0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef")
	codecBlockKey     = []byte("fedcba9876543210fedcba9876543210")
	codecOtherHashKey = []byte("another hash key, 32 bytes long!")
)

type codecKeyConfig struct {
	name      string
	hash      []byte
	block     []byte
	encrypted bool
}

var codecKeyConfigs = []codecKeyConfig{
	{"hmac", codecHashKey, nil, false},
	{"hmac+aes128", codecHashKey, codecBlockKey[:16], true},
	{"hmac+aes192", codecHashKey, codecBlockKey[:24], true},
	{"hmac+aes256", codecHashKey, codecBlockKey, true},
}

// sample values per serializer, and a fresh destination to decode into.
type codecSerializerCase struct {
	name  string
	sz    securecookie.Serializer
	value func() any
	dst   func() any
	deref func(dst any) any
}

type codecJSONSession struct {
	UserID string `json:"user_id"`
	Name   string `json:"name"`
	Visits int    `json:"visits"`
}

var codecSerializerCases = []codecSerializerCase{
	{
		name:  "nop",
		sz:    securecookie.NopEncoder{},
		value: func() any { return []byte("user_id=12345&name=Alice+Example&visits=42 ~ some payload bytes") },
		dst:   func() any { return new([]byte) },
		deref: func(d any) any { return *d.(*[]byte) },
	},
	{
		name: "gob",
		sz:   securecookie.GobEncoder{},
		value: func() any {
			return map[string]any{"user_id": "12345", "name": "Alice Example", "visits": 42}
		},
		dst:   func() any { return new(map[string]any) },
		deref: func(d any) any { return *d.(*map[string]any) },
	},
	{
		name:  "json",
		sz:    securecookie.JSONEncoder{},
		value: func() any { return codecJSONSession{"12345", "Alice Example", 42} },
		dst:   func() any { return new(codecJSONSession) },
		deref: func(d any) any { return *d.(*codecJSONSession) },
	},
}

// codecCloneValue copies a []byte value before it is handed to securecookie, which
// encrypts a NopEncoder's []byte in place.
func codecCloneValue(v any) any {
	if b, ok := v.([]byte); ok {
		return bytes.Clone(b)
	}
	return v
}

// decodeBytes is decodeAny with the one codec c: Decode for a value in a
// byte slice, also returning the Unix time at which it was signed (0 on
// error, but with a *compact.DroppedError, returned as it is).
func (c *Codec) decodeBytes(name string, value []byte, dst any) (int64, error) {
	return decodeAny([]securecookie.Codec{c}, name, value, dst)
}

func codecEqualValues(a, b any) bool {
	return fmt.Sprintf("%#v", a) == fmt.Sprintf("%#v", b)
}

func checkCodecErr(t *testing.T, err, sentinel error) {
	t.Helper()
	if err == nil {
		t.Fatalf("got no error, want %v", sentinel)
	}
	if !errors.Is(err, sentinel) {
		t.Fatalf("error %q does not wrap %q", err, sentinel)
	}
	if !strings.HasPrefix(err.Error(), "sessions: ") {
		t.Fatalf("error %q does not start with \"sessions: \"", err)
	}
}

// TestCodecSecureCookieCompat checks both directions against securecookie,
// for every key configuration and serializer.
func TestCodecSecureCookieCompat(t *testing.T) {
	for _, kc := range codecKeyConfigs {
		for _, sc := range codecSerializerCases {
			t.Run(kc.name+"/"+sc.name, func(t *testing.T) {
				ref := securecookie.New(kc.hash, kc.block).SetSerializer(sc.sz)
				ours := NewCodec(kc.hash, kc.block).SetSerializer(sc.sz)
				want := sc.value()

				// securecookie -> Codec (Decode and DecodeBytes).
				enc, err := ref.Encode("session", codecCloneValue(want))
				if err != nil {
					t.Fatal(err)
				}
				dst := sc.dst()
				if err := ours.Decode("session", enc, dst); err != nil {
					t.Fatalf("Decode of securecookie's value: %v", err)
				}
				if got := sc.deref(dst); !codecEqualValues(got, want) {
					t.Fatalf("Decode = %#v, want %#v", got, want)
				}
				dst = sc.dst()
				ts, err := ours.decodeBytes("session", []byte(enc), dst)
				if err != nil {
					t.Fatalf("DecodeBytes of securecookie's value: %v", err)
				}
				if now := time.Now().Unix(); ts < now-5 || ts > now {
					t.Fatalf("timestamp %d, now %d", ts, now)
				}
				if got := sc.deref(dst); !codecEqualValues(got, want) {
					t.Fatalf("DecodeBytes = %#v, want %#v", got, want)
				}

				// Codec -> securecookie (Encode and AppendEncode).
				enc, err = ours.Encode("session", want)
				if err != nil {
					t.Fatal(err)
				}
				dst = sc.dst()
				if err := ref.Decode("session", enc, dst); err != nil {
					t.Fatalf("securecookie cannot decode Encode's value: %v", err)
				}
				if got := sc.deref(dst); !codecEqualValues(got, want) {
					t.Fatalf("securecookie decoded %#v, want %#v", got, want)
				}
				buf, err := ours.appendEncode([]byte("prefix:"), "session", want)
				if err != nil {
					t.Fatal(err)
				}
				if !bytes.HasPrefix(buf, []byte("prefix:")) {
					t.Fatalf("AppendEncode lost dst: %q", buf)
				}
				dst = sc.dst()
				if err := ref.Decode("session", string(buf[len("prefix:"):]), dst); err != nil {
					t.Fatalf("securecookie cannot decode AppendEncode's value: %v", err)
				}
				if got := sc.deref(dst); !codecEqualValues(got, want) {
					t.Fatalf("securecookie decoded %#v, want %#v", got, want)
				}

				// The cookie name is in the MAC, for both.
				if err := ref.Decode("other", enc, sc.dst()); err == nil {
					t.Fatal("securecookie accepted another name")
				}
				checkCodecErr(t, ours.Decode("other", enc, sc.dst()), ErrCookieInvalid)
			})
		}
	}
}

// TestCodecSameBytesAsSecureCookie checks the exact output without
// encryption (the IV makes encrypted output random; see
// codec_go126_test.go for that case).
func TestCodecSameBytesAsSecureCookie(t *testing.T) {
	ref := securecookie.New(codecHashKey, nil).SetSerializer(securecookie.NopEncoder{})
	for _, payload := range []string{"", "x", "hello, world", strings.Repeat("0123456789", 50)} {
		for _, name := range []string{"", "session", "a|b", "__Host-sid"} {
			want, err := ref.Encode(name, []byte(payload))
			if err != nil {
				t.Fatal(err)
			}
			ts := signedTimestamp([]byte(want))
			ours := NewCodec(codecHashKey, nil).SetSerializer(securecookie.NopEncoder{}).
				setClock(func() time.Time { return time.Unix(ts, 0) })
			got, err := ours.Encode(name, []byte(payload))
			if err != nil {
				t.Fatal(err)
			}
			if got != want {
				t.Fatalf("name %q payload %q:\n got %s\nwant %s", name, payload, got, want)
			}
			app, _ := ours.appendEncode(nil, name, []byte(payload))
			if string(app) != want {
				t.Fatalf("AppendEncode differs: %s", app)
			}
		}
	}
}

// TestCodecFormat checks the documented layout of an encrypted value.
func TestCodecFormat(t *testing.T) {
	ts := int64(1700000000)
	c := NewCodec(codecHashKey, codecBlockKey).SetSerializer(securecookie.NopEncoder{}).
		setClock(func() time.Time { return time.Unix(ts, 0) }).MaxAge(0)
	enc, err := c.Encode("sid", []byte("plain text"))
	if err != nil {
		t.Fatal(err)
	}
	outer, err := base64.URLEncoding.DecodeString(enc)
	if err != nil {
		t.Fatal(err)
	}
	parts := bytes.SplitN(outer, []byte("|"), 3)
	if len(parts) != 3 || string(parts[0]) != "1700000000" {
		t.Fatalf("bad layout %q", outer)
	}
	m := hmac.New(sha256.New, codecHashKey)
	m.Write([]byte("sid|"))
	m.Write(outer[:len(parts[0])+1+len(parts[1])])
	if !bytes.Equal(m.Sum(nil), parts[2]) {
		t.Fatal("MAC is not HMAC-SHA256 of name|date|value")
	}
	raw, err := base64.URLEncoding.DecodeString(string(parts[1]))
	if err != nil {
		t.Fatal(err)
	}
	block, _ := aes.NewCipher(codecBlockKey)
	plain := make([]byte, len(raw)-aes.BlockSize)
	cipher.NewCTR(block, raw[:aes.BlockSize]).XORKeyStream(plain, raw[aes.BlockSize:])
	if string(plain) != "plain text" {
		t.Fatalf("decrypted %q", plain)
	}
}

func TestCodecDoesNotModifyValue(t *testing.T) {
	c := NewCodec(codecHashKey, codecBlockKey).SetSerializer(securecookie.NopEncoder{})
	v := []byte("do not encrypt me in place")
	if _, err := c.Encode("n", v); err != nil {
		t.Fatal(err)
	}
	if _, err := c.appendEncode(nil, "n", v); err != nil {
		t.Fatal(err)
	}
	if string(v) != "do not encrypt me in place" {
		t.Fatalf("value modified: %q", v)
	}
}

// TestCodecDecodedSliceIsFresh checks that a serializer may keep the slice
// Decode gives it (NopEncoder does) although the codec pools its buffers.
func TestCodecDecodedSliceIsFresh(t *testing.T) {
	for _, kc := range codecKeyConfigs {
		c := NewCodec(kc.hash, kc.block).SetSerializer(securecookie.NopEncoder{})
		e1, _ := c.Encode("n", []byte("first value"))
		e2, _ := c.Encode("n", []byte("SECOND VALUE"))
		var v1, v2 []byte
		if err := c.Decode("n", e1, &v1); err != nil {
			t.Fatal(err)
		}
		if err := c.Decode("n", e2, &v2); err != nil {
			t.Fatal(err)
		}
		if string(v1) != "first value" || string(v2) != "SECOND VALUE" {
			t.Fatalf("%s: %q %q", kc.name, v1, v2)
		}
	}
}

func TestCodecKeyRotation(t *testing.T) {
	oldPair := [][]byte{[]byte("old-hash-key-old-hash-key-old-ha"), []byte("old-block-key-16")}
	newPair := [][]byte{[]byte("new-hash-key-new-hash-key-new-ha"), []byte("new-block-key-32-new-block-key-3")}
	nop := func(codecs []securecookie.Codec) []securecookie.Codec {
		for _, c := range codecs {
			switch c := c.(type) {
			case *Codec:
				c.SetSerializer(securecookie.NopEncoder{})
			case *securecookie.SecureCookie:
				c.SetSerializer(securecookie.NopEncoder{})
			}
		}
		return codecs
	}
	oldOurs := nop(codecsFromPairs(oldPair...))
	oldRef := nop(securecookie.CodecsFromPairs(oldPair...))
	rotated := nop(codecsFromPairs(newPair[0], newPair[1], oldPair[0], oldPair[1]))
	rotatedRef := nop(securecookie.CodecsFromPairs(newPair[0], newPair[1], oldPair[0], oldPair[1]))
	if len(rotated) != 2 {
		t.Fatalf("CodecsFromPairs made %d codecs", len(rotated))
	}
	for i, c := range rotated {
		if _, ok := c.(*Codec); !ok {
			t.Fatalf("codec %d is %T", i, c)
		}
	}

	// Values signed with the old pair, by us and by securecookie, decode
	// with the rotated list, by us and by securecookie.
	fromOurs, err := encodeFirst(oldOurs, nil, "s", []byte("old value"))
	if err != nil {
		t.Fatal(err)
	}
	fromRef, err := securecookie.EncodeMulti("s", []byte("old value"), oldRef...)
	if err != nil {
		t.Fatal(err)
	}
	for _, enc := range []string{string(fromOurs), fromRef} {
		var got []byte
		ts, err := decodeAny(rotated, "s", []byte(enc), &got)
		if err != nil || string(got) != "old value" || ts == 0 {
			t.Fatalf("decodeAny: %q, %d, %v", got, ts, err)
		}
		got = nil
		if err := securecookie.DecodeMulti("s", enc, &got, rotatedRef...); err != nil || string(got) != "old value" {
			t.Fatalf("DecodeMulti: %q, %v", got, err)
		}
	}

	// New values are signed with the new pair only.
	enc, err := encodeFirst(rotated, nil, "s", []byte("new value"))
	if err != nil {
		t.Fatal(err)
	}
	var got []byte
	if err := rotatedRef[0].Decode("s", string(enc), &got); err != nil || string(got) != "new value" {
		t.Fatalf("new pair: %q %v", got, err)
	}
	checkCodecErr(t, oldOurs[0].Decode("s", string(enc), &got), ErrCookieInvalid)

	// Once the old pair is dropped, old values are invalid.
	_, err = decodeAny(rotated[:1], "s", fromOurs, &got)
	checkCodecErr(t, err, ErrCookieInvalid)

	// Odd number of keys: the last codec has no block key.
	odd := codecsFromPairs(newPair[0], newPair[1], oldPair[0])
	if len(odd) != 2 || odd[1].(*Codec).block != nil || odd[0].(*Codec).block == nil {
		t.Fatal("CodecsFromPairs with an odd number of keys")
	}
	if len(codecsFromPairs()) != 0 {
		t.Fatal("codecsFromPairs() not empty")
	}
}

func TestCodecDecodeAnyMixed(t *testing.T) {
	ref := securecookie.New(codecOtherHashKey, nil).SetSerializer(securecookie.NopEncoder{})
	ours := NewCodec(codecHashKey, codecBlockKey).SetSerializer(securecookie.NopEncoder{})
	list := []securecookie.Codec{ours, ref}

	enc, _ := ref.Encode("n", []byte("from securecookie"))
	var got []byte
	ts, err := decodeAny(list, "n", []byte(enc), &got)
	if err != nil || string(got) != "from securecookie" {
		t.Fatalf("%q %v", got, err)
	}
	if now := time.Now().Unix(); ts < now-5 || ts > now {
		t.Fatalf("timestamp %d from securecookie codec", ts)
	}

	// encodeFirst through a securecookie codec.
	b, err := encodeFirst([]securecookie.Codec{ref, ours}, []byte("x"), "n", []byte("v"))
	if err != nil || b[0] != 'x' {
		t.Fatal(err)
	}
	if err := ref.Decode("n", string(b[1:]), &got); err != nil || string(got) != "v" {
		t.Fatal(err)
	}

	// Error preference: expired wins over invalid, from any position.
	expiredRef := securecookie.New(codecOtherHashKey, nil).SetSerializer(securecookie.NopEncoder{}).MaxAge(-1)
	_, err = decodeAny([]securecookie.Codec{ours, expiredRef}, "n", []byte(enc), &got)
	checkCodecErr(t, err, ErrCookieExpired)
	expiredOurs := NewCodec(codecOtherHashKey, nil).SetSerializer(securecookie.NopEncoder{}).MaxAge(-1)
	_, err = decodeAny([]securecookie.Codec{expiredOurs, ours}, "n", []byte(enc), &got)
	checkCodecErr(t, err, ErrCookieExpired)
	// Too long from securecookie.
	shortRef := securecookie.New(codecOtherHashKey, nil).MaxLength(10)
	_, err = decodeAny([]securecookie.Codec{shortRef}, "n", []byte(enc), &got)
	checkCodecErr(t, err, ErrCookieTooLong)
	// Invalid when nothing better.
	_, err = decodeAny([]securecookie.Codec{ours, securecookie.New(codecHashKey, nil)}, "n", []byte(enc), &got)
	checkCodecErr(t, err, ErrCookieInvalid)
	// Configuration errors.
	_, err = decodeAny(nil, "n", []byte(enc), &got)
	checkCodecErr(t, err, ErrInvalidKey)
	_, err = decodeAny([]securecookie.Codec{nil}, "n", []byte(enc), &got)
	checkCodecErr(t, err, ErrInvalidKey)
	_, err = decodeAny([]securecookie.Codec{securecookie.New(nil, nil)}, "n", []byte(enc), &got)
	checkCodecErr(t, err, ErrInvalidKey)
	_, err = decodeAny([]securecookie.Codec{securecookie.New(codecHashKey, []byte("bad"))}, "n", []byte(enc), &got)
	checkCodecErr(t, err, ErrInvalidKey)
	_, err = encodeFirst(nil, nil, "n", []byte("v"))
	checkCodecErr(t, err, ErrInvalidKey)
	_, err = encodeFirst([]securecookie.Codec{nil}, nil, "n", []byte("v"))
	checkCodecErr(t, err, ErrInvalidKey)
	_, err = encodeFirst([]securecookie.Codec{securecookie.New(nil, nil)}, nil, "n", []byte("v"))
	checkCodecErr(t, err, ErrInvalidKey)
	_, err = encodeFirst([]securecookie.Codec{securecookie.New(codecHashKey, []byte("bad"))}, nil, "n", []byte("v"))
	checkCodecErr(t, err, ErrInvalidKey)
	_, err = encodeFirst([]securecookie.Codec{securecookie.New(codecHashKey, nil).MaxLength(10)}, nil, "n", []byte("v"))
	checkCodecErr(t, err, ErrCookieTooLong)
	_, err = encodeFirst([]securecookie.Codec{securecookie.New(codecHashKey, nil)}, nil, "n", func() {})
	checkCodecErr(t, err, ErrSerialize)
	// A deserialize failure in a securecookie codec.
	gobRef := securecookie.New(codecOtherHashKey, nil)
	_, err = decodeAny([]securecookie.Codec{gobRef}, "n", []byte(enc), &got)
	checkCodecErr(t, err, ErrCookieInvalid)
}

// sessionsErrCodec is a foreign codec that already returns this package's
// errors; decodeAny and encodeFirst must not wrap them twice.
type sessionsErrCodec struct{ err error }

func (c sessionsErrCodec) Encode(string, any) (string, error) { return "", c.err }
func (c sessionsErrCodec) Decode(string, string, any) error   { return c.err }

func TestCodecForeignErrorsNotRewrapped(t *testing.T) {
	e := fmt.Errorf("%w: custom", ErrCookieExpired)
	_, err := decodeAny([]securecookie.Codec{sessionsErrCodec{e}}, "n", []byte("v"), nil)
	if err != e {
		t.Fatalf("got %v", err)
	}
	_, err = encodeFirst([]securecookie.Codec{sessionsErrCodec{fmt.Errorf("%w: x", ErrSerialize)}}, nil, "n", nil)
	if err.Error() != "sessions: cannot serialize values: x" {
		t.Fatalf("got %v", err)
	}
	_, err = decodeAny([]securecookie.Codec{sessionsErrCodec{errors.New("boom")}}, "n", []byte("v"), nil)
	checkCodecErr(t, err, ErrCookieInvalid)
	_, err = encodeFirst([]securecookie.Codec{sessionsErrCodec{errors.New("boom")}}, nil, "n", nil)
	checkCodecErr(t, err, ErrSerialize)
}

// forgeCodecValue builds a value in securecookie's layout, signed with hashKey, with
// an arbitrary date and (already base64-encoded) value part.
func forgeCodecValue(hashKey []byte, name, date, value string) string {
	inner := date + "|" + value
	m := hmac.New(sha256.New, hashKey)
	m.Write([]byte(name + "|" + inner))
	return base64.URLEncoding.EncodeToString(append([]byte(inner+"|"), m.Sum(nil)...))
}

func TestCodecDecodeErrors(t *testing.T) {
	now := strconv.FormatInt(time.Now().Unix(), 10)
	b64 := base64.URLEncoding.EncodeToString
	plain := NewCodec(codecHashKey, nil).SetSerializer(securecookie.NopEncoder{})
	enc := NewCodec(codecHashKey, codecBlockKey).SetSerializer(securecookie.NopEncoder{})
	gob := NewCodec(codecHashKey, nil).SetSerializer(securecookie.GobEncoder{})
	good, _ := plain.Encode("n", []byte("v"))
	padded := good
	for p := "v"; !strings.HasSuffix(padded, "="); p += "v" {
		padded, _ = plain.Encode("n", []byte(p))
	}
	raw, _ := base64.URLEncoding.DecodeString(good)
	tampered := bytes.Clone(raw)
	tampered[len(tampered)-1] ^= 1

	cases := []struct {
		name  string
		codec *Codec
		value string
		want  error
	}{
		{"empty", plain, "", ErrCookieInvalid},
		{"not base64", plain, "!!!!", ErrCookieInvalid},
		{"unpadded", plain, strings.TrimRight(padded, "="), ErrCookieInvalid},
		{"no separator", plain, b64([]byte("nopipes")), ErrCookieInvalid},
		{"one separator", plain, b64([]byte("123|abc")), ErrCookieInvalid},
		{"tampered MAC", plain, b64(tampered), ErrCookieInvalid},
		{"truncated MAC", plain, b64(raw[:len(raw)-1]), ErrCookieInvalid},
		{"MAC of other key", plain, forgeCodecValue(codecOtherHashKey, "n", now, b64([]byte("v"))), ErrCookieInvalid},
		{"wrong name", plain, forgeCodecValue(codecHashKey, "m", now, b64([]byte("v"))), ErrCookieInvalid},
		{"bad timestamp", plain, forgeCodecValue(codecHashKey, "n", "12x", b64([]byte("v"))), ErrCookieInvalid},
		{"empty timestamp", plain, forgeCodecValue(codecHashKey, "n", "", b64([]byte("v"))), ErrCookieInvalid},
		{"timestamp overflow", plain, forgeCodecValue(codecHashKey, "n", "99999999999999999999", b64([]byte("v"))), ErrCookieInvalid},
		{"future timestamp", plain, forgeCodecValue(codecHashKey, "n", "9999999999", b64([]byte("v"))), ErrCookieInvalid},
		{"expired", plain, forgeCodecValue(codecHashKey, "n", "1", b64([]byte("v"))), ErrCookieExpired},
		{"inner not base64", plain, forgeCodecValue(codecHashKey, "n", now, "***"), ErrCookieInvalid},
		{"too short to decrypt", enc, forgeCodecValue(codecHashKey, "n", now, b64(make([]byte, 16))), ErrCookieInvalid},
		{"not gob", gob, forgeCodecValue(codecHashKey, "n", now, b64([]byte("not gob at all"))), ErrCookieInvalid},
		{"too long", plain, strings.Repeat("A", 4097), ErrCookieTooLong},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var dst []byte
			var m map[string]any
			var d any = &dst
			if tc.codec == gob {
				d = &m
			}
			checkCodecErr(t, tc.codec.Decode("n", tc.value, d), tc.want)
			ts, err := tc.codec.decodeBytes("n", []byte(tc.value), d)
			checkCodecErr(t, err, tc.want)
			if ts != 0 {
				t.Fatalf("timestamp %d on error", ts)
			}
		})
	}
	// A deserialize failure wraps the serializer's error as well.
	err := gob.Decode("n", forgeCodecValue(codecHashKey, "n", now, b64([]byte("not gob"))), new(map[string]int))
	var se securecookie.Error
	if !errors.As(err, &se) {
		t.Fatalf("cause not wrapped: %v", err)
	}
	err = plain.Decode("n", "!!!!", new([]byte))
	var ce base64.CorruptInputError
	if !errors.As(err, &ce) {
		t.Fatalf("base64 cause not wrapped: %v", err)
	}
	// Control: the forged value with a good date decodes.
	var v []byte
	if err := plain.Decode("n", forgeCodecValue(codecHashKey, "n", now, b64([]byte("v"))), &v); err != nil || string(v) != "v" {
		t.Fatalf("forgeCodecValue helper broken: %v", err)
	}
}

// TestCodecEmptyEncryptedValue: securecookie cannot decode an empty value
// it encrypted (only the IV remains); neither can Codec, the same way.
func TestCodecEmptyEncryptedValue(t *testing.T) {
	ref := securecookie.New(codecHashKey, codecBlockKey).SetSerializer(securecookie.NopEncoder{})
	ours := NewCodec(codecHashKey, codecBlockKey).SetSerializer(securecookie.NopEncoder{})
	e1, _ := ref.Encode("n", []byte{})
	e2, _ := ours.Encode("n", []byte{})
	for _, e := range []string{e1, e2} {
		if err := ref.Decode("n", e, new([]byte)); err == nil {
			t.Fatal("securecookie decoded an empty encrypted value")
		}
		checkCodecErr(t, ours.Decode("n", e, new([]byte)), ErrCookieInvalid)
	}
	// Without encryption an empty value round-trips, as a non-nil slice.
	plain := NewCodec(codecHashKey, nil).SetSerializer(securecookie.NopEncoder{})
	e, _ := plain.Encode("n", []byte{})
	var got []byte
	if err := plain.Decode("n", e, &got); err != nil || got == nil || len(got) != 0 {
		t.Fatalf("%v %v", got, err)
	}
}

func TestCodecEncodeErrors(t *testing.T) {
	c := NewCodec(codecHashKey, nil).SetSerializer(securecookie.NopEncoder{})
	_, err := c.Encode("n", "not bytes")
	checkCodecErr(t, err, ErrSerialize)
	dst, err := c.appendEncode([]byte("keep"), "n", 42)
	checkCodecErr(t, err, ErrSerialize)
	if string(dst) != "keep" {
		t.Fatalf("dst changed on error: %q", dst)
	}
	g := NewCodec(codecHashKey, nil).SetSerializer(securecookie.GobEncoder{})
	_, err = g.Encode("n", func() {})
	checkCodecErr(t, err, ErrSerialize)
	var se securecookie.Error
	if !errors.As(err, &se) {
		t.Fatalf("serializer error not wrapped: %v", err)
	}
}

func TestCodecInvalidKeys(t *testing.T) {
	for _, tc := range []struct {
		name        string
		hash, block []byte
		want        string // in the message
		gorilla     bool   // securecookie accepts it
	}{
		{"nil hash key", nil, nil, "the hash key is empty", false},
		{"empty hash key", []byte{}, codecBlockKey, "the hash key is empty", false},
		{"6-byte hash key", []byte("secret"), nil, "the hash key is 6 bytes, too short", true},
		{"15-byte hash key", codecHashKey[:15], codecBlockKey, "the hash key is 15 bytes, too short", true},
		{"short block key", codecHashKey, []byte("short"), "the block key is 5 bytes, AES needs 16, 24 or 32", false},
		{"17-byte block key", codecHashKey, codecBlockKey[:17], "the block key is 17 bytes", false},
		{"empty non-nil block key", codecHashKey, []byte{}, "the block key is empty (nil means no encryption)", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			// securecookie refuses the same configurations, but short hash keys.
			if _, err := securecookie.New(tc.hash, tc.block).Encode("n", "v"); (err == nil) != tc.gorilla {
				t.Fatalf("securecookie: %v", err)
			}
			c := NewCodec(tc.hash, tc.block)
			_, err := c.Encode("n", "v")
			checkCodecErr(t, err, ErrInvalidKey)
			if msg := err.Error(); !strings.Contains(msg, tc.want) || !strings.Contains(msg, "openssl rand -hex 32") ||
				!strings.Contains(msg, "securecookie.GenerateRandomKey(32)") || strings.Count(msg, "sessions: ") != 1 {
				t.Fatalf("error %q: want %q and how to generate keys", msg, tc.want)
			}
			dst, err := c.appendEncode([]byte("x"), "n", "v")
			checkCodecErr(t, err, ErrInvalidKey)
			if string(dst) != "x" {
				t.Fatal("dst changed")
			}
			checkCodecErr(t, c.Decode("n", "AAAA", new(string)), ErrInvalidKey)
			_, err = c.decodeBytes("n", []byte("AAAA"), new(string))
			checkCodecErr(t, err, ErrInvalidKey)
		})
	}
	// A 16-byte hash key, which gorilla users may have, still works, and
	// reads what securecookie wrote with it.
	enc, err := securecookie.New(codecHashKey[:16], nil).Encode("n", "v")
	if err != nil {
		t.Fatal(err)
	}
	var v string
	if err := NewCodec(codecHashKey[:16], nil).SetSerializer(securecookie.GobEncoder{}).Decode("n", enc, &v); err != nil || v != "v" {
		t.Fatalf("16-byte hash key: %q, %v", v, err)
	}
	var nilCodec *Codec
	_, err = nilCodec.Encode("n", "v")
	checkCodecErr(t, err, ErrInvalidKey)
	_, err = nilCodec.appendEncode(nil, "n", "v")
	checkCodecErr(t, err, ErrInvalidKey)
	checkCodecErr(t, nilCodec.Decode("n", "v", nil), ErrInvalidKey)
	var zero Codec
	_, err = zero.Encode("n", "v")
	checkCodecErr(t, err, ErrInvalidKey)
	_, err = zero.decodeBytes("n", []byte("v"), nil)
	checkCodecErr(t, err, ErrInvalidKey)
}

// TestCodecMaxLength checks that the limits fall exactly where
// securecookie's do, on Encode and Decode.
func TestCodecMaxLength(t *testing.T) {
	payload := []byte(strings.Repeat("p", 100))
	probe, _ := NewCodec(codecHashKey, nil).SetSerializer(securecookie.NopEncoder{}).Encode("n", payload)
	n := len(probe)
	for _, limit := range []int{n - 1, n, n + 1} {
		ref := securecookie.New(codecHashKey, nil).SetSerializer(securecookie.NopEncoder{}).MaxLength(limit)
		ours := NewCodec(codecHashKey, nil).SetSerializer(securecookie.NopEncoder{}).MaxLength(limit)
		_, refErr := ref.Encode("n", bytes.Clone(payload))
		_, ourErr := ours.Encode("n", payload)
		if (refErr == nil) != (ourErr == nil) {
			t.Fatalf("limit %d: Encode: securecookie %v, Codec %v", limit, refErr, ourErr)
		}
		if ourErr != nil {
			checkCodecErr(t, ourErr, ErrCookieTooLong)
		}
		refErr = ref.Decode("n", probe, new([]byte))
		ourErr = ours.Decode("n", probe, new([]byte))
		if (refErr == nil) != (ourErr == nil) {
			t.Fatalf("limit %d: Decode: securecookie %v, Codec %v", limit, refErr, ourErr)
		}
		if ourErr != nil {
			checkCodecErr(t, ourErr, ErrCookieTooLong)
		}
	}
	// 0: no limit.
	big := bytes.Repeat([]byte("b"), 100000)
	c := NewCodec(codecHashKey, codecBlockKey).SetSerializer(securecookie.NopEncoder{}).MaxLength(0)
	e, err := c.Encode("n", big)
	if err != nil {
		t.Fatal(err)
	}
	var got []byte
	if err := c.Decode("n", e, &got); err != nil || !bytes.Equal(got, big) {
		t.Fatal("large value with MaxLength(0)", err)
	}
	// The default is 4096.
	_, err = NewCodec(codecHashKey, nil).SetSerializer(securecookie.NopEncoder{}).Encode("n", make([]byte, 3000))
	checkCodecErr(t, err, ErrCookieTooLong)
}

func TestCodecDefaultSerializer(t *testing.T) {
	c := NewCodec(codecHashKey, codecBlockKey)
	if _, ok := c.sz.(CompactSerializer); !ok {
		t.Fatalf("default serializer %T", c.sz)
	}
	if _, ok := c.SetSerializer(securecookie.JSONEncoder{}).SetSerializer(nil).sz.(CompactSerializer); !ok {
		t.Fatal("SetSerializer(nil) does not restore CompactSerializer")
	}
	want := map[any]any{"user_id": "12345", "name": "Alice Example", "visits": 42}
	e, err := c.Encode("session", want)
	if err != nil {
		t.Fatal(err)
	}
	got := map[any]any{}
	if _, err := c.decodeBytes("session", []byte(e), &got); err != nil {
		t.Fatal(err)
	}
	if len(got) != 3 || got["user_id"] != "12345" || got["name"] != "Alice Example" || fmt.Sprint(got["visits"]) != "42" {
		t.Fatalf("got %#v", got)
	}
}

// TestCodecConcurrent shares codecs between goroutines; run with -race.
func TestCodecConcurrent(t *testing.T) {
	codecs := codecsFromPairs(codecHashKey, codecBlockKey, codecOtherHashKey, nil)
	for _, c := range codecs {
		c.(*Codec).SetSerializer(securecookie.NopEncoder{})
	}
	old, _ := codecs[1].Encode("n", []byte("old"))
	var wg sync.WaitGroup
	errc := make(chan error, 8)
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var buf []byte
			for i := range 300 {
				want := fmt.Sprintf("goroutine %d value %d %s", g, i, strings.Repeat("x", i%50))
				var err error
				buf, err = encodeFirst(codecs, buf[:0], "n", []byte(want))
				if err != nil {
					errc <- err
					return
				}
				var got []byte
				if _, err := decodeAny(codecs, "n", buf, &got); err != nil || string(got) != want {
					errc <- fmt.Errorf("got %q, %v; want %q", got, err, want)
					return
				}
				if _, err := decodeAny(codecs, "n", []byte(old), &got); err != nil || string(got) != "old" {
					errc <- fmt.Errorf("old value: %q, %v", got, err)
					return
				}
				if err := codecs[0].Decode("other", string(buf), &got); !errors.Is(err, ErrCookieInvalid) {
					errc <- fmt.Errorf("other name: %v", err)
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errc)
	for err := range errc {
		t.Fatal(err)
	}
}

func TestCodecPoolDropsHugeBuffers(t *testing.T) {
	b := getBuffer()
	b.B = make([]byte, 0, 64<<10+1)
	putBuffer(b)
	for range 100 {
		if b := getBuffer(); cap(b.B) > 64<<10 {
			t.Fatal("huge buffer kept")
		}
	}
}

func TestSignedTimestamp(t *testing.T) {
	for _, v := range []string{"", "!!", base64.URLEncoding.EncodeToString([]byte("nopipe")), base64.URLEncoding.EncodeToString([]byte("x|y|z"))} {
		if ts := signedTimestamp([]byte(v)); ts != 0 {
			t.Fatalf("%q: %d", v, ts)
		}
	}
}
