package sessions

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/fasthttp-sessions/sessions/internal/backendkit"
)

// FilesystemStore keeps sessions in files, one per session, behind a signed
// ID cookie. Its files are those of gorilla/sessions' FilesystemStore: each
// is named "session_<ID>", has mode 0600 and holds the encoded values, so
// with the same keys it reads the files gorilla wrote (gob data is read
// whatever the serializer). The files it saves are signed under their ID (see
// ServerStore.RejectUnboundRecords), which gorilla cannot read: migrating
// from gorilla works, sharing a folder with a gorilla application does not.
//
// It fixes what gorilla's does not do:
//   - writes are atomic, so no reader ever sees half a file, and a process
//     killed while saving leaves the previous version whole: a save writes
//     the new values into a spare file of the folder and swaps it with the
//     session's file in one step (renameat2 RENAME_EXCHANGE on Linux), then
//     empties the spare; where swapping is not available, and for a new
//     session, a new temporary file is renamed over the session's file;
//   - locks are per session and shared by every process using the folder
//     (see below), not one lock for the process;
//   - a browser-session cookie (MaxAge 0) keeps its file; gorilla deletes it
//     on every Save, losing the data;
//   - expired files are removed by Cleanup and StartCleanup;
//   - a stale Save never revives a file that a logout or a renewal removed
//     (see Backend);
//   - no copy of the values stays behind: a logout removes the session's
//     file and whatever a save killed midway left of it;
//   - it trusts nothing it finds in its folder (see below).
//
// # Several processes, one folder
//
// Processes on one machine may share a folder, as with fasthttp's prefork
// and Fiber's Prefork: the lock of a session is a flock(2) on one of 64
// lock files of the folder, taken exclusive to check and write and shared
// to read. So a logout or a renewal in one process is final in all of
// them, and no process ever reads a file that another one is writing. The
// folder holds the sessions' files, the 64 lock files and 64 spare files
// (".lock-00" to ".lock-3f" and ".spare-00" to ".spare-3f", made at first
// use, the spare files empty between saves) and, while a new session is
// saved, its temporary file (".tmp-session_<ID>"). This holds on Linux,
// macOS, the BSDs and Solaris, on a local file system. On other systems
// (Windows, AIX, Plan 9) the locks are per process: run one process per
// folder there. Network file systems (NFS, SMB) are not supported: their
// locks and renames do not give these guarantees. The store does not
// fsync: a power loss (not a crash of the process) may lose the sessions
// saved in the last seconds, whose users then get new sessions.
//
// # The folder
//
// The folder must belong to the server's user and be writable by no one
// else (no write permission for its group or others): every call checks it
// (one stat), and on any other folder fails with an error wrapping
// ErrUnsafeFolder until the folder is fixed, also when it became unsafe
// after the store started. The store never follows a symbolic link in it,
// never opens a FIFO or a device, reads only regular files of its user, and
// creates its temporary files exclusively; an entry it refuses in place of
// a session's file makes the request get a new session and an error
// wrapping ErrUnsafeFolder. Subfolders and files of other names are left
// alone.
//
// A record expires when its session does (its MaxAge, or BrowserSessionTTL
// for a browser-session cookie, cut short by its IdleTimeout and
// AbsoluteTimeout): a file expires Lifetime after its modification time,
// which each Save and refresh sets accordingly (a file gorilla/sessions
// wrote lives Lifetime after it was written).
//
// A FilesystemStore is safe for concurrent use once configured.
type FilesystemStore struct {
	*ServerStore
	files *fileBackend
}

// NewFilesystemStore returns a FilesystemStore keeping its files in path,
// which must exist and be safe (see FilesystemStore). "" means a private
// folder for the server's user in os.TempDir(),
// "fasthttp-sessions-<uid>" (made with mode 0700 when missing, and refused
// if it exists with another owner, with any permission for others, or as a
// symbolic link): every process of that user shares it, which suits
// development and prefork; give each application a folder of its own in
// production. See NewCookieStore for the keys. Values are not limited in
// size: see MaxLength.
func NewFilesystemStore(path string, keyPairs ...[]byte) *FilesystemStore {
	files := &fileBackend{dir: path}
	if path == "" {
		files.dir, files.private = defaultFolder(), true
	}
	files.nameStripes()
	s := &FilesystemStore{ServerStore: NewServerStore(files, keyPairs...), files: files}
	files.store = s.ServerStore
	s.MaxLength(0)
	return s
}

// defaultFolder is the folder of NewFilesystemStore(""): the same for every
// process of the user, so that prefork children share it.
func defaultFolder() string {
	name := "fasthttp-sessions"
	if uid := os.Geteuid(); uid >= 0 {
		name += "-" + strconv.Itoa(uid)
	}
	return filepath.Join(os.TempDir(), name)
}

// Check reports whether the store can work: its codecs and TokenHeader
// (see ServerStore.Check), and its folder, which must belong to the
// server's user and be writable by no one else (see ErrUnsafeFolder). Call
// it at start-up and stop on its error; every Get and Save of a
// misconfigured store returns the same error.
func (s *FilesystemStore) Check() error {
	return errors.Join(s.ServerStore.Check(), s.files.checkDir())
}

// Lifetime is how long a file lives after its modification time: the
// store's MaxAge, or BrowserSessionTTL (default 24 hours) when that is
// longer or MaxAge is 0. The store dates each file so that it expires with
// its session.
func (s *FilesystemStore) Lifetime() time.Duration { return s.files.lifetime() }

// Cleanup removes the session files that have expired (see Lifetime), what
// processes killed while saving left (temporary files, and spare files
// that are not empty), and the entries of the user index (see UserIndex)
// whose session file has been gone for more than ten minutes. It returns
// how many files it removed and the errors it met (entries it refuses to
// touch among them, see ErrUnsafeFolder), joined.
// Other processes may keep serving meanwhile: each file is judged under its
// session's lock.
func (s *FilesystemStore) Cleanup() (int, error) { return s.files.cleanup() }

// StartCleanup runs Cleanup every interval in a goroutine until the
// returned function is called; that function waits for the goroutine to
// exit and may be called more than once. Errors of Cleanup are dropped:
// call Cleanup yourself to see them. With several processes on one folder,
// one of them running it is enough.
func (s *FilesystemStore) StartCleanup(interval time.Duration) (stop func()) {
	return backendkit.StartCleaner(interval, func(context.Context) { _, _ = s.files.cleanup() })
}
