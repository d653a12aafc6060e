//go:build !unix

package redistest

import "os"

// resume does nothing: without SIGSTOP, a process cannot have been stopped.
func resume(*os.Process) {}
