package sessions

import (
	"testing"

	"github.com/fasthttp-sessions/sessions/internal/testsrv"
	"github.com/valyala/fasthttp"
)

// Short names for the shared harness of internal/testsrv.
type testServer = testsrv.Server

func newTestServer(t testing.TB, h fasthttp.RequestHandler) *testServer { return testsrv.New(t, h) }

func mustContain(t testing.TB, got string, wants ...string) {
	t.Helper()
	testsrv.MustContain(t, got, wants...)
}
