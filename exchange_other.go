//go:build !linux

package sessions

// exchange is not available here: FilesystemStore writes a new file and
// renames it over the old one instead.
func exchange(a, b string) error { return errExchangeUnsupported }
