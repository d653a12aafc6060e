package pgtest

import (
	"errors"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"
)

func TestBinDirNewest(t *testing.T) {
	root := t.TempDir()
	for _, v := range []string{"9", "16", "15", "notaversion"} {
		bin := filepath.Join(root, v, "bin")
		if err := os.MkdirAll(bin, 0o755); err != nil {
			t.Fatal(err)
		}
		for _, name := range []string{"initdb", "postgres"} {
			if err := os.WriteFile(filepath.Join(bin, name), nil, 0o755); err != nil {
				t.Fatal(err)
			}
		}
	}
	// 17 has no initdb: not a usable installation.
	if err := os.MkdirAll(filepath.Join(root, "17", "bin"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(root, "17", "bin", "postgres"), nil, 0o755); err != nil {
		t.Fatal(err)
	}
	got, err := binDir(root)
	if want := filepath.Join(root, "16", "bin"); err != nil || got != want {
		t.Fatalf("binDir = %q, %v; want %q", got, err, want)
	}
}

func TestBinDirMissing(t *testing.T) {
	t.Setenv("PATH", t.TempDir())
	if _, err := binDir(t.TempDir()); !errors.Is(err, ErrNotInstalled) {
		t.Fatalf("binDir of an empty folder: %v", err)
	}
}

// accepts reports whether the server's port accepts a TCP connection.
func accepts(s *Server) bool {
	c, err := net.DialTimeout("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(s.Port)), time.Second)
	if err != nil {
		return false
	}
	c.Close()
	return true
}

// shmSegments returns the dynamic shared memory segments in /dev/shm.
func shmSegments() map[string]bool {
	m := map[string]bool{}
	names, _ := filepath.Glob("/dev/shm/PostgreSQL.*")
	for _, n := range names {
		m[n] = true
	}
	return m
}

func TestServerLifecycle(t *testing.T) {
	before := shmSegments()
	s := Start(t)
	if !accepts(s) {
		t.Fatalf("server on %d does not accept connections; log:\n%s", s.Port, s.Log())
	}
	if want := "postgres://postgres@127.0.0.1:" + strconv.Itoa(s.Port) + "/postgres?sslmode=disable"; s.URL() != want {
		t.Errorf("URL() = %q, want %q", s.URL(), want)
	}
	for _, down := range []struct {
		name string
		stop func() error
	}{{"Stop", s.Stop}, {"Crash", s.Crash}} {
		if err := down.stop(); err != nil {
			t.Fatal(err)
		}
		if accepts(s) {
			t.Fatalf("the port accepts connections after %s", down.name)
		}
		if err := s.Restart(); err != nil {
			t.Fatal(err)
		}
		if !accepts(s) {
			t.Fatalf("no connection after a Restart from %s", down.name)
		}
	}
	// Killed outright: its segments are in its folder, which Close removes.
	s.proc.Kill(os.Kill, 10*time.Second)
	dir := s.Dir
	s.Close()
	// The server's children notice its death and exit: the port closes.
	for deadline := time.Now().Add(10 * time.Second); accepts(s); time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the port accepts connections 10s after the kill and Close")
		}
	}
	if _, err := os.Stat(dir); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("Close left %s: %v", dir, err)
	}
	s.Close() // a second Close (the test's cleanup) is harmless
	// A crash, a kill and Close's immediate shutdown leave no shared
	// memory behind.
	for seg := range shmSegments() {
		if !before[seg] {
			t.Errorf("the server left %s", seg)
		}
	}
}
