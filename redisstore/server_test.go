package redisstore_test

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
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

	"github.com/redis/go-redis/v9"
)

// quietLogger drops go-redis's log lines (one per failed dial, which the
// fault test makes by the dozen).
type quietLogger struct{}

func (quietLogger) Printf(context.Context, string, ...any) {}

func TestMain(m *testing.M) {
	redis.SetLogger(quietLogger{})
	os.Exit(m.Run())
}

// redisBinary returns the path of redis-server, skipping the test when it
// is missing, or failing it under CI.
func redisBinary(t testing.TB, name string) string {
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

// redisServer is a redis-server process of one test.
type redisServer struct {
	t    testing.TB
	bin  string
	Port int
	Dir  string
	args []string

	mu     sync.Mutex
	cmd    *exec.Cmd
	exited chan struct{}
}

// Addr is the server's host:port.
func (r *redisServer) Addr() string { return net.JoinHostPort("127.0.0.1", strconv.Itoa(r.Port)) }

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

// startRedis starts a redis-server on a free loopback port with no
// persistence, plus extra arguments, and stops it when the test ends.
func startRedis(t testing.TB, extra ...string) *redisServer {
	t.Helper()
	return startRedisOn(t, false, extra...)
}

func startRedisOn(t testing.TB, bus bool, extra ...string) *redisServer {
	t.Helper()
	bin := redisBinary(t, "redis-server")
	dir := t.TempDir()
	var lastErr error
	for range 3 { // the port may be taken between freePort and the start
		r := &redisServer{t: t, bin: bin, Port: freePort(t, bus), Dir: dir}
		r.args = append([]string{
			"--port", strconv.Itoa(r.Port), "--bind", "127.0.0.1",
			"--save", "", "--appendonly", "no", "--dir", dir,
			"--logfile", filepath.Join(dir, "redis.log"),
		}, extra...)
		if lastErr = r.start(); lastErr == nil {
			t.Cleanup(r.kill)
			return r
		}
	}
	t.Fatalf("starting redis-server: %v", lastErr)
	return nil
}

// start runs the server with its arguments and waits until it answers
// PING.
func (r *redisServer) start() error {
	cmd := exec.Command(r.bin, r.args...)
	if err := cmd.Start(); err != nil {
		return err
	}
	exited := make(chan struct{})
	go func() {
		_ = cmd.Wait()
		close(exited)
	}()
	r.mu.Lock()
	r.cmd, r.exited = cmd, exited
	r.mu.Unlock()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case <-exited:
			return fmt.Errorf("redis-server exited at start; log:\n%s", r.log())
		default:
		}
		if reply, err := r.raw("PING"); err == nil && reply == "+PONG" {
			return nil
		}
		time.Sleep(20 * time.Millisecond)
	}
	r.kill()
	return fmt.Errorf("redis-server did not answer PING within 10s; log:\n%s", r.log())
}

func (r *redisServer) log() string {
	b, _ := os.ReadFile(filepath.Join(r.Dir, "redis.log"))
	if len(b) > 4000 {
		b = b[len(b)-4000:]
	}
	return string(b)
}

// raw sends one inline command and returns the first line of the reply
// (or, for a bulk string, its contents), without go-redis.
func (r *redisServer) raw(command string) (string, error) {
	c, err := net.DialTimeout("tcp", r.Addr(), time.Second)
	if err != nil {
		return "", err
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(2 * time.Second))
	if _, err := c.Write([]byte(command + "\r\n")); err != nil {
		return "", err
	}
	br := bufio.NewReader(c)
	line, err := br.ReadString('\n')
	if err != nil {
		return "", err
	}
	line = strings.TrimRight(line, "\r\n")
	if n, ok := strings.CutPrefix(line, "$"); ok {
		size, err := strconv.Atoi(n)
		if err != nil || size < 0 {
			return "", errors.New("nil reply")
		}
		buf := make([]byte, size+2)
		if _, err := io.ReadFull(br, buf); err != nil {
			return "", err
		}
		return string(buf[:size]), nil
	}
	return line, nil
}

// signal sends sig to the server.
func (r *redisServer) signal(sig os.Signal) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.cmd != nil && r.cmd.Process != nil {
		_ = r.cmd.Process.Signal(sig)
	}
}

// stop terminates the server with SIGTERM (Redis then flushes its
// append-only file) and waits for it to exit.
func (r *redisServer) stop() {
	r.t.Helper()
	r.signal(syscall.SIGTERM)
	r.mu.Lock()
	exited := r.exited
	r.mu.Unlock()
	select {
	case <-exited:
	case <-time.After(10 * time.Second):
		r.t.Fatalf("redis-server did not exit within 10s of SIGTERM")
	}
}

// restart starts the server again with the same port and folder.
func (r *redisServer) restart() {
	r.t.Helper()
	if err := r.start(); err != nil {
		r.t.Fatal(err)
	}
}

// kill stops the server at once, if it runs.
func (r *redisServer) kill() {
	r.mu.Lock()
	cmd, exited := r.cmd, r.exited
	r.mu.Unlock()
	if cmd == nil {
		return
	}
	select {
	case <-exited:
		return
	default:
	}
	_ = cmd.Process.Signal(syscall.SIGCONT) // in case a test stopped it
	_ = cmd.Process.Kill()
	<-exited
}

// client returns a go-redis client of the server, closed when the test
// ends.
func (r *redisServer) client(t testing.TB) *redis.Client {
	c := redis.NewClient(&redis.Options{Addr: r.Addr(), ContextTimeoutEnabled: true})
	t.Cleanup(func() { c.Close() })
	return c
}

// startCluster starts three cluster-enabled servers, joins them into one
// cluster with redis-cli (no replicas) and waits until every node reports
// cluster_state:ok. It returns the nodes' addresses.
func startCluster(t testing.TB) []string {
	t.Helper()
	cli := redisBinary(t, "redis-cli")
	var addrs []string
	for range 3 {
		dir := t.TempDir()
		r := startRedisOn(t, true,
			"--cluster-enabled", "yes",
			"--cluster-config-file", filepath.Join(dir, "nodes.conf"),
			"--cluster-node-timeout", "2000")
		addrs = append(addrs, r.Addr())
	}
	start := time.Now()
	args := append(append([]string{"--cluster", "create"}, addrs...), "--cluster-replicas", "0", "--cluster-yes")
	// redis-cli waits for the nodes to agree with no time limit of its own.
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if out, err := exec.CommandContext(ctx, cli, args...).CombinedOutput(); err != nil {
		t.Fatalf("redis-cli --cluster create: %v\n%s", err, out)
	}
	deadline := time.Now().Add(30 * time.Second)
	for _, addr := range addrs {
		for {
			out, err := exec.Command(cli, "-h", "127.0.0.1", "-p", portOf(addr), "cluster", "info").Output()
			if err == nil && strings.Contains(string(out), "cluster_state:ok") {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("node %s: no cluster_state:ok within 30s: %v\n%s", addr, err, out)
			}
			time.Sleep(100 * time.Millisecond)
		}
	}
	t.Logf("cluster of %v ready in %v", addrs, time.Since(start).Round(time.Millisecond))
	return addrs
}

func portOf(addr string) string {
	_, port, _ := net.SplitHostPort(addr)
	return port
}
