package backendkit

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/fasthttp-sessions/sessions/internal/testsrv"
	"github.com/valyala/fasthttp"
)

// TestContext checks the context of a backend call: a request's context,
// which fasthttp cancels at shutdown, is detached (its values kept); any
// other keeps its cancellation; timeout bounds it when positive.
func TestContext(t *testing.T) {
	srv := testsrv.New(t, func(ctx *fasthttp.RequestCtx) {
		ctx.SetUserValue("k", "v")
		c, cancel := Context(ctx, 0)
		defer cancel()
		_, deadline := c.Deadline()
		fmt.Fprintf(ctx, "request=%v call=%v value=%v deadline=%v", ctx.Done() != nil, c.Done() != nil, c.Value("k"), deadline)
	})
	_, body := srv.NewClient(1).Get("/")
	testsrv.MustContain(t, body, "request=true call=false value=v deadline=false")

	parent, cancelParent := context.WithCancel(context.Background())
	c, cancel := Context(parent, time.Hour)
	defer cancel()
	if d, ok := c.Deadline(); !ok || time.Until(d) < 59*time.Minute {
		t.Errorf("Context(ctx, an hour): deadline %v, %v", d, ok)
	}
	cancelParent()
	if c.Err() == nil {
		t.Error("Context detached a context that is not a request's")
	}
}
