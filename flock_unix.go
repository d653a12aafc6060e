//go:build darwin || dragonfly || freebsd || illumos || linux || netbsd || openbsd || solaris

package sessions

import (
	"io/fs"
	"os"
	"time"

	"golang.org/x/sys/unix"
)

// flock takes the flock(2) lock of file, exclusive or shared, waiting for
// other processes. The lock belongs to the open file: closing it releases
// the lock, and so does the death of the process, SIGKILL included.
func flock(file *os.File, exclusive bool) error {
	how := unix.LOCK_SH
	if exclusive {
		how = unix.LOCK_EX
	}
	fd := int(file.Fd())
	for {
		if err := unix.Flock(fd, how); err != unix.EINTR {
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
