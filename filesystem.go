package sessions

import (
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"time"
)

// ErrUnsafeFolder reports a FilesystemStore folder that a user other than
// the server's could write (it belongs to another user, or its group or
// everybody may write it), or an entry in it that the store refuses to
// use: a symbolic link, a FIFO, a device or a file of another user where a
// session or lock file should be. The store never reads, writes or follows
// such an entry.
var ErrUnsafeFolder = errors.New("sessions: unsafe folder")

// FilesystemStore keeps sessions in files, one per session, behind a signed
// ID cookie. It reads and writes the same files as gorilla/sessions'
// FilesystemStore with the same keys and the gob serializer: each file is
// named "session_<ID>", has mode 0600 and holds the encoded values.
//
// It fixes what gorilla's does not do:
//   - writes are atomic: the new values go into a new temporary file in
//     the same folder, which is then renamed over the session's file, so
//     no reader ever sees half a file, and a process killed while saving
//     leaves the previous version whole; an inode is never rewritten once
//     a reader may have opened it;
//   - locks are per session and shared by every process using the folder
//     (see below), not one lock for the process;
//   - a browser-session cookie (MaxAge 0) keeps its file; gorilla deletes it
//     on every Save, losing the data;
//   - expired files are removed by Cleanup and StartCleanup;
//   - a stale Save never revives a file that a logout or a renewal removed
//     (see Backend);
//   - it trusts nothing it finds in its folder (see below).
//
// # Several processes, one folder
//
// Processes on one machine may share a folder, as fasthttp's prefork mode
// and Fiber's Prefork do: the per-session locks are flock(2) locks on lock
// files in the folder (".lock-00" to ".lock-3f", created at first use and
// never removed), so a logout or a renewal in one process is final in all
// of them, and no reader in any process sees a torn file. This holds on
// Linux, macOS, the BSDs and Solaris, on a local file system. On other
// systems (Windows, AIX, Plan 9) the locks are per process: run one process
// per folder there. Network file systems (NFS, SMB) are not supported:
// their locks and renames do not give these guarantees. The store does not
// fsync: a power loss (not a crash of the process) may lose the last saves.
//
// # The folder
//
// The folder must belong to the server's user and be writable by no one
// else (no write permission for its group or others): the first use of a
// store on any other folder fails with an error wrapping ErrUnsafeFolder,
// and so does every later call until the folder is fixed. The store opens
// nothing in it that is not a regular file of its user, never follows a
// symbolic link, never opens a FIFO or a device, and creates its temporary
// files exclusively. Subfolders are left alone.
//
// Records expire Lifetime after their last Save, judged by the file's
// modification time, whatever the MaxAge of the session: set the store's
// MaxAge to the longest lifetime any session is given.
//
// A FilesystemStore is safe for concurrent use once configured.
type FilesystemStore struct {
	*ServerStore
	files *fileBackend
}

// NewFilesystemStore returns a FilesystemStore keeping its files in path,
// which must exist and be safe (see FilesystemStore). "" means a private
// folder for the server's user in os.TempDir(),
// "fasthttp-sessions-<uid>" (made with mode 0700 at first use, and refused
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
	s := &FilesystemStore{ServerStore: NewServerStore(files, keyPairs...), files: files}
	files.store = s.ServerStore
	s.Owner = s
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
// Lifetime, and the temporary files left by processes that were killed
// while saving. It returns how many files it removed and the errors it met
// (entries it refuses to touch among them, see ErrUnsafeFolder), joined.
// Other processes may keep serving meanwhile: each file is judged under its
// session's lock.
func (s *FilesystemStore) Cleanup() (int, error) { return s.files.cleanup() }

// StartCleanup runs Cleanup every interval in a goroutine until the
// returned function is called; that function waits for the goroutine to
// exit and may be called more than once. Errors of Cleanup are dropped:
// call Cleanup yourself to see them. With several processes on one folder,
// one of them running it is enough.
func (s *FilesystemStore) StartCleanup(interval time.Duration) (stop func()) {
	return startCleaner(interval, func() { _, _ = s.files.cleanup() })
}
