package sessions

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
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
// and Touch hold the session's lock (see stripe), exclusive, across their
// check and their write; Load holds it shared while it reads.
type fileBackend struct {
	dir   string
	store *ServerStore
	// private marks the folder of NewFilesystemStore(""), which checkDir
	// creates and holds to stricter rules.
	private bool

	dirOK atomic.Bool // checkDir succeeded once
	dirMu sync.Mutex
	locks [lockStripes]stripe
	// noExchange is set once the file system refused an exchange.
	noExchange atomic.Bool
}

var _ Toucher = (*fileBackend)(nil)

// testHookBeforeRename, if set, runs when a save has written its spare or
// temporary file, just before the swap or the rename: the tests kill a
// process there.
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
	l, err := f.lock(id, false)
	if err != nil {
		return nil, time.Time{}, err
	}
	defer l.unlock()
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
// is not (create), atomically: an update swaps the stripe's spare file in
// (writeSpare); a creation, or an update where the file system cannot swap
// files, renames a new temporary file over the session's file
// (writeTemp). Either way no inode that a reader may have open is
// rewritten while it reads: readers hold the lock shared.
func (f *fileBackend) write(id string, data []byte, update bool) error {
	if !ValidID(id) {
		return fmt.Errorf("%w: %q", ErrInvalidOptions, id)
	}
	l, err := f.lock(id, true)
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
	if update && canExchange && !f.noExchange.Load() {
		err := f.writeSpare(l.s.spare, id, data)
		if err != errExchangeUnsupported {
			return err
		}
		f.noExchange.Store(true)
	}
	return f.writeTemp(id, data)
}

// writeSpare writes data into the stripe's spare file, which is empty
// between saves, swaps it with the session's file in one step (renameat2
// RENAME_EXCHANGE), and empties it again: it then held the previous
// version. No inode is created or freed, which is what makes a save cheap
// (on ext4 without a journal, creating a file costs more with every file
// deleted in the last seconds), and no copy of the values stays behind.
// The exclusive lock keeps readers of this session out of the swap.
func (f *fileBackend) writeSpare(spare, id string, data []byte) error {
	file, err := f.openSpare(spare)
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
		err = setModTime(spare, f.store.Now())
	}
	if err == nil && testHookBeforeRename != nil {
		testHookBeforeRename()
	}
	if err == nil {
		err = exchange(spare, f.path(id))
	}
	if eerr := emptySpare(spare); err == nil {
		err = eerr
	}
	return err
}

// openSpare opens the spare file for writing, empty. Anything but an empty
// regular file of the server's user with no other link is replaced first:
// a leftover of a save killed midway is emptied, and what someone else put
// there is unlinked, never written into.
func (f *fileBackend) openSpare(spare string) (*os.File, error) {
	file, fi, err := openEntry(spare, os.O_WRONLY|os.O_CREATE, 0o600)
	if err == nil && links(fi) == 1 {
		if fi.Size() > 0 {
			if err := file.Truncate(0); err != nil {
				_ = file.Close()
				return nil, err
			}
		}
		return file, nil
	}
	if file != nil {
		_ = file.Close()
	}
	if err != nil && !errors.Is(err, ErrUnsafeFolder) {
		return nil, err
	}
	if err := removeEntry(spare); err != nil {
		return nil, err
	}
	return createExclusive(spare)
}

// emptySpare truncates the spare file, which holds the previous version of
// a session after a swap (or the values of a failed save).
func emptySpare(spare string) error {
	file, fi, err := openEntry(spare, os.O_WRONLY, 0)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	if fi.Size() > 0 {
		err = file.Truncate(0)
	}
	return errors.Join(err, file.Close())
}

// writeTemp writes data into a new temporary file and renames it over the
// session's file.
func (f *fileBackend) writeTemp(id string, data []byte) error {
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
	l, err := f.lock(id, true)
	if err != nil {
		return err
	}
	defer l.unlock()
	_, live, err := f.stat(id)
	if err != nil && !errors.Is(err, ErrUnsafeFolder) {
		return err
	}
	// Whatever holds the name goes (unlinking follows and opens nothing),
	// and with it what a save killed midway may have left of the values:
	// its temporary file, or the stripe's spare file.
	if err := errors.Join(removeEntry(f.path(id)), removeEntry(f.temp(id)), second(removeSpare(l.s.spare))); err != nil {
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
	l, err := f.lock(id, true)
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

// removeSpare removes the spare file if it is anything but empty (a save
// was killed midway), and reports whether it did; the stripe's lock is
// held. The next save makes a new one.
func removeSpare(spare string) (bool, error) {
	fi, err := os.Lstat(spare)
	if errors.Is(err, fs.ErrNotExist) || (err == nil && fi.Mode().IsRegular() && fi.Size() == 0) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	if err := removeEntry(spare); err != nil {
		return false, err
	}
	return true, nil
}

// second returns the second of two results.
func second[T any](_ T, err error) error { return err }

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
		var removed bool
		switch {
		case strings.HasPrefix(name, filePrefix) && ValidID(name[len(filePrefix):]):
			removed, err = f.cleanExpired(name[len(filePrefix):])
		case strings.HasPrefix(name, tempPrefix) && len(name) >= len(tempPrefix)+IDLength &&
			ValidID(name[len(tempPrefix):len(tempPrefix)+IDLength]):
			// ".tmp-session_<ID>", or a partner file of an earlier version
			// of this package (".tmp-session_<ID>-<pid>", holding a
			// previous version of the values): under the session's lock,
			// no save writes it.
			removed, err = f.cleanLocked(name[len(tempPrefix):len(tempPrefix)+IDLength], filepath.Join(f.dir, name))
		case strings.HasPrefix(name, ".spare-"):
			i, perr := strconv.ParseUint(name[len(".spare-"):], 16, 8)
			if perr != nil || i >= lockStripes || name != filepath.Base(f.stripe(int(i)).spare) {
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
	if len(errs) > 0 {
		return n, fmt.Errorf("sessions: cleaning up %s: %w", f.dir, errors.Join(errs...))
	}
	return n, nil
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
	return true, os.Remove(f.path(id))
}

// cleanLocked removes name under the lock of session id.
func (f *fileBackend) cleanLocked(id, name string) (bool, error) {
	l, err := f.lock(id, true)
	if err != nil {
		return false, err
	}
	defer l.unlock()
	if err := os.Remove(name); err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return false, nil
		}
		return false, err
	}
	return true, nil
}

// cleanSpare removes the spare file of stripe i if it is not empty.
func (f *fileBackend) cleanSpare(i int) (bool, error) {
	if err := f.checkDir(); err != nil {
		return false, err
	}
	s := f.stripe(i)
	l, err := s.acquire(true)
	if err != nil {
		return false, err
	}
	defer l.unlock()
	return removeSpare(s.spare)
}
