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
// one that no one else may even read, and not a symbolic link. Success is
// cached; a failure is not, so that a folder fixed later is taken.
func (f *fileBackend) checkDir() error {
	if f.dirOK.Load() {
		return nil
	}
	f.dirMu.Lock()
	defer f.dirMu.Unlock()
	if f.dirOK.Load() {
		return nil
	}
	var (
		fi  fs.FileInfo
		err error
	)
	if f.private {
		if err = os.Mkdir(f.dir, 0o700); err != nil && !errors.Is(err, fs.ErrExist) {
			return err
		}
		fi, err = os.Lstat(f.dir)
	} else {
		fi, err = os.Stat(f.dir)
	}
	if err != nil {
		return err
	}
	if err := checkFolder(f.dir, fi, f.private); err != nil {
		return err
	}
	f.dirOK.Store(true)
	return nil
}

// unsafeEntry is the error about an entry the store refuses to use.
func unsafeEntry(name, why string) error {
	return fmt.Errorf("%w: %s %s", ErrUnsafeFolder, name, why)
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
