// Package pgtest runs PostgreSQL servers for the tests of this repository:
// initdb into a temporary folder, then the server on a free loopback port,
// with fsync off, stopped when the test ends. It depends on the standard
// library only (and proctest); the tests bring their own PostgreSQL client.
//
// The server binaries are looked up in /usr/lib/postgresql/N/bin (the
// newest N; Debian's postgresql package puts them there, off the PATH), or
// else on the PATH. Without them the tests that need a server are skipped
// with an install hint, or fail when the CI environment variable is set.
//
// PostgreSQL refuses to run as root: as root, initdb and the server run as
// the postgres user (which Debian's package creates), in a folder made for
// them in /dev/shm (a tmpfs, so that clusters cost no disk writes) or else
// under the system's temporary folder.
package pgtest

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/fasthttp-sessions/sessions/internal/proctest"
)

// ErrNotInstalled is wrapped by the errors of BinDir and Launch when no
// PostgreSQL server binaries are found.
var ErrNotInstalled = errors.New("pgtest: PostgreSQL server binaries (initdb, postgres) not found: install them (Debian: apt-get install postgresql)")

// BinDir returns the folder that holds initdb and postgres: that of the
// newest version under /usr/lib/postgresql, or else the folder of initdb on
// the PATH. The error wraps ErrNotInstalled.
func BinDir() (string, error) {
	return binDir("/usr/lib/postgresql")
}

func binDir(root string) (string, error) {
	var versions []int
	matches, _ := filepath.Glob(filepath.Join(root, "*", "bin", "postgres"))
	for _, m := range matches {
		v, err := strconv.Atoi(filepath.Base(filepath.Dir(filepath.Dir(m))))
		if err == nil && executable(filepath.Join(filepath.Dir(m), "initdb")) {
			versions = append(versions, v)
		}
	}
	if len(versions) > 0 {
		return filepath.Join(root, strconv.Itoa(slices.Max(versions)), "bin"), nil
	}
	initdb, err := exec.LookPath("initdb")
	if err != nil {
		return "", fmt.Errorf("%w: no %s/*/bin/postgres, and %v", ErrNotInstalled, root, err)
	}
	dir := filepath.Dir(initdb)
	if !executable(filepath.Join(dir, "postgres")) {
		return "", fmt.Errorf("%w: %s has initdb but no postgres", ErrNotInstalled, dir)
	}
	return dir, nil
}

func executable(path string) bool {
	fi, err := os.Stat(path)
	return err == nil && fi.Mode().IsRegular() && fi.Mode()&0o111 != 0
}

// Server is one PostgreSQL server of a test, with the superuser postgres
// (trust authentication) and the database postgres. Its methods are safe
// for concurrent use.
type Server struct {
	// Port is the server's loopback port; it stays the same across
	// restarts.
	Port int
	// Dir is the server's folder: the data folder Dir/data and the log
	// Dir/postgres.log. Close removes it.
	Dir string

	bin  string
	cred *credential // nil unless run as another user

	proc proctest.Process
	log  *os.File
}

// URL returns the connection string of the server's postgres database as
// the postgres superuser, without TLS.
func (s *Server) URL() string {
	u := url.URL{
		Scheme:   "postgres",
		User:     url.User("postgres"),
		Host:     net.JoinHostPort("127.0.0.1", strconv.Itoa(s.Port)),
		Path:     "/postgres",
		RawQuery: "sslmode=disable",
	}
	return u.String()
}

// Start runs a new server for the test (see Launch) and closes it when the
// test ends. Without PostgreSQL it skips the test with an install hint, or
// fails it when the CI environment variable is set.
func Start(t testing.TB) *Server {
	t.Helper()
	s, err := Launch()
	if errors.Is(err, ErrNotInstalled) {
		if os.Getenv("CI") != "" {
			t.Fatalf("%v (CI is set)", err)
		}
		t.Skip(err)
	}
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	return s
}

// Launch creates a cluster with initdb in a new temporary folder (in
// /dev/shm when it can) and starts its server on a free loopback port,
// listening on TCP only, with fsync off (a crash of the machine may lose
// data; a crash of the server does not). It returns once the server
// accepts connections. The caller must call Close.
func Launch() (*Server, error) {
	bin, err := BinDir()
	if err != nil {
		return nil, err
	}
	s := &Server{bin: bin}
	if s.cred, err = postgresUser(); err != nil {
		return nil, err
	}
	if s.Dir, err = tempDir(); err != nil {
		return nil, err
	}
	if s.cred != nil {
		if err := os.Chown(s.Dir, int(s.cred.uid), int(s.cred.gid)); err != nil {
			s.Close()
			return nil, err
		}
	}
	if s.log, err = os.OpenFile(filepath.Join(s.Dir, "postgres.log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600); err != nil {
		s.Close()
		return nil, err
	}
	initdb := s.command("initdb", "-D", s.dataDir(), "-U", "postgres", "-A", "trust",
		"-E", "UTF8", "--no-locale", "--no-sync")
	if out, err := initdb.CombinedOutput(); err != nil {
		s.Close()
		return nil, fmt.Errorf("pgtest: initdb: %v\n%s", err, out)
	}
	for range 3 { // the port may be taken between freePort and the start
		if s.Port, err = freePort(); err != nil {
			break
		}
		if err = s.start(); err == nil {
			return s, nil
		}
	}
	s.Close()
	return nil, err
}

// credential is a user to run the server's programs as.
type credential struct{ uid, gid uint32 }

// memoryDir is a tmpfs that most Linux systems mount: a cluster there costs
// no disk writes (about 40 MB each, written by initdb and removed by
// Close), which on a busy virtual disk can take minutes.
const memoryDir = "/dev/shm"

// tempDir makes the server's folder, in memoryDir when it can, else in the
// system's temporary folder.
func tempDir() (string, error) {
	if dir, err := os.MkdirTemp(memoryDir, "pgtest-"); err == nil {
		return dir, nil
	}
	return os.MkdirTemp("", "pgtest-")
}

// postgresUser returns the postgres user when the process runs as root, and
// nil otherwise.
func postgresUser() (*credential, error) {
	if os.Geteuid() != 0 {
		return nil, nil
	}
	u, err := user.Lookup("postgres")
	if err != nil {
		return nil, fmt.Errorf("pgtest: PostgreSQL refuses to run as root, and there is no postgres user to run it as (Debian's postgresql package creates one): %w", err)
	}
	uid, err1 := strconv.ParseUint(u.Uid, 10, 32)
	gid, err2 := strconv.ParseUint(u.Gid, 10, 32)
	if err := errors.Join(err1, err2); err != nil {
		return nil, fmt.Errorf("pgtest: user postgres: %w", err)
	}
	return &credential{uid: uint32(uid), gid: uint32(gid)}, nil
}

func (s *Server) dataDir() string { return filepath.Join(s.Dir, "data") }

// command returns the command running the program name of the server's
// binaries as the server's user, in the server's folder.
func (s *Server) command(name string, args ...string) *exec.Cmd {
	cmd := exec.Command(filepath.Join(s.bin, name), args...)
	cmd.Dir = s.Dir
	cmd.Env = append(os.Environ(), "LC_ALL=C")
	cmd.SysProcAttr = sysProcAttr(s.cred)
	return cmd
}

// freePort returns a loopback port that was free a moment ago.
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// start runs the server and waits until it is ready to accept connections.
// The server is a child of this process (not daemonized as pg_ctl would),
// so that it dies with the process even when the test binary is killed
// (see sysProcAttr).
func (s *Server) start() error {
	cmd := s.command("postgres", "-D", s.dataDir(),
		"-c", "listen_addresses=127.0.0.1",
		"-c", "port="+strconv.Itoa(s.Port),
		"-c", "unix_socket_directories=",
		"-c", "fsync=off",
		"-c", "full_page_writes=off",
		// Dynamic shared memory in files of the data folder, not in
		// /dev/shm of its own: a server stopped in immediate mode or
		// killed leaves segments behind, which Close then removes with
		// the folder.
		"-c", "dynamic_shared_memory_type=mmap",
	)
	cmd.Stdout, cmd.Stderr = s.log, s.log
	if err := s.proc.Start(cmd, s.ready, 10*time.Millisecond, 30*time.Second); err != nil {
		s.kill()
		return fmt.Errorf("pgtest: %w; log:\n%s", err, s.Log())
	}
	return nil
}

// ready reports whether the server says it accepts connections: the status
// line of postmaster.pid, which pg_ctl -w reads too, is "ready".
func (s *Server) ready() bool {
	b, err := os.ReadFile(filepath.Join(s.dataDir(), "postmaster.pid"))
	if err != nil {
		return false
	}
	lines := strings.Split(string(b), "\n")
	return len(lines) >= 8 && strings.TrimSpace(lines[7]) == "ready"
}

// Log returns the end of the server's log.
func (s *Server) Log() string {
	b, _ := os.ReadFile(filepath.Join(s.Dir, "postgres.log"))
	if len(b) > 4000 {
		b = b[len(b)-4000:]
	}
	return string(b)
}

// Stop shuts the server down in fast mode, as pg_ctl -m fast stop does
// (SIGINT): open connections are terminated, and the server checkpoints
// and exits. It waits up to 30 seconds for the server to exit.
func (s *Server) Stop() error { return s.stop(syscall.SIGINT, "fast") }

// Crash shuts the server down in immediate mode, as pg_ctl -m immediate
// stop does (SIGQUIT): no checkpoint, and the next start recovers from the
// write-ahead log, as after a crash. Committed transactions survive.
func (s *Server) Crash() error { return s.stop(syscall.SIGQUIT, "immediate") }

func (s *Server) stop(sig syscall.Signal, mode string) error {
	if !s.proc.Stop(sig, 30*time.Second) {
		return fmt.Errorf("pgtest: postgres did not exit within 30s of a %s shutdown; log:\n%s", mode, s.Log())
	}
	return nil
}

// Restart starts the server again on the same port and data, after Stop
// or Crash, and waits until it accepts connections.
func (s *Server) Restart() error { return s.start() }

// kill stops the server at once, if it runs, and waits for it to exit.
func (s *Server) kill() { s.proc.Kill(syscall.SIGQUIT, 10*time.Second) }

// Close stops the server at once (immediate mode) and removes its folder.
// It may be called more than once.
func (s *Server) Close() {
	s.kill()
	if s.log != nil {
		_ = s.log.Close()
	}
	if s.Dir != "" {
		_ = os.RemoveAll(s.Dir)
	}
}
