package compat

import (
	"encoding/gob"
	"testing"
	"time"

	gsessions "github.com/gorilla/sessions"
	"github.com/valyala/fasthttp"

	"github.com/fasthttp-sessions/sessions"
)

// profile is a custom type stored in sessions. Both libraries serialize with
// gob, so both sides need it registered under the same name; in one test
// binary one registration serves both.
type profile struct {
	Name  string
	Langs []string
	Admin bool
}

func init() {
	gob.Register(profile{})
	gob.Register(time.Time{})
	gob.Register(map[string]any{})
}

// basicValues are the values of the brief: a string and an int, plus one
// flash added with AddFlash("hello").
func basicValues() map[any]any {
	return map[any]any{"user": "alice", "visits": 42}
}

var basicFlashes = []any{"hello"}

// richValues cover the types applications commonly keep in sessions,
// including a non-string key and a gob-registered struct.
func richValues() map[any]any {
	return map[any]any{
		"user":    "alice",
		"visits":  42,
		"id":      int64(1) << 40,
		"small":   uint8(7),
		"ratio":   0.25,
		"admin":   true,
		"raw":     []byte{0, 1, 2, 255},
		"roles":   []string{"reader", "writer"},
		"prefs":   map[string]any{"theme": "dark", "size": 3},
		"login":   time.Date(2025, 3, 14, 15, 9, 26, 0, time.UTC),
		"profile": profile{Name: "Alice", Langs: []string{"en", "fr"}, Admin: true},
		7:         "seven",
		"":        "empty key",
	}
}

// TestGorillaCookieReadByUs: a cookie that gorilla/sessions' CookieStore
// writes (gob, HMAC+AES) is read by our CookieStore with the same keys; the
// flash comes out exactly once, and the session our handler saves again is
// still the same session on the next request of the same keep-alive
// connection.
func TestGorillaCookieReadByUs(t *testing.T) {
	for _, tc := range []struct {
		name    string
		values  map[any]any
		flashes []any
	}{
		{"basic", basicValues(), basicFlashes},
		{"rich", richValues(), []any{"hello", "world", 3}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			hash, block := keyPair(t)

			gorilla := startGorilla(t, gorillaWriter(t, gsessions.NewCookieStore(hash, block), tc.values, tc.flashes...))
			cookie := gorilla.get(t, "/", "")
			if cookie == "" {
				t.Fatal("gorilla set no session cookie")
			}

			var rec recorder
			ours := startFast(t, ourReader(ourStore(t, hash, block), &rec))

			// 1st request: gorilla's cookie; the flashes are there.
			resaved := ours.get(t, "/", cookie)
			first := rec.last(t)
			check(t, "our 1st read of gorilla's cookie", first, false, tc.values, tc.flashes)
			if resaved == "" {
				t.Fatal("our Save set no session cookie")
			}

			// 2nd request, same connection: our re-saved cookie; the
			// flashes were read, so they are gone, the values stay. Nothing
			// changed: our Save writes nothing and sends no cookie.
			again := ours.get(t, "/", resaved)
			second := rec.last(t)
			check(t, "our 2nd read (our re-saved cookie)", second, false, tc.values, nil)
			if again != "" {
				t.Fatal("our second Save, of an unchanged session, set a cookie")
			}

			// 3rd request, same connection, no cookie: a new, empty
			// session; nothing is left over from the earlier requests.
			ours.get(t, "/", "")
			third := rec.last(t)
			check(t, "our 3rd read (no cookie)", third, true, map[any]any{}, nil)

			if first.connID != second.connID || second.connID != third.connID ||
				first.connReq != 1 || second.connReq != 2 || third.connReq != 3 {
				t.Errorf("requests were not served on one keep-alive connection: (conn, req) = (%d, %d), (%d, %d), (%d, %d)",
					first.connID, first.connReq, second.connID, second.connReq, third.connID, third.connReq)
			}

			// The original gorilla cookie still holds the flashes: cookie
			// sessions cannot forget a cookie the client replays. Reading
			// it again shows them again; this is not a leak between
			// requests but the nature of cookie sessions.
			ours.get(t, "/", cookie)
			check(t, "our read of gorilla's cookie, replayed", rec.last(t), false, tc.values, tc.flashes)
		})
	}
}

// TestOurCookieReadByGorilla: a cookie that our CookieStore writes with gob
// is read by gorilla/sessions' CookieStore with the same keys, flashes
// included; the cookie gorilla saves again, without the flashes, reads back
// in ours.
func TestOurCookieReadByGorilla(t *testing.T) {
	for _, tc := range []struct {
		name    string
		values  map[any]any
		flashes []any
	}{
		{"basic", basicValues(), basicFlashes},
		{"rich", richValues(), []any{"hello", "world", 3}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			hash, block := keyPair(t)

			ours := startFast(t, ourWriter(t, ourStore(t, hash, block), tc.values, tc.flashes...))
			cookie := ours.get(t, "/", "")
			if cookie == "" {
				t.Fatal("our Save set no session cookie")
			}

			var grec recorder
			gorilla := startGorilla(t, gorillaReader(gsessions.NewCookieStore(hash, block), &grec))
			resaved := gorilla.get(t, "/", cookie)
			check(t, "gorilla's read of our cookie", grec.last(t), false, tc.values, tc.flashes)
			if resaved == "" {
				t.Fatal("gorilla set no session cookie")
			}
			gorilla.get(t, "/", resaved)
			check(t, "gorilla's read of its re-saved cookie", grec.last(t), false, tc.values, nil)

			// Full circle: gorilla's re-saved cookie, flashes read, in ours.
			var rec recorder
			back := startFast(t, ourReader(ourStore(t, hash, block), &rec))
			back.get(t, "/", resaved)
			check(t, "our read of gorilla's re-saved cookie", rec.last(t), false, tc.values, nil)
		})
	}
}

// TestSigningOnly: with hash keys only (no encryption) the cookies
// interoperate too.
func TestSigningOnly(t *testing.T) {
	hash := key(t, 64)

	ours := startFast(t, ourWriter(t, ourStore(t, hash), basicValues(), "hello"))
	cookie := ours.get(t, "/", "")

	var grec recorder
	gorilla := startGorilla(t, gorillaReader(gsessions.NewCookieStore(hash), &grec))
	resaved := gorilla.get(t, "/", cookie)
	check(t, "gorilla's read of our signed-only cookie", grec.last(t), false, basicValues(), basicFlashes)

	var rec recorder
	back := startFast(t, ourReader(ourStore(t, hash), &rec))
	back.get(t, "/", resaved)
	check(t, "our read of gorilla's signed-only cookie", rec.last(t), false, basicValues(), nil)
}

// TestKeyRotationAcrossLibraries: a cookie gorilla signed with the old keys
// is read by our store configured with (new, old) pairs; the cookie our
// store saves again is signed with the new pair: gorilla with only the new
// pair reads it, and gorilla with only the old pair does not.
func TestKeyRotationAcrossLibraries(t *testing.T) {
	oldHash, oldBlock := keyPair(t)
	newHash, newBlock := keyPair(t)

	oldGorilla := startGorilla(t, gorillaWriter(t, gsessions.NewCookieStore(oldHash, oldBlock), basicValues(), "hello"))
	oldCookie := oldGorilla.get(t, "/", "")
	if oldCookie == "" {
		t.Fatal("gorilla set no session cookie")
	}

	// Our store that knows only the new pair rejects the old cookie, as it
	// should, with a fresh session and an error saying why.
	var newOnlyRec recorder
	newOnly := startFast(t, ourReader(ourStore(t, newHash, newBlock), &newOnlyRec))
	newOnly.get(t, "/", oldCookie)
	if got := newOnlyRec.last(t); !got.isNew || len(got.values) != 0 || !errIs(got.err, sessions.ErrCookieInvalid) {
		t.Errorf("our new-keys-only store on an old cookie: IsNew = %v, Values = %s, err = %v; want a new empty session and ErrCookieInvalid",
			got.isNew, show(got.values), got.err)
	}

	// Rotation: (new, old).
	var rec recorder
	rotating := startFast(t, ourReader(ourStore(t, newHash, newBlock, oldHash, oldBlock), &rec))
	rotated := rotating.get(t, "/", oldCookie)
	check(t, "our (new, old) store on gorilla's old cookie", rec.last(t), false, basicValues(), basicFlashes)
	if rotated == "" {
		t.Fatal("our Save set no session cookie")
	}

	var newRec recorder
	newGorilla := startGorilla(t, gorillaReader(gsessions.NewCookieStore(newHash, newBlock), &newRec))
	newGorilla.get(t, "/", rotated)
	check(t, "gorilla with the new pair on our re-saved cookie", newRec.last(t), false, basicValues(), nil)

	var oldRec recorder
	oldOnly := startGorilla(t, gorillaReader(gsessions.NewCookieStore(oldHash, oldBlock), &oldRec))
	oldOnly.get(t, "/", rotated)
	if got := oldRec.last(t); got.err == nil || !got.isNew || len(got.values) != 0 {
		t.Errorf("gorilla with only the old pair read our re-saved cookie (IsNew = %v, Values = %s, err = %v): it was not re-signed with the new pair",
			got.isNew, show(got.values), got.err)
	}

	// And the other way: gorilla, rotating with (new, old), reads a cookie
	// our store signed with the old pair.
	oldOurs := startFast(t, ourWriter(t, ourStore(t, oldHash, oldBlock), basicValues(), "hello"))
	ourOldCookie := oldOurs.get(t, "/", "")
	var rotRec recorder
	gorillaRotating := startGorilla(t, gorillaReader(gsessions.NewCookieStore(newHash, newBlock, oldHash, oldBlock), &rotRec))
	gorillaRotated := gorillaRotating.get(t, "/", ourOldCookie)
	check(t, "gorilla's (new, old) store on our old cookie", rotRec.last(t), false, basicValues(), basicFlashes)
	newOnly.get(t, "/", gorillaRotated)
	check(t, "our new-keys-only store on gorilla's rotated cookie", newOnlyRec.last(t), false, basicValues(), nil)
}

// TestCookieNameIsSigned: the cookie name is part of the MAC in both
// libraries, so a cookie moved to another name is rejected.
func TestCookieNameIsSigned(t *testing.T) {
	hash, block := keyPair(t)
	gorillaStore := gsessions.NewCookieStore(hash, block)
	gorilla := startGorilla(t, gorillaWriter(t, gorillaStore, basicValues()))
	cookie := gorilla.get(t, "/", "")

	// Our store reads the cookie under another session name.
	store := ourStore(t, hash, block)
	var rec recorder
	ours := startFast(t, func(ctx *fasthttp.RequestCtx) {
		s, err := store.Get(ctx, "other")
		rec.add(seen{err: err, isNew: s.IsNew, values: cloneValues(s.Values)})
	})
	ours.getNamed(t, "/", "other", cookie)
	if got := rec.last(t); !got.isNew || len(got.values) != 0 || !errIs(got.err, sessions.ErrCookieInvalid) {
		t.Errorf("gorilla's cookie under another name: IsNew = %v, Values = %s, err = %v; want a new empty session and ErrCookieInvalid",
			got.isNew, show(got.values), got.err)
	}
}
