package sessions

import (
	"bufio"
	"bytes"
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/valyala/fasthttp"
)

// fuzzRequestCtx parses "GET / HTTP/1.1" with header as the value of its
// Cookie header, as the server would read it (with testsrv's 16 KiB read
// buffer), into a new RequestCtx. It returns nil when fasthttp rejects the
// request: the server then answers 400 without calling any handler.
func fuzzRequestCtx(header []byte) *fasthttp.RequestCtx {
	raw := make([]byte, 0, len(header)+64)
	raw = append(raw, "GET / HTTP/1.1\r\nHost: test\r\nCookie: "...)
	raw = append(append(raw, header...), "\r\n\r\n"...)
	var req fasthttp.Request
	if err := req.Read(bufio.NewReaderSize(bytes.NewReader(raw), 16<<10)); err != nil {
		return nil
	}
	ctx := new(fasthttp.RequestCtx)
	ctx.Init(&req, nil, nil)
	return ctx
}

// checkFuzzGet loads the session "sid" of the request with store.Get and
// checks the contract: never a nil session; on error a new, empty session
// with no ID and an error starting "sessions: " that wraps one of the
// sentinels of bad cookies; the same session from a second Get.
func checkFuzzGet(t *testing.T, store Store, header []byte) *Session {
	t.Helper()
	ctx := fuzzRequestCtx(header)
	if ctx == nil {
		return nil
	}
	defer Clear(ctx)
	s, err := store.Get(ctx, "sid")
	if s == nil {
		t.Fatalf("Get returned a nil session (error %v)", err)
	}
	if err != nil {
		if !s.IsNew || len(s.Values) != 0 || s.ID != "" {
			t.Fatalf("Get error %v with a session new=%v, %d values, ID %q", err, s.IsNew, len(s.Values), s.ID)
		}
		if !strings.HasPrefix(err.Error(), "sessions: ") ||
			!(errors.Is(err, ErrCookieInvalid) || errors.Is(err, ErrCookieExpired) || errors.Is(err, ErrCookieTooLong)) {
			t.Fatalf("Get error %q is not a bad-cookie error of the contract", err)
		}
	}
	if s.IsNew && (len(s.Values) != 0 || s.ID != "") {
		t.Fatalf("a new session holds %d values and ID %q", len(s.Values), s.ID)
	}
	if s2, err2 := store.Get(ctx, "sid"); s2 != s || err2 != err {
		t.Fatalf("a second Get returned another session or error: %v, %v", err2, err)
	}
	return s
}

// cookieSeeds are cookie headers around one valid cookie value.
func cookieSeeds(t testing.TB, valid string) []string {
	return []string{
		"",
		"sid=",
		"sid=" + valid,
		`sid="` + valid + `"`,
		"sid= " + valid + " ",
		"sid=" + valid + "; sid=garbage",
		"sid=garbage; sid=" + valid,
		`sid=a\b; sid=` + valid,
		"sid=" + valid[:len(valid)/2] + ";" + valid[len(valid)/2:],
		"sid=" + flipMAC(t, valid),
		"sid=" + resign(t, "sid", valid, "1000000000", testHash),
		"sid=" + resign(t, "sid", valid, "99999999999", testHash),
		"sid=" + resign(t, "sid", valid, "-1", testHash),
		"other=" + valid,
		"SID=" + valid,
		"sid=" + strings.Repeat("A", 5000),
		"sid=not-base64!!",
		"sid=\xff\xfe\x80",
		"sid=fA==",
		"sid=fHw=",
	}
}

func FuzzCookieStoreGet(f *testing.F) {
	store := NewCookieStore(testHash, testBlock)
	valid := mintCookie(f, store, "sid", map[any]any{"user": "alice", "n": 1})
	for _, seed := range cookieSeeds(f, valid) {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, header []byte) {
		if s := checkFuzzGet(t, store, header); s != nil && !s.IsNew && s.GetString("user") != "alice" {
			t.Fatalf("loaded a session that was never saved: %v", s.Values)
		}
	})
}

// constReader reads an endless run of one byte: a fixed session ID.
type constReader byte

func (c constReader) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = byte(c)
	}
	return len(p), nil
}

func FuzzServerStoreGet(f *testing.F) {
	mem := NewMemoryStore(testHash, testBlock)
	files := NewFilesystemStore(f.TempDir(), testHash, testBlock)
	// Each fuzzing process saves one record under the same fixed ID, so
	// that the seeds' cookies find it in every worker.
	mem.Rand, files.Rand = constReader(7), constReader(7)
	valid := mintCookie(f, mem, "sid", map[any]any{"user": "alice"})
	mintCookie(f, files, "sid", map[any]any{"user": "alice"})
	id, err := newID(constReader(7))
	if err != nil {
		f.Fatal(err)
	}
	seeds := cookieSeeds(f, valid)
	for _, hostile := range []string{"", "../../etc/passwd", id[:idLength-1] + "/", id[:idLength-1] + "\x00", strings.ToLower(id), id + "A"} {
		enc, err := mem.Codecs[0].Encode("sid", hostile)
		if err != nil {
			f.Fatal(err)
		}
		seeds = append(seeds, "sid="+enc)
	}
	for _, seed := range seeds {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, header []byte) {
		for _, store := range []Store{mem, files} {
			s := checkFuzzGet(t, store, header)
			if s != nil && !s.IsNew && (s.ID != id || s.GetString("user") != "alice") {
				t.Fatalf("%T loaded ID %q with %v; the only record is %s", store, s.ID, s.Values, id)
			}
		}
	})
}

// refValidID is ValidID written another way: 52 characters of the base32
// alphabet.
func refValidID(id string) bool {
	return len(id) == idLength && strings.Trim(id, "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567") == ""
}

func FuzzValidID(f *testing.F) {
	for _, seed := range []string{
		"", "A", strings.Repeat("A", idLength), strings.Repeat("7", idLength), strings.Repeat("A", idLength-1),
		strings.Repeat("A", idLength+1), strings.Repeat("a", idLength), strings.Repeat("1", idLength),
		"../" + strings.Repeat("A", idLength-3), strings.Repeat("A", idLength-1) + "/", strings.Repeat("A", idLength-1) + "\x00",
		strings.Repeat("A", idLength-2) + "..", strings.Repeat("A", idLength-2) + "é",
	} {
		f.Add(seed)
	}
	for range 3 {
		id, err := newID(nil)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(id)
	}
	f.Fuzz(func(t *testing.T, id string) {
		valid := validID(id)
		if want := refValidID(id); valid != want {
			t.Fatalf("validID(%q) = %v, want %v", id, valid, want)
		}
		if valid {
			if strings.ContainsAny(id, "/.\x00\\") {
				t.Fatalf("valid ID %q holds a path character", id)
			}
			dir := filepath.Join("store", "folder")
			if p := filepath.Join(dir, filePrefix+id); filepath.Dir(p) != dir || filepath.Base(p) != filePrefix+id {
				t.Fatalf("valid ID %q names %q, outside %q", id, p, dir)
			}
		}
		// Any 32 bytes make a valid ID.
		if len(id) >= 32 {
			nid, err := newID(strings.NewReader(id))
			if err != nil || !validID(nid) {
				t.Fatalf("NewID from %q = %q, %v", id[:32], nid, err)
			}
		}
	})
}

// refToken reports whether name is a token of RFC 9110, section 5.6.2,
// rune by rune against the list of tchar.
func refToken(name string) bool {
	const tchar = "!#$%&'*+-.^_`|~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
	for _, r := range name {
		if !strings.ContainsRune(tchar, r) {
			return false
		}
	}
	return name != ""
}

func FuzzValidName(f *testing.F) {
	for _, seed := range []string{
		"sid", "session", "__Host-sid", "__Secure-sid", "a.b", "!#$%&'*+-.^_`|~", "Path", "Max-Age", "$Version",
		"", " ", "a b", "a=b", "a;b", `a"b`, "a,b", `a\b`, "a\x00b", "a\tb", "é", "\xff", "a\r\nSet-Cookie: x=y",
	} {
		f.Add(seed)
	}
	const value = "dmFsdWU=" // base64 with padding: '=' inside the value
	opts := &Options{Path: "/", MaxAge: 60, HttpOnly: true, SameSite: fasthttp.CookieSameSiteLaxMode}
	at := time.Unix(1_800_000_000, 0)
	f.Fuzz(func(t *testing.T, name string) {
		valid := validName(name)
		if want := refToken(name); valid != want {
			t.Fatalf("validName(%q) = %v, want %v", name, valid, want)
		}
		if err := checkCookie(name, &Options{Path: "/", Secure: true}); valid == errors.Is(err, ErrInvalidName) {
			t.Fatalf("checkCookie(%q) = %v, with validName %v", name, err, valid)
		}
		if !valid {
			return
		}
		// The Set-Cookie header parses back to the same name and value.
		line := appendSetCookie(nil, name, []byte(value), opts, at)
		var c fasthttp.Cookie
		if err := c.ParseBytes(line); err != nil {
			t.Fatalf("fasthttp cannot parse %q: %v", line, err)
		}
		if string(c.Key()) != name || string(c.Value()) != value || c.MaxAge() != 60 || string(c.Path()) != "/" {
			t.Fatalf("%q parses as key %q value %q max-age %d path %q", line, c.Key(), c.Value(), c.MaxAge(), c.Path())
		}
		// The browser sends it back and the server finds it under the name.
		ctx := fuzzRequestCtx([]byte(name + "=" + value))
		if ctx == nil {
			t.Fatalf("fasthttp rejects the request header \"Cookie: %s=%s\"", name, value)
		}
		if got := ctx.Request.Header.Cookie(name); string(got) != value {
			t.Fatalf("the request cookie %q=%q reads back as %q", name, value, got)
		}
	})
}
