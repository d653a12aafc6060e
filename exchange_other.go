//go:build !linux

package sessions

import "errors"

// canExchange reports whether exchange may work on this system.
const canExchange = false

// errExchangeUnsupported reports a file system that cannot swap two files
// atomically; FilesystemStore then renames a new file over the old one.
var errExchangeUnsupported = errors.New("sessions: atomic exchange not supported")

// exchange is not available here: FilesystemStore writes a new file and
// renames it over the old one instead.
func exchange(a, b string) error { return errExchangeUnsupported }
