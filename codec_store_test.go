package sessions

import (
	"bytes"
	"encoding/base64"
	"encoding/gob"
	"errors"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/fasthttp-sessions/sessions/internal/compact"
	"github.com/gorilla/securecookie"
	"github.com/valyala/fasthttp"
)

// wrapperCodec is a user's own codec around NewCodec: its values are in
// securecookie's format, but it is neither a *Codec nor a
// *securecookie.SecureCookie.
type wrapperCodec struct{ c *Codec }

func (w wrapperCodec) Encode(name string, v any) (string, error) { return w.c.Encode(name, v) }
func (w wrapperCodec) Decode(name, value string, dst any) error  { return w.c.Decode(name, value, dst) }

// foreignCodec writes base64 of gob, without any date.
type foreignCodec struct{}

func (foreignCodec) Encode(_ string, v any) (string, error) {
	var b bytes.Buffer
	err := gob.NewEncoder(&b).Encode(v)
	return base64.URLEncoding.EncodeToString(b.Bytes()), err
}

func (foreignCodec) Decode(_, value string, dst any) error {
	b, err := base64.URLEncoding.DecodeString(value)
	if err != nil {
		return err
	}
	return gob.NewDecoder(bytes.NewReader(b)).Decode(dst)
}

// TestCodecWrapperThroughStores: a store given a wrapper around NewCodec
// keeps its sessions (the signed date is read from the value), and they
// still expire.
func TestCodecWrapperThroughStores(t *testing.T) {
	var now atomic.Int64
	now.Store(1_700_000_000)
	clock := func() time.Time { return time.Unix(now.Load(), 0) }
	wrap := func(codecs []securecookie.Codec) []securecookie.Codec {
		for i, c := range codecs {
			codecs[i] = wrapperCodec{c.(*Codec).setClock(clock)}
		}
		return codecs
	}
	stores := map[string]func() Store{
		"CookieStore": func() Store {
			s := NewCookieStore(testHash, testBlock)
			s.Codecs, s.Now, s.Options.MaxAge = wrap(s.Codecs), clock, 60
			return s
		},
		"MemoryStore": func() Store {
			s := NewMemoryStore(testHash, testBlock)
			s.Codecs, s.Now, s.Options.MaxAge = wrap(s.Codecs), clock, 60
			return s
		},
	}
	for name, newStore := range stores {
		t.Run(name, func(t *testing.T) {
			store := newStore()
			if err := checkCodecs(codecsOf(store)); err != nil {
				t.Fatalf("checkCodecs: %v", err)
			}
			srv := newTestServer(t, func(ctx *fasthttp.RequestCtx) {
				s, err := store.Get(ctx, "sid")
				if string(ctx.Path()) == "/login" {
					s.Values["user"] = "alice"
				}
				if err := s.Save(ctx); err != nil {
					ctx.Error(err.Error(), fasthttp.StatusInternalServerError)
					return
				}
				user, _ := s.Values["user"].(string)
				ctx.WriteString(user + " " + errString(err))
			})
			c := srv.NewClient(1)
			if code, body := c.Get("/login"); code != 200 || body != "alice <nil>" {
				t.Fatalf("login: %d %q", code, body)
			}
			now.Add(30)
			if _, body := c.Get("/"); body != "alice <nil>" {
				t.Fatalf("30 s later: %q, want the session", body)
			}
			now.Add(61)
			if _, body := c.Get("/"); strings.HasPrefix(body, "alice") {
				t.Fatalf("61 s after the last save (MaxAge 60): %q, want a new session", body)
			}
		})
	}
}

func codecsOf(s Store) []securecookie.Codec {
	switch s := s.(type) {
	case *CookieStore:
		return s.Codecs
	case *MemoryStore:
		return s.Codecs
	}
	panic("codecsOf")
}

func errString(err error) string {
	if err == nil {
		return "<nil>"
	}
	return err.Error()
}

func TestCheckCodecs(t *testing.T) {
	good := NewCodec(codecHashKey, codecBlockKey)
	for _, tc := range []struct {
		name   string
		codecs []securecookie.Codec
		want   string // in the message; "" for no error
	}{
		{"codecs", []securecookie.Codec{good, NewCodec(codecOtherHashKey, nil)}, ""},
		{"16-byte hash key", []securecookie.Codec{NewCodec(codecHashKey[:16], nil)}, ""},
		{"securecookie", []securecookie.Codec{securecookie.New(codecHashKey, codecBlockKey)}, ""},
		{"securecookie with a negative MaxAge", []securecookie.Codec{securecookie.New(codecHashKey, nil).MaxAge(-1)}, ""},
		{"wrapper", []securecookie.Codec{wrapperCodec{NewCodec(codecHashKey, nil)}}, ""},
		{"none", nil, "no codecs"},
		{"nil codec", []securecookie.Codec{good, nil}, "codec 1 (<nil>)"},
		{"short hash key", []securecookie.Codec{good, NewCodec([]byte("secret"), nil)}, "codec 1 (*sessions.Codec): the hash key is 6 bytes"},
		{"bad block key", []securecookie.Codec{NewCodec(codecHashKey, []byte("short"))}, "codec 0 (*sessions.Codec): the block key is 5 bytes"},
		{"securecookie without hash key", []securecookie.Codec{securecookie.New(nil, nil)}, "codec 0 (*securecookie.SecureCookie)"},
		{"securecookie with a bad block key", []securecookie.Codec{securecookie.New(codecHashKey, []byte("bad"))}, "codec 0 (*securecookie.SecureCookie)"},
		{"wrapper with a bad key", []securecookie.Codec{wrapperCodec{NewCodec(nil, nil)}}, "codec 0 (sessions.wrapperCodec): the hash key is empty"},
		{"foreign format", []securecookie.Codec{good, foreignCodec{}}, "codec 1 (sessions.foreignCodec) does not write securecookie's format"},
		{"wrapper that cannot encode session values", []securecookie.Codec{wrapperCodec{NewCodec(codecHashKey, nil).SetSerializer(securecookie.NopEncoder{})}},
			"codec 0 (sessions.wrapperCodec): cannot serialize values"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := checkCodecs(tc.codecs)
			if tc.want == "" {
				if err != nil {
					t.Fatalf("checkCodecs = %v, want nil", err)
				}
				return
			}
			checkCodecErr(t, err, ErrInvalidKey)
			if msg := err.Error(); !strings.Contains(msg, tc.want) || strings.Count(msg, "sessions: ") != 1 {
				t.Fatalf("checkCodecs = %q, want %q and one \"sessions: \"", msg, tc.want)
			}
		})
	}
}

// TestDecodeAnyNeedsADate: a codec whose values carry no date is never a
// success with a zero date; a codec after it that reads the value is.
func TestDecodeAnyNeedsADate(t *testing.T) {
	enc, err := foreignCodec{}.Encode("n", map[any]any{"a": 1})
	if err != nil {
		t.Fatal(err)
	}
	var got map[any]any
	ts, err := decodeAny([]securecookie.Codec{foreignCodec{}}, "n", []byte(enc), &got)
	checkCodecErr(t, err, ErrInvalidKey)
	if ts != 0 || !strings.Contains(err.Error(), "carry no signed date") {
		t.Fatalf("decodeAny = %d, %v", ts, err)
	}
	w := wrapperCodec{NewCodec(codecHashKey, nil)}
	enc, _ = w.Encode("n", map[any]any{"a": 1})
	ts, err = decodeAny([]securecookie.Codec{foreignCodec{}, w}, "n", []byte(enc), &got)
	if now := time.Now().Unix(); err != nil || ts < now-5 || ts > now || got["a"] != 1 {
		t.Fatalf("decodeAny = %d, %v, %v", ts, got, err)
	}
}

// TestCodecDropsUndecodableValues: a value of the session that cannot be
// decoded (here its gob type is no longer registered) is left out alone,
// and the signed date comes back, through every kind of codec.
func TestCodecDropsUndecodableValues(t *testing.T) {
	const signed = 1_700_000_000
	clock := func() time.Time { return time.Unix(signed, 0) }
	c := NewCodec(codecHashKey, codecBlockKey).setClock(clock)
	values := map[any]any{"user": "alice", "cart": serTestPoint{X: 1}, "visits": 3}
	plain, err := compact.Append(nil, values)
	if err != nil {
		t.Fatal(err)
	}
	plain = bytes.Replace(plain, []byte("serTestPoint"), []byte("serTestPoinX"), 1) // a renamed type
	enc, err := c.sealPlain(nil, "sid", plain)
	if err != nil {
		t.Fatal(err)
	}
	sc := securecookie.New(codecHashKey, codecBlockKey).SetSerializer(CompactSerializer{}).MaxAge(0)
	for _, tc := range []struct {
		name   string
		codecs []securecookie.Codec
	}{
		{"Codec", []securecookie.Codec{c}},
		{"after another key", []securecookie.Codec{NewCodec(codecOtherHashKey, nil), c}},
		{"wrapper", []securecookie.Codec{wrapperCodec{c}}},
		{"securecookie", []securecookie.Codec{sc}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := map[any]any{"stale": true}
			ts, err := decodeAny(tc.codecs, "sid", enc, &got)
			var dv *compact.DroppedError
			if !errors.As(err, &dv) || err != error(dv) {
				t.Fatalf("decodeAny error %v (%T), want a *compact.DroppedError", err, err)
			}
			checkCodecErr(t, err, ErrDeserialize)
			msg := err.Error()
			if errors.Is(err, ErrCookieInvalid) || strings.Contains(msg, "cookie") || !strings.Contains(msg, "cart") ||
				!strings.Contains(msg, "not registered") || strings.Count(msg, "sessions: ") != 1 {
				t.Fatalf("error %q: want ErrDeserialize only, naming cart and the cause, without \"cookie\"", msg)
			}
			if ts != signed || len(got) != 2 || got["user"] != "alice" || got["visits"] != 3 {
				t.Fatalf("decoded %#v (ts %d), want user and visits", got, ts)
			}
		})
	}
	// Decode (the securecookie.Codec method) keeps the rest too.
	got := map[any]any{}
	if err := c.Decode("sid", string(enc), &got); !errors.Is(err, ErrDeserialize) || len(got) != 2 {
		t.Fatalf("Decode: %v, %v", got, err)
	}
}

func TestSetCodecsSerializer(t *testing.T) {
	ours, sc := NewCodec(codecHashKey, nil), securecookie.New(codecHashKey, nil)
	codecs := []securecookie.Codec{ours, sc, wrapperCodec{NewCodec(codecHashKey, nil)}}
	setCodecsSerializer(codecs, securecookie.JSONEncoder{})
	for _, c := range codecs[:2] {
		enc, err := c.Encode("n", map[string]int{"a": 1})
		if err != nil {
			t.Fatal(err)
		}
		var got map[string]int // JSON, read by a reference codec
		if err := securecookie.New(codecHashKey, nil).SetSerializer(securecookie.JSONEncoder{}).Decode("n", enc, &got); err != nil || got["a"] != 1 {
			t.Fatalf("%T: %v, %v", c, got, err)
		}
	}
	if _, ok := codecs[2].(wrapperCodec).c.sz.(CompactSerializer); !ok {
		t.Fatal("the serializer of a codec it does not know was changed")
	}
	setCodecsSerializer(codecs, nil)
	if _, ok := ours.sz.(CompactSerializer); !ok {
		t.Fatalf("nil gave %T to a Codec, want CompactSerializer", ours.sz)
	}
	enc, _ := sc.Encode("n", "v")
	var v string
	if err := securecookie.New(codecHashKey, nil).Decode("n", enc, &v); err != nil || v != "v" {
		t.Fatalf("nil did not give gob back to securecookie: %v", err)
	}
}
