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

// The README says that RefreshAfter changes the rate of refreshes: a
// positive duration is taken as it is, up to half the lifetime, and a
// negative one refreshes on every Save. An unchanged session's Save sends
// its cookie again once RefreshAfter has passed since it was signed, not
// a second earlier.
func TestRefreshAfter(t *testing.T) {
	for _, c := range []struct {
		name       string
		after, due time.Duration
	}{
		{"ten minutes", 10 * time.Minute, 10 * time.Minute},
		{"above half the hour", 2 * time.Hour, 30 * time.Minute},
		{"negative", -1, time.Second},
	} {
		for _, kind := range []string{"MemoryStore", "CookieStore"} {
			t.Run(c.name+"/"+kind, func(t *testing.T) {
				clock := &testClock{now: time.Unix(1_800_000_000, 0)}
				var store Store
				if kind == "MemoryStore" {
					s := NewMemoryStore(testHash, testBlock)
					s.Now, s.RefreshAfter, s.Options.MaxAge = clock.Now, c.after, 3600
					store = s
				} else {
					s := NewCookieStore(testHash, testBlock)
					s.Now, s.RefreshAfter, s.Options.MaxAge = clock.Now, c.after, 3600
					store = s
				}
				_, cookie := saveNew(t, store, map[any]any{"user": "alice"})
				saveUnchanged := func() string {
					ctx := requestWithCookie("sid", cookie)
					session, err := store.New(ctx, "sid")
					if err != nil || session.IsNew {
						t.Fatalf("load: new=%v, %v", session.IsNew, err)
					}
					if err := store.Save(ctx, session); err != nil {
						t.Fatal(err)
					}
					return string(ctx.Response.Header.PeekCookie("sid"))
				}
				if c.due > time.Second {
					clock.Advance(c.due - time.Second)
					if sc := saveUnchanged(); sc != "" {
						t.Fatalf("an unchanged Save %v after the cookie was signed sent %q", c.due-time.Second, sc)
					}
					clock.Advance(time.Second)
				} else {
					clock.Advance(c.due)
				}
				if sc := saveUnchanged(); sc == "" {
					t.Errorf("an unchanged Save %v after the cookie was signed sent no cookie", c.due)
				}
			})
		}
	}
}
