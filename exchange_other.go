//go:build !linux

package sessions

// canExchange reports whether exchange may work on this system.
const canExchange = false

// exchange is not available here: FilesystemStore writes a new file and
// renames it over the old one instead.
func exchange(a, b string) error { return errExchangeUnsupported }
