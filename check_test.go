package sessions

import (
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/gorilla/securecookie"
	"github.com/valyala/fasthttp"
)

// A store with keys that cannot work says so at start-up (Check), and
// every Get and Save returns the same error, even without a cookie
// (issue 12, item 5); a 16-byte hash key, as gorilla sites may have, works.
func TestCheckKeys(t *testing.T) {
	empty, _ := hex.DecodeString("") // a non-nil, empty block key
	for _, c := range []struct {
		name  string
		pairs [][]byte
		ok    bool
		says  string
	}{
		{"no hash key", [][]byte{nil}, false, "hash key"},
		{"empty block key", [][]byte{testHash, empty}, false, "block key"},
		{"six-byte hash key", [][]byte{[]byte("secret")}, false, "16"},
		{"block key of 20 bytes", [][]byte{testHash, make([]byte, 20)}, false, "block key"},
		{"sixteen-byte hash key", [][]byte{[]byte("0123456789abcdef")}, true, ""},
		{"good keys", [][]byte{testHash, testBlock}, true, ""},
	} {
		stores := []Store{NewCookieStore(c.pairs...), NewMemoryStore(c.pairs...), NewFilesystemStore(t.TempDir(), c.pairs...)}
		for _, store := range stores {
			err := store.(interface{ Check() error }).Check()
			if c.ok {
				if err != nil {
					t.Errorf("%s, %T: Check = %v", c.name, store, err)
				}
				continue
			}
			if !errors.Is(err, ErrInvalidKey) || !strings.Contains(err.Error(), c.says) ||
				!strings.Contains(err.Error(), "openssl rand") || strings.Count(err.Error(), "sessions:") != 1 {
				t.Errorf("%s, %T: Check = %v; want ErrInvalidKey saying %q and how to make keys", c.name, store, err, c.says)
			}
			ts := newTestServer(t, func(ctx *fasthttp.RequestCtx) {
				s, getErr := store.Get(ctx, "sid")
				s.Values["a"] = 1
				fmt.Fprintf(ctx, "%v|%v", errors.Is(getErr, ErrInvalidKey), errors.Is(s.Save(ctx), ErrInvalidKey))
			})
			if _, body := ts.NewClient(1).Get("/"); body != "true|true" {
				t.Errorf("%s, %T: Get and Save wrapped ErrInvalidKey: %s", c.name, store, body)
			}
		}
	}
}

// SetSerializer chooses the serializer of every codec of a store: with
// gob, what gorilla/sessions writes; the store still reads both.
func TestSetSerializer(t *testing.T) {
	store := NewCookieStore(testHash, testBlock)
	store.SetSerializer(gobForTest{})
	_, cookie := saveNewCookie(t, store, "alice")
	s, err := load(t, NewCookieStore(testHash, testBlock), cookie) // the default store reads gob
	if err != nil || s.Values["user"] != "alice" {
		t.Fatalf("a gob cookie read by the default store: %v %v", s.Values, err)
	}
	if !usedGob {
		t.Fatal("SetSerializer did not reach the codecs")
	}
	store.SetSerializer(nil)
	usedGob = false
	saveNewCookie(t, store, "bob")
	if usedGob {
		t.Fatal("SetSerializer(nil) did not restore the default")
	}
}

// gobForTest is securecookie's gob serializer, noting that it ran.
type gobForTest struct{ securecookie.GobEncoder }

var usedGob bool

func (g gobForTest) Serialize(src any) ([]byte, error) {
	usedGob = true
	return g.GobEncoder.Serialize(src)
}
