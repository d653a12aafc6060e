// Package backendkit holds what the session backends share, so that each
// rule is written once: the context of one call to a database, the clock
// of a store, the user index's key and grace period, and the goroutine of
// StartCleanup.
//
// redisstore and pgstore are modules of their own that import it from the
// core module (Go allows it: they live under the core's import path). A
// release of one of them builds only against a core that still has what it
// uses: keep this API small, and change it only together with them.
package backendkit

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"time"

	"github.com/valyala/fasthttp"
)

// UserIndexGrace is the ten minutes of the sessions.UserIndex
// documentation: an entry added less than that ago is never dropped,
// whether its record exists or not (ServerStore adds the entry a moment
// before it creates the record).
const UserIndexGrace = 10 * time.Minute

// UserKey returns the hex SHA-256 of user: a name of fixed width and
// alphabet for the set of user, whatever bytes the user key holds.
func UserKey(user string) string {
	sum := sha256.Sum256([]byte(user))
	return hex.EncodeToString(sum[:])
}

// Context returns the context of one backend call: ctx detached from
// fasthttp's shutdown-only cancellation, bounded by timeout when it is
// positive.
func Context(ctx context.Context, timeout time.Duration) (context.Context, context.CancelFunc) {
	if _, ok := ctx.(*fasthttp.RequestCtx); ok {
		// RequestCtx.Done is the server's shutdown channel: requests still
		// running at shutdown should complete their saves, and deriving
		// from it would cost a goroutine per call.
		ctx = context.WithoutCancel(ctx)
	}
	if timeout > 0 {
		return context.WithTimeout(ctx, timeout)
	}
	return ctx, func() {}
}

// Now returns now(), or time.Now() when now is nil: the clock of a store
// whose Now field is now.
func Now(now func() time.Time) time.Time {
	if now != nil {
		return now()
	}
	return time.Now()
}

// StartCleaner calls fn every interval (a minute when interval is zero or
// less) in a new goroutine, and returns a function that cancels the
// context fn was given, waits until the goroutine has exited, and may be
// called more than once: the StartCleanup of every store.
func StartCleaner(interval time.Duration, fn func(context.Context)) (stop func()) {
	if interval <= 0 {
		interval = time.Minute
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		t := time.NewTicker(interval)
		defer t.Stop()
		for {
			select {
			case <-t.C:
				fn(ctx)
			case <-ctx.Done():
				return
			}
		}
	}()
	return func() {
		cancel()
		<-done
	}
}
