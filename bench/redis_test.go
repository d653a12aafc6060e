package bench

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/fasthttp-sessions/sessions/redisstore"
	fhredis "github.com/fasthttp/session/v2/providers/redis"
	"github.com/redis/go-redis/v9"
)

// A redis-server of our own, started on first use on a free loopback port,
// without persistence, in a temporary folder, and stopped by TestMain.
var redisServer struct {
	once sync.Once
	addr string
	err  error
	cmd  *exec.Cmd
	dir  string
}

// redisAddr returns the address of the benchmark's redis-server, starting
// it on first use, or skips tb when none can be started.
func redisAddr(tb testing.TB) string {
	tb.Helper()
	rs := &redisServer
	rs.once.Do(func() { rs.addr, rs.err = startRedis() })
	if rs.err != nil {
		tb.Skipf("skipping: no redis-server: %v", rs.err)
	}
	return rs.addr
}

func startRedis() (string, error) {
	path, err := exec.LookPath("redis-server")
	if err != nil {
		return "", fmt.Errorf("redis-server is not installed (apt-get install redis-server): %w", err)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	port := l.Addr().(*net.TCPAddr).Port
	_ = l.Close()
	dir, err := os.MkdirTemp("", "bench-redis-")
	if err != nil {
		return "", err
	}
	cmd := exec.Command(path,
		"--port", strconv.Itoa(port), "--bind", "127.0.0.1",
		"--save", "", "--appendonly", "no", "--dir", dir)
	cmd.Dir = dir
	if err := cmd.Start(); err != nil {
		_ = os.RemoveAll(dir)
		return "", err
	}
	redisServer.cmd, redisServer.dir = cmd, dir
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	deadline := time.Now().Add(5 * time.Second)
	for {
		if err := pingRedis(addr); err == nil {
			return addr, nil
		} else if time.Now().After(deadline) {
			stopRedis()
			return "", fmt.Errorf("redis-server on %s did not answer PING within 5s: %w", addr, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func pingRedis(addr string) error {
	c, err := net.DialTimeout("tcp", addr, time.Second)
	if err != nil {
		return err
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(time.Second))
	if _, err := c.Write([]byte("PING\r\n")); err != nil {
		return err
	}
	line, err := bufio.NewReader(c).ReadString('\n')
	if err != nil {
		return err
	}
	if line != "+PONG\r\n" {
		return fmt.Errorf("PING answered %q", line)
	}
	return nil
}

func stopRedis() {
	if cmd := redisServer.cmd; cmd != nil {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		redisServer.cmd = nil
	}
	if redisServer.dir != "" {
		_ = os.RemoveAll(redisServer.dir)
		redisServer.dir = ""
	}
}

func TestMain(m *testing.M) {
	code := m.Run()
	stopRedis()
	os.Exit(code)
}

// newOurRedisRig runs sc with redisstore, through the Registry, on a
// client of its own, with a database flushed first.
func newOurRedisRig(addr string, sc scenario) (*rig, error) {
	client := redis.NewClient(&redis.Options{Addr: addr, ContextTimeoutEnabled: true})
	if err := client.FlushDB(context.Background()).Err(); err != nil {
		_ = client.Close()
		return nil, err
	}
	r, err := newOurScenarioRig(redisstore.New(client, hashKey, blockKey), true, sc)
	if err != nil {
		_ = client.Close()
		return nil, err
	}
	r.close = func() { _ = client.Close() }
	return r, nil
}

// newFasthttpSessionRedisRig runs sc with fasthttp/session's redis
// provider (go-redis v9 underneath).
func newFasthttpSessionRedisRig(addr string, sc scenario) (*rig, error) {
	p, err := fhredis.New(fhredis.Config{KeyPrefix: "fhsession", Addr: addr})
	if err != nil {
		return nil, err
	}
	if p == nil {
		return nil, errors.New("no provider")
	}
	return newFasthttpSessionRig(p, sc)
}
