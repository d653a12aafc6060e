package sessions

import (
	"os"
	"path/filepath"
	"testing"

	"golang.org/x/sys/unix"
)

// TestFilesystemPlantedDevice plants a character device (/dev/null's) as a
// session file: it is never opened, and the request gets a new session.
func TestFilesystemPlantedDevice(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("making a device needs root")
	}
	s, dir, alice, cookie, _ := loginAliceAndBob(t)
	name := filepath.Join(dir, filePrefix+alice)
	if err := os.Remove(name); err != nil {
		t.Fatal(err)
	}
	if err := unix.Mknod(name, unix.S_IFCHR|0o600, int(unix.Mkdev(1, 3))); err != nil {
		t.Skipf("mknod: %v", err)
	}
	wantRefused(t, s, cookie, "a device", nil)
}
