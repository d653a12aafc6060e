//go:build unix

package sessions

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"syscall"
)

// checkEntry returns an error wrapping ErrUnsafeFolder unless fi, from Lstat
// or fstat of name, is a regular file of the server's user.
func checkEntry(name string, fi fs.FileInfo) error {
	if !fi.Mode().IsRegular() {
		return unsafeEntry(name, "is not a regular file ("+fi.Mode().Type().String()+")")
	}
	return checkOwner(name, fi)
}

// checkFolder returns an error unless fi, the stat of the folder name, is a
// folder of the server's user that no one else may write; if private, that
// no one else may use at all, and not a symbolic link.
func checkFolder(name string, fi fs.FileInfo, private bool) error {
	mode := fi.Mode()
	switch {
	case mode&fs.ModeSymlink != 0:
		return unsafeEntry(name, "is a symbolic link")
	case !mode.IsDir():
		return fmt.Errorf("sessions: %s is not a folder", name)
	}
	if err := checkOwner(name, fi); err != nil {
		return err
	}
	switch {
	case private && mode.Perm()&0o077 != 0:
		return unsafeEntry(name, fmt.Sprintf("may be used by other users (mode %v): remove it, or give NewFilesystemStore a folder", mode))
	case mode.Perm()&0o022 != 0:
		return unsafeEntry(name, fmt.Sprintf("may be written by other users (mode %v)", mode))
	}
	return nil
}

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

// unlinked reports whether the open file has no name left.
func unlinked(file *os.File) (bool, error) {
	fi, err := file.Stat()
	if err != nil {
		return false, err
	}
	return links(fi) == 0, nil
}

// links returns the number of names of the file described by fi.
func links(fi fs.FileInfo) uint64 {
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		return uint64(st.Nlink)
	}
	return 1
}
