package exampletest

import (
	"context"
	"net"
	"net/http"
	"net/url"
	"testing"
	"time"
)

// Server is an application under test on a real loopback listener, with a
// log that the test reads. Call Start or StartContext once, and Browser,
// from the test's goroutine; Addr and the fields may be used from any
// goroutine.
type Server struct {
	// Listener is the listener to serve; it counts the connections.
	Listener *CountingListener
	// URL is the server's base URL, http://127.0.0.1:port.
	URL *url.URL
	// Log is the destination for the server's log.
	Log *LogBuffer

	t testing.TB
	// transport is shared by the browsers of the test: at most one
	// connection, kept alive, so that every request goes through the same
	// server connection and so the same *fasthttp.RequestCtx.
	transport *http.Transport
}

// NewServer listens on 127.0.0.1:0; Start or StartContext serves on it.
func NewServer(t testing.TB) *Server {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	return &Server{
		t:         t,
		Listener:  &CountingListener{Listener: l},
		URL:       &url.URL{Scheme: "http", Host: l.Addr().String()},
		Log:       new(LogBuffer),
		transport: &http.Transport{MaxConnsPerHost: 1, MaxIdleConnsPerHost: 1},
	}
}

// Addr returns the server's host:port.
func (s *Server) Addr() string { return s.URL.Host }

// Start runs serve(s.Listener) in a goroutine; when the test ends it
// closes the browsers' idle connection, calls shutdown and waits up to 10
// seconds for serve to return. When the test failed, it logs the server's
// log.
func (s *Server) Start(serve func(net.Listener) error, shutdown func() error) {
	t := s.t
	done := make(chan error, 1)
	go func() { done <- serve(s.Listener) }()
	t.Cleanup(func() {
		s.transport.CloseIdleConnections()
		if err := shutdown(); err != nil {
			t.Errorf("shutdown: %v", err)
		}
		waitServe(t, done, 10*time.Second, "the server did not stop")
		if t.Failed() {
			t.Logf("server log:\n%s", s.Log)
		}
	})
}

// StartContext runs serve(ctx, s.Listener) in a goroutine, for programs
// that stop serving when their context is cancelled; when the test ends it
// cancels ctx and waits up to 15 seconds for serve to return.
func (s *Server) StartContext(serve func(ctx context.Context, ln net.Listener) error) {
	t := s.t
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- serve(ctx, s.Listener) }()
	t.Cleanup(func() {
		cancel()
		waitServe(t, done, 15*time.Second, "serve did not return after its context was cancelled")
	})
}

// waitServe waits up to timeout for serve's result on done and reports it
// when it is an error; when serve has not returned by then, it reports
// stuck instead.
func waitServe(t testing.TB, done <-chan error, timeout time.Duration, stuck string) {
	t.Helper()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("serve: %v", err)
		}
	case <-time.After(timeout):
		t.Error(stuck)
	}
}
