//go:build unix

package sessions

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/valyala/fasthttp"
	"golang.org/x/sys/unix"
)

// The tests of this file plant things in a FilesystemStore's folder, as a
// careless or hostile local user would, and check that the store never
// follows, opens, trusts or writes into them. They use only what every
// version of the store has, so that they also run against earlier ones.

// nobody is the uid and gid of the second user of the tests run as root.
const nobody = 65534

// fsRequest runs one request on s: it loads the session of cookie (none if
// ""), lets change modify it, saves it, and returns the session, the new
// cookie value ("" if none was set) and the errors of the load and of the
// save. It fails the test if the request does not end within ten seconds
// (a FIFO opened for reading or writing blocks forever), after calling
// unblock, if not nil, so that the request ends anyway.
func fsRequest(t *testing.T, s Store, cookie string, change func(*Session), unblock func()) (*Session, string, error, error) {
	t.Helper()
	type result struct {
		session         *Session
		cookie          string
		getErr, saveErr error
	}
	done := make(chan result, 1)
	go func() {
		var r result
		ctx := requestWithCookie("sid", cookie)
		if cookie == "" {
			ctx = new(fasthttp.RequestCtx)
			ctx.Init(&fasthttp.Request{}, nil, nil)
		}
		r.session, r.getErr = s.New(ctx, "sid")
		if change != nil {
			change(r.session)
			r.saveErr = s.Save(ctx, r.session)
		}
		ck := fasthttp.AcquireCookie()
		ck.SetKey("sid")
		if ctx.Response.Header.Cookie(ck) {
			r.cookie = string(ck.Value())
		}
		fasthttp.ReleaseCookie(ck)
		done <- r
	}()
	select {
	case r := <-done:
		return r.session, r.cookie, r.getErr, r.saveErr
	case <-time.After(10 * time.Second):
		if unblock != nil {
			unblock()
			<-done
		}
		t.Fatal("the request hangs")
		return nil, "", nil, nil
	}
}

// set returns a change that sets key to value.
func set(key, value any) func(*Session) {
	return func(s *Session) { s.Values[key] = value }
}

// savesOf returns the names a save of session id may write before the
// swap or the rename: the spare file of its stripe, the temporary file, and
// the partner file of earlier versions of this store,
// ".tmp-session_<ID>-<pid>".
func savesOf(dir, id string) []string {
	return []string{filepath.Join(dir, fmt.Sprintf(".spare-%02x", stripeOf(id))), filepath.Join(dir, tempPrefix+id),
		filepath.Join(dir, tempPrefix+id+"-"+strconv.Itoa(os.Getpid()))}
}

// loginAliceAndBob returns a store in a new safe folder holding two
// sessions, and the sessions' IDs and cookies.
func loginAliceAndBob(t *testing.T) (s *FilesystemStore, dir string, alice, aliceCookie, bobCookie string) {
	t.Helper()
	dir = t.TempDir()
	s, _ = newFSStore(t, dir)
	a, aliceCookie := saveNew(t, s, map[any]any{"user": "alice"})
	_, bobCookie = saveNew(t, s, map[any]any{"user": "bob"})
	return s, dir, a.ID, aliceCookie, bobCookie
}

// wantRefused fails the test unless a load of cookie gives a new session
// and an error wrapping ErrUnsafeFolder.
func wantRefused(t *testing.T, s Store, cookie, what string, unblock func()) {
	t.Helper()
	got, _, err, _ := fsRequest(t, s, cookie, nil, unblock)
	if !got.IsNew || len(got.Values) != 0 {
		t.Errorf("%s: loaded %v, want a new, empty session", what, got.Values)
	}
	if !errors.Is(err, ErrUnsafeFolder) {
		t.Errorf("%s: load error %v, want one wrapping ErrUnsafeFolder", what, err)
	}
}

func TestFilesystemPlantedSymlinks(t *testing.T) {
	t.Run("in place of the file a save writes", func(t *testing.T) {
		s, dir, alice, cookie, _ := loginAliceAndBob(t)
		decoy := filepath.Join(t.TempDir(), "decoy")
		if err := os.WriteFile(decoy, []byte("decoy"), 0o600); err != nil {
			t.Fatal(err)
		}
		for _, name := range savesOf(dir, alice) {
			if err := os.Symlink(decoy, name); err != nil {
				t.Fatal(err)
			}
		}
		if _, _, _, err := fsRequest(t, s, cookie, set("n", 1), nil); err != nil {
			t.Errorf("Save: %v", err)
		}
		if got := readFile(decoy); got != "decoy" {
			t.Errorf("the save wrote through a symbolic link: the file it points to now holds %.40q", got)
		}
		if got, _, err, _ := fsRequest(t, s, cookie, nil, nil); err != nil || got.Values["n"] != 1 || got.Values["user"] != "alice" {
			t.Errorf("after the save: %v, %v", got.Values, err)
		}
	})
	t.Run("in place of the session file", func(t *testing.T) {
		// Alice's file points at Bob's: a load of Alice's cookie must not
		// give Bob's session.
		s, dir, alice, cookie, _ := loginAliceAndBob(t)
		name := filepath.Join(dir, filePrefix+alice)
		entries, _ := os.ReadDir(dir)
		var bob string
		for _, e := range entries {
			if strings.HasPrefix(e.Name(), filePrefix) && e.Name() != filePrefix+alice {
				bob = e.Name()
			}
		}
		if err := os.Remove(name); err != nil {
			t.Fatal(err)
		}
		if err := os.Symlink(bob, name); err != nil {
			t.Fatal(err)
		}
		wantRefused(t, s, cookie, "a symbolic link to another session's file", nil)
	})
	t.Run("in place of the lock files", func(t *testing.T) {
		dir := t.TempDir()
		decoy := filepath.Join(t.TempDir(), "decoy")
		if err := os.WriteFile(decoy, []byte("decoy"), 0o600); err != nil {
			t.Fatal(err)
		}
		for i := range 64 {
			if err := os.Symlink(decoy, filepath.Join(dir, fmt.Sprintf(".lock-%02x", i))); err != nil {
				t.Fatal(err)
			}
		}
		s, _ := newFSStore(t, dir)
		if _, _, _, err := fsRequest(t, s, "", set("user", "alice"), nil); !errors.Is(err, ErrUnsafeFolder) {
			t.Errorf("Save with symbolic links as lock files: %v, want an error wrapping ErrUnsafeFolder", err)
		}
		if got := readFile(decoy); got != "decoy" {
			t.Errorf("the file a lock file points to now holds %.40q", got)
		}
	})
}

// TestFilesystemPlantedFiles plants regular files, with a second link
// outside the folder (what a user who planted them keeps), where a save
// writes: the save must write a new file of its own, never into theirs.
func TestFilesystemPlantedFiles(t *testing.T) {
	s, dir, alice, cookie, _ := loginAliceAndBob(t)
	outside := t.TempDir()
	var kept []string
	for i, name := range savesOf(dir, alice) {
		keep := filepath.Join(outside, strconv.Itoa(i))
		if err := os.WriteFile(name, []byte("planted"), 0o666); err != nil {
			t.Fatal(err)
		}
		if err := os.Link(name, keep); err != nil {
			t.Fatal(err)
		}
		kept = append(kept, keep)
	}
	if _, _, _, err := fsRequest(t, s, cookie, set("secret", "s3cret"), nil); err != nil {
		t.Fatalf("Save: %v", err)
	}
	for _, keep := range kept {
		if got := readFile(keep); got != "planted" {
			t.Errorf("the save wrote into a planted file: it now holds %.40q", got)
		}
	}
	got, _, err, _ := fsRequest(t, s, cookie, nil, nil)
	if err != nil || got.Values["secret"] != "s3cret" {
		t.Fatalf("after the save: %v, %v", got.Values, err)
	}
	fi, err := os.Stat(filepath.Join(dir, filePrefix+alice))
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("the session file has mode %v, want 0600", fi.Mode().Perm())
	}
	for _, keep := range kept {
		if other, err := os.Stat(keep); err == nil && os.SameFile(fi, other) {
			t.Errorf("the session file is the planted one")
		}
	}
}

// mkfifo makes a FIFO at name and returns a function that unblocks whoever
// waits to open it, for reading or for writing.
func mkfifo(t *testing.T, name string) (unblock func()) {
	t.Helper()
	if err := unix.Mkfifo(name, 0o600); err != nil {
		t.Fatal(err)
	}
	return func() {
		// A non-blocking open for writing succeeds once a reader waits; one
		// for reading always does, and releases a waiting writer.
		for _, flag := range []int{os.O_WRONLY, os.O_RDONLY} {
			if f, err := os.OpenFile(name, flag|syscall.O_NONBLOCK, 0); err == nil {
				t.Cleanup(func() { f.Close() })
			}
		}
	}
}

func TestFilesystemPlantedFIFO(t *testing.T) {
	t.Run("in place of the session file", func(t *testing.T) {
		s, dir, alice, cookie, bobCookie := loginAliceAndBob(t)
		name := filepath.Join(dir, filePrefix+alice)
		if err := os.Remove(name); err != nil {
			t.Fatal(err)
		}
		unblock := mkfifo(t, name)
		wantRefused(t, s, cookie, "a FIFO", unblock)
		// Nothing else waits for it: Cleanup, and the other sessions.
		done := make(chan error, 1)
		go func() { _, err := s.Cleanup(); done <- err }()
		select {
		case err := <-done:
			if !errors.Is(err, ErrUnsafeFolder) {
				t.Errorf("Cleanup = %v, want an error wrapping ErrUnsafeFolder about the FIFO", err)
			}
		case <-time.After(10 * time.Second):
			unblock()
			t.Fatal("Cleanup hangs on the FIFO")
		}
		if got, _, err, serr := fsRequest(t, s, bobCookie, set("n", 1), unblock); err != nil || serr != nil || got.Values["user"] != "bob" {
			t.Errorf("another session: %v, %v, %v", got.Values, err, serr)
		}
		if fi, err := os.Lstat(name); err != nil || fi.Mode()&os.ModeNamedPipe == 0 {
			t.Errorf("the FIFO was changed: %v, %v", fi, err)
		}
	})
	t.Run("in place of the file a save writes", func(t *testing.T) {
		s, dir, alice, cookie, _ := loginAliceAndBob(t)
		var unblocks []func()
		for _, name := range savesOf(dir, alice) {
			unblocks = append(unblocks, mkfifo(t, name))
		}
		unblock := func() {
			for _, u := range unblocks {
				u()
			}
		}
		if _, _, _, err := fsRequest(t, s, cookie, set("n", 1), unblock); err != nil {
			t.Errorf("Save: %v", err)
		}
		if got, _, err, _ := fsRequest(t, s, cookie, nil, nil); err != nil || got.Values["n"] != 1 {
			t.Errorf("after the save: %v, %v", got.Values, err)
		}
	})
}

// TestFilesystemFileOfAnotherUser gives a session file to another user (as
// a folder once shared leaves behind): the store no longer trusts it, even
// though its content is a valid record.
func TestFilesystemFileOfAnotherUser(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("giving a file to another user needs root")
	}
	s, dir, alice, cookie, _ := loginAliceAndBob(t)
	name := filepath.Join(dir, filePrefix+alice)
	if err := os.Chown(name, nobody, nobody); err != nil {
		t.Fatal(err)
	}
	wantRefused(t, s, cookie, "a file of another user", nil)
}

// TestFilesystemUnsafeFolder: a folder that another user may write is
// refused, with an error wrapping ErrUnsafeFolder, before anything is
// written in it; a safe one is taken.
func TestFilesystemUnsafeFolder(t *testing.T) {
	cases := []struct {
		name  string
		mode  os.FileMode
		owner int // -1: the server's user
		safe  bool
	}{
		{"mode 0700", 0o700, -1, true},
		{"mode 0755", 0o755, -1, true},
		{"mode 0777", 0o777, -1, false},
		{"mode 1777, like /tmp", 0o777 | os.ModeSticky, -1, false},
		{"mode 0770, group-writable", 0o770, -1, false},
		{"mode 0703, world-writable", 0o703, -1, false},
		{"owned by another user, mode 0700", 0o700, nobody, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if c.owner >= 0 && os.Geteuid() != 0 {
				t.Skip("giving a folder to another user needs root")
			}
			dir := t.TempDir()
			if err := os.Chmod(dir, c.mode); err != nil {
				t.Fatal(err)
			}
			if c.owner >= 0 {
				if err := os.Chown(dir, c.owner, c.owner); err != nil {
					t.Fatal(err)
				}
			}
			s, _ := newFSStore(t, dir)
			_, _, _, err := fsRequest(t, s, "", set("user", "alice"), nil)
			_, cerr := s.Cleanup()
			if c.safe {
				if err != nil || cerr != nil {
					t.Fatalf("safe folder: Save %v, Cleanup %v", err, cerr)
				}
				return
			}
			if !errors.Is(err, ErrUnsafeFolder) || !errors.Is(cerr, ErrUnsafeFolder) {
				t.Errorf("Save = %v, Cleanup = %v; want errors wrapping ErrUnsafeFolder", err, cerr)
			}
			if err != nil && !strings.Contains(err.Error(), dir) {
				t.Errorf("the error %q does not name the folder", err)
			}
			if entries, _ := os.ReadDir(dir); len(entries) != 0 {
				t.Errorf("written into the unsafe folder: %v", entries)
			}
		})
	}
}

// TestFilesystemFolderMadeUnsafeAfterStart: the folder is checked on every
// call, not once: a folder that becomes writable by others after the store
// has used it is refused from the next call on, before anything is read or
// written, and taken again once it is fixed; the private folder of
// NewFilesystemStore(""), removed while the server runs (by a job ageing
// the temporary folder), is made again.
func TestFilesystemFolderMadeUnsafeAfterStart(t *testing.T) {
	t.Run("a folder made writable by others", func(t *testing.T) {
		s, dir, _, aliceCookie, _ := loginAliceAndBob(t)
		if err := os.Chmod(dir, 0o777); err != nil {
			t.Fatal(err)
		}
		before, _ := os.ReadDir(dir)
		wantRefused(t, s, aliceCookie, "a folder made writable by others after start", nil)
		if _, _, _, err := fsRequest(t, s, "", set("user", "carol"), nil); !errors.Is(err, ErrUnsafeFolder) {
			t.Errorf("Save into a folder made writable by others after start = %v, want an error wrapping ErrUnsafeFolder", err)
		}
		if after, _ := os.ReadDir(dir); len(after) != len(before) {
			t.Errorf("written into the unsafe folder: %d entries before, %d after", len(before), len(after))
		}
		if err := os.Chmod(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		if got, _, err, _ := fsRequest(t, s, aliceCookie, nil, nil); err != nil || got.Values["user"] != "alice" {
			t.Errorf("the folder fixed: %v, %v; want alice's session", got.Values, err)
		}
	})
	t.Run("the private folder removed", func(t *testing.T) {
		t.Setenv("TMPDIR", t.TempDir())
		s := NewFilesystemStore("", testHash, testBlock)
		if _, _, _, err := fsRequest(t, s, "", set("user", "alice"), nil); err != nil {
			t.Fatal(err)
		}
		folder := defaultFolder()
		if err := os.RemoveAll(folder); err != nil {
			t.Fatal(err)
		}
		_, cookie, _, err := fsRequest(t, s, "", set("user", "bob"), nil)
		if err != nil {
			t.Fatalf("Save after the private folder was removed: %v", err)
		}
		if fi, err := os.Lstat(folder); err != nil || !fi.IsDir() || fi.Mode().Perm() != 0o700 {
			t.Errorf("%s: %v, %v; want it made again with mode 0700", folder, fi, err)
		}
		if got, _, err, _ := fsRequest(t, s, cookie, nil, nil); err != nil || got.Values["user"] != "bob" {
			t.Errorf("bob's session after the folder was made again: %v, %v", got.Values, err)
		}
	})
}

// A Cleanup that meets an unsafe user folder says so with one "sessions: "
// per error, and the error still matches ErrUnsafeFolder.
func TestFilesystemCleanupErrorText(t *testing.T) {
	dir := t.TempDir()
	store, _ := newFSStore(t, dir)
	for _, user := range []string{"alice", "bob"} {
		saveUser(t, store, user)
		if err := os.Chmod(store.files.userDir(user), 0o777); err != nil {
			t.Fatal(err)
		}
	}
	_, err := store.Cleanup()
	if !errors.Is(err, ErrUnsafeFolder) {
		t.Fatalf("Cleanup with a user folder everybody may write: %v, want ErrUnsafeFolder", err)
	}
	lines := strings.Split(err.Error(), "\n")
	if len(lines) != 2 {
		t.Errorf("Cleanup error %q: want one line per unsafe folder (2)", err)
	}
	for _, line := range lines {
		if n := strings.Count(line, "sessions: "); n != 1 || !strings.HasPrefix(line, "sessions: cleaning up ") {
			t.Errorf("Cleanup error line %q: %d \"sessions: \", want one, then what was cleaned up", line, n)
		}
	}
}

// The folders of the user index are held to the rules of the store's
// folder, also without root: users/<hash> writable by others, or users/ a
// symbolic link (to a safe folder of the server's user elsewhere),
// makes AddUserID, UserIDs and RemoveUserID fail with an error wrapping
// ErrUnsafeFolder, and nothing is written through the link.
func TestFilesystemUserIndexUnsafeFolders(t *testing.T) {
	ctx := context.Background()
	// calls makes the three calls, and runs written after AddUserID.
	calls := func(t *testing.T, ui UserIndex, id string, written func()) {
		t.Helper()
		want := func(what string, err error) {
			t.Helper()
			if !errors.Is(err, ErrUnsafeFolder) {
				t.Errorf("%s: %v, want an error wrapping ErrUnsafeFolder", what, err)
			}
		}
		want("AddUserID", ui.AddUserID(ctx, "alice", id))
		written()
		_, err := ui.UserIDs(ctx, "alice")
		want("UserIDs", err)
		want("RemoveUserID", ui.RemoveUserID(ctx, "alice", id))
	}
	t.Run("users/<hash> writable by others", func(t *testing.T) {
		store, _ := newFSStore(t, t.TempDir())
		id := saveUser(t, store, "alice")
		if err := os.Chmod(store.files.userDir("alice"), 0o777); err != nil {
			t.Fatal(err)
		}
		calls(t, store.Backend.(UserIndex), id, func() {})
	})
	t.Run("users/ a symbolic link", func(t *testing.T) {
		dir, elsewhere := t.TempDir(), t.TempDir()
		if err := os.Symlink(elsewhere, filepath.Join(dir, usersFolder)); err != nil {
			t.Fatal(err)
		}
		store, _ := newFSStore(t, dir)
		calls(t, store.Backend.(UserIndex), newIDForTest(t), func() {
			if entries, _ := os.ReadDir(elsewhere); len(entries) != 0 {
				t.Errorf("AddUserID wrote through users/, a symbolic link: %v", entries)
			}
		})
	})
}

// TestFilesystemEmptyPathIsPrivateFolder: NewFilesystemStore("") keeps its
// files in a folder of its own under os.TempDir(), private to the user and
// shared by the user's processes, never in the temporary folder itself.
func TestFilesystemEmptyPathIsPrivateFolder(t *testing.T) {
	want := func(t *testing.T) (tmp, dir string) {
		tmp = t.TempDir()
		t.Setenv("TMPDIR", tmp)
		return tmp, filepath.Join(tmp, "fasthttp-sessions-"+strconv.Itoa(os.Geteuid()))
	}
	t.Run("made at first use, 0700, shared", func(t *testing.T) {
		tmp, dir := want(t)
		s := NewFilesystemStore("", testHash, testBlock)
		_, cookie, _, err := fsRequest(t, s, "", set("user", "alice"), nil)
		if err != nil {
			t.Fatal(err)
		}
		fi, err := os.Lstat(dir)
		if err != nil || !fi.IsDir() || fi.Mode().Perm() != 0o700 {
			t.Fatalf("%s: %v, %v; want a folder of mode 0700", dir, fi, err)
		}
		if entries, _ := os.ReadDir(tmp); len(entries) != 1 {
			t.Errorf("the temporary folder holds %d entries, want the store's folder only", len(entries))
		}
		other := NewFilesystemStore("", testHash, testBlock) // another process
		if got, _, err, _ := fsRequest(t, other, cookie, nil, nil); err != nil || got.Values["user"] != "alice" {
			t.Errorf("another store on \"\" does not see the session: %v, %v", got.Values, err)
		}
	})
	refused := []struct {
		name string
		make func(t *testing.T, dir string)
	}{
		{"mode 0755", func(t *testing.T, dir string) { mkdirMode(t, dir, 0o755) }},
		{"mode 0777", func(t *testing.T, dir string) { mkdirMode(t, dir, 0o777) }},
		{"a file", func(t *testing.T, dir string) {
			if err := os.WriteFile(dir, nil, 0o600); err != nil {
				t.Fatal(err)
			}
		}},
		{"a symbolic link to a private folder", func(t *testing.T, dir string) {
			if err := os.Symlink(t.TempDir(), dir); err != nil {
				t.Fatal(err)
			}
		}},
		{"owned by another user", func(t *testing.T, dir string) {
			if os.Geteuid() != 0 {
				t.Skip("giving a folder to another user needs root")
			}
			mkdirMode(t, dir, 0o700)
			if err := os.Chown(dir, nobody, nobody); err != nil {
				t.Fatal(err)
			}
		}},
	}
	for _, c := range refused {
		t.Run("refused if it exists as "+c.name, func(t *testing.T) {
			_, dir := want(t)
			c.make(t, dir)
			s := NewFilesystemStore("", testHash, testBlock)
			if _, _, _, err := fsRequest(t, s, "", set("user", "alice"), nil); err == nil || !strings.Contains(err.Error(), dir) {
				t.Errorf("Save = %v, want an error about %s", err, dir)
			}
		})
	}
}

func mkdirMode(t *testing.T, dir string, mode os.FileMode) {
	t.Helper()
	if err := os.Mkdir(dir, mode); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(dir, mode); err != nil {
		t.Fatal(err)
	}
}

// asNobody runs script with sh as the second user, in dir, and returns its
// output.
func asNobody(t *testing.T, dir, script string, env ...string) string {
	t.Helper()
	cmd := exec.Command("setpriv", fmt.Sprintf("--reuid=%d", nobody), fmt.Sprintf("--regid=%d", nobody), "--clear-groups", "sh", "-c", script)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), env...)
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("as uid %d: %v", nobody, err)
	}
	return string(out)
}

// secondUserBase returns a folder for tests with a second user: it and its
// parents may be crossed by everyone. It skips the test unless it runs as
// root with setpriv.
func secondUserBase(t *testing.T) string {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("a second user needs root")
	}
	if _, err := exec.LookPath("setpriv"); err != nil {
		t.Skip("no setpriv")
	}
	base := t.TempDir()
	for _, d := range []string{filepath.Dir(base), base} {
		if err := os.Chmod(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	return base
}

// TestFilesystemSecondUser is the attack of issue 16, by a real second
// user: the folder becomes writable by everybody (mode 1777, like the
// system's temporary folder); the other user plants the files the victim's
// next save writes, then reads whatever it can in the folder, to copy the
// victim's session under its own ID. The victim's store must never write
// into the planted files, and a store started on that folder must refuse
// it.
func TestFilesystemSecondUser(t *testing.T) {
	base := secondUserBase(t)
	dir := filepath.Join(base, "sessions")
	mkdirMode(t, dir, 0o755)
	victim, _ := newFSStore(t, dir)
	_, cookie, _, err := fsRequest(t, victim, "", set("user", "victim"), nil)
	if err != nil {
		t.Fatal(err)
	}

	if err := os.Chmod(dir, 0o777|os.ModeSticky); err != nil {
		t.Fatal(err)
	}
	asNobody(t, dir, `umask 0
for f in session_*; do
	id=${f#session_}
	: > ".tmp-session_$id" 2>/dev/null
	: > ".tmp-session_$id-$VICTIM_PID" 2>/dev/null
done
true`, "VICTIM_PID="+strconv.Itoa(os.Getpid()))
	_, _, _, err = fsRequest(t, victim, cookie, set("secret", "the victim's secret"), nil)
	t.Logf("the victim's save after the planting: %v", err)

	stolen := asNobody(t, dir, `for f in * .[!.]*; do [ -f "$f" ] && cat "$f" 2>/dev/null && echo; done; true`)
	lines := bufio.NewScanner(strings.NewReader(stolen))
	lines.Buffer(nil, 1<<20)
	var victimID string
	if _, err := decodeAny(victim.Codecs, "sid", []byte(cookie), &victimID); err != nil {
		t.Fatal(err)
	}
	for lines.Scan() {
		values := map[any]any{}
		// A record is signed under its ID; a legacy one, under the name.
		for _, name := range []string{recordName(victimID), "sid"} {
			if _, err := decodeAny(victim.Codecs, name, lines.Bytes(), &values); err == nil {
				t.Errorf("the other user read the victim's session: %v", values)
			}
		}
	}

	restarted, _ := newFSStore(t, dir)
	wantRefused(t, restarted, cookie, "a store started on a folder everybody may write", nil)
	if _, _, _, err := fsRequest(t, restarted, "", set("user", "alice"), nil); !errors.Is(err, ErrUnsafeFolder) {
		t.Errorf("Save in a folder everybody may write = %v, want an error wrapping ErrUnsafeFolder", err)
	}
}
