package sessions

import (
	"context"
	"time"
)

// startCleaner calls fn every interval in a new goroutine and returns a
// function that stops it and waits until the goroutine has exited. The stop
// function may be called more than once.
func startCleaner(interval time.Duration, fn func()) (stop func()) {
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
				fn()
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
