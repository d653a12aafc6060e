package sessions

import (
	"os"

	"golang.org/x/sys/unix"
)

// canExchange reports whether exchange may work on this system.
const canExchange = true

// exchange swaps the files at a and b atomically (renameat2 with
// RENAME_EXCHANGE): each name then holds the other's inode. Both must
// exist. It returns errExchangeUnsupported where the file system cannot do
// it.
func exchange(a, b string) error {
	switch err := unix.Renameat2(unix.AT_FDCWD, a, unix.AT_FDCWD, b, unix.RENAME_EXCHANGE); err {
	case nil:
		return nil
	case unix.EINVAL, unix.ENOSYS, unix.EOPNOTSUPP:
		return errExchangeUnsupported
	default:
		return &os.LinkError{Op: "renameat2", Old: a, New: b, Err: err}
	}
}
