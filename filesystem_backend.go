package sessions

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
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
		life = defaultBrowserSessionTTL
	}
	if age := time.Duration(f.store.Options.MaxAge) * time.Second; age > life {
		life = age
	}
	return life
}

func (f *fileBackend) path(id string) string { return filepath.Join(f.dir, filePrefix+id) }
func (f *fileBackend) temp(id string) string { return filepath.Join(f.dir, tempPrefix+id) }

// expiry returns when the record file described by fi expires and whether
// it is live now.
func (f *fileBackend) expiry(fi fs.FileInfo) (time.Time, bool) {
	expires := fi.ModTime().Add(f.lifetime())
	return expires, f.store.now().Before(expires)
}

// stat returns when the file of id expires and whether it is a live
// record; a missing file is not (and expires at the zero time). Nothing is
// opened: an entry that is not a regular file of the server's user is an
// error wrapping ErrUnsafeFolder.
func (f *fileBackend) stat(id string) (time.Time, bool, error) {
	name := f.path(id)
	fi, err := os.Lstat(name)
	if errors.Is(err, fs.ErrNotExist) {
		return time.Time{}, false, nil
	}
	if err == nil {
		err = checkEntry(name, fi)
	}
	if err != nil {
		return time.Time{}, false, err
	}
	expires, live := f.expiry(fi)
	return expires, live, nil
}

func (f *fileBackend) Load(_ context.Context, id string) ([]byte, time.Time, error) {
	if !validID(id) {
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

func (f *fileBackend) Create(_ context.Context, id string, data []byte, ttl time.Duration) error {
	return f.write(id, data, f.modTime(ttl), false)
}

func (f *fileBackend) Update(_ context.Context, id string, data []byte, ttl time.Duration) error {
	return f.write(id, data, f.modTime(ttl), true)
}

// write stores data as the file of id if it is a live record (update) or
// is not (create), atomically: an update swaps the stripe's spare file in
// (writeSpare); a creation, or an update where the file system cannot swap
// files, renames a new temporary file over the session's file
// (writeTemp). Either way no inode that a reader may have open is
// rewritten while it reads: readers hold the lock shared.
func (f *fileBackend) write(id string, data []byte, mtime time.Time, update bool) error {
	if !validID(id) {
		return fmt.Errorf("%w: %q", ErrInvalidOptions, id)
	}
	return f.locked(id, func(l held, live bool, err error) error {
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
			err := f.writeSpare(l.s.spare, id, data, mtime)
			switch {
			case errors.Is(err, errExchangeUnsupported):
				f.noExchange.Store(true)
			case !errors.Is(err, ErrUnsafeFolder):
				return err
			}
			// A spare file that can be neither used nor replaced: this save
			// renames a new file over the session's instead.
		}
		return f.writeTemp(id, data, mtime)
	})
}

func (f *fileBackend) Delete(_ context.Context, id string) error {
	return f.locked(id, func(l held, live bool, err error) error {
		if err != nil && !errors.Is(err, ErrUnsafeFolder) {
			return err
		}
		// Whatever holds the name goes (unlinking follows and opens
		// nothing), and with it what a save killed midway may have left of
		// the values: its temporary file, or the stripe's spare file.
		// A spare entry that cannot be removed and is no file (see
		// removeSpare) holds no values: it does not fail the logout.
		_, spareErr := removeSpare(l.s.spare)
		if errors.Is(spareErr, ErrUnsafeFolder) {
			spareErr = nil
		}
		if err := errors.Join(removeRecord(f.path(id)), removeEntry(f.temp(id)), spareErr); err != nil {
			return err
		}
		if !live {
			return ErrRecordNotFound
		}
		return nil
	})
}

// Touch sets the modification time of the live file of id so that it
// expires ttl from now (see modTime). It returns ErrRecordNotFound, and
// writes nothing, when there is no live file.
func (f *fileBackend) Touch(_ context.Context, id string, ttl time.Duration) error {
	return f.locked(id, func(_ held, live bool, err error) error {
		switch {
		case err != nil && !errors.Is(err, ErrUnsafeFolder):
			return err
		case err != nil || !live:
			return ErrRecordNotFound
		}
		return setModTime(f.path(id), f.modTime(ttl))
	})
}

// modTime is the modification time of a file that expires ttl from now: a
// file expires Lifetime after its modification time (which is what a file
// that gorilla/sessions wrote gets: its time of writing), so a shorter ttl
// dates it back, a longer one forward.
func (f *fileBackend) modTime(ttl time.Duration) time.Time {
	return f.store.now().Add(ttl - f.lifetime())
}

// locked runs fn under the exclusive lock of id with whether the file of
// id is a live record (see stat); an invalid id has no record.
func (f *fileBackend) locked(id string, fn func(l held, live bool, err error) error) error {
	if !validID(id) {
		return ErrRecordNotFound
	}
	l, err := f.lock(id, true)
	if err != nil {
		return err
	}
	defer l.unlock()
	_, live, err := f.stat(id)
	return fn(l, live, err)
}
