package sessions

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

func (f *fileBackend) cleanup() (int, error) {
	if err := f.checkDir(); err != nil {
		return 0, err
	}
	entries, err := os.ReadDir(f.dir)
	if err != nil {
		return 0, withContext("cleaning up "+f.dir, err)
	}
	var (
		n    int
		errs []error
	)
	for _, e := range entries {
		name := e.Name()
		var removed bool
		switch {
		case strings.HasPrefix(name, filePrefix) && validID(name[len(filePrefix):]):
			removed, err = f.cleanExpired(name[len(filePrefix):])
		case strings.HasPrefix(name, tempPrefix) && len(name) >= len(tempPrefix)+idLength &&
			validID(name[len(tempPrefix):len(tempPrefix)+idLength]):
			// ".tmp-session_<ID>", or a partner file of an earlier version
			// of this package (".tmp-session_<ID>-<pid>", holding a
			// previous version of the values): under the session's lock,
			// no save writes it.
			removed, err = f.cleanLocked(name[len(tempPrefix):len(tempPrefix)+idLength], filepath.Join(f.dir, name))
		case strings.HasPrefix(name, ".spare-"):
			i, perr := strconv.ParseUint(name[len(".spare-"):], 16, 8)
			if perr != nil || i >= lockStripes || name != filepath.Base(f.locks[i].spare) {
				continue
			}
			removed, err = f.cleanSpare(int(i))
		default:
			continue // lock files, subfolders, files of others
		}
		if removed {
			n++
		}
		if err != nil {
			errs = append(errs, err)
		}
	}
	m, userErrs := f.cleanUsers()
	n += m
	errs = append(errs, userErrs...)
	for i, err := range errs {
		errs[i] = withContext("cleaning up "+f.dir, err) // nil stays nil
	}
	return n, errors.Join(errs...)
}

// cleanExpired removes the file of session id if it has expired.
func (f *fileBackend) cleanExpired(id string) (bool, error) {
	l, err := f.lock(id, true)
	if err != nil {
		return false, err
	}
	defer l.unlock()
	expires, live, err := f.stat(id)
	if err != nil || live || expires.IsZero() {
		return false, err
	}
	return true, removeRecord(f.path(id))
}

// cleanLocked removes name under the lock of session id.
func (f *fileBackend) cleanLocked(id, name string) (bool, error) {
	l, err := f.lock(id, true)
	if err != nil {
		return false, err
	}
	defer l.unlock()
	err = os.Remove(name)
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	return err == nil, err
}

// cleanSpare removes the spare file of stripe i if it is not empty.
func (f *fileBackend) cleanSpare(i int) (bool, error) {
	l, err := f.lockStripe(i, true)
	if err != nil {
		return false, err
	}
	defer l.unlock()
	return removeSpare(l.s.spare)
}
