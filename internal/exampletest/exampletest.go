// Package exampletest holds the test helpers shared by the tests of the
// programs under examples/: a server on a real loopback listener with a log
// the test can read, and two kinds of user agents with their own cookie
// jars. Browser is net/http with a cookie jar, for the framework examples;
// Agent is fasthttp with a map for a jar, for the tests that look at the raw
// Set-Cookie header. It depends on the standard library and fasthttp only.
//
// Only the tests use it: the example programs stay self-contained, so that
// users can copy them.
package exampletest

import (
	"bytes"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
)

// HashKey and BlockKey are fixed session keys for the example tests. The
// tests must not modify them.
var (
	HashKey  = bytes.Repeat([]byte{0x42}, 32)
	BlockKey = bytes.Repeat([]byte{0x24}, 32)
)

// LogBuffer is a log destination that the test reads while the server
// writes to it. The zero value is ready to use. It is safe for concurrent
// use.
type LogBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

// Write appends p to the buffer.
func (b *LogBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

// String returns everything written so far.
func (b *LogBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// CountingListener is a net.Listener that counts the connections it
// accepts. It is safe for concurrent use, as is the listener it wraps.
type CountingListener struct {
	net.Listener
	accepted atomic.Int64
}

// Accept accepts a connection from the wrapped listener and counts it.
func (l *CountingListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err == nil {
		l.accepted.Add(1)
	}
	return c, err
}

// Accepted returns how many connections the listener has accepted.
func (l *CountingListener) Accepted() int64 { return l.accepted.Load() }

// Contains reports an error unless got contains every one of wants.
func Contains(t testing.TB, what, got string, wants ...string) {
	t.Helper()
	for _, w := range wants {
		if !strings.Contains(got, w) {
			t.Errorf("%s: %q does not contain %q", what, got, w)
		}
	}
}

// Lacks reports an error for every one of unwanted that got contains.
func Lacks(t testing.TB, what, got string, unwanted ...string) {
	t.Helper()
	for _, w := range unwanted {
		if strings.Contains(got, w) {
			t.Errorf("%s: %q contains %q", what, got, w)
		}
	}
}
