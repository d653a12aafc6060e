package sessions

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/fasthttp-sessions/sessions/internal/compact"
	"github.com/valyala/fasthttp"
)

// A value that no longer decodes (its gob type was renamed) is dropped
// alone, through a real server: the session loads with the rest, the error
// wraps ErrDeserialize and names the key and the record, and the next Save
// writes the session without it (issue 12, item 4).
func TestRecordValueDroppedAlone(t *testing.T) {
	store := NewMemoryStore(testHash, testBlock)
	session, cookie := saveNew(t, store, map[any]any{"user": "alice", "visits": 3, "cart": serTestPoint{X: 1}})
	// What a record of a binary in which the type was renamed looks like.
	plain, err := compact.Append(nil, map[any]any{"user": "alice", "visits": 3, "cart": serTestPoint{X: 1}})
	if err != nil {
		t.Fatal(err)
	}
	plain = bytes.Replace(plain, []byte("serTestPoint"), []byte("serTestPoinX"), 1)
	data, err := store.Codecs[0].(*Codec).sealPlain(nil, recordName(session.ID), plain)
	if err != nil {
		t.Fatal(err)
	}
	if err := store.Backend.Update(context.Background(), session.ID, data, time.Hour); err != nil {
		t.Fatal(err)
	}
	ts := newTestServer(t, func(ctx *fasthttp.RequestCtx) {
		s, err := store.Get(ctx, "sid")
		s.Values["visits"] = 4
		fmt.Fprintf(ctx, "new=%v user=%v cart=%v is=%v err=%v save=%v", s.IsNew, s.Values["user"], s.Values["cart"],
			errors.Is(err, ErrDeserialize), err, s.Save(ctx))
	})
	c := ts.NewClient(1)
	c.Jar["sid"] = cookie
	_, body := c.Get("/")
	mustContain(t, body, "new=false user=alice cart=<nil> is=true", `session "sid"`, "record", "cart", "save=<nil>")
	if strings.Contains(body, "invalid cookie") {
		t.Errorf("the error calls the record a cookie: %s", body)
	}
	_, body = c.Get("/")
	mustContain(t, body, "new=false user=alice cart=<nil> is=false err=<nil>")
}

// Server-side stores have no size limit by default: a large cart saves and
// loads; MaxLength sets one (issue 12, item 1).
func TestServerRecordsHaveNoCap(t *testing.T) {
	for _, store := range []*ServerStore{NewMemoryStore(testHash, testBlock).ServerStore,
		NewFilesystemStore(t.TempDir(), testHash, testBlock).ServerStore} {
		cart := make([]any, 110)
		for i := range cart {
			cart[i] = fmt.Sprintf("item %03d: a product with a fairly long name", i)
		}
		_, cookie := saveNew(t, store, map[any]any{"cart": cart})
		s, err := load(t, store, cookie)
		if err != nil || s.IsNew || len(s.Values["cart"].([]any)) != 110 {
			t.Fatalf("%T: a 110-item cart: new=%v err=%v", store.Backend, s.IsNew, err)
		}
		store.MaxLength(1000)
		ctx := requestWithCookie("x", "y")
		s, _ = store.New(ctx, "sid")
		s.Values["cart"] = cart
		if err := store.Save(ctx, s); !errors.Is(err, ErrCookieTooLong) {
			t.Fatalf("%T: with MaxLength 1000, Save = %v", store.Backend, err)
		}
	}
}
