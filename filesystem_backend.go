package sessions

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

const (
	filePrefix = "session_"
	// tempPrefix starts the name of the temporary file of a save in flight,
	// ".tmp-session_<ID>": one per session at most, since saves of a
	// session hold its lock. It never matches filePrefix, so a reader never
	// opens one.
	tempPrefix = ".tmp-session_"
)

// fileBackend is the Backend of FilesystemStore. Create, Update, Delete
// and Touch hold the session's lock (shared by processes, see lockFor)
// across their check and their write; Load takes no lock, since a file is
// never modified once it holds a record.
type fileBackend struct {
	dir   string
	store *ServerStore
	// private marks the folder of NewFilesystemStore(""), which checkDir
	// creates and holds to stricter rules.
	private bool

	dirOK atomic.Bool // checkDir succeeded once
	dirMu sync.Mutex
	locks [lockStripes]stripe
}

var _ Toucher = (*fileBackend)(nil)

// testHookBeforeRename, if set, runs when a save has written its temporary
// file, just before the rename: the tests kill a process there.
var testHookBeforeRename func()

func (f *fileBackend) lifetime() time.Duration {
	life := f.store.BrowserSessionTTL
	if life <= 0 {
		life = DefaultBrowserSessionTTL
	}
	if age := time.Duration(f.store.Options.MaxAge) * time.Second; age > life {
		life = age
	}
	return life
}

func (f *fileBackend) path(id string) string { return filepath.Join(f.dir, filePrefix+id) }
func (f *fileBackend) temp(id string) string { return filepath.Join(f.dir, tempPrefix+id) }

// record judges fi, the Lstat or fstat of the file of a session: when it
// expires and whether it is live now. An entry that is not a regular file
// of the server's user is an error wrapping ErrUnsafeFolder.
func (f *fileBackend) record(name string, fi fs.FileInfo) (expires time.Time, live bool, err error) {
	if err := checkEntry(name, fi); err != nil {
		return time.Time{}, false, err
	}
	expires, live = f.expiry(fi)
	return expires, live, nil
}

// expiry returns when the record file described by fi expires and whether
// it is live now.
func (f *fileBackend) expiry(fi fs.FileInfo) (time.Time, bool) {
	expires := fi.ModTime().Add(f.lifetime())
	return expires, f.store.now().Before(expires)
}

// stat returns whether the file of id is a live record. A missing file is
// not; nothing is opened.
func (f *fileBackend) stat(id string) (time.Time, bool, error) {
	fi, err := os.Lstat(f.path(id))
	if errors.Is(err, fs.ErrNotExist) {
		return time.Time{}, false, nil
	}
	if err != nil {
		return time.Time{}, false, err
	}
	return f.record(f.path(id), fi)
}

func (f *fileBackend) Load(_ context.Context, id string) ([]byte, time.Time, error) {
	if !ValidID(id) {
		return nil, time.Time{}, ErrRecordNotFound
	}
	if err := f.checkDir(); err != nil {
		return nil, time.Time{}, err
	}
	// No lock: a save renames a new file over this one, so the file opened
	// here keeps its content whatever happens to the name meanwhile.
	file, fi, err := openEntry(f.path(id), os.O_RDONLY, 0)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, time.Time{}, ErrRecordNotFound
	}
	if err != nil {
		return nil, time.Time{}, err
	}
	defer file.Close()
	expires, live := f.expiry(fi)
	if !live {
		return nil, time.Time{}, ErrRecordNotFound
	}
	data := make([]byte, fi.Size())
	if _, err := io.ReadFull(file, data); err != nil {
		return nil, time.Time{}, fmt.Errorf("reading %s: %w", file.Name(), err)
	}
	return data, expires, nil
}

func (f *fileBackend) Create(_ context.Context, id string, data []byte, _ time.Duration) error {
	return f.write(id, data, false)
}

func (f *fileBackend) Update(_ context.Context, id string, data []byte, _ time.Duration) error {
	return f.write(id, data, true)
}

// write stores data as the file of id if it is a live record (update) or
// is not (create), atomically: a new temporary file renamed over it.
func (f *fileBackend) write(id string, data []byte, update bool) error {
	if !ValidID(id) {
		return fmt.Errorf("%w: %q", ErrInvalidOptions, id)
	}
	l, err := f.lock(id)
	if err != nil {
		return err
	}
	defer l.unlock()
	_, live, err := f.stat(id)
	switch {
	case err != nil && (update || !errors.Is(err, ErrUnsafeFolder)):
		// Create may replace an entry it refuses to read: the rename
		// replaces the name, it does not follow or open what was there.
		return err
	case update && !live:
		return ErrRecordNotFound
	case !update && live:
		return ErrRecordExists
	}
	tmp := f.temp(id)
	file, err := createExclusive(tmp)
	if errors.Is(err, fs.ErrExist) {
		// Left by a process killed while saving: no save of id is in
		// flight, since this one holds its lock.
		if err = removeEntry(tmp); err == nil {
			file, err = createExclusive(tmp)
		}
	}
	if err != nil {
		return err
	}
	_, err = file.Write(data)
	if cerr := file.Close(); err == nil {
		err = cerr
	}
	if err == nil && f.store.Now != nil {
		// A store on an injected clock dates its files by that clock, so
		// that expiry and Cleanup agree with it.
		err = setModTime(tmp, f.store.Now())
	}
	if err == nil && testHookBeforeRename != nil {
		testHookBeforeRename()
	}
	if err == nil {
		err = os.Rename(tmp, f.path(id))
	}
	if err != nil {
		_ = os.Remove(tmp)
		return err
	}
	return nil
}

func (f *fileBackend) Delete(_ context.Context, id string) error {
	if !ValidID(id) {
		return ErrRecordNotFound
	}
	l, err := f.lock(id)
	if err != nil {
		return err
	}
	defer l.unlock()
	_, live, err := f.stat(id)
	if err != nil && !errors.Is(err, ErrUnsafeFolder) {
		return err
	}
	// Whatever holds the name goes (unlinking follows and opens nothing),
	// and with it the file of a save killed midway, which may hold a newer
	// version of the values.
	if err := errors.Join(removeEntry(f.path(id)), removeEntry(f.temp(id))); err != nil {
		return err
	}
	if !live {
		return ErrRecordNotFound
	}
	return nil
}

// Touch sets the modification time of the live file of id to the store's
// clock: the file then expires Lifetime later (ttl is not used, as in
// Update). It returns ErrRecordNotFound, and writes nothing, when there is
// no live file.
func (f *fileBackend) Touch(_ context.Context, id string, _ time.Duration) error {
	if !ValidID(id) {
		return ErrRecordNotFound
	}
	l, err := f.lock(id)
	if err != nil {
		return err
	}
	defer l.unlock()
	_, live, err := f.stat(id)
	switch {
	case errors.Is(err, ErrUnsafeFolder):
		return ErrRecordNotFound
	case err != nil:
		return err
	case !live:
		return ErrRecordNotFound
	}
	return setModTime(f.path(id), f.store.now())
}

// removeEntry unlinks name, which may be missing.
func removeEntry(name string) error {
	if err := os.Remove(name); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	return nil
}

func (f *fileBackend) cleanup() (int, error) {
	if err := f.checkDir(); err != nil {
		return 0, err
	}
	entries, err := os.ReadDir(f.dir)
	if err != nil {
		return 0, fmt.Errorf("sessions: cleaning up %s: %w", f.dir, err)
	}
	var (
		n    int
		errs []error
	)
	for _, e := range entries {
		name := e.Name()
		var (
			id   string
			temp bool
		)
		switch {
		case strings.HasPrefix(name, filePrefix) && ValidID(name[len(filePrefix):]):
			id = name[len(filePrefix):]
		case strings.HasPrefix(name, tempPrefix) && len(name) >= len(tempPrefix)+IDLength &&
			ValidID(name[len(tempPrefix):len(tempPrefix)+IDLength]):
			// ".tmp-session_<ID>", or a partner file of an earlier version
			// of this package (".tmp-session_<ID>-<pid>", holding a
			// previous version of the values).
			id, temp = name[len(tempPrefix):len(tempPrefix)+IDLength], true
		default:
			continue // lock files, subfolders, files of others
		}
		removed, err := f.clean(id, filepath.Join(f.dir, name), temp)
		if removed {
			n++
		}
		if err != nil {
			errs = append(errs, err)
		}
	}
	if len(errs) > 0 {
		return n, fmt.Errorf("sessions: cleaning up %s: %w", f.dir, errors.Join(errs...))
	}
	return n, nil
}

// clean removes name, the file of session id or a temporary file of it,
// under the session's lock: a temporary file then belongs to no save in
// flight, and a session file is removed only if it has expired.
func (f *fileBackend) clean(id, name string, temp bool) (bool, error) {
	l, err := f.lock(id)
	if err != nil {
		return false, err
	}
	defer l.unlock()
	if !temp {
		fi, err := os.Lstat(name)
		if errors.Is(err, fs.ErrNotExist) {
			return false, nil
		}
		if err != nil {
			return false, err
		}
		if _, live, err := f.record(name, fi); err != nil || live {
			return false, err
		}
	}
	if err := os.Remove(name); err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return false, nil
		}
		return false, err
	}
	return true, nil
}
