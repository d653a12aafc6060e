package sessions

import (
	"sync"
	"time"
)

// cleaner runs a function every interval in one goroutine until stopped.
type cleaner struct {
	stopOnce sync.Once
	stop     chan struct{}
	done     chan struct{}
}

// startCleaner calls fn every interval in a new goroutine and returns a
// function that stops it and waits until the goroutine has exited. The stop
// function may be called more than once.
func startCleaner(interval time.Duration, fn func()) (stop func()) {
	if interval <= 0 {
		interval = time.Minute
	}
	c := &cleaner{stop: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(c.done)
		t := time.NewTicker(interval)
		defer t.Stop()
		for {
			select {
			case <-t.C:
				fn()
			case <-c.stop:
				return
			}
		}
	}()
	return func() {
		c.stopOnce.Do(func() { close(c.stop) })
		<-c.done
	}
}
