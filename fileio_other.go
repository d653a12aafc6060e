//go:build !unix

package sessions

import (
	"io/fs"
	"os"
)

// checkOwner does nothing: this system has no owners to check.
func checkOwner(string, fs.FileInfo) error { return nil }

// checkFolderAccess does nothing: this system has no owners or Unix
// permissions to check.
func checkFolderAccess(string, fs.FileInfo, bool) error { return nil }

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

// links returns the number of names of the file described by fi; this
// system does not say, so 1.
func links(fs.FileInfo) uint64 { return 1 }
