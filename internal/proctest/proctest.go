// Package proctest runs a server program as a child of a test binary, for
// the test kits of this repository (pgtest, redistest): it starts the
// program, waits until it is ready, and signals, stops or kills it, with
// one goroutine that waits for its exit. It depends on the standard
// library only.
package proctest

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"time"
)

// Process is one server program, started again after each exit by Start.
// It is safe for concurrent use. The zero value has not started.
type Process struct {
	mu     sync.Mutex
	cmd    *exec.Cmd
	exited chan struct{} // closed once cmd has exited
}

// Start starts cmd, then calls ready every poll until it reports true. It
// returns an error when cmd does not start, exits before it is ready, or
// is not ready within limit; it leaves a program that is not ready
// running, for the caller to stop its own way.
func (p *Process) Start(cmd *exec.Cmd, ready func() bool, poll, limit time.Duration) error {
	if err := cmd.Start(); err != nil {
		return err
	}
	exited := make(chan struct{})
	go func() {
		_ = cmd.Wait()
		close(exited)
	}()
	p.mu.Lock()
	p.cmd, p.exited = cmd, exited
	p.mu.Unlock()
	name := filepath.Base(cmd.Path)
	for deadline := time.Now().Add(limit); time.Now().Before(deadline); time.Sleep(poll) {
		select {
		case <-exited:
			return fmt.Errorf("%s exited at start", name)
		default:
		}
		if ready() {
			return nil
		}
	}
	return fmt.Errorf("%s not ready within %v", name, limit)
}

// running returns the program's process and exit channel, or nil ones when
// it has not started or has exited.
func (p *Process) running() (*os.Process, chan struct{}) {
	p.mu.Lock()
	cmd, exited := p.cmd, p.exited
	p.mu.Unlock()
	if cmd == nil {
		return nil, nil
	}
	select {
	case <-exited:
		return nil, nil
	default:
		return cmd.Process, exited
	}
}

// Running reports whether the program runs.
func (p *Process) Running() bool {
	proc, _ := p.running()
	return proc != nil
}

// Signal sends sig to the program, if it runs.
func (p *Process) Signal(sig os.Signal) {
	if proc, _ := p.running(); proc != nil {
		_ = proc.Signal(sig)
	}
}

// Stop sends sig to the program, if it runs, and reports whether it has
// exited within limit.
func (p *Process) Stop(sig os.Signal, limit time.Duration) bool {
	proc, exited := p.running()
	if proc == nil {
		return true
	}
	_ = proc.Signal(sig)
	select {
	case <-exited:
		return true
	case <-time.After(limit):
		return false
	}
}

// Kill sends sig to the program, if it runs, then SIGKILL if it has not
// exited grace later, and waits for it to exit.
func (p *Process) Kill(sig os.Signal, grace time.Duration) {
	proc, exited := p.running()
	if proc == nil {
		return
	}
	if !p.Stop(sig, grace) {
		_ = proc.Kill()
		<-exited
	}
}
