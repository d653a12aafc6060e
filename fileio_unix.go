//go:build unix

package sessions

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"syscall"
)

// checkOwner returns an error wrapping ErrUnsafeFolder unless name,
// described by fi, belongs to the server's user.
func checkOwner(name string, fi fs.FileInfo) error {
	uid := -1
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		uid = int(st.Uid)
	}
	if euid := os.Geteuid(); uid != euid {
		return unsafeEntry(name, fmt.Sprintf("belongs to uid %d, not to the server's user (uid %d)", uid, euid))
	}
	return nil
}

// checkFolderAccess returns an error wrapping ErrUnsafeFolder unless the
// folder name, described by fi, belongs to the server's user and no one
// else may write it; if private, no one else may use it at all.
func checkFolderAccess(name string, fi fs.FileInfo, private bool) error {
	if err := checkOwner(name, fi); err != nil {
		return err
	}
	mode := fi.Mode()
	switch {
	case private && mode.Perm()&0o077 != 0:
		return unsafeEntry(name, fmt.Sprintf("may be used by other users (mode %v): remove it, or give NewFilesystemStore a folder", mode))
	case mode.Perm()&0o022 != 0:
		return unsafeEntry(name, fmt.Sprintf("may be written by other users (mode %v)", mode))
	}
	return nil
}

// openEntry opens name with flag, never following a symbolic link nor
// blocking on a FIFO, and returns it with its fstat if it is a regular file
// of the server's user (see checkEntry).
func openEntry(name string, flag int, perm fs.FileMode) (*os.File, fs.FileInfo, error) {
	file, err := os.OpenFile(name, flag|syscall.O_NOFOLLOW|syscall.O_NONBLOCK, perm)
	if err != nil {
		// Say why an entry was refused: O_NOFOLLOW fails with ELOOP,
		// EMLINK or EFTYPE depending on the system.
		if fi, lerr := os.Lstat(name); !errors.Is(err, fs.ErrNotExist) && lerr == nil {
			if cerr := checkEntry(name, fi); cerr != nil {
				return nil, nil, cerr
			}
		}
		return nil, nil, err
	}
	return checkOpened(file)
}

// createExclusive creates name, which must not exist (a symbolic link
// there counts as existing), for writing.
func createExclusive(name string) (*os.File, error) {
	return os.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_EXCL|syscall.O_NOFOLLOW, 0o600)
}

// links returns the number of names of the file described by fi.
func links(fi fs.FileInfo) uint64 {
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		return uint64(st.Nlink)
	}
	return 1
}
