package sessions

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// The user index of FilesystemStore lives in its folder: another store on
// the folder (a restart, another process) sees it; Cleanup drops an entry
// whose session file is gone only once it is older than ten minutes.
func TestFilesystemUserIndex(t *testing.T) {
	dir := t.TempDir()
	store, clock := newFSStore(t, dir)
	ctx := context.Background()
	ui := store.Backend.(UserIndex)
	live := saveUser(t, store, "alice")
	pending := newIDForTest(t)
	if err := ui.AddUserID(ctx, "alice", pending); err != nil { // a record about to be created
		t.Fatal(err)
	}
	restarted, _ := newFSStore(t, dir)
	restarted.Now = clock.Now
	ids, err := restarted.Backend.(UserIndex).UserIDs(ctx, "alice")
	slices.Sort(ids)
	want := []string{live, pending}
	slices.Sort(want)
	if err != nil || !slices.Equal(ids, want) {
		t.Fatalf("UserIDs after a restart: %v, %v; want %v", ids, err, want)
	}
	if _, err := store.Cleanup(); err != nil {
		t.Fatal(err)
	}
	if ids, _ := ui.UserIDs(ctx, "alice"); len(ids) != 2 {
		t.Fatalf("Cleanup dropped a young entry: %v", ids)
	}
	clock.Advance(userIndexGrace + time.Second)
	if _, err := store.Cleanup(); err != nil {
		t.Fatal(err)
	}
	if ids, _ := ui.UserIDs(ctx, "alice"); !slices.Equal(ids, []string{live}) {
		t.Fatalf("after the grace, Cleanup left %v, want only the live %v", ids, live)
	}
	if err := ui.RemoveUserID(ctx, "alice", live); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, usersFolder)); err != nil {
		t.Fatal(err)
	}
	if entries, _ := os.ReadDir(filepath.Join(dir, usersFolder)); len(entries) != 0 {
		t.Fatalf("a user with no entries left keeps a folder: %v", entries)
	}
	// Odd user keys are hashed: nothing of them reaches a path.
	if err := ui.AddUserID(ctx, "../../etc/passwd\x00", pending); err != nil {
		t.Fatal(err)
	}
	if ids, err := ui.UserIDs(ctx, "../../etc/passwd\x00"); err != nil || !slices.Equal(ids, []string{pending}) {
		t.Fatalf("an odd user key: %v, %v", ids, err)
	}
}

// saveUser saves a new session bound to user and returns its ID.
func saveUser(t *testing.T, s Store, user string) string {
	t.Helper()
	ctx := requestWithCookie("x", "y")
	session, _ := s.New(ctx, "sid")
	session.SetUser(user)
	if err := s.Save(ctx, session); err != nil {
		t.Fatal(err)
	}
	return session.ID
}

func newIDForTest(t *testing.T) string {
	t.Helper()
	id, err := newID(nil)
	if err != nil {
		t.Fatal(err)
	}
	return id
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
