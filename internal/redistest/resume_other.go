//go:build !unix

package redistest

import "github.com/fasthttp-sessions/sessions/internal/proctest"

// resume does nothing: without SIGSTOP, a process cannot have been stopped.
func resume(*proctest.Process) {}
