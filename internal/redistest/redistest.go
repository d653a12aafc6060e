// Package redistest runs redis-server processes for the tests of this
// repository: one server on a free loopback port, or a cluster of three.
// It depends on the standard library only; the tests bring their own Redis
// client.
//
// Without redis-server (or redis-cli, for a cluster) on the PATH the tests
// that need it are skipped, or fail when the CI environment variable is
// set.
package redistest

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// QuietLogger drops every log line. Its method set is that of go-redis's
// logger, so redis.SetLogger(redistest.QuietLogger{}) keeps the dial
// errors of a stopped server off the test output. It has no state and is
// safe for concurrent use.
type QuietLogger struct{}

// Printf does nothing.
func (QuietLogger) Printf(context.Context, string, ...any) {}

// Binary returns the path of the program name (redis-server, redis-cli),
// skipping the test when it is missing, or failing it when CI is set.
func Binary(t testing.TB, name string) string {
	t.Helper()
	path, err := exec.LookPath(name)
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("%s not found (CI is set): %v", name, err)
		}
		t.Skipf("%s not found: install redis-server (apt-get install redis-server)", name)
	}
	return path
}

// Server is a redis-server process of one test. Its methods may be called
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

	mu     sync.Mutex
	cmd    *exec.Cmd
	exited chan struct{}
}

// Addr is the server's host:port.
func (s *Server) Addr() string { return net.JoinHostPort("127.0.0.1", strconv.Itoa(s.Port)) }

// Start starts a redis-server on a free loopback port with no persistence
// (--save "" --appendonly no), plus the extra arguments, in a temporary
// folder, and kills it when the test ends. It returns once the server
// answers PING.
func Start(t testing.TB, extra ...string) *Server {
	t.Helper()
	return start(t, false, extra...)
}

func start(t testing.TB, bus bool, extra ...string) *Server {
	t.Helper()
	bin := Binary(t, "redis-server")
	dir := t.TempDir()
	var lastErr error
	for range 3 { // the port may be taken between freePort and the start
		s := &Server{t: t, bin: bin, Port: freePort(t, bus), Dir: dir}
		s.args = append([]string{
			"--port", strconv.Itoa(s.Port), "--bind", "127.0.0.1",
			"--save", "", "--appendonly", "no", "--dir", dir,
			"--logfile", filepath.Join(dir, "redis.log"),
		}, extra...)
		if lastErr = s.start(); lastErr == nil {
			t.Cleanup(s.Kill)
			return s
		}
	}
	t.Fatalf("starting redis-server: %v", lastErr)
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
	if err := cmd.Start(); err != nil {
		return err
	}
	exited := make(chan struct{})
	go func() {
		_ = cmd.Wait()
		close(exited)
	}()
	s.mu.Lock()
	s.cmd, s.exited = cmd, exited
	s.mu.Unlock()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case <-exited:
			return fmt.Errorf("redis-server exited at start; log:\n%s", s.log())
		default:
		}
		if s.ping() {
			return nil
		}
		time.Sleep(20 * time.Millisecond)
	}
	s.Kill()
	return fmt.Errorf("redis-server did not answer PING within 10s; log:\n%s", s.log())
}

// log returns the end of the server's log file.
func (s *Server) log() string {
	b, _ := os.ReadFile(filepath.Join(s.Dir, "redis.log"))
	if len(b) > 4000 {
		b = b[len(b)-4000:]
	}
	return string(b)
}

// ping sends PING over a new connection, without a Redis client, and
// reports whether the server answered +PONG.
func (s *Server) ping() bool {
	c, err := net.DialTimeout("tcp", s.Addr(), time.Second)
	if err != nil {
		return false
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(2 * time.Second))
	if _, err := c.Write([]byte("*1\r\n$4\r\nPING\r\n")); err != nil {
		return false
	}
	line, err := bufio.NewReader(c).ReadString('\n')
	return err == nil && strings.TrimRight(line, "\r\n") == "+PONG"
}

// Signal sends sig to the server.
func (s *Server) Signal(sig os.Signal) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cmd != nil && s.cmd.Process != nil {
		_ = s.cmd.Process.Signal(sig)
	}
}

// Stop terminates the server with SIGTERM (Redis then flushes its
// append-only file) and waits for it to exit. It fails the test when the
// server has not exited 10 seconds later.
func (s *Server) Stop() {
	s.t.Helper()
	s.Signal(syscall.SIGTERM)
	s.mu.Lock()
	exited := s.exited
	s.mu.Unlock()
	select {
	case <-exited:
	case <-time.After(10 * time.Second):
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
	s.mu.Lock()
	cmd, exited := s.cmd, s.exited
	s.mu.Unlock()
	if cmd == nil {
		return
	}
	select {
	case <-exited:
		return
	default:
	}
	resume(cmd.Process) // in case a test stopped it
	_ = cmd.Process.Kill()
	<-exited
}

// StartCluster starts three cluster-enabled servers, joins them into one
// cluster with redis-cli (no replicas) and waits until every node reports
// cluster_state:ok. It returns the nodes' addresses. The servers are
// killed when the test ends.
func StartCluster(t testing.TB) []string {
	t.Helper()
	cli := Binary(t, "redis-cli")
	var addrs []string
	for range 3 {
		dir := t.TempDir()
		s := start(t, true,
			"--cluster-enabled", "yes",
			"--cluster-config-file", filepath.Join(dir, "nodes.conf"),
			"--cluster-node-timeout", "2000")
		addrs = append(addrs, s.Addr())
	}
	begin := time.Now()
	args := append(append([]string{"--cluster", "create"}, addrs...), "--cluster-replicas", "0", "--cluster-yes")
	// redis-cli waits for the nodes to agree with no time limit of its own.
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if out, err := exec.CommandContext(ctx, cli, args...).CombinedOutput(); err != nil {
		t.Fatalf("redis-cli --cluster create: %v\n%s", err, out)
	}
	deadline := time.Now().Add(30 * time.Second)
	for _, addr := range addrs {
		_, port, _ := net.SplitHostPort(addr)
		for {
			out, err := exec.Command(cli, "-h", "127.0.0.1", "-p", port, "cluster", "info").Output()
			if err == nil && strings.Contains(string(out), "cluster_state:ok") {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("node %s: no cluster_state:ok within 30s: %v\n%s", addr, err, out)
			}
			time.Sleep(100 * time.Millisecond)
		}
	}
	t.Logf("cluster of %v ready in %v", addrs, time.Since(begin).Round(time.Millisecond))
	return addrs
}
