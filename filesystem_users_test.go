package sessions

import (
	"context"
	"os"
	"path/filepath"
	"slices"
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
