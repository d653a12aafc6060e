//go:build linux

package sessions

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// filesUnder lists the regular files and symbolic links under root.
func filesUnder(t *testing.T, root string) []string {
	t.Helper()
	var names []string
	_ = filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			names = append(names, p)
		}
		return nil
	})
	return names
}

// A careless operator links the folder's users/ to a shared folder (or it
// is restored as one). The store promises never to follow a symbolic link
// in its folder nor to reach a path outside it; it follows users/, so a
// second local user who may write the shared folder owns alice's index:
// it makes RevokeUser miss alice's session (a symbolic link in place of
// the entry, or the entry deleted), and makes the store set the times of a
// file of the server's user outside the folder (os.Chtimes follows the
// link).
func TestAttackFSUsersSymlink(t *testing.T) {
	base := secondUserBase(t)
	dir := filepath.Join(base, "sessions")
	mkdirMode(t, dir, 0o755)
	shared := filepath.Join(base, "shared")
	mkdirMode(t, shared, 0o777|os.ModeSticky)
	if err := os.Symlink(shared, filepath.Join(dir, usersFolder)); err != nil {
		t.Fatal(err)
	}
	target := filepath.Join(base, "file-of-root")
	if err := os.WriteFile(target, []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	old := time.Unix(1e9, 0)
	if err := os.Chtimes(target, old, old); err != nil {
		t.Fatal(err)
	}
	store, _ := newFSStore(t, dir)
	anon, cookie := saveNew(t, store, map[any]any{"cart": "1"})

	// The second user sees session_<ID> in the folder (mode 0755 is
	// allowed) and prepares alice's index folder.
	sum := sha256.Sum256([]byte("alice"))
	hash := hex.EncodeToString(sum[:])
	asNobody(t, shared, `mkdir -m 777 `+hash+` && ln -s `+target+` `+hash+`/`+anon.ID)

	// Alice logs in on her anonymous session.
	_, _, _, saveErr := fsRequest(t, store, cookie, func(s *Session) { s.SetUser("alice") }, nil)
	if fi, err := os.Stat(target); err != nil || !fi.ModTime().Equal(old) {
		t.Errorf("the login set the time of %s, outside the folder, through a symbolic link of another user (%v, %v)", target, fi.ModTime(), err)
	}
	// And logs in on a second device.
	_, cookie2, _, saveErr2 := fsRequest(t, store, "", func(s *Session) { s.SetUser("alice") }, nil)
	if saveErr != nil || saveErr2 != nil {
		// Refusing the index is a fix: say so clearly, and write nothing.
		for _, err := range []error{saveErr, saveErr2} {
			if err != nil && !errors.Is(err, ErrUnsafeFolder) {
				t.Errorf("a login with users/ a symbolic link: %v, want an error wrapping ErrUnsafeFolder", err)
			}
		}
	}
	for _, name := range filesUnder(t, shared) {
		if fi, err := os.Lstat(name); err == nil && fi.Mode().IsRegular() {
			t.Errorf("the store wrote %s, outside its folder", name)
		}
	}
	if saveErr != nil || saveErr2 != nil {
		t.Logf("the logins: %v; %v", saveErr, saveErr2)
		return
	}

	// The second user removes what it can of alice's index.
	asNobody(t, shared, `rm -f `+hash+`/*; true`)
	n, err := store.RevokeUser(context.Background(), "alice", nil)
	t.Logf("RevokeUser(alice) = %d, %v", n, err)
	for _, c := range []string{cookie, cookie2} {
		got, _, _, _ := fsRequest(t, store, c, nil, nil)
		if err == nil && !got.IsNew {
			t.Errorf("RevokeUser(alice) returned nil, but alice's session %s still loads: %v", got.ID, got.Values)
		}
	}
}

// The private folder of NewFilesystemStore("") lives in the shared
// temporary folder, where a job ageing old files (systemd-tmpfiles) may
// remove it while the server runs. A second local user then makes the name
// a folder of its own, writable by everybody. The store promises that a
// folder of another user, or writable by others, makes every call fail
// with ErrUnsafeFolder "before anything is read or written"; it checked
// the folder once, at first use, and now writes its sessions into the
// other user's folder.
func TestAttackFSPrivateFolderReplacedAfterStart(t *testing.T) {
	base := secondUserBase(t)
	tmp := filepath.Join(base, "tmp")
	mkdirMode(t, tmp, 0o777|os.ModeSticky)
	t.Setenv("TMPDIR", tmp)
	store := NewFilesystemStore("", testHash, testBlock)
	if _, _, _, err := fsRequest(t, store, "", set("user", "alice"), nil); err != nil {
		t.Fatal(err)
	}
	folder := defaultFolder()
	if err := os.RemoveAll(folder); err != nil { // the ageing job
		t.Fatal(err)
	}
	asNobody(t, tmp, `mkdir -m 777 `+filepath.Base(folder))

	_, _, _, err := fsRequest(t, store, "", set("user", "bob"), nil)
	if !errors.Is(err, ErrUnsafeFolder) {
		t.Errorf("Save into a folder of another user, writable by everybody = %v, want an error wrapping ErrUnsafeFolder", err)
	}
	if names := filesUnder(t, folder); len(names) > 0 {
		t.Errorf("the store wrote into the other user's folder: %v", names)
	}
}

// An entry of the user index that is not a file of the store (a symbolic
// link left by hand, or by a restore, in place of users/<hash>/<ID>) is
// followed when the session is added again at login: the store sets the
// times of a file outside its folder, and the entry, skipped by UserIDs,
// lets RevokeUser miss the session. The store must replace such an entry.
func TestAttackFSUsersEntrySymlink(t *testing.T) {
	dir := t.TempDir()
	store, _ := newFSStore(t, dir)
	anon, cookie := saveNew(t, store, map[any]any{"cart": "1"})
	target := filepath.Join(t.TempDir(), "outside")
	if err := os.WriteFile(target, []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	old := time.Unix(1e9, 0)
	if err := os.Chtimes(target, old, old); err != nil {
		t.Fatal(err)
	}
	entry := filepath.Join(store.files.userDir("alice"), anon.ID)
	if err := os.MkdirAll(filepath.Dir(entry), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(target, entry); err != nil {
		t.Fatal(err)
	}
	if _, _, _, err := fsRequest(t, store, cookie, func(s *Session) { s.SetUser("alice") }, nil); err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Stat(target); err != nil || !fi.ModTime().Equal(old) {
		t.Errorf("the login set the time of %s, outside the folder, through a symbolic link (%v, %v)", target, fi.ModTime(), err)
	}
	n, err := store.RevokeUser(context.Background(), "alice", nil)
	if got, _, _, _ := fsRequest(t, store, cookie, nil, nil); err == nil && !got.IsNew {
		t.Errorf("RevokeUser(alice) = %d, nil, but alice's session still loads: %v", n, got.Values)
	}
}

// A directory left where a spare file goes (".spare-XX", made by hand or
// by a tool restoring the folder) cannot be unlinked. The store promises
// to replace anything in place of a spare file, and to refuse what it
// cannot use with an error wrapping ErrUnsafeFolder; instead every save of
// the sessions of that stripe (one user in 64) fails with a bare "directory
// not empty", and so does every logout there, though it removed the
// session's file: the user is told the logout failed.
func TestAttackFSSpareIsDirectory(t *testing.T) {
	s, dir, alice, aliceCookie, _ := loginAliceAndBob(t)
	spare := filepath.Join(dir, fmt.Sprintf(".spare-%02x", stripeOf(alice)))
	if err := os.Remove(spare); err != nil && !errors.Is(err, fs.ErrNotExist) {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(spare, "x"), 0o700); err != nil {
		t.Fatal(err)
	}
	if _, _, _, err := fsRequest(t, s, aliceCookie, set("cart", "2"), nil); err != nil {
		t.Errorf("a save with a directory in place of the spare file: %v, want it saved", err)
	}
	if got, _, _, _ := fsRequest(t, s, aliceCookie, nil, nil); got.Values["cart"] != "2" {
		t.Errorf("after the save: %v, want cart 2", got.Values)
	}
	if _, err := s.Cleanup(); !errors.Is(err, ErrUnsafeFolder) {
		t.Errorf("Cleanup with a directory in place of the spare file: %v, want an error wrapping ErrUnsafeFolder", err)
	}
	logout := func(se *Session) { se.Options.MaxAge = -1 }
	if _, _, _, err := fsRequest(t, s, aliceCookie, logout, nil); err != nil {
		t.Errorf("a logout with a directory in place of the spare file: %v, want nil", err)
	}
	if got, _, _, _ := fsRequest(t, s, aliceCookie, nil, nil); !got.IsNew {
		t.Errorf("after the logout, the session loads: %v", got.Values)
	}
}

// A hard link to a session's file elsewhere (a backup taken with cp -l or
// rsync --link-dest, or, where fs.protected_hardlinks is 0, any local
// user who may cross the folder, mode 0755 being allowed) keeps the values
// after a logout or an expiry: the store only unlinks the name. It
// promises that "no copy of the values stays behind: a logout removes the
// session's file" (FilesystemStore); an update already empties the
// previous version, the logout and Cleanup must too.
func TestAttackFSHardLinkOutlivesLogout(t *testing.T) {
	s, dir, alice, aliceCookie, _ := loginAliceAndBob(t)
	elsewhere := t.TempDir()
	link := filepath.Join(elsewhere, "alice")
	if err := os.Link(filepath.Join(dir, filePrefix+alice), link); err != nil {
		t.Fatal(err)
	}
	if _, _, _, err := fsRequest(t, s, aliceCookie, func(se *Session) { se.Options.MaxAge = -1 }, nil); err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Stat(link); err != nil || fi.Size() != 0 {
		t.Errorf("after the logout, a hard link of the session's file still holds its values (%d bytes, %v)", fi.Size(), err)
	}

	s2, clock := newFSStore(t, t.TempDir())
	bob, _ := saveNew(t, s2, map[any]any{"user": "bob"})
	link2 := filepath.Join(elsewhere, "bob")
	if err := os.Link(s2.files.path(bob.ID), link2); err != nil {
		t.Fatal(err)
	}
	clock.Advance(s2.Lifetime() + time.Minute)
	if n, err := s2.Cleanup(); err != nil || n != 1 {
		t.Fatalf("Cleanup = %d, %v", n, err)
	}
	if fi, err := os.Stat(link2); err != nil || fi.Size() != 0 {
		t.Errorf("after Cleanup removed the expired file, a hard link of it still holds its values (%d bytes, %v)", fi.Size(), err)
	}
}
