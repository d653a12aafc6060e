package sessions

import (
	"fmt"
	"os"
	"path/filepath"
	"sync"
)

// lockStripes is the number of lock files, ".lock-00" to ".lock-3f", and
// of spare files, ".spare-00" to ".spare-3f". It and stripeOf are part of
// the on-disk format: processes sharing a folder must agree on them, so
// changing either breaks a rolling upgrade.
const lockStripes = 64

// stripe is one lock of a fileBackend: a read-write mutex for the
// goroutines of this process, and a flock(2) on a lock file for the other
// processes. The lock file is opened for each lock and closed by unlock,
// which releases the flock: the store keeps no file open between calls,
// and each call has a flock of its own, shared (LOCK_SH) to read, exclusive
// (LOCK_EX) to write.
type stripe struct {
	mu    sync.RWMutex
	lock  string // path of the lock file
	spare string // path of the spare file (see fileBackend.writeSpare)
}

// held is a lock taken by fileBackend.lock.
type held struct {
	s         *stripe
	file      *os.File
	exclusive bool
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

// nameStripes sets the paths of the lock and spare files of each stripe.
func (f *fileBackend) nameStripes() {
	for i := range f.locks {
		f.locks[i].lock = filepath.Join(f.dir, fmt.Sprintf(".lock-%02x", i))
		f.locks[i].spare = filepath.Join(f.dir, fmt.Sprintf(".spare-%02x", i))
	}
}

// lock takes the lock of id, shared by every process using the folder:
// exclusive to check and write, shared to read. The caller calls unlock.
func (f *fileBackend) lock(id string, exclusive bool) (held, error) {
	return f.lockStripe(stripeOf(id), exclusive)
}

// lockStripe checks the folder (see checkDir) and takes the lock of stripe
// i: its mutex, then the flock of its lock file, made if missing. The
// caller calls unlock.
func (f *fileBackend) lockStripe(i int, exclusive bool) (held, error) {
	if err := f.checkDir(); err != nil {
		return held{}, err
	}
	s := &f.locks[i]
	h := held{s: s, exclusive: exclusive}
	if exclusive {
		s.mu.Lock()
	} else {
		s.mu.RLock()
	}
	for range 3 {
		file, _, err := openEntry(s.lock, os.O_RDONLY|os.O_CREATE, 0o600)
		if err != nil {
			h.release()
			return held{}, err
		}
		if err := flock(file, exclusive); err != nil {
			_ = file.Close()
			h.release()
			return held{}, fmt.Errorf("sessions: locking %s: %w", s.lock, err)
		}
		// A lock file removed between the open and the flock (by hand, or
		// by a job deleting old files) no longer excludes the processes
		// that open the name afresh: lock the file the name holds now.
		fi, err := file.Stat()
		if err == nil && links(fi) > 0 {
			h.file = file
			return h, nil
		}
		_ = file.Close()
		if err != nil {
			h.release()
			return held{}, err
		}
	}
	h.release()
	return held{}, fmt.Errorf("sessions: locking %s: the lock file keeps being removed", s.lock)
}

// unlock releases the lock: closing the lock file releases its flock.
func (h held) unlock() {
	_ = h.file.Close()
	h.release()
}

func (h held) release() {
	if h.exclusive {
		h.s.mu.Unlock()
	} else {
		h.s.mu.RUnlock()
	}
}
