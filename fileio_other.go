//go:build !unix

package sessions

import (
	"fmt"
	"io/fs"
	"os"
)

// checkEntry returns an error wrapping ErrUnsafeFolder unless fi, from Lstat
// or stat of name, is a regular file. This system has no owners to check.
func checkEntry(name string, fi fs.FileInfo) error {
	if !fi.Mode().IsRegular() {
		return unsafeEntry(name, "is not a regular file ("+fi.Mode().Type().String()+")")
	}
	return nil
}

// checkFolder returns an error unless fi, the stat of name, is a folder
// (and, if private, not a symbolic link). This system has no owners or
// Unix permissions to check.
func checkFolder(name string, fi fs.FileInfo, private bool) error {
	switch {
	case fi.Mode()&fs.ModeSymlink != 0:
		return unsafeEntry(name, "is a symbolic link")
	case !fi.Mode().IsDir():
		return fmt.Errorf("sessions: %s is not a folder", name)
	}
	return nil
}

// openEntry opens name with flag if it is a regular file, and returns it
// with its stat.
func openEntry(name string, flag int, perm fs.FileMode) (*os.File, fs.FileInfo, error) {
	if fi, err := os.Lstat(name); err == nil {
		if err := checkEntry(name, fi); err != nil {
			return nil, nil, err
		}
	}
	file, err := os.OpenFile(name, flag, perm)
	if err != nil {
		return nil, nil, err
	}
	return checkOpened(file)
}

// createExclusive creates name, which must not exist, for writing.
func createExclusive(name string) (*os.File, error) {
	return os.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
}

// unlinked reports whether the open file has no name left; this system
// does not say.
func unlinked(*os.File) (bool, error) { return false, nil }

// links returns the number of names of the file described by fi; this
// system does not say, so 1.
func links(fs.FileInfo) uint64 { return 1 }
