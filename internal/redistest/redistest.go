// Package redistest runs Redis processes for the tests of this repository,
// on free loopback ports in temporary folders, killed when the test ends:
// one server (Start), a Redis Cluster of three primaries with or without
// replicas (StartCluster, NewCluster), or a master with replicas watched by
// three sentinels (StartSentinel), with what failover tests need: kill a
// master, wait for the promotion, wait for replication, cut a replica's
// link. It depends on the standard library only; the tests bring their own
// Redis client, and Do speaks just enough of the protocol for the helpers.
//
// Without redis-server (redis-cli for a cluster, redis-sentinel for
// Sentinel) on the PATH the tests that need it are skipped, or fail when
// the CI environment variable is set.
package redistest

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/fasthttp-sessions/sessions/internal/proctest"
)

// QuietLogger drops every log line. Its method set is that of go-redis's
// logger, so redis.SetLogger(redistest.QuietLogger{}) keeps the dial
// errors of a stopped server off the test output. It has no state and is
// safe for concurrent use.
type QuietLogger struct{}

// Printf does nothing.
func (QuietLogger) Printf(context.Context, string, ...any) {}

// Binary returns the path of the program name (redis-server, redis-cli,
// redis-sentinel),
// skipping the test when it is missing, or failing it when CI is set.
func Binary(t testing.TB, name string) string {
	t.Helper()
	path, err := exec.LookPath(name)
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("%s not found (CI is set): %v", name, err)
		}
		t.Skipf("%s not found: install it (apt-get install %s)", name, debianPackage[name])
	}
	return path
}

// debianPackage names the Debian package of each program.
var debianPackage = map[string]string{
	"redis-server":   "redis-server",
	"redis-cli":      "redis-tools",
	"redis-sentinel": "redis-sentinel",
}

// Server is a redis-server (or redis-sentinel) process of one test. Its methods may be called
// from any goroutine, except Stop and Restart, which may call t.Fatal and
// so belong to the test's goroutine.
type Server struct {
	t    testing.TB
	bin  string
	args []string
	// Port is the server's loopback port; it stays the same across
	// restarts.
	Port int
	// Dir is the server's working folder: its log, and its data files
	// when persistence is on.
	Dir string

	// user is the ACL user with which the server authenticates to its
	// master in a replicated group (see replicationArgs); "" otherwise.
	user string

	proc proctest.Process
}

// Addr is the server's host:port.
func (s *Server) Addr() string { return net.JoinHostPort("127.0.0.1", strconv.Itoa(s.Port)) }

// addrs returns the addresses of servers.
func addrs(servers []*Server) []string {
	var a []string
	for _, s := range servers {
		a = append(a, s.Addr())
	}
	return a
}

// find returns the server at addr, or nil.
func find(servers []*Server, addr string) *Server {
	for _, s := range servers {
		if s.Addr() == addr {
			return s
		}
	}
	return nil
}

// Start starts a redis-server on a free loopback port with no persistence
// (--save "" --appendonly no), plus the extra arguments, in a temporary
// folder, and kills it when the test ends. It returns once the server
// answers PING.
func Start(t testing.TB, extra ...string) *Server {
	t.Helper()
	return start(t, false, extra...)
}

// start starts a redis-server; with bus, the cluster bus port (port+10000)
// is free too.
func start(t testing.TB, bus bool, extra ...string) *Server {
	t.Helper()
	return launch(t, Binary(t, "redis-server"), bus, func(port int, dir string) []string {
		return append([]string{
			"--port", strconv.Itoa(port), "--bind", "127.0.0.1",
			"--save", "", "--appendonly", "no", "--dir", dir,
			"--logfile", filepath.Join(dir, "redis.log"),
		}, extra...)
	})
}

// launch runs bin with the arguments that args returns for a free port and
// a new temporary folder (whose redis.log is the process's log), waits
// until it answers PING, and kills it when the test ends.
func launch(t testing.TB, bin string, bus bool, args func(port int, dir string) []string) *Server {
	t.Helper()
	dir := t.TempDir()
	var lastErr error
	for range 3 { // the port may be taken between freePort and the start
		s := &Server{t: t, bin: bin, Port: freePort(t, bus), Dir: dir}
		s.args = args(s.Port, dir)
		if lastErr = s.start(); lastErr == nil {
			t.Cleanup(s.Kill)
			return s
		}
	}
	t.Fatalf("starting %s: %v", filepath.Base(bin), lastErr)
	return nil
}

// freePort returns a loopback port that was free a moment ago; with bus,
// port+10000 (the cluster bus port) was free too.
func freePort(t testing.TB, bus bool) int {
	t.Helper()
	for range 100 {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		port := l.Addr().(*net.TCPAddr).Port
		if !bus {
			l.Close()
			return port
		}
		if port+10000 > 65535 {
			l.Close()
			continue
		}
		l2, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port+10000)))
		l.Close()
		if err != nil {
			continue
		}
		l2.Close()
		return port
	}
	t.Fatal("no free port pair found")
	return 0
}

// start runs the server with its arguments and waits until it answers
// PING.
func (s *Server) start() error {
	cmd := exec.Command(s.bin, s.args...)
	// What the process prints before its log file is open (a bad
	// argument, a bad configuration line).
	out, err := os.OpenFile(filepath.Join(s.Dir, "output.log"), os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o600)
	if err != nil {
		return err
	}
	cmd.Stdout, cmd.Stderr = out, out
	err = s.proc.Start(cmd, s.ping, 20*time.Millisecond, 10*time.Second)
	out.Close() // the child has its own copy
	if err != nil {
		s.Kill()
		return fmt.Errorf("%w; log:\n%s", err, s.log())
	}
	return nil
}

// log returns the end of what the process printed and of its log file.
func (s *Server) log() string {
	var text string
	for _, name := range []string{"output.log", "redis.log"} {
		b, _ := os.ReadFile(filepath.Join(s.Dir, name))
		if len(b) > 4000 {
			b = b[len(b)-4000:]
		}
		text += string(b)
	}
	return text
}

// ping reports whether the server answers PING with PONG.
func (s *Server) ping() bool {
	r, err := Do(s.Addr(), "PING")
	return err == nil && r == "PONG"
}

// Signal sends sig to the server.
func (s *Server) Signal(sig os.Signal) { s.proc.Signal(sig) }

// Stop terminates the server with SIGTERM (Redis then flushes its
// append-only file) and waits for it to exit. It fails the test when the
// server has not exited 10 seconds later.
func (s *Server) Stop() {
	s.t.Helper()
	if !s.proc.Stop(syscall.SIGTERM, 10*time.Second) {
		s.t.Fatalf("redis-server did not exit within 10s of SIGTERM")
	}
}

// Restart starts the server again with the same port, folder and
// arguments, after Stop or Kill, and waits until it answers PING. It fails
// the test when the server does not start.
func (s *Server) Restart() {
	s.t.Helper()
	if err := s.start(); err != nil {
		s.t.Fatal(err)
	}
}

// Kill stops the server at once, if it runs, and waits for it to exit. A
// server stopped with SIGSTOP is resumed first, so that it can die.
func (s *Server) Kill() {
	resume(&s.proc) // in case a test stopped it
	s.proc.Kill(os.Kill, 10*time.Second)
}

// waitFor polls cond every 50 ms until it reports done, and fails the test
// when it has not within timeout; what and cond's last note say what was
// awaited. It is for the state of external processes, which send no event
// a test could wait on.
func waitFor(t testing.TB, timeout time.Duration, what string, cond func() (done bool, note string)) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		done, note := cond()
		if done {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within %v (%s)", what, timeout, note)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
