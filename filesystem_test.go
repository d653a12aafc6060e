package sessions

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/valyala/fasthttp"
)

// fsClock is a settable clock for FilesystemStore tests.
type fsClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *fsClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }
func (c *fsClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

func newFSStore(t testing.TB, dir string) (*FilesystemStore, *fsClock) {
	clock := &fsClock{now: time.Now()}
	s := NewFilesystemStore(dir, testHash, testBlock)
	s.Now = clock.Now
	return s, clock
}

// saveNew saves a new session with values through the store, straight on a
// RequestCtx, and returns the session and its cookie value.
func saveNew(t testing.TB, s Store, values map[any]any) (*Session, string) {
	t.Helper()
	var ctx fasthttp.RequestCtx
	ctx.Init(&fasthttp.Request{}, nil, nil)
	session, err := s.New(&ctx, "sid")
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range values {
		session.Values[k] = v
	}
	if err := s.Save(&ctx, session); err != nil {
		t.Fatal(err)
	}
	return session, cookieValue(t, &ctx, "sid")
}

// load loads the session of cookie through the store.
func load(t testing.TB, s Store, cookie string) (*Session, error) {
	t.Helper()
	return s.New(requestWithCookie("sid", cookie), "sid")
}

func TestFilesystemFileFormat(t *testing.T) {
	dir := t.TempDir()
	s, _ := newFSStore(t, dir)
	session, _ := saveNew(t, s, map[any]any{"user": "alice"})
	path := filepath.Join(dir, "session_"+session.ID)
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("mode %v, want 0600", fi.Mode().Perm())
	}
	data, _ := os.ReadFile(path)
	values := map[any]any{}
	if _, err := decodeAny(s.Codecs, recordName(session.ID), data, &values); err != nil || values["user"] != "alice" {
		t.Fatalf("file does not decode as the values: %v %v", values, err)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Fatalf("folder holds %d entries, want only the session file", len(entries))
	}
}

func TestFilesystemEmptyPathIsTempDir(t *testing.T) {
	s := NewFilesystemStore("", testHash)
	if s.files.dir != os.TempDir() {
		t.Fatalf("dir = %q", s.files.dir)
	}
}

// TestFilesystemNoGlobalLock holds the lock of one session and shows that a
// session under another lock still saves: locks are per session.
func TestFilesystemNoGlobalLock(t *testing.T) {
	s, _ := newFSStore(t, t.TempDir())
	a, _ := saveNew(t, s, map[any]any{"n": 1})
	mu := s.files.lock(a.ID)
	mu.Lock()
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			b, _ := saveNew(t, s, map[any]any{"n": 2})
			if s.files.lock(b.ID) != mu {
				return
			}
		}
	}()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("a save of another session waited for the lock of the first")
	}
	mu.Unlock()
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

func TestFilesystemCleanup(t *testing.T) {
	dir := t.TempDir()
	s, clock := newFSStore(t, dir)
	s.MaxAge(3600)
	old, _ := saveNew(t, s, map[any]any{"a": 1})
	if err := os.WriteFile(filepath.Join(dir, "unrelated.txt"), []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	stray := filepath.Join(dir, tempPrefix+old.ID+"-123")
	if err := os.WriteFile(stray, []byte("half"), 0o600); err != nil {
		t.Fatal(err)
	}
	if n, err := s.Cleanup(); n != 0 || err != nil {
		t.Fatalf("Cleanup of fresh files removed %d, %v", n, err)
	}
	clock.Advance(s.Lifetime() + time.Minute)
	fresh, cookie := saveNew(t, s, map[any]any{"b": 2})
	if n, err := s.Cleanup(); n != 2 || err != nil {
		t.Fatalf("Cleanup removed %d, %v; want the expired file and the stray temporary file", n, err)
	}
	for _, p := range []string{filepath.Join(dir, "session_"+old.ID), stray} {
		if _, err := os.Stat(p); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("%s survived Cleanup", p)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "unrelated.txt")); err != nil {
		t.Error("Cleanup removed a file that is not its own")
	}
	if s2, err := load(t, s, cookie); err != nil || s2.ID != fresh.ID {
		t.Fatalf("live session lost: %v", err)
	}
}

func TestFilesystemCleanerStops(t *testing.T) {
	dir := t.TempDir()
	s, clock := newFSStore(t, dir)
	before := runtime.NumGoroutine()
	saveNew(t, s, map[any]any{"a": 1})
	clock.Advance(s.Lifetime() + time.Minute)
	stop := s.StartCleanup(time.Millisecond)
	deadline := time.Now().Add(10 * time.Second)
	for {
		entries, _ := os.ReadDir(dir)
		if len(entries) == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the cleaner never removed the expired file")
		}
		time.Sleep(time.Millisecond)
	}
	stop()
	stop() // a second stop is harmless
	waitGoroutines(t, before)
}

// waitGoroutines fails the test unless the number of goroutines falls back
// to n: the goroutines a test started have exited.
func waitGoroutines(t *testing.T, n int) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for runtime.NumGoroutine() > n {
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<16)
			t.Fatalf("%d goroutines left, want %d:\n%s", runtime.NumGoroutine(), n, buf[:runtime.Stack(buf, true)])
		}
		time.Sleep(time.Millisecond)
	}
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
	if err != nil || !session.IsNew {
		t.Fatalf("load from a missing folder: %v new=%v", err, session.IsNew)
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
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", dir).CombinedOutput(); err != nil {
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

// TestFilesystemCrashWhileSaving kills a process that saves in a loop, ten
// times, and checks that every session file left behind decodes and that
// Cleanup removes the temporary files the kills left.
func TestFilesystemCrashWhileSaving(t *testing.T) {
	if os.Getenv("SESSIONS_CRASH_DIR") != "" {
		t.Skip("child process")
	}
	dir := t.TempDir()
	for round := range 10 {
		cmd := exec.Command(os.Args[0], "-test.run=^TestFilesystemCrashChild$", "-test.count=1")
		cmd.Env = append(os.Environ(), "SESSIONS_CRASH_DIR="+dir, fmt.Sprintf("SESSIONS_CRASH_ROUND=%d", round))
		out, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		// Wait until the child has saved for a while, then kill it mid-loop.
		r := bufio.NewScanner(out)
		for r.Scan() {
			if r.Text() == "saving" {
				break
			}
		}
		time.Sleep(time.Duration(5+round*7) * time.Millisecond)
		_ = cmd.Process.Signal(syscall.SIGKILL)
		_ = cmd.Wait()
	}
	s, clock := newFSStore(t, dir)
	entries, _ := os.ReadDir(dir)
	files := 0
	for _, e := range entries {
		if !strings.HasPrefix(e.Name(), filePrefix) {
			continue
		}
		files++
		data, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		values := map[any]any{}
		if _, err := decodeAny(s.Codecs, recordName(strings.TrimPrefix(e.Name(), filePrefix)), data, &values); err != nil {
			t.Fatalf("%s does not decode after a kill: %v", e.Name(), err)
		}
		if v, _ := values["payload"].(string); len(v) != 20000 || strings.Trim(v, v[:1]) != "" {
			t.Fatalf("%s holds a torn value", e.Name())
		}
	}
	if files == 0 {
		t.Fatal("the child saved nothing")
	}
	clock.Advance(staleTemp + time.Minute)
	if _, err := s.Cleanup(); err != nil {
		t.Fatal(err)
	}
	entries, _ = os.ReadDir(dir)
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), tempPrefix) {
			t.Fatalf("Cleanup left the temporary file %s", e.Name())
		}
	}
	t.Logf("%d session files whole after 10 kills", files)
}

// TestFilesystemCrashChild is the child of TestFilesystemCrashWhileSaving:
// it saves a few sessions over and over until it is killed.
func TestFilesystemCrashChild(t *testing.T) {
	dir := os.Getenv("SESSIONS_CRASH_DIR")
	if dir == "" {
		t.Skip("run by TestFilesystemCrashWhileSaving")
	}
	s := NewFilesystemStore(dir, testHash, testBlock)
	var cookies []string
	for range 4 {
		_, c := saveNew(t, s, map[any]any{"payload": strings.Repeat("a", 20000)})
		cookies = append(cookies, c)
	}
	fmt.Println("saving")
	for i := 0; ; i++ {
		ctx := requestWithCookie("sid", cookies[i%len(cookies)])
		session, err := s.New(ctx, "sid")
		if err != nil {
			t.Fatal(err)
		}
		session.Values["payload"] = strings.Repeat(string(rune('a'+i%26)), 20000)
		if err := s.Save(ctx, session); err != nil {
			t.Fatal(err)
		}
		_ = context.Background()
	}
}
