package sessions

import (
	"strings"
	"testing"
	"time"
)

// The README says that a change of a store's Options in a new release
// (Secure, Domain) reaches each browser with its session's next refresh,
// not at once: a session loaded after the change carries the new Options,
// and a changing Save sends the ID cookie again only when it is due.
func TestStoreOptionsChangeReachesBrowserAtRefresh(t *testing.T) {
	store := NewMemoryStore(testHash, testBlock)
	clock := &testClock{now: time.Now()}
	store.Now = clock.Now
	store.Options.MaxAge = 3600
	_, cookie := saveNew(t, store, map[any]any{"n": 0})

	store.Options.Secure = true // the new release
	setCookie := func(n int) string {
		ctx := requestWithCookie("sid", cookie)
		session, err := store.New(ctx, "sid")
		if err != nil || session.IsNew {
			t.Fatalf("request %d: new=%v, %v", n, session.IsNew, err)
		}
		session.Values["n"] = n // a change: the record is rewritten
		if err := store.Save(ctx, session); err != nil {
			t.Fatalf("request %d: %v", n, err)
		}
		return string(ctx.Response.Header.PeekCookie("sid"))
	}
	clock.Advance(time.Minute)
	if sc := setCookie(1); sc != "" {
		t.Errorf("a change right after the release sent %q: the new Options were not to reach the browser before the refresh", sc)
	}
	clock.Advance(10 * time.Minute) // past a tenth of the hour
	if sc := setCookie(2); !strings.Contains(sc, "; Secure") {
		t.Errorf("the change at the refresh sent %q, want the cookie again, now Secure", sc)
	}
}
