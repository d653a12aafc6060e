package sessions

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/fasthttp-sessions/sessions/internal/backendkit"
)

// The user index of FilesystemStore (see UserIndex): in the store's folder,
// users/<hex SHA-256 of the user key>/<ID>, one empty file per session of
// the user, whose modification time says when it was added. Each add or
// remove is one create or unlink, atomic for every process sharing the
// folder; no lock is needed. The folders are 0700 and the files 0600, made
// in a folder that checkDir keeps writable by the server's user alone. Like
// the store's folder, users/ and users/<hash> must be folders of the
// server's user that no one else may write, and not symbolic links
// (indexFolders): otherwise whoever may write them could drop a session
// from its user's index, and RevokeUser would miss it.

const usersFolder = "users"

var _ UserIndex = (*fileBackend)(nil)

// userDir is the folder of the entries of user.
func (f *fileBackend) userDir(user string) string {
	return filepath.Join(f.dir, usersFolder, backendkit.UserKey(user))
}

func (f *fileBackend) AddUserID(_ context.Context, user, id string) error {
	if err := f.checkDir(); err != nil {
		return err
	}
	if !validID(id) {
		return fmt.Errorf("%w: %q is not a session ID", ErrInvalidOptions, id)
	}
	dir := f.userDir(user)
	for range 3 {
		if err := indexFolders(dir, true); err != nil {
			return indexError(err)
		}
		name := filepath.Join(dir, id)
		file, err := createExclusive(name)
		switch {
		case err == nil:
			err = file.Close()
		case errors.Is(err, fs.ErrExist):
			// There already: it is added again now, if it is an entry of
			// the store; anything else in its place is replaced.
			var fi fs.FileInfo
			if fi, err = os.Lstat(name); err == nil && checkEntry(name, fi) != nil {
				if err = removeEntry(name); err == nil {
					continue
				}
			}
		}
		if errors.Is(err, fs.ErrNotExist) {
			continue // the folder went with its last entry meanwhile
		}
		if err == nil {
			err = setModTime(name, f.store.now()) // never follows a link
		}
		return indexError(err)
	}
	return fmt.Errorf("sessions: the user index: %s keeps disappearing", dir)
}

func (f *fileBackend) RemoveUserID(_ context.Context, user, id string) error {
	if err := f.checkDir(); err != nil {
		return err
	}
	if !validID(id) {
		return nil
	}
	dir := f.userDir(user)
	err := indexFolders(dir, false)
	if errors.Is(err, fs.ErrNotExist) {
		return nil // no set, so id is not in it
	}
	if err == nil {
		err = removeEntry(filepath.Join(dir, id))
	}
	if err != nil {
		return indexError(err)
	}
	_ = os.Remove(dir) // fails while other entries are there
	return nil
}

func (f *fileBackend) UserIDs(_ context.Context, user string) ([]string, error) {
	if err := f.checkDir(); err != nil {
		return nil, err
	}
	dir := f.userDir(user)
	var entries []os.DirEntry
	err := indexFolders(dir, false)
	if err == nil {
		entries, err = os.ReadDir(dir)
	}
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, indexError(err)
	}
	ids := make([]string, 0, len(entries))
	for _, e := range entries {
		if validID(e.Name()) && e.Type().IsRegular() {
			ids = append(ids, e.Name())
		}
	}
	return ids, nil
}

// cleanUsers removes the entries of the user index whose session file is
// gone and that were added more than ten minutes ago (see UserIndex), and
// the folders of users left with none. It returns how many it removed, and
// an error for each folder it could not read.
func (f *fileBackend) cleanUsers() (int, []error) {
	root := filepath.Join(f.dir, usersFolder)
	var users []os.DirEntry
	err := lstatFolder(root, false)
	if err == nil {
		users, err = os.ReadDir(root)
	}
	if errors.Is(err, fs.ErrNotExist) {
		return 0, nil
	}
	if err != nil {
		return 0, []error{err}
	}
	now := f.store.now()
	n := 0
	var errs []error
	for _, u := range users {
		if !u.IsDir() {
			continue
		}
		dir := filepath.Join(root, u.Name())
		var entries []os.DirEntry
		err := lstatFolder(dir, false)
		if err == nil {
			entries, err = os.ReadDir(dir)
		}
		if err != nil {
			errs = append(errs, err)
			continue
		}
		for _, e := range entries {
			id := e.Name()
			info, err := e.Info()
			if err != nil || !validID(id) || now.Sub(info.ModTime()) <= userIndexGrace {
				continue
			}
			if _, err := os.Lstat(f.path(id)); !errors.Is(err, fs.ErrNotExist) {
				continue // the session is there (or cannot be told): keep it
			}
			if err := os.Remove(filepath.Join(dir, id)); err == nil {
				n++
			}
		}
		_ = os.Remove(dir) // fails while entries are left
	}
	return n, errs
}

// indexFolders checks users/ and dir, users/<hash>, without following a
// symbolic link (see checkFolder): a missing one is an error wrapping
// fs.ErrNotExist, unless create makes it first (see makeFolder).
func indexFolders(dir string, create bool) error {
	check := lstatFolder
	if create {
		check = makeFolder
	}
	if err := check(filepath.Dir(dir), false); err != nil {
		return err
	}
	return check(dir, false)
}

func indexError(err error) error { return withContext("the user index", err) }
