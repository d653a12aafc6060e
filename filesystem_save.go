package sessions

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"time"
)

// errExchangeUnsupported is what exchange returns on a system or a file
// system that cannot swap two files atomically; FilesystemStore then renames
// a new file over the old one.
var errExchangeUnsupported = errors.New("sessions: atomic exchange not supported")

// writeSpare writes data into the stripe's spare file, which is empty
// between saves, swaps it with the session's file in one step (renameat2
// RENAME_EXCHANGE), and empties it again: it then held the previous
// version. No inode is created or freed, which is what makes a save cheap
// (on ext4 without a journal, creating a file costs more with every file
// deleted in the last seconds), and no copy of the values stays behind.
// The exclusive lock keeps readers of this session out of the swap.
func (f *fileBackend) writeSpare(spare, id string, data []byte, mtime time.Time) error {
	file, err := f.openSpare(spare)
	if err != nil {
		return err
	}
	if err = f.fill(file, data, mtime); err == nil {
		err = exchange(spare, f.path(id))
	}
	if eerr := emptySpare(spare); err == nil {
		err = eerr
	}
	return err
}

// fill writes data into file, the spare or temporary file of a save,
// closes it and sets its modification time to mtime (see modTime).
func (f *fileBackend) fill(file *os.File, data []byte, mtime time.Time) error {
	_, err := file.Write(data)
	if cerr := file.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = setModTime(file.Name(), mtime)
	}
	if err == nil && testHookBeforeRename != nil {
		testHookBeforeRename()
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
		return nil, irremovable(spare, err)
	}
	return createExclusive(spare)
}

// irremovable is the error about an entry the store refuses and cannot
// unlink (a directory with entries): it wraps ErrUnsafeFolder, and err.
func irremovable(name string, err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		err = pe.Err
	}
	return fmt.Errorf("%w: %s is not a file of the store and cannot be removed: %w", ErrUnsafeFolder, name, err)
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
func (f *fileBackend) writeTemp(id string, data []byte, mtime time.Time) error {
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
	if err = f.fill(file, data, mtime); err == nil {
		err = os.Rename(tmp, f.path(id))
	}
	if err != nil {
		_ = os.Remove(tmp)
	}
	return err
}

// removeRecord unlinks name, the file of a session, which may be missing.
// A file of the store with other names (hard links elsewhere) is emptied
// first, so that no copy of the values outlives it; a file of another
// user is never written into.
func removeRecord(name string) error {
	if fi, err := os.Lstat(name); err == nil && fi.Mode().IsRegular() && links(fi) > 1 {
		if file, _, err := openEntry(name, os.O_WRONLY, 0); err == nil {
			if err := errors.Join(file.Truncate(0), file.Close()); err != nil {
				return err
			}
		}
	}
	return removeEntry(name)
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
// held. The next save makes a new one. An entry that is not a regular file
// and cannot be unlinked holds no values; it is an error wrapping
// ErrUnsafeFolder.
func removeSpare(spare string) (bool, error) {
	fi, err := os.Lstat(spare)
	if errors.Is(err, fs.ErrNotExist) || (err == nil && fi.Mode().IsRegular() && fi.Size() == 0) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	if err := removeEntry(spare); err != nil {
		if !fi.Mode().IsRegular() {
			return false, irremovable(spare, err)
		}
		return false, err
	}
	return true, nil
}
