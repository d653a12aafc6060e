package sessions

import (
	"context"
	"errors"
	"fmt"
	"hash/maphash"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// FilesystemStore keeps sessions in files, one per session, behind a signed
// ID cookie. It reads and writes the same files as gorilla/sessions'
// FilesystemStore with the same keys and the gob serializer: each file is
// named "session_<ID>", has mode 0600 and holds the encoded values.
//
// It fixes what gorilla's does not do:
//   - writes are atomic: the new values go into a partner file in the same
//     folder, which is then swapped with the session's file in one step
//     (renameat2 RENAME_EXCHANGE on Linux, a rename elsewhere), so no
//     reader ever sees half a file, and a process killed while saving
//     leaves the previous version whole; the partner keeps the previous
//     version until the next Save, a logout removes both (partners left by
//     an earlier process go with Cleanup), and Cleanup
//     removes partners left for ten minutes;
//   - locks are per session (striped over 256 locks), not one lock for the
//     process, so saves of different sessions run in parallel;
//   - a browser-session cookie (MaxAge 0) keeps its file; gorilla deletes it
//     on every Save, losing the data;
//   - expired files are removed by Cleanup and StartCleanup;
//   - a stale Save never revives a file that a logout or a renewal removed
//     (see Backend).
//
// Records expire Lifetime after their last Save, judged by the file's
// modification time, whatever the MaxAge of the session: set the store's
// MaxAge to the longest lifetime any session is given. The guarantees
// against stale saves, and the whole reads, hold within one process: the
// locks of processes sharing one folder do not see each other, so a stale
// save may win, and a read may catch a partner file being rewritten (its
// signature then fails and the request gets a new session).
//
// A FilesystemStore is safe for concurrent use once configured.
type FilesystemStore struct {
	*ServerStore
	files *fileBackend
}

// NewFilesystemStore returns a FilesystemStore keeping its files in path,
// which must exist; "" means os.TempDir(), as in gorilla/sessions. See
// NewCookieStore for the keys. Values are not limited in size: see
// MaxLength.
func NewFilesystemStore(path string, keyPairs ...[]byte) *FilesystemStore {
	if path == "" {
		path = os.TempDir()
	}
	files := &fileBackend{dir: path}
	s := &FilesystemStore{ServerStore: NewServerStore(files, keyPairs...), files: files}
	files.store = s.ServerStore
	s.MaxLength(0)
	return s
}

// MaxLength limits the length of the encoded values of a session, in
// bytes; 0 (the default, as in gorilla/sessions) means no limit. The ID
// cookie is always short.
func (s *FilesystemStore) MaxLength(l int) {
	setCodecsMaxLength(s.Codecs, l)
}

// Lifetime is how long a file lives after its last Save: the store's
// MaxAge, or BrowserSessionTTL (default 24 hours) when that is longer or
// MaxAge is 0.
func (s *FilesystemStore) Lifetime() time.Duration { return s.files.lifetime() }

// Cleanup removes the session files whose last Save is older than
// Lifetime, and the temporary files left by a process that was killed while
// saving. It returns how many files it removed and the errors it met,
// joined.
func (s *FilesystemStore) Cleanup() (int, error) { return s.files.cleanup() }

// StartCleanup runs Cleanup every interval in a goroutine until the
// returned function is called; that function waits for the goroutine to
// exit and may be called more than once. Errors of Cleanup are dropped:
// call Cleanup yourself to see them.
func (s *FilesystemStore) StartCleanup(interval time.Duration) (stop func()) {
	return startCleaner(interval, func() { _, _ = s.files.cleanup() })
}

// pidString names this process's temporary files.
var pidString = strconv.Itoa(os.Getpid())

const (
	filePrefix = "session_"
	// tempPrefix starts the names of partner files (see write); they never
	// match filePrefix, so a reader never opens one.
	tempPrefix = ".tmp-session_"
	// staleTemp is the age after which Cleanup removes a partner file: one
	// left by a killed process, or one of a session not saved for that long
	// (its next Save makes a new one).
	staleTemp = 10 * time.Minute
	fileLocks = 256
)

// fileBackend is the Backend of FilesystemStore. Each method holds the
// lock of the session's stripe across its check and its rename.
type fileBackend struct {
	dir   string
	store *ServerStore
	seed  maphash.Seed
	once  sync.Once
	locks [fileLocks]sync.Mutex
	// noExchange is set once the file system refused an exchange.
	noExchange atomic.Bool
}

func (f *fileBackend) lock(id string) *sync.Mutex {
	f.once.Do(func() { f.seed = maphash.MakeSeed() })
	return &f.locks[maphash.String(f.seed, id)%fileLocks]
}

func (f *fileBackend) lifetime() time.Duration {
	life := f.store.BrowserSessionTTL
	if life <= 0 {
		life = defaultBrowserSessionTTL
	}
	if age := time.Duration(f.store.Options.MaxAge) * time.Second; age > life {
		life = age
	}
	return life
}

func (f *fileBackend) path(id string) string { return filepath.Join(f.dir, filePrefix+id) }

// stat returns the modification time of the live file of id.
func (f *fileBackend) stat(id string) (time.Time, bool, error) {
	fi, err := os.Lstat(f.path(id))
	if errors.Is(err, fs.ErrNotExist) {
		return time.Time{}, false, nil
	}
	if err != nil {
		return time.Time{}, false, err
	}
	return f.expiry(id, fi)
}

// expiry returns when the file of id described by fi expires and whether
// it is live now; anything but a regular file is an error.
func (f *fileBackend) expiry(id string, fi fs.FileInfo) (time.Time, bool, error) {
	if !fi.Mode().IsRegular() {
		return time.Time{}, false, fmt.Errorf("sessions: %s is not a regular file", f.path(id))
	}
	expires := fi.ModTime().Add(f.lifetime())
	return expires, f.store.now().Before(expires), nil
}

func (f *fileBackend) Load(_ context.Context, id string) ([]byte, time.Time, error) {
	if !validID(id) {
		return nil, time.Time{}, ErrRecordNotFound
	}
	mu := f.lock(id)
	mu.Lock()
	defer mu.Unlock()
	file, err := os.Open(f.path(id))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, time.Time{}, ErrRecordNotFound
	}
	if err != nil {
		return nil, time.Time{}, err
	}
	defer file.Close()
	fi, err := file.Stat()
	if err != nil {
		return nil, time.Time{}, err
	}
	expires, live, err := f.expiry(id, fi)
	if err != nil {
		return nil, time.Time{}, err
	}
	if !live {
		return nil, time.Time{}, ErrRecordNotFound
	}
	data := make([]byte, fi.Size())
	if _, err := io.ReadFull(file, data); err != nil {
		return nil, time.Time{}, err
	}
	return data, expires, nil
}

func (f *fileBackend) Create(_ context.Context, id string, data []byte, _ time.Duration) error {
	return f.write(id, data, false)
}

func (f *fileBackend) Update(_ context.Context, id string, data []byte, _ time.Duration) error {
	return f.write(id, data, true)
}

// write stores data as the file of id if it exists (update) or does not
// (create), atomically: a temporary file in the same folder renamed over it.
func (f *fileBackend) write(id string, data []byte, update bool) error {
	if !validID(id) {
		return fmt.Errorf("%w: %q", ErrInvalidOptions, id)
	}
	mu := f.lock(id)
	mu.Lock()
	defer mu.Unlock()
	_, live, err := f.stat(id)
	switch {
	case err != nil:
		return err
	case update && !live:
		return ErrRecordNotFound
	case !update && live:
		return ErrRecordExists
	}
	// The new content goes into this process's partner file of the
	// session, which is then swapped with the session's file in one atomic
	// step (renameat2 RENAME_EXCHANGE on Linux): the partner keeps the
	// previous version and is truncated and reused by the next Save, so a
	// Save neither creates nor frees an inode, which is what makes an atomic
	// write expensive (measured on ext4: 42 µs against 300-450 µs for a new
	// temporary file renamed over the old one, and 78 µs for gorilla's
	// non-atomic truncate-and-write). Where exchange is not available, or
	// the session has no file yet, the partner is renamed over it. The
	// per-session lock makes the partner exclusive within the process, the
	// PID in its name between processes; a reader never opens a partner.
	tmpName := f.partner(id)
	tmp, err := os.OpenFile(tmpName, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return err
	}
	_, err = tmp.Write(data)
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil && f.store.Now != nil {
		// A store on an injected clock dates its files by that clock, so
		// that expiry and Cleanup agree with it.
		now := f.store.Now()
		err = os.Chtimes(tmpName, now, now)
	}
	if err == nil {
		err = errExchangeUnsupported
		if update && !f.noExchange.Load() {
			err = exchange(tmpName, f.path(id))
			if err == errExchangeUnsupported {
				f.noExchange.Store(true)
			}
		}
		if err == errExchangeUnsupported {
			err = os.Rename(tmpName, f.path(id))
		}
	}
	if err != nil {
		_ = os.Remove(tmpName)
		return err
	}
	return nil
}

// partner is the name of this process's partner file of session id.
func (f *fileBackend) partner(id string) string {
	return filepath.Join(f.dir, tempPrefix+id+"-"+pidString)
}

func (f *fileBackend) Delete(_ context.Context, id string) error {
	if !validID(id) {
		return ErrRecordNotFound
	}
	mu := f.lock(id)
	mu.Lock()
	defer mu.Unlock()
	_, live, err := f.stat(id)
	if err != nil {
		return err
	}
	if err := os.Remove(f.path(id)); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	// The partner holds the previous version of the values: it goes too.
	if err := os.Remove(f.partner(id)); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	if !live {
		return ErrRecordNotFound
	}
	return nil
}

func (f *fileBackend) cleanup() (int, error) {
	entries, err := os.ReadDir(f.dir)
	if err != nil {
		return 0, fmt.Errorf("sessions: cleaning up %s: %w", f.dir, err)
	}
	now := f.store.now()
	var (
		n    int
		errs []error
	)
	for _, e := range entries {
		name := e.Name()
		switch {
		case strings.HasPrefix(name, filePrefix) && validID(name[len(filePrefix):]):
			id := name[len(filePrefix):]
			mu := f.lock(id)
			mu.Lock()
			expires, live, err := f.stat(id)
			if err == nil && !live && !expires.IsZero() {
				err = os.Remove(f.path(id))
				if err == nil {
					n++
				}
			}
			mu.Unlock()
			if err != nil && !errors.Is(err, fs.ErrNotExist) {
				errs = append(errs, err)
			}
		case strings.HasPrefix(name, tempPrefix):
			// A partner file: judged and removed under its session's lock,
			// so that a Save writing it at the same time is not disturbed.
			var mu *sync.Mutex
			if rest := name[len(tempPrefix):]; len(rest) > idLength && validID(rest[:idLength]) {
				mu = f.lock(rest[:idLength])
				mu.Lock()
			}
			fi, err := os.Lstat(filepath.Join(f.dir, name))
			if err == nil && now.Sub(fi.ModTime()) > staleTemp {
				err = os.Remove(filepath.Join(f.dir, name))
				if err == nil {
					n++
				}
			}
			if mu != nil {
				mu.Unlock()
			}
			if err != nil && !errors.Is(err, fs.ErrNotExist) {
				errs = append(errs, err)
			}
		}
	}
	if len(errs) > 0 {
		return n, fmt.Errorf("sessions: cleaning up %s: %w", f.dir, errors.Join(errs...))
	}
	return n, nil
}
