//go:build unix

package redistest

import (
	"os"
	"syscall"
)

// resume sends SIGCONT to p, which a test may have stopped with SIGSTOP.
func resume(p *os.Process) { _ = p.Signal(syscall.SIGCONT) }
