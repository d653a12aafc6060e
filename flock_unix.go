//go:build darwin || dragonfly || freebsd || illumos || linux || netbsd || openbsd || solaris

package sessions

import (
	"io/fs"
	"os"
	"time"

	"golang.org/x/sys/unix"
)

// flock takes the exclusive flock(2) lock of file, waiting for other
// processes. The lock belongs to the open file: closing it releases the
// lock, and so does the death of the process, SIGKILL included.
func flock(file *os.File) error {
	fd := int(file.Fd())
	for {
		if err := unix.Flock(fd, unix.LOCK_EX); err != unix.EINTR {
			return err
		}
	}
}

// setModTime sets the modification (and access) time of name, never
// following a symbolic link.
func setModTime(name string, t time.Time) error {
	ts := unix.NsecToTimespec(t.UnixNano())
	if err := unix.UtimesNanoAt(unix.AT_FDCWD, name, []unix.Timespec{ts, ts}, unix.AT_SYMLINK_NOFOLLOW); err != nil {
		return &fs.PathError{Op: "utimensat", Path: name, Err: err}
	}
	return nil
}
