package pgstore_test

import (
	"net"
	"testing"
	"time"

	"github.com/fasthttp-sessions/sessions/internal/pgtest"
	"github.com/valyala/fasthttp"
	"github.com/valyala/fasthttp/fasthttputil"
)

// TestSaveDuringShutdown saves a session in a request that is still running
// when the server shuts down, which cancels the request's context: the
// store's statements do not inherit that cancellation, so the save lands.
func TestSaveDuringShutdown(t *testing.T) {
	store := newStore(t, poolOf(t, pgtest.Start(t)), nil)
	loaded := make(chan struct{})
	saved := make(chan error, 1)
	srv := &fasthttp.Server{Handler: func(ctx *fasthttp.RequestCtx) {
		s, err := store.Get(ctx, cookieName)
		if err != nil {
			saved <- err
			return
		}
		close(loaded)
		<-ctx.Done() // the server is shutting down
		s.Values["user"] = "alice"
		saved <- s.Save(ctx)
	}}
	ln := fasthttputil.NewInmemoryListener()
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	client := &fasthttp.Client{Dial: func(string) (net.Conn, error) { return ln.Dial() }}
	responded := make(chan error, 1)
	go func() {
		_, _, err := client.Get(nil, "http://test/")
		responded <- err
	}()
	<-loaded
	shutdown := make(chan error, 1)
	go func() { shutdown <- srv.Shutdown() }()
	select {
	case err := <-saved:
		if err != nil {
			t.Fatalf("Save during shutdown: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("no Save within 10s of the shutdown")
	}
	if err := <-responded; err != nil {
		t.Errorf("the request: %v", err)
	}
	if err := <-shutdown; err != nil {
		t.Errorf("Shutdown: %v", err)
	}
	if err := <-served; err != nil {
		t.Errorf("Serve: %v", err)
	}
	if n := count(t, store, ""); n != 1 {
		t.Errorf("%d rows after the save, want 1", n)
	}
}
