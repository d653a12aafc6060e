package compat

import (
	"bytes"
	"encoding/gob"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/gorilla/securecookie"
	gsessions "github.com/gorilla/sessions"

	"github.com/fasthttp-sessions/sessions"
)

// Interoperability of our FilesystemStore with gorilla's: both keep the
// values in a file session_<ID> (mode 0600) in the store's folder, encoded
// with the store's codecs, and put only the encoded ID in the cookie. Every
// test here uses the stores' default MaxAge (30 days on both sides): gorilla
// deletes the file on a Save with MaxAge <= 0, where ours keeps it for a
// browser-session cookie (MaxAge 0), a documented difference.
//
// Not covered yet: key rotation of the ID cookie and of the files, and
// MaxAge < 0 (logout) on one side seen by the other.

// sessionFilePrefix is the prefix of the session files of both libraries.
const sessionFilePrefix = "session_"

// fsCases are the sessions the filesystem tests store.
func fsCases() []struct {
	name    string
	values  map[any]any
	flashes []any
} {
	return []struct {
		name    string
		values  map[any]any
		flashes []any
	}{
		{"basic", basicValues(), basicFlashes},
		{"rich", richValues(), []any{"hello", "world", 3}},
	}
}

// ourFilesystemStore returns our FilesystemStore in dir for the key pairs,
// serializing with gob.
func ourFilesystemStore(t testing.TB, dir string, keyPairs ...[]byte) *sessions.FilesystemStore {
	t.Helper()
	s := sessions.NewFilesystemStore(dir, keyPairs...)
	useGob(t, s.Codecs)
	return s
}

// reference returns the codec gorilla/sessions makes for these keys
// (securecookie, gob), with no length limit: what the tests decode cookies
// and files with, independently of either store.
func reference(hash, block []byte) *securecookie.SecureCookie {
	return securecookie.New(hash, block).MaxLength(0)
}

// cookieID decodes the session ID that an ID cookie holds, with codec.
func cookieID(t testing.TB, who string, codec securecookie.Codec, cookie string) string {
	t.Helper()
	if cookie == "" {
		t.Fatalf("%s: no session cookie", who)
	}
	var id string
	if err := codec.Decode(cookieName, cookie, &id); err != nil {
		t.Fatalf("%s: the cookie %q does not decode to an ID: %v", who, cookie, err)
	}
	if len(id) != 52 || strings.Trim(id, "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567") != "" {
		t.Fatalf("%s: the cookie holds %q, not a session ID", who, id)
	}
	return id
}

// checkSessionFile checks that the only session file in dir is the one of
// id, session_<id>, a regular file of mode 0600, and returns its contents.
func checkSessionFile(t testing.TB, who, dir, id string) []byte {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), sessionFilePrefix) {
			names = append(names, e.Name())
		}
	}
	sort.Strings(names)
	want := sessionFilePrefix + id
	if len(names) != 1 || names[0] != want {
		t.Fatalf("%s: session files in the folder are %q, want only %q", who, names, want)
	}
	path := filepath.Join(dir, want)
	fi, err := os.Lstat(path)
	if err != nil {
		t.Fatal(err)
	}
	if !fi.Mode().IsRegular() || fi.Mode().Perm() != 0o600 {
		t.Errorf("%s: %s has mode %v, want a regular file of mode 0600", who, want, fi.Mode())
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(data) == 0 {
		t.Fatalf("%s: %s is empty", who, want)
	}
	return data
}

// payload returns the serialized bytes inside encoded (a cookie value or a
// file's contents, signed with the name cookieName): the MAC is checked and
// the value decrypted with the keys, but nothing is deserialized.
func payload(t testing.TB, who string, hash, block []byte, encoded string) []byte {
	t.Helper()
	return payloadNamed(t, who, hash, block, cookieName, encoded)
}

// recordName is the name under which this package signs the record of id
// (gorilla/sessions signs it under the cookie name).
func recordName(id string) string { return "session/" + id }

// payloadNamed is payload for a value signed under name.
func payloadNamed(t testing.TB, who string, hash, block []byte, name, encoded string) []byte {
	t.Helper()
	var b []byte
	c := reference(hash, block).SetSerializer(securecookie.NopEncoder{})
	if err := c.Decode(name, encoded, &b); err != nil {
		t.Fatalf("%s: cannot open %q: %v", who, encoded, err)
	}
	if len(b) == 0 {
		t.Fatalf("%s: empty payload", who)
	}
	return b
}

// compactFirstByte is the first byte of everything CompactSerializer
// writes, which tells its format apart from gob.
func compactFirstByte(t testing.TB) byte {
	t.Helper()
	b, err := sessions.CompactSerializer{}.Serialize(map[any]any{"k": "v"})
	if err != nil || len(b) == 0 {
		t.Fatalf("CompactSerializer.Serialize: %q, %v", b, err)
	}
	return b[0]
}

// checkGob checks that b is a gob stream of a value of dst's type: its first
// byte is one a gob stream can start with (a message length: 0x00-0x7F, or
// 0xF8-0xFF for a longer count), which is how CompactSerializer recognizes
// gob, and it decodes with encoding/gob.
func checkGob(t testing.TB, who string, b []byte, dst any) {
	t.Helper()
	if first := b[0]; first > 0x7F && first < 0xF8 {
		t.Errorf("%s: payload starts with 0x%02X, which no gob stream starts with", who, first)
	}
	if first := b[0]; first == compactFirstByte(t) {
		t.Errorf("%s: payload starts with 0x%02X, CompactSerializer's first byte", who, first)
	}
	if err := gob.NewDecoder(bytes.NewReader(b)).Decode(dst); err != nil {
		t.Errorf("%s: payload is not a gob stream of a %T: %v", who, dst, err)
	}
}

// checkCompact checks that b is in CompactSerializer's format.
func checkCompact(t testing.TB, who string, b []byte) {
	t.Helper()
	if want := compactFirstByte(t); b[0] != want {
		t.Errorf("%s: payload starts with 0x%02X, want CompactSerializer's 0x%02X", who, b[0], want)
	}
}

// TestFilesystemGorillaToOurs: a session that gorilla's FilesystemStore
// saved (values and flashes, gob) is read by our FilesystemStore, with the
// same keys and folder, from gorilla's cookie: the same values, the flashes
// once. Our Save keeps the ID and the file (now written by us, still gob,
// and signed under its ID); gorilla still reads our cookie, but not that
// file any more: it starts a new session (the migration goes one way).
func TestFilesystemGorillaToOurs(t *testing.T) {
	for _, tc := range fsCases() {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			hash, block := keyPair(t)
			ref := reference(hash, block)

			gorilla := startGorilla(t, gorillaWriter(t, gsessions.NewFilesystemStore(dir, hash, block), tc.values, tc.flashes...))
			cookie := gorilla.get(t, "/", "")
			id := cookieID(t, "gorilla's cookie", ref, cookie)
			file := checkSessionFile(t, "after gorilla's Save", dir, id)
			var values map[any]any
			checkGob(t, "gorilla's file", payload(t, "gorilla's file", hash, block, string(file)), &values)

			var rec recorder
			ours := startFast(t, ourReader(ourFilesystemStore(t, dir, hash, block), &rec))

			// 1st request: gorilla's cookie; the flashes are there.
			resaved := ours.get(t, "/", cookie)
			first := rec.last(t)
			check(t, "our 1st read of gorilla's session", first, false, tc.values, tc.flashes)
			if got := cookieID(t, "our re-saved cookie", ref, resaved); got != id {
				t.Fatalf("our Save changed the session ID from %s to %s", id, got)
			}
			file = checkSessionFile(t, "after our Save", dir, id)
			checkGob(t, "our file", payloadNamed(t, "our file", hash, block, recordName(id), string(file)), &values)
			checkGob(t, "our ID cookie", payload(t, "our ID cookie", hash, block, resaved), new(string))

			// 2nd request, same connection: the flashes were read.
			ours.get(t, "/", resaved)
			second := rec.last(t)
			check(t, "our 2nd read", second, false, tc.values, nil)
			if first.connID != second.connID || first.connReq != 1 || second.connReq != 2 {
				t.Errorf("requests were not served on one keep-alive connection: (conn, req) = (%d, %d), (%d, %d)",
					first.connID, first.connReq, second.connID, second.connReq)
			}

			// Back to gorilla, with our cookie and the file our store wrote:
			// the file is bound to its ID, which gorilla does not know of.
			var grec recorder
			back := startGorilla(t, gorillaReader(gsessions.NewFilesystemStore(dir, hash, block), &grec))
			back.get(t, "/", resaved)
			refused(t, "gorilla's read of the session our store saved", grec.last(t))
		})
	}
}

// TestFilesystemOursToGorilla: the reverse. A session that our
// FilesystemStore saved with gob is signed under its ID: gorilla's
// FilesystemStore, with the same keys and folder, reads our cookie but not
// the file, and starts a new session, which our store then refuses to take
// for the old one (it is a new gorilla session under a new ID). A site
// cannot run both libraries on one folder; it can migrate from gorilla.
func TestFilesystemOursToGorilla(t *testing.T) {
	for _, tc := range fsCases() {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			hash, block := keyPair(t)
			ref := reference(hash, block)
			store := ourFilesystemStore(t, dir, hash, block)

			ours := startFast(t, ourWriter(t, store, tc.values, tc.flashes...))
			cookie := ours.get(t, "/", "")
			id := cookieID(t, "our cookie", ref, cookie)
			file := checkSessionFile(t, "after our Save", dir, id)
			var values map[any]any
			checkGob(t, "our file", payloadNamed(t, "our file", hash, block, recordName(id), string(file)), &values)
			checkGob(t, "our ID cookie", payload(t, "our ID cookie", hash, block, cookie), new(string))

			var grec recorder
			gorilla := startGorilla(t, gorillaReader(gsessions.NewFilesystemStore(dir, hash, block), &grec))
			gorilla.get(t, "/", cookie)
			refused(t, "gorilla's read of our session", grec.last(t))
		})
	}
}

// refused checks that gorilla/sessions refused a file signed under its ID:
// an error, and a new, empty session.
func refused(t testing.TB, who string, got seen) {
	t.Helper()
	if got.err == nil || !got.isNew || len(got.values) != 0 {
		t.Errorf("%s: err %v, IsNew %v, Values %s; want an error and a new, empty session", who, got.err, got.isNew, show(got.values))
	}
}

// TestDefaultSerializerReadsGorilla: our stores in their default
// configuration (CompactSerializer, no useGob) read what gorilla/sessions
// writes with gob, cookies and FilesystemStore files alike: the serializer
// tells gob from its own format by the first byte. What our store saves
// again is in the compact format, and reads back in ours. (gorilla cannot
// read it: a store shared with gorilla must be given gob, see useGob.)
func TestDefaultSerializerReadsGorilla(t *testing.T) {
	for _, tc := range fsCases() {
		t.Run("cookie/"+tc.name, func(t *testing.T) {
			hash, block := keyPair(t)

			gorilla := startGorilla(t, gorillaWriter(t, gsessions.NewCookieStore(hash, block), tc.values, tc.flashes...))
			cookie := gorilla.get(t, "/", "")
			if cookie == "" {
				t.Fatal("gorilla set no session cookie")
			}
			var values map[any]any
			checkGob(t, "gorilla's cookie", payload(t, "gorilla's cookie", hash, block, cookie), &values)

			var rec recorder
			ours := startFast(t, ourReader(sessions.NewCookieStore(hash, block), &rec))
			resaved := ours.get(t, "/", cookie)
			check(t, "our default store's read of gorilla's cookie", rec.last(t), false, tc.values, tc.flashes)
			if resaved == "" {
				t.Fatal("our Save set no session cookie")
			}
			checkCompact(t, "our re-saved cookie", payload(t, "our re-saved cookie", hash, block, resaved))

			ours.get(t, "/", resaved)
			check(t, "our default store's read of its re-saved cookie", rec.last(t), false, tc.values, nil)
		})

		t.Run("filesystem/"+tc.name, func(t *testing.T) {
			dir := t.TempDir()
			hash, block := keyPair(t)
			ref := reference(hash, block)

			gorilla := startGorilla(t, gorillaWriter(t, gsessions.NewFilesystemStore(dir, hash, block), tc.values, tc.flashes...))
			cookie := gorilla.get(t, "/", "")
			id := cookieID(t, "gorilla's cookie", ref, cookie)
			file := checkSessionFile(t, "after gorilla's Save", dir, id)
			var values map[any]any
			checkGob(t, "gorilla's file", payload(t, "gorilla's file", hash, block, string(file)), &values)
			checkGob(t, "gorilla's ID cookie", payload(t, "gorilla's ID cookie", hash, block, cookie), new(string))

			var rec recorder
			ours := startFast(t, ourReader(sessions.NewFilesystemStore(dir, hash, block), &rec))
			resaved := ours.get(t, "/", cookie)
			check(t, "our default store's read of gorilla's session", rec.last(t), false, tc.values, tc.flashes)
			if resaved == "" {
				t.Fatal("our Save set no session cookie")
			}
			checkCompact(t, "our re-saved ID cookie", payload(t, "our re-saved ID cookie", hash, block, resaved))
			var got string
			if err := sessions.NewCodec(hash, block).Decode(cookieName, resaved, &got); err != nil || got != id {
				t.Fatalf("our re-saved cookie holds %q (%v), want the ID %s", got, err, id)
			}
			file = checkSessionFile(t, "after our Save", dir, id)
			checkCompact(t, "our re-saved file", payloadNamed(t, "our re-saved file", hash, block, recordName(id), string(file)))

			ours.get(t, "/", resaved)
			check(t, "our default store's read of its re-saved session", rec.last(t), false, tc.values, nil)
			checkSessionFile(t, "after our second Save", dir, id)
		})
	}
}
