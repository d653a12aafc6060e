package sessions

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"testing/synctest"
	"time"
)

func TestFilesystemFileFormat(t *testing.T) {
	for _, exchange := range []bool{true, false} {
		t.Run(fmt.Sprint("exchange=", exchange), func(t *testing.T) {
			dir := t.TempDir()
			s, _ := newFSStore(t, dir)
			s.files.noExchange.Store(!exchange) // as on a file system without RENAME_EXCHANGE
			session, cookie := saveNew(t, s, map[any]any{"user": "alice"})
			path := filepath.Join(dir, "session_"+session.ID)
			check := func(want map[any]any) {
				t.Helper()
				fi, err := os.Stat(path)
				if err != nil {
					t.Fatal(err)
				}
				if fi.Mode().Perm() != 0o600 {
					t.Errorf("mode %v, want 0600", fi.Mode().Perm())
				}
				data, _ := os.ReadFile(path)
				values := map[any]any{}
				if _, err := decodeAny(s.Codecs, recordName(session.ID), data, &values); err != nil || fmt.Sprint(values) != fmt.Sprint(want) {
					t.Fatalf("file does not decode as the values: %v %v", values, err)
				}
				wantFolder(t, dir, session.ID)
			}
			check(map[any]any{"user": "alice"})
			// An update (a swap with the spare file, or a new file renamed
			// over) keeps the format.
			ctx := requestWithCookie("sid", cookie)
			loaded, err := s.New(ctx, "sid")
			if err != nil {
				t.Fatal(err)
			}
			loaded.Values["n"] = 2
			if err := s.Save(ctx, loaded); err != nil {
				t.Fatal(err)
			}
			check(map[any]any{"user": "alice", "n": 2})
		})
	}
}

// wantFolder fails the test unless the folder dir holds the files of the
// sessions ids, lock files and empty spare files, and nothing else: no
// temporary file, no copy of an old version.
func wantFolder(t testing.TB, dir string, ids ...string) {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]bool{}
	for _, id := range ids {
		want[filePrefix+id] = true
	}
	locks := 0
	for _, e := range entries {
		name := e.Name()
		switch {
		case want[name] && e.Type().IsRegular():
			delete(want, name)
		case name == usersFolder && e.IsDir():
			// The user index (filesystem_users.go).
		case len(name) == len(".lock-00") && strings.HasPrefix(name, ".lock-") && e.Type().IsRegular():
			locks++
		case len(name) == len(".spare-00") && strings.HasPrefix(name, ".spare-") && e.Type().IsRegular():
			if fi, err := e.Info(); err != nil || fi.Size() != 0 {
				t.Errorf("the spare file %s holds %d bytes, want none", name, fi.Size())
			}
		default:
			t.Errorf("the folder holds %s (%v)", name, e.Type())
		}
	}
	for name := range want {
		t.Errorf("the folder lacks %s", name)
	}
	if locks > lockStripes {
		t.Errorf("the folder holds %d lock files, more than %d", locks, lockStripes)
	}
}

// TestFilesystemNoGlobalLock holds the lock of one session and shows that a
// session under another lock still saves: locks are per session.
func TestFilesystemNoGlobalLock(t *testing.T) {
	s, _ := newFSStore(t, t.TempDir())
	a, _ := saveNew(t, s, map[any]any{"n": 1})
	var other string
	for other == "" || stripeOf(other) == stripeOf(a.ID) {
		var err error
		if other, err = newID(nil); err != nil {
			t.Fatal(err)
		}
	}
	l, err := s.files.lock(a.ID, true)
	if err != nil {
		t.Fatal(err)
	}
	defer l.unlock()
	done := make(chan error, 1)
	go func() { done <- s.files.Create(t.Context(), other, []byte("x"), time.Hour) }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("a save of another session waited for the lock of the first")
	}
}

func TestFilesystemParallelSaves(t *testing.T) {
	s, _ := newFSStore(t, t.TempDir())
	var wg sync.WaitGroup
	for g := range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			session, cookie := saveNew(t, s, map[any]any{"g": g})
			for i := range 20 {
				ctx := requestWithCookie("sid", cookie)
				loaded, err := s.New(ctx, "sid")
				if err != nil || loaded.ID != session.ID || loaded.Values["i"] != nilIfZero(i) {
					t.Errorf("goroutine %d step %d: %v %v %v", g, i, loaded.ID, loaded.Values, err)
					return
				}
				loaded.Values["i"] = i + 1
				if err := s.Save(ctx, loaded); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
}

func nilIfZero(i int) any {
	if i == 0 {
		return nil
	}
	return i
}

// TestFilesystemCleanup: Cleanup removes expired files, the temporary
// files of saves killed midway (at once: it judges them under their
// session's lock) and user index entries naming expired files, and leaves
// live files, lock files and unrelated files alone.
func TestFilesystemCleanup(t *testing.T) {
	dir := t.TempDir()
	s, clock := newFSStore(t, dir)
	s.MaxAge(3600)
	old, _ := saveNew(t, s, map[any]any{"a": 1})
	if err := os.WriteFile(filepath.Join(dir, "unrelated.txt"), []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(dir, "users", "ab"), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "users", "ab", old.ID), nil, 0o600); err != nil {
		t.Fatal(err)
	}
	// Saves killed midway (a temporary file, a spare file holding values),
	// and a partner file of an earlier version.
	strays := []string{filepath.Join(dir, tempPrefix+old.ID), filepath.Join(dir, fmt.Sprintf(".spare-%02x", stripeOf(old.ID))),
		filepath.Join(dir, tempPrefix+old.ID+"-123")}
	for _, p := range strays {
		if err := os.WriteFile(p, []byte("half"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	if n, err := s.Cleanup(); n != 3 || err != nil {
		t.Fatalf("Cleanup of fresh files removed %d, %v; want the three left by killed saves", n, err)
	}
	clock.Advance(s.Lifetime() + time.Minute)
	fresh, cookie := saveNew(t, s, map[any]any{"b": 2})
	// The expired file, and the entry of the user index that names it
	// (older than the ten-minute grace by now).
	if n, err := s.Cleanup(); n != 2 || err != nil {
		t.Fatalf("Cleanup removed %d, %v; want the expired file and its index entry", n, err)
	}
	for _, p := range append(strays, filepath.Join(dir, "session_"+old.ID), filepath.Join(dir, "users", "ab", old.ID)) {
		if _, err := os.Lstat(p); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("%s survived Cleanup", p)
		}
	}
	for _, p := range []string{"unrelated.txt"} {
		if _, err := os.Stat(filepath.Join(dir, p)); err != nil {
			t.Errorf("Cleanup removed %s, which is not its own", p)
		}
	}
	if s2, err := load(t, s, cookie); err != nil || s2.ID != fresh.ID {
		t.Fatalf("live session lost: %v", err)
	}
}

// TestFilesystemCleanerStops runs the cleaner in a synctest bubble: time
// moves only when every goroutine of the bubble is blocked, so the test
// knows when each tick has run without sleeping on the real clock, and the
// bubble fails the test if the cleaner's goroutine outlives stop.
func TestFilesystemCleanerStops(t *testing.T) {
	dir := t.TempDir()
	synctest.Test(t, func(t *testing.T) {
		s := NewFilesystemStore(dir, testHash, testBlock) // on the bubble's clock
		s.MaxAge(60)
		s.BrowserSessionTTL = time.Minute // a Lifetime of a minute
		session, _ := saveNew(t, s, map[any]any{"a": 1})
		file := filepath.Join(dir, filePrefix+session.ID)
		stop := s.StartCleanup(45 * time.Second)
		time.Sleep(46 * time.Second) // one tick: the file has 14 s left
		synctest.Wait()
		if _, err := os.Lstat(file); err != nil {
			t.Fatalf("the cleaner removed a live file: %v", err)
		}
		time.Sleep(45 * time.Second) // the second tick: expired
		synctest.Wait()
		if _, err := os.Lstat(file); !errors.Is(err, os.ErrNotExist) {
			t.Fatalf("the cleaner left the expired file: %v", err)
		}
		stop()
		stop() // a second stop is harmless
	})
}

func TestFilesystemFolderRemoved(t *testing.T) {
	parent := t.TempDir()
	dir := filepath.Join(parent, "sessions")
	if err := os.Mkdir(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	s, _ := newFSStore(t, dir)
	kept, keptCookie := saveNew(t, s, map[any]any{"user": "alice"})
	moved := filepath.Join(parent, "moved")
	if err := os.Rename(dir, moved); err != nil {
		t.Fatal(err)
	}
	ctx := requestWithCookie("sid", keptCookie)
	session, err := s.New(ctx, "sid")
	if !errors.Is(err, os.ErrNotExist) || !strings.Contains(err.Error(), `session "sid"`) || !session.IsNew {
		t.Fatalf("load from a missing folder: %v new=%v; want a new session and an error naming the session", err, session.IsNew)
	}
	session.Values["x"] = 1
	err = s.Save(ctx, session)
	if err == nil || !strings.Contains(err.Error(), `session "sid"`) {
		t.Fatalf("Save into a missing folder = %v, want an error naming the session", err)
	}
	if err := os.Rename(moved, dir); err != nil {
		t.Fatal(err)
	}
	if again, err := load(t, s, keptCookie); err != nil || again.ID != kept.ID || again.Values["user"] != "alice" {
		t.Fatalf("saved session damaged: %v %v", again.Values, err)
	}
}

func TestFilesystemUnreadableRecord(t *testing.T) {
	dir := t.TempDir()
	s, _ := newFSStore(t, dir)
	session, cookie := saveNew(t, s, map[any]any{"a": 1})
	path := filepath.Join(dir, "session_"+session.ID)
	if err := os.Remove(path); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(path, 0o700); err != nil {
		t.Fatal(err)
	}
	got, err := load(t, s, cookie)
	if err == nil || got == nil || !got.IsNew {
		t.Fatalf("a directory in place of the file: %v, %v", got, err)
	}
	if err := os.Remove(path); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte("garbage"), 0o600); err != nil {
		t.Fatal(err)
	}
	got, err = load(t, s, cookie)
	if !errors.Is(err, ErrCookieInvalid) || !got.IsNew {
		t.Fatalf("a corrupt file: %v new=%v", err, got.IsNew)
	}
}

// TestFilesystemDiskFullAndReadOnly mounts a tiny tmpfs (root only) to fill
// the disk and to make it read-only.
func TestFilesystemDiskFullAndReadOnly(t *testing.T) {
	dir := t.TempDir()
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size=64k,mode=0700", "tmpfs", dir).CombinedOutput(); err != nil {
		t.Skipf("cannot mount a tmpfs (needs root): %v %s", err, out)
	}
	t.Cleanup(func() { _ = exec.Command("umount", dir).Run() })
	s, _ := newFSStore(t, dir)
	kept, keptCookie := saveNew(t, s, map[any]any{"user": "alice"})

	// Fill the disk.
	filler, err := os.Create(filepath.Join(dir, "filler"))
	if err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 4096)
	for {
		if _, err := filler.Write(buf); err != nil {
			break
		}
	}
	filler.Close()
	ctx := requestWithCookie("sid", keptCookie)
	session, err := s.New(ctx, "sid")
	if err != nil {
		t.Fatal(err)
	}
	session.Values["big"] = strings.Repeat("x", 8192)
	if err := s.Save(ctx, session); err == nil || !errors.Is(err, syscall.ENOSPC) || !strings.Contains(err.Error(), `session "sid"`) {
		t.Fatalf("Save on a full disk = %v", err)
	}
	assertKept := func() {
		t.Helper()
		got, err := load(t, s, keptCookie)
		if err != nil || got.ID != kept.ID || got.Values["user"] != "alice" || got.Values["big"] != nil {
			t.Fatalf("saved session damaged: %v %v", got.Values, err)
		}
		entries, _ := os.ReadDir(dir)
		for _, e := range entries {
			if strings.HasPrefix(e.Name(), tempPrefix) {
				t.Fatalf("a failed Save left %s", e.Name())
			}
		}
	}
	assertKept()
	os.Remove(filepath.Join(dir, "filler"))

	if out, err := exec.Command("mount", "-o", "remount,ro", dir).CombinedOutput(); err != nil {
		t.Fatalf("remount read-only: %v %s", err, out)
	}
	ctx = requestWithCookie("sid", keptCookie)
	session, _ = s.New(ctx, "sid")
	session.Values["n"] = 1
	if err := s.Save(ctx, session); !errors.Is(err, syscall.EROFS) || !strings.Contains(err.Error(), `session "sid"`) {
		t.Fatalf("Save on a read-only folder = %v", err)
	}
	assertKept()
}

// readFile returns the content of name, "" if it cannot be read.
func readFile(name string) string {
	b, _ := os.ReadFile(name)
	return string(b)
}
