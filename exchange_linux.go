//go:build linux && (amd64 || arm64 || riscv64 || loong64)

package sessions

import (
	"runtime"
	"syscall"
	"unsafe"
)

// sysRenameat2 is the number of the renameat2 system call, which the
// syscall package does not name on every architecture.
var sysRenameat2 = map[string]uintptr{"amd64": 316, "arm64": 276, "riscv64": 276, "loong64": 276}[runtime.GOARCH]

// exchange swaps the files at a and b atomically (renameat2 with
// RENAME_EXCHANGE): each name then holds the other's inode, so that neither
// a new inode is created nor an old one freed. Both must exist. It returns
// errExchangeUnsupported where the file system cannot do it.
func exchange(a, b string) error {
	pa, err := syscall.BytePtrFromString(a)
	if err != nil {
		return err
	}
	pb, err := syscall.BytePtrFromString(b)
	if err != nil {
		return err
	}
	const renameExchange = 2
	atFDCWD := -100
	_, _, e := syscall.Syscall6(sysRenameat2, uintptr(atFDCWD), uintptr(unsafe.Pointer(pa)),
		uintptr(atFDCWD), uintptr(unsafe.Pointer(pb)), renameExchange, 0)
	switch e {
	case 0:
		return nil
	case syscall.EINVAL, syscall.ENOSYS, syscall.EOPNOTSUPP:
		return errExchangeUnsupported
	}
	return e
}
