//go:build !race

package sessions

import (
	"bytes"
	"encoding/base64"
	"testing"

	"github.com/gorilla/securecookie"
)

// TestCodecAllocs pins the allocation counts of the fast paths (the race
// detector changes them, hence the build tag).
func TestCodecAllocs(t *testing.T) {
	long := bytes.Repeat([]byte("x"), 256)
	for _, tc := range []struct {
		name                     string
		block                    []byte
		payload                  []byte
		appendEncode, encode     float64
		decodeBytes, decodeStr   float64
		decodeAnyA, encodeFirstA float64
	}{
		// Decode allocates the slice it hands to the serializer; Encode
		// (string) allocates the string; cipher.NewCTR allocates once.
		{"HMAC", nil, codecBenchPayload, 0, 1, 1, 1, 1, 0},
		{"HMAC+AES", codecBlockKey, codecBenchPayload, 1, 2, 2, 2, 2, 1},
		{"HMAC+AES/long", codecBlockKey, long, 1, 2, 2, 2, 2, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := NewCodec(codecHashKey, tc.block).SetSerializer(securecookie.NopEncoder{})
			codecs := []securecookie.Codec{c}
			var value any = tc.payload
			buf := make([]byte, 0, 1024)
			enc, err := c.appendEncode(nil, "session", value)
			if err != nil {
				t.Fatal(err)
			}
			encStr := string(enc)
			var dst []byte
			check := func(what string, want float64, f func()) {
				t.Helper()
				if got := testing.AllocsPerRun(200, f); got > want {
					t.Errorf("%s: %v allocs, want <= %v", what, got, want)
				}
			}
			check("appendEncode", tc.appendEncode, func() { buf, _ = c.appendEncode(buf[:0], "session", value) })
			check("Encode", tc.encode, func() { _, _ = c.Encode("session", value) })
			check("decodeBytes", tc.decodeBytes, func() {
				if _, err := c.decodeBytes("session", enc, &dst); err != nil {
					t.Fatal(err)
				}
			})
			check("Decode", tc.decodeStr, func() {
				if err := c.Decode("session", encStr, &dst); err != nil {
					t.Fatal(err)
				}
			})
			check("decodeAny", tc.decodeAnyA, func() {
				if _, err := decodeAny(codecs, "session", enc, &dst); err != nil {
					t.Fatal(err)
				}
			})
			check("encodeFirst", tc.encodeFirstA, func() { buf, _ = encodeFirst(codecs, buf[:0], "session", value) })
			// A rejected value costs no allocation before the MAC check.
			// Flip a bit of the MAC itself (flipping a base64 character
			// could make invalid base64 instead, depending on the date).
			raw, err := base64.URLEncoding.DecodeString(string(enc))
			if err != nil {
				t.Fatal(err)
			}
			raw[len(raw)-1] ^= 1
			bad := []byte(base64.URLEncoding.EncodeToString(raw))
			check("decodeBytes(bad MAC)", 0, func() { _, _ = c.decodeBytes("session", bad, &dst) })
		})
	}
}
