//go:build !(linux && (amd64 || arm64 || riscv64 || loong64))

package sessions

// exchange is not available here: FilesystemStore renames a new file over
// the old one instead.
func exchange(a, b string) error { return errExchangeUnsupported }
