package sessions

import (
	"bufio"
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime/debug"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/securecookie"
	"github.com/valyala/fasthttp"
)

// storeKind names one of the stores of the core.
type storeKind int

const (
	kindCookie storeKind = iota
	kindMemory
	kindFS
)

func (k storeKind) String() string {
	return [...]string{"CookieStore", "MemoryStore", "FilesystemStore"}[k]
}

var allKinds = []storeKind{kindCookie, kindMemory, kindFS}

// testStore is one store of the core with the handles the hardening tests
// need, whatever its type.
type testStore struct {
	kind   storeKind
	store  Store
	opts   *Options
	codecs []securecookie.Codec
	maxAge func(int)
	setNow func(func() time.Time)
	// dir is the folder of a FilesystemStore.
	dir string
	// records counts the records of a server-side store.
	records func() int
}

// newTestStore returns a new store of kind with keyPairs. A FilesystemStore
// keeps its files in dir, or in a new t.TempDir() when dir is "".
func newTestStore(t testing.TB, kind storeKind, dir string, keyPairs ...[]byte) *testStore {
	t.Helper()
	switch kind {
	case kindCookie:
		s := NewCookieStore(keyPairs...)
		return &testStore{kind: kind, store: s, opts: s.Options, codecs: s.Codecs, maxAge: s.MaxAge,
			setNow: func(now func() time.Time) { s.Now = now }}
	case kindMemory:
		s := NewMemoryStore(keyPairs...)
		return &testStore{kind: kind, store: s, opts: s.Options, codecs: s.Codecs, maxAge: s.MaxAge,
			setNow: func(now func() time.Time) { s.Now = now }, records: s.Len}
	default:
		if dir == "" {
			dir = t.TempDir()
		}
		s := NewFilesystemStore(dir, keyPairs...)
		return &testStore{kind: kind, store: s, opts: s.Options, codecs: s.Codecs, maxAge: s.MaxAge,
			setNow: func(now func() time.Time) { s.Now = now }, dir: dir,
			records: func() int {
				n := 0
				entries, _ := os.ReadDir(dir)
				for _, e := range entries {
					if strings.HasPrefix(e.Name(), filePrefix) {
						n++
					}
				}
				return n
			}}
	}
}

// mintCookie saves a new session named name holding values with store,
// straight on a RequestCtx, and returns the value of its cookie.
func mintCookie(t testing.TB, store Store, name string, values map[any]any) string {
	t.Helper()
	var ctx fasthttp.RequestCtx
	ctx.Init(&fasthttp.Request{}, nil, nil)
	s, err := store.New(&ctx, name)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range values {
		s.Values[k] = v
	}
	if err := store.Save(&ctx, s); err != nil {
		t.Fatal(err)
	}
	return cookieValue(t, &ctx, name)
}

// resign rewrites a cookie in securecookie's format, base64url of
// "date|value|mac", with another date, and signs it again with hashKey: the
// way to make expired and future-dated cookies without waiting.
func resign(t testing.TB, name, cookie, date string, hashKey []byte) string {
	t.Helper()
	raw, err := base64.URLEncoding.DecodeString(cookie)
	if err != nil {
		t.Fatalf("resign: %v", err)
	}
	parts := bytes.SplitN(raw, []byte("|"), 3)
	if len(parts) != 3 {
		t.Fatalf("resign: %q is not date|value|mac", raw)
	}
	body := fmt.Appendf(nil, "%s|%s", date, parts[1])
	mac := hmac.New(sha256.New, hashKey)
	mac.Write([]byte(name + "|"))
	mac.Write(body)
	return base64.URLEncoding.EncodeToString(append(append(body, '|'), mac.Sum(nil)...))
}

// flipMAC returns cookie with the last byte of its MAC flipped.
func flipMAC(t testing.TB, cookie string) string {
	t.Helper()
	raw, err := base64.URLEncoding.DecodeString(cookie)
	if err != nil {
		t.Fatal(err)
	}
	raw[len(raw)-1] ^= 0x01
	return base64.URLEncoding.EncodeToString(raw)
}

// hostileRow is one bad input: the raw Cookie header a client sends, and
// what the user must get.
type hostileRow struct {
	name string
	// header is the raw value of the Cookie header, sent byte for byte; it
	// may hold "\r\nCookie: " to send a second Cookie line.
	header string
	// want is the sentinel that Get's error wraps; nil when the contract
	// says there is no error.
	want error
	// loaded, when not "", says that the input carries a valid session
	// after all (as fasthttp parses it) and names the user it must load;
	// otherwise the session must be new and empty.
	loaded string
	// status, when not 0, is the status fasthttp answers without calling
	// the handler.
	status int
	// id is the session ID the cookie names, if any: a fresh session must
	// never be saved under it.
	id string
}

// hostileResult is what the handler saw, sent to the test over a channel.
type hostileResult struct {
	panicked string
	nilSess  bool
	getErr   error
	isNew    bool
	values   int
	user     string
	loadedID string
	saveErr  error
	savedID  string
}

// hostileHandler loads the session "sid", reports what it got, then
// stores a value and saves, as an application would.
func hostileHandler(store Store, results chan<- hostileResult) fasthttp.RequestHandler {
	return func(ctx *fasthttp.RequestCtx) {
		var r hostileResult
		defer func() {
			if p := recover(); p != nil {
				r.panicked = fmt.Sprintf("%v\n%s", p, debug.Stack())
			}
			results <- r
		}()
		s, err := store.Get(ctx, "sid")
		r.getErr, r.nilSess = err, s == nil
		if s == nil {
			return
		}
		r.isNew, r.values, r.user, r.loadedID = s.IsNew, len(s.Values), s.GetString("user"), s.ID
		if s.IsNew {
			s.Values["user"] = "fresh"
		}
		n, _ := s.GetInt("hits")
		s.Values["hits"] = n + 1
		r.saveErr = s.Save(ctx)
		r.savedID = s.ID
	}
}

// rawGet sends "GET / HTTP/1.1" with the raw Cookie header on a new
// connection to ts and returns the response status. It writes the bytes
// itself: fasthttp's client parses a Cookie header given to
// req.Header.Set and drops values holding '"' or '\' before sending.
func rawGet(t *testing.T, ts *testServer, header string) int {
	t.Helper()
	conn, err := ts.HostClient(1).Dial("test")
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(30 * time.Second))
	var req []byte
	req = append(req, "GET / HTTP/1.1\r\nHost: test\r\n"...)
	if header != "" {
		req = append(append(append(req, "Cookie: "...), header...), "\r\n"...)
	}
	req = append(req, "Connection: close\r\n\r\n"...)
	if _, err := conn.Write(req); err != nil {
		t.Fatal(err)
	}
	resp := fasthttp.AcquireResponse()
	defer fasthttp.ReleaseResponse(resp)
	if err := resp.Read(bufio.NewReader(conn)); err != nil {
		t.Fatalf("reading the response: %v", err)
	}
	return resp.StatusCode()
}

// snapshotOutside lists every entry under root except the contents of
// skip, with its mode, size, modification time and, for files, a hash.
func snapshotOutside(t *testing.T, root, skip string) map[string]string {
	t.Helper()
	snap := map[string]string{}
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		fi, err := d.Info()
		if err != nil {
			return err
		}
		if path == skip {
			snap[path] = "store folder " + fi.Mode().String()
			return filepath.SkipDir
		}
		desc := fmt.Sprintf("%v %d %d", fi.Mode(), fi.Size(), fi.ModTime().UnixNano())
		if fi.Mode().IsRegular() {
			b, err := os.ReadFile(path)
			if err != nil {
				return err
			}
			desc += fmt.Sprintf(" %x", sha256.Sum256(b))
		}
		snap[path] = desc
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return snap
}

// diffSnapshots describes the differences between two snapshots.
func diffSnapshots(before, after map[string]string) []string {
	var d []string
	for p, a := range after {
		if b, ok := before[p]; !ok {
			d = append(d, "created "+p)
		} else if a != b {
			d = append(d, "changed "+p)
		}
	}
	for p := range before {
		if _, ok := after[p]; !ok {
			d = append(d, "removed "+p)
		}
	}
	sort.Strings(d)
	return d
}

// hostileRows returns the bad inputs for st, a store behind a server.
func hostileRows(t *testing.T, st *testStore) []hostileRow {
	t.Helper()
	alice := mintCookie(t, st.store, "sid", map[any]any{"user": "alice"})
	bob := mintCookie(t, st.store, "sid", map[any]any{"user": "bob"})
	otherName := mintCookie(t, st.store, "other", map[any]any{"user": "alice"})
	rotatedOut := mintCookie(t, newTestStore(t, st.kind, "", oldHash, oldBlock).store, "sid", map[any]any{"user": "alice"})
	now := time.Now()
	expired := resign(t, "sid", alice, fmt.Sprint(now.Add(-60*24*time.Hour).Unix()), testHash)
	longAgo := resign(t, "sid", alice, "1000000000", testHash)
	future := resign(t, "sid", alice, fmt.Sprint(now.Add(365*24*time.Hour).Unix()), testHash)
	notADate := resign(t, "sid", alice, "yesterday", testHash)
	otherKey := resign(t, "sid", alice, fmt.Sprint(now.Unix()), oldHash)
	half := len(alice) / 2

	// Server-side stores refuse an ID cookie over 1 KiB before decoding it;
	// the cookie store, one over its MaxLength.
	tooLong := ErrCookieTooLong

	rows := []hostileRow{
		// Controls: the harness sees a loaded session when there is one.
		{name: "control: valid cookie", header: "sid=" + alice, loaded: "alice"},
		{name: "control: no cookie", header: ""},
		{name: "empty value", header: "sid="},
		{name: "only a cookie of another name", header: "other=" + otherName},
		{name: "name in another case", header: "SID=" + alice},

		{name: "invalid base64", header: "sid=not-base64!!", want: ErrCookieInvalid},
		{name: "invalid base64 padding", header: "sid=" + alice + "=", want: ErrCookieInvalid},
		{name: "base64 without separators", header: "sid=" + base64.URLEncoding.EncodeToString([]byte("user=admin")), want: ErrCookieInvalid},
		{name: "truncated", header: "sid=" + alice[:half], want: ErrCookieInvalid},
		{name: "percent-encoded", header: fmt.Sprintf("sid=%%%02X%s", alice[0], alice[1:]), want: ErrCookieInvalid},
		{name: "wrong MAC", header: "sid=" + flipMAC(t, alice), want: ErrCookieInvalid},
		{name: "MAC of another key", header: "sid=" + otherKey, want: ErrCookieInvalid},
		{name: "expired timestamp", header: "sid=" + expired, want: ErrCookieExpired},
		{name: "timestamp of 2001", header: "sid=" + longAgo, want: ErrCookieExpired},
		{name: "timestamp in the future", header: "sid=" + future, want: ErrCookieInvalid},
		{name: "timestamp not a number", header: "sid=" + notADate, want: ErrCookieInvalid},
		{name: "over-long value", header: "sid=" + strings.Repeat("A", 5000), want: tooLong},
		{name: "over-long valid prefix", header: "sid=" + alice + strings.Repeat("A", 5000), want: tooLong},
		{name: "longer than the server's read buffer", header: "sid=" + strings.Repeat("A", 20000), status: fasthttp.StatusRequestHeaderFieldsTooLarge},

		// fasthttp drops a value holding '"' or '\' (the cookie is absent),
		// unquotes a value wrapped in '"', and ends a value at ';'.
		{name: `value with " inside`, header: `sid=` + alice[:half] + `"` + alice[half:]},
		{name: `value with " unbalanced`, header: `sid="` + alice},
		{name: `value wrapped in "`, header: `sid="` + alice + `"`, loaded: "alice"},
		{name: `value with \`, header: `sid=` + alice + `\`},
		{name: `value with ; inside`, header: "sid=" + alice[:half] + ";" + alice[half:], want: ErrCookieInvalid},
		{name: "value with spaces around", header: "sid=  " + alice + "  ", loaded: "alice"},
		{name: "value with a space inside", header: "sid=" + alice[:half] + " " + alice[half:], want: ErrCookieInvalid},
		{name: "non-UTF-8 value", header: "sid=\xff\xfe\x80\xc3\x28", want: ErrCookieInvalid},
		{name: "valid cookie with a non-UTF-8 byte", header: "sid=" + alice + "\xff", want: ErrCookieInvalid},
		{name: "NUL in the header", header: "sid=" + alice[:half] + "\x00" + alice[half:], status: fasthttp.StatusBadRequest},
		{name: "CR in the header", header: "sid=" + alice + "\rX", status: fasthttp.StatusBadRequest},

		// Duplicate names: the first that fasthttp keeps wins.
		{name: "duplicate names, both valid", header: "sid=" + alice + "; sid=" + bob, loaded: "alice"},
		{name: "duplicate names, first invalid", header: "sid=garbage; sid=" + bob, want: ErrCookieInvalid},
		{name: "duplicate names, second invalid", header: "sid=" + bob + "; sid=garbage", loaded: "bob"},
		{name: `duplicate names, first dropped for \`, header: `sid=a\b; sid=` + bob, loaded: "bob"},
		{name: "duplicate names on two Cookie lines", header: "sid=" + bob + "\r\nCookie: sid=" + alice, loaded: "bob"},

		{name: "valid cookie of another session name", header: "sid=" + otherName, want: ErrCookieInvalid},
		{name: "cookie from a rotated-out key", header: "sid=" + rotatedOut, want: ErrCookieInvalid},
	}
	if st.kind == kindCookie {
		return rows
	}

	// Server-side stores: IDs signed with the store's own key.
	signed := func(id string) string {
		t.Helper()
		enc, err := st.codecs[0].Encode("sid", id)
		if err != nil {
			t.Fatalf("encoding the ID %q: %v", id, err)
		}
		return enc
	}
	absent, err := newID(nil)
	if err != nil {
		t.Fatal(err)
	}
	valid := strings.Repeat("A", idLength)
	for _, c := range []struct{ name, id string }{
		{"empty ID", ""},
		{"ID too short", valid[:idLength-1]},
		{"ID of one character", "A"},
		{"ID too long", valid + "A"},
		{"ID of 500 characters", strings.Repeat("A", 500)},
		{"ID with /", valid[:idLength-1] + "/"},
		{"ID with ..", valid[:idLength-2] + ".."},
		{"ID ../ escaping the folder", "../" + valid[:idLength-3]},
		{"ID ../../etc/passwd", "../../etc/passwd"},
		// filepath.Join(dir, "session_"+id) is dir/../escaped for these.
		{"ID /../../ escaping the folder", "/../../escaped"},
		{"ID /../../ naming the decoy", "/../../" + filePrefix + "decoy"},
		{"ID with NUL", valid[:idLength-1] + "\x00"},
		{"ID with \\", valid[:idLength-1] + `\`},
		{"ID in lower case", strings.ToLower(valid)},
		{"ID with base32 digits 0 1 8 9", strings.Repeat("0189", idLength/4)},
		{"ID with non-UTF-8 bytes", valid[:idLength-2] + "\xff\xfe"},
		{"ID naming a temporary file", tempPrefix + valid[:idLength-len(tempPrefix)]},
	} {
		rows = append(rows, hostileRow{name: c.name, header: "sid=" + signed(c.id), want: ErrCookieInvalid, id: c.id})
	}
	// A validly signed, well-formed ID without a record: a new session and
	// no error (logged out, renewed or expired), never saved under that ID.
	rows = append(rows, hostileRow{name: "validly signed ID without a record", header: "sid=" + signed(absent), id: absent})
	return rows
}

// TestHostileCookies sends every bad cookie of hostileRows to every store
// of the core through a real server: each yields a fresh session and the
// error the row names, writes nothing outside the store's folder, and
// panics nowhere.
func TestHostileCookies(t *testing.T) {
	total := 0
	for _, kind := range allKinds {
		t.Run(kind.String(), func(t *testing.T) {
			root := t.TempDir()
			dir := filepath.Join(root, "a", "b", "store")
			if err := os.MkdirAll(dir, 0o700); err != nil {
				t.Fatal(err)
			}
			// Decoys one and two levels up, where a "../" would land.
			for _, p := range []string{filepath.Join(root, "a", "b", filePrefix+"decoy"), filepath.Join(root, "a", "x")} {
				if err := os.WriteFile(p, []byte("decoy"), 0o600); err != nil {
					t.Fatal(err)
				}
			}
			st := newTestStore(t, kind, dir, testHash, testBlock)
			results := make(chan hostileResult, 1)
			ts := newTestServer(t, hostileHandler(st.store, results))
			rows := hostileRows(t, st)
			for _, row := range rows {
				t.Run(row.name, func(t *testing.T) { runHostile(t, ts, st, root, results, row) })
			}
			total += len(rows)
			t.Logf("%s: %d hostile inputs", kind, len(rows))
		})
	}
	t.Logf("hostile inputs tried: %d across %d stores", total, len(allKinds))
}

func runHostile(t *testing.T, ts *testServer, st *testStore, root string, results chan hostileResult, row hostileRow) {
	t.Helper()
	var before map[string]string
	if st.kind == kindFS {
		before = snapshotOutside(t, root, st.dir)
	}
	status := rawGet(t, ts, row.header)
	var r hostileResult
	select {
	case r = <-results:
	default:
		if row.status == 0 {
			t.Fatalf("status %d: the handler was not called", status)
		}
	}
	switch {
	case row.status != 0:
		if status != row.status || r != (hostileResult{}) {
			t.Fatalf("status %d (handler called: %v), want %d from fasthttp without the handler", status, r != (hostileResult{}), row.status)
		}
		return
	case r.panicked != "":
		t.Fatalf("panic: %s", r.panicked)
	case r.nilSess:
		t.Fatalf("Get returned a nil session (error %v)", r.getErr)
	case status != fasthttp.StatusOK:
		t.Fatalf("status %d", status)
	}

	if row.want == nil {
		if r.getErr != nil {
			t.Errorf("Get error = %v, want nil", r.getErr)
		}
	} else if !errors.Is(r.getErr, row.want) || !strings.HasPrefix(r.getErr.Error(), "sessions: ") {
		t.Errorf("Get error = %v, want one wrapping %q and starting \"sessions: \"", r.getErr, row.want)
	}
	if row.loaded != "" {
		if r.isNew || r.user != row.loaded {
			t.Errorf("session new=%v user=%q, want user %q loaded", r.isNew, r.user, row.loaded)
		}
	} else {
		if !r.isNew || r.values != 0 || r.loadedID != "" {
			t.Errorf("session new=%v with %d values (user %q) and ID %q, want a fresh, empty one", r.isNew, r.values, r.user, r.loadedID)
		}
	}
	if r.saveErr != nil {
		t.Errorf("saving the session afterwards: %v", r.saveErr)
	}
	if st.kind != kindCookie {
		if !validID(r.savedID) || (row.id != "" && r.savedID == row.id) {
			t.Errorf("session saved under ID %q (the cookie named %q)", r.savedID, row.id)
		}
	}
	if st.kind == kindFS {
		if d := diffSnapshots(before, snapshotOutside(t, root, st.dir)); len(d) > 0 {
			t.Errorf("written outside the store's folder: %v", d)
		}
		entries, err := os.ReadDir(st.dir)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range entries {
			name := e.Name()
			if lock, spare := strings.HasPrefix(name, ".lock-") && len(name) == len(".lock-00"),
				strings.HasPrefix(name, ".spare-") && len(name) == len(".spare-00"); (lock || spare) && e.Type().IsRegular() {
				continue // a lock file or a spare file (see stripe)
			}
			if id, ok := strings.CutPrefix(name, filePrefix); !ok || !validID(id) || !e.Type().IsRegular() {
				t.Errorf("the store's folder holds %q", e.Name())
			}
		}
	}
}
