//go:build !(darwin || dragonfly || freebsd || illumos || linux || netbsd || openbsd || solaris)

package sessions

import (
	"os"
	"time"
)

// flock does nothing: this system has no flock(2), so the locks of a
// FilesystemStore are per process (see FilesystemStore).
func flock(*os.File, bool) error { return nil }

// setModTime sets the modification (and access) time of name.
func setModTime(name string, t time.Time) error { return os.Chtimes(name, t, t) }
