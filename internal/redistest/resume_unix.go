//go:build unix

package redistest

import (
	"syscall"

	"github.com/fasthttp-sessions/sessions/internal/proctest"
)

// resume sends SIGCONT to p, which a test may have stopped with SIGSTOP.
func resume(p *proctest.Process) { p.Signal(syscall.SIGCONT) }
