package sessions

import (
	"fmt"
	"os"
	"path/filepath"
	"sync"
)

// lockStripes is the number of lock files, ".lock-00" to ".lock-3f". It and
// stripeOf are part of the on-disk format: processes sharing a folder must
// agree on them, so changing either breaks a rolling upgrade.
const lockStripes = 64

// stripe is one lock of a fileBackend: a mutex for the goroutines of this
// process, and a flock(2) on a lock file for the other processes. The lock
// file is opened for each lock and closed by unlock, which releases the
// flock; the store keeps no file open between calls.
type stripe struct {
	mu   sync.Mutex
	name string   // path of the lock file; set at first use; guarded by mu
	file *os.File // the open, flocked lock file while held; guarded by mu
}

// stripeOf is the stripe of id. IDs are random, so their first two
// characters (10 random bits) spread sessions evenly.
func stripeOf(id string) int {
	return (base32Value(id[0])<<5 | base32Value(id[1])) % lockStripes
}

// base32Value is the value of c, a digit of the base32 alphabet of IDs.
func base32Value(c byte) int {
	if c >= 'A' {
		return int(c - 'A')
	}
	return int(c-'2') + 26
}

// lock takes the lock of id, shared by every process using the folder, and
// returns it held; the caller calls unlock.
func (f *fileBackend) lock(id string) (*stripe, error) {
	if err := f.checkDir(); err != nil {
		return nil, err
	}
	i := stripeOf(id)
	s := &f.locks[i]
	s.mu.Lock()
	if s.name == "" {
		s.name = filepath.Join(f.dir, fmt.Sprintf(".lock-%02x", i))
	}
	if err := s.acquire(); err != nil {
		s.mu.Unlock()
		return nil, err
	}
	return s, nil
}

// acquire opens the lock file, creating it if needed, and takes its flock;
// s.mu is held.
func (s *stripe) acquire() error {
	for range 3 {
		file, _, err := openEntry(s.name, os.O_RDONLY|os.O_CREATE, 0o600)
		if err != nil {
			return err
		}
		if err := flock(file); err != nil {
			_ = file.Close()
			return fmt.Errorf("sessions: locking %s: %w", s.name, err)
		}
		// A lock file removed between the open and the flock (by hand, or
		// by a job deleting old files) no longer excludes the processes
		// that open the name afresh: lock the file the name holds now.
		removed, err := unlinked(file)
		if err == nil && !removed {
			s.file = file
			return nil
		}
		_ = file.Close()
		if err != nil {
			return err
		}
	}
	return fmt.Errorf("sessions: locking %s: the lock file keeps being removed", s.name)
}

// unlock releases the lock taken by lock: closing the lock file releases
// its flock.
func (s *stripe) unlock() {
	_ = s.file.Close()
	s.file = nil
	s.mu.Unlock()
}
