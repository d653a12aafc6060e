package compat

import (
	"net/http"
	"testing"
	"time"

	gsessions "github.com/gorilla/sessions"
	"github.com/valyala/fasthttp"

	"github.com/fasthttp-sessions/sessions"
)

// TestSetCookieMatchesGorilla: given the same Options, our Save sends a
// Set-Cookie that net/http parses into the same attributes as the one
// gorilla/sessions sends. The defaults differ on purpose (see
// sessions.Options), so each case sets the Options on both sides.
func TestSetCookieMatchesGorilla(t *testing.T) {
	const day = 86400
	for _, tc := range []struct {
		name string
		g    gsessions.Options
		o    sessions.Options
	}{
		{
			"gorilla's defaults",
			gsessions.Options{Path: "/", MaxAge: 30 * day, SameSite: http.SameSiteNoneMode, Secure: true},
			sessions.Options{Path: "/", MaxAge: 30 * day, SameSite: fasthttp.CookieSameSiteNoneMode, Secure: true},
		},
		{
			"our defaults",
			gsessions.Options{Path: "/", MaxAge: 30 * day, SameSite: http.SameSiteLaxMode, HttpOnly: true},
			sessions.Options{Path: "/", MaxAge: 30 * day, SameSite: fasthttp.CookieSameSiteLaxMode, HttpOnly: true},
		},
		{
			"browser session",
			gsessions.Options{Path: "/", MaxAge: 0, HttpOnly: true, SameSite: http.SameSiteStrictMode},
			sessions.Options{Path: "/", MaxAge: 0, HttpOnly: true, SameSite: fasthttp.CookieSameSiteStrictMode},
		},
		{
			"delete",
			gsessions.Options{Path: "/", MaxAge: -1, HttpOnly: true},
			sessions.Options{Path: "/", MaxAge: -1, HttpOnly: true},
		},
		{
			"domain and sub-path",
			gsessions.Options{Path: "/app", Domain: "example.com", MaxAge: 3600, Secure: true},
			sessions.Options{Path: "/app", Domain: "example.com", MaxAge: 3600, Secure: true},
		},
		{
			"partitioned",
			gsessions.Options{Path: "/", MaxAge: 600, Secure: true, Partitioned: true, SameSite: http.SameSiteNoneMode},
			sessions.Options{Path: "/", MaxAge: 600, Secure: true, Partitioned: true, SameSite: fasthttp.CookieSameSiteNoneMode},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			hash, block := keyPair(t)

			gorilla := startGorilla(t, gorillaWriterWith(t, gsessions.NewCookieStore(hash, block), &tc.g, basicValues()))
			gorilla.get(t, "/", "")
			ours := startFast(t, ourWriterWith(t, ourStore(t, hash, block), &tc.o, basicValues()))
			ours.get(t, "/", "")

			if gorilla.lastSetCookie == "" || ours.lastSetCookie == "" {
				t.Fatalf("a session cookie is missing: gorilla %q, ours %q", gorilla.lastSetCookie, ours.lastSetCookie)
			}
			g, err := http.ParseSetCookie(gorilla.lastSetCookie)
			if err != nil {
				t.Fatalf("gorilla's Set-Cookie %q: %v", gorilla.lastSetCookie, err)
			}
			o, err := http.ParseSetCookie(ours.lastSetCookie)
			if err != nil {
				t.Fatalf("our Set-Cookie %q: %v", ours.lastSetCookie, err)
			}
			t.Logf("gorilla: %s", gorilla.lastSetCookie)
			t.Logf("ours:    %s", ours.lastSetCookie)

			if o.Name != g.Name || o.Path != g.Path || o.Domain != g.Domain || o.MaxAge != g.MaxAge ||
				o.Secure != g.Secure || o.HttpOnly != g.HttpOnly || o.SameSite != g.SameSite || o.Partitioned != g.Partitioned {
				t.Errorf("attributes differ:\n gorilla: name=%s path=%q domain=%q maxage=%d secure=%v httponly=%v samesite=%v partitioned=%v\n ours:    name=%s path=%q domain=%q maxage=%d secure=%v httponly=%v samesite=%v partitioned=%v",
					g.Name, g.Path, g.Domain, g.MaxAge, g.Secure, g.HttpOnly, g.SameSite, g.Partitioned,
					o.Name, o.Path, o.Domain, o.MaxAge, o.Secure, o.HttpOnly, o.SameSite, o.Partitioned)
			}
			switch {
			case tc.o.MaxAge < 0:
				// A deletion cookie: ours sends an empty value; gorilla
				// encodes the values anyway. Browsers drop both.
				if o.Value != "" {
					t.Errorf("our deletion cookie has a value: %q", o.Value)
				}
			case o.Value == "" || g.Value == "":
				t.Errorf("value: gorilla %q, ours %q: want both non-empty", g.Value, o.Value)
			}
			if o.Expires.IsZero() != g.Expires.IsZero() {
				t.Errorf("Expires: gorilla %v, ours %v", g.Expires, o.Expires)
			} else if d := o.Expires.Sub(g.Expires).Abs(); d > 5*time.Second {
				t.Errorf("Expires: gorilla %v, ours %v: %v apart", g.Expires, o.Expires, d)
			}
		})
	}
}

// TestPerSessionMaxAge: a session given its own MaxAge ("remember me") keeps
// it on our side across requests. Our store carries that setting inside the
// values, which gorilla/sessions sees as one extra value: this test pins
// down what a gorilla application sharing the cookie sees, and checks that
// gorilla keeps the setting when it saves the session again.
func TestPerSessionMaxAge(t *testing.T) {
	const week = 7 * 86400
	hash, block := keyPair(t)
	store := ourStore(t, hash, block)
	if store.Options.MaxAge == week {
		t.Fatal("the store's MaxAge must differ from the session's for this test")
	}

	ours := startFast(t, ourWriterWith(t, store, &sessions.Options{Path: "/", MaxAge: week, HttpOnly: true}, basicValues()))
	cookie := ours.get(t, "/", "")

	var grec recorder
	gstore := gsessions.NewCookieStore(hash, block)
	gorilla := startGorilla(t, gorillaReader(gstore, &grec))
	resaved := gorilla.get(t, "/", cookie)
	got := grec.last(t)
	if got.err != nil || got.isNew {
		t.Fatalf("gorilla's read of our remember-me cookie: IsNew = %v, err = %v", got.isNew, got.err)
	}
	var extra []any
	for k, v := range got.values {
		if want, ok := basicValues()[k]; ok {
			if v != want {
				t.Errorf("gorilla sees %#v = %#v, want %#v", k, v, want)
			}
			continue
		}
		extra = append(extra, k)
		t.Logf("gorilla sees an extra value our store added: %#v = %#v", k, v)
	}
	for k := range basicValues() {
		if _, ok := got.values[k]; !ok {
			t.Errorf("gorilla does not see %#v", k)
		}
	}
	if len(extra) > 1 {
		t.Errorf("gorilla sees %d extra values %v; want at most the one our store keeps its settings in", len(extra), extra)
	}

	// gorilla saved the session again with its own MaxAge, keeping our
	// entry: our store reads back the session's MaxAge, and hides the entry.
	var rec recorder
	// A store that re-signs on every Save, so that the re-saved cookie
	// shows the MaxAge the session kept (an unchanged session is not
	// written by default).
	reader := ourStore(t, hash, block)
	reader.RefreshAfter = -1
	back := startFast(t, ourReader(reader, &rec))
	back.get(t, "/", resaved)
	r := rec.last(t)
	check(t, "our read of gorilla's re-saved remember-me cookie", r, false, basicValues(), nil)
	if r.maxAge != week {
		t.Errorf("our session's MaxAge after gorilla re-saved it = %d, want %d", r.maxAge, week)
	}
	if c, err := http.ParseSetCookie(back.lastSetCookie); err != nil || c.MaxAge != week {
		t.Errorf("our re-saved cookie %q: Max-Age is not the session's %d (err %v)", back.lastSetCookie, week, err)
	}
}
