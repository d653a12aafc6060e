package sessions

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// TestFilesystemTouch: Touch moves a live file's modification time to the
// store's clock, in place, without rewriting it; it never revives a file
// that expired or was deleted, and never creates one.
func TestFilesystemTouch(t *testing.T) {
	dir := t.TempDir()
	s, clock := newFSStore(t, dir)
	s.MaxAge(3600)
	s.BrowserSessionTTL = time.Minute // Lifetime: an hour
	f := s.files
	session, _ := saveNew(t, s, map[any]any{"user": "alice"})
	id := session.ID
	name := f.path(id)
	before, err := os.Stat(name)
	if err != nil {
		t.Fatal(err)
	}
	content := readFile(name)

	clock.Advance(50 * time.Minute)
	if err := f.Touch(t.Context(), id, time.Hour); err != nil {
		t.Fatalf("Touch of a live file: %v", err)
	}
	after, err := os.Stat(name)
	if err != nil {
		t.Fatal(err)
	}
	if !after.ModTime().Equal(clock.Now()) {
		t.Errorf("modification time %v, want the store's clock, %v", after.ModTime(), clock.Now())
	}
	if !os.SameFile(before, after) || readFile(name) != content {
		t.Error("Touch rewrote the file")
	}
	// The file now lives Lifetime after the touch, not after the save.
	clock.Advance(50 * time.Minute)
	if _, _, err := f.Load(t.Context(), id); err != nil {
		t.Errorf("Load 100 minutes after the save, 50 after the touch: %v", err)
	}

	clock.Advance(time.Hour)
	if err := f.Touch(t.Context(), id, time.Hour); !errors.Is(err, ErrRecordNotFound) {
		t.Errorf("Touch of an expired file = %v, want ErrRecordNotFound", err)
	}
	if fi, err := os.Stat(name); err != nil || !fi.ModTime().Equal(after.ModTime()) {
		t.Errorf("Touch of an expired file changed it: %v, %v", fi, err)
	}
	if _, _, err := f.Load(t.Context(), id); !errors.Is(err, ErrRecordNotFound) {
		t.Errorf("Load of the expired file after Touch = %v, want ErrRecordNotFound", err)
	}

	clock.Advance(-2 * time.Hour) // the file is live again for the clock
	if err := f.Delete(t.Context(), id); err != nil {
		t.Fatal(err)
	}
	if err := f.Touch(t.Context(), id, time.Hour); !errors.Is(err, ErrRecordNotFound) {
		t.Errorf("Touch after Delete = %v, want ErrRecordNotFound", err)
	}
	missing, err := newID(nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Touch(t.Context(), missing, time.Hour); !errors.Is(err, ErrRecordNotFound) {
		t.Errorf("Touch of a missing ID = %v, want ErrRecordNotFound", err)
	}
	if err := f.Touch(t.Context(), "../../etc/passwd", time.Hour); !errors.Is(err, ErrRecordNotFound) {
		t.Errorf("Touch of an invalid ID = %v, want ErrRecordNotFound", err)
	}
	wantFolder(t, dir)
}

// TestFilesystemTouchPlanted: Touch of a session whose file is not a
// regular file of the server's user finds no record and changes nothing.
func TestFilesystemTouchPlanted(t *testing.T) {
	dir := t.TempDir()
	s, clock := newFSStore(t, dir)
	f := s.files
	session, _ := saveNew(t, s, map[any]any{"user": "alice"})
	name := f.path(session.ID)
	decoy := filepath.Join(t.TempDir(), "decoy")
	if err := os.WriteFile(decoy, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	old := time.Unix(1_000_000_000, 0)
	if err := os.Chtimes(decoy, old, old); err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(name); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(decoy, name); err != nil {
		t.Fatal(err)
	}
	clock.Advance(time.Minute)
	if err := f.Touch(t.Context(), session.ID, time.Hour); !errors.Is(err, ErrRecordNotFound) {
		t.Errorf("Touch of a symbolic link = %v, want ErrRecordNotFound", err)
	}
	if fi, err := os.Stat(decoy); err != nil || !fi.ModTime().Equal(old) {
		t.Errorf("Touch went through the symbolic link: %v, %v", fi, err)
	}
}
