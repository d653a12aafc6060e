package sessions

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
)

// checkDir checks that the store's folder is safe (see FilesystemStore):
// a folder of the server's user that no one else may write, and for the
// private folder of NewFilesystemStore(""), which it creates if missing,
// one that no one else may even read, and not a symbolic link. It checks
// on every call, never from a cache: a folder whose permissions change, or
// that is removed and made again by someone else (a job ageing the files
// of the temporary folder, then another user), is refused from the next
// call on. One stat costs far less than the save or load it guards.
func (f *fileBackend) checkDir() error {
	if f.private {
		return makeFolder(f.dir, true)
	}
	fi, err := os.Stat(f.dir)
	if err != nil {
		return err
	}
	return checkFolder(f.dir, fi, false)
}

// lstatFolder checks the folder name (see checkFolder) without following a
// symbolic link.
func lstatFolder(name string, private bool) error {
	fi, err := os.Lstat(name)
	if err != nil {
		return err
	}
	return checkFolder(name, fi, private)
}

// makeFolder makes the folder name with mode 0700 if it is missing, and
// checks it (see lstatFolder).
func makeFolder(name string, private bool) error {
	err := lstatFolder(name, private)
	if errors.Is(err, fs.ErrNotExist) {
		if err = os.Mkdir(name, 0o700); err != nil && !errors.Is(err, fs.ErrExist) {
			return err
		}
		err = lstatFolder(name, private)
	}
	return err
}

// unsafeEntry is the error about an entry the store refuses to use.
func unsafeEntry(name, why string) error {
	return fmt.Errorf("%w: %s %s", ErrUnsafeFolder, name, why)
}

// checkEntry returns an error wrapping ErrUnsafeFolder unless fi, from Lstat
// or fstat of name, is a regular file of the server's user.
func checkEntry(name string, fi fs.FileInfo) error {
	if !fi.Mode().IsRegular() {
		return unsafeEntry(name, "is not a regular file ("+fi.Mode().Type().String()+")")
	}
	return checkOwner(name, fi)
}

// checkFolder returns an error unless fi, the stat of the folder name, is a
// folder of the server's user that no one else may write (see
// checkFolderAccess), and not a symbolic link.
func checkFolder(name string, fi fs.FileInfo, private bool) error {
	switch {
	case fi.Mode()&fs.ModeSymlink != 0:
		return unsafeEntry(name, "is a symbolic link")
	case !fi.Mode().IsDir():
		return fmt.Errorf("sessions: %s is not a folder", name)
	}
	return checkFolderAccess(name, fi, private)
}

// checkOpened returns file and its fstat if it is a regular file of the
// server's user (see checkEntry); otherwise it closes it.
func checkOpened(file *os.File) (*os.File, fs.FileInfo, error) {
	fi, err := file.Stat()
	if err == nil {
		err = checkEntry(file.Name(), fi)
	}
	if err != nil {
		_ = file.Close()
		return nil, nil, err
	}
	return file, fi, nil
}
