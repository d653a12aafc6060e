package sessions

import (
	"bytes"
	"testing"
	"time"

	"github.com/gorilla/securecookie"
)

// Clock-driven tests of the timestamp rules, and benchmarks.

func TestCodecTimestamps(t *testing.T) {
	const signed = int64(1_700_000_000)
	clock := &testClock{now: time.Unix(signed, 0)}
	c := NewCodec(codecHashKey, codecBlockKey).SetSerializer(securecookie.NopEncoder{}).
		setClock(clock.Now).MaxAge(60)
	enc, err := c.Encode("n", []byte("v"))
	if err != nil {
		t.Fatal(err)
	}
	decodeAt := func(now int64) (int64, error) {
		clock.Set(now)
		var got []byte
		ts, err := c.decodeBytes("n", []byte(enc), &got)
		if err == nil && string(got) != "v" {
			t.Fatalf("decoded %q", got)
		}
		return ts, err
	}

	// Within MaxAge, up to and including its last second (securecookie's
	// rule: expired when t < now-MaxAge).
	for _, now := range []int64{signed, signed + 1, signed + 60} {
		ts, err := decodeAt(now)
		if err != nil || ts != signed {
			t.Fatalf("at +%d s: ts %d, %v", now-signed, ts, err)
		}
	}
	for _, now := range []int64{signed + 61, signed + 86400*365} {
		_, err := decodeAt(now)
		checkCodecErr(t, err, ErrCookieExpired)
	}

	// In the future: tolerated up to maxClockSkew, invalid beyond.
	if _, err := decodeAt(signed - maxClockSkew); err != nil {
		t.Fatalf("%d s in the future: %v", maxClockSkew, err)
	}
	_, err = decodeAt(signed - maxClockSkew - 1)
	checkCodecErr(t, err, ErrCookieInvalid)

	// MaxAge(0): no expiry, but the future check stays.
	c.MaxAge(0)
	if _, err := decodeAt(signed + 86400*365*100); err != nil {
		t.Fatalf("MaxAge(0), 100 years later: %v", err)
	}
	_, err = decodeAt(signed - 3600)
	checkCodecErr(t, err, ErrCookieInvalid)

	// MaxAge(-1), as in securecookie: everything not dated in the future is
	// expired.
	c.MaxAge(-1)
	_, err = decodeAt(signed)
	checkCodecErr(t, err, ErrCookieExpired)
	if _, err := decodeAt(signed - 1); err != nil {
		t.Fatalf("MaxAge(-1), 1 s in the future: %v", err)
	}

	// SetClock(nil) restores time.Now: the 2023 value is long expired
	// under a 60 s MaxAge.
	c.MaxAge(60).setClock(nil)
	var got []byte
	_, err = c.decodeBytes("n", []byte(enc), &got)
	checkCodecErr(t, err, ErrCookieExpired)
}

// TestCodecExpiresSecureCookieValues: securecookie dates its values with the
// same clock and rule, so its values expire in a Codec on time.
func TestCodecExpiresSecureCookieValues(t *testing.T) {
	ref := securecookie.New(codecHashKey, nil).SetSerializer(securecookie.NopEncoder{})
	enc, err := ref.Encode("n", []byte("v"))
	if err != nil {
		t.Fatal(err)
	}
	signed := signedTimestamp([]byte(enc))
	clock := &testClock{now: time.Unix(signed+86400*30, 0)}
	c := NewCodec(codecHashKey, nil).SetSerializer(securecookie.NopEncoder{}).setClock(clock.Now)
	var got []byte
	if ts, err := c.decodeBytes("n", []byte(enc), &got); err != nil || ts != signed {
		t.Fatalf("30 days: %d %v", ts, err)
	}
	clock.Advance(time.Second)
	_, err = c.decodeBytes("n", []byte(enc), &got)
	checkCodecErr(t, err, ErrCookieExpired)
}

// Benchmarks: Codec against securecookie on the same pre-serialized payload
// (NopEncoder), with HMAC only and HMAC+AES-256.
//
//	go test -run '^$' -bench 'Codec' -benchmem -count 10 .

var codecBenchPayload = []byte("user_id=12345&name=Alice+Example&visits=42&csrf=0123456789ab") // 60 bytes

func codecBenchKeys(withAES bool) (hashKey, blockKey []byte) {
	if withAES {
		return codecHashKey, codecBlockKey
	}
	return codecHashKey, nil
}

func BenchmarkCodec(b *testing.B) {
	for _, mode := range []struct {
		name string
		aes  bool
	}{{"HMAC", false}, {"HMAC+AES", true}} {
		hashKey, blockKey := codecBenchKeys(mode.aes)
		ours := NewCodec(hashKey, blockKey).SetSerializer(securecookie.NopEncoder{})
		ref := securecookie.New(hashKey, blockKey).SetSerializer(securecookie.NopEncoder{})
		var value any = codecBenchPayload
		encoded, _ := ours.appendEncode(nil, "session", value)
		encodedStr := string(encoded)

		b.Run(mode.name+"/Encode/Codec", func(b *testing.B) {
			b.ReportAllocs()
			buf := make([]byte, 0, 512)
			var err error
			for b.Loop() {
				if buf, err = ours.appendEncode(buf[:0], "session", value); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(mode.name+"/Encode/CodecString", func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := ours.Encode("session", value); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(mode.name+"/Encode/securecookie", func(b *testing.B) {
			b.ReportAllocs()
			// securecookie encrypts the []byte in place: give it its own.
			var v any = bytes.Clone(codecBenchPayload)
			for b.Loop() {
				if _, err := ref.Encode("session", v); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(mode.name+"/Decode/Codec", func(b *testing.B) {
			b.ReportAllocs()
			var dst []byte
			for b.Loop() {
				if _, err := ours.decodeBytes("session", encoded, &dst); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(mode.name+"/Decode/CodecString", func(b *testing.B) {
			b.ReportAllocs()
			var dst []byte
			for b.Loop() {
				if err := ours.Decode("session", encodedStr, &dst); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(mode.name+"/Decode/securecookie", func(b *testing.B) {
			b.ReportAllocs()
			var dst []byte
			for b.Loop() {
				if err := ref.Decode("session", encodedStr, &dst); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(mode.name+"/Both/Codec", func(b *testing.B) {
			b.ReportAllocs()
			buf := make([]byte, 0, 512)
			var dst []byte
			var err error
			for b.Loop() {
				if buf, err = ours.appendEncode(buf[:0], "session", value); err != nil {
					b.Fatal(err)
				}
				if _, err = ours.decodeBytes("session", buf, &dst); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(mode.name+"/Both/securecookie", func(b *testing.B) {
			b.ReportAllocs()
			var v any = bytes.Clone(codecBenchPayload)
			var dst []byte
			for b.Loop() {
				s, err := ref.Encode("session", v)
				if err != nil {
					b.Fatal(err)
				}
				if err = ref.Decode("session", s, &dst); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkCodecSession round-trips a small session map: Codec with its
// default serializer (CompactSerializer) against securecookie with gob, both
// HMAC+AES.
func BenchmarkCodecSession(b *testing.B) {
	values := map[any]any{"user_id": "12345", "name": "Alice Example", "visits": 42}
	b.Run("Codec", func(b *testing.B) {
		b.ReportAllocs()
		c := NewCodec(codecHashKey, codecBlockKey)
		buf := make([]byte, 0, 512)
		var err error
		for b.Loop() {
			if buf, err = c.appendEncode(buf[:0], "session", values); err != nil {
				b.Fatal(err)
			}
			dst := map[any]any{}
			if _, err = c.decodeBytes("session", buf, &dst); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("securecookie", func(b *testing.B) {
		b.ReportAllocs()
		c := securecookie.New(codecHashKey, codecBlockKey)
		for b.Loop() {
			s, err := c.Encode("session", values)
			if err != nil {
				b.Fatal(err)
			}
			dst := map[any]any{}
			if err = c.Decode("session", s, &dst); err != nil {
				b.Fatal(err)
			}
		}
	})
}
